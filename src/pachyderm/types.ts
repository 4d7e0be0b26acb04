/**
 * The data types of the Pachyderm port, in Pachyderm's vocabulary.
 *
 * Each type mirrors a message of Pachyderm 2.x's `pfs_v2` / `pps_v2` protos (pachyderm/pachyderm
 * `src/pfs/pfs.proto`, `src/pps/pps.proto`; field list in shared/pachyderm-api.md §2.3 and §2.5)
 * with camelCase names; enums keep the proto numbers. Differences from the wire form, chosen for
 * ergonomics and documented on the field: timestamps are `Date` (or `null` when unset), int64 sizes
 * are `number` (exact below 2^53 bytes), `FileInfo.hash` is a hex string, and unused blocks are kept
 * as opaque objects.
 */

// ---------------------------------------------------------------------------------------------
// PFS: objects
// ---------------------------------------------------------------------------------------------

/** Name of the project that always exists (pachyderm `pfs.DefaultProjectName`). */
export const DEFAULT_PROJECT = 'default';

/** Datum tag of files written by clients (pachyderm `common.DefaultFileDatum`). */
export const DEFAULT_DATUM = 'default';

/** A project: `Project { name=1 }`. */
export interface Project {
  name: string;
}

/**
 * Repo types: `user` (data and pipeline output), `spec` (a pipeline's spec history), `meta` (a
 * pipeline's datum metadata). pachyderm `pfs.UserRepoType` etc.
 */
export type RepoType = 'user' | 'spec' | 'meta';

/** A repo: `Repo { name=1; type=2; project=3 }`. */
export interface Repo {
  name: string;
  type: RepoType;
  project: Project;
}

/** A branch: `Branch { repo=1; name=2 }`. */
export interface Branch {
  repo: Repo;
  name: string;
}

/**
 * A commit: `Commit { repo=3; id=2; branch=1 }`. `id` is 32 lowercase hex digits (UUIDv4 without
 * dashes). As a reference, `{repo, branch, id: ''}` means the head of `branch`. As returned by the
 * port, `branch` is the branch the commit was created on (or `null` if it has none).
 */
export interface Commit {
  repo: Repo;
  id: string;
  branch?: Branch | null;
}

/** A commit set (Pachyderm's "global ID"): every commit with that id, in every repo. */
export interface CommitSet {
  id: string;
}

/**
 * A file: `File { commit=1; path=2; datum=3 }`. `path` is absolute (`/a/b.csv`); a directory path
 * in a listing ends with `/`. `datum` tags a pipeline output file with the datum that wrote it
 * ({@link DEFAULT_DATUM} for client writes); empty = any datum.
 */
export interface File {
  commit: Commit;
  path: string;
  datum?: string;
}

// ---------------------------------------------------------------------------------------------
// PFS: enums
// ---------------------------------------------------------------------------------------------

/**
 * `pfs_v2.CommitState`, "increasingly specific": a FINISHED commit is also STARTED, READY and
 * FINISHING. READY = started and every direct-provenance commit is finished.
 */
export enum CommitState {
  COMMIT_STATE_UNKNOWN = 0,
  STARTED = 1,
  READY = 2,
  FINISHING = 3,
  FINISHED = 4,
}

/** `pfs_v2.OriginKind`: USER = made by a client, AUTO = made by the system (pipeline output). */
export enum OriginKind {
  ORIGIN_KIND_UNKNOWN = 0,
  USER = 1,
  AUTO = 2,
  FSCK = 3,
}

/** `pfs_v2.FileType`. */
export enum FileType {
  RESERVED = 0,
  FILE = 1,
  DIR = 2,
}

// ---------------------------------------------------------------------------------------------
// PFS: infos
// ---------------------------------------------------------------------------------------------

/** `ProjectInfo { project=1; description=2; created_at=4 }`. */
export interface ProjectInfo {
  project: Project;
  description: string;
  createdAt: Date;
}

/**
 * `RepoInfo { repo=1; created=2; size_bytes_upper_bound=3; description=4; branches=5 }`.
 * `sizeBytesUpperBound` = size in bytes of the head of `master` (0 when there is none).
 */
