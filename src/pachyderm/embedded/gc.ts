/**
 * Log retention of the embedded engine (`reelgraph gc`): the log lines of finished jobs (user
 * code's and the engine's, table `pps_logs`) are dropped once they are older than a retention
 * period, or beyond the newest N jobs of their pipeline. pachd keeps job logs in Loki, which keeps
 * them for a limited time (its retention period); this is the same bound for the embedded engine,
 * whose logs are about a third of the bytes each answered request adds (docs/operations.md).
 *
 * Only logs are dropped: commits, files, jobs and datums stay, so every answer
 * (`predict@<request>`), every model and the job history stay readable exactly as before; GetLogs
 * of a dropped job returns no line. A job that is not terminal keeps its logs whatever its age.
 * Dropping runs in one SQLite transaction on the data directory's database and is safe next to a
 * running engine (SQLite serialises the writers; the engine keeps no copy of stored log lines).
 * Deleted rows free pages that SQLite reuses for new rows (the file stops growing); `vacuum`
 * also gives them back to the file system.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JobState } from '../types';
import { type Db, openDatabase } from './db';
import { DB_FILE } from './index';

/** Which logs to drop: either bound, or both (a job's logs go when either says so). */
export interface LogRetention {
  /** Drop the logs of jobs finished more than this many milliseconds before `now`. */
  olderThanMs?: number;
  /** Keep the logs of the newest this-many jobs of each pipeline (by creation), drop older ones. */
  keepJobs?: number;
  /** The current time, ms since the epoch (default Date.now()). */
  now?: number;
}

/** What a log drop did. */
export interface LogDropResult {
  /** Log lines deleted. */
  lines: number;
  /** Jobs that had at least one line deleted. */
  jobs: number;
}

/** Terminal job states (pachyderm `ppsutil.IsTerminal`), as stored in `pps_jobs.state`. */
const TERMINAL = [
  JobState.JOB_SUCCESS,
  JobState.JOB_FAILURE,
  JobState.JOB_KILLED,
  JobState.JOB_UNRUNNABLE,
].join(', ');

/**
 * Checks a retention: at least one bound, each a non-negative finite integer.
 * @throws RangeError naming the field and what was expected
 */
export function checkRetention(r: LogRetention): void {
  if (r.olderThanMs === undefined && r.keepJobs === undefined) {
    throw new RangeError('log retention: expected olderThanMs or keepJobs (or both)');
  }
  for (const [name, v] of [
    ['olderThanMs', r.olderThanMs],
    ['keepJobs', r.keepJobs],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      throw new RangeError(`log retention: ${name} must be a non-negative integer, got ${v}`);
    }
  }
}

/**
 * Drops the log lines of finished jobs outside `retention` (see the module documentation), in
 * one transaction.
 * @throws RangeError for a bad retention (nothing is deleted)
 */
export function dropJobLogs(db: Db, retention: LogRetention): LogDropResult {
  checkRetention(retention);
  const hasLogs = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pps_logs'")
    .get();
  if (!hasLogs) return { lines: 0, jobs: 0 };
  const now = retention.now ?? Date.now();
  const cutoff = retention.olderThanMs !== undefined ? now - retention.olderThanMs : null;
  const pipelines = db.prepare('SELECT DISTINCT project, pipeline FROM pps_logs').all() as {
    project: string;
    pipeline: string;
  }[];
  // the seq of the oldest job whose logs are kept by `keepJobs` (jobs before it may go)
  const keptFrom = db.prepare(
    'SELECT seq FROM pps_jobs WHERE project = ? AND pipeline = ? ORDER BY seq DESC LIMIT 1 OFFSET ?',
  );
  const doomed = db.prepare(
    `SELECT id FROM pps_jobs WHERE project = @project AND pipeline = @pipeline
       AND state IN (${TERMINAL})
       AND ((@before IS NOT NULL AND seq < @before)
         OR (@cutoff IS NOT NULL AND finished IS NOT NULL AND finished < @cutoff))`,
  );
  const del = db.prepare('DELETE FROM pps_logs WHERE project = ? AND pipeline = ? AND job_id = ?');
  let lines = 0;
  let jobs = 0;
  db.transaction(() => {
    for (const p of pipelines) {
      let before: number | null = null;
      if (retention.keepJobs !== undefined) {
        const row = keptFrom.get(p.project, p.pipeline, Math.max(0, retention.keepJobs - 1)) as
          { seq: number } | undefined;
        // fewer jobs than keepJobs: none goes by count; keepJobs = 0: every finished job goes
        before = retention.keepJobs === 0 ? Number.MAX_SAFE_INTEGER : row ? row.seq : null;
      }
      const ids = doomed.all({ ...p, before, cutoff }) as { id: string }[];
      for (const { id } of ids) {
        const n = del.run(p.project, p.pipeline, id).changes;
        if (n > 0) {
          lines += n;
          jobs++;
        }
      }
    }
  })();
  return { lines, jobs };
}

/** The bytes of a data directory's database (the file, its WAL and shared-memory index). */
export function databaseBytes(dataDir: string): number {
  let n = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      n += fs.statSync(path.join(dataDir, DB_FILE + suffix)).size;
    } catch {
      /* absent */
    }
  }
  return n;
}

/**
 * `reelgraph gc` on a data directory: {@link dropJobLogs} on its database, then (with `vacuum`)
 * SQLite's VACUUM, which rewrites the file without its free pages (it waits for, or fails with
 * SQLITE_BUSY against, another process's open transaction: best with the service stopped).
 * @returns what was dropped and the database's bytes before and after
 * @throws Error when `dataDir` holds no engine database; RangeError for a bad retention
 */
export function gcDataDir(
  dataDir: string,
  retention: LogRetention & { vacuum?: boolean },
): LogDropResult & { bytesBefore: number; bytesAfter: number } {
  checkRetention(retention);
  const file = path.join(dataDir, DB_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(`${dataDir}: no reelgraph data directory (expected the file ${DB_FILE})`);
  }
  const bytesBefore = databaseBytes(dataDir);
  const db = openDatabase(file);
  try {
    const r = dropJobLogs(db, retention);
    if (retention.vacuum) db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { ...r, bytesBefore, bytesAfter: databaseBytes(dataDir) };
  } finally {
    db.close();
  }
}
