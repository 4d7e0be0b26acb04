/**
 * The embedded PFS's metadata of projects, repos and branches (pachd's `CreateProject` …
 * `DeleteBranch`, shared/pachyderm-api.md §2.2), and the row shapes of the `pfs_*` tables
 * (pfs-schema.ts). The base of {@link Pfs} (pfs.ts), which owns the database handle, the prepared
 * statements and the transactions (declared abstract here) and adds commits and files.
 */
import {
  alreadyExists,
  branchNotFound,
  failedPrecondition,
  invalidArgument,
  projectNotFound,
  repoNotFound,
} from '../errors';
import {
  type BranchRef,
  type CommitRef,
  type ProjectRef,
  type RepoRef,
  branchString,
  commitString,
  repoString,
  toBranch,
  toCommit,
  toProject,
  toRepo,
  validateName,
} from '../refs';
import {
  type Branch,
  type BranchInfo,
  type Commit,
  type ProjectInfo,
  type Repo,
  type RepoInfo,
  type RepoType,
} from '../types';
import type { Db } from './db';
import type { Pfs } from './pfs';

/** A row of `pfs_repos`, `pfs_branches`, `pfs_commits`, `pfs_files` (see pfs-schema.ts). */
export interface RepoRow {
  id: number;
  project: string;
  name: string;
  type: RepoType;
  description: string;
  created_at: number;
}
export interface BranchRow {
  id: number;
  repo_id: number;
  name: string;
  head_seq: number | null;
  created_at: number;
  updated_at: number;
}
export interface CommitRow {
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
export interface FileRow {
  commit_seq: number;
  path: string;
  datum: string;
  parts: string | null;
  size: number;
  hash: string | null;
}

/** The prepared statements of the PFS (built once by {@link Pfs}). */
export type PfsStatements = Pfs['st'];

/** Projects, repos and branches of the embedded PFS; see the module documentation. */
export abstract class PfsMetadata {
  /** The migrated database (see pfs-schema.ts). */
  abstract readonly db: Db;
  /** The prepared statements. */
  protected abstract readonly st: PfsStatements;
  /** Run `fn` in one SQLite transaction; queued commit events are emitted after it commits. */
  abstract tx<T>(fn: () => T): T;
  /** The proto-shaped Commit of a row. */
  abstract commitOf(row: CommitRow): Commit;
  /** Resolve a commit reference (see Pfs.resolveCommit). */
  abstract resolveCommit(commit: Commit): CommitRow;

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

  protected repoOf(id: number): Repo {
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

  protected repoInfo(row: RepoRow): RepoInfo {
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

  protected deleteRepoRow(row: RepoRow, force: boolean): void {
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

  protected branchRow(branch: Branch, repoRow?: RepoRow): BranchRow {
    const r = repoRow ?? this.repoRow(branch.repo);
    const row = this.st.branch.get(r.id, branch.name) as BranchRow | undefined;
    if (!row) throw branchNotFound(branchString(branch));
    return row;
  }

  protected ensureBranch(repoRow: RepoRow, name: string): BranchRow {
    const row = this.st.branch.get(repoRow.id, name) as BranchRow | undefined;
    if (row) return row;
    validateName('branch', name);
    const now = Date.now();
    this.st.insertBranch.run(repoRow.id, name, null, now, now);
    return this.st.branch.get(repoRow.id, name) as BranchRow;
  }

  protected branchOf(row: BranchRow): Branch {
    return { repo: this.repoOf(row.repo_id), name: row.name };
  }

  /** Transitive closure over `edges` (provenance or subvenance) starting at `id`, excluding it. */
  protected closure(id: number, edges: 'prov' | 'subv'): number[] {
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

  protected branchInfo(row: BranchRow): BranchInfo {
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
}
