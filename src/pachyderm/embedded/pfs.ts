/**
 * The embedded engine's PFS: projects, repos, branches, commits and files on SQLite metadata and a
 * content-addressed blob store, with Pachyderm 2.x semantics (shared/pachyderm-api.md §2.2–2.4;
 * pachyderm/pachyderm `src/server/pfs/server/driver.go`, `server_commit.go`, `api_server.go`).
 *
 * Atomicity: every call that changes metadata runs in ONE SQLite transaction (WAL, synchronous
 * FULL), after the blobs it references were made durable (blobstore.ts). A commit made by one
 * call (auto-commit) is therefore wholly there or absent after a crash, and an acknowledged call
 * survives `kill -9`.
 *
 * Files: a commit's file set is its parent's set plus the commit's own rows in `pfs_files` (a
 * delta layer with tombstones); every {@link MAX_DEPTH} layers, finishing a commit writes its full
 * set (a snapshot) so that reads never merge more than `MAX_DEPTH + 1` layers. Starting a commit
 * copies nothing.
 *
 * Events: after each transaction, `events` emits `"commit"` with a {@link CommitEvent} (started
 * and finished) and `changed` wakes waiters; subscriptions and waits are driven by them, never by
 * polling.
 *
 * Files of this module: pfs.ts (the database handle, prepared statements, transactions and
 * events, commits, modifications), pfs-files.ts (file layers and reads), pfs-metadata.ts
 * (projects, repos, branches, row shapes); {@link Pfs} extends PfsFiles extends PfsMetadata.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, setMaxListeners } from 'node:events';
import {
  PachCode,
  PachError,
  alreadyExists,
  branchNotFound,
  commitAlreadyFinished,
  commitNotFound,
  commitSetNotFound,
  fileNotFound,
  invalidArgument,
  outputBranchCommit,
  parentNotFinished,
} from '../errors';
import type { FileOp, ListCommitOptions, SubscribeCommitOptions } from '../port';
import {
  type BranchRef,
  type CommitRef,
  type RepoRef,
  commitString,
  isCommitId,
  normalizePath,
  repoString,
  toBranch,
  toCommit,
  toFile,
  toRepo,
} from '../refs';
import {
  type Branch,
  type Commit,
  type CommitInfo,
  CommitState,
  DEFAULT_DATUM,
  OriginKind,
  type Repo,
} from '../types';
import { type BlobLocation, type BlobSource, BlobStore } from './blobstore';
import type { Db } from './db';
import { COMMITS_ASC_SQL, COMMITS_DESC_SQL, nextSeq, pagedBySeq } from './history-queries';
import { Signal, cancellable, waitFor } from './stream';
import { PfsFiles, date } from './pfs-files';
import type { BranchRow, CommitRow } from './pfs-metadata';

/** Delta layers allowed above a full snapshot before finishing a commit compacts it. */
export const MAX_DEPTH = 16;

/** A commit state change, emitted as `"commit"` on {@link Pfs.events} after it is committed. */
export interface CommitEvent {
  /**
   * `finishing`: FinishCommit (or an auto-commit) was accepted, writes are refused from now on;
   * `finished`: the commit is complete (after the finishing window, see
   * {@link Pfs.finishingWindowMs}; at once when the window is 0).
   */
  kind: 'started' | 'finishing' | 'finished';
  repo: Repo;
  /** The branch the commit was created on (null if none). */
  branch: string | null;
  /** Commit id (32 hex). */
  id: string;
  origin: OriginKind;
  /** Non-empty when the commit was finished with an error. */
  error: string;
  /** Start order of the commit (internal, increasing). */
  seq: number;
}

/**
 * File operations accepted by the internal write path: the public {@link FileOp}s, plus content
 * read from a local file (`fromPath`, streamed) and `deleteDatum` (remove every file a datum wrote).
 */
export type InternalFileOp =
  | FileOp
  | { op: 'put' | 'append'; path: string; fromPath: string; datum?: string }
  | { op: 'deleteDatum'; datum: string };

/** One resolved file of a commit: a path written by one datum. */
export interface FileEntry {
  path: string;
  datum: string;
  /** Blob hashes whose concatenation is the content. */
  parts: string[];
  size: number;
  /** SHA-256 of the content (hex). */
  hash: string;
}

const newId = (): string => randomUUID().replace(/-/g, '');
const ANCESTRY_RE = /^(.*?)((?:[\^~]\d*)+)$/;

