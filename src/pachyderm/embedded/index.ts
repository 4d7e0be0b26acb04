/**
 * The embedded adapter of the Pachyderm port: Pachyderm's PFS and PPS in one process, on disk
 * under one data directory.
 *
 * ```
 * <dataDir>/
 *   meta.sqlite (+ -wal, -shm)   metadata: projects, repos, branches, commits, file layers, blobs
 *                                (PFS, pfs-schema.ts) and the PPS tables (pps engineer's schema)
 *   objects/<2 hex>/<64 hex>     content-addressed packs of file contents (blobstore.ts)
 *   objects/tmp/                 packs being written (removed on open once their writer is gone)
 *   writer.pid                   the writing process's lock (lock.ts): one writer per directory
 * ```
 *
 * PFS methods are implemented by {@link Pfs} (pfs.ts); PPS methods are delegated to a
 * {@link PpsApi} (pps.ts), given to {@link EmbeddedPachyderm.open} — until one is, they throw
 * UNIMPLEMENTED. For the PPS half, the class offers an internal API (marked "internal" below):
 * commit-finished events, AUTO output commits with a given id (the commit-set / job id) and
 * provenance, datum-tagged writes, and finishing with an error.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { PachCode, PachError, unavailable, unimplemented } from '../errors';
import type {
  Cancellable,
  FileOp,
  GetLogsOptions,
  ListCommitOptions,
  ListDatumOptions,
  ListJobOptions,
  Pachyderm,
  SubscribeCommitOptions,
} from '../port';
import {
  type BranchRef,
  type CommitRef,
  type DatumRef,
  type FileRef,
  type JobRef,
  type PipelineRef,
  type ProjectRef,
  type RepoRef,
  toBranch,
  toCommit,
} from '../refs';
import {
  type BranchInfo,
  type Commit,
  type CommitInfo,
  CommitState,
  type DatumInfo,
  type FileInfo,
  type JobInfo,
  type LogMessage,
  OriginKind,
  type PipelineInfo,
  type ProjectInfo,
  type RepoInfo,
  type RepoType,
} from '../types';
import { BlobStore } from './blobstore';
import { type Db, migrate, openDatabase } from './db';
import { type CommitEvent, type FileEntry, type InternalFileOp, Pfs } from './pfs';
import { PFS_MIGRATIONS } from './pfs-schema';
import { acquireWriterLock } from './lock';
import { DEFAULT_MIN_FREE_BYTES, StorageGuard } from './storage';
import { deferred } from './stream';

export type { CommitEvent, FileEntry, InternalFileOp };

/** The PPS methods of the port, implemented by the PPS half (pps.ts), plus its lifecycle. */
export type PpsApi = Pick<
  Pachyderm,
  | 'createPipeline'
  | 'inspectPipeline'
  | 'listPipeline'
  | 'deletePipeline'
  | 'stopPipeline'
  | 'startPipeline'
  | 'listJob'
  | 'inspectJob'
  | 'subscribeJob'
  | 'watchJobs'
  | 'stopJob'
  | 'listDatum'
  | 'inspectDatum'
  | 'getLogs'
> & {
  /** Stop running jobs and listeners; called by {@link EmbeddedPachyderm.close}. */
  close(): Promise<void>;
};

/** Options of {@link EmbeddedPachyderm.open}. */
export interface EmbeddedOptions {
  /** Open for reading only (e.g. the CLI next to a running server): no migration, no writes. */
  readonly?: boolean;
  /**
   * How long a finished commit stays FINISHING before it is FINISHED, in milliseconds (default 0:
   * at once). A real pachd has such a window (compaction and validation after FinishCommit) and
   * refuses writes into the commit during it; the pachd stand-in turns it on so that clients
   * are tested against it (`reelgraph pachd --finishing-window-ms`).
   */
  finishingWindowMs?: number;
  /** Builds the PPS half once the PFS half is open (it may add its own migrations to `db`). */
  pps?: (engine: EmbeddedPachyderm) => PpsApi | Promise<PpsApi>;
  /**
   * The free-space floor, bytes: below it new commits and file modifications are refused with
   * StorageFullError (storage.ts). Default: `REELGRAPH_MIN_FREE_BYTES`, else 32 MiB; 0: none.
   */
  minFreeBytes?: number;
}

