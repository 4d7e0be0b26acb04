/**
 * Schema of the embedded engine's PPS metadata (component `"pps"` of `schema_version`).
 *
 * Tables:
 * - `pps_pipelines(project, name, version, stopped, spec_json, user_spec_json,
 *   effective_spec_json, salt, spec_commit, created_at, updated_at)`: the current version of each
 *   pipeline; `spec_json` is the normalised {@link PipelineSpec} (JSON), `salt` changes when the
 *   pipeline is updated with `reprocess` (datums processed under another salt are not skipped).
 * - `pps_pipeline_versions(project, name, version, …)`: every version (ListPipeline `history`).
 * - `pps_jobs(seq, project, pipeline, id, pipeline_version, state, reason, created, started,
 *   finished, restart, data_total, data_processed, data_skipped, data_failed, data_recovered,
 *   input_commits, ran, output_done)`: `seq` = creation order (jobs of a pipeline run in `seq`
 *   order); `id` = commit-set id = output commit id; `input_commits` = JSON list of
 *   `{project, repo, id}` (the output commit's direct provenance); `ran` = 1 once the job deleted
 *   stale outputs and recorded its datums (its datums are then the base of the next job);
 *   `output_done` = 1 once its output commit is finished.
 * - `pps_datums(job_seq, id, state, salt, inputs, tries, reason, stats)`: the datums of a job;
 *   `inputs` = JSON list of the datum's inputs (name, matched path, files with hashes).
 * - `pps_logs(seq, project, pipeline, job_id, datum_id, worker_id, master, user, ts, message,
 *   data)`: log lines of user code (`user = 1`) and of the engine (`master = 1`).
 * Indexes: jobs by (project, pipeline, seq) (listings, the newest job, the base job of datum
 * skipping), by id, open jobs by (output_done, seq) (the scheduler's queue); logs by job.
 * Times are milliseconds since the Unix epoch.
 */
import type { Migration } from './db';

/** PPS migrations, in order. */
export const PPS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'pipelines, pipeline versions, jobs, datums, logs',
    up(db) {
      db.exec(`
        CREATE TABLE pps_pipelines (
          project TEXT NOT NULL,
          name TEXT NOT NULL,
          version INTEGER NOT NULL,
          stopped INTEGER NOT NULL DEFAULT 0,
          spec_json TEXT NOT NULL,
          user_spec_json TEXT NOT NULL,
          effective_spec_json TEXT NOT NULL,
          salt TEXT NOT NULL,
          spec_commit TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (project, name)
        );
        CREATE TABLE pps_pipeline_versions (
          project TEXT NOT NULL,
          name TEXT NOT NULL,
          version INTEGER NOT NULL,
          spec_json TEXT NOT NULL,
          user_spec_json TEXT NOT NULL,
          effective_spec_json TEXT NOT NULL,
          salt TEXT NOT NULL,
          spec_commit TEXT,
          created_at INTEGER NOT NULL,
          PRIMARY KEY (project, name, version)
        );
        CREATE TABLE pps_jobs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          project TEXT NOT NULL,
          pipeline TEXT NOT NULL,
          id TEXT NOT NULL,
          pipeline_version INTEGER NOT NULL,
          state INTEGER NOT NULL,
          reason TEXT NOT NULL DEFAULT '',
          created INTEGER NOT NULL,
          started INTEGER,
          finished INTEGER,
          restart INTEGER NOT NULL DEFAULT 0,
          data_total INTEGER NOT NULL DEFAULT 0,
          data_processed INTEGER NOT NULL DEFAULT 0,
          data_skipped INTEGER NOT NULL DEFAULT 0,
          data_failed INTEGER NOT NULL DEFAULT 0,
          data_recovered INTEGER NOT NULL DEFAULT 0,
          input_commits TEXT NOT NULL,
          ran INTEGER NOT NULL DEFAULT 0,
          output_done INTEGER NOT NULL DEFAULT 0,
          UNIQUE (project, pipeline, id)
        );
        CREATE INDEX pps_jobs_by_id ON pps_jobs(id);
        CREATE INDEX pps_jobs_open ON pps_jobs(output_done, seq);
        CREATE TABLE pps_datums (
          job_seq INTEGER NOT NULL REFERENCES pps_jobs(seq) ON DELETE CASCADE,
          id TEXT NOT NULL,
          state INTEGER NOT NULL,
          salt TEXT NOT NULL,
          inputs TEXT NOT NULL,
          tries INTEGER NOT NULL DEFAULT 0,
          reason TEXT NOT NULL DEFAULT '',
          stats TEXT,
          PRIMARY KEY (job_seq, id)
        ) WITHOUT ROWID;
        CREATE TABLE pps_logs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          project TEXT NOT NULL,
          pipeline TEXT NOT NULL,
          job_id TEXT NOT NULL,
          datum_id TEXT NOT NULL,
          worker_id TEXT NOT NULL,
          master INTEGER NOT NULL,
          user INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          message TEXT NOT NULL,
          data TEXT
        );
        CREATE INDEX pps_logs_by_job ON pps_logs(project, pipeline, job_id);
      `);
    },
  },
  {
    version: 2,
    description:
      'index of jobs by pipeline in creation order (listings that do not scan the history)',
    up(db) {
      db.exec('CREATE INDEX pps_jobs_by_pipeline_seq ON pps_jobs(project, pipeline, seq)');
    },
  },
];
