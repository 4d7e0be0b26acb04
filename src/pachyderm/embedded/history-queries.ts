/**
 * The embedded engine's queries over its history (commits of a repo, jobs of a pipeline), written
 * so that their cost does not grow with the number of commits or jobs (issue 10): each one is
 * served by an index in the order it reads (no sort of the whole history, no scan of it), and a
 * listing reads the history one page at a time, so a caller that stops after N items (ListCommit
 * `number`, ListJob `number`, a consumer that breaks out of the loop) reads O(N + page) rows.
 *
 * The SQL is exported so that tests can check the plan SQLite chooses (`EXPLAIN QUERY PLAN`):
 * no `SCAN` of the table, no `USE TEMP B-TREE FOR ORDER BY`. Indexes: `pfs_commits_by_repo_seq`
 * (pfs-schema.ts migration 3), `pps_jobs_by_pipeline_seq` (pps-schema.ts migration 2).
 */
import type { Db } from './db';

/** Rows read per query by {@link pagedBySeq}. */
export const HISTORY_PAGE = 100;

/** Commits of a repo after `seq` > ? and before `seq` < ?, newest first (ListCommit). */
export const COMMITS_DESC_SQL =
  'SELECT * FROM pfs_commits WHERE repo_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?';
/** The same, oldest first (ListCommit `reverse`). */
export const COMMITS_ASC_SQL =
  'SELECT * FROM pfs_commits WHERE repo_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?';
/** Jobs of one pipeline with `seq` > ? and `seq` < ?, newest first (ListJob{pipeline}). */
export const PIPELINE_JOBS_DESC_SQL =
  'SELECT * FROM pps_jobs WHERE project = ? AND pipeline = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?';
/** The same, oldest first (ListJob{pipeline, reverse}). */
export const PIPELINE_JOBS_ASC_SQL =
  'SELECT * FROM pps_jobs WHERE project = ? AND pipeline = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?';
/** Jobs of every pipeline, newest first (ListJob without a pipeline): the rowid order. */
export const ALL_JOBS_DESC_SQL =
  'SELECT * FROM pps_jobs WHERE seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?';
/** The same, oldest first. */
export const ALL_JOBS_ASC_SQL =
  'SELECT * FROM pps_jobs WHERE seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?';
/** The newest job of a pipeline (InspectPipeline's `lastJobState`). */
export const LAST_JOB_SQL =
  'SELECT state FROM pps_jobs WHERE project = ? AND pipeline = ? ORDER BY seq DESC LIMIT 1';
/** Jobs whose output commit is not finished yet, of one pipeline (few: the queue). */
export const OPEN_JOBS_OF_PIPELINE_SQL =
  'SELECT * FROM pps_jobs INDEXED BY pps_jobs_open WHERE output_done = 0 AND project = ? AND pipeline = ? ORDER BY seq';
/** The latest earlier job of a pipeline that ran (the base of datum skipping). */
export const PREVIOUS_RAN_JOB_SQL =
  'SELECT seq FROM pps_jobs WHERE project = ? AND pipeline = ? AND seq < ? AND ran = 1 ORDER BY seq DESC LIMIT 1';
/** The `created` time of the newest job (jobs are created in `seq` order with rising times). */
export const NEWEST_JOB_CREATED_SQL =
  'SELECT created FROM pps_jobs WHERE seq = (SELECT MAX(seq) FROM pps_jobs)';
/** The oldest open job of each pipeline (the scheduler's candidates), in `seq` order. */
export const QUEUE_HEADS_SQL = `SELECT * FROM pps_jobs j INDEXED BY pps_jobs_open WHERE output_done = 0
  AND seq = (SELECT MIN(seq) FROM pps_jobs k INDEXED BY pps_jobs_open WHERE k.output_done = 0
    AND k.project = j.project AND k.pipeline = j.pipeline)
  ORDER BY seq`;

/** The queries above, by name, with sample arguments (for plan checks in tests). */
export const HISTORY_QUERIES: Record<string, { sql: string; args: unknown[] }> = {
  COMMITS_DESC_SQL: { sql: COMMITS_DESC_SQL, args: [1, 0, 1e9, 10] },
  COMMITS_ASC_SQL: { sql: COMMITS_ASC_SQL, args: [1, 0, 1e9, 10] },
  PIPELINE_JOBS_DESC_SQL: { sql: PIPELINE_JOBS_DESC_SQL, args: ['default', 'p', 0, 1e9, 10] },
  PIPELINE_JOBS_ASC_SQL: { sql: PIPELINE_JOBS_ASC_SQL, args: ['default', 'p', 0, 1e9, 10] },
  ALL_JOBS_DESC_SQL: { sql: ALL_JOBS_DESC_SQL, args: [0, 1e9, 10] },
  ALL_JOBS_ASC_SQL: { sql: ALL_JOBS_ASC_SQL, args: [0, 1e9, 10] },
  LAST_JOB_SQL: { sql: LAST_JOB_SQL, args: ['default', 'p'] },
  OPEN_JOBS_OF_PIPELINE_SQL: { sql: OPEN_JOBS_OF_PIPELINE_SQL, args: ['default', 'p'] },
  PREVIOUS_RAN_JOB_SQL: { sql: PREVIOUS_RAN_JOB_SQL, args: ['default', 'p', 1e9] },
  NEWEST_JOB_CREATED_SQL: { sql: NEWEST_JOB_CREATED_SQL, args: [] },
  QUEUE_HEADS_SQL: { sql: QUEUE_HEADS_SQL, args: [] },
};

/**
 * Rows of a `seq`-keyed query, one page of {@link HISTORY_PAGE} at a time, newest first (`desc`)
 * or oldest first: `sql` takes `(...args, after, before, limit)` and returns rows with `seq`
 * strictly between `after` and `before` in the wanted order (see the *_SQL constants). Each page
 * is read when the consumer reaches it (no statement stays open between pages, so the consumer
 * may query the database meanwhile). Rows are those with `seq` < `before`: give the table's
 * `MAX(seq) + 1` taken when the listing is made (see {@link nextSeq}) and rows created while it
 * is read are left out, newest first or oldest first alike, as a snapshot would.
 * @param after exclusive lower bound of `seq` (0 = none)
 * @param before exclusive upper bound of `seq`
 */
export function* pagedBySeq<T extends { seq: number }>(
  db: Db,
  sql: string,
  args: readonly unknown[],
  desc: boolean,
  after: number,
  before: number,
): Generator<T> {
  const stmt = db.prepare(sql);
  let lo = after;
  let hi = before;
  for (;;) {
    const rows = stmt.all(...args, lo, hi, HISTORY_PAGE) as T[];
    for (const r of rows) yield r;
    if (rows.length < HISTORY_PAGE) return;
    if (desc) hi = rows[rows.length - 1].seq;
    else lo = rows[rows.length - 1].seq;
  }
}

/**
 * `MAX(seq) + 1` of `table` (`pfs_commits` or `pps_jobs`): the bound that makes a listing a
 * snapshot of the rows that exist now (an O(1) look-up of the largest rowid).
 */
export function nextSeq(db: Db, table: 'pfs_commits' | 'pps_jobs'): number {
  const row = db.prepare(`SELECT COALESCE(MAX(seq), 0) AS m FROM ${table}`).get() as { m: number };
  return row.m + 1;
}
