/**
 * The codec's shared half (codec.ts is the entry point): the wire shapes of reelgraph's .proto
 * subset of Pachyderm 2.x as @grpc/proto-loader presents them, the scalars (timestamps,
 * durations, bytes) and the object references (project, repo, branch, commit, file, pipeline,
 * job, datum), each `xToWire` / `xFromWire` (see codec.ts for the conventions).
 */
import {
  type Branch,
  type Commit,
  type Datum,
  DatumState,
  DEFAULT_PROJECT,
  type File,
  type Job,
  JobState,
  type Pipeline,
  PipelineState,
  PipelineType,
  type Project,
  type Repo,
  type RepoType,
} from '../types';

// ---------------------------------------------------------------------------------------------
// Wire shapes (the subset's messages as proto-loader presents them)
// ---------------------------------------------------------------------------------------------

/** `google.protobuf.Timestamp` (seconds since the Unix epoch, UTC; nanos 0–999 999 999). */
export interface WireTimestamp {
  seconds: number;
  nanos: number;
}
/** `google.protobuf.Duration`. */
export interface WireDuration {
  seconds: number;
  nanos: number;
}
/** `pfs_v2.Project`. */
export interface WireProject {
  name: string;
}
/** `pfs_v2.Repo`. */
export interface WireRepo {
  name: string;
  type: string;
  project: WireProject | null;
}
/** `pfs_v2.Branch`. */
export interface WireBranch {
  repo: WireRepo | null;
  name: string;
}
/** `pfs_v2.Commit { repo=3; id=2; branch=1 }`. */
export interface WireCommit {
  repo: WireRepo | null;
  id: string;
  branch: WireBranch | null;
}
/** `pfs_v2.File`. */
export interface WireFile {
  commit: WireCommit | null;
  path: string;
  datum: string;
}
/** `pps_v2.Pipeline`. */
export interface WirePipeline {
  project: WireProject | null;
  name: string;
}
/** `pps_v2.Job`. */
export interface WireJob {
  pipeline: WirePipeline | null;
  id: string;
}
/** `pps_v2.Datum`. */
export interface WireDatum {
  job: WireJob | null;
  id: string;
}
/** A received message: any field of the subset, read loosely by the decoders. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WireMessage = Record<string, any>;

/** Enum names of `pfs_v2.CommitState`. */
export type CommitStateName =
  'COMMIT_STATE_UNKNOWN' | 'STARTED' | 'READY' | 'FINISHING' | 'FINISHED';
/** Enum names of `pfs_v2.OriginKind`. */
export type OriginKindName = 'ORIGIN_KIND_UNKNOWN' | 'USER' | 'AUTO' | 'FSCK';
/** Enum names of `pfs_v2.FileType`. */
export type FileTypeName = 'RESERVED' | 'FILE' | 'DIR';
/** Enum names of `pps_v2.JobState`. */
export type JobStateName = keyof typeof JobState;
/** Enum names of `pps_v2.DatumState`. */
export type DatumStateName = keyof typeof DatumState;
/** Enum names of `pps_v2.PipelineState`. */
export type PipelineStateName = keyof typeof PipelineState;
/** Enum names of `pps_v2.PipelineInfo.PipelineType`. */
export type PipelineTypeName = keyof typeof PipelineType;

// ---------------------------------------------------------------------------------------------
// Scalars: timestamps, durations, bytes
// ---------------------------------------------------------------------------------------------

/**
 * A `Date` as `google.protobuf.Timestamp` (millisecond precision: nanos are a multiple of 10^6);
 * `null`/`undefined` → `null` (field unset).
 */
export function timestampToWire(d: Date | null | undefined): WireTimestamp | null {
  if (!d) return null;
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** A `google.protobuf.Timestamp` as a `Date` (nanos truncated to milliseconds); unset → `null`. */
export function timestampFromWire(t: WireMessage | null | undefined): Date | null {
  if (!t) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1_000_000));
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * A Go/protojson duration string (`"60s"`, `"1h30m"`, `"1.5s"`) as `google.protobuf.Duration`;
 * `undefined` → `null`. Nanosecond resolution.
 * @throws Error naming the string when it is not a duration
 */
export function durationToWire(s: string | undefined): WireDuration | null {
  if (s === undefined || s === '') return null;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let totalNanos = 0n;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s))) {
    end = re.lastIndex;
    const [intPart, fracPart = ''] = m[1].split('.');
    const unitNanos = BigInt(Math.round(DURATION_UNITS[m[2]] * 1e9));
    totalNanos += BigInt(intPart) * unitNanos;
    if (fracPart) {
      totalNanos += (BigInt(fracPart) * unitNanos) / 10n ** BigInt(fracPart.length);
    }
  }
  if (end !== s.length || end === 0) {
    throw new Error(`duration ${JSON.stringify(s)} is invalid: expected e.g. "60s" or "1h30m"`);
  }
  return {
    seconds: Number(totalNanos / 1_000_000_000n),
    nanos: Number(totalNanos % 1_000_000_000n),
  };
}

