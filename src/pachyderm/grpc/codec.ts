/**
 * Pure mapping between the port's types (../types.ts, ../refs.ts) and the messages of reelgraph's
 * .proto subset of Pachyderm 2.x (proto/*.proto), as @grpc/proto-loader presents them with
 * `LOADER_OPTIONS` (protos.ts): proto field names (`size_bytes_upper_bound`), enums as their names
 * (`'JOB_SUCCESS'`), int64 as numbers, bytes as Buffers, timestamps as `{seconds, nanos}`.
 *
 * `xToWire` builds the message a sender writes; `xFromWire` reads a received message (every field
 * present, as `defaults: true` decodes them: absent sub-messages are `null`). Field lists follow
 * shared/pachyderm-api.md §2.3 and §2.5. Enum mappers are exhaustive (`switch` with a `never`
 * default): adding a member to a port enum without mapping it fails to compile; an enum name the
 * subset does not know (a newer pachd) decodes as the enum's UNKNOWN member.
 */
import {
  type Branch,
  type Commit,
  type CommitInfo,
  type CronInput,
  type Datum,
  type DatumInfo,
  DatumState,
  DEFAULT_PROJECT,
  type File,
  type FileInfo,
  type Input,
  type Job,
  type JobInfo,
  JobState,
  type LogMessage,
  type PfsInput,
  type Pipeline,
  type PipelineInfo,
  type PipelineInfoDetails,
  type PipelineMetadata,
  PipelineState,
  PipelineType,
  type ProcessStats,
  type Project,
  type ProjectInfo,
  type Repo,
  type RepoInfo,
  type RepoType,
  type ResourceSpec,
  type Transform,
  type BranchInfo,
} from '../types';
import { invalidArgument } from '../errors';
import type { FileData, FileOp } from '../port';
import { toFile } from '../refs';
import { EXTRA_FIELDS } from '../spec';
import {
  originKindToWire,
  originKindFromWire,
  fileTypeToWire,
  fileTypeFromWire,
  jobStateToWire,
  jobStateFromWire,
  datumStateToWire,
  datumStateFromWire,
  pipelineStateToWire,
  pipelineStateFromWire,
  pipelineTypeToWire,
  pipelineTypeFromWire,
} from './codec-enums';

export * from './codec-enums';

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

// ---------------------------------------------------------------------------------------------
// PFS infos
// ---------------------------------------------------------------------------------------------

/** {@link ProjectInfo} → `pfs_v2.ProjectInfo`. */
export function projectInfoToWire(p: ProjectInfo): WireMessage {
  return {
    project: projectToWire(p.project),
    description: p.description,
    created_at: timestampToWire(p.createdAt),
  };
}

/** `pfs_v2.ProjectInfo` → {@link ProjectInfo} (an unset `created_at` reads as the epoch). */
export function projectInfoFromWire(m: WireMessage): ProjectInfo {
  return {
    project: projectFromWire(m.project),
    description: m.description ?? '',
    createdAt: timestampFromWire(m.created_at) ?? new Date(0),
  };
}

/** {@link RepoInfo} → `pfs_v2.RepoInfo`. */
export function repoInfoToWire(r: RepoInfo): WireMessage {
  return {
    repo: repoToWire(r.repo),
    created: timestampToWire(r.created),
    size_bytes_upper_bound: r.sizeBytesUpperBound,
    description: r.description,
    branches: r.branches.map(branchToWire),
  };
}

/** `pfs_v2.RepoInfo` → {@link RepoInfo}. */
export function repoInfoFromWire(m: WireMessage): RepoInfo {
  return {
    repo: repoFromWire(m.repo),
    created: timestampFromWire(m.created) ?? new Date(0),
    sizeBytesUpperBound: Number(m.size_bytes_upper_bound ?? 0),
    description: m.description ?? '',
    branches: ((m.branches ?? []) as WireMessage[]).map(branchFromWire),
  };
}

