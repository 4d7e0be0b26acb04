/**
 * The embedded PPS's read side: ListJob, InspectJob, SubscribeJob, watchJobs, ListDatum,
 * InspectDatum and GetLogs (the port's contracts, port.ts), on the rows of {@link PpsStore}.
 * Listings read the job history a page at a time through indexes (history-queries.ts), so their
 * cost does not grow with it. {@link Pps} (pps.ts) adds pipelines, job creation, the scheduler
 * and the runner.
 */
import { type DatumInput } from '../datums';
import {
  datumNotFound,
  invalidArgument,
  jobNotFound,
  pipelineNotFound,
  unavailable,
} from '../errors';
import type { Cancellable, GetLogsOptions, ListDatumOptions, ListJobOptions } from '../port';
import {
  type DatumRef,
  type JobRef,
  type PipelineRef,
  toDatum,
  toJob,
  toPipeline,
  toProject,
} from '../refs';
import { type DatumInfo, type JobInfo, type LogMessage, isTerminalJobState } from '../types';
import {
  ALL_JOBS_ASC_SQL,
  ALL_JOBS_DESC_SQL,
  OPEN_JOBS_OF_PIPELINE_SQL,
  PIPELINE_JOBS_ASC_SQL,
  PIPELINE_JOBS_DESC_SQL,
  nextSeq,
  pagedBySeq,
} from './history-queries';
import { Signal, cancellable, waitFor } from './stream';
import {
  DAY_MS,
  type DatumRow,
  type JobInput,
  type JobRow,
  type LogRow,
  PpsStore,
} from './pps-store';

/** The queries of the embedded PPS; see the module documentation. */
export abstract class PpsQueries extends PpsStore {
  /** ListJob: newest first (creation order); see {@link ListJobOptions}. */
  async *listJob(opts: ListJobOptions = {}): AsyncGenerator<JobInfo> {
    this.live();
    let only: { project: string; name: string } | undefined;
    if (opts.pipeline) {
      const p = toPipeline(opts.pipeline);
      if (!this.pipelineRow(p.project.name, p.name)) throw pipelineNotFound(p.name);
      only = { project: p.project.name, name: p.name };
    }
    const projects = opts.projects?.length
      ? new Set(opts.projects.map((p) => toProject(p).name))
      : null;
    const states = opts.state?.length ? new Set<number>(opts.state) : null;
    const marker = opts.paginationMarker?.getTime();
    const wanted = await Promise.all(
      (opts.inputCommit ?? []).map(async (c) => (await this.engine.inspectCommit(c)).commit),
    );
    const history = opts.history ?? -1;
    if (!this.hasTables) return;
    const before = nextSeq(this.db, 'pps_jobs');
    // newest (or oldest) first, a page at a time; the other filters apply to the rows read, so a
    // caller that stops after N jobs (or a page of jobHistory) reads about N rows, not the history
    const rows = only
      ? pagedBySeq<JobRow>(
          this.db,
          opts.reverse ? PIPELINE_JOBS_ASC_SQL : PIPELINE_JOBS_DESC_SQL,
          [only.project, only.name],
          !opts.reverse,
          0,
          before,
        )
      : pagedBySeq<JobRow>(
          this.db,
          opts.reverse ? ALL_JOBS_ASC_SQL : ALL_JOBS_DESC_SQL,
          [],
          !opts.reverse,
          0,
          before,
        );
    let n = 0;
    for (const row of rows) {
      if (projects && !projects.has(row.project)) continue;
      if (states && !states.has(row.state)) continue;
      if (marker !== undefined && (opts.reverse ? row.created <= marker : row.created >= marker)) {
        continue;
      }
      if (history >= 0) {
        const current = this.pipelineRow(row.project, row.pipeline);
        if (current && row.pipeline_version < current.version - history) continue;
      }
      if (wanted.length) {
        const inputs = JSON.parse(row.input_commits) as JobInput[];
        const ok = wanted.every((w) =>
          inputs.some(
            (i) => i.id === w.id && i.repo === w.repo.name && i.project === w.repo.project.name,
          ),
        );
        if (!ok) continue;
      }
      yield this.jobInfo(row);
      if (opts.number && ++n >= opts.number) return;
    }
  }

  /** InspectJob; `wait` blocks until the job is terminal. @throws NOT_FOUND "job X not found". */
  async inspectJob(ref: JobRef, opts: { wait?: boolean } & Cancellable = {}): Promise<JobInfo> {
    this.live();
    const j = toJob(ref);
    const find = () => {
      const row = this.jobRow(j.pipeline.project.name, j.pipeline.name, j.id);
      if (!row) throw jobNotFound(`${j.pipeline.name}@${j.id}`);
      return row;
    };
    if (!opts.wait) return this.jobInfo(find());
    const row = await waitFor(
      () => {
        if (this.closed) throw unavailable('the embedded Pachyderm engine is closed');
        const r = find();
        return isTerminalJobState(r.state) ? r : undefined;
      },
      this.jobSignal,
      opts.signal,
    );
    return this.jobInfo(row);
  }

