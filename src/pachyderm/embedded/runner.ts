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
 * empty) or `{type: "done"}`. `src/pachyderm/worker-sdk.ts` wraps it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DatumFile, DatumInput } from '../datums';
import type { Transform } from '../types';
import { BATCHING_ENV, PFS_ROOT_ENV } from '../worker-sdk';

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
  /** Why it failed (exit code, signal, timeout, spawn error). */
  error?: string;
  /** Directory holding the datum's output (`<root>/pfs/out`); valid until the next datum. */
  outDir: string;
  /** Milliseconds spent laying out the inputs. */
  downloadTimeMs: number;
  /** Milliseconds spent running the user code. */
  processTimeMs: number;
  /** Bytes of input files laid out for this datum. */
  downloadBytes: number;
}

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
  /** Set the datum its output lines belong to. */
  setDatum(id: string): void;
  /** (Re)arm the datum timeout; `clearTimer` disarms it. */
  armTimer(): void;
  clearTimer(): void;
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
  const err = new Lines((l) => ctx.onLog(datum, 'stderr', l));
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const onAbort = () => {
    killed ??= 'killed';
    killTree(child);
  };
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
    timer = setTimeout(() => {
      killed ??= `datum timed out after ${ctx.datumTimeoutMs} ms`;
      killTree(child);
    }, ctx.datumTimeoutMs);
  };
  return {
    child,
    exited,
    killedFor: () => killed,
    setDatum: (id) => {
      datum = id;
    },
    armTimer,
    clearTimer: () => timer && clearTimeout(timer),
  };
}

function describeExit(e: Exit, killedFor: string | undefined, argv: string[]): string {
  if (e.spawnError) return `cannot run ${JSON.stringify(argv[0])}: ${e.spawnError.message}`;
  if (killedFor) return killedFor;
  if (e.signal) return `${argv[0]} was killed by signal ${e.signal}`;
  return `${argv[0]} exited with code ${e.code}`;
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
): Promise<{ ok: boolean; error?: string }> {
  const env = { ...baseEnv(ctx, pfsRoot), ...datumEnv(ctx, task, pfsRoot) };
  const s = start(ctx, argv, stdin, env, pfsRoot, false);
  s.setDatum(task.datumId);
  s.armTimer();
  const exit = await s.exited;
  if (accepted(ctx.transform, exit) && !s.killedFor()) return { ok: true };
  return { ok: false, error: describeExit(exit, s.killedFor(), argv) };
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
    outDir: path.join(pfsRoot, 'out'),
    downloadTimeMs: t1 - t0,
    processTimeMs: Date.now() - t1,
    downloadBytes,
  };
}

/** Message of the batching protocol from the program: ask for the next datum (see module doc). */
export type BatchRequest = { type: 'nextDatum'; error?: string };
/** Message of the batching protocol from the engine: the next datum, or none left. */
export type BatchReply =
  | { type: 'datum'; datumId: string; env: Record<string, string>; pfsRoot: string }
  | { type: 'done' };

/**
 * Serve datums to one datum-batching process until `next()` has none left or the process exits.
 *
 * @param next gives the next datum to serve, or null when there is none.
 * @param done called with each served datum's outcome (the caller uploads `outDir` when ok) before
 *   the next datum is laid out.
 * @returns how many datums were served, and the process's exit description when it failed.
 */
export async function runBatch(
  ctx: RunContext,
  next: () => Promise<DatumTask | null>,
  done: (task: DatumTask, outcome: DatumOutcome) => Promise<void>,
): Promise<{ served: number; error?: string }> {
  const pfsRoot = path.join(ctx.workDir, 'pfs');
  await fsp.mkdir(path.join(pfsRoot, 'out'), { recursive: true });
  const env = {
    ...baseEnv(ctx, pfsRoot),
    PACH_JOB_ID: ctx.jobId,
    PACH_OUTPUT_COMMIT_ID: ctx.outputCommitId,
    PPS_PROJECT_NAME: ctx.project,
    PPS_PIPELINE_NAME: ctx.pipeline,
    [PFS_ROOT_ENV]: pfsRoot,
    [BATCHING_ENV]: 'true',
  };
  const pfsLayout = new PfsLayout(pfsRoot);
  const s = start(ctx, ctx.transform.cmd, ctx.transform.stdin, env, pfsRoot, true);
  let current: { task: DatumTask; t0: number; t1: number; bytes: number } | undefined;
  let served = 0;
  let chain = Promise.resolve();

  const finishCurrent = async (ok: boolean, error?: string) => {
    if (!current) return;
    const c = current;
    current = undefined;
    s.clearTimer();
    s.setDatum('');
    await done(c.task, {
      ok,
      recovered: false,
      error,
      outDir: path.join(pfsRoot, 'out'),
      downloadTimeMs: c.t1 - c.t0,
      processTimeMs: Date.now() - c.t1,
      downloadBytes: c.bytes,
    });
  };

  const onMessage = (msg: unknown) => {
    const m = msg as BatchRequest;
    if (!m || m.type !== 'nextDatum') return;
    chain = chain.then(async () => {
      await finishCurrent(!m.error, m.error ? `datum reported failure: ${m.error}` : undefined);
      for (;;) {
        const task = ctx.signal.aborted ? null : await next();
        if (!task) {
          s.child.send({ type: 'done' } satisfies BatchReply, () => undefined);
          return;
        }
        const t0 = Date.now();
        try {
          const bytes = await pfsLayout.apply(ctx, task);
          current = { task, t0, t1: Date.now(), bytes };
        } catch (e) {
          current = { task, t0, t1: Date.now(), bytes: 0 };
          await finishCurrent(false, `cannot lay out the inputs: ${(e as Error).message}`);
          continue;
        }
        served++;
        s.setDatum(task.datumId);
        s.armTimer();
        const reply: BatchReply = {
          type: 'datum',
          datumId: task.datumId,
          env: datumEnv(ctx, task, pfsRoot),
          pfsRoot,
        };
        s.child.send(reply, () => undefined);
        return;
      }
    });
  };
  s.child.on('message', onMessage);
  const exit = await s.exited;
  await chain.catch(() => undefined);
  const ok = accepted(ctx.transform, exit) && !s.killedFor();
  const error = ok ? undefined : describeExit(exit, s.killedFor(), ctx.transform.cmd);
  await finishCurrent(ok, error);
  return { served, error };
}