/** The PFS half of the embedded engine. */
export class Pfs extends PfsFiles {
  /** Emits `"commit"` with a {@link CommitEvent} after every commit start and finish. */
  readonly events = new EventEmitter();
  /** Notified after every transaction that changed commits (wakes waits and subscriptions). */
  readonly changed = new Signal();
  private pending: CommitEvent[] = [];
  private inTx = false;
  /**
   * How long a commit stays FINISHING (`finishing` set, `finished` not yet) after FinishCommit or
   * an auto-commit, in milliseconds; 0 (default) finishes at once. A real pachd sets `finishing`
   * in FinishCommit's transaction and `finished` only after its PFS master has compacted and
   * validated the commit (2.12 `server_commit.go` finishCommit, `master.go`), and refuses writes
   * in between ("commit X has already finished"); a window > 0 makes the stand-in do the same.
   */
  finishingWindowMs = 0;
  /**
   * Called inside the transaction that ends a commit's finishing window, with the commit's repo
   * and its row (now FINISHED), before the `finished` event: pachd's PFS master finishes the job
   * of a pipeline's output commit in that same transaction (2.12 `master.go` finishCommit →
   * `txnCtx.FinishJob` → PPS `JobFinisher`: FINISHING → SUCCESS, or FAILURE with the commit's
   * error). Set by the PPS half (pps.ts); null when none listens.
   */
  onFinishedTx: ((repo: Repo, row: CommitRow) => void) | null = null;
  private readonly finishTimers = new Set<NodeJS.Timeout>();
  private readonly closing = new AbortController();
  /** Bytes added to the commit being modified, applied once per modification. */
  private sizeDelta = 0;
  protected readonly st: ReturnType<Pfs['prepare']>;

