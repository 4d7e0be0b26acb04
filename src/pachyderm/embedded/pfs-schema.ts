/**
 * Schema of the embedded engine's PFS metadata (component `"pfs"` of `schema_version`).
 *
 * Tables:
 * - `pfs_projects(name, description, created_at)`; `default` is created by migration 1.
 * - `pfs_repos(id, project, name, type, description, created_at)`, unique (project, name, type).
 * - `pfs_branches(id, repo_id, name, head_seq, created_at, updated_at)` and
 *   `pfs_branch_provenance(branch_id, prov_branch_id)` (direct provenance; a branch with provenance
 *   is an output branch).
 * - `pfs_commits(seq, repo_id, id, branch, parent_seq, origin, description, started, finishing,
 *   finished, error, size_bytes, depth)`: `seq` orders commits by start; `id` is the 32-hex commit
 *   id, unique per repo and shared by the commits of one commit set; `depth` = number of delta
 *   layers between this commit and the nearest full file snapshot (0 = this commit's file rows are
 *   the full set). `pfs_commit_provenance(commit_seq, prov_seq)` = direct provenance.
 * - `pfs_files(commit_seq, path, datum, parts, size, hash)`: the file rows a commit adds on top of
 *   its parent (a delta layer), or all its files when `depth = 0`. `parts` = comma-separated blob
 *   hashes whose concatenation is the content (NULL = tombstone: deleted in this layer); `hash` =
 *   SHA-256 of the whole content.
 * - `pfs_blobs(hash, pack, offset, size)`: where each stored content lives (see blobstore.ts).
 * Indexes serve every per-request look-up and listing without reading the whole history (see
 * history-queries.ts): commits by (repo, seq), by id, by parent; provenance both ways; blobs by pack.
 * Times are milliseconds since the Unix epoch.
 */
import type { Migration } from './db';

/** PFS migrations, in order. */
export const PFS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'projects, repos, branches, commits, delta file layers, blobs',
    up(db) {
      db.exec(`
        CREATE TABLE pfs_projects (
          name TEXT PRIMARY KEY,
          description TEXT NOT NULL DEFAULT '',
          created_at INTEGER NOT NULL
        );
        CREATE TABLE pfs_repos (
          id INTEGER PRIMARY KEY,
          project TEXT NOT NULL REFERENCES pfs_projects(name),
          name TEXT NOT NULL,
          type TEXT NOT NULL,
          description TEXT NOT NULL DEFAULT '',
          created_at INTEGER NOT NULL,
          UNIQUE (project, name, type)
        );
        CREATE TABLE pfs_commits (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          repo_id INTEGER NOT NULL REFERENCES pfs_repos(id),
          id TEXT NOT NULL,
          branch TEXT,
          parent_seq INTEGER REFERENCES pfs_commits(seq),
          origin INTEGER NOT NULL,
          description TEXT NOT NULL DEFAULT '',
          started INTEGER NOT NULL,
          finishing INTEGER,
          finished INTEGER,
          error TEXT NOT NULL DEFAULT '',
          size_bytes INTEGER NOT NULL DEFAULT 0,
          depth INTEGER NOT NULL DEFAULT 0,
          UNIQUE (repo_id, id)
        );
        CREATE INDEX pfs_commits_by_id ON pfs_commits(id);
        CREATE INDEX pfs_commits_by_parent ON pfs_commits(parent_seq);
        CREATE TABLE pfs_commit_provenance (
          commit_seq INTEGER NOT NULL REFERENCES pfs_commits(seq),
          prov_seq INTEGER NOT NULL REFERENCES pfs_commits(seq),
          PRIMARY KEY (commit_seq, prov_seq)
        ) WITHOUT ROWID;
        CREATE INDEX pfs_commit_subvenance ON pfs_commit_provenance(prov_seq);
        CREATE TABLE pfs_branches (
          id INTEGER PRIMARY KEY,
          repo_id INTEGER NOT NULL REFERENCES pfs_repos(id),
          name TEXT NOT NULL,
          head_seq INTEGER REFERENCES pfs_commits(seq),
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          UNIQUE (repo_id, name)
        );
        CREATE TABLE pfs_branch_provenance (
          branch_id INTEGER NOT NULL REFERENCES pfs_branches(id),
          prov_branch_id INTEGER NOT NULL REFERENCES pfs_branches(id),
          PRIMARY KEY (branch_id, prov_branch_id)
        ) WITHOUT ROWID;
        CREATE INDEX pfs_branch_subvenance ON pfs_branch_provenance(prov_branch_id);
        CREATE TABLE pfs_files (
          commit_seq INTEGER NOT NULL,
          path TEXT NOT NULL,
          datum TEXT NOT NULL,
          parts TEXT,
          size INTEGER NOT NULL DEFAULT 0,
          hash TEXT,
          PRIMARY KEY (commit_seq, path, datum)
        ) WITHOUT ROWID;
        CREATE TABLE pfs_blobs (
          hash TEXT PRIMARY KEY,
          pack TEXT NOT NULL,
          offset INTEGER NOT NULL,
          size INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
      db.prepare('INSERT INTO pfs_projects (name, description, created_at) VALUES (?, ?, ?)').run(
        'default',
        'The default project.',
        Date.now(),
      );
    },
  },
  {
    version: 2,
    description: 'index of blobs by pack (garbage collection of unreferenced packs)',
    up(db) {
      db.exec('CREATE INDEX pfs_blobs_by_pack ON pfs_blobs(pack)');
    },
  },
  {
    version: 3,
    description: 'index of commits by repo in start order (listings that do not scan the history)',
    up(db) {
      db.exec('CREATE INDEX pfs_commits_by_repo_seq ON pfs_commits(repo_id, seq)');
    },
  },
];