/**
 * The floor from `REELGRAPH_MIN_FREE_BYTES` (a whole number of bytes), else the default.
 * @throws PachError INVALID_ARGUMENT naming the variable when it is not a whole number
 */
export function minFreeBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.REELGRAPH_MIN_FREE_BYTES?.trim();
  if (v === undefined || v === '') return DEFAULT_MIN_FREE_BYTES;
  if (!/^\d+$/.test(v)) {
    throw new PachError(
      PachCode.INVALID_ARGUMENT,
      `REELGRAPH_MIN_FREE_BYTES=${JSON.stringify(v)}: expected a whole number of bytes (0: no floor)`,
    );
  }
  return Number(v);
}

/** File name of the metadata database inside the data directory. */
export const DB_FILE = 'meta.sqlite';
/** Directory of the blob store inside the data directory. */
export const OBJECTS_DIR = 'objects';

/** The embedded Pachyderm engine. Create it with {@link EmbeddedPachyderm.open}. */
export class EmbeddedPachyderm implements Pachyderm {
  private pps?: PpsApi;
  private closed = false;

  /** The storage guard: free-space floor, disk-full errors, status (storage.ts). */
  readonly storage: StorageGuard;

  private constructor(
    /** The data directory. */
    readonly dataDir: string,
    /** The SQLite handle (internal: the PPS half adds its tables with its own migrations). */
    readonly db: Db,
    /** The PFS half (internal). */
    readonly pfs: Pfs,
    private readonly unlock: () => void,
    minFreeBytes: number,
  ) {
    this.storage = new StorageGuard(dataDir, minFreeBytes);
  }