  /**
   * @param db the migrated database (see pfs-schema.ts)
   * @param blobs the blob store
   */
  constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
  ) {
    super();
    this.events.setMaxListeners(0);
    // one listener per open subscription (each process's watches hold ~10): no leak warning
    setMaxListeners(0, this.closing.signal);
    this.st = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      project: db.prepare('SELECT * FROM pfs_projects WHERE name = ?'),
      repo: db.prepare('SELECT * FROM pfs_repos WHERE project = ? AND name = ? AND type = ?'),
      repoById: db.prepare('SELECT * FROM pfs_repos WHERE id = ?'),
      branch: db.prepare('SELECT * FROM pfs_branches WHERE repo_id = ? AND name = ?'),
      branchById: db.prepare('SELECT * FROM pfs_branches WHERE id = ?'),
      branchesOfRepo: db.prepare('SELECT * FROM pfs_branches WHERE repo_id = ? ORDER BY name'),
      branchProv: db.prepare(
        'SELECT prov_branch_id AS id FROM pfs_branch_provenance WHERE branch_id = ?',
      ),
      branchSubv: db.prepare(
        'SELECT branch_id AS id FROM pfs_branch_provenance WHERE prov_branch_id = ?',
      ),
      commitById: db.prepare('SELECT * FROM pfs_commits WHERE repo_id = ? AND id = ?'),
      commitBySeq: db.prepare('SELECT * FROM pfs_commits WHERE seq = ?'),
      children: db.prepare('SELECT * FROM pfs_commits WHERE parent_seq = ? ORDER BY seq'),
      commitProv: db.prepare(
        'SELECT c.* FROM pfs_commit_provenance p JOIN pfs_commits c ON c.seq = p.prov_seq WHERE p.commit_seq = ? ORDER BY c.seq',
      ),
      commitSubv: db.prepare(
        'SELECT c.* FROM pfs_commit_provenance p JOIN pfs_commits c ON c.seq = p.commit_seq WHERE p.prov_seq = ? ORDER BY c.seq',
      ),
      insertCommit: db.prepare(
        `INSERT INTO pfs_commits (repo_id, id, branch, parent_seq, origin, description, started, size_bytes, depth)
         VALUES (@repo_id, @id, @branch, @parent_seq, @origin, @description, @started, @size_bytes, @depth)`,
      ),
      insertProv: db.prepare(
        'INSERT OR IGNORE INTO pfs_commit_provenance (commit_seq, prov_seq) VALUES (?, ?)',
      ),
      setHead: db.prepare('UPDATE pfs_branches SET head_seq = ?, updated_at = ? WHERE id = ?'),
      insertBranch: db.prepare(
        'INSERT INTO pfs_branches (repo_id, name, head_seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      fileAt: db.prepare(
        `SELECT * FROM pfs_files WHERE path = ? AND commit_seq IN (SELECT value FROM json_each(?))
         ORDER BY datum, commit_seq DESC`,
      ),
      filesAtMany: db.prepare(
        `SELECT * FROM pfs_files WHERE commit_seq IN (SELECT value FROM json_each(?))
         AND path IN (SELECT value FROM json_each(?)) ORDER BY path, datum, commit_seq DESC`,
      ),
      blobsMany: db.prepare(
        'SELECT * FROM pfs_blobs WHERE hash IN (SELECT value FROM json_each(?))',
      ),
      filesAll: db.prepare(
        `SELECT * FROM pfs_files WHERE commit_seq IN (SELECT value FROM json_each(?))
         ORDER BY path, datum, commit_seq DESC`,
      ),
      filesRange: db.prepare(
        `SELECT * FROM pfs_files WHERE commit_seq IN (SELECT value FROM json_each(?))
         AND path > ? AND path < ? ORDER BY path, datum, commit_seq DESC`,
      ),
      putFile: db.prepare(
        'INSERT OR REPLACE INTO pfs_files (commit_seq, path, datum, parts, size, hash) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      dropFile: db.prepare('DELETE FROM pfs_files WHERE commit_seq = ? AND path = ? AND datum = ?'),
      blob: db.prepare('SELECT * FROM pfs_blobs WHERE hash = ?'),
      insertBlob: db.prepare(
        'INSERT OR IGNORE INTO pfs_blobs (hash, pack, offset, size) VALUES (?, ?, ?, ?)',
      ),
      addSize: db.prepare('UPDATE pfs_commits SET size_bytes = size_bytes + ? WHERE seq = ?'),
    };
  }

  // ===========================================================================================
  // transactions and events
  // ===========================================================================================

  /** Run `fn` in one SQLite transaction; queued commit events are emitted after it commits. */
  tx<T>(fn: () => T): T {
    if (this.inTx) return fn();
    this.inTx = true;
    let result: T;
    try {
      result = this.db.transaction(fn)();
    } catch (e) {
      this.pending = [];
      throw e;
    } finally {
      this.inTx = false;
    }
    const evs = this.pending;
    this.pending = [];
    if (evs.length > 0) {
      this.changed.notify();
      for (const ev of evs) this.events.emit('commit', ev);
    }
    return result;
  }

  private queue(kind: CommitEvent['kind'], row: CommitRow): void {
    this.pending.push({
      kind,
      repo: this.repoOf(row.repo_id),
      branch: row.branch,
      id: row.id,
      origin: row.origin as OriginKind,
      error: row.error,
      seq: row.seq,
    });
  }

  /** End every subscription and wait (they see an abort); the caller closes the database. */
  close(): void {
    for (const t of this.finishTimers) clearTimeout(t);
    this.finishTimers.clear();
    this.closing.abort();
    this.changed.notify();
  }

  /**
   * Throws CANCELLED "wait cancelled" once the engine is closing: the check of every wait (close()
   * notifies `changed`, so waiters wake up and see it). A wait is not given a signal combined with
   * the closing one: `AbortSignal.any` on a long-lived signal keeps a trace of every call in
   * Node 20, which would grow with every request ever waited for.
   */
  private checkOpen(): void {
    if (this.closing.signal.aborted) throw new PachError(PachCode.CANCELLED, 'wait cancelled');
  }

  // ===========================================================================================
  // commits
  // ===========================================================================================

  /** The proto-shaped {@link Commit} of a row. */
  commitOf(row: CommitRow): Commit {
    const repo = this.repoOf(row.repo_id);
    return { repo, id: row.id, branch: row.branch ? { repo, name: row.branch } : null };
  }

  /**
   * Resolve a commit reference: a 32-hex id, a branch head, with optional ancestry suffixes
   * (`master^`, `master^2`, `master~3`, `<id>^`: parents, as pachyderm `ancestry.Parse`).
   * @throws NOT_FOUND for a missing repo, branch, commit or ancestor
   */
  resolveCommit(commit: Commit): CommitRow {
    const repoRow = this.repoRow(commit.repo);
    let base = commit.id || commit.branch?.name || '';
    let up = 0;
    const m = ANCESTRY_RE.exec(base);
    if (m && m[1]) {
      base = m[1];
      for (const step of m[2].match(/[\^~]\d*/g) ?? []) {
        up += step.length > 1 ? Number(step.slice(1)) : 1;
      }
    }
    let row: CommitRow | undefined;
    if (isCommitId(base)) {
      row = this.st.commitById.get(repoRow.id, base) as CommitRow | undefined;
      if (!row) throw commitNotFound(`${repoString(commit.repo)}@${base}`);
    } else {
      const b = this.st.branch.get(repoRow.id, base) as BranchRow | undefined;
      if (!b) throw branchNotFound(`${repoString(commit.repo)}@${base}`);
      if (!b.head_seq) throw commitNotFound(`${repoString(commit.repo)}@${base}`);
      row = this.st.commitBySeq.get(b.head_seq) as CommitRow;
    }
    for (let i = 0; i < up; i++) {
      if (!row!.parent_seq)
        throw commitNotFound(`${repoString(commit.repo)}@${commit.id || commit.branch?.name}`);
      row = this.st.commitBySeq.get(row!.parent_seq) as CommitRow;
    }
    return row!;
  }

  /** The {@link CommitInfo} of a row. */
  commitInfo(row: CommitRow): CommitInfo {
    const parent = row.parent_seq ? (this.st.commitBySeq.get(row.parent_seq) as CommitRow) : null;
    return {
      commit: this.commitOf(row),
      origin: { kind: row.origin as OriginKind },
      description: row.description,
      parentCommit: parent ? this.commitOf(parent) : null,
      childCommits: (this.st.children.all(row.seq) as CommitRow[]).map((c) => this.commitOf(c)),
      started: new Date(row.started),
      finishing: date(row.finishing),
      finished: date(row.finished),
      directProvenance: (this.st.commitProv.all(row.seq) as CommitRow[]).map((c) =>
        this.commitOf(c),
      ),
      directSubvenance: (this.st.commitSubv.all(row.seq) as CommitRow[]).map((c) =>
        this.commitOf(c),
      ),
      error: row.error,
      sizeBytes: row.size_bytes,
      sizeBytesUpperBound: row.size_bytes,
    };
  }

  /**
   * Start a commit (inside a transaction). Checks: the branch's head must be finished; a USER
   * commit may not go to an output branch.
   */
  startCommitTx(
    branch: Branch,
    opts: {
      origin: OriginKind;
      id?: string;
      parent?: Commit;
      description?: string;
      provenance?: Commit[];
    },
  ): CommitRow {
    const repoRow = this.repoRow(branch.repo);
    const b = this.ensureBranch(repoRow, branch.name);
    if (opts.origin === OriginKind.USER && this.isOutputBranch(b.id)) throw outputBranchCommit();
    const head = b.head_seq ? (this.st.commitBySeq.get(b.head_seq) as CommitRow) : null;
    // pachd: a parent must be finishing (or finished), not open (2.12 server_commit.go startCommit)
    if (head && head.finishing === null) throw parentNotFinished(commitString(this.commitOf(head)));
    let parent = head;
    if (opts.parent) {
      parent = this.resolveCommit(opts.parent);
      if (parent.repo_id !== repoRow.id) {
        throw invalidArgument(`parent ${commitString(this.commitOf(parent))} is in another repo`);
      }
      if (parent.finishing === null) throw parentNotFinished(commitString(this.commitOf(parent)));
    }
    const id = opts.id ?? newId();
    if (!isCommitId(id))
      throw invalidArgument(`commit id ${JSON.stringify(id)} is invalid: expected 32 hex digits`);
    if (this.st.commitById.get(repoRow.id, id)) {
      throw alreadyExists('commit', `${repoString(branch.repo)}@${id}`);
    }
    const provRows = (opts.provenance ?? []).map((p) => this.resolveCommit(p));
    const info = this.st.insertCommit.run({
      repo_id: repoRow.id,
      id,
      branch: branch.name,
      parent_seq: parent?.seq ?? null,
      origin: opts.origin,
      description: opts.description ?? '',
      started: Date.now(),
      size_bytes: parent?.size_bytes ?? 0,
      depth: parent ? parent.depth + 1 : 0,
    });
    const seq = Number(info.lastInsertRowid);
    for (const p of provRows) this.st.insertProv.run(seq, p.seq);
    this.st.setHead.run(seq, Date.now(), b.id);
    const row = this.st.commitBySeq.get(seq) as CommitRow;
    this.queue('started', row);
    return row;
  }

  /**
   * Finish a commit (inside a transaction): set finishing/finished, compact its file layers
   * when deep, and with `validateDatums` fail it when two datums wrote the same path.
   * @throws FAILED_PRECONDITION "commit X has already finished"
   */
  finishCommitTx(
    row: CommitRow,
    opts: { description?: string; error?: string; validateDatums?: boolean } = {},
  ): CommitRow {
    if (row.finishing !== null) throw commitAlreadyFinished(commitString(this.commitOf(row)));
    let error = opts.error ?? '';
    if (!error && opts.validateDatums) {
      const dup = this.duplicatePath(row.seq);
      if (dup) error = `duplicate path output by different datums: ${dup}`;
    }
    if (row.depth >= MAX_DEPTH) this.compact(row);
    const now = Date.now();
    const window = this.finishingWindowMs;
    this.db
      .prepare(
        `UPDATE pfs_commits SET finishing = ?, finished = ?, error = ?,
         description = CASE WHEN ? IS NULL THEN description ELSE ? END WHERE seq = ?`,
      )
      .run(
        now,
        window > 0 ? null : now,
        error,
        opts.description ?? null,
        opts.description ?? null,
        row.seq,
      );
    const done = this.st.commitBySeq.get(row.seq) as CommitRow;
    if (window > 0) {
      this.queue('finishing', done);
      const seq = row.seq;
      const t = setTimeout(() => {
        this.finishTimers.delete(t);
        this.completeFinish(seq);
      }, window);
      this.finishTimers.add(t);
    } else {
      this.queue('finished', done);
    }
    return done;
  }

  /**
   * Ends the finishing window of commit `seq`: sets `finished` and emits `finished`. Does nothing
   * when the commit is gone, not finishing (its transaction rolled back) or already finished.
   */
  private completeFinish(seq: number): void {
    if (this.closing.signal.aborted) return;
    this.tx(() => {
      const row = this.st.commitBySeq.get(seq) as CommitRow | undefined;
      if (!row || row.finishing === null || row.finished !== null) return;
      this.db.prepare('UPDATE pfs_commits SET finished = ? WHERE seq = ?').run(Date.now(), seq);
      const done = this.st.commitBySeq.get(seq) as CommitRow;
      this.onFinishedTx?.(this.repoOf(done.repo_id), done);
      this.queue('finished', done);
    });
  }

  /**
   * Finishes every commit left FINISHING by an earlier process (its window timer died with it);
   * called once when the engine opens for writing. Returns how many there were.
   */
  finishLeftovers(): number {
    const rows = this.db
      .prepare('SELECT seq FROM pfs_commits WHERE finishing IS NOT NULL AND finished IS NULL')
      .all() as { seq: number }[];
    for (const r of rows) this.completeFinish(r.seq);
    return rows.length;
  }

  /** startCommit: the synchronous core of `Pachyderm.startCommit` (see port.ts for the contract). */
  startCommit(ref: BranchRef, opts: { parent?: CommitRef; description?: string } = {}): Commit {
    const branch = toBranch(ref);
    const row = this.tx(() =>
      this.startCommitTx(branch, {
        origin: OriginKind.USER,
        parent: opts.parent !== undefined ? toCommit(opts.parent) : undefined,
        description: opts.description,
      }),
    );
    return this.commitOf(row);
  }

  /** finishCommit: the synchronous core of `Pachyderm.finishCommit` (see port.ts for the contract). */
  finishCommit(ref: CommitRef, opts: { description?: string; error?: string } = {}): void {
    const commit = toCommit(ref);
    this.tx(() => this.finishCommitTx(this.resolveCommit(commit), opts));
  }

  /** The state a commit row has reached. */
  private stateOf(row: CommitRow): CommitState {
    if (row.finished !== null) return CommitState.FINISHED;
    if (row.finishing !== null) return CommitState.FINISHING;
    const prov = this.st.commitProv.all(row.seq) as CommitRow[];
    return prov.every((p) => p.finished !== null) ? CommitState.READY : CommitState.STARTED;
  }

  /** Wait until the commit `seq` reaches `state`; resolves with its info. */
  async waitCommit(seq: number, state: CommitState, abort?: AbortSignal): Promise<CommitInfo> {
    return waitFor(
      () => {
        this.checkOpen();
        const row = this.st.commitBySeq.get(seq) as CommitRow | undefined;
        if (!row) throw new PachError(PachCode.NOT_FOUND, `commit ${seq} was deleted`);
        return this.stateOf(row) >= state ? this.commitInfo(row) : undefined;
      },
      this.changed,
      abort,
    );
  }

  /** inspectCommit: the synchronous core of `Pachyderm.inspectCommit` (see port.ts for the contract). */
  async inspectCommit(
    ref: CommitRef,
    opts: { wait?: CommitState; signal?: AbortSignal } = {},
  ): Promise<CommitInfo> {
    const row = this.resolveCommit(toCommit(ref));
    const wait = opts.wait ?? CommitState.STARTED;
    if (wait <= CommitState.STARTED) return this.commitInfo(row);
    return this.waitCommit(row.seq, wait, opts.signal);
  }

  /**
   * listCommit: the synchronous core of `Pachyderm.listCommit` (see port.ts for the contract).
   * The repo and the `from` / `to` commits are resolved at once (their errors are thrown here);
   * the commits are then read lazily, a page at a time, newest first through the
   * `(repo_id, seq)` index: with `number` (or a consumer that stops early) the cost does not grow
   * with the history. A `to` bound walks the parents from `to` (the whole chain with `reverse`).
   */
  listCommit(repoRef: RepoRef, opts: ListCommitOptions = {}): Iterable<CommitInfo> {
    const repoRow = this.repoRow(toRepo(repoRef));
    const fromSeq = opts.from !== undefined ? this.resolveCommit(toCommit(opts.from)).seq : null;
    const toRow = opts.to !== undefined ? this.resolveCommit(toCommit(opts.to)) : undefined;
    return this.listCommitGen(repoRow.id, fromSeq, toRow, nextSeq(this.db, 'pfs_commits'), opts);
  }

  private *listCommitGen(
    repoId: number,
    fromSeq: number | null,
    toRow: CommitRow | undefined,
    before: number,
    opts: ListCommitOptions,
  ): Generator<CommitInfo> {
    const limit = opts.number && opts.number > 0 ? opts.number : Infinity;
    const t = opts.startedTime?.getTime();
    const wanted = (r: CommitRow) =>
      (!opts.originKind || r.origin === opts.originKind) && (t === undefined || r.started <= t);
    let rows: Iterable<CommitRow>;
    if (toRow) {
      const parents = this.ancestry(toRow, fromSeq);
      rows = opts.reverse ? [...parents].reverse() : parents;
    } else {
      rows = pagedBySeq<CommitRow>(
        this.db,
        opts.reverse ? COMMITS_ASC_SQL : COMMITS_DESC_SQL,
        [repoId],
        !opts.reverse,
        fromSeq ?? 0,
        before,
      );
    }
    let n = 0;
    for (const r of rows) {
      if (!wanted(r)) continue;
      yield this.commitInfo(r);
      if (++n >= limit) return;
    }
  }

  /** `row` and its ancestors, newest first, down to (excluding) the commit `stopSeq`. */
  private *ancestry(row: CommitRow, stopSeq: number | null): Generator<CommitRow> {
    let cur: CommitRow | undefined = row;
    while (cur && cur.seq !== stopSeq) {
      yield cur;
      cur = cur.parent_seq ? (this.st.commitBySeq.get(cur.parent_seq) as CommitRow) : undefined;
    }
  }

  /** SubscribeCommit: see the port. */
  subscribeCommit(repoRef: RepoRef, opts: SubscribeCommitOptions = {}): AsyncIterable<CommitInfo> {
    const repo = toRepo(repoRef);
    const repoRow = this.repoRow(repo);
    const state = opts.state ?? CommitState.STARTED;
    const fromSeq = opts.from !== undefined ? this.resolveCommit(toCommit(opts.from)).seq : null;
    return cancellable(
      (signal) => this.subscribeGen(signal, repo, repoRow.id, state, fromSeq, opts),
      [opts.signal, this.closing.signal],
    );
  }

  private async *subscribeGen(
    signal: AbortSignal,
    repo: Repo,
    repoId: number,
    state: CommitState,
    fromSeq: number | null,
    opts: SubscribeCommitOptions,
  ): AsyncGenerator<CommitInfo> {
    {
      // Listen first, then replay: a commit started in between is in both and is deduplicated.
      const queue: number[] = [];
      let last = 0;
      const wake = new Signal();
      const onCommit = (ev: CommitEvent) => {
        if (ev.kind === 'started' && ev.seq > last && sameRepo(ev.repo, repo)) {
          queue.push(ev.seq);
          last = ev.seq;
        }
        wake.notify();
      };
      this.events.on('commit', onCommit);
      try {
        // the replay starts after `from` (the proto's meaning of `from`): a resubscription
        // costs what came since, not the whole history
        const existing = this.db
          .prepare('SELECT seq FROM pfs_commits WHERE repo_id = ? AND seq > ? ORDER BY seq')
          .all(repoId, fromSeq ?? 0) as { seq: number }[];
        for (const { seq } of existing) {
          if (seq > last) {
            queue.push(seq);
            last = seq;
          }
        }
        queue.sort((a, b) => a - b);
        while (!signal.aborted) {
          if (queue.length === 0) {
            await wake.wait(signal);
            continue;
          }
          const seq = queue[0];
          const row = this.st.commitBySeq.get(seq) as CommitRow | undefined;
          if (
            !row ||
            seq === fromSeq ||
            (opts.branch && row.branch !== opts.branch) ||
            (opts.originKind && row.origin !== opts.originKind)
          ) {
            queue.shift();
            continue;
          }
          let info: CommitInfo;
          try {
            info = await this.waitCommit(seq, state, signal);
          } catch (e) {
            if (signal.aborted) return;
            if (e instanceof PachError && e.code === PachCode.NOT_FOUND) {
              queue.shift();
              continue;
            }
            throw e;
          }
          queue.shift();
          yield info;
        }
      } finally {
        this.events.off('commit', onCommit);
      }
    }
  }

  /** inspectCommitSet: the synchronous core of `Pachyderm.inspectCommitSet` (see port.ts for the contract). */
  inspectCommitSet(
    id: string,
    opts: { wait?: boolean; signal?: AbortSignal } = {},
  ): AsyncIterable<CommitInfo> {
    const rows = this.db
      .prepare('SELECT * FROM pfs_commits WHERE id = ? ORDER BY seq')
      .all(id) as CommitRow[];
    if (rows.length === 0) throw commitSetNotFound(id);
    return cancellable(
      (signal) => this.commitSetGen(signal, rows, !!opts.wait),
      [opts.signal, this.closing.signal],
    );
  }

  private async *commitSetGen(
    signal: AbortSignal,
    rows: CommitRow[],
    wait: boolean,
  ): AsyncGenerator<CommitInfo> {
    for (const r of rows) {
      yield wait
        ? await this.waitCommit(r.seq, CommitState.FINISHED, signal)
        : this.commitInfo(this.st.commitBySeq.get(r.seq) as CommitRow);
    }
  }

  // ===========================================================================================
  // modifications
  // ===========================================================================================

  /**
   * Apply file operations as one atomic modification (see the port's `modifyFile`). `internal`
   * allows writing to output branches and AUTO commits (the PPS runner).
   */
  async modifyFile(
    ref: CommitRef,
    ops: readonly InternalFileOp[],
    internal = false,
  ): Promise<Commit> {
    const target = toCommit(ref);
    // Validate and normalise before touching anything.
    const prepared = ops.map((op, i) => prepareOp(op, i));
    // Blobs first, durable before the metadata that references them.
    const sources: BlobSource[] = [];
    const srcIndex: number[] = [];
    prepared.forEach((op, i) => {
      if (op.op === 'put' || op.op === 'append') {
        srcIndex[i] = sources.length;
        sources.push(op.source);
      }
    });
    const locs =
      sources.length > 0 ? await this.blobs.put(sources, (hs) => this.blobLocations(hs)) : [];
    try {
      const row = this.tx(() => {
        for (const l of locs)
          if (l.size > 0) this.st.insertBlob.run(l.hash, l.pack, l.offset, l.size);
        let row: CommitRow;
        let auto = false;
        if (target.id && isCommitId(target.id) && !/[\^~]/.test(target.id)) {
          row = this.resolveCommit(target);
          // pachd 2.12 server_file.go: a commit addressed by id that is finishing is finished
          if (row.finishing !== null) throw commitAlreadyFinished(commitString(this.commitOf(row)));
        } else {
          const branchName = target.branch?.name ?? '';
          const repoRow = this.repoRow(target.repo);
          const b = this.st.branch.get(repoRow.id, branchName) as BranchRow | undefined;
          const head = b?.head_seq ? (this.st.commitBySeq.get(b.head_seq) as CommitRow) : undefined;
          // an open head takes the write; a finishing or finished one gets a child (one-off commit)
          if (head && head.finishing === null) {
            row = head;
          } else {
            auto = true;
            row = this.startCommitTx(
              { repo: target.repo, name: branchName },
              { origin: internal ? OriginKind.AUTO : OriginKind.USER },
            );
          }
        }
        if (!internal) {
          const b = row.branch
            ? (this.st.branch.get(row.repo_id, row.branch) as BranchRow | undefined)
            : undefined;
          if (row.origin !== OriginKind.USER || (b && this.isOutputBranch(b.id)))
            throw outputBranchCommit();
        }
        const chain = this.chain(row);
        this.sizeDelta = 0;
        if (prepared.length > 8) {
          const paths = new Set<string>();
          for (const op of prepared) if (op.op === 'put' || op.op === 'append') paths.add(op.path);
          this.preloadEntries(chain, [...paths]);
        }
        try {
          prepared.forEach((op, i) =>
            this.applyOp(
              row,
              chain,
              op,
              op.op === 'put' || op.op === 'append' ? locs[srcIndex[i]] : undefined,
            ),
          );
        } finally {
          this.atCache = null;
        }
        this.st.addSize.run(this.sizeDelta, row.seq);
        if (auto) row = this.finishCommitTx(this.st.commitBySeq.get(row.seq) as CommitRow);
        return row;
      });
      return this.commitOf(row);
    } finally {
      this.blobs.settle(locs.map((l) => l.hash));
    }
  }

  private removeEntry(row: CommitRow, chain: number[], e: FileEntry): void {
    if (chain.length === 1) this.st.dropFile.run(row.seq, e.path, e.datum);
    else this.st.putFile.run(row.seq, e.path, e.datum, null, 0, null);
    this.sizeDelta -= e.size;
    this.cacheSet(chain, e, false);
  }

  private writeEntry(row: CommitRow, chain: number[], e: FileEntry): void {
    this.st.putFile.run(row.seq, e.path, e.datum, e.parts.join(','), e.size, e.hash);
    this.sizeDelta += e.size;
    this.cacheSet(chain, e, true);
  }

  private applyOp(row: CommitRow, chain: number[], op: PreparedOp, loc?: BlobLocation): void {
    switch (op.op) {
      case 'put':
      case 'append': {
        const parts = loc!.size > 0 ? [loc!.hash] : [];
        this.writeParts(row, chain, op.path, op.datum, parts, loc!.size, op.op === 'append');
        return;
      }
      case 'delete': {
        const at = this.entriesAt(chain, op.path);
        const under = at.length > 0 ? [] : this.entriesUnder(chain, op.path);
        for (const e of [...at, ...under]) {
          if (op.datum === undefined || e.datum === op.datum) this.removeEntry(row, chain, e);
        }
        return;
      }
      case 'deleteDatum': {
        for (const e of this.entriesUnder(chain, '/')) {
          if (e.datum === op.datum) this.removeEntry(row, chain, e);
        }
        return;
      }
      case 'copy': {
        const srcRow = this.resolveCommit(op.src.commit);
        const srcChain = this.chain(srcRow);
        const srcPath = op.src.path;
        let entries = this.entriesAt(srcChain, srcPath);
        let rebase = (p: string) => (p === srcPath ? op.dst : p);
        if (entries.length === 0) {
          entries = this.entriesUnder(srcChain, srcPath);
          const prefix = srcPath === '/' ? '' : srcPath;
          const dst = op.dst === '/' ? '' : op.dst;
          rebase = (p: string) => dst + p.slice(prefix.length);
        }
        if (op.src.datum) entries = entries.filter((e) => e.datum === op.src.datum);
        if (entries.length === 0) {
          throw fileNotFound(srcPath, repoString(this.repoOf(srcRow.repo_id)), srcRow.id);
        }
        // Merge several datums' versions of one source path into one destination file.
        const byDst = new Map<string, FileEntry[]>();
        for (const e of entries) {
          const d = rebase(e.path);
          byDst.set(d, [...(byDst.get(d) ?? []), e]);
        }
        for (const [dst, es] of byDst) {
          const parts = es.flatMap((e) => e.parts);
          const size = es.reduce((s, e) => s + e.size, 0);
          this.writeParts(row, chain, normalizePath(dst), op.datum, parts, size, !!op.append);
        }
        return;
      }
    }
  }

  private writeParts(
    row: CommitRow,
    chain: number[],
    path: string,
    datum: string,
    parts: string[],
    size: number,
    append: boolean,
  ): void {
    if (path === '/') throw invalidArgument('path "/" is a directory: a file path is required');
    const existing = this.entriesAt(chain, path);
    if (append) {
      const same = existing.find((e) => e.datum === datum);
      if (same) {
        const all = [...same.parts, ...parts];
        this.sizeDelta -= same.size;
        this.writeEntry(row, chain, {
          path,
          datum,
          parts: all,
          size: same.size + size,
          hash: this.contentHash(all),
        });
        return;
      }
    } else {
      // Overwrite = Pachyderm's delete_file{path, datum} + add_file: only this datum's version.
      for (const e of existing) if (e.datum === datum) this.removeEntry(row, chain, e);
    }
    this.writeEntry(row, chain, { path, datum, parts, size, hash: this.contentHash(parts) });
  }
}

