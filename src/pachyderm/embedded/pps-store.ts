/**
 * The embedded PPS's rows and their infos: the base of {@link Pps} (pps.ts) that reads and writes
 * the `pps_*` tables (pps-schema.ts) — pipeline, job and datum rows, their proto-shaped infos
 * (PipelineInfo, JobInfo, DatumInfo), job updates and their events, buffered log lines — shared by
 * the queries (pps-queries.ts) and the scheduler and runner (pps.ts). No behaviour of its own.
 */
import { EventEmitter } from 'node:events';
import type { DatumInput } from '../datums';
import { pipelineNotFound, unavailable } from '../errors';
import {
  type Commit,
  type DatumInfo,
  DatumState,
  type FileInfo,
  FileType,
  type JobInfo,
  JobState,
  type PipelineInfo,
  type PipelineSpec,
  PipelineState,
  PipelineType,
  type Repo,
  isTerminalJobState,
} from '../types';
import { type Db } from './db';
import { LAST_JOB_SQL, OPEN_JOBS_OF_PIPELINE_SQL } from './history-queries';
import type { EmbeddedPachyderm } from './index';
import { isStorageFull } from './storage';
import { untilStored } from './storage-wait';
import { Signal } from './stream';

/** One input of a job: which commit it reads (`id` is `""` when the branch has no commit). */
export interface JobInput {
  name: string;
  project: string;
  repo: string;
  branch: string;
  id: string;
}

/** A row of `pps_pipelines` / `pps_pipeline_versions` (see pps-schema.ts). */
export interface PipelineRow {
  project: string;
  name: string;
  version: number;
  stopped: number;
  spec_json: string;
  user_spec_json: string;
  effective_spec_json: string;
  salt: string;
  spec_commit: string | null;
  created_at: number;
  updated_at: number;
}

/** A row of `pps_jobs` (see pps-schema.ts); times in ms since the epoch. */
export interface JobRow {
  seq: number;
  project: string;
  pipeline: string;
  id: string;
  pipeline_version: number;
  state: JobState;
  reason: string;
  created: number;
  started: number | null;
  finished: number | null;
  restart: number;
  data_total: number;
  data_processed: number;
  data_skipped: number;
  data_failed: number;
  data_recovered: number;
  input_commits: string;
  ran: number;
  output_done: number;
}

/** A row of `pps_datums` (see pps-schema.ts); `inputs` is JSON of `DatumInput[]`. */
export interface DatumRow {
  job_seq: number;
  id: string;
  state: DatumState;
  salt: string;
  inputs: string;
  tries: number;
  reason: string;
  stats: string | null;
}

/** A row of `pps_logs` (see pps-schema.ts). */
export interface LogRow {
  seq: number;
  project: string;
  pipeline: string;
  job_id: string;
  datum_id: string;
  worker_id: string;
  master: number;
  user: number;
  ts: number;
  message: string;
}

/** One day in ms (GetLogs' default `since`, as pachd's). */
export const DAY_MS = 24 * 3600 * 1000;

/** Buffered log lines are written at most this many ms after the first one. */
export const LOG_FLUSH_MS = 50;

/** Log lines kept in memory while a full disk refuses them (the oldest are dropped past it). */
export const LOG_BACKLOG_MAX = 10_000;

/** How often log lines refused by a full disk are tried again, ms. */
export const LOG_RETRY_MS = 1_000;

/** A job run again after a full disk starts its counters afresh (as a recovered job). */
export const RERUN_COUNTERS = {
  data_total: 0,
  data_processed: 0,
  data_skipped: 0,
  data_failed: 0,
  data_recovered: 0,
};

/** Milliseconds of a Go duration string ("1h30m", "60s", "250ms"). */
export function durationMs(d: string): number {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60000,
    h: 3600000,
  };
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * units[m[2]];
  return total;
}

/** A pipeline's key in the engine's maps: `project/name`. */
export const pkey = (project: string, name: string) => `${project}/${name}`;

