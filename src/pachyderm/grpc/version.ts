/**
 * The pachd versions reelgraph's gRPC adapter works with, checked at connect.
 *
 * The floor is 2.8.0: `pps_v2.API/CreatePipelineV2` (pipelines are created from their JSON spec)
 * first appears in 2.8; 2.7 and older answer UNIMPLEMENTED, and 2.5 and older also lack
 * `Commit.repo` (reviews/cluster-mode-review.md §1, proto comparison against each release
 * branch). Pachyderm's development builds report 0.0.0 and are accepted.
 */
import { failedPrecondition } from '../errors';

/** A pachd version (`versionpb_v2.Version` major/minor/micro/additional). */
export interface VersionNumbers {
  major: number;
  minor: number;
  micro: number;
  additional?: string;
}

/** The oldest pachd reelgraph supports: 2.8.0 (first release with CreatePipelineV2). */
export const MIN_PACHD_VERSION: VersionNumbers = { major: 2, minor: 8, micro: 0 };

/** `major.minor.micro` plus `additional` (e.g. `2.12.1`, `2.11.0-reelgraph.0.1.0`). */
export function formatVersion(v: VersionNumbers): string {
  return `${v.major}.${v.minor}.${v.micro}${v.additional ?? ''}`;
}

/**
 * Refuses a pachd older than {@link MIN_PACHD_VERSION} (or of another major version).
 * @param address the pachd's address, named in the error
 * @throws PachError FAILED_PRECONDITION "pachd at ADDRESS is version 2.7.3; reelgraph needs
 *   pachd 2.8.0 or newer (2.x) …"
 */
export function assertSupportedVersion(v: VersionNumbers, address: string): void {
  const dev = v.major === 0 && v.minor === 0 && v.micro === 0;
  const min = MIN_PACHD_VERSION;
  const tooOld = v.major < min.major || (v.major === min.major && v.minor < min.minor);
  if (dev || (!tooOld && v.major === min.major)) return;
  throw failedPrecondition(
    `pachd at ${address} is version ${formatVersion(v)}; reelgraph needs pachd ${formatVersion(min)} or newer (2.x): ` +
      `older releases lack pps_v2.API/CreatePipelineV2`,
  );
}
