/**
 * The embedded engine's PPS: pipelines, jobs, datums and logs with Pachyderm 2.x semantics
 * (shared/pachyderm-api.md §2.5, §2.6, §4; pachyderm/pachyderm `src/server/pps/server/`,
 * `src/server/worker/pipeline/transform/`), on the PFS half of {@link EmbeddedPachyderm}.
 *
 * - **Pipelines.** `createPipeline` parses the JSON spec (spec.ts), creates the output repo (type
 *   `user`) with its output branch (provenance = the input branches, so clients cannot commit to
 *   it), the `spec` and `meta` repos of the same name, writes the effective spec as a commit of the
 *   spec repo, and creates a job right away whose id is that spec commit's id.
 * - **Jobs.** A finished USER commit on an input branch creates, in one commit set, a job (id =
 *   the commit's id) for every pipeline downstream of that branch, transitively, each with its
 *   input commits fixed at creation: the commit of the same commit set when the input is upstream
 *   in the set, else the input branch's head. The jobs of one pipeline run strictly in creation
 *   order. A job waits until its input commits are finished (Pachyderm's READY), then: STARTING
 *   (UNRUNNABLE when an input commit was finished with an error, i.e. an upstream job failed);
 *   its output commit is started (AUTO, id = job id, direct provenance = the input commits);
 *   datums are computed (datums.ts); RUNNING: datums already processed successfully by the
 *   previous job (same datum id, same salt, `reprocessSpec` `until_success`) are SKIPPED and keep
 *   their output; every other datum's old output is deleted and the datum runs (runner.ts), up to
 *   `datumTries` times; FINISHING: the output commit is finished — with the error
 *   "duplicate path output by different datums: P" when two datums wrote the same path — and the
 *   job becomes SUCCESS, or FAILURE with the reason, when that commit is FINISHED: in the same
 *   transaction, after the engine's finishing window (pachd's order: its PFS master finishes the
 *   commit after compaction and its JobFinisher ends the job then; a job is never SUCCESS while
 *   its output commit is FINISHING). A failing job becomes FAILURE with its FinishCommit, as
 *   pachd's `failJob` does. `stopJob` makes it KILLED.
 * - **A full disk** (storage-wait.ts) fails no job: a datum's output stays staged, and any other
 *   write of the job is done again (the job re-run, `restart` + 1), once space returns; meanwhile
 *   the job's reason is "waiting for storage: insufficient storage: …".
 * - **Durability.** The job's final state and its output commit's finish are one SQLite
 *   transaction. A job that was not terminal when the process stopped is re-run from scratch on
 *   the next open (its half-written output is deleted before re-running; `restart` counts it).
 * - **Concurrency.** At most `maxDatums` datum processes (default: the CPU count) and `maxJobs`
 *   running jobs (default: the CPU count) at once; other jobs wait in CREATED.
 * - **Datum batching.** A `transform.datumBatching` process stays up after its job, waiting in
 *   `NextDatum`, and serves the pipeline's next job (same pipeline version) if it comes within
 *   `batchIdleMs`, as a Pachyderm worker's user code does; it is retired (`done`) when idle, on a
 *   pipeline update, and when the engine closes, and killed with a KILLED job.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';

import * as fsp from 'node:fs/promises';

import * as os from 'node:os';

import * as path from 'node:path';

import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { computeDatums, type DatumFile, type DatumSpec } from '../datums';
import {
  PachCode,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isPachError,
  jobNotFound,
  pipelineNotFound,
  unavailable,
} from '../errors';
import {
  type CommitRef,
  type JobRef,
  type PipelineRef,
  type ProjectRef,
  toJob,
  toPipeline,
  toProject,
} from '../refs';
import { effectiveSpecJson, parsePipelineSpec, pfsInputs, requestFlags } from '../spec';
import {
  type Commit,
  DatumState,
  JobState,
  OriginKind,
  type PipelineInfo,
  type PipelineSpec,
  type Repo,
  isTerminalJobState,
} from '../types';
import { migrate } from './db';
import { NEWEST_JOB_CREATED_SQL, PREVIOUS_RAN_JOB_SQL, QUEUE_HEADS_SQL } from './history-queries';
import type { CommitEvent, EmbeddedPachyderm, PpsApi } from './index';
import type { CommitRow } from './pfs-metadata';
import { PPS_MIGRATIONS } from './pps-schema';
import {
  BatchProcess,
  type BatchTransport,
  type DatumOutcome,
  type DatumTask,
  type RunContext,
  runDatum,
} from './runner';
import { PpsQueries } from './pps-queries';
import {
  type JobInput,
  type JobRow,
  type PipelineRow,
  RERUN_COUNTERS,
  durationMs,
  pkey,
  userRepo,
} from './pps-store';

/** Options of the PPS half. */
export interface PpsOptions {
  /** Datum processes running at once, over all jobs (default: `os.cpus().length`). */
  maxDatums?: number;
  /** Jobs running at once, over all pipelines (default: `os.cpus().length`). */
  maxJobs?: number;
  /** Where datum directories are made (default: a fresh directory under `os.tmpdir()`). */
  workRoot?: string;
  /** Directory `transform.cmd` runs in when the spec has no `workingDir` (default: cwd). */
  cwd?: string;
  /**
   * Run jobs (default true). False: answer queries only — no recovery, no new jobs (e.g. the CLI
   * reading the data directory of a running server).
   */
  runJobs?: boolean;
  /**
   * How long a datum-batching process is kept waiting in `NextDatum` after its job, for the
   * pipeline's next job, ms (default 60 000; 0: it gets `done` when its job has no datum left).
   */
  batchIdleMs?: number;
  /**
   * How datum-batching processes ask for datums: `ipc` (default, Node's IPC channel) or `grpc`
   * (Pachyderm's worker API, `PPS_WORKER_GRPC_PORT` + NextDatum, as in a real cluster; the pachd
   * stand-in uses it). See runner.ts.
   */
  batchTransport?: BatchTransport;
}

/** A datum-batching process kept between the jobs of one pipeline (see runner.ts). */
interface WarmProcess {
  proc: BatchProcess;
  /** The pipeline version it runs the transform of. */
  version: number;
  /** Its work directory (removed when it ends). */
  dir: string;
  idle?: NodeJS.Timeout;
}

interface Running {
  ctl: AbortController;
  done: Promise<void>;
  /** Set by stopJob: the run ends KILLED with this reason. */
  kill?: string;
  /** Set by deletePipeline / close: the run ends without writing a state. */
  drop?: boolean;
}