/** {@link BranchInfo} → `pfs_v2.BranchInfo`. */
export function branchInfoToWire(b: BranchInfo): WireMessage {
  return {
    branch: branchToWire(b.branch),
    head: b.head ? commitToWire(b.head) : null,
    provenance: b.provenance.map(branchToWire),
    subvenance: b.subvenance.map(branchToWire),
    direct_provenance: b.directProvenance.map(branchToWire),
    created_at: timestampToWire(b.createdAt),
    updated_at: timestampToWire(b.updatedAt),
  };
}

/** `pfs_v2.BranchInfo` → {@link BranchInfo}. */
export function branchInfoFromWire(m: WireMessage): BranchInfo {
  const list = (v: unknown) => ((v ?? []) as WireMessage[]).map(branchFromWire);
  return {
    branch: branchFromWire(m.branch ?? {}),
    head: m.head ? commitFromWire(m.head) : null,
    provenance: list(m.provenance),
    subvenance: list(m.subvenance),
    directProvenance: list(m.direct_provenance),
    createdAt: timestampFromWire(m.created_at) ?? new Date(0),
    updatedAt: timestampFromWire(m.updated_at) ?? new Date(0),
  };
}

/**
 * {@link CommitInfo} → `pfs_v2.CommitInfo`: `sizeBytes` goes to `details.size_bytes`,
 * `sizeBytesUpperBound` to `size_bytes_upper_bound`.
 */
export function commitInfoToWire(c: CommitInfo): WireMessage {
  return {
    commit: commitToWire(c.commit),
    origin: { kind: originKindToWire(c.origin.kind) },
    description: c.description,
    parent_commit: c.parentCommit ? commitToWire(c.parentCommit) : null,
    child_commits: c.childCommits.map(commitToWire),
    started: timestampToWire(c.started),
    finishing: timestampToWire(c.finishing),
    finished: timestampToWire(c.finished),
    direct_provenance: c.directProvenance.map(commitToWire),
    direct_subvenance: c.directSubvenance.map(commitToWire),
    error: c.error,
    size_bytes_upper_bound: c.sizeBytesUpperBound,
    details: { size_bytes: c.sizeBytes },
  };
}

/**
 * `pfs_v2.CommitInfo` → {@link CommitInfo}. Without `details` (pachd fills it only on request),
 * `sizeBytes` is `size_bytes_upper_bound`.
 */
export function commitInfoFromWire(m: WireMessage): CommitInfo {
  const list = (v: unknown) => ((v ?? []) as WireMessage[]).map(commitFromWire);
  const upper = Number(m.size_bytes_upper_bound ?? 0);
  return {
    commit: commitFromWire(m.commit ?? {}),
    origin: { kind: originKindFromWire(m.origin?.kind ?? 0) },
    description: m.description ?? '',
    parentCommit: m.parent_commit ? commitFromWire(m.parent_commit) : null,
    childCommits: list(m.child_commits),
    started: timestampFromWire(m.started) ?? new Date(0),
    finishing: timestampFromWire(m.finishing),
    finished: timestampFromWire(m.finished),
    directProvenance: list(m.direct_provenance),
    directSubvenance: list(m.direct_subvenance),
    error: m.error ?? '',
    sizeBytes: m.details ? Number(m.details.size_bytes ?? 0) : upper,
    sizeBytesUpperBound: upper,
  };
}

/** {@link FileInfo} → `pfs_v2.FileInfo` (hash hex → raw bytes). */
export function fileInfoToWire(f: FileInfo): WireMessage {
  return {
    file: fileToWire(f.file),
    file_type: fileTypeToWire(f.fileType),
    committed: timestampToWire(f.committed),
    size_bytes: f.sizeBytes,
    hash: hexToBytes(f.hash),
  };
}

/** `pfs_v2.FileInfo` → {@link FileInfo} (hash raw bytes → hex). */
export function fileInfoFromWire(m: WireMessage): FileInfo {
  return {
    file: fileFromWire(m.file ?? {}),
    fileType: fileTypeFromWire(m.file_type ?? 0),
    committed: timestampFromWire(m.committed),
    sizeBytes: Number(m.size_bytes ?? 0),
    hash: bytesToHex(m.hash),
  };
}

