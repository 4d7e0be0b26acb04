/**
 * The embedded engine's runner: runs a pipeline's `transform.cmd` as a child process for a datum
 * (or, with `transform.datumBatching`, one process for many datums), with the file layout and the
 * environment a Pachyderm worker gives user code (src/server/worker/driver/driver.go,
 * src/server/worker/datum/datum.go):
 *
 * - `<root>/pfs/<input name>/<full path>`: the datum's input files, at their full PFS path
 *   (`<root>` is a fresh temporary directory; `/pfs` in real Pachyderm);
 * - `<root>/pfs/out`: an empty directory; whatever the program leaves there is the datum's output;
 * - environment: the engine's own environment (PATH …), then `transform.env`, then
 *   `PACH_JOB_ID`, `PACH_DATUM_ID`, `PACH_OUTPUT_COMMIT_ID`, `PPS_PROJECT_NAME`,
 *   `PPS_PIPELINE_NAME`, `<input name>=<root>/pfs/<name>/<matched path>`,
 *   `<input name>_COMMIT=<commit id>`, and {@link PFS_ROOT_ENV} `=<root>/pfs`;
 * - arguments of `cmd`/`errCmd`, `stdin`/`errStdin` lines and `transform.env` values that name
 *   `/pfs` or a path below it are rewritten to `<root>/pfs…`, so a spec written for a real
 *   cluster runs unchanged.
 *
 * The image is ignored. stdout and stderr are split into lines and handed to `onLog`.
 *
 * Batching protocol (Pachyderm's `NextDatum`, over Node's IPC channel, fd 3): the process is
 * started with `REELGRAPH_DATUM_BATCHING=true` and no datum; it sends `{type: "nextDatum",
 * error?}` (reporting the previous datum as done, failed when `error` is set) and receives either
 * `{type: "datum", datumId, env, pfsRoot}` (the files of that datum are in place, `pfs/out` is
 * empty) or `{type: "done"}`. A `nextDatum` asked when the job has no datum left waits for the
 * pipeline's next job ({@link BatchProcess}); `done` comes when the process is retired.
 * `src/pachyderm/worker-sdk.ts` wraps it. With the `grpc` transport ({@link BatchTransport}) the
 * same exchange goes through Pachyderm's worker API instead: the process gets
 * `PPS_WORKER_GRPC_PORT`, asks with NextDatum{error} and receives the datum's environment; `done`
 * closes the worker server, which ends the waiting call (worker-grpc.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DatumFile, DatumInput } from '../datums';
import type { Transform } from '../types';
import {
  BATCHING_ENV,
  PERMANENT_FAILURE_EXIT_CODE,
  PFS_ROOT_ENV,
  WORKER_PORT_ENV,
} from '../worker-sdk';
import { startWorkerServer, type WorkerServer } from '../worker-grpc';

export { BATCHING_ENV, PFS_ROOT_ENV };

/** One datum to run: its id and its inputs. */
export interface DatumTask {
  /** The datum id (64 hex, see datums.ts `datumId`): `PACH_DATUM_ID`. */
  datumId: string;
  /** The datum's inputs: what to lay out under `pfs/<name>/`. */
  inputs: DatumInput[];
}

/** How a datum ended. */
export interface DatumOutcome {
  /** The user code succeeded (exit code 0 or in `acceptReturnCode`). */
  ok: boolean;
  /** The user code failed but `errCmd` succeeded (Pachyderm's RECOVERED). */
  recovered: boolean;
  /**
   * Why it failed (exit code, signal, timeout, spawn error), with the program's last stderr line
   * after a non-zero exit: `node exited with code 1: error: <the worker's message>`.
   */
  error?: string;
  /**
   * The failure will repeat (the program exited with {@link PERMANENT_FAILURE_EXIT_CODE}: a bad
   * parameter, a refused memory estimate…): the engine does not retry the datum.
   */
  permanent?: boolean;
  /** Directory holding the datum's output (`<root>/pfs/out`); valid until the next datum. */
  outDir: string;
  /** Milliseconds spent laying out the inputs. */
  downloadTimeMs: number;
  /** Milliseconds spent running the user code. */
  processTimeMs: number;
  /** Bytes of input files laid out for this datum. */
  downloadBytes: number;
}