/** The user repo `name` of `project` (a pipeline's output repo, an input repo). */
export const userRepo = (project: string, name: string): Repo => ({
  name,
  type: 'user',
  project: { name: project },
});

/** The state and row helpers of the embedded PPS; see the module documentation. */
export abstract class PpsStore {
  protected readonly db: Db;
  protected readonly events = new EventEmitter();
  /** Wakes waiters on any job change (state, counters, new job). */
  protected readonly jobSignal = new Signal();
  /** Wakes log followers. */
  protected readonly logSignal = new Signal();
  protected readonly specs = new Map<string, PipelineSpec>();
  protected logBuffer: Omit<LogRow, 'seq'>[] = [];
  /** True while the last flush of the log lines met a full disk (they wait in the buffer). */
  private logsWaitForSpace = false;
  /** The reasons of jobs waiting for space after a full disk, by job seq (storage-wait.ts). */
  private readonly storageWaits = new Map<number, string>();
  protected logTimer: NodeJS.Timeout | undefined;
  protected closed = false;
  /** False for a read-only engine over a store that never had a pipeline (no PPS tables). */
  protected hasTables = true;

  /** @param engine the embedded engine whose database holds the `pps_*` tables */
  protected constructor(protected readonly engine: EmbeddedPachyderm) {
    this.db = engine.db;
    this.events.setMaxListeners(0);
  }

  protected live(): void {
    if (this.closed) throw unavailable('the embedded Pachyderm engine is closed');
  }

  /**
   * Run `fn` in one transaction committed without waiting for the disk (`synchronous = NORMAL`):
   * for bookkeeping that a crash may lose without harm (intermediate job states, datum states,
   * counters, logs: an unfinished job is re-run from scratch on the next open). The next durable
   * (FULL) commit — e.g. the output commit's finish with the job's final state — makes it durable
   * too, in order. Inside an enclosing transaction `fn` simply joins it.
   */
  protected light<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  protected pipelineRow(project: string, name: string): PipelineRow | undefined {
    if (!this.hasTables) return undefined;
    return this.db
      .prepare('SELECT * FROM pps_pipelines WHERE project = ? AND name = ?')
      .get(project, name) as PipelineRow | undefined;
  }

  protected allPipelines(): PipelineRow[] {
    if (!this.hasTables) return [];
    return this.db
      .prepare('SELECT * FROM pps_pipelines ORDER BY project, name')
      .all() as PipelineRow[];
  }

  protected jobRow(project: string, pipeline: string, id: string): JobRow | undefined {
    if (!this.hasTables) return undefined;
    return this.db
      .prepare('SELECT * FROM pps_jobs WHERE project = ? AND pipeline = ? AND id = ?')
      .get(project, pipeline, id) as JobRow | undefined;
  }

  protected jobBySeq(seq: number): JobRow | undefined {
    return this.db.prepare('SELECT * FROM pps_jobs WHERE seq = ?').get(seq) as JobRow | undefined;
  }

  /** The normalised spec of a pipeline version (cached). */
  protected specOf(project: string, name: string, version: number): PipelineSpec {
    const k = `${pkey(project, name)}#${version}`;
    let spec = this.specs.get(k);
    if (!spec) {
      const row = this.db
        .prepare(
          'SELECT spec_json FROM pps_pipeline_versions WHERE project = ? AND name = ? AND version = ?',
        )
        .get(project, name, version) as { spec_json: string } | undefined;
      if (!row) throw pipelineNotFound(name);
      spec = JSON.parse(row.spec_json) as PipelineSpec;
      this.specs.set(k, spec);
    }
    return spec;
  }

  protected saltOf(job: JobRow): string {
    const row = this.db
      .prepare(
        'SELECT salt FROM pps_pipeline_versions WHERE project = ? AND name = ? AND version = ?',
      )
      .get(job.project, job.pipeline, job.pipeline_version) as { salt: string } | undefined;
    return row?.salt ?? '';
  }