// ---------------------------------------------------------------------------------------------
// PPS spec blocks
// ---------------------------------------------------------------------------------------------

/** {@link Transform} → `pps_v2.Transform`. */
export function transformToWire(t: Transform): WireMessage {
  return {
    image: t.image,
    cmd: t.cmd,
    err_cmd: t.errCmd,
    env: t.env,
    secrets: t.secrets.map((s) => ({
      name: s.name,
      key: s.key,
      mount_path: s.mountPath,
      env_var: s.envVar,
    })),
    image_pull_secrets: t.imagePullSecrets,
    stdin: t.stdin,
    err_stdin: t.errStdin,
    accept_return_code: t.acceptReturnCode,
    debug: t.debug,
    user: t.user,
    working_dir: t.workingDir,
    dockerfile: t.dockerfile,
    memory_volume: t.memoryVolume,
    datum_batching: t.datumBatching,
  };
}

/** `pps_v2.Transform` → {@link Transform} (unset → pachd's defaults: empty lists and strings). */
export function transformFromWire(m: WireMessage | null | undefined): Transform {
  const t = m ?? {};
  return {
    image: t.image ?? '',
    cmd: t.cmd ?? [],
    errCmd: t.err_cmd ?? [],
    env: { ...(t.env ?? {}) },
    secrets: ((t.secrets ?? []) as WireMessage[]).map((s) => ({
      name: s.name ?? '',
      key: s.key ?? '',
      mountPath: s.mount_path ?? '',
      envVar: s.env_var ?? '',
    })),
    imagePullSecrets: t.image_pull_secrets ?? [],
    stdin: t.stdin ?? [],
    errStdin: t.err_stdin ?? [],
    acceptReturnCode: ((t.accept_return_code ?? []) as number[]).map(Number),
    debug: !!t.debug,
    user: t.user ?? '',
    workingDir: t.working_dir ?? '',
    dockerfile: t.dockerfile ?? '',
    memoryVolume: !!t.memory_volume,
    datumBatching: !!t.datum_batching,
  };
}

/** {@link PfsInput} → `pps_v2.PFSInput`. */
export function pfsInputToWire(p: PfsInput): WireMessage {
  return {
    project: p.project,
    name: p.name,
    repo: p.repo,
    repo_type: p.repoType,
    branch: p.branch,
    commit: p.commit,
    glob: p.glob,
    join_on: p.joinOn,
    outer_join: p.outerJoin,
    group_by: p.groupBy,
    lazy: p.lazy,
    empty_files: p.emptyFiles,
    s3: p.s3,
    reference: p.reference,
  };
}

/** `pps_v2.PFSInput` → {@link PfsInput}. */
export function pfsInputFromWire(m: WireMessage): PfsInput {
  return {
    project: m.project ?? '',
    name: m.name ?? '',
    repo: m.repo ?? '',
    repoType: (m.repo_type || 'user') as RepoType,
    branch: m.branch ?? '',
    commit: m.commit ?? '',
    glob: m.glob ?? '',
    joinOn: m.join_on ?? '',
    outerJoin: !!m.outer_join,
    groupBy: m.group_by ?? '',
    lazy: !!m.lazy,
    emptyFiles: !!m.empty_files,
    s3: !!m.s3,
    reference: !!m.reference,
  };
}

function cronToWire(c: CronInput): WireMessage {
  return {
    name: c.name,
    project: c.project,
    repo: c.repo,
    commit: c.commit,
    spec: c.spec,
    overwrite: c.overwrite,
    start: timestampToWire(c.start),
  };
}

function cronFromWire(m: WireMessage): CronInput {
  return {
    name: m.name ?? '',
    project: m.project ?? '',
    repo: m.repo ?? '',
    commit: m.commit ?? '',
    spec: m.spec ?? '',
    overwrite: !!m.overwrite,
    start: timestampFromWire(m.start),
  };
}