  /**
   * SubscribeJob: the pipeline's non-terminal jobs (oldest first), then each new job once, when
   * first seen. Never ends by itself.
   */
  subscribeJob(ref: PipelineRef, opts: Cancellable = {}): AsyncIterable<JobInfo> {
    this.live();
    const p = toPipeline(ref);
    if (!this.pipelineRow(p.project.name, p.name)) throw pipelineNotFound(p.name);
    const rowsAfter = (seq: number) =>
      this.db
        .prepare(
          'SELECT * FROM pps_jobs WHERE project = ? AND pipeline = ? AND seq > ? ORDER BY seq',
        )
        .all(p.project.name, p.name, seq) as JobRow[];
    const baseline = (
      this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM pps_jobs').get() as { m: number }
    ).m;
    // a job that is not terminal has no finished output commit yet: the open jobs, not the history
    const open = (
      this.db.prepare(OPEN_JOBS_OF_PIPELINE_SQL).all(p.project.name, p.name) as JobRow[]
    ).filter((r) => !isTerminalJobState(r.state));
    return cancellable(
      async function* (this: PpsQueries, signal: AbortSignal) {
        for (const r of open) yield this.jobInfo(r);
        let last = baseline;
        while (!signal.aborted && !this.closed) {
          const woken = this.jobSignal.wait(signal);
          const fresh = rowsAfter(last);
          for (const r of fresh) {
            last = r.seq;
            yield this.jobInfo(r);
          }
          if (fresh.length === 0) await woken;
        }
      }.bind(this),
      opts.signal,
    );
  }

  /**
   * Every state change of every job (or of one pipeline's jobs), as it happens, starting now (a
   * reelgraph extension: Pachyderm's SubscribeJob sends each job once only). Each event is the
   * job's {@link JobInfo} right after the change. Never ends by itself.
   */
  watchJobs(opts: { pipeline?: PipelineRef } & Cancellable = {}): AsyncIterable<JobInfo> {
    this.live();
    const only = opts.pipeline ? toPipeline(opts.pipeline) : undefined;
    const events = this.events;
    // listen from the call on, so that no change between the call and the first next() is lost
    const queue: JobInfo[] = [];
    const wake = new Signal();
    let closed = false;
    const on = (info: JobInfo) => {
      const p = info.job.pipeline;
      if (only && (p.name !== only.name || p.project.name !== only.project.name)) return;
      queue.push(info);
      wake.notify();
    };
    const stop = () => {
      closed = true;
      events.off('job', on);
      events.off('close', stop);
      opts.signal?.removeEventListener('abort', stop);
      wake.notify();
    };
    events.on('job', on);
    events.on('close', stop);
    opts.signal?.addEventListener('abort', stop, { once: true });
    return cancellable(async function* (signal: AbortSignal) {
      try {
        while (!signal.aborted) {
          const woken = wake.wait(signal);
          while (queue.length) yield queue.shift()!;
          if (closed) return;
          await woken;
        }
      } finally {
        stop();
      }
    }, opts.signal);
  }

  // ===========================================================================================
  // datums and logs
  // ===========================================================================================