  protected pipelineInfo(current: PipelineRow, row: PipelineRow): PipelineInfo {
    const spec = this.specOf(row.project, row.name, row.version);
    const last = this.db.prepare(LAST_JOB_SQL).get(row.project, row.name) as
      { state: JobState } | undefined;
    const open = {
      n: this.db.prepare(OPEN_JOBS_OF_PIPELINE_SQL).all(row.project, row.name).length,
    };
    const specRepo: Repo = { name: row.name, type: 'spec', project: { name: row.project } };
    const { pipeline, ...rest } = spec;
    const parallelism = spec.parallelismSpec.constant;
    let state = PipelineState.PIPELINE_RUNNING;
    if (current.stopped) state = PipelineState.PIPELINE_PAUSED;
    else if (spec.autoscaling && open.n === 0) state = PipelineState.PIPELINE_STANDBY;
    return {
      pipeline,
      version: row.version,
      specCommit: row.spec_commit
        ? { repo: specRepo, id: row.spec_commit, branch: { repo: specRepo, name: 'master' } }
        : null,
      stopped: current.stopped === 1,
      state,
      reason: '',
      lastJobState: last?.state ?? JobState.JOB_STATE_UNKNOWN,
      parallelism,
      type: PipelineType.PIPELINE_TYPE_TRANSFORM,
      details: {
        ...rest,
        createdAt: new Date(current.created_at),
        updatedAt: new Date(row.version === current.version ? current.updated_at : row.created_at),
        recentError: '',
        workersRequested: parallelism,
        workersAvailable: parallelism,
        reason: '',
      },
      userSpecJson: row.user_spec_json,
      effectiveSpecJson: row.effective_spec_json,
    };
  }

  protected jobInfo(row: JobRow): JobInfo {
    let outputBranch = 'master';
    try {
      outputBranch = this.specOf(row.project, row.pipeline, row.pipeline_version).outputBranch;
    } catch {
      /* pipeline deleted meanwhile */
    }
    const out = userRepo(row.project, row.pipeline);
    const inputs = JSON.parse(row.input_commits) as JobInput[];
    const seen = new Set<string>();
    const inputCommits: Commit[] = [];
    for (const i of inputs) {
      const k = `${i.project}/${i.repo}@${i.id}`;
      if (!i.id || seen.has(k)) continue;
      seen.add(k);
      const repo = userRepo(i.project, i.repo);
      inputCommits.push({ repo, id: i.id, branch: { repo, name: i.branch } });
    }
    return {
      job: { pipeline: { project: { name: row.project }, name: row.pipeline }, id: row.id },
      pipelineVersion: row.pipeline_version,
      outputCommit: { repo: out, id: row.id, branch: { repo: out, name: outputBranch } },
      restart: row.restart,
      dataProcessed: row.data_processed,
      dataSkipped: row.data_skipped,
      dataTotal: row.data_total,
      dataFailed: row.data_failed,
      dataRecovered: row.data_recovered,
      state: row.state,
      reason: this.storageWaits.get(row.seq) ?? row.reason,
      created: new Date(row.created),
      started: row.started === null ? null : new Date(row.started),
      finished: row.finished === null ? null : new Date(row.finished),
      inputCommits,
    };
  }

  protected datumInfo(job: JobRow, row: DatumRow): DatumInfo {
    const inputs = JSON.parse(row.inputs) as DatumInput[];
    const data: FileInfo[] = inputs.flatMap((i) =>
      i.files.map((f) => ({
        file: { commit: { repo: userRepo(i.project, i.repo), id: i.commit }, path: f.path },
        fileType: FileType.FILE,
        committed: null,
        sizeBytes: f.sizeBytes ?? 0,
        hash: f.hash,
      })),
    );
    const stats = row.stats ? JSON.parse(row.stats) : null;
    return {
      datum: {
        job: { pipeline: { project: { name: job.project }, name: job.pipeline }, id: job.id },
        id: row.id,
      },
      state: row.state,
      stats,
      data,
    };
  }