/** {@link Input} → `pps_v2.Input` (recursive; unset members omitted). */
export function inputToWire(i: Input): WireMessage {
  const out: WireMessage = {};
  if (i.pfs) out.pfs = pfsInputToWire(i.pfs);
  if (i.cron) out.cron = cronToWire(i.cron);
  for (const k of ['cross', 'union', 'join', 'group'] as const) {
    const list = i[k];
    if (list) out[k] = list.map(inputToWire);
  }
  return out;
}

/** `pps_v2.Input` → {@link Input} (recursive; only the members that are set). */
export function inputFromWire(m: WireMessage | null | undefined): Input {
  const out: Input = {};
  if (!m) return out;
  if (m.pfs) out.pfs = pfsInputFromWire(m.pfs);
  if (m.cron) out.cron = cronFromWire(m.cron);
  for (const k of ['cross', 'union', 'join', 'group'] as const) {
    const list = m[k] as WireMessage[] | undefined;
    if (list && list.length) out[k] = list.map(inputFromWire);
  }
  return out;
}

/** {@link ResourceSpec} → `pps_v2.ResourceSpec`; undefined → `null`. */
export function resourceSpecToWire(r: ResourceSpec | undefined): WireMessage | null {
  if (!r) return null;
  return {
    cpu: r.cpu ?? 0,
    memory: r.memory ?? '',
    disk: r.disk ?? '',
    gpu: r.gpu ? { type: r.gpu.type, number: r.gpu.number } : null,
  };
}

/** `pps_v2.ResourceSpec` → {@link ResourceSpec} (zero values omitted); unset → undefined. */
export function resourceSpecFromWire(m: WireMessage | null | undefined): ResourceSpec | undefined {
  if (!m) return undefined;
  const out: ResourceSpec = {};
  if (m.cpu) out.cpu = Math.round(Number(m.cpu) * 1e6) / 1e6; // proto `float`: 7 digits
  if (m.memory) out.memory = m.memory;
  if (m.disk) out.disk = m.disk;
  if (m.gpu) out.gpu = { type: m.gpu.type ?? '', number: Number(m.gpu.number ?? 0) };
  return out;
}

function metadataFromWire(m: WireMessage | null | undefined): PipelineMetadata | undefined {
  if (!m) return undefined;
  return { annotations: { ...(m.annotations ?? {}) }, labels: { ...(m.labels ?? {}) } };
}

// ---------------------------------------------------------------------------------------------
// PPS infos
// ---------------------------------------------------------------------------------------------

/** {@link PipelineInfo} → `pps_v2.PipelineInfo` (with `details`). */
export function pipelineInfoToWire(p: PipelineInfo): WireMessage {
  const d = p.details;
  return {
    pipeline: pipelineToWire(p.pipeline),
    version: p.version,
    spec_commit: p.specCommit ? commitToWire(p.specCommit) : null,
    stopped: p.stopped,
    state: pipelineStateToWire(p.state),
    reason: p.reason,
    last_job_state: jobStateToWire(p.lastJobState),
    parallelism: p.parallelism,
    type: pipelineTypeToWire(p.type),
    details: {
      transform: transformToWire(d.transform),
      parallelism_spec: { constant: d.parallelismSpec.constant },
      created_at: timestampToWire(d.createdAt),
      updated_at: timestampToWire(d.updatedAt),
      recent_error: d.recentError,
      workers_requested: d.workersRequested,
      workers_available: d.workersAvailable,
      output_branch: d.outputBranch,
      resource_requests: resourceSpecToWire(d.resourceRequests),
      resource_limits: resourceSpecToWire(d.resourceLimits),
      sidecar_resource_limits: resourceSpecToWire(d.sidecarResourceLimits),
      sidecar_resource_requests: resourceSpecToWire(d.sidecarResourceRequests),
      input: inputToWire(d.input),
      description: d.description,
      salt: d.salt,
      reason: d.reason,
      datum_timeout: durationToWire(d.datumTimeout),
      job_timeout: durationToWire(d.jobTimeout),
      datum_tries: d.datumTries,
      s3_out: d.s3Out,
      metadata: d.metadata
        ? { annotations: d.metadata.annotations, labels: d.metadata.labels }
        : null,
      reprocess_spec: d.reprocessSpec,
      autoscaling: d.autoscaling,
    },
    user_spec_json: p.userSpecJson,
    effective_spec_json: p.effectiveSpecJson,
  };
}