export interface RepoInfo {
  repo: Repo;
  created: Date;
  sizeBytesUpperBound: number;
  description: string;
  /** The repo's branches, sorted by name. */
  branches: Branch[];
}

/**
 * `BranchInfo { branch=1; head=2; provenance=3; subvenance=4; direct_provenance=5; created_at=9;
 * updated_at=10 }`. `head` is `null` for a branch with no commit yet. `provenance` is transitive,
 * `directProvenance` only the branches named at creation (e.g. a pipeline's inputs).
 */
export interface BranchInfo {
  branch: Branch;
  head: Commit | null;
  provenance: Branch[];
  subvenance: Branch[];
  directProvenance: Branch[];
  createdAt: Date;
  updatedAt: Date;
}

/** `CommitOrigin { kind=1 }`. */
export interface CommitOrigin {
  kind: OriginKind;
}

/**
 * `CommitInfo`. Times: `started` when created; `finishing` and `finished` when FinishCommit ran
 * (`null` while open). `error` is empty unless the commit was finished with an error.
 * `sizeBytes` = total bytes of the commit's files (proto `details.size_bytes`), also reported as
 * `sizeBytesUpperBound`.
 */
export interface CommitInfo {
  commit: Commit;
  origin: CommitOrigin;
  description: string;
  parentCommit: Commit | null;
  childCommits: Commit[];
  started: Date;
  finishing: Date | null;
  finished: Date | null;
  directProvenance: Commit[];
  directSubvenance: Commit[];
  error: string;
  sizeBytes: number;
  sizeBytesUpperBound: number;
}

/**
 * `FileInfo { file=1; file_type=2; committed=3; size_bytes=4; hash=5 }`. For a directory,
 * `sizeBytes` is the total of the files below it and `hash` a hash over their paths and hashes.
 * `hash` is hex (the wire form is raw bytes); for a file it is the SHA-256 of its content.
 */
export interface FileInfo {
  file: File;
  fileType: FileType;
  committed: Date | null;
  sizeBytes: number;
  hash: string;
}

// ---------------------------------------------------------------------------------------------
// PPS: objects and enums
// ---------------------------------------------------------------------------------------------

/** `Pipeline { project=2; name=1 }`. */
export interface Pipeline {
  project: Project;
  name: string;
}

/** `Job { pipeline=1; id=2 }`. `id` == output commit id == commit set id. */
export interface Job {
  pipeline: Pipeline;
  id: string;
}

/** `Datum { job=1; id=2 }`. `id` is a hash over the datum's input files (paths + content). */
export interface Datum {
  job: Job;
  id: string;
}

/**
 * `pps_v2.JobState`. Terminal: SUCCESS, FAILURE, KILLED, UNRUNNABLE (pachyderm
 * `src/pps/util.go IsTerminal`); see {@link isTerminalJobState}.
 */
export enum JobState {
  JOB_STATE_UNKNOWN = 0,
  JOB_CREATED = 1,
  JOB_STARTING = 2,
  JOB_RUNNING = 3,
  JOB_FAILURE = 4,
  JOB_SUCCESS = 5,
  JOB_KILLED = 6,
  JOB_EGRESSING = 7,
  JOB_FINISHING = 8,
  JOB_UNRUNNABLE = 9,
}

/** True for SUCCESS, FAILURE, KILLED and UNRUNNABLE (pachyderm `ppsutil.IsTerminal`). */
export function isTerminalJobState(state: JobState): boolean {
  return (
    state === JobState.JOB_SUCCESS ||
    state === JobState.JOB_FAILURE ||
    state === JobState.JOB_KILLED ||
    state === JobState.JOB_UNRUNNABLE
  );
}

/**
 * `pps_v2.DatumState`. SKIPPED = processed successfully by an earlier job and unchanged;
 * RECOVERED = failed but `errCmd` succeeded.
 */
export enum DatumState {
  UNKNOWN = 0,
  FAILED = 1,
  SUCCESS = 2,
  SKIPPED = 3,
  STARTING = 4,
  RECOVERED = 5,
}