  /** Update a job row and publish the change. */
  protected setJob(seq: number, fields: Partial<Omit<JobRow, 'seq'>>): JobRow {
    const keys = Object.keys(fields);
    if (keys.length) {
      this.light(() =>
        this.db
          .prepare(`UPDATE pps_jobs SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE seq = ?`)
          .run(...keys.map((k) => (fields as Record<string, unknown>)[k]), seq),
      );
    }
    if (fields.state !== undefined && isTerminalJobState(fields.state)) {
      this.storageWaits.delete(seq);
    }
    const row = this.jobBySeq(seq)!;
    this.publish(row, 'state' in fields);
    return row;
  }

  protected publish(row: JobRow, stateChanged: boolean): void {
    this.jobSignal.notify();
    if (stateChanged) this.events.emit('job', this.jobInfo(row));
  }

  /**
   * Says that job `seq` waits for space after a full disk (`failure`: the storage error's
   * message), or no longer does (null): its reason, held in memory since a full disk may refuse
   * even this write, and a log line; watchers of the job see the change.
   */
  protected waitingForStorage(seq: number, failure: string | null): void {
    const row = this.jobBySeq(seq);
    if (!row) return;
    if (failure === null) {
      if (!this.storageWaits.delete(seq)) return;
      this.log(row, '', 'trying the write again after waiting for storage', false);
    } else {
      const reason = `waiting for storage: ${failure}`;
      if (this.storageWaits.get(seq) === reason) return;
      this.storageWaits.set(seq, reason);
      this.log(row, '', reason, false);
    }
    this.publish(row, true);
  }

  /**
   * `write` for job `job`, done again when space returns after a full disk (storage-wait.ts);
   * meanwhile the job's reason says that it waits, and why.
   */
  protected stored<T>(job: JobRow, signal: AbortSignal, write: () => Promise<T>): Promise<T> {
    return untilStored(this.engine.storage, write, {
      signal,
      onWait: (f) => this.waitingForStorage(job.seq, f.message),
      onRetry: () => this.waitingForStorage(job.seq, null),
    });
  }

  protected log(job: JobRow, datumId: string, message: string, user: boolean, worker = ''): void {
    this.logBuffer.push({
      project: job.project,
      pipeline: job.pipeline,
      job_id: job.id,
      datum_id: datumId,
      worker_id: worker,
      master: user ? 0 : 1,
      user: user ? 1 : 0,
      ts: Date.now(),
      message,
    });
    if (this.logBuffer.length >= 1000 && !this.logsWaitForSpace) this.flushLogs();
    else if (!this.logTimer) this.logTimer = setTimeout(() => this.flushLogs(), LOG_FLUSH_MS);
  }

  protected flushLogs(): void {
    if (this.logTimer) clearTimeout(this.logTimer);
    this.logTimer = undefined;
    if (this.logBuffer.length === 0 || !this.db.open) return;
    const rows = this.logBuffer;
    this.logBuffer = [];
    const ins = this.db.prepare(
      `INSERT INTO pps_logs (project, pipeline, job_id, datum_id, worker_id, master, user, ts, message)
       VALUES (@project, @pipeline, @job_id, @datum_id, @worker_id, @master, @user, @ts, @message)`,
    );
    try {
      this.light(() => {
        for (const r of rows) ins.run(r);
      });
    } catch (e) {
      if (!isStorageFull(e)) throw e;
      // a full disk: the newest lines wait (bounded) and are written once it has space again
      this.engine.storage.translate(e);
      this.logsWaitForSpace = true;
      this.logBuffer = rows.concat(this.logBuffer).slice(-LOG_BACKLOG_MAX);
      this.logTimer ??= setTimeout(() => this.flushLogs(), LOG_RETRY_MS);
      return;
    }
    this.logsWaitForSpace = false;
    this.logSignal.notify();
  }
}