  /** ListDatum of a job, sorted by datum id. @throws NOT_FOUND for the job. */
  async *listDatum(ref: JobRef, opts: ListDatumOptions = {}): AsyncGenerator<DatumInfo> {
    this.live();
    const j = toJob(ref);
    const job = this.jobRow(j.pipeline.project.name, j.pipeline.name, j.id);
    if (!job) throw jobNotFound(`${j.pipeline.name}@${j.id}`);
    const where = ['job_seq = ?'];
    const args: unknown[] = [job.seq];
    if (opts.filter?.state?.length) {
      where.push(`state IN (${opts.filter.state.map(() => '?').join(',')})`);
      args.push(...opts.filter.state);
    }
    if (opts.paginationMarker) {
      where.push(opts.reverse ? 'id < ?' : 'id > ?');
      args.push(opts.paginationMarker);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM pps_datums WHERE ${where.join(' AND ')} ORDER BY id ${opts.reverse ? 'DESC' : 'ASC'}
         ${opts.number ? 'LIMIT ' + Math.floor(opts.number) : ''}`,
      )
      .all(...args) as DatumRow[];
    for (const r of rows) yield this.datumInfo(job, r);
  }

  /** InspectDatum. @throws NOT_FOUND "datum X not found" (or the job's NOT_FOUND). */
  async inspectDatum(ref: DatumRef): Promise<DatumInfo> {
    this.live();
    const d = toDatum(ref);
    const job = this.jobRow(d.job.pipeline.project.name, d.job.pipeline.name, d.job.id);
    if (!job) throw jobNotFound(`${d.job.pipeline.name}@${d.job.id}`);
    const row = this.db
      .prepare('SELECT * FROM pps_datums WHERE job_seq = ? AND id = ?')
      .get(job.seq, d.id) as DatumRow | undefined;
    if (!row) throw datumNotFound(`${d.job.pipeline.name}@${d.job.id}:${d.id}`);
    return this.datumInfo(job, row);
  }

  /**
   * GetLogs of a pipeline, job or datum, oldest first. `master` selects the engine's own lines
   * instead of user code's; `since` defaults to 24 h (pachd's default); `follow` keeps streaming.
   * @throws INVALID_ARGUMENT when neither pipeline nor job (nor datum) is given; NOT_FOUND for
   *   them.
   */
  getLogs(opts: GetLogsOptions): AsyncIterable<LogMessage> {
    this.live();
    const where: string[] = [];
    const args: unknown[] = [];
    const job = opts.datum ? toDatum(opts.datum).job : opts.job ? toJob(opts.job) : undefined;
    const pipeline = job?.pipeline ?? (opts.pipeline ? toPipeline(opts.pipeline) : undefined);
    if (!pipeline) throw invalidArgument('getLogs: one of pipeline, job or datum is required');
    if (!this.pipelineRow(pipeline.project.name, pipeline.name) && !job) {
      throw pipelineNotFound(pipeline.name);
    }
    where.push('project = ? AND pipeline = ?');
    args.push(pipeline.project.name, pipeline.name);
    if (job) {
      if (!this.jobRow(job.pipeline.project.name, job.pipeline.name, job.id)) {
        throw jobNotFound(`${job.pipeline.name}@${job.id}`);
      }
      where.push('job_id = ?');
      args.push(job.id);
    }
    if (opts.datum) {
      where.push('datum_id = ?');
      args.push(toDatum(opts.datum).id);
    }
    where.push('master = ?');
    args.push(opts.master ? 1 : 0);
    where.push('ts >= ?');
    args.push(Date.now() - (opts.sinceMs ?? DAY_MS));
    const filters = opts.dataFilters ?? [];
    const datumData = new Map<string, { path: string; hash: string }[]>();
    const dataOf = (r: LogRow) => {
      if (!r.datum_id) return [];
      const k = `${r.job_id}/${r.datum_id}`;
      let d = datumData.get(k);
      if (!d) {
        const row = this.db
          .prepare(
            `SELECT d.inputs FROM pps_datums d JOIN pps_jobs j ON j.seq = d.job_seq
             WHERE j.project = ? AND j.pipeline = ? AND j.id = ? AND d.id = ?`,
          )
          .get(r.project, r.pipeline, r.job_id, r.datum_id) as { inputs: string } | undefined;
        d = row
          ? (JSON.parse(row.inputs) as DatumInput[]).flatMap((i) =>
              i.files.map((f) => ({ path: f.path, hash: f.hash })),
            )
          : [];
        datumData.set(k, d);
      }
      return d;
    };
    const toMessage = (r: LogRow, data: { path: string; hash: string }[]): LogMessage => ({
      projectName: r.project,
      pipelineName: r.pipeline,
      jobId: r.job_id,
      workerId: r.worker_id,
      datumId: r.datum_id,
      master: r.master === 1,
      data,
      user: r.user === 1,
      ts: new Date(r.ts),
      message: r.message,
    });
    const select = (after: number) => {
      this.flushLogs();
      return this.db
        .prepare(`SELECT * FROM pps_logs WHERE ${where.join(' AND ')} AND seq > ? ORDER BY seq`)
        .all(...args, after) as LogRow[];
    };
    const matching = (rows: LogRow[]) =>
      rows
        .map((r) => ({ r, data: dataOf(r) }))
        .filter(({ data }) => filters.every((f) => data.some((d) => d.path === f || d.hash === f)));
    return cancellable(
      async function* (this: PpsQueries, signal: AbortSignal) {
        let rows = matching(select(0));
        if (opts.tail && opts.tail > 0) rows = rows.slice(-opts.tail);
        let last = 0;
        for (const { r, data } of rows) yield toMessage(r, data);
        const all = select(0);
        last = all.length ? all[all.length - 1].seq : 0;
        while (opts.follow && !signal.aborted && !this.closed) {
          const woken = this.logSignal.wait(signal);
          const fresh = select(last);
          if (fresh.length) last = fresh[fresh.length - 1].seq;
          for (const { r, data } of matching(fresh)) yield toMessage(r, data);
          if (fresh.length === 0) await woken;
        }
      }.bind(this),
      opts.signal,
    );
  }
}