/** Counting semaphore (FIFO). */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** Input files up to this size are copied in one read and one write instead of streamed. */
const SMALL_FILE = 8 << 20;
/**
 * Datum outputs are staged and uploaded into the output commit together, in one modification
 * (one pack of blobs, one durable transaction), once this many datums or bytes are staged and
 * when the job's datums are done: a job re-answering many requests costs a few durable writes
 * instead of one per datum. (The output commit stays open until the job finishes, and a job
 * interrupted by a crash is re-run from scratch, so nothing is lost by waiting.)
 */
const STAGE_MAX_DATUMS = 256;
const STAGE_MAX_BYTES = 16 << 20;

export { durationMs };

/**
 * The PPS half of the embedded engine. Build it with {@link Pps.create} (or pass
 * {@link embeddedPps} to `EmbeddedPachyderm.open`).
 */
export class Pps extends PpsQueries implements PpsApi {
  private readonly running = new Map<string, Running>();
  /** The seq of the job each running pipeline runs, by `project/pipeline`. */
  private readonly runningJobSeq = new Map<string, number>();
  /** Datum-batching processes by `project/pipeline#worker`. */
  private readonly warm = new Map<string, WarmProcess>();
  private readonly datumSlots: Semaphore;
  private readonly maxJobs: number;
  private readonly runJobs: boolean;
  private lastCreated = 0;
  private pumping = false;
  private pumpAgain = false;
  private unlisten: () => void = () => undefined;
  private workRootMade = false;

  private constructor(
    engine: EmbeddedPachyderm,
    private readonly opts: PpsOptions,
    private readonly workRoot: string,
  ) {
    super(engine);
    const cpus = Math.max(1, os.cpus().length);
    this.datumSlots = new Semaphore(opts.maxDatums ?? cpus);
    this.maxJobs = opts.maxJobs ?? cpus;
    this.runJobs = opts.runJobs ?? true;
  }

  /**
   * Build the PPS half on an open engine: migrates the `pps` tables; unless `runJobs` is false,
   * re-queues the jobs a previous process left unfinished (re-run from scratch), creates the jobs
   * for input commits finished while no process listened, and starts the scheduler.
   */
  static async create(engine: EmbeddedPachyderm, opts: PpsOptions = {}): Promise<Pps> {
    const runJobs = opts.runJobs ?? true;
    if (runJobs) migrate(engine.db, 'pps', PPS_MIGRATIONS);
    const workRoot = opts.workRoot ?? path.join(os.tmpdir(), `reelgraph-pps-${randomUUID()}`);
    const pps = new Pps(engine, opts, workRoot);
    pps.hasTables = !!engine.db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pps_jobs'")
      .get();
    if (runJobs) {
      pps.recover();
      const unlisten = engine.onCommit((ev) => pps.onCommit(ev));
      engine.pfs.onFinishedTx = (repo, row) => pps.onOutputFinished(repo, row);
      pps.unlisten = () => {
        unlisten();
        engine.pfs.onFinishedTx = null;
      };
      pps.catchUp();
      pps.pump();
    }
    return pps;
  }

  // ===========================================================================================
  // pipelines
  // ===========================================================================================