export { PERMANENT_FAILURE_EXIT_CODE };

/** The longest stderr line kept for a failure reason, characters. */
const MAX_REASON_LINE = 500;

/** Everything a run needs besides the datum. */
export interface RunContext {
  /** `PACH_JOB_ID`. */
  jobId: string;
  /** `PACH_OUTPUT_COMMIT_ID` (equal to the job id). */
  outputCommitId: string;
  /** `PPS_PROJECT_NAME`. */
  project: string;
  /** `PPS_PIPELINE_NAME`. */
  pipeline: string;
  /** The pipeline's transform (cmd, stdin, env, errCmd, acceptReturnCode, workingDir …). */
  transform: Transform;
  /** A fresh directory owned by this run (removed by the caller). */
  workDir: string;
  /** Write the content of `file` of `input` to `dest` (parent directory exists). */
  materialize(input: DatumInput, file: DatumFile, dest: string): Promise<void>;
  /** One line of output of user code (`datumId` is `""` between datums of a batch). */
  onLog(datumId: string, stream: 'stdout' | 'stderr', line: string): void;
  /** Kills the running process (KILLED job, engine closing). */
  signal: AbortSignal;
  /** Kill a datum's process after this many milliseconds (`datumTimeout`). */
  datumTimeoutMs?: number;
  /** Directory `cmd` runs in when `transform.workingDir` is empty (default: process.cwd()). */
  defaultCwd?: string;
}