/** `pps_v2.PipelineState`. */
export enum PipelineState {
  PIPELINE_STATE_UNKNOWN = 0,
  PIPELINE_STARTING = 1,
  PIPELINE_RUNNING = 2,
  PIPELINE_RESTARTING = 3,
  PIPELINE_FAILURE = 4,
  PIPELINE_PAUSED = 5,
  PIPELINE_STANDBY = 6,
  PIPELINE_CRASHING = 7,
}

/** `PipelineInfo.PipelineType` (the proto's 0 is spelled `PIPELINT_TYPE_UNKNOWN`, sic). */
export enum PipelineType {
  PIPELINT_TYPE_UNKNOWN = 0,
  PIPELINE_TYPE_TRANSFORM = 1,
  PIPELINE_TYPE_SPOUT = 2,
  PIPELINE_TYPE_SERVICE = 3,
}

// ---------------------------------------------------------------------------------------------
// PPS: pipeline spec (typed form of a parsed 2.x JSON spec, Pachyderm's defaults applied)
// ---------------------------------------------------------------------------------------------

/** `Transform` (pps.proto). Defaults: `image = "ubuntu:20.04"`, lists empty, `env` empty. */
export interface Transform {
  image: string;
  cmd: string[];
  errCmd: string[];
  env: Record<string, string>;
  secrets: SecretMount[];
  imagePullSecrets: string[];
  /** Lines fed to `cmd` on standard input. */
  stdin: string[];
  errStdin: string[];
  /** Exit codes other than 0 that still count as success. */
  acceptReturnCode: number[];
  debug: boolean;
  user: string;
  workingDir: string;
  dockerfile: string;
  memoryVolume: boolean;
  datumBatching: boolean;
}

/** `SecretMount { name=1; key=2; mount_path=3; env_var=4 }`. */
export interface SecretMount {
  name: string;
  key: string;
  mountPath: string;
  envVar: string;
}

/**
 * `PFSInput`. Defaults: `name = repo`, `branch = "master"`, `repoType = "user"`, `project` = the
 * pipeline's project. `project` is a string here (unlike `Pipeline.project`), as in the proto.
 */
export interface PfsInput {
  project: string;
  name: string;
  repo: string;
  repoType: RepoType;
  branch: string;
  commit: string;
  glob: string;
  joinOn: string;
  outerJoin: boolean;
  groupBy: string;
  lazy: boolean;
  emptyFiles: boolean;
  s3: boolean;
  trigger?: Record<string, unknown>;
  reference: boolean;
}

/** `CronInput { name=1; project=7; repo=2; commit=3; spec=4; overwrite=5; start=6 }`. */
export interface CronInput {
  name: string;
  project: string;
  repo: string;
  commit: string;
  spec: string;
  overwrite: boolean;
  start: Date | null;
}

/** `Input`: exactly one member is set; `cross`/`union`/`join`/`group` nest recursively. */
export interface Input {
  pfs?: PfsInput;
  cross?: Input[];
  union?: Input[];
  join?: Input[];
  group?: Input[];
  cron?: CronInput;
}

/** `ParallelismSpec { constant=1 }`; 0 or absent means 1 worker. */
export interface ParallelismSpec {
  constant: number;
}

/** `ResourceSpec { cpu=1 (cores); memory=2 ("2Gi"); gpu=3; disk=4 }`. */
export interface ResourceSpec {
  cpu?: number;
  memory?: string;
  gpu?: { type: string; number: number };
  disk?: string;
}

/** `Metadata { annotations=1; labels=2 }`. */
export interface PipelineMetadata {
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * A parsed Pachyderm 2.x pipeline spec (`CreatePipelineRequest`, JSON in camelCase or snake_case)
 * with Pachyderm's defaults applied (pachyderm `src/server/pps/server/api_server.go`,
 * `defaults.go`): `outputBranch = "master"`, `datumTries = 3`, `reprocessSpec = "until_success"`,
 * `parallelismSpec.constant = 1`, `autoscaling = false`. Durations (`jobTimeout`, `datumTimeout`)
 * stay protojson strings such as `"60s"` or `"1h"`; blocks reelgraph does not interpret (egress,
 * service, spout, scheduling, pod patches, tolerations …) are kept verbatim in `extra`.
 */