/**
 * `pps_v2.PipelineInfo` → {@link PipelineInfo}. `details.extra` (egress, service, …, which the
 * subset does not model) is read from `effective_spec_json` when that JSON holds any.
 */
export function pipelineInfoFromWire(m: WireMessage): PipelineInfo {
  const d: WireMessage = m.details ?? {};
  const details: PipelineInfoDetails = {
    description: d.description ?? '',
    transform: transformFromWire(d.transform),
    input: inputFromWire(d.input),
    parallelismSpec: { constant: Number(d.parallelism_spec?.constant ?? 0) || 1 },
    datumTries: Number(d.datum_tries ?? 0),
    reprocessSpec: d.reprocess_spec === 'every_job' ? 'every_job' : 'until_success',
    outputBranch: d.output_branch ?? '',
    autoscaling: !!d.autoscaling,
    salt: d.salt ?? '',
    s3Out: !!d.s3_out,
    createdAt: timestampFromWire(d.created_at) ?? new Date(0),
    updatedAt: timestampFromWire(d.updated_at) ?? new Date(0),
    recentError: d.recent_error ?? '',
    workersRequested: Number(d.workers_requested ?? 0),
    workersAvailable: Number(d.workers_available ?? 0),
    reason: d.reason ?? '',
  };
  const rr = resourceSpecFromWire(d.resource_requests);
  if (rr) details.resourceRequests = rr;
  const rl = resourceSpecFromWire(d.resource_limits);
  if (rl) details.resourceLimits = rl;
  const srl = resourceSpecFromWire(d.sidecar_resource_limits);
  if (srl) details.sidecarResourceLimits = srl;
  const srr = resourceSpecFromWire(d.sidecar_resource_requests);
  if (srr) details.sidecarResourceRequests = srr;
  const jt = durationFromWire(d.job_timeout);
  if (jt) details.jobTimeout = jt;
  const dt = durationFromWire(d.datum_timeout);
  if (dt) details.datumTimeout = dt;
  const md = metadataFromWire(d.metadata);
  if (md) details.metadata = md;
  const extra = extraFromSpecJson(m.effective_spec_json);
  if (extra) details.extra = extra;
  return {
    pipeline: pipelineFromWire(m.pipeline),
    version: Number(m.version ?? 0),
    specCommit: m.spec_commit ? commitFromWire(m.spec_commit) : null,
    stopped: !!m.stopped,
    state: pipelineStateFromWire(m.state ?? 0),
    reason: m.reason ?? '',
    lastJobState: jobStateFromWire(m.last_job_state ?? 0),
    parallelism: Number(m.parallelism ?? 0),
    type: pipelineTypeFromWire(m.type ?? 0),
    details,
    userSpecJson: m.user_spec_json ?? '',
    effectiveSpecJson: m.effective_spec_json ?? '',
  };
}

function extraFromSpecJson(json: unknown): Record<string, unknown> | undefined {
  if (typeof json !== 'string' || !json) return undefined;
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const k of EXTRA_FIELDS) if (spec && spec[k] !== undefined) out[k] = spec[k];
  return Object.keys(out).length ? out : undefined;
}

/**
 * {@link JobInfo} → `pps_v2.JobInfo`. The port's `inputCommits` travel as pachd carries a job's
 * input commits, in `details.input`: one PFS input per input commit with its `commit` set (a
 * `cross` of them when there are several). This is the stand-in's input tree, not the pipeline's
 * (no globs); {@link jobInfoFromWire} reads the commits back from either.
 */
