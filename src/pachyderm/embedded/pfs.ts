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
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  PachCode,
  PachError,
  alreadyExists,
  branchNotFound,
  commitAlreadyFinished,
  commitNotFound,
  commitSetNotFound,
  failedPrecondition,
  fileNotFound,
  invalidArgument,
  outputBranchCommit,
  parentNotFinished,
  projectNotFound,
  repoNotFound,
} from '../errors';
import { globFiles } from '../glob';
import type { FileOp, ListCommitOptions, SubscribeCommitOptions } from '../port';
import {
  type BranchRef,
  type CommitRef,
  type FileRef,
  type ProjectRef,
  type RepoRef,
  branchString,
  commitString,
  isCommitId,
  normalizePath,
  repoString,
  toBranch,
  toCommit,
  toFile,
  toProject,
  toRepo,
  validateName,
} from '../refs';
import {
  type Branch,
  type BranchInfo,
  type Commit,
  type CommitInfo,
  CommitState,
  DEFAULT_DATUM,
  type FileInfo,
  FileType,
  OriginKind,
  type ProjectInfo,
  type Repo,
  type RepoInfo,
  type RepoType,
} from '../types';
import { type BlobLocation, type BlobSource, BlobStore, EMPTY_HASH } from './blobstore';
import type { Db } from './db';
import { Signal, cancellable, waitFor } from './stream';

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

interface RepoRow {
  id: number;
  project: string;
  name: string;
  type: RepoType;
  description: string;
  created_at: number;
}
interface BranchRow {
  id: number;
  repo_id: number;
  name: string;
  head_seq: number | null;
  created_at: number;
  updated_at: number;
}
interface CommitRow {
  seq: number;
  repo_id: number;
  id: string;
  branch: string | null;
  parent_seq: number | null;
  origin: number;
  description: string;
  started: number;
  finishing: number | null;
  finished: number | null;
  error: string;
  size_bytes: number;
  depth: number;
}
interface FileRow {
  commit_seq: number;
  path: string;
  datum: string;
  parts: string | null;
  size: number;
  hash: string | null;
}

const newId = (): string => randomUUID().replace(/-/g, '');
const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const ANCESTRY_RE = /^(.*?)((?:[\^~]\d*)+)$/;

/** The PFS half of the embedded engine. */
export class Pfs {
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
  private readonly finishTimers = new Set<NodeJS.Timeout>();
  private readonly closing = new AbortController();
  /** Bytes added to the commit being modified, applied once per modification. */
  private sizeDelta = 0;
  /** Live entries by path during one modification (see preloadEntries). */
  private atCache: { chain: number[]; map: Map<string, FileEntry[]> } | null = null;
  private readonly st: ReturnType<Pfs['prepare']>;