  /**
   * Open (creating if needed) the engine on `dataDir`: takes the writer lock (unless `readonly`),
   * migrates the PFS schema, removes the blob store's leftovers (temporary files of
   * dead writers, packs no metadata references), then builds the PPS half if
   * `options.pps` is given.
   * @throws PachError FAILED_PRECONDITION when another live process writes the directory; Error
   *   when the directory or database cannot be opened
   */
  static async open(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedPachyderm> {
    const dir = path.resolve(dataDir);
    if (!options.readonly) await fsp.mkdir(dir, { recursive: true });
    const unlock = options.readonly ? () => undefined : acquireWriterLock(dir);
    let db: Db;
    try {
      db = openDatabase(path.join(dir, DB_FILE), { readonly: options.readonly });
    } catch (e) {
      unlock();
      throw e;
    }
    try {
      if (!options.readonly) migrate(db, 'pfs', PFS_MIGRATIONS);
      const blobs = await BlobStore.open(path.join(dir, OBJECTS_DIR), {
        readonly: options.readonly,
      });
      const pfs = new Pfs(db, blobs);
      pfs.finishingWindowMs = Math.max(0, options.finishingWindowMs ?? 0);
      // Holding the writer lock first in this process: no write can be in flight, so packs that
      // no metadata references are leftovers of failed or interrupted modifications.
      if (!options.readonly && (unlock as { first?: boolean }).first) {
        await blobs.removeUnreferenced((pack) => pfs.isPackReferenced(pack));
      }
      // commits a dead process left FINISHING: their window ended with it
      if (!options.readonly) pfs.finishLeftovers();
      const engine = new EmbeddedPachyderm(
        dir,
        db,
        pfs,
        unlock,
        options.minFreeBytes ?? minFreeBytesFromEnv(),
      );
      if (options.pps) engine.pps = await options.pps(engine);
      return engine;
    } catch (e) {
      db.close();
      unlock();
      throw e;
    }
  }

  private live(): Pfs {
    if (this.closed) throw unavailable('the embedded Pachyderm engine is closed');
    return this.pfs;
  }

  private ppsApi(method: string): PpsApi {
    if (this.closed) throw unavailable('the embedded Pachyderm engine is closed');
    if (!this.pps) throw unimplemented(`${method} (no PPS in this embedded engine)`);
    return this.pps;
  }

  // ----- internal API for the PPS half --------------------------------------------------------

  /**
   * Internal: call `listener` after every commit start and finish (after the transaction is
   * committed). Returns a function that removes the listener.
   */
  onCommit(listener: (ev: CommitEvent) => void): () => void {
    this.pfs.events.on('commit', listener);
    return () => this.pfs.events.off('commit', listener);
  }

  /**
   * Internal: call `listener` after every commit finish (with or without error).
   * Returns a function that removes the listener.
   */
  onCommitFinished(listener: (ev: CommitEvent) => void): () => void {
    return this.onCommit((ev) => {
      if (ev.kind === 'finished') listener(ev);
    });
  }

  /**
   * Internal: start an AUTO commit on `branch` (an output branch is allowed) with the given `id`
   * (a commit-set / job id; a new one when omitted) and direct `provenance` (the input commits).
   * Its parent is the branch head, which must be finished. `floor: false` skips the free-space
   * floor (a job that ends without output, e.g. KILLED, still gets its errored commit).
   * @throws FAILED_PRECONDITION "parent commit X has not been finished"; ALREADY_EXISTS when
   *   the repo has a commit with that id; NOT_FOUND for the repo or a provenance commit
   */
  async startOutputCommit(
    branch: BranchRef,
    opts: { id?: string; provenance?: CommitRef[]; description?: string; floor?: boolean } = {},
  ): Promise<Commit> {
    const pfs = this.live();
    const b = toBranch(branch);
    const row = await this.storage.write(
      () =>
        pfs.tx(() =>
          pfs.startCommitTx(b, {
            origin: OriginKind.AUTO,
            id: opts.id,
            provenance: (opts.provenance ?? []).map((c) => toCommit(c)),
            description: opts.description,
          }),
        ),
      opts.floor ?? true,
    );
    return pfs.commitOf(row);
  }

  /**
   * Internal: apply file operations to an open commit or branch head without the output-branch
   * check; supports `{op: 'put' | 'append', path, fromPath, datum}` (content streamed from a local
   * file) and `{op: 'deleteDatum', datum}` (remove every file that datum wrote). One atomic
   * modification, as {@link modifyFile}.
   */
  async modifyFileInternal(commit: CommitRef, ops: readonly InternalFileOp[]): Promise<Commit> {
    const pfs = this.live();
    return this.storage.write(() => pfs.modifyFile(commit, ops, true));
  }

  /**
   * Internal: finish a commit, optionally with an `error`. With `validateDatums`, a path written
   * by two different datums finishes it with the error "duplicate path output by different
   * datums: P" (pachyderm `fileset/validator.go`). Returns the finished commit's info.
   * @throws FAILED_PRECONDITION "commit X has already finished"
   */
  async finishCommitInternal(
    commit: CommitRef,
    opts: { error?: string; description?: string; validateDatums?: boolean } = {},
  ): Promise<CommitInfo> {
    const pfs = this.live();
    const c = toCommit(commit);
    // finishing needs no new space to speak of: no floor, so started work can end
    const row = await this.storage.write(
      () => pfs.tx(() => pfs.finishCommitTx(pfs.resolveCommit(c), opts)),
      false,
    );
    return pfs.commitInfo(row);
  }

  /** Internal: every file of a commit (path, datum, content hash, size), sorted by path then datum. */
  async commitFiles(commit: CommitRef): Promise<FileEntry[]> {
    return this.live().entries(toCommit(commit));
  }

  // ----- projects -----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createProject} */
  async createProject(project: ProjectRef, opts?: { description?: string; update?: boolean }) {
    const pfs = this.live();
    await this.storage.write(() => pfs.createProject(project, opts), false);
  }
  /** {@inheritDoc Pachyderm.inspectProject} */
  async inspectProject(project: ProjectRef): Promise<ProjectInfo> {
    return this.live().inspectProject(project);
  }
  /** {@inheritDoc Pachyderm.listProject} */
  listProject(): AsyncIterable<ProjectInfo> {
    return deferred(() => this.live().listProject());
  }
  /** {@inheritDoc Pachyderm.deleteProject} */
  async deleteProject(project: ProjectRef, opts?: { force?: boolean }) {
    const pfs = this.live();
    await this.storage.write(() => pfs.deleteProject(project, opts), false);
  }

  // ----- repos --------------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createRepo} */
  async createRepo(repo: RepoRef, opts?: { description?: string; update?: boolean }) {
    const pfs = this.live();
    await this.storage.write(() => pfs.createRepo(repo, opts), false);
  }
  /** {@inheritDoc Pachyderm.inspectRepo} */
  async inspectRepo(repo: RepoRef): Promise<RepoInfo> {
    return this.live().inspectRepo(repo);
  }
  /** {@inheritDoc Pachyderm.listRepo} */
  listRepo(opts?: { type?: RepoType | ''; projects?: ProjectRef[] }): AsyncIterable<RepoInfo> {
    return deferred(() => this.live().listRepo(opts));
  }
  /** {@inheritDoc Pachyderm.deleteRepo} */
  async deleteRepo(repo: RepoRef, opts?: { force?: boolean }): Promise<{ deleted: boolean }> {
    const pfs = this.live();
    return this.storage.write(() => pfs.deleteRepo(repo, opts), false);
  }

  // ----- branches -----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createBranch} */
  async createBranch(
    branch: BranchRef,
    opts?: { head?: CommitRef; provenance?: BranchRef[]; newCommitSet?: boolean },
  ) {
    const pfs = this.live();
    await this.storage.write(() => pfs.createBranch(branch, opts), false);
  }
  /** {@inheritDoc Pachyderm.inspectBranch} */
  async inspectBranch(branch: BranchRef): Promise<BranchInfo> {
    return this.live().inspectBranch(branch);
  }
  /** {@inheritDoc Pachyderm.listBranch} */
  listBranch(repo: RepoRef, opts?: { reverse?: boolean }): AsyncIterable<BranchInfo> {
    return deferred(() => this.live().listBranch(repo, opts));
  }
  /** {@inheritDoc Pachyderm.deleteBranch} */
  async deleteBranch(branch: BranchRef, opts?: { force?: boolean }) {
    const pfs = this.live();
    await this.storage.write(() => pfs.deleteBranch(branch, opts), false);
  }

  // ----- commits ------------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.startCommit} */
  async startCommit(
    branch: BranchRef,
    opts?: { parent?: CommitRef; description?: string },
  ): Promise<Commit> {
    const pfs = this.live();
    return this.storage.write(() => pfs.startCommit(branch, opts));
  }
  /** {@inheritDoc Pachyderm.finishCommit} */
  async finishCommit(
    commit: CommitRef,
    opts?: { description?: string; error?: string; force?: boolean },
  ) {
    const pfs = this.live();
    await this.storage.write(() => pfs.finishCommit(commit, opts), false);
  }
  /** {@inheritDoc Pachyderm.inspectCommit} */
  async inspectCommit(
    commit: CommitRef,
    opts?: { wait?: CommitState } & Cancellable,
  ): Promise<CommitInfo> {
    return this.live().inspectCommit(commit, opts);
  }
  /** {@inheritDoc Pachyderm.listCommit} */
  listCommit(repo: RepoRef, opts?: ListCommitOptions): AsyncIterable<CommitInfo> {
    return deferred(() => this.live().listCommit(repo, opts));
  }
  /** {@inheritDoc Pachyderm.subscribeCommit} */
  subscribeCommit(repo: RepoRef, opts?: SubscribeCommitOptions): AsyncIterable<CommitInfo> {
    return deferred(() => this.live().subscribeCommit(repo, opts));
  }
  /** {@inheritDoc Pachyderm.inspectCommitSet} */
  inspectCommitSet(id: string, opts?: { wait?: boolean } & Cancellable): AsyncIterable<CommitInfo> {
    return deferred(() => this.live().inspectCommitSet(id, opts));
  }

  // ----- files --------------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.modifyFile} */
  async modifyFile(commit: CommitRef, ops: FileOp[]): Promise<Commit> {
    const pfs = this.live();
    return this.storage.write(() => pfs.modifyFile(commit, ops, false));
  }
  /** {@inheritDoc Pachyderm.getFile} */
  getFile(file: FileRef, opts?: { offset?: number }): AsyncIterable<Buffer> {
    return deferred(() => this.live().getFile(file, opts));
  }
  /** {@inheritDoc Pachyderm.readFile} */
  async readFile(file: FileRef): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.getFile(file)) chunks.push(c);
    return Buffer.concat(chunks);
  }
  /** {@inheritDoc Pachyderm.listFile} */
  listFile(
    file: FileRef,
    opts?: { paginationMarker?: string; number?: number; reverse?: boolean },
  ): AsyncIterable<FileInfo> {
    return deferred(() => this.live().listFile(file, opts));
  }
  /** {@inheritDoc Pachyderm.inspectFile} */
  async inspectFile(file: FileRef): Promise<FileInfo> {
    return this.live().inspectFile(file);
  }
  /** {@inheritDoc Pachyderm.walkFile} */
  walkFile(file: FileRef): AsyncIterable<FileInfo> {
    return deferred(() => this.live().walkFile(file));
  }
  /** {@inheritDoc Pachyderm.globFile} */
  globFile(commit: CommitRef, pattern: string): AsyncIterable<FileInfo> {
    return deferred(() => this.live().globFile(commit, pattern));
  }

  // ----- PPS (delegated) ----------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createPipeline} */
  async createPipeline(
    spec: string | object,
    opts?: { update?: boolean; reprocess?: boolean; dryRun?: boolean },
  ): Promise<{ effectiveCreatePipelineRequestJson: string }> {
    return this.storage.write(
      () => this.ppsApi('createPipeline').createPipeline(spec, opts),
      false,
    );
  }
  /** {@inheritDoc Pachyderm.inspectPipeline} */
  async inspectPipeline(pipeline: PipelineRef): Promise<PipelineInfo> {
    return this.ppsApi('inspectPipeline').inspectPipeline(pipeline);
  }
  /** {@inheritDoc Pachyderm.listPipeline} */
  listPipeline(opts?: {
    pipeline?: PipelineRef;
    history?: number;
    projects?: ProjectRef[];
  }): AsyncIterable<PipelineInfo> {
    return deferred(() => this.ppsApi('listPipeline').listPipeline(opts));
  }
  /** {@inheritDoc Pachyderm.deletePipeline} */
  async deletePipeline(
    pipeline: PipelineRef,
    opts?: { force?: boolean; keepRepo?: boolean; mustExist?: boolean },
  ) {
    return this.storage.write(
      () => this.ppsApi('deletePipeline').deletePipeline(pipeline, opts),
      false,
    );
  }
  /** {@inheritDoc Pachyderm.stopPipeline} */
  async stopPipeline(pipeline: PipelineRef, opts?: { mustExist?: boolean }) {
    return this.storage.write(
      () => this.ppsApi('stopPipeline').stopPipeline(pipeline, opts),
      false,
    );
  }
  /** {@inheritDoc Pachyderm.startPipeline} */
  async startPipeline(pipeline: PipelineRef) {
    return this.storage.write(() => this.ppsApi('startPipeline').startPipeline(pipeline), false);
  }
  /** {@inheritDoc Pachyderm.listJob} */
  listJob(opts?: ListJobOptions): AsyncIterable<JobInfo> {
    return deferred(() => this.ppsApi('listJob').listJob(opts));
  }
  /** {@inheritDoc Pachyderm.inspectJob} */
  async inspectJob(job: JobRef, opts?: { wait?: boolean } & Cancellable): Promise<JobInfo> {
    return this.ppsApi('inspectJob').inspectJob(job, opts);
  }
  /** {@inheritDoc Pachyderm.subscribeJob} */
  subscribeJob(pipeline: PipelineRef, opts?: Cancellable): AsyncIterable<JobInfo> {
    return deferred(() => this.ppsApi('subscribeJob').subscribeJob(pipeline, opts));
  }
  /** {@inheritDoc Pachyderm.listDatum} */
  listDatum(job: JobRef, opts?: ListDatumOptions): AsyncIterable<DatumInfo> {
    return deferred(() => this.ppsApi('listDatum').listDatum(job, opts));
  }
  /** {@inheritDoc Pachyderm.inspectDatum} */
  async inspectDatum(datum: DatumRef): Promise<DatumInfo> {
    return this.ppsApi('inspectDatum').inspectDatum(datum);
  }
  /** {@inheritDoc Pachyderm.getLogs} */
  getLogs(opts: GetLogsOptions): AsyncIterable<LogMessage> {
    return deferred(() => this.ppsApi('getLogs').getLogs(opts));
  }
  watchJobs(opts?: { pipeline?: PipelineRef } & Cancellable): AsyncIterable<JobInfo> {
    return deferred(() => this.ppsApi('watchJobs').watchJobs(opts));
  }
  async stopJob(job: JobRef, opts?: { reason?: string }): Promise<void> {
    return this.storage.write(() => this.ppsApi('stopJob').stopJob(job, opts), false);
  }

  // ----- lifecycle ----------------------------------------------------------------------------

  /** Close the PPS half, wake and end every wait and subscription, close the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pps?.close();
    } finally {
      this.pfs.close();
      this.db.close();
      this.unlock();
    }
  }
}

export { Pfs };