export function jobInfoToWire(j: JobInfo): WireMessage {
  const pfs = j.inputCommits.map((c) => ({
    pfs: {
      project: c.repo.project.name,
      name: c.repo.name,
      repo: c.repo.name,
      repo_type: c.repo.type,
      branch: c.branch?.name ?? '',
      commit: c.id,
    },
  }));
  const input = pfs.length === 1 ? pfs[0] : pfs.length > 1 ? { cross: pfs } : null;
  return {
    job: jobToWire(j.job),
    pipeline_version: j.pipelineVersion,
    output_commit: commitToWire(j.outputCommit),
    restart: j.restart,
    data_processed: j.dataProcessed,
    data_skipped: j.dataSkipped,
    data_total: j.dataTotal,
    data_failed: j.dataFailed,
    data_recovered: j.dataRecovered,
    state: jobStateToWire(j.state),
    reason: j.reason,
    created: timestampToWire(j.created),
    started: timestampToWire(j.started),
    finished: timestampToWire(j.finished),
    details: input ? { input } : null,
  };
}

/**
 * The input commits of a job from `JobInfo.details.input` (pachd fills each PFS input's `commit`
 * with the commit the job read — pachyderm `ppsutil.JobInput`): one per distinct repo and id, in
 * input order. Empty when the message has no details.
 */
