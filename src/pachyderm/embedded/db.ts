/**
 * The embedded engine's SQLite database: opening it with the durability settings the engine
 * relies on, and a small migration runner shared by the PFS and PPS halves.
 *
 * Settings (SQLite docs, "Write-Ahead Logging" and "PRAGMA synchronous"): `journal_mode = WAL`
 * (readers never block the writer) and `synchronous = FULL` (the WAL is fsynced at every
 * transaction commit, so an acknowledged transaction survives power loss or `kill -9`);
 * `foreign_keys = ON`; `busy_timeout = 5000` ms for a second process (e.g. the CLI) reading.
 *
 * Migrations are named per component (`"pfs"`, `"pps"` …) in the table `schema_version
 * (component, version, applied_at)`; each component owns a list of migrations applied in order,
 * each in its own transaction, so a component can add tables without touching the others'.
 */
import Database from 'better-sqlite3';

/** The better-sqlite3 database handle type. */
export type Db = Database.Database;

/** One schema step of a component: `version` (1, 2, …, contiguous) and the function applying it. */
export interface Migration {
  version: number;
  /** Human-readable summary, stored for inspection. */
  description: string;
  /** Apply the step (runs inside a transaction; throw to abort it). */
  up(db: Db): void;
}

/**
 * Open (creating if needed) the SQLite file at `file` with WAL and `synchronous = FULL`.
 * @param file path of the database file
 * @param opts `readonly`: open without writing (no migrations possible)
 * @throws the better-sqlite3 error when the file cannot be opened
 */
export function openDatabase(file: string, opts: { readonly?: boolean } = {}): Db {
  const db = new Database(file, { readonly: !!opts.readonly, fileMustExist: !!opts.readonly });
  db.pragma('busy_timeout = 5000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
  }
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Bring `component` to its latest schema version by applying, in order and each in its own
 * transaction, the migrations whose version is above the recorded one.
 * @returns the component's version after migrating
 * @throws Error when versions are not 1, 2, 3 … or the database is newer than the code
 */
export function migrate(db: Db, component: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    applied_at INTEGER NOT NULL
  )`);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration ${i} of ${component} has version ${m.version}, expected ${i + 1}`);
    }
  });
  const row = db
    .prepare('SELECT version FROM schema_version WHERE component = ?')
    .get(component) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `database schema of ${component} is version ${current}, newer than this code (${migrations.length})`,
    );
  }
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      m.up(db);
      db.prepare(
        `INSERT INTO schema_version (component, version, description, applied_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(component) DO UPDATE SET version = excluded.version,
           description = excluded.description, applied_at = excluded.applied_at`,
      ).run(component, m.version, m.description, Date.now());
    })();
  }
  return migrations.length;
}