const PFS_PATH = /(^|[\s='":,])\/pfs(?=\/|$|[\s'":,;)])/g;

/** Replace `/pfs` (alone or as the start of a path) in `s` with `pfsRoot`. */
export function rewritePfsPaths(s: string, pfsRoot: string): string {
  return s.replace(PFS_PATH, (_m, lead: string) => lead + pfsRoot);
}

/** The per-datum variables Pachyderm sets (driver.go `UserCodeEnv`). */
export function datumEnv(
  ctx: RunContext,
  task: DatumTask,
  pfsRoot: string,
): Record<string, string> {
  const env: Record<string, string> = {
    PACH_JOB_ID: ctx.jobId,
    PACH_DATUM_ID: task.datumId,
    PACH_OUTPUT_COMMIT_ID: ctx.outputCommitId,
    PPS_PROJECT_NAME: ctx.project,
    PPS_PIPELINE_NAME: ctx.pipeline,
    [PFS_ROOT_ENV]: pfsRoot,
  };
  for (const input of task.inputs) {
    // Go's path.Join: no trailing slash (`/pfs/train` for the glob `/`)
    env[input.name] = path.join(pfsRoot, input.name, input.matchedPath).replace(/(.)\/+$/, '$1');
    env[`${input.name}_COMMIT`] = input.commit;
    if (input.joinOn !== undefined) env[`PACH_DATUM_${input.name}_JOIN_ON`] = input.joinOn;
    if (input.groupBy !== undefined) env[`PACH_DATUM_${input.name}_GROUP_BY`] = input.groupBy;
  }
  return env;
}

function baseEnv(ctx: RunContext, pfsRoot: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.NODE_CHANNEL_FD;
  for (const [k, v] of Object.entries(ctx.transform.env)) env[k] = rewritePfsPaths(v, pfsRoot);
  return env;
}

/**
 * The files laid out under a pfs root. {@link PfsLayout.apply} lays out a datum: its inputs at
 * their full path and an empty `out`. Between the datums of one batching process only the
 * difference is applied: files the next datum shares with the previous one (e.g. the model of a
 * cross `(requests/* ⨯ model/)`) stay in place instead of being copied again.
 */
class PfsLayout {
  /** Destination path → content hash of every input file in place. */
  private readonly present = new Map<string, string>();
  private cleaned = false;

  constructor(private readonly pfsRoot: string) {}

  /** Lay out `task`; returns the bytes materialised. */
  async apply(ctx: RunContext, task: DatumTask): Promise<number> {
    const root = this.pfsRoot;
    if (!this.cleaned) {
      await fsp.rm(root, { recursive: true, force: true });
      this.cleaned = true;
    }
    const want = new Map<string, { input: DatumInput; file: DatumFile }>();
    const bases: string[] = [];
    for (const input of task.inputs) {
      const base = path.join(root, input.name);
      bases.push(base);
      for (const file of input.files) {
        const dest = path.join(base, ...file.path.split('/').filter(Boolean));
        if (!dest.startsWith(base + path.sep)) {
          throw new Error(`input file path ${file.path} leaves the input directory`);
        }
        want.set(dest, { input, file });
      }
    }
    for (const [dest, hash] of this.present) {
      const w = want.get(dest);
      let keep = !!w && w.file.hash === hash;
      if (keep && w!.file.sizeBytes !== undefined) {
        // the program may have altered its inputs: check the file is still whole
        const st = await fsp.stat(dest).catch(() => undefined);
        keep = !!st && st.size === w!.file.sizeBytes;
      }
      if (!keep) {
        await fsp.rm(dest, { force: true });
        this.present.delete(dest);
        await pruneEmptyDirs(path.dirname(dest), root);
      }
    }
    for (const b of bases) await fsp.mkdir(b, { recursive: true });
    await fsp.rm(path.join(root, 'out'), { recursive: true, force: true });
    await fsp.mkdir(path.join(root, 'out'), { recursive: true });
    let bytes = 0;
    for (const [dest, { input, file }] of want) {
      if (this.present.has(dest)) continue;
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await ctx.materialize(input, file, dest);
      this.present.set(dest, file.hash);
      bytes += file.sizeBytes ?? 0;
    }
    return bytes;
  }
}

/** Remove `dir` and its parents while they are empty, stopping at `root`. */
async function pruneEmptyDirs(dir: string, root: string): Promise<void> {
  while (dir.startsWith(root + path.sep)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return; // not empty (or gone)
    }
    dir = path.dirname(dir);
  }
}

/** Line splitter for a child's output stream. */
class Lines {
  private rest = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: Buffer | string): void {
    const text = this.rest + chunk.toString('utf8');
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.emit(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
  end(): void {
    if (this.rest) this.emit(this.rest);
    this.rest = '';
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: Error;
}

function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<Exit>;
  /** Why the process was killed by the runner, if it was. */
  killedFor(): string | undefined;
  /** The last non-empty line it wrote on stderr (at most 500 characters). */
  lastErrorLine(): string | undefined;
  /** Set the datum its output lines belong to. */
  setDatum(id: string): void;
  /** (Re)arm the datum timeout; `clearTimer` disarms it. */
  armTimer(): void;
  clearTimer(): void;
  /** Kills the process tree, recording why (see `killedFor`). */
  kill(reason: string): void;
}

function start(
  ctx: RunContext,
  argv: string[],
  stdinLines: string[],
  env: Record<string, string>,
  pfsRoot: string,
  ipc: boolean,
): Spawned {
  const [cmd, ...args] = argv.map((a) => rewritePfsPaths(a, pfsRoot));
  const cwd = ctx.transform.workingDir
    ? path.resolve(ctx.defaultCwd ?? process.cwd(), ctx.transform.workingDir)
    : (ctx.defaultCwd ?? process.cwd());
  const child = spawn(cmd, args, {
    cwd,
    env,
    stdio: ipc ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let datum = '';
  let killed: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const out = new Lines((l) => ctx.onLog(datum, 'stdout', l));
  let lastErr: string | undefined;
  const err = new Lines((l) => {
    if (l.trim()) lastErr = l.trim().slice(0, MAX_REASON_LINE);
    ctx.onLog(datum, 'stderr', l);
  });
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const kill = (reason: string) => {
    killed ??= reason;
    killTree(child);
  };
  const onAbort = () => kill('killed');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  const exited = new Promise<Exit>((resolve) => {
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
      if (child.pid === undefined) finish(null, null);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      resolve({ code, signal, spawnError });
    };
    child.on('close', finish);
  });
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // the program may exit without reading stdin
    const text = stdinLines.map((l) => rewritePfsPaths(l, pfsRoot) + '\n').join('');
    child.stdin.end(text);
  }
  const armTimer = () => {
    if (timer) clearTimeout(timer);
    if (!ctx.datumTimeoutMs) return;
    timer = setTimeout(
      () => kill(`datum timed out after ${ctx.datumTimeoutMs} ms`),
      ctx.datumTimeoutMs,
    );
  };
  return {
    child,
    exited,
    killedFor: () => killed,
    lastErrorLine: () => lastErr,
    setDatum: (id) => {
      datum = id;
    },
    armTimer,
    clearTimer: () => timer && clearTimeout(timer),
    kill,
  };
}

function describeExit(
  e: Exit,
  killedFor: string | undefined,
  argv: string[],
  lastErr?: string,
): string {
  if (e.spawnError) return `cannot run ${JSON.stringify(argv[0])}: ${e.spawnError.message}`;
  if (killedFor) return killedFor;
  if (e.signal) return `${argv[0]} was killed by signal ${e.signal}`;
  return `${argv[0]} exited with code ${e.code}${lastErr ? `: ${lastErr}` : ''}`;
}

function accepted(transform: Transform, e: Exit): boolean {
  if (e.spawnError || e.signal || e.code === null) return false;
  return e.code === 0 || transform.acceptReturnCode.includes(e.code);
}

async function runOnce(
  ctx: RunContext,
  task: DatumTask,
  argv: string[],
  stdin: string[],
  pfsRoot: string,
): Promise<{ ok: boolean; error?: string; permanent?: boolean }> {
  const env = { ...baseEnv(ctx, pfsRoot), ...datumEnv(ctx, task, pfsRoot) };
  const s = start(ctx, argv, stdin, env, pfsRoot, false);
  s.setDatum(task.datumId);
  s.armTimer();
  const exit = await s.exited;
  if (accepted(ctx.transform, exit) && !s.killedFor()) return { ok: true };
  return {
    ok: false,
    error: describeExit(exit, s.killedFor(), argv, s.lastErrorLine()),
    permanent: !s.killedFor() && exit.code === PERMANENT_FAILURE_EXIT_CODE,
  };
}

/**
 * Run the user code once for one datum: lay out its files under `<workDir>/pfs`, run `cmd` (and,
 * if it fails and `errCmd` is set, `errCmd`).
 *
 * @returns the outcome; the output is in `outcome.outDir` when `ok`.
 * @throws only when the inputs cannot be laid out (the caller fails the datum).
 */
export async function runDatum(ctx: RunContext, task: DatumTask): Promise<DatumOutcome> {
  const pfsRoot = path.join(ctx.workDir, 'pfs');
  const t0 = Date.now();
  const downloadBytes = await new PfsLayout(pfsRoot).apply(ctx, task);
  const t1 = Date.now();
  const r = await runOnce(ctx, task, ctx.transform.cmd, ctx.transform.stdin, pfsRoot);
  let recovered = false;
  if (!r.ok && ctx.transform.errCmd.length > 0 && !ctx.signal.aborted) {
    const e = await runOnce(ctx, task, ctx.transform.errCmd, ctx.transform.errStdin, pfsRoot);
    recovered = e.ok;
  }
  return {
    ok: r.ok,
    recovered,
    error: r.error,
    ...(r.permanent ? { permanent: true } : {}),
    outDir: path.join(pfsRoot, 'out'),
    downloadTimeMs: t1 - t0,
    processTimeMs: Date.now() - t1,
    downloadBytes,
  };
}

/**
 * How a datum-batching process asks for datums: Node's IPC channel (`ipc`, the embedded engine's
 * own) or, as in a Pachyderm cluster, the worker's gRPC NextDatum (`grpc`, worker-grpc.ts).
 */
export type BatchTransport = 'ipc' | 'grpc';

/** Message of the batching protocol from the program: ask for the next datum (see module doc). */
export type BatchRequest = { type: 'nextDatum'; error?: string };
/** Message of the batching protocol from the engine: the next datum, or none left. */
export type BatchReply =
  | { type: 'datum'; datumId: string; env: Record<string, string>; pfsRoot: string }
  | { type: 'done' };

/** How {@link BatchProcess.serve} ended for one job. */
export interface BatchServeResult {
  /** Datums handed to the process during this job. */
  served: number;
  /** The process's exit description, when it exited during the job without being asked to. */
  error?: string;
}

/**
 * One datum-batching process (`transform.datumBatching`), which may serve the datums of several
 * jobs of its pipeline one after the other, as a Pachyderm worker's user code does: it loops on
 * `NextDatum`, and a `NextDatum` asked when the job has no datum left is answered with the first
 * datum of the next job ({@link serve}), or with `done` when the process is retired
 * ({@link retire}; the engine retires an idle process after a while, on a pipeline update and
 * when it closes). Each datum's variables (`PACH_JOB_ID`, `PACH_DATUM_ID`, inputs…) come with the
 * datum. Keeping the process saves its start (and whatever it loaded, e.g. a model) per job.
 *
 * A job that is killed (its signal aborts) kills the process; a process that exits is not reused.
 */
export class BatchProcess {
  /** The directory playing `/pfs` for this process (`<workDir>/pfs`). */
  readonly pfsRoot: string;
  private readonly spawned: Spawned;
  private readonly layout: PfsLayout;
  /** Retired or killed: not to be given another job. */
  private ending = false;
  private ctx: RunContext;
  private job:
    | {
        next: () => Promise<DatumTask | null>;
        done: (task: DatumTask, outcome: DatumOutcome) => Promise<void>;
        served: number;
        resolve: (r: BatchServeResult) => void;
        unlink: () => void;
      }
    | undefined;
  private current: { task: DatumTask; t0: number; t1: number; bytes: number } | undefined;
  /** A `NextDatum` is waiting for the next job. */
  private parked = false;
  private chain: Promise<void> = Promise.resolve();
  private exit: { error?: string } | undefined;
  private readonly ended: Promise<void>;

  /** With the gRPC transport: the worker server, and the NextDatum call waiting for its answer. */
  private readonly worker: WorkerServer | undefined;
  private waitingCall: ((env: Record<string, string> | null) => void) | undefined;

  /**
   * Starts `ctx.transform.cmd` for datum batching in `ctx.workDir` (its `pfs/out` is created).
   * `ctx` gives the first job's variables; later jobs' come with their datums.
   * `transport`: `ipc` (default; Node's IPC channel, see the module documentation) or `grpc` (as
   * a Pachyderm worker: a `pachyderm.worker.Worker/NextDatum` server on 127.0.0.1, its port in
   * `PPS_WORKER_GRPC_PORT`; worker-grpc.ts).
   */
  static async create(ctx: RunContext, transport: BatchTransport = 'ipc'): Promise<BatchProcess> {
    if (transport === 'ipc') return new BatchProcess(ctx, undefined);
    const box: { proc?: BatchProcess } = {};
    const worker = await startWorkerServer(
      (error) =>
        new Promise((resolve) => {
          const proc = box.proc;
          if (!proc) return resolve(null);
          proc.waitingCall = resolve;
          proc.request({ type: 'nextDatum', ...(error ? { error } : {}) });
        }),
    );
    box.proc = new BatchProcess(ctx, worker);
    return box.proc;
  }

  private constructor(ctx: RunContext, worker: WorkerServer | undefined) {
    this.ctx = ctx;
    this.worker = worker;
    this.pfsRoot = path.join(ctx.workDir, 'pfs');
    this.layout = new PfsLayout(this.pfsRoot);
    const env: Record<string, string> = {
      ...baseEnv(ctx, this.pfsRoot),
      PACH_JOB_ID: ctx.jobId,
      PACH_OUTPUT_COMMIT_ID: ctx.outputCommitId,
      PPS_PROJECT_NAME: ctx.project,
      PPS_PIPELINE_NAME: ctx.pipeline,
      [PFS_ROOT_ENV]: this.pfsRoot,
    };
    delete env[WORKER_PORT_ENV];
    delete env.PACH_DATUM_ID;
    if (worker) env[WORKER_PORT_ENV] = String(worker.port);
    else env[BATCHING_ENV] = 'true';
    // the process outlives jobs: logs go to the job being served, its timeout applies
    const current = () => this.ctx;
    const live: RunContext = {
      ...ctx,
      signal: new AbortController().signal, // jobs' signals are linked in serve()
      onLog: (datumId, stream, line) => current().onLog(datumId, stream, line),
      get datumTimeoutMs() {
        return current().datumTimeoutMs;
      },
    };
    this.spawned = start(live, ctx.transform.cmd, ctx.transform.stdin, env, this.pfsRoot, !worker);
    this.spawned.child.on('message', (msg: unknown) => {
      const m = msg as BatchRequest;
      if (m && m.type === 'nextDatum') this.request(m);
    });
    this.ended = this.spawned.exited.then(async (e) => {
      this.worker?.close();
      await this.chain.catch(() => undefined);
      const killedFor = this.spawned.killedFor();
      const ok = accepted(ctx.transform, e) && !killedFor;
      this.exit = {
        error: ok
          ? undefined
          : describeExit(e, killedFor, ctx.transform.cmd, this.spawned.lastErrorLine()),
      };
      await this.finishCurrent(ok, this.exit.error);
      this.endJob(this.exit.error);
    });
  }

  /** A NextDatum from the process: reports the current datum, then dispatches the next. */
  private request(m: BatchRequest): void {
    this.chain = this.chain.then(async () => {
      await this.finishCurrent(
        !m.error,
        m.error ? `datum reported failure: ${m.error}` : undefined,
      );
      await this.dispatch();
    });
  }

  /** Answers the waiting NextDatum (IPC message, or the gRPC call; `done` closes the server). */
  private send(reply: BatchReply): void {
    if (!this.worker) {
      this.spawned.child.send(reply, () => undefined);
      return;
    }
    const answer = this.waitingCall;
    this.waitingCall = undefined;
    if (reply.type === 'datum') answer?.(reply.env);
    else this.worker.close();
  }

  /** True until the process exits or is retired or killed: it may be given another job. */
  get alive(): boolean {
    const child = this.spawned.child;
    return (
      !this.ending &&
      this.exit === undefined &&
      child.exitCode === null &&
      child.signalCode === null
    );
  }

  /**
   * Serves the datums of one job: each `next()` until it returns null; `done` receives each served
   * datum's outcome (the caller uploads `outDir` when ok) before the next datum is laid out.
   * Resolves when the job has no datum left (the process then waits in `NextDatum`) or when the
   * process exits.
   * @throws Error when a job is already being served
   */
  serve(
    ctx: RunContext,
    next: () => Promise<DatumTask | null>,
    done: (task: DatumTask, outcome: DatumOutcome) => Promise<void>,
  ): Promise<BatchServeResult> {
    if (this.job) throw new Error('this batching process is already serving a job');
    if (this.exit) return Promise.resolve({ served: 0, error: this.exit.error ?? 'exited' });
    this.ctx = ctx;
    return new Promise<BatchServeResult>((resolve) => {
      const onAbort = () => this.kill('killed');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.job = {
        next,
        done,
        served: 0,
        resolve,
        unlink: () => ctx.signal.removeEventListener('abort', onAbort),
      };
      if (ctx.signal.aborted) onAbort();
      if (this.parked) {
        this.parked = false;
        this.chain = this.chain.then(() => this.dispatch());
      }
      // else the process has not asked yet: its first NextDatum dispatches
    });
  }

  /**
   * Ends the process: a process waiting in `NextDatum` is answered `done` (it exits on its own),
   * any other is killed. Resolves once it has exited.
   * @returns its exit description when it did not exit cleanly
   */
  async retire(): Promise<string | undefined> {
    if (!this.exit && !this.ending) {
      if (this.parked && !this.job) {
        this.parked = false;
        this.ending = true;
        this.send({ type: 'done' });
      } else {
        this.kill('retired');
      }
    }
    await this.ended;
    return this.exit?.error;
  }

  private kill(reason: string): void {
    this.ending = true;
    this.spawned.kill(reason);
  }

  private endJob(error?: string): void {
    const job = this.job;
    if (!job) return;
    this.job = undefined;
    job.unlink();
    job.resolve({ served: job.served, ...(error ? { error } : {}) });
  }

  private async finishCurrent(ok: boolean, error?: string): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    this.spawned.clearTimer();
    this.spawned.setDatum('');
    await this.job?.done(c.task, {
      ok,
      recovered: false,
      error,
      outDir: path.join(this.pfsRoot, 'out'),
      downloadTimeMs: c.t1 - c.t0,
      processTimeMs: Date.now() - c.t1,
      downloadBytes: c.bytes,
    });
  }

  /** Answers the pending `NextDatum` with the job's next datum, or parks it. */
  private async dispatch(): Promise<void> {
    for (;;) {
      const job = this.job;
      const task = !job || this.ctx.signal.aborted ? null : await job.next();
      if (!task) {
        this.parked = true;
        this.endJob();
        return;
      }
      const t0 = Date.now();
      try {
        const bytes = await this.layout.apply(this.ctx, task);
        this.current = { task, t0, t1: Date.now(), bytes };
      } catch (e) {
        this.current = { task, t0, t1: Date.now(), bytes: 0 };
        await this.finishCurrent(false, `cannot lay out the inputs: ${(e as Error).message}`);
        continue;
      }
      job!.served++;
      this.spawned.setDatum(task.datumId);
      this.spawned.armTimer();
      const reply: BatchReply = {
        type: 'datum',
        datumId: task.datumId,
        env: datumEnv(this.ctx, task, this.pfsRoot),
        pfsRoot: this.pfsRoot,
      };
      this.send(reply);
      return;
    }
  }
}

/**
 * Serves the datums of one job to a new datum-batching process (see {@link BatchProcess}), then
 * retires it.
 * @param next gives the next datum to serve, or null when there is none.
 * @param done called with each served datum's outcome (the caller uploads `outDir` when ok) before
 *   the next datum is laid out.
 * @returns how many datums were served, and the process's exit description when it failed.
 */
export async function runBatch(
  ctx: RunContext,
  next: () => Promise<DatumTask | null>,
  done: (task: DatumTask, outcome: DatumOutcome) => Promise<void>,
  transport: BatchTransport = 'ipc',
): Promise<BatchServeResult> {
  await fsp.mkdir(path.join(ctx.workDir, 'pfs', 'out'), { recursive: true });
  const p = await BatchProcess.create(ctx, transport);
  const r = await p.serve(ctx, next, done);
  const exitError = await p.retire();
  return { served: r.served, error: r.error ?? exitError };
}
