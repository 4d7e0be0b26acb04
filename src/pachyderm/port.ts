/**
 * The port to Pachyderm: one asynchronous interface in Pachyderm's vocabulary, implemented by the
 * embedded engine (`embedded/`) and, later, by a gRPC client of a real pachd.
 *
 * Method names and options mirror pachd's `pfs_v2.API` and `pps_v2.API` RPCs (shared/
 * pachyderm-api.md §2.1–2.6); server-streaming RPCs are `AsyncIterable`s. List streams end after
 * the last item; subscribe streams never end by themselves: stop them with `break` in
 * `for await`, `iterator.return()`, or the `signal` option (the iterator then ends quietly).
 * Every failure is a `PachError` (errors.ts) with a `PachCode`.
 */
import type {
  BranchRef,
  CommitRef,
  DatumRef,
  FileRef,
  JobRef,
  PipelineRef,
  ProjectRef,
  RepoRef,
} from './refs';
import type {
  BranchInfo,
  Commit,
  CommitInfo,
  CommitState,
  DatumInfo,
  DatumState,
  FileInfo,
  JobInfo,
  JobState,
  LogMessage,
  OriginKind,
  PipelineInfo,
  ProjectInfo,
  RepoInfo,
  RepoType,
} from './types';

/** Bytes accepted by file writes; strings are UTF-8 encoded. */
export type FileData = Buffer | Uint8Array | string;

/**
 * One operation of a {@link Pachyderm.modifyFile} call (pachd `ModifyFileRequest` bodies):
 * - `put`: overwrite `path` with `data` (the Go client's PutFile = `delete_file` + `add_file`);
 * - `append`: append `data` to `path` (pachd `add_file`; creates the file if missing);
 * - `delete`: delete the file `path`, or every file under the directory `path`;
 * - `copy`: copy the file or directory `src` (any finished commit) to `dst`; `append` appends to an
 *   existing `dst` instead of overwriting it.
 * `datum` tags the written files (default `"default"`, pachyderm `common.DefaultFileDatum`): a
 * path may hold one version per datum (pipeline outputs; reads concatenate them in datum order);
 * `put` overwrites the version of its own datum; `delete` without a datum deletes every version,
 * with a datum only that datum's.
 */
export type FileOp =
  | { op: 'put'; path: string; data: FileData; datum?: string }
  | { op: 'append'; path: string; data: FileData; datum?: string }
  | { op: 'delete'; path: string; datum?: string }
  | { op: 'copy'; src: FileRef; dst: string; append?: boolean; datum?: string };

/** Cancellation for streams that wait (subscriptions, waits, followed logs). */
export interface Cancellable {
  /** When aborted, a subscription ends quietly; a pending wait rejects with CANCELLED. */
  signal?: AbortSignal;
}

/** Options of {@link Pachyderm.listCommit} (`ListCommitRequest`). */
export interface ListCommitOptions {
  /** Oldest bound, exclusive: list commits after this one (on its branch's ancestry). */
  from?: CommitRef;
  /** Newest bound, inclusive: start listing at this commit (e.g. a branch head) and walk parents. */
  to?: CommitRef;
  /** At most this many commits (counted in the listing order); 0 or absent = no limit. */
  number?: number;
  /** Oldest first instead of newest first (with `number`: the oldest ones). */
  reverse?: boolean;
  /** Include alias commits (the embedded engine has none, so no effect there). */
  all?: boolean;
  /** Only commits of this origin. */
  originKind?: OriginKind;
  /** Only commits started at or before this time (pachd `started_time`). */
  startedTime?: Date;
}

/** Options of {@link Pachyderm.subscribeCommit} (`SubscribeCommitRequest`). */
export interface SubscribeCommitOptions extends Cancellable {
  /** Only commits created on this branch. */
  branch?: string;
  /**
   * Replay only the commits started after this one (the proto's comment). The embedded engine
   * (and the stand-in) do so; pachd 2.12 only suppresses this one commit and still sends every
   * other existing commit, so a caller that needs the bound filters by start time as well.
   */
  from?: CommitRef;
  /** Deliver each commit once it reaches this state (default STARTED). */
  state?: CommitState;
  all?: boolean;
  originKind?: OriginKind;
}