/**
 * A `google.protobuf.Duration` in protojson's form: seconds with up to 9 decimals and an `s`
 * (`{seconds: 3600}` → `"3600s"`, `{seconds: 1, nanos: 500000000}` → `"1.5s"`); unset → undefined.
 */
export function durationFromWire(d: WireMessage | null | undefined): string | undefined {
  if (!d) return undefined;
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (!nanos) return `${seconds}s`;
  const frac = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${seconds}.${frac}s`;
}

/** A `google.protobuf.Duration` in milliseconds (unset → 0). */
export function durationMsFromWire(d: WireMessage | null | undefined): number {
  if (!d) return 0;
  return Number(d.seconds ?? 0) * 1000 + Number(d.nanos ?? 0) / 1e6;
}

/** Milliseconds as a `google.protobuf.Duration`. */
export function durationMsToWire(ms: number): WireDuration {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** A hex string (the port's hashes) as raw bytes (the wire's `bytes hash`). */
export function hexToBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

/** Raw bytes as lowercase hex. */
export function bytesToHex(b: Buffer | Uint8Array | null | undefined): string {
  return b ? Buffer.from(b).toString('hex') : '';
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

/** {@link Project} → `pfs_v2.Project`. */
export function projectToWire(p: Project): WireProject {
  return { name: p.name };
}

/** `pfs_v2.Project` → {@link Project}; unset or empty name → `default` (pachd `EnsureProject`). */
export function projectFromWire(p: WireMessage | null | undefined): Project {
  return { name: p?.name || DEFAULT_PROJECT };
}

/** {@link Repo} → `pfs_v2.Repo` (always with type and project, as the Go client's `NewRepo`). */
export function repoToWire(r: Repo): WireRepo {
  return { name: r.name, type: r.type, project: projectToWire(r.project) };
}

/** `pfs_v2.Repo` → {@link Repo}; empty type → `user`, empty project → `default`. */
export function repoFromWire(r: WireMessage | null | undefined): Repo {
  return {
    name: r?.name ?? '',
    type: (r?.type || 'user') as RepoType,
    project: projectFromWire(r?.project),
  };
}

/** {@link Branch} → `pfs_v2.Branch`. */
export function branchToWire(b: Branch): WireBranch {
  return { repo: repoToWire(b.repo), name: b.name };
}

/** `pfs_v2.Branch` → {@link Branch}. */
export function branchFromWire(b: WireMessage): Branch {
  return { repo: repoFromWire(b.repo), name: b.name ?? '' };
}

/**
 * {@link Commit} → `pfs_v2.Commit {repo=3, id=2, branch=1}`: a specific commit `{repo, id}`
 * (its branch when known), or a branch head `{repo, branch, id: ''}`.
 */
export function commitToWire(c: Commit): WireCommit {
  return {
    repo: repoToWire(c.repo),
    id: c.id,
    branch: c.branch ? branchToWire(c.branch) : null,
  };
}

/**
 * `pfs_v2.Commit` → {@link Commit}. The repo is `commit.repo`, else `commit.branch.repo` (older
 * clients send only the branch); a branch with an empty name counts as none.
 */
export function commitFromWire(c: WireMessage): Commit {
  const repo = repoFromWire(c.repo?.name ? c.repo : c.branch?.repo);
  const branch = c.branch && c.branch.name ? { repo, name: c.branch.name as string } : null;
  return { repo, id: c.id ?? '', branch };
}

/** {@link File} → `pfs_v2.File` (`datum` empty when unset). */
export function fileToWire(f: File): WireFile {
  return { commit: commitToWire(f.commit), path: f.path, datum: f.datum ?? '' };
}

/** `pfs_v2.File` → {@link File} (`datum` omitted when empty). */
export function fileFromWire(f: WireMessage): File {
  const out: File = { commit: commitFromWire(f.commit ?? {}), path: f.path ?? '' };
  if (f.datum) out.datum = f.datum;
  return out;
}

/** {@link Pipeline} → `pps_v2.Pipeline`. */
export function pipelineToWire(p: Pipeline): WirePipeline {
  return { project: projectToWire(p.project), name: p.name };
}

/** `pps_v2.Pipeline` → {@link Pipeline}. */
export function pipelineFromWire(p: WireMessage | null | undefined): Pipeline {
  return { project: projectFromWire(p?.project), name: p?.name ?? '' };
}

/** {@link Job} → `pps_v2.Job`. */
export function jobToWire(j: Job): WireJob {
  return { pipeline: pipelineToWire(j.pipeline), id: j.id };
}

/** `pps_v2.Job` → {@link Job}. */
export function jobFromWire(j: WireMessage | null | undefined): Job {
  return { pipeline: pipelineFromWire(j?.pipeline), id: j?.id ?? '' };
}

/** {@link Datum} → `pps_v2.Datum`. */
export function datumToWire(d: Datum): WireDatum {
  return { job: jobToWire(d.job), id: d.id };
}

/** `pps_v2.Datum` → {@link Datum}. */
export function datumFromWire(d: WireMessage | null | undefined): Datum {
  return { job: jobFromWire(d?.job), id: d?.id ?? '' };
}