  /**
   * @param db the migrated database (see pfs-schema.ts)
   * @param blobs the blob store
   */
  constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
  ) {
    this.events.setMaxListeners(0);
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

  /** `signal` combined with the engine's closing. */
  private until(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
  }

  // ===========================================================================================
  // projects
  // ===========================================================================================

  /** createProject: the synchronous core of `Pachyderm.createProject` (see port.ts for the contract). */
  createProject(ref: ProjectRef, opts: { description?: string; update?: boolean } = {}): void {
    const { name } = toProject(ref);
    validateName('project', name);
    this.tx(() => {
      const row = this.st.project.get(name);
      if (row) {
        if (!opts.update) throw alreadyExists('project', name);
        this.db
          .prepare('UPDATE pfs_projects SET description = ? WHERE name = ?')
          .run(opts.description ?? '', name);
        return;
      }
      this.db
        .prepare('INSERT INTO pfs_projects (name, description, created_at) VALUES (?, ?, ?)')
        .run(name, opts.description ?? '', Date.now());
    });
  }

  /** inspectProject: the synchronous core of `Pachyderm.inspectProject` (see port.ts for the contract). */
  inspectProject(ref: ProjectRef): ProjectInfo {
    const { name } = toProject(ref);
    const row = this.st.project.get(name) as
      { name: string; description: string; created_at: number } | undefined;
    if (!row) throw projectNotFound(name);
    return { project: { name }, description: row.description, createdAt: new Date(row.created_at) };
  }

  /** listProject: the synchronous core of `Pachyderm.listProject` (see port.ts for the contract). */
  listProject(): ProjectInfo[] {
    const rows = this.db.prepare('SELECT * FROM pfs_projects ORDER BY name').all() as {
      name: string;
      description: string;
      created_at: number;
    }[];
    return rows.map((r) => ({
      project: { name: r.name },
      description: r.description,
      createdAt: new Date(r.created_at),
    }));
  }

  /** deleteProject: the synchronous core of `Pachyderm.deleteProject` (see port.ts for the contract). */
  deleteProject(ref: ProjectRef, opts: { force?: boolean } = {}): void {
    const { name } = toProject(ref);
    this.tx(() => {
      if (!this.st.project.get(name)) throw projectNotFound(name);
      const repos = this.db
        .prepare('SELECT * FROM pfs_repos WHERE project = ?')
        .all(name) as RepoRow[];
      if (repos.length > 0 && !opts.force) {
        throw failedPrecondition(`project ${name} has ${repos.length} repos; delete them first`);
      }
      for (const r of repos) this.deleteRepoRow(r, true);
      this.db.prepare('DELETE FROM pfs_projects WHERE name = ?').run(name);
    });
  }

  // ===========================================================================================
  // repos
  // ===========================================================================================

  private repoOf(id: number): Repo {
    const r = this.st.repoById.get(id) as RepoRow;
    return { name: r.name, type: r.type, project: { name: r.project } };
  }

  /** The row of a repo. @throws NOT_FOUND "repo X not found". */
  repoRow(repo: Repo): RepoRow {
    const row = this.st.repo.get(repo.project.name, repo.name, repo.type) as RepoRow | undefined;
    if (!row) throw repoNotFound(repoString(repo));
    return row;
  }

  /** createRepo: the synchronous core of `Pachyderm.createRepo` (see port.ts for the contract). */
  createRepo(ref: RepoRef, opts: { description?: string; update?: boolean } = {}): void {
    const repo = toRepo(ref);
    validateName('repo', repo.name);
    this.tx(() => {
      if (!this.st.project.get(repo.project.name)) throw projectNotFound(repo.project.name);
      const row = this.st.repo.get(repo.project.name, repo.name, repo.type) as RepoRow | undefined;
      if (row) {
        if (!opts.update) throw alreadyExists('repo', repoString(repo));
        if (opts.description !== undefined) {
          this.db
            .prepare('UPDATE pfs_repos SET description = ? WHERE id = ?')
            .run(opts.description, row.id);
        }
        return;
      }
      this.db
        .prepare(
          'INSERT INTO pfs_repos (project, name, type, description, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(repo.project.name, repo.name, repo.type, opts.description ?? '', Date.now());
    });
  }

  private repoInfo(row: RepoRow): RepoInfo {
    const repo: Repo = { name: row.name, type: row.type, project: { name: row.project } };
    const branches = this.st.branchesOfRepo.all(row.id) as BranchRow[];
    const master = branches.find((b) => b.name === 'master');
    const head = master?.head_seq ? (this.st.commitBySeq.get(master.head_seq) as CommitRow) : null;
    return {
      repo,
      created: new Date(row.created_at),
      sizeBytesUpperBound: head?.size_bytes ?? 0,
      description: row.description,
      branches: branches.map((b) => ({ repo, name: b.name })),
    };
  }

  /** inspectRepo: the synchronous core of `Pachyderm.inspectRepo` (see port.ts for the contract). */
  inspectRepo(ref: RepoRef): RepoInfo {
    return this.repoInfo(this.repoRow(toRepo(ref)));
  }

  /** listRepo: the synchronous core of `Pachyderm.listRepo` (see port.ts for the contract). */
  listRepo(opts: { type?: RepoType | ''; projects?: ProjectRef[] } = {}): RepoInfo[] {
    const type = opts.type ?? 'user';
    const projects = (opts.projects ?? []).map((p) => toProject(p).name);
    const rows = this.db
      .prepare('SELECT * FROM pfs_repos ORDER BY project, name, type')
      .all() as RepoRow[];
    return rows
      .filter(
        (r) =>
          (type === '' || r.type === type) &&
          (projects.length === 0 || projects.includes(r.project)),
      )
      .map((r) => this.repoInfo(r));
  }

  /** deleteRepo: the synchronous core of `Pachyderm.deleteRepo` (see port.ts for the contract). */
  deleteRepo(ref: RepoRef, opts: { force?: boolean } = {}): { deleted: boolean } {
    const repo = toRepo(ref);
    return this.tx(() => {
      const row = this.st.repo.get(repo.project.name, repo.name, repo.type) as RepoRow | undefined;
      if (!row) return { deleted: false };
      this.deleteRepoRow(row, !!opts.force);
      return { deleted: true };
    });
  }

  private deleteRepoRow(row: RepoRow, force: boolean): void {
    const name = repoString({ name: row.name, type: row.type, project: { name: row.project } });
    const branches = this.st.branchesOfRepo.all(row.id) as BranchRow[];
    if (!force) {
      for (const b of branches) {
        if ((this.st.branchProv.all(b.id) as unknown[]).length > 0) {
          throw failedPrecondition(
            `cannot delete repo ${name}: branch ${b.name} is an output branch (it has provenance); use force`,
          );
        }
        const subv = this.st.branchSubv.all(b.id) as { id: number }[];
        const outside = subv.filter(
          (s) => (this.st.branchById.get(s.id) as BranchRow).repo_id !== row.id,
        );
        if (outside.length > 0) {
          throw failedPrecondition(
            `cannot delete repo ${name}: branch ${b.name} is provenance of other branches; use force`,
          );
        }
      }
      const dep = this.db
        .prepare(
          `SELECT c.seq FROM pfs_commit_provenance p JOIN pfs_commits s ON s.seq = p.prov_seq
           JOIN pfs_commits c ON c.seq = p.commit_seq WHERE s.repo_id = ? AND c.repo_id != ? LIMIT 1`,
        )
        .get(row.id, row.id);
      if (dep) {
        throw failedPrecondition(
          `cannot delete repo ${name}: commits of other repos have provenance on it; use force`,
        );
      }
    }
    const seqs = `(SELECT seq FROM pfs_commits WHERE repo_id = ${Number(row.id)})`;
    const bids = `(SELECT id FROM pfs_branches WHERE repo_id = ${Number(row.id)})`;
    this.db.exec(`
      DELETE FROM pfs_files WHERE commit_seq IN ${seqs};
      DELETE FROM pfs_commit_provenance WHERE commit_seq IN ${seqs} OR prov_seq IN ${seqs};
      DELETE FROM pfs_branch_provenance WHERE branch_id IN ${bids} OR prov_branch_id IN ${bids};
      DELETE FROM pfs_branches WHERE repo_id = ${Number(row.id)};
      UPDATE pfs_commits SET parent_seq = NULL WHERE repo_id = ${Number(row.id)};
      DELETE FROM pfs_commits WHERE repo_id = ${Number(row.id)};
      DELETE FROM pfs_repos WHERE id = ${Number(row.id)};
    `);
  }

  // ===========================================================================================
  // branches
  // ===========================================================================================

  private branchRow(branch: Branch, repoRow?: RepoRow): BranchRow {
    const r = repoRow ?? this.repoRow(branch.repo);
    const row = this.st.branch.get(r.id, branch.name) as BranchRow | undefined;
    if (!row) throw branchNotFound(branchString(branch));
    return row;
  }

  private ensureBranch(repoRow: RepoRow, name: string): BranchRow {
    const row = this.st.branch.get(repoRow.id, name) as BranchRow | undefined;
    if (row) return row;
    validateName('branch', name);
    const now = Date.now();
    this.st.insertBranch.run(repoRow.id, name, null, now, now);
    return this.st.branch.get(repoRow.id, name) as BranchRow;
  }

  private branchOf(row: BranchRow): Branch {
    return { repo: this.repoOf(row.repo_id), name: row.name };
  }

  /** Transitive closure over `edges` (provenance or subvenance) starting at `id`, excluding it. */
  private closure(id: number, edges: 'prov' | 'subv'): number[] {
    const st = edges === 'prov' ? this.st.branchProv : this.st.branchSubv;
    const seen = new Set<number>();
    const stack = [id];
    while (stack.length > 0) {
      const cur = stack.pop()!;
      for (const { id: next } of st.all(cur) as { id: number }[]) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    seen.delete(id);
    return [...seen].sort((a, b) => a - b);
  }

  /** True when a branch has provenance, i.e. it is a pipeline's output branch. */
  isOutputBranch(branchId: number): boolean {
    return (this.st.branchProv.all(branchId) as unknown[]).length > 0;
  }

  /** createBranch: the synchronous core of `Pachyderm.createBranch` (see port.ts for the contract). */
  createBranch(
    ref: BranchRef,
    opts: { head?: CommitRef; provenance?: BranchRef[]; newCommitSet?: boolean } = {},
  ): void {
    const branch = toBranch(ref);
    validateName('branch', branch.name);
    const prov = opts.provenance?.map((p) => toBranch(p));
    this.tx(() => {
      const repoRow = this.repoRow(branch.repo);
      let headSeq: number | undefined;
      if (opts.head !== undefined) {
        const head = this.resolveCommit(toCommit(opts.head));
        if (head.repo_id !== repoRow.id) {
          throw invalidArgument(
            `head ${commitString(this.commitOf(head))} is not a commit of repo ${repoString(branch.repo)}`,
          );
        }
        headSeq = head.seq;
      }
      const row = this.ensureBranch(repoRow, branch.name);
      if (headSeq !== undefined) this.st.setHead.run(headSeq, Date.now(), row.id);
      if (prov) {
        const provIds = prov.map((p) => {
          const pr = this.repoRow(p.repo);
          return this.ensureBranch(pr, p.name).id;
        });
        for (const pid of provIds) {
          if (pid === row.id || this.closure(pid, 'prov').includes(row.id)) {
            throw invalidArgument(
              `provenance of branch ${branchString(branch)} would form a cycle through ${branchString(this.branchOf(this.st.branchById.get(pid) as BranchRow))}`,
            );
          }
        }
        this.db.prepare('DELETE FROM pfs_branch_provenance WHERE branch_id = ?').run(row.id);
        const ins = this.db.prepare(
          'INSERT OR IGNORE INTO pfs_branch_provenance (branch_id, prov_branch_id) VALUES (?, ?)',
        );
        for (const pid of provIds) ins.run(row.id, pid);
        this.db
          .prepare('UPDATE pfs_branches SET updated_at = ? WHERE id = ?')
          .run(Date.now(), row.id);
      }
    });
  }

  private branchInfo(row: BranchRow): BranchInfo {
    const branch = this.branchOf(row);
    const toB = (id: number) => this.branchOf(this.st.branchById.get(id) as BranchRow);
    const direct = (this.st.branchProv.all(row.id) as { id: number }[]).map((r) => r.id);
    return {
      branch,
      head: row.head_seq ? this.commitOf(this.st.commitBySeq.get(row.head_seq) as CommitRow) : null,
      provenance: this.closure(row.id, 'prov').map(toB),
      subvenance: this.closure(row.id, 'subv').map(toB),
      directProvenance: direct.sort((a, b) => a - b).map(toB),
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
    };
  }

  /** inspectBranch: the synchronous core of `Pachyderm.inspectBranch` (see port.ts for the contract). */
  inspectBranch(ref: BranchRef): BranchInfo {
    return this.branchInfo(this.branchRow(toBranch(ref)));
  }

  /** listBranch: the synchronous core of `Pachyderm.listBranch` (see port.ts for the contract). */
  listBranch(repoRef: RepoRef, opts: { reverse?: boolean } = {}): BranchInfo[] {
    const repoRow = this.repoRow(toRepo(repoRef));
    const rows = (this.st.branchesOfRepo.all(repoRow.id) as BranchRow[]).map((r) =>
      this.branchInfo(r),
    );
    return opts.reverse ? rows.reverse() : rows;
  }

  /** deleteBranch: the synchronous core of `Pachyderm.deleteBranch` (see port.ts for the contract). */
  deleteBranch(ref: BranchRef, opts: { force?: boolean } = {}): void {
    const branch = toBranch(ref);
    this.tx(() => {
      const row = this.branchRow(branch);
      const subv = this.st.branchSubv.all(row.id) as unknown[];
      if (subv.length > 0 && !opts.force) {
        throw failedPrecondition(
          `branch ${branchString(branch)} is provenance of ${subv.length} branches; use force`,
        );
      }
      this.db
        .prepare('DELETE FROM pfs_branch_provenance WHERE branch_id = ? OR prov_branch_id = ?')
        .run(row.id, row.id);
      this.db.prepare('DELETE FROM pfs_branches WHERE id = ?').run(row.id);
    });
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
      this.queue('finished', this.st.commitBySeq.get(seq) as CommitRow);
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
        const row = this.st.commitBySeq.get(seq) as CommitRow | undefined;
        if (!row) throw new PachError(PachCode.NOT_FOUND, `commit ${seq} was deleted`);
        return this.stateOf(row) >= state ? this.commitInfo(row) : undefined;
      },
      this.changed,
      this.until(abort),
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

  /** listCommit: the synchronous core of `Pachyderm.listCommit` (see port.ts for the contract). */
  listCommit(repoRef: RepoRef, opts: ListCommitOptions = {}): CommitInfo[] {
    const repoRow = this.repoRow(toRepo(repoRef));
    let rows: CommitRow[];
    const fromSeq = opts.from !== undefined ? this.resolveCommit(toCommit(opts.from)).seq : null;
    if (opts.to !== undefined) {
      rows = [];
      let cur: CommitRow | undefined = this.resolveCommit(toCommit(opts.to));
      while (cur && cur.seq !== fromSeq) {
        rows.push(cur);
        cur = cur.parent_seq ? (this.st.commitBySeq.get(cur.parent_seq) as CommitRow) : undefined;
      }
    } else {
      rows = this.db
        .prepare('SELECT * FROM pfs_commits WHERE repo_id = ? AND seq > ? ORDER BY seq DESC')
        .all(repoRow.id, fromSeq ?? 0) as CommitRow[];
    }
    if (opts.originKind) rows = rows.filter((r) => r.origin === opts.originKind);
    if (opts.startedTime) {
      const t = opts.startedTime.getTime();
      rows = rows.filter((r) => r.started <= t);
    }
    if (opts.reverse) rows.reverse();
    if (opts.number && opts.number > 0) rows = rows.slice(0, opts.number);
    return rows.map((r) => this.commitInfo(r));
  }

  /** SubscribeCommit: see the port. */
  subscribeCommit(repoRef: RepoRef, opts: SubscribeCommitOptions = {}): AsyncIterable<CommitInfo> {
    const repo = toRepo(repoRef);
    const repoRow = this.repoRow(repo);
    const state = opts.state ?? CommitState.STARTED;
    const fromSeq = opts.from !== undefined ? this.resolveCommit(toCommit(opts.from)).seq : null;
    return cancellable(
      (signal) => this.subscribeGen(signal, repo, repoRow.id, state, fromSeq, opts),
      this.until(opts.signal),
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
        const existing = this.db
          .prepare('SELECT seq FROM pfs_commits WHERE repo_id = ? ORDER BY seq')
          .all(repoId) as { seq: number }[];
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
      this.until(opts.signal),
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
  // file layers
  // ===========================================================================================

  /** Seqs of the layers making up a commit's file set, newest first. */
  private chain(row: CommitRow): number[] {
    const out = [row.seq];
    let cur = row;
    while (cur.depth > 0 && cur.parent_seq) {
      cur = this.st.commitBySeq.get(cur.parent_seq) as CommitRow;
      out.push(cur.seq);
    }
    return out;
  }

  /** Newest row per (path, datum) among rows sorted by path, datum, commit_seq DESC; no tombstones. */
  private static merge(rows: FileRow[]): FileEntry[] {
    const out: FileEntry[] = [];
    let prevKey = '';
    for (const r of rows) {
      const key = r.path + '\0' + r.datum;
      if (key === prevKey) continue;
      prevKey = key;
      if (r.parts === null) continue;
      out.push({
        path: r.path,
        datum: r.datum,
        parts: r.parts === '' ? [] : r.parts.split(','),
        size: r.size,
        hash: r.hash ?? EMPTY_HASH,
      });
    }
    return out;
  }

  /** Live entries at exactly `path` (one per datum). */
  private entriesAt(chain: number[], path: string): FileEntry[] {
    const cache = this.atCache;
    if (cache && cache.chain === chain) {
      let es = cache.map.get(path);
      if (!es) {
        es = Pfs.merge(this.st.fileAt.all(path, JSON.stringify(chain)) as FileRow[]);
        cache.map.set(path, es);
      }
      return es.slice();
    }
    return Pfs.merge(this.st.fileAt.all(path, JSON.stringify(chain)) as FileRow[]);
  }

  /**
   * Cache the live entries of `paths` for a modification of the commit whose layers are `chain`
   * (one query instead of one per path); the cache follows the modification's own writes.
   */
  private preloadEntries(chain: number[], paths: string[]): void {
    const map = new Map<string, FileEntry[]>();
    for (const p of paths) map.set(p, []);
    for (let i = 0; i < paths.length; i += 5000) {
      const rows = this.st.filesAtMany.all(
        JSON.stringify(chain),
        JSON.stringify(paths.slice(i, i + 5000)),
      ) as FileRow[];
      for (const e of Pfs.merge(rows)) map.get(e.path)!.push(e);
    }
    this.atCache = { chain, map };
  }

  private cacheSet(chain: number[], e: FileEntry | { path: string; datum: string }, live: boolean) {
    const cache = this.atCache;
    if (!cache || cache.chain !== chain) return;
    const list = cache.map.get(e.path);
    if (!list) return;
    const i = list.findIndex((x) => x.datum === e.datum);
    if (i >= 0) list.splice(i, 1);
    if (live) {
      list.push(e as FileEntry);
      list.sort((a, b) => (a.datum < b.datum ? -1 : a.datum > b.datum ? 1 : 0));
    }
  }

  /** Live entries strictly under directory `dir` (`/` = everything), sorted by path then datum. */
  private entriesUnder(chain: number[], dir: string): FileEntry[] {
    const c = JSON.stringify(chain);
    if (dir === '/') return Pfs.merge(this.st.filesAll.all(c) as FileRow[]);
    // '/' is 0x2f and '0' is 0x30: paths under "/a/" sort in ("/a/", "/a0").
    return Pfs.merge(this.st.filesRange.all(c, dir + '/', dir + '0') as FileRow[]);
  }

  /** Every live file entry of a commit, sorted by path then datum. */
  entries(commit: Commit | CommitRow): FileEntry[] {
    const row = 'seq' in commit ? commit : this.resolveCommit(commit);
    return this.entriesUnder(this.chain(row), '/');
  }

  private duplicatePath(seq: number): string | undefined {
    const all = this.entries(this.st.commitBySeq.get(seq) as CommitRow);
    for (let i = 1; i < all.length; i++) if (all[i].path === all[i - 1].path) return all[i].path;
    return undefined;
  }

  /** Replace a commit's delta rows by its full file set (depth 0). */
  private compact(row: CommitRow): void {
    const all = this.entries(row);
    this.db.prepare('DELETE FROM pfs_files WHERE commit_seq = ?').run(row.seq);
    for (const e of all)
      this.st.putFile.run(row.seq, e.path, e.datum, e.parts.join(','), e.size, e.hash);
    this.db.prepare('UPDATE pfs_commits SET depth = 0 WHERE seq = ?').run(row.seq);
    row.depth = 0;
  }

  /** True when some blob lives in pack `pack`. */
  isPackReferenced(pack: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM pfs_blobs WHERE pack = ? LIMIT 1').get(pack) !== undefined
    );
  }

  /** Locations of the stored blobs among `hashes`. */
  blobLocations(hashes: string[]): Map<string, BlobLocation> {
    const out = new Map<string, BlobLocation>();
    for (let i = 0; i < hashes.length; i += 5000) {
      const rows = this.st.blobsMany.all(
        JSON.stringify(hashes.slice(i, i + 5000)),
      ) as BlobLocation[];
      for (const r of rows) out.set(r.hash, r);
    }
    return out;
  }

  /** Location of a stored blob. */
  blobLocation(hash: string): BlobLocation | undefined {
    if (hash === EMPTY_HASH) return { hash, pack: '', offset: 0, size: 0 };
    return this.st.blob.get(hash) as BlobLocation | undefined;
  }

  private contentHash(parts: string[]): string {
    if (parts.length === 0) return EMPTY_HASH;
    if (parts.length === 1) return parts[0];
    const h = createHash('sha256');
    for (const p of parts) h.update(this.blobs.readSync(this.blobLocation(p)!));
    return h.digest('hex');
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

  // ===========================================================================================
  // reads
  // ===========================================================================================

  /** Resolve a file reference to its commit row and normalised path. */
  private fileTarget(ref: FileRef): { row: CommitRow; file: ReturnType<typeof toFile> } {
    const file = toFile(ref);
    return { row: this.resolveCommit(file.commit), file };
  }

  private notFoundFor(row: CommitRow, path: string): PachError {
    return fileNotFound(path, repoString(this.repoOf(row.repo_id)), row.id);
  }

  private fileInfoOf(
    row: CommitRow,
    path: string,
    isDir: boolean,
    es: FileEntry[],
    datum?: string,
  ): FileInfo {
    const commit = this.commitOf(row);
    let hash: string;
    if (!isDir && es.length === 1) hash = es[0].hash;
    else {
      const h = createHash('sha256');
      for (const e of es) h.update(`${e.path}\0${e.datum}\0${e.hash}\n`);
      hash = h.digest('hex');
    }
    const file: FileInfo['file'] = { commit, path: isDir && path !== '/' ? path + '/' : path };
    if (datum) file.datum = datum;
    return {
      file,
      fileType: isDir ? FileType.DIR : FileType.FILE,
      committed: date(row.finished),
      sizeBytes: es.reduce((s, e) => s + e.size, 0),
      hash,
    };
  }

  /** inspectFile: the synchronous core of `Pachyderm.inspectFile` (see port.ts for the contract). */
  inspectFile(ref: FileRef): FileInfo {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    let at = this.entriesAt(chain, file.path);
    if (file.datum) at = at.filter((e) => e.datum === file.datum);
    if (file.path !== '/' && at.length > 0)
      return this.fileInfoOf(row, file.path, false, at, file.datum);
    let under = this.entriesUnder(chain, file.path);
    if (file.datum) under = under.filter((e) => e.datum === file.datum);
    if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
    return this.fileInfoOf(row, file.path, true, under, file.datum);
  }

  /** listFile: the synchronous core of `Pachyderm.listFile` (see port.ts for the contract). */
  listFile(
    ref: FileRef,
    opts: { paginationMarker?: string; number?: number; reverse?: boolean } = {},
  ): FileInfo[] {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    const at = file.path === '/' ? [] : this.entriesAt(chain, file.path);
    let out: FileInfo[];
    if (at.length > 0) {
      out = [this.fileInfoOf(row, file.path, false, at)];
    } else {
      const under = this.entriesUnder(chain, file.path);
      if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
      const base = file.path === '/' ? '' : file.path;
      const groups = new Map<string, { isDir: boolean; es: FileEntry[] }>();
      for (const e of under) {
        const rest = e.path.slice(base.length + 1);
        const slash = rest.indexOf('/');
        const child = base + '/' + (slash < 0 ? rest : rest.slice(0, slash));
        const g = groups.get(child) ?? { isDir: slash >= 0, es: [] };
        g.es.push(e);
        groups.set(child, g);
      }
      out = [...groups].map(([p, g]) => this.fileInfoOf(row, p, g.isDir, g.es));
    }
    if (opts.paginationMarker) {
      const m = normalizePath(opts.paginationMarker);
      out = out.filter((f) =>
        opts.reverse ? stripSlash(f.file.path) < m : stripSlash(f.file.path) > m,
      );
    }
    if (opts.reverse) out.reverse();
    if (opts.number && opts.number > 0) out = out.slice(0, opts.number);
    return out;
  }

  /** walkFile: the synchronous core of `Pachyderm.walkFile` (see port.ts for the contract). */
  walkFile(ref: FileRef): FileInfo[] {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    const at = file.path === '/' ? [] : this.entriesAt(chain, file.path);
    if (at.length > 0) return [this.fileInfoOf(row, file.path, false, at)];
    const under = this.entriesUnder(chain, file.path);
    if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
    const paths = [...new Set(under.map((e) => e.path))];
    const matches = globFiles(paths, file.path === '/' ? '/**' : file.path + '/**');
    const byPath = groupByPath(under);
    const out = [this.fileInfoOf(row, file.path, true, under)];
    for (const m of matches) {
      const es = m.fileIndexes.flatMap((i) => byPath.get(paths[i])!);
      out.push(this.fileInfoOf(row, m.path, m.isDir, es));
    }
    return out;
  }

  /** globFile: the synchronous core of `Pachyderm.globFile` (see port.ts for the contract). */
  globFile(ref: CommitRef, pattern: string): FileInfo[] {
    const row = this.resolveCommit(toCommit(ref));
    const all = this.entriesUnder(this.chain(row), '/');
    const paths = [...new Set(all.map((e) => e.path))];
    const byPath = groupByPath(all);
    let matches;
    try {
      matches = globFiles(paths, pattern);
    } catch (e) {
      throw invalidArgument(`glob ${JSON.stringify(pattern)} is invalid: ${(e as Error).message}`);
    }
    return matches.map((m) =>
      this.fileInfoOf(
        row,
        m.path,
        m.isDir,
        m.fileIndexes.flatMap((i) => byPath.get(paths[i])!),
      ),
    );
  }

  /** The blob locations making up one file's content (several datums: in datum order). */
  fileParts(ref: FileRef): BlobLocation[] {
    const { row, file } = this.fileTarget(ref);
    let at = file.path === '/' ? [] : this.entriesAt(this.chain(row), file.path);
    if (file.datum) at = at.filter((e) => e.datum === file.datum);
    if (at.length === 0) {
      if (file.path === '/' || this.entriesUnder(this.chain(row), file.path).length > 0) {
        throw invalidArgument(`${file.path} is a directory: GetFile reads one file`);
      }
      throw this.notFoundFor(row, file.path);
    }
    return at.flatMap((e) => e.parts.map((h) => this.blobLocation(h)!));
  }

  /** GetFile: stream a file's bytes from `offset`. */
  async *getFile(ref: FileRef, opts: { offset?: number } = {}): AsyncGenerator<Buffer> {
    const locs = this.fileParts(ref);
    let skip = Math.max(0, opts.offset ?? 0);
    for (const loc of locs) {
      if (skip >= loc.size) {
        skip -= loc.size;
        continue;
      }
      yield* this.blobs.read(loc, skip);
      skip = 0;
    }
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

function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function groupByPath(es: FileEntry[]): Map<string, FileEntry[]> {
  const m = new Map<string, FileEntry[]>();
  for (const e of es) m.set(e.path, [...(m.get(e.path) ?? []), e]);
  return m;
}