export function inputCommitsFromWire(input: WireMessage | null | undefined): Commit[] {
  const out: Commit[] = [];
  const seen = new Set<string>();
  const visit = (i: WireMessage | null | undefined) => {
    if (!i) return;
    if (i.pfs && i.pfs.commit) {
      const repo = repoFromWire({
        name: i.pfs.repo,
        type: i.pfs.repo_type,
        project: { name: i.pfs.project },
      });
      const key = `${repo.project.name}/${repo.name}.${repo.type}@${i.pfs.commit as string}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({
          repo,
          id: i.pfs.commit,
          branch: i.pfs.branch ? { repo, name: i.pfs.branch } : null,
        });
      }
    }
    for (const k of ['cross', 'union', 'join', 'group']) {
      for (const sub of (i[k] ?? []) as WireMessage[]) visit(sub);
    }
  };
  visit(input);
  return out;
}

/** `pps_v2.JobInfo` → {@link JobInfo} (`inputCommits` from `details.input`, see {@link inputCommitsFromWire}). */
export function jobInfoFromWire(m: WireMessage): JobInfo {
  return {
    job: jobFromWire(m.job),
    pipelineVersion: Number(m.pipeline_version ?? 0),
    outputCommit: commitFromWire(m.output_commit ?? {}),
    restart: Number(m.restart ?? 0),
    dataProcessed: Number(m.data_processed ?? 0),
    dataSkipped: Number(m.data_skipped ?? 0),
    dataTotal: Number(m.data_total ?? 0),
    dataFailed: Number(m.data_failed ?? 0),
    dataRecovered: Number(m.data_recovered ?? 0),
    state: jobStateFromWire(m.state ?? 0),
    reason: m.reason ?? '',
    created: timestampFromWire(m.created) ?? new Date(0),
    started: timestampFromWire(m.started),
    finished: timestampFromWire(m.finished),
    inputCommits: inputCommitsFromWire(m.details?.input),
  };
}

/** {@link ProcessStats} (milliseconds) → `pps_v2.ProcessStats` (Durations); null → null. */
export function processStatsToWire(s: ProcessStats | null): WireMessage | null {
  if (!s) return null;
  return {
    download_time: durationMsToWire(s.downloadTimeMs),
    process_time: durationMsToWire(s.processTimeMs),
    upload_time: durationMsToWire(s.uploadTimeMs),
    download_bytes: s.downloadBytes,
    upload_bytes: s.uploadBytes,
  };
}

/** `pps_v2.ProcessStats` → {@link ProcessStats}; unset → null. */
export function processStatsFromWire(m: WireMessage | null | undefined): ProcessStats | null {
  if (!m) return null;
  return {
    downloadTimeMs: durationMsFromWire(m.download_time),
    processTimeMs: durationMsFromWire(m.process_time),
    uploadTimeMs: durationMsFromWire(m.upload_time),
    downloadBytes: Number(m.download_bytes ?? 0),
    uploadBytes: Number(m.upload_bytes ?? 0),
  };
}

/** {@link DatumInfo} → `pps_v2.DatumInfo`. */
export function datumInfoToWire(d: DatumInfo): WireMessage {
  return {
    datum: datumToWire(d.datum),
    state: datumStateToWire(d.state),
    stats: processStatsToWire(d.stats),
    data: d.data.map(fileInfoToWire),
  };
}

/** `pps_v2.DatumInfo` → {@link DatumInfo}. */
export function datumInfoFromWire(m: WireMessage): DatumInfo {
  return {
    datum: datumFromWire(m.datum),
    state: datumStateFromWire(m.state ?? 0),
    stats: processStatsFromWire(m.stats),
    data: ((m.data ?? []) as WireMessage[]).map(fileInfoFromWire),
  };
}

/** {@link LogMessage} → `pps_v2.LogMessage` (input hashes hex → bytes). */
export function logMessageToWire(l: LogMessage): WireMessage {
  return {
    project_name: l.projectName,
    pipeline_name: l.pipelineName,
    job_id: l.jobId,
    worker_id: l.workerId,
    datum_id: l.datumId,
    master: l.master,
    data: l.data.map((f) => ({ path: f.path, hash: hexToBytes(f.hash) })),
    user: l.user,
    ts: timestampToWire(l.ts),
    message: l.message,
  };
}

/** `pps_v2.LogMessage` → {@link LogMessage}. */
export function logMessageFromWire(m: WireMessage): LogMessage {
  return {
    projectName: m.project_name ?? '',
    pipelineName: m.pipeline_name ?? '',
    jobId: m.job_id ?? '',
    workerId: m.worker_id ?? '',
    datumId: m.datum_id ?? '',
    master: !!m.master,
    data: ((m.data ?? []) as WireMessage[]).map((f) => ({
      path: f.path ?? '',
      hash: bytesToHex(f.hash),
    })),
    user: !!m.user,
    ts: timestampFromWire(m.ts) ?? new Date(0),
    message: m.message ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// ModifyFile requests
// ---------------------------------------------------------------------------------------------

/** Bytes of a port {@link FileData} (strings are UTF-8). */
function toBytes(d: FileData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * The `ModifyFileRequest` messages of one port `modifyFile(commit, ops)` call, in order, as
 * pachyderm's Go client writes them (src/internal/client/pfs_file.go): `set_commit` first; `put`
 * = `delete_file` + `add_file` (overwrite); `append` = `add_file`; `delete` = `delete_file`; `copy`
 * = `copy_file`. Content is cut into `add_file.raw` chunks of at most `chunkSize` bytes (pachd's
 * 19 MiB `MaxMsgPayloadSize`); empty content is one empty chunk (an empty file). `datum` is `''`
 * when unset. Paths are sent as given (pachd cleans them).
 * @throws PachError INVALID_ARGUMENT for an op of unknown kind
 */
export function* fileOpsToWire(
  commit: Commit,
  ops: readonly FileOp[],
  chunkSize: number,
): Generator<WireMessage> {
  yield { set_commit: commitToWire(commit) };
  const addFile = function* (path: string, data: FileData, datum: string) {
    const bytes = toBytes(data);
    let off = 0;
    do {
      const end = Math.min(bytes.length, off + chunkSize);
      yield { add_file: { path, datum, raw: { value: bytes.subarray(off, end) } } };
      off = end;
    } while (off < bytes.length);
  };
  for (const op of ops) {
    const datum = op.datum ?? '';
    switch (op.op) {
      case 'put':
        yield { delete_file: { path: op.path, datum } };
        yield* addFile(op.path, op.data, datum);
        break;
      case 'append':
        yield* addFile(op.path, op.data, datum);
        break;
      case 'delete':
        yield { delete_file: { path: op.path, datum } };
        break;
      case 'copy':
        yield {
          copy_file: { dst: op.dst, datum, src: fileToWire(toFile(op.src)), append: !!op.append },
        };
        break;
      default:
        throw invalidArgument(
          `file operation ${JSON.stringify((op as { op: unknown }).op)} is invalid: expected put, append, delete or copy`,
        );
    }
  }
}