/** Options of {@link Pachyderm.listJob} (`ListJobRequest`). */
export interface ListJobOptions {
  pipeline?: PipelineRef;
  projects?: ProjectRef[];
  /** Only jobs whose input commits include all of these. */
  inputCommit?: CommitRef[];
  /** Only jobs in one of these states (a reelgraph convenience; pachd uses a jq filter). */
  state?: JobState[];
  /** Pipeline versions to include: 0 = current only, -1 = all (pachd `history`); default -1 here. */
  history?: number;
  /** Only jobs created strictly before this time (paging: pass the last job's `created`). */
  paginationMarker?: Date;
  /** At most this many jobs; 0 or absent = no limit. */
  number?: number;
  /** Oldest first instead of newest first. */
  reverse?: boolean;
}

/** Options of {@link Pachyderm.listDatum} (`ListDatumRequest`). */
export interface ListDatumOptions {
  filter?: { state?: DatumState[] };
  /** Only datums whose id sorts after this id. */
  paginationMarker?: string;
  number?: number;
  reverse?: boolean;
}

/** Options of {@link Pachyderm.getLogs} (`GetLogsRequest`); one of pipeline/job is required. */
export interface GetLogsOptions extends Cancellable {
  pipeline?: PipelineRef;
  job?: JobRef;
  datum?: DatumRef;
  /** Only lines of datums whose input paths or hashes match all of these. */
  dataFilters?: string[];
  /** Logs of the pipeline's master process instead of user code. */
  master?: boolean;
  /** Keep the stream open and deliver new lines as they are written. */
  follow?: boolean;
  /** Only the last N lines (0 = all). */
  tail?: number;
  /** Only lines newer than this many milliseconds (pachd default 24 h). */
  sinceMs?: number;
}

/**
 * Pachyderm, in its own vocabulary. All methods are asynchronous; errors are `PachError`s.
 *
 * Source: pachyderm/pachyderm `src/pfs/pfs.proto`, `src/pps/pps.proto`,
 * `src/server/pfs/server/api_server.go`, `src/server/pps/server/api_server.go`.
 */
export interface Pachyderm {
  // ----- projects -----------------------------------------------------------------------------

  /** CreateProject. @throws ALREADY_EXISTS unless `update`; INVALID_ARGUMENT for a bad name. */
  createProject(
    project: ProjectRef,
    opts?: { description?: string; update?: boolean },
  ): Promise<void>;
  /** InspectProject. @throws NOT_FOUND "project X not found". */
  inspectProject(project: ProjectRef): Promise<ProjectInfo>;
  /** ListProject, sorted by name. */
  listProject(): AsyncIterable<ProjectInfo>;
  /** DeleteProject. @throws NOT_FOUND; FAILED_PRECONDITION while it has repos (unless `force`). */
  deleteProject(project: ProjectRef, opts?: { force?: boolean }): Promise<void>;

  // ----- repos --------------------------------------------------------------------------------

  /**
   * CreateRepo. No branch is created (`master` appears on the first commit).
   * @throws NOT_FOUND if the project is missing; ALREADY_EXISTS unless `update` (then only the
   *   description changes); INVALID_ARGUMENT for a bad name.
   */
  createRepo(repo: RepoRef, opts?: { description?: string; update?: boolean }): Promise<void>;
  /** InspectRepo. @throws NOT_FOUND "repo X not found". */
  inspectRepo(repo: RepoRef): Promise<RepoInfo>;
  /**
   * ListRepo, sorted by project then name. `type` `"user"` (default) lists user repos; `""` lists
   * all types (pachd's `ListRepo{type:""}`).
   */
  listRepo(opts?: { type?: RepoType | ''; projects?: ProjectRef[] }): AsyncIterable<RepoInfo>;
  /**
   * DeleteRepo: the repo, its branches, commits and files. Returns `{deleted: false}` when it does
   * not exist. @throws FAILED_PRECONDITION for a pipeline's output repo unless `force`, or when
   * another repo's commits have provenance on it.
   */
  deleteRepo(repo: RepoRef, opts?: { force?: boolean }): Promise<{ deleted: boolean }>;

  // ----- branches -----------------------------------------------------------------------------

  /**
   * CreateBranch: create or move `branch` to `head` (a commit of the same repo; absent = keep the
   * current head, or none), with `provenance` branches (the head of this branch will be computed
   * from them: used for pipeline output branches).
   * @throws NOT_FOUND for a missing repo/commit; INVALID_ARGUMENT for a bad name or a provenance
   *   cycle.
   */
  createBranch(
    branch: BranchRef,
    opts?: { head?: CommitRef; provenance?: BranchRef[]; newCommitSet?: boolean },
  ): Promise<void>;
  /** InspectBranch. @throws NOT_FOUND "branch X not found". */
  inspectBranch(branch: BranchRef): Promise<BranchInfo>;
  /** ListBranch of one repo, sorted by name (reverse = descending). */
  listBranch(repo: RepoRef, opts?: { reverse?: boolean }): AsyncIterable<BranchInfo>;
  /** DeleteBranch (commits stay). @throws NOT_FOUND; FAILED_PRECONDITION if it has subvenance unless `force`. */
  deleteBranch(branch: BranchRef, opts?: { force?: boolean }): Promise<void>;