export interface PipelineSpec {
  pipeline: Pipeline;
  description: string;
  transform: Transform;
  input: Input;
  parallelismSpec: ParallelismSpec;
  resourceRequests?: ResourceSpec;
  resourceLimits?: ResourceSpec;
  sidecarResourceLimits?: ResourceSpec;
  sidecarResourceRequests?: ResourceSpec;
  datumTries: number;
  /** `"until_success"` (default: skip datums processed successfully before) or `"every_job"`. */
  reprocessSpec: 'until_success' | 'every_job';
  outputBranch: string;
  autoscaling: boolean;
  jobTimeout?: string;
  datumTimeout?: string;
  salt: string;
  s3Out: boolean;
  metadata?: PipelineMetadata;
  /** Fields accepted and kept but not interpreted by reelgraph (egress, service, spout, …). */
  extra?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// PPS: infos
// ---------------------------------------------------------------------------------------------

/**
 * `PipelineInfo.Details`: the effective spec (without `pipeline`) plus runtime facts.
 */
export type PipelineInfoDetails = Omit<PipelineSpec, 'pipeline'> & {
  createdAt: Date;
  updatedAt: Date;
  recentError: string;
  workersRequested: number;
  workersAvailable: number;
  reason: string;
};

/**
 * `PipelineInfo { pipeline=1; version=2; spec_commit=3; stopped=4; state=5; reason=6;
 * last_job_state=8; parallelism=9; type=10; details=12; user_spec_json=13; effective_spec_json=14 }`.
 * `version` starts at 1 and grows with every update.
 */
export interface PipelineInfo {
  pipeline: Pipeline;
  version: number;
  specCommit: Commit | null;
  stopped: boolean;
  state: PipelineState;
  reason: string;
  lastJobState: JobState;
  parallelism: number;
  type: PipelineType;
  details: PipelineInfoDetails;
  /** The spec as the client sent it (JSON). */
  userSpecJson: string;
  /** The spec with defaults applied (JSON, camelCase). */
  effectiveSpecJson: string;
}

/**
 * `JobInfo`. Counters: `dataTotal` = datums of the job, of which `dataProcessed` ran successfully,
 * `dataSkipped` were reused from an earlier job, `dataFailed` failed, `dataRecovered` recovered.
 * `reason` explains FAILURE/KILLED/UNRUNNABLE. `inputCommits` = the output commit's direct
 * provenance (the input commits the job read).
 */
export interface JobInfo {
  job: Job;
  pipelineVersion: number;
  outputCommit: Commit;
  restart: number;
  dataProcessed: number;
  dataSkipped: number;
  dataTotal: number;
  dataFailed: number;
  dataRecovered: number;
  state: JobState;
  reason: string;
  created: Date;
  started: Date | null;
  finished: Date | null;
  inputCommits: Commit[];
}

/** `ProcessStats`; durations in milliseconds, sizes in bytes. */
export interface ProcessStats {
  downloadTimeMs: number;
  processTimeMs: number;
  uploadTimeMs: number;
  downloadBytes: number;
  uploadBytes: number;
}

/** `DatumInfo { datum=1; state=2; stats=3; pfs_state=4; data=5 }`; `data` = the datum's input files. */
export interface DatumInfo {
  datum: Datum;
  state: DatumState;
  stats: ProcessStats | null;
  data: FileInfo[];
}

/** `InputFile { path=1; hash=2 (hex here) }`. */
export interface InputFile {
  path: string;
  hash: string;
}

/**
 * `LogMessage { project_name=10; pipeline_name=1; job_id=2; worker_id=3; datum_id=4; master=5;
 * data=6; user=7; ts=8; message=9 }`. `user = true` marks lines written by user code.
 */
export interface LogMessage {
  projectName: string;
  pipelineName: string;
  jobId: string;
  workerId: string;
  datumId: string;
  master: boolean;
  data: InputFile[];
  user: boolean;
  ts: Date;
  message: string;
}