// ---------------------------------------------------------------------------------------------

type PreparedOp =
  | { op: 'put' | 'append'; path: string; datum: string; source: BlobSource }
  | { op: 'delete'; path: string; datum?: string }
  | { op: 'deleteDatum'; datum: string }
  | { op: 'copy'; src: ReturnType<typeof toFile>; dst: string; append: boolean; datum: string };

function prepareOp(op: InternalFileOp, i: number): PreparedOp {
  if (!op || typeof op !== 'object') throw invalidArgument(`ops[${i}] is not an operation object`);
  switch (op.op) {
    case 'put':
    case 'append': {
      const path = normalizePath(op.path);
      if (path === '/')
        throw invalidArgument(`ops[${i}].path "/" is a directory: a file path is required`);
      let source: BlobSource;
      if ('fromPath' in op) source = { fromPath: op.fromPath };
      else if (typeof op.data === 'string') source = Buffer.from(op.data, 'utf8');
      else if (op.data instanceof Uint8Array)
        source = Buffer.isBuffer(op.data) ? op.data : Buffer.from(op.data);
      else throw invalidArgument(`ops[${i}].data must be a Buffer, Uint8Array or string`);
      return { op: op.op, path, datum: op.datum || DEFAULT_DATUM, source };
    }
    case 'delete':
      return { op: 'delete', path: normalizePath(op.path), datum: op.datum || undefined };
    case 'deleteDatum':
      if (!op.datum) throw invalidArgument(`ops[${i}].datum is required`);
      return { op: 'deleteDatum', datum: op.datum };
    case 'copy':
      return {
        op: 'copy',
        src: toFile(op.src),
        dst: normalizePath(op.dst),
        append: !!op.append,
        datum: op.datum || DEFAULT_DATUM,
      };
    default:
      throw invalidArgument(
        `ops[${i}].op ${JSON.stringify((op as { op: unknown }).op)} is invalid: expected put, append, delete or copy`,
      );
  }
}

function sameRepo(a: Repo, b: Repo): boolean {
  return a.name === b.name && a.type === b.type && a.project.name === b.project.name;
}