  // ----- commits ------------------------------------------------------------------------------

  /**
   * StartCommit on `branch` (created if missing); the new commit's parent is the branch head (or
   * `parent`). Origin USER. Returns `{repo, id, branch}`.
   * @throws FAILED_PRECONDITION "parent commit X has not been finished" when the head is open;
   *   FAILED_PRECONDITION "cannot start a commit on an output branch"; NOT_FOUND for the repo.
   */
  startCommit(
    branch: BranchRef,
    opts?: { parent?: CommitRef; description?: string },
  ): Promise<Commit>;
  /**
   * FinishCommit: the commit becomes immutable: FINISHING at once (writes into it by id are then
   * refused, "has already finished"; it is a valid parent for the next commit), FINISHED after
   * the adapter's finishing window (a real pachd compacts and validates it first; the embedded
   * engine's window is 0 unless `finishingWindowMs` is set). `error` finishes it in an errored
   * state (CommitInfo.error).
   * @throws FAILED_PRECONDITION "commit X has already finished"; NOT_FOUND.
   */
  finishCommit(
    commit: CommitRef,
    opts?: { description?: string; error?: string; force?: boolean },
  ): Promise<void>;
  /**
   * InspectCommit. `wait`: STARTED (default) returns at once; READY waits until every
   * direct-provenance commit is finished; FINISHING / FINISHED wait until that state.
   * @throws NOT_FOUND "commit X not found"; CANCELLED when `signal` aborts a wait.
   */
  inspectCommit(
    commit: CommitRef,
    opts?: { wait?: CommitState } & Cancellable,
  ): Promise<CommitInfo>;
  /** ListCommit of a repo: newest first (by start order), `reverse` = oldest first. */
  listCommit(repo: RepoRef, opts?: ListCommitOptions): AsyncIterable<CommitInfo>;
  /**
   * SubscribeCommit: replays every existing commit of the repo (after `from`, see there), oldest
   * first, then streams new ones; each commit is delivered exactly once, when it has reached `state`, in start order.
   * Never ends by itself (see {@link Cancellable}).
   */
  subscribeCommit(repo: RepoRef, opts?: SubscribeCommitOptions): AsyncIterable<CommitInfo>;
  /**
   * InspectCommitSet: every commit of the commit set `id` (one per repo), in provenance order
   * (upstream first). `wait` waits until each is finished.
   * @throws NOT_FOUND "commit set X not found".
   */
  inspectCommitSet(id: string, opts?: { wait?: boolean } & Cancellable): AsyncIterable<CommitInfo>;

  // ----- files --------------------------------------------------------------------------------

  /**
   * ModifyFile: apply `ops` in order as ONE atomic modification. `commit` is an open commit, or a
   * branch head: if the head is open the ops go into it; if it is finished or the branch does not
   * exist, a one-off commit is made (start, apply, finish), as `pachctl put file repo@master` does.
   * Returns the commit written into.
   * @throws FAILED_PRECONDITION "commit X has already finished" for a finished commit id;
   *   FAILED_PRECONDITION for a pipeline output branch; NOT_FOUND for repo / copy source;
   *   INVALID_ARGUMENT for a bad path. On error nothing of the call is applied.
   */
  modifyFile(commit: CommitRef, ops: FileOp[]): Promise<Commit>;
  /**
   * GetFile: the content of one file, as chunks (≤ 1 MiB each in the embedded engine).
   * `offset` skips that many bytes. @throws NOT_FOUND "file P not found in repo R at commit C";
   * INVALID_ARGUMENT when the path is a directory.
   */
  getFile(file: FileRef, opts?: { offset?: number }): AsyncIterable<Buffer>;
  /** Convenience: the whole content of one file (same errors as {@link getFile}). */
  readFile(file: FileRef): Promise<Buffer>;
  /**
   * ListFile: the direct children of a directory (`"/"` = root), sorted by path; directories have
   * `fileType` DIR and a trailing `/`. A file path lists that one file.
   * `paginationMarker`: only entries after this path. @throws NOT_FOUND for a missing path.
   */
  listFile(
    file: FileRef,
    opts?: { paginationMarker?: string; number?: number; reverse?: boolean },
  ): AsyncIterable<FileInfo>;
  /** InspectFile: one file or directory. @throws NOT_FOUND "file P not found in repo R at commit C". */
  inspectFile(file: FileRef): Promise<FileInfo>;
  /** WalkFile: every file and directory under `file.path` (itself included), depth first, sorted. */
  walkFile(file: FileRef): AsyncIterable<FileInfo>;
  /**
   * GlobFile: files and directories matching `pattern` (Pachyderm globs: `*` within a segment,
   * `**` across segments, `?`, `[…]`), sorted by path.
   */
  globFile(commit: CommitRef, pattern: string): AsyncIterable<FileInfo>;