  /** CreatePipelineV2 (see the port). */
  async createPipeline(
    json: string | object,
    opts: { update?: boolean; reprocess?: boolean; dryRun?: boolean } = {},
  ): Promise<{ effectiveCreatePipelineRequestJson: string }> {
    this.live();
    const spec = parsePipelineSpec(json);
    const flags = requestFlags(json);
    const update = !!(opts.update || flags.update);
    const reprocess = !!(opts.reprocess || flags.reprocess);
    const effective = effectiveSpecJson(spec);
    const { project, name } = { project: spec.pipeline.project.name, name: spec.pipeline.name };
    const existing = this.pipelineRow(project, name);
    if (existing && !update) throw alreadyExists('pipeline', name);
    await this.engine.inspectProject(project);
    for (const input of pfsInputs(spec.input)) {
      await this.engine.inspectRepo({
        name: input.repo,
        project: input.project,
        type: input.repoType,
      });
      if (input.repo === name && input.project === project) {
        throw invalidArgument(
          `invalid pipeline spec: input.pfs.repo: pipeline ${name} cannot read its own output`,
        );
      }
    }
    if (opts.dryRun || flags.dryRun) return { effectiveCreatePipelineRequestJson: effective };
    if (!this.runJobs) throw unavailable('this engine was opened without running jobs');

    const out = userRepo(project, name);
    if (!existing) {
      const clash = await this.engine.inspectRepo(out).then(
        () => true,
        (e) => (isPachError(e, PachCode.NOT_FOUND) ? false : Promise.reject(e)),
      );
      if (clash) throw alreadyExists('repo', `${project}/${name}`);
      await this.engine.createRepo(out, { description: `Output repo for pipeline ${name}.` });
    }
    for (const type of ['spec', 'meta'] as const) {
      await this.engine.createRepo(
        { name, type, project },
        { update: true, description: `${type} repo for pipeline ${name}.` },
      );
    }
    await this.engine.createBranch(
      { repo: out, name: spec.outputBranch },
      {
        provenance: pfsInputs(spec.input).map((i) => ({
          repo: { name: i.repo, project: i.project, type: i.repoType },
          name: i.branch,
        })),
      },
    );
    const specCommit = await this.engine.modifyFile(
      { repo: { name, type: 'spec', project }, branch: 'master', id: '' },
      [{ op: 'put', path: '/spec.json', data: effective }],
    );
    const now = Date.now();
    const version = (existing?.version ?? 0) + 1;
    const salt = existing && !reprocess ? existing.salt : randomUUID().replace(/-/g, '');
    const userJson = typeof json === 'string' ? json : JSON.stringify(json);
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO pps_pipelines (project, name, version, stopped, spec_json, user_spec_json,
             effective_spec_json, salt, spec_commit, created_at, updated_at)
           VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(project, name) DO UPDATE SET version = excluded.version,
             spec_json = excluded.spec_json, user_spec_json = excluded.user_spec_json,
             effective_spec_json = excluded.effective_spec_json, salt = excluded.salt,
             spec_commit = excluded.spec_commit, updated_at = excluded.updated_at`,
        )
        .run(
          project,
          name,
          version,
          JSON.stringify(spec),
          userJson,
          effective,
          salt,
          specCommit.id,
          now,
          now,
        );
      this.db
        .prepare(
          `INSERT INTO pps_pipeline_versions (project, name, version, spec_json, user_spec_json,
             effective_spec_json, salt, spec_commit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          project,
          name,
          version,
          JSON.stringify(spec),
          userJson,
          effective,
          salt,
          specCommit.id,
          now,
        );
    })();
    this.specs.set(`${pkey(project, name)}#${version}`, spec);
    this.propagate(specCommit.id, [], pkey(project, name));
    this.pump();
    return { effectiveCreatePipelineRequestJson: effective };
  }

  /** InspectPipeline. @throws NOT_FOUND `pipeline "X" not found`. */
  async inspectPipeline(ref: PipelineRef): Promise<PipelineInfo> {
    this.live();
    const p = toPipeline(ref);
    const row = this.pipelineRow(p.project.name, p.name);
    if (!row) throw pipelineNotFound(p.name);
    return this.pipelineInfo(row, row);
  }

  /** ListPipeline, sorted by project then name; `history`: 0 current, n previous too, -1 all. */
  async *listPipeline(
    opts: { pipeline?: PipelineRef; history?: number; projects?: ProjectRef[] } = {},
  ): AsyncGenerator<PipelineInfo> {
    this.live();
    const projects = opts.projects?.map((p) => toProject(p).name);
    const only = opts.pipeline ? toPipeline(opts.pipeline) : undefined;
    if (only && !this.pipelineRow(only.project.name, only.name)) throw pipelineNotFound(only.name);
    const rows = this.allPipelines();
    const history = opts.history ?? 0;
    for (const row of rows) {
      if (projects && !projects.includes(row.project)) continue;
      if (only && (only.project.name !== row.project || only.name !== row.name)) continue;
      yield this.pipelineInfo(row, row);
      if (history === 0) continue;
      const older = this.db
        .prepare(
          'SELECT * FROM pps_pipeline_versions WHERE project = ? AND name = ? AND version < ? ORDER BY version DESC',
        )
        .all(row.project, row.name, row.version) as PipelineRow[];
      for (const v of history < 0 ? older : older.slice(0, history)) {
        yield this.pipelineInfo(row, { ...row, ...v });
      }
    }
  }

  /**
   * DeletePipeline: kills its running job, deletes its jobs, datums and logs, and (unless
   * `keepRepo`) its output, spec and meta repos.
   * @throws NOT_FOUND when `mustExist` and it does not exist; FAILED_PRECONDITION when another
   *   pipeline reads its output (unless `force`).
   */
  async deletePipeline(
    ref: PipelineRef,
    opts: { force?: boolean; keepRepo?: boolean; mustExist?: boolean } = {},
  ): Promise<void> {
    this.live();
    const p = toPipeline(ref);
    const row = this.pipelineRow(p.project.name, p.name);
    if (!row) {
      if (opts.mustExist) throw pipelineNotFound(p.name);
      return;
    }
    const key = pkey(row.project, row.name);
    if (!opts.force) {
      for (const other of this.allPipelines()) {
        if (pkey(other.project, other.name) === key) continue;
        const spec = this.specOf(other.project, other.name, other.version);
        if (pfsInputs(spec.input).some((i) => i.project === row.project && i.repo === row.name)) {
          throw failedPrecondition(
            `cannot delete pipeline ${row.name}: pipeline ${other.name} reads its output; use force`,
          );
        }
      }
    }
    const run = this.running.get(key);
    if (run) {
      run.drop = true;
      run.ctl.abort();
      await run.done;
    }
    this.flushLogs();
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM pps_logs WHERE project = ? AND pipeline = ?')
        .run(row.project, row.name);
      this.db
        .prepare(
          'DELETE FROM pps_datums WHERE job_seq IN (SELECT seq FROM pps_jobs WHERE project = ? AND pipeline = ?)',
        )
        .run(row.project, row.name);
      this.db
        .prepare('DELETE FROM pps_jobs WHERE project = ? AND pipeline = ?')
        .run(row.project, row.name);
      this.db
        .prepare('DELETE FROM pps_pipeline_versions WHERE project = ? AND name = ?')
        .run(row.project, row.name);
      this.db
        .prepare('DELETE FROM pps_pipelines WHERE project = ? AND name = ?')
        .run(row.project, row.name);
    })();
    for (const k of [...this.specs.keys()]) if (k.startsWith(`${key}#`)) this.specs.delete(k);
    if (!opts.keepRepo) {
      for (const type of ['user', 'spec', 'meta'] as const) {
        await this.engine.deleteRepo(
          { name: row.name, type, project: row.project },
          { force: true },
        );
      }
    }
    this.jobSignal.notify();
    this.pump();
  }

  /** StopPipeline: no job of it starts until {@link startPipeline} (state PAUSED). */
  async stopPipeline(ref: PipelineRef, opts: { mustExist?: boolean } = {}): Promise<void> {
    this.live();
    const p = toPipeline(ref);
    const res = this.db
      .prepare(
        'UPDATE pps_pipelines SET stopped = 1, updated_at = ? WHERE project = ? AND name = ?',
      )
      .run(Date.now(), p.project.name, p.name);
    if (res.changes === 0 && opts.mustExist !== false) throw pipelineNotFound(p.name);
  }

  /** StartPipeline: undo {@link stopPipeline}; its waiting jobs run. */
  async startPipeline(ref: PipelineRef): Promise<void> {
    this.live();
    const p = toPipeline(ref);
    const res = this.db
      .prepare(
        'UPDATE pps_pipelines SET stopped = 0, updated_at = ? WHERE project = ? AND name = ?',
      )
      .run(Date.now(), p.project.name, p.name);
    if (res.changes === 0) throw pipelineNotFound(p.name);
    this.pump();
  }

  /**
   * StopJob: a job that is not terminal becomes KILLED (its process is killed; its output commit
   * is finished with the error `reason`).
   * @throws NOT_FOUND for the job; FAILED_PRECONDITION "job X has already finished".
   */
  async stopJob(ref: JobRef, opts: { reason?: string } = {}): Promise<void> {
    this.live();
    const j = toJob(ref);
    const row = this.jobRow(j.pipeline.project.name, j.pipeline.name, j.id);
    if (!row) throw jobNotFound(`${j.pipeline.name}@${j.id}`);
    if (isTerminalJobState(row.state)) throw failedPrecondition(`job ${j.id} has already finished`);
    const reason = opts.reason || 'job was stopped';
    const run = this.running.get(pkey(row.project, row.pipeline));
    if (run && run.ctl && this.runningJobSeq.get(pkey(row.project, row.pipeline)) === row.seq) {
      run.kill = reason;
      run.ctl.abort();
      await run.done;
      return;
    }
    this.setJob(row.seq, { state: JobState.JOB_KILLED, reason, finished: Date.now() });
    this.pump();
  }

  // ===========================================================================================
  // lifecycle
  // ===========================================================================================

  /** Stop: kill running processes (their jobs are re-run on the next open), end streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    const runs = [...this.running.values()];
    for (const r of runs) {
      r.drop = true;
      r.ctl.abort();
    }
    await Promise.all(runs.map((r) => r.done));
    await Promise.all([...this.warm.keys()].map((k) => this.retireWarm(k)));
    this.flushLogs();
    if (this.logTimer) clearTimeout(this.logTimer);
    this.jobSignal.notify();
    this.logSignal.notify();
    this.events.emit('close');
    if (this.workRootMade) await fsp.rm(this.workRoot, { recursive: true, force: true });
  }

  // ===========================================================================================
  // internals: job creation
  // ===========================================================================================

  private onCommit(ev: CommitEvent): void {
    if (this.closed) return;
    // pachd creates a commit's jobs in FinishCommit's transaction (they wait for their inputs
    // to be FINISHED); with a finishing window that is the `finishing` event
    const created =
      ev.kind === 'finishing' ||
      (ev.kind === 'finished' && this.engine.pfs.finishingWindowMs === 0);
    if (created && ev.origin === OriginKind.USER && ev.repo.type === 'user' && ev.branch) {
      // synchronously, so the jobs exist when the client's call that finished the commit returns
      try {
        const source = { project: ev.repo.project.name, repo: ev.repo.name, branch: ev.branch };
        this.propagate(ev.id, [source]);
      } catch (e) {
        this.internalError(`cannot create the jobs of commit ${ev.id}`, e);
      }
    }
    if (ev.kind === 'finished') this.pump();
  }

  /**
   * The output commit `row` of repo `repo` just became FINISHED (inside that transaction, see
   * `Pfs.onFinishedTx`): its job, when FINISHING, ends SUCCESS, or FAILURE with the commit's
   * error — as pachd's JobFinisher (2.12 `pps/server/transaction_defer.go`). A job already
   * terminal (FAILURE, KILLED, UNRUNNABLE set with the commit's FinishCommit) is left alone.
   */
  private onOutputFinished(repo: Repo, row: CommitRow): void {
    if (this.closed || repo.type !== 'user') return;
    const job = this.jobRow(repo.project.name, repo.name, row.id);
    if (job && job.state === JobState.JOB_FINISHING && job.output_done === 0) {
      this.finishJobOf(job.seq, row);
    }
  }

  /** Ends FINISHING job `seq` by its FINISHED output commit `row`: SUCCESS, or FAILURE with its error. */
  private finishJobOf(seq: number, row: CommitRow): void {
    this.setJob(seq, {
      state: row.error ? JobState.JOB_FAILURE : JobState.JOB_SUCCESS,
      reason: row.error,
      finished: Date.now(),
      output_done: 1,
    });
  }

  private internalError(what: string, e: unknown): void {
    if (this.closed) return;
    // surface in the logs of no pipeline in particular: stderr of the engine process
    process.emitWarning(`reelgraph PPS: ${what}: ${(e as Error)?.message ?? e}`);
  }

  /**
   * Create the jobs of commit set `setId`: for every pipeline reading one of `sources` (and for
   * `self`, a pipeline just created or updated), then, transitively, for every pipeline reading
   * their outputs; upstream first.
   */
  private propagate(
    setId: string,
    sources: { project: string; repo: string; branch: string }[],
    self?: string,
  ): void {
    if (this.closed) return;
    const pipelines = this.allPipelines().map((row) => ({
      row,
      key: pkey(row.project, row.name),
      spec: this.specOf(row.project, row.name, row.version),
    }));
    const affected = new Map<string, (typeof pipelines)[number]>();
    const outputs = new Set<string>();
    let frontier = sources.map((s) => `${s.project}/${s.repo}@${s.branch}`);
    const selfEntry = pipelines.find((p) => p.key === self);
    if (selfEntry) {
      affected.set(selfEntry.key, selfEntry);
      const o = `${selfEntry.row.project}/${selfEntry.row.name}@${selfEntry.spec.outputBranch}`;
      outputs.add(o);
      frontier.push(o);
    }
    while (frontier.length) {
      const next: string[] = [];
      for (const p of pipelines) {
        if (affected.has(p.key)) continue;
        const reads = pfsInputs(p.spec.input).some((i) =>
          frontier.includes(`${i.project}/${i.repo}@${i.branch}`),
        );
        if (!reads) continue;
        affected.set(p.key, p);
        const o = `${p.row.project}/${p.row.name}@${p.spec.outputBranch}`;
        outputs.add(o);
        next.push(o);
      }
      frontier = next;
    }
    // upstream first: a pipeline is created once no affected pipeline it reads is pending
    const pending = [...affected.values()];
    const created = new Set<string>();
    while (pending.length) {
      const i = pending.findIndex((p) =>
        pfsInputs(p.spec.input).every((inp) => {
          const up = pkey(inp.project, inp.repo);
          return !affected.has(up) || created.has(up) || up === p.key;
        }),
      );
      const p = pending.splice(i < 0 ? 0 : i, 1)[0];
      created.add(p.key);
      if (this.jobRow(p.row.project, p.row.name, setId)) continue;
      const inputs: JobInput[] = [];
      for (const inp of pfsInputs(p.spec.input)) {
        inputs.push({
          name: inp.name,
          project: inp.project,
          repo: inp.repo,
          branch: inp.branch,
          id: this.resolveInput(setId, inp, outputs),
        });
      }
      const now = Math.max(Date.now(), this.lastCreated + 1);
      this.lastCreated = now;
      const info = this.light(() =>
        this.db
          .prepare(
            `INSERT INTO pps_jobs (project, pipeline, id, pipeline_version, state, created, input_commits)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            p.row.project,
            p.row.name,
            setId,
            p.row.version,
            JobState.JOB_CREATED,
            now,
            JSON.stringify(inputs),
          ),
      );
      const row = this.jobBySeq(Number(info.lastInsertRowid))!;
      this.publish(row, true);
    }
  }

  /** The commit an input of a new job of commit set `setId` reads. */
  private resolveInput(
    setId: string,
    inp: { project: string; repo: string; branch: string; repoType?: string; commit?: string },
    outputs: Set<string>,
  ): string {
    if (outputs.has(`${inp.project}/${inp.repo}@${inp.branch}`)) return setId;
    const repo = { name: inp.repo, type: 'user' as const, project: { name: inp.project } };
    if (inp.commit) return inp.commit;
    try {
      const row = this.engine.pfs.resolveCommit({ repo, id: setId });
      if (row.branch === inp.branch) return setId;
    } catch (e) {
      if (!isPachError(e)) throw e;
    }
    try {
      const head = this.engine.pfs.resolveCommit({
        repo,
        id: '',
        branch: { repo, name: inp.branch },
      });
      return head.id;
    } catch (e) {
      if (!isPachError(e)) throw e;
      return '';
    }
  }

  /** On open: re-queue unfinished jobs (re-run from scratch). */
  private recover(): void {
    const rows = this.db
      .prepare(`SELECT * FROM pps_jobs WHERE output_done = 0 AND state NOT IN (?, ?, ?, ?)`)
      .all(
        JobState.JOB_SUCCESS,
        JobState.JOB_FAILURE,
        JobState.JOB_KILLED,
        JobState.JOB_UNRUNNABLE,
      ) as JobRow[];
    const last = this.db.prepare(NEWEST_JOB_CREATED_SQL).get() as { created: number } | undefined;
    this.lastCreated = last?.created ?? 0;
    this.db.transaction(() => {
      for (const r of rows) {
        this.db.prepare('DELETE FROM pps_datums WHERE job_seq = ?').run(r.seq);
        this.db
          .prepare(
            `UPDATE pps_jobs SET state = ?, reason = '', started = NULL, restart = restart + 1,
             data_total = 0, data_processed = 0, data_skipped = 0, data_failed = 0,
             data_recovered = 0, ran = 0 WHERE seq = ?`,
          )
          .run(JobState.JOB_CREATED, r.seq);
      }
    })();
  }

  /** On open: create the jobs of input commits finished while no process was listening. */
  private catchUp(): void {
    for (const p of this.allPipelines()) {
      const spec = this.specOf(p.project, p.name, p.version);
      for (const inp of pfsInputs(spec.input)) {
        const repo = { name: inp.repo, type: 'user' as const, project: { name: inp.project } };
        let info;
        try {
          info = this.engine.pfs.commitInfo(
            this.engine.pfs.resolveCommit({ repo, id: '', branch: { repo, name: inp.branch } }),
          );
        } catch {
          continue;
        }
        if (info.origin.kind !== OriginKind.USER || !info.finished) continue;
        if (info.started.getTime() < p.created_at) continue;
        if (this.jobRow(p.project, p.name, info.commit.id)) continue;
        this.propagate(info.commit.id, [
          { project: inp.project, repo: inp.repo, branch: inp.branch },
        ]);
      }
    }
  }

  // ===========================================================================================
  // internals: scheduler
  // ===========================================================================================

  /** Start whatever jobs can start. Re-entrant calls coalesce into one more pass. */
  private pump(): void {
    if (this.closed || !this.runJobs) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpLoop()
      .catch((e) => this.internalError('scheduler', e))
      .finally(() => {
        this.pumping = false;
        // a pump() that came after the loop's last check but before this point
        if (this.pumpAgain) this.pump();
      });
  }

  private async pumpLoop(): Promise<void> {
    do {
      this.pumpAgain = false;
      // through the open-jobs index only: the cost follows the queue, not the job history
      const heads = this.db.prepare(QUEUE_HEADS_SQL).all() as JobRow[];
      for (const job of heads) {
        if (this.closed) return;
        const key = pkey(job.project, job.pipeline);
        if (this.running.has(key)) continue;
        const p = this.pipelineRow(job.project, job.pipeline);
        if (!p) continue;
        if (isTerminalJobState(job.state)) {
          // killed before it started: give it its (errored) output commit, in order
          await this.settle(job, job.state, job.reason);
          this.pumpAgain = true;
          continue;
        }
        // ran, its output commit FINISHING: it ends when the commit is FINISHED
        // (onOutputFinished), and the pipeline's next job waits for it, as pachd's worker waits
        // for its base job's commit (2.12 transform/pending_job.go createSerialDatums)
        if (job.state === JobState.JOB_FINISHING) continue;
        if (p.stopped) continue;
        if (this.running.size >= this.maxJobs) break;
        if (!this.inputsReady(job)) continue;
        this.start(job);
      }
    } while (this.pumpAgain && !this.closed);
  }

  /** Every input commit exists and is finished (Pachyderm's READY). */
  private inputsReady(job: JobRow): boolean {
    for (const i of JSON.parse(job.input_commits) as JobInput[]) {
      if (!i.id) continue;
      try {
        const row = this.engine.pfs.resolveCommit({ repo: userRepo(i.project, i.repo), id: i.id });
        if (row.finished === null) return false;
      } catch (e) {
        if (isPachError(e, PachCode.NOT_FOUND)) return false;
        throw e;
      }
    }
    return true;
  }

  private start(job: JobRow): void {
    const key = pkey(job.project, job.pipeline);
    const ctl = new AbortController();
    const run: Running = { ctl, done: Promise.resolve() };
    this.running.set(key, run);
    this.runningJobSeq.set(key, job.seq);
    run.done = (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const spec = this.specOf(job.project, job.pipeline, job.pipeline_version);
        if (spec.jobTimeout) {
          const ms = durationMs(spec.jobTimeout);
          timer = setTimeout(() => {
            run.kill ??= `job timed out after ${spec.jobTimeout}`;
            ctl.abort();
          }, ms);
        }
        // a write that met a full disk outside a datum's upload: wait for space, run it again
        let runs = 0;
        await this.stored(job, ctl.signal, async () => {
          if (runs++) job = this.setJob(job.seq, { ...RERUN_COUNTERS, restart: job.restart + 1 });
          await this.runJob(job, spec, ctl.signal);
        });
        if (run.drop || this.closed) return;
        if (run.kill) await this.settle(this.jobBySeq(job.seq)!, JobState.JOB_KILLED, run.kill);
      } catch (e) {
        if (run.drop || this.closed) return;
        if (run.kill) {
          await this.settle(this.jobBySeq(job.seq)!, JobState.JOB_KILLED, run.kill).catch((e2) =>
            this.internalError(`job ${job.id}`, e2),
          );
          return;
        }
        const message = (e as Error)?.message ?? String(e);
        const row = this.jobBySeq(job.seq);
        if (row) {
          this.log(row, '', `job failed: ${message}`, false);
          await this.settle(row, JobState.JOB_FAILURE, message).catch((e2) =>
            this.internalError(`job ${job.id}`, e2),
          );
        }
      } finally {
        if (timer) clearTimeout(timer);
        this.flushLogs();
        this.running.delete(key);
        this.runningJobSeq.delete(key);
        this.pump();
      }
    })();
  }

  /**
   * Make a job terminal: ensure its output commit exists, finish it (with `reason` as its error
   * unless SUCCESS) and record the state — one transaction.
   */
  private async settle(job: JobRow, state: JobState, reason: string): Promise<void> {
    // already settled (e.g. a StopJob racing with the job's own end): the first state stays
    if (this.jobBySeq(job.seq)?.output_done !== 0) return;
    const commit = await this.ensureOutputCommit(job, false);
    const pfs = this.engine.pfs;
    pfs.tx(() => {
      const row = pfs.resolveCommit(commit);
      if (row.finishing === null) {
        pfs.finishCommitTx(row, {
          error: state === JobState.JOB_SUCCESS ? '' : reason || 'job failed',
        });
      }
      this.setJob(job.seq, {
        state,
        reason,
        finished: job.finished ?? Date.now(),
        output_done: 1,
      });
    });
  }

  /**
   * The job's output commit, started (AUTO, id = job id, provenance = inputs) if missing; `floor`
   * false: even below the free-space floor (to settle a job).
   */
  private async ensureOutputCommit(job: JobRow, floor = true): Promise<Commit> {
    const out = userRepo(job.project, job.pipeline);
    const commit: Commit = { repo: out, id: job.id };
    try {
      this.engine.pfs.resolveCommit(commit);
      return commit;
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    const spec = this.specOf(job.project, job.pipeline, job.pipeline_version);
    const provenance: CommitRef[] = [];
    const seen = new Set<string>();
    for (const i of JSON.parse(job.input_commits) as JobInput[]) {
      const c = { repo: userRepo(i.project, i.repo), id: i.id };
      const k = `${i.project}/${i.repo}@${i.id}`;
      if (!i.id || seen.has(k)) continue;
      seen.add(k);
      try {
        this.engine.pfs.resolveCommit(c);
        provenance.push(c);
      } catch {
        /* an input commit that never came to be (upstream deleted) */
      }
    }
    return this.engine.startOutputCommit(
      { repo: out, name: spec.outputBranch },
      { id: job.id, provenance, floor },
    );
  }

  // ===========================================================================================
  // internals: running a job
  // ===========================================================================================

  private async runJob(job: JobRow, spec: PipelineSpec, signal: AbortSignal): Promise<void> {
    const inputs = JSON.parse(job.input_commits) as JobInput[];
    job = this.setJob(job.seq, { state: JobState.JOB_STARTING, started: Date.now(), reason: '' });
    this.log(job, '', `starting job ${job.id} (restart ${job.restart})`, false);

    // UNRUNNABLE when an input commit carries an error (its upstream job failed)
    const failedUpstream: string[] = [];
    for (const i of inputs) {
      if (!i.id) continue;
      const row = this.engine.pfs.resolveCommit({ repo: userRepo(i.project, i.repo), id: i.id });
      if (row.error && !failedUpstream.includes(i.repo)) failedUpstream.push(i.repo);
    }
    const outCommit = await this.ensureOutputCommit(job);
    // the row's fields (finished, error) only: a full CommitInfo lists every child and
    // subvenance commit, which grows with the history (e.g. a model read by every predict job)
    const outInfo = this.engine.pfs.resolveCommit(outCommit);
    if (outInfo.finishing) {
      // the commit was finished by an earlier process: its error decides
      await this.settle(
        job,
        outInfo.error ? JobState.JOB_FAILURE : JobState.JOB_SUCCESS,
        outInfo.error,
      );
      return;
    }
    if (failedUpstream.length) {
      const reason = `unrunnable because the following upstream pipelines failed: ${failedUpstream.join(', ')}`;
      this.log(job, '', reason, false);
      await this.settle(job, JobState.JOB_UNRUNNABLE, reason);
      return;
    }

    // datums
    const filesOf = new Map<string, { commit: string; files: DatumFile[] }>();
    for (const i of inputs) {
      const files: DatumFile[] = [];
      if (i.id) {
        const seen = new Set<string>();
        for (const e of await this.engine.commitFiles({
          repo: userRepo(i.project, i.repo),
          id: i.id,
        })) {
          if (seen.has(e.path)) continue;
          seen.add(e.path);
          files.push({ path: e.path, hash: e.hash, sizeBytes: e.size });
        }
      }
      filesOf.set(i.name, { commit: i.id, files });
    }
    const all = computeDatums(
      spec.input,
      (pfs) => filesOf.get(pfs.name) ?? { commit: '', files: [] },
    );
    const byId = new Map<string, DatumSpec>();
    for (const d of all) if (!byId.has(d.id)) byId.set(d.id, d);
    const datums = [...byId.values()];

    // skip what the previous job processed successfully; delete every other output
    const salt = this.saltOf(job);
    const base =
      spec.reprocessSpec === 'every_job' ? new Set<string>() : this.baseDatums(job, salt);
    const keep = new Set(datums.filter((d) => base.has(d.id)).map((d) => d.id));
    const present = new Set((await this.engine.commitFiles(outCommit)).map((f) => f.datum));
    const stale = [...present].filter((d) => !keep.has(d));
    if (stale.length) {
      await this.engine.modifyFileInternal(
        outCommit,
        stale.map((datum) => ({ op: 'deleteDatum' as const, datum })),
      );
    }
    if (signal.aborted) return;
    const insert = this.db.prepare(
      'INSERT INTO pps_datums (job_seq, id, state, salt, inputs) VALUES (?, ?, ?, ?, ?)',
    );
    this.light(() => {
      this.db.prepare('DELETE FROM pps_datums WHERE job_seq = ?').run(job.seq);
      for (const d of datums) {
        const state = keep.has(d.id) ? DatumState.SKIPPED : DatumState.STARTING;
        insert.run(job.seq, d.id, state, salt, JSON.stringify(d.inputs));
      }
      job = this.setJob(job.seq, {
        state: JobState.JOB_RUNNING,
        data_total: datums.length,
        data_skipped: keep.size,
        ran: 1,
      });
    });
    this.log(job, '', `${datums.length} datums, ${keep.size} skipped`, false);

    const todo = datums.filter((d) => !keep.has(d.id));
    const jctx: JobContext = {
      job,
      spec,
      outCommit,
      signal,
      salt,
      staged: [],
      stagedBytes: 0,
      stageSeq: 0,
    };
    try {
      if (spec.transform.datumBatching) await this.runBatched(jctx, todo);
      else await Promise.all(todo.map((d) => this.runSingle(jctx, d)));
      if (signal.aborted) return;
      await this.flushStaged(jctx);
    } finally {
      if (jctx.stageDir) {
        await fsp.rm(await jctx.stageDir, { recursive: true, force: true }).catch(() => undefined);
      }
    }

    job = this.setJob(job.seq, { state: JobState.JOB_FINISHING });
    const failed = this.db
      .prepare(
        'SELECT id, reason FROM pps_datums WHERE job_seq = ? AND state = ? ORDER BY id LIMIT 1',
      )
      .get(job.seq, DatumState.FAILED) as { id: string; reason: string } | undefined;
    if (failed) {
      await this.settle(job, JobState.JOB_FAILURE, `datum ${failed.id} failed: ${failed.reason}`);
      return;
    }
    const pfs = this.engine.pfs;
    pfs.tx(() => {
      const done = pfs.finishCommitTx(pfs.resolveCommit(outCommit), { validateDatums: true });
      // pachd's order: the job stays FINISHING while its output commit is FINISHING, and becomes
      // SUCCESS (or FAILURE) in the transaction that finishes the commit (onOutputFinished)
      if (done.finished !== null) this.finishJobOf(job.seq, done);
    });
    this.log(this.jobBySeq(job.seq)!, '', `job ${job.id} finished`, false);
  }

  /**
   * Datum ids whose output is in the parent of this job's output commit: the datums the latest
   * earlier job that ran processed successfully (SUCCESS or SKIPPED) under the same salt.
   */
  private baseDatums(job: JobRow, salt: string): Set<string> {
    const prev = this.db.prepare(PREVIOUS_RAN_JOB_SQL).get(job.project, job.pipeline, job.seq) as
      { seq: number } | undefined;
    if (!prev) return new Set();
    const rows = this.db
      .prepare('SELECT id FROM pps_datums WHERE job_seq = ? AND salt = ? AND state IN (?, ?)')
      .all(prev.seq, salt, DatumState.SUCCESS, DatumState.SKIPPED) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  private runContext(j: JobContext, workDir: string, signal: AbortSignal, worker = ''): RunContext {
    return {
      jobId: j.job.id,
      outputCommitId: j.job.id,
      project: j.job.project,
      pipeline: j.job.pipeline,
      transform: j.spec.transform,
      workDir,
      materialize: async (input, file, dest) => {
        const ref = {
          commit: { repo: userRepo(input.project, input.repo), id: input.commit },
          path: file.path,
        };
        if ((file.sizeBytes ?? Infinity) <= SMALL_FILE) {
          await fsp.writeFile(dest, await this.engine.readFile(ref));
        } else {
          await streamPipeline(Readable.from(this.engine.getFile(ref)), fs.createWriteStream(dest));
        }
      },
      onLog: (datumId, _stream, line) => this.log(j.job, datumId, line, true, worker),
      signal,
      datumTimeoutMs: j.spec.datumTimeout ? durationMs(j.spec.datumTimeout) : undefined,
      defaultCwd: this.opts.cwd,
    };
  }

  private async workDir(j: JobContext): Promise<string> {
    await fsp.mkdir(this.workRoot, { recursive: true });
    this.workRootMade = true;
    return fsp.mkdtemp(path.join(this.workRoot, `${j.job.pipeline}-${j.job.id.slice(0, 8)}-`));
  }

  /**
   * Moves a datum's `out` directory aside (the next datum gets a fresh one) and queues its files
   * for the output commit, tagged with the datum id; uploads the queue when it is full. Safe for
   * datums finishing concurrently.
   * @returns the bytes of the datum's output
   */
  private async stage(j: JobContext, datumId: string, outDir: string): Promise<number> {
    const n = j.stageSeq++;
    j.stageDir ??= fsp
      .mkdir(this.workRoot, { recursive: true })
      .then(() => fsp.mkdtemp(path.join(this.workRoot, `${j.job.pipeline}-out-`)));
    const dest = path.join(await j.stageDir, String(n));
    try {
      await fsp.rename(outDir, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0; // the program removed it
      throw e;
    }
    const ops: StagedOp[] = [];
    let bytes = 0;
    const walk = async (dir: string, rel: string) => {
      for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        const st = await fsp.stat(full);
        if (st.isDirectory()) await walk(full, `${rel}/${e.name}`);
        else if (st.isFile()) {
          ops.push({ op: 'put', path: `${rel}/${e.name}`, fromPath: full, datum: datumId });
          bytes += st.size;
        }
      }
    };
    await walk(dest, '');
    j.staged.push({ dest, ops, bytes });
    j.stagedBytes += bytes;
    if (j.staged.length >= STAGE_MAX_DATUMS || j.stagedBytes >= STAGE_MAX_BYTES) {
      await this.flushStaged(j);
    }
    return bytes;
  }

  /** Uploads the staged datum outputs into the output commit in one modification. */
  private async flushStaged(j: JobContext): Promise<void> {
    const batch = j.staged.splice(0);
    j.stagedBytes = 0;
    const ops = batch.flatMap((b) => b.ops);
    // a full disk: the outputs stay staged until space returns (storage-wait.ts)
    if (ops.length) {
      await this.stored(j.job, j.signal, () => this.engine.modifyFileInternal(j.outCommit, ops));
    }
    await Promise.all(batch.map((b) => fsp.rm(b.dest, { recursive: true, force: true })));
  }

  /** Record a datum's end and bump the job's counters (when space returns after a full disk). */
  private async finishDatum(
    j: JobContext,
    datumId: string,
    state: DatumState,
    tries: number,
    reason: string,
    stats: object | null,
  ): Promise<void> {
    const counter =
      state === DatumState.SUCCESS
        ? 'data_processed'
        : state === DatumState.FAILED
          ? 'data_failed'
          : 'data_recovered';
    const write = () => {
      this.db
        .prepare(
          'UPDATE pps_datums SET state = ?, tries = ?, reason = ?, stats = ? WHERE job_seq = ? AND id = ?',
        )
        .run(state, tries, reason, stats ? JSON.stringify(stats) : null, j.job.seq, datumId);
      this.db
        .prepare(`UPDATE pps_jobs SET ${counter} = ${counter} + 1 WHERE seq = ?`)
        .run(j.job.seq);
    };
    await this.stored(j.job, j.signal, async () => this.light(write));
    this.publish(this.jobBySeq(j.job.seq)!, false);
  }

  private async handleOutcome(
    j: JobContext,
    task: DatumTask,
    outcome: DatumOutcome,
    attempt: number,
  ): Promise<'done' | 'retry'> {
    const tries = j.spec.datumTries;
    if (outcome.ok) {
      const t0 = Date.now();
      const uploadBytes = await this.stage(j, task.datumId, outcome.outDir);
      await this.finishDatum(j, task.datumId, DatumState.SUCCESS, attempt, '', {
        downloadTimeMs: outcome.downloadTimeMs,
        processTimeMs: outcome.processTimeMs,
        uploadTimeMs: Date.now() - t0,
        downloadBytes: outcome.downloadBytes,
        uploadBytes,
      });
      return 'done';
    }
    if (j.signal.aborted) return 'done';
    const reason = outcome.error ?? 'failed';
    this.log(
      j.job,
      task.datumId,
      `datum ${task.datumId} failed (try ${attempt} of ${tries}): ${reason}`,
      false,
    );
    if (outcome.recovered) {
      await this.finishDatum(j, task.datumId, DatumState.RECOVERED, attempt, reason, null);
      return 'done';
    }
    if (attempt < tries && !outcome.permanent) return 'retry'; // a permanent failure would repeat
    await this.finishDatum(j, task.datumId, DatumState.FAILED, attempt, reason, null);
    return 'done';
  }

  private async runSingle(j: JobContext, d: DatumSpec): Promise<void> {
    const task: DatumTask = { datumId: d.id, inputs: d.inputs };
    for (let attempt = 1; attempt <= j.spec.datumTries && !j.signal.aborted; attempt++) {
      const dir = await this.workDir(j);
      try {
        let outcome: DatumOutcome;
        // the slot bounds datum processes: it is free again once the process ended, so that
        // a datum whose output waits for space (storage-wait.ts) holds back no other
        const release = await this.datumSlots.acquire();
        try {
          outcome = await runDatum(this.runContext(j, dir, j.signal), task);
        } catch (e) {
          outcome = {
            ok: false,
            recovered: false,
            error: `cannot lay out the inputs: ${(e as Error).message}`,
            outDir: '',
            downloadTimeMs: 0,
            processTimeMs: 0,
            downloadBytes: 0,
          };
        } finally {
          release();
        }
        if ((await this.handleOutcome(j, task, outcome, attempt)) === 'done') return;
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    }
  }

  private async runBatched(j: JobContext, todo: DatumSpec[]): Promise<void> {
    const queue: DatumTask[] = todo.map((d) => ({ datumId: d.id, inputs: d.inputs }));
    const attempts = new Map<string, number>();
    const workers = Math.max(1, Math.min(j.spec.parallelismSpec.constant, queue.length));
    const next = async () => queue.shift() ?? null;
    const done = async (task: DatumTask, outcome: DatumOutcome) => {
      const attempt = (attempts.get(task.datumId) ?? 0) + 1;
      attempts.set(task.datumId, attempt);
      if ((await this.handleOutcome(j, task, outcome, attempt)) === 'retry') queue.push(task);
    };
    const worker = async (w: number) => {
      while (queue.length && !j.signal.aborted) {
        const release = await this.datumSlots.acquire();
        const key = `${j.job.project}/${j.job.pipeline}#${w}`;
        try {
          const { warm, fresh } = await this.warmProcess(key, j, w);
          const r = await warm.proc.serve(
            this.runContext(j, warm.dir, j.signal, `batch-${w}`),
            next,
            done,
          );
          if (!warm.proc.alive || this.closed) await this.retireWarm(key);
          else this.idleWarm(key, warm);
          // a kept process that died while idle gets no blame: the loop starts a fresh one
          if (r.served === 0 && fresh && queue.length && !j.signal.aborted) {
            const reason = r.error ?? 'the process exited without asking for a datum (NextDatum)';
            for (const t of queue.splice(0)) {
              await this.finishDatum(j, t.datumId, DatumState.FAILED, 1, reason, null);
            }
          }
        } finally {
          release();
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  }

  /**
   * The batching process `key` for job `j`: the kept one when it is alive and runs the job's
   * pipeline version, else a new one (an outdated one is retired first).
   */
  private async warmProcess(
    key: string,
    j: JobContext,
    w: number,
  ): Promise<{ warm: WarmProcess; fresh: boolean }> {
    const kept = this.warm.get(key);
    if (kept) {
      if (kept.idle) clearTimeout(kept.idle);
      kept.idle = undefined;
      if (kept.proc.alive && kept.version === j.job.pipeline_version) {
        return { warm: kept, fresh: false };
      }
      await this.retireWarm(key);
    }
    const dir = await this.workDir(j);
    await fsp.mkdir(path.join(dir, 'pfs', 'out'), { recursive: true });
    const proc = await BatchProcess.create(
      this.runContext(j, dir, j.signal, `batch-${w}`),
      this.opts.batchTransport,
    );
    const warm: WarmProcess = { proc, version: j.job.pipeline_version, dir };
    this.warm.set(key, warm);
    return { warm, fresh: true };
  }

  /** Keeps `warm` for the pipeline's next job, retiring it after `batchIdleMs`. */
  private idleWarm(key: string, warm: WarmProcess): void {
    const ms = this.opts.batchIdleMs ?? 60_000;
    if (ms <= 0) {
      void this.retireWarm(key);
      return;
    }
    warm.idle = setTimeout(() => void this.retireWarm(key), ms);
    warm.idle.unref();
  }

  /** Ends the kept process `key` (see BatchProcess.retire) and removes its directory. */
  private async retireWarm(key: string): Promise<void> {
    const warm = this.warm.get(key);
    if (!warm) return;
    this.warm.delete(key);
    if (warm.idle) clearTimeout(warm.idle);
    await warm.proc.retire();
    await fsp.rm(warm.dir, { recursive: true, force: true });
  }
}

interface JobContext {
  job: JobRow;
  spec: PipelineSpec;
  outCommit: Commit;
  signal: AbortSignal;
  salt: string;
  /** Datum outputs waiting to be uploaded (see {@link STAGE_MAX_DATUMS}): where, what. */
  staged: { dest: string; ops: StagedOp[]; bytes: number }[];
  stagedBytes: number;
  /** Numbers the staged outputs' directories. */
  stageSeq: number;
  /** Where the staged outputs are (made on first use). */
  stageDir?: Promise<string>;
}

/** One file of a staged datum output. */
type StagedOp = { op: 'put'; path: string; fromPath: string; datum: string };

/**
 * A factory for `EmbeddedPachyderm.open(dir, { pps: embeddedPps(opts) })`.
 */
export function embeddedPps(opts: PpsOptions = {}): (engine: EmbeddedPachyderm) => Promise<Pps> {
  return (engine) => Pps.create(engine, opts);
}