  // ----- pipelines ----------------------------------------------------------------------------

  /**
   * CreatePipelineV2: `spec` is a Pachyderm 2.x JSON pipeline spec (string or parsed object,
   * camelCase or snake_case). Defaults are applied; the output (`user`), `spec` and `meta` repos
   * are created; a job starts right away. Returns the effective spec as camelCase JSON.
   * @throws INVALID_ARGUMENT naming the field; ALREADY_EXISTS "pipeline X already exists"
   *   unless `update`.
   */
  createPipeline(
    spec: string | object,
    opts?: { update?: boolean; reprocess?: boolean; dryRun?: boolean },
  ): Promise<{ effectiveCreatePipelineRequestJson: string }>;
  /** InspectPipeline. @throws NOT_FOUND `pipeline "X" not found`. */
  inspectPipeline(pipeline: PipelineRef): Promise<PipelineInfo>;
  /** ListPipeline, sorted by project then name. `history` as pachd (0 = current versions). */
  listPipeline(opts?: {
    pipeline?: PipelineRef;
    history?: number;
    projects?: ProjectRef[];
  }): AsyncIterable<PipelineInfo>;
  /** DeletePipeline (and its repos unless `keepRepo`). @throws NOT_FOUND when `mustExist`. */
  deletePipeline(
    pipeline: PipelineRef,
    opts?: { force?: boolean; keepRepo?: boolean; mustExist?: boolean },
  ): Promise<void>;
  /** StopPipeline: no new jobs until started again (state PAUSED). */
  stopPipeline(pipeline: PipelineRef, opts?: { mustExist?: boolean }): Promise<void>;
  /** StartPipeline: undo {@link stopPipeline}. */
  startPipeline(pipeline: PipelineRef): Promise<void>;

  // ----- jobs, datums, logs -------------------------------------------------------------------

  /** ListJob: newest first (creation order); see {@link ListJobOptions}. */
  listJob(opts?: ListJobOptions): AsyncIterable<JobInfo>;
  /** InspectJob; `wait` blocks until a terminal state. @throws NOT_FOUND "job X not found". */
  inspectJob(job: JobRef, opts?: { wait?: boolean } & Cancellable): Promise<JobInfo>;
  /**
   * SubscribeJob: the pipeline's non-terminal jobs, oldest first, then new ones; each job is sent
   * once (when first seen). Never ends by itself.
   */
  subscribeJob(pipeline: PipelineRef, opts?: Cancellable): AsyncIterable<JobInfo>;
  /**
   * Every state change of every job (or of one pipeline's jobs) from now on: each event is the
   * job's JobInfo right after the change. A reelgraph extension (Pachyderm's SubscribeJob sends each
   * job once only): a gRPC adapter builds it from SubscribeJob + InspectJob{wait} or by polling
   * ListJob. Never ends by itself.
   */
  watchJobs(opts?: { pipeline?: PipelineRef } & Cancellable): AsyncIterable<JobInfo>;
  /**
   * StopJob: a job that is not terminal becomes JOB_KILLED (its user code is killed; its output
   * commit is finished with the error `reason`).
   * @throws NOT_FOUND "job X not found"; FAILED_PRECONDITION "job X has already finished".
   */
  stopJob(job: JobRef, opts?: { reason?: string }): Promise<void>;
  /** ListDatum of a job, sorted by datum id. @throws NOT_FOUND for the job. */
  listDatum(job: JobRef, opts?: ListDatumOptions): AsyncIterable<DatumInfo>;
  /** InspectDatum. @throws NOT_FOUND "datum X not found". */
  inspectDatum(datum: DatumRef): Promise<DatumInfo>;
  /** GetLogs of a pipeline, job or datum, oldest first; `follow` keeps streaming. */
  getLogs(opts: GetLogsOptions): AsyncIterable<LogMessage>;

  // ----- lifecycle ----------------------------------------------------------------------------

  /** Release resources; open subscriptions end, later calls fail with UNAVAILABLE. */
  close(): Promise<void>;
}
