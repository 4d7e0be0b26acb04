/**
 * The acceptance benchmark of issue 10: does the service cost the same on day 300 as on day 1?
 * For each R in a list (default 0, 1000, 5000, 20000) past answered prediction requests, on the
 * embedded engine and over gRPC against `reelgraph pachd` (a child process), through the
 * services layer (what GraphQL and REST call), after MovieLens 100K's bootstrap:
 *
 * - set-up: the history grows from one R to the next with requests made by `requestPredictions`
 *   (one `streaming` commit each through the port, by the service's own writer), at most
 *   `--setup-window` unanswered at once, answered by the real `predict` pipeline and retired by
 *   the service (see growHistory); printed: its rate in answered requests per second;
 * - retrain, `--retrains` times (medians printed): `addRatings` (100 ratings) → `modelUpdated`;
 *   printed: the train job's own time (JobInfo started → finished), and addRatings → every job of
 *   `train` and `predict` terminal (the whole retrain, re-answering included if the flow
 *   re-answers); the latency of a request made right after the new model is served:
 *   `requestPredictions` → `watchResult` yields the answer (commit → answer pushed);
 * - steady load: `--rate` requests per second (open loop, default 20) for `--duration` seconds:
 *   request → push p50 / p99 (a request still unanswered `--drain` seconds after the load is
 *   counted as that long, and reported);
 * - CPU per request of the steady load (user + system ms over the load and its drain, divided by
 *   the requests): of this process and of its long-lived descendants (/proc): a figure the
 *   machine's load does not inflate the way it inflates latencies;
 * - RSS: of this process (embedded: the whole server; gRPC: the API side; with its V8 heap in use)
 *   after a full GC of this process (run with --expose-gc), and of `reelgraph pachd` (gRPC; run
 *   with --expose-gc, asked by SIGUSR2) with its own V8 heap in use after a full GC: a heap that
 *   grows with R is JavaScript keeping something per request, commit or job.
 * The last lines give each figure at the largest R over R = 0 (goal ≤ 1.25×).
 *
 * Run: `npm run bench:history -- --help`; e.g. a quick run:
 * `npm run bench:history -- --r 0,500 --duration 5 --engine embedded`.
 * Env: REELGRAPH_DATASETS (default ../shared/datasets), REELGRAPH_BENCH_DIR (temp parent).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pachyderm } from '../src/pachyderm/port';
import { JobState, isTerminalJobState } from '../src/pachyderm/types';
import { connectPachd } from '../src/pachyderm/grpc/client';
import { type PachdChild, startPachd } from './pachd-child';
import { createServices, type Services } from '../src/services';
import { bootstrap, loadPipelineSpec, openEmbeddedEngine } from '../src/services/bootstrap';

const ROOT = path.resolve(__dirname, '..');
const DATASETS = process.env.REELGRAPH_DATASETS ?? path.resolve(ROOT, '../shared/datasets');

const HELP = `Usage: npm run bench:history -- [options]

Retrain time, request latency after a retrain, request → push p50/p99 under a steady load, and
RSS, for R past answered requests, on the embedded engine and over gRPC to \`reelgraph pachd\`.

Options:
  --r LIST            past answered requests, ascending, comma-separated (default 0,1000,5000,20000)
  --engine NAME       embedded, grpc or both (default both)
  --duration S        seconds of steady load per R (default 10)
  --rate N            requests per second of the steady load (default 20)
  --drain S           seconds to wait for the load's last answers (default 60)
  --setup-window N    set-up: most requests unanswered at once (default 20)
  --retrains N        retrains per R; their medians are printed (default 3)
  --pairs N           (user, movie) pairs per request (default 3)
  --cpu-prof DIR      write a V8 CPU profile of this process over each steady load to
                      DIR/<engine>-R<R>.cpuprofile (open in Chrome DevTools)
  --unbatched-grpc    over gRPC, keep predict's committed spec (one process per datum) instead of
                      turning datum batching on as the embedded engine does
  -h, --help          this text`;

interface Args {
  sizes: number[];
  engines: ('embedded' | 'grpc')[];
  duration: number;
  rate: number;
  drain: number;
  setupWindow: number;
  retrains: number;
  pairs: number;
  unbatchedGrpc: boolean;
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    sizes: [0, 1000, 5000, 20000],
    engines: ['embedded', 'grpc'],
    duration: 10,
    rate: 20,
    drain: 60,
    setupWindow: 20,
    retrains: 3,
    pairs: 3,
    unbatchedGrpc: false,
  };
  const positive = (name: string, v: string | undefined, integer = true) => {
    const n = Number(v);
    if (v === undefined || !(n > 0) || (integer && !Number.isInteger(n)))
      throw new Error(`${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const o = argv[i];
    if (o === '-h' || o === '--help') {
      console.log(HELP);
      process.exit(0);
    } else if (o === '--r') {
      const v = argv[++i] ?? '';
      a.sizes = v.split(',').map(Number);
      if (a.sizes.some((n, k) => !Number.isInteger(n) || n < 0 || (k > 0 && n < a.sizes[k - 1])))
        throw new Error(`--r: expected ascending non-negative integers, got ${v}`);
    } else if (o === '--engine') {
      const v = argv[++i];
      if (v === 'both') a.engines = ['embedded', 'grpc'];
      else if (v === 'embedded' || v === 'grpc') a.engines = [v];
      else throw new Error(`--engine: expected embedded, grpc or both, got ${v}`);
    } else if (o === '--duration') a.duration = positive(o, argv[++i], false);
    else if (o === '--rate') a.rate = positive(o, argv[++i], false);
    else if (o === '--drain') a.drain = positive(o, argv[++i], false);
    else if (o === '--setup-window') a.setupWindow = positive(o, argv[++i]);
    else if (o === '--retrains') a.retrains = positive(o, argv[++i]);
    else if (o === '--pairs') a.pairs = positive(o, argv[++i]);
    else if (o === '--unbatched-grpc') a.unbatchedGrpc = true;
    else if (o === '--cpu-prof') {
      a.cpuProfDir = argv[++i];
      if (!a.cpuProfDir) throw new Error('--cpu-prof: expected a directory');
    } else throw new Error(`unknown option ${o} (see --help)`);
  }
  return a;
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

/** The RSS of this process after a full GC (run with --expose-gc), MiB; sets lastHeapMiB. */
function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  lastHeapMiB = m.heapUsed / 1048576;
  return m.rss / 1048576;
}

/**
 * CPU time (user + system, ms) of every live descendant of this process, from /proc (Linux; NaN
 * elsewhere). A descendant that exits between two readings loses its time, so a figure over a
 * window counts the long-lived processes only: the embedded engine's batching worker, or
 * `reelgraph pachd` and its workers.
 */
function descendantsCpuMs(): number {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return NaN;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const e of entries) {
    try {
      const text = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // fields after the command name (which may hold spaces) start at state: ppid is the 2nd,
      // utime the 12th, stime the 13th (proc(5))
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(e), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const ofTree = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of stats)
      if (!ofTree.has(pid) && ofTree.has(s.ppid)) {
        ofTree.add(pid);
        grew = true;
      }
  }
  let ticks = 0;
  for (const pid of ofTree) if (pid !== process.pid) ticks += stats.get(pid)?.ticks ?? 0;
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time of this process (user + system), ms. */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Posts one inspector command and resolves with its result. */
function post<T>(session: inspector.Session, method: string): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, (err, result) => (err ? reject(err) : resolve(result as T))),
  );
}

/**
 * Starts V8's CPU profiler on this process; the returned function stops it and writes the
 * profile to `file` (the `.cpuprofile` JSON Chrome DevTools opens).
 */
async function startCpuProfile(file: string): Promise<() => Promise<void>> {
  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.start');
  return async () => {
    const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
    session.disconnect();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(profile));
    console.error(`CPU profile of the steady load: ${file}`);
  };
}

/** The V8 heap in use at the last {@link rssMiB} of this process, MiB. */
let lastHeapMiB = NaN;

/** Resolves with the answer's arrival time once `requestId` is answered (or errored). */
async function answered(services: Services, requestId: string): Promise<number> {
  const it = await services.predictions.watchResult(requestId);
  const r = await it.next();
  const t = now();
  await it.return?.();
  if (r.done || !r.value.ready) throw new Error(`request ${requestId}: no result`);
  if (r.value.error) throw new Error(`request ${requestId}: ${r.value.error}`);
  return t;
}

function pairsFor(k: number, n: number): { userId: string; movieId: string }[] {
  return Array.from({ length: n }, (_, j) => ({
    userId: String(1 + ((k * 7 + j) % 943)),
    movieId: String(1 + ((k * 13 + j * 101) % 1682)),
  }));
}

/** Every job of every pipeline is terminal. */
async function idle(pach: Pachyderm): Promise<boolean> {
  for await (const j of pach.listJob({ number: 20 }))
    if (!isTerminalJobState(j.state)) return false;
  return true;
}

/**
 * Grows the history by `n` answered requests, each made exactly as GraphQL and REST make one:
 * `requestPredictions` (one `streaming` commit through the port, by the service's own writer,
 * with the answered requests that ride along), answered by the real `predict` pipeline and
 * retired by the running service: the state is the service's, with no engine-only shortcut. At
 * most `window` requests are unanswered at once (a sliding window: a new request is made as soon
 * as an older one is answered), so the pipeline never idles and each predict job lists at most
 * ~`window` pending datums, as under a steady load.
 * @param pairs the (user, movie) pairs of the next request
 * @param progress called every 1 000 answered requests with their count
 */
async function growHistory(
  services: Services,
  n: number,
  window: number,
  pairs: () => { userId: string; movieId: string }[],
  progress: (done: number) => void,
): Promise<void> {
  const inflight = new Set<Promise<void>>();
  let done = 0;
  let failure: unknown;
  for (let j = 0; j < n && failure === undefined; j++) {
    while (inflight.size >= window) await Promise.race(inflight);
    const receipt = await services.predictions.requestPredictions(pairs());
    const p: Promise<void> = answered(services, receipt.requestId).then(
      () => {
        inflight.delete(p);
        if (++done % 1000 === 0) progress(done);
      },
      (e: unknown) => {
        inflight.delete(p);
        failure ??= e;
      },
    );
    inflight.add(p);
  }
  await Promise.all(inflight);
  if (failure !== undefined) throw failure;
}

/**
 * One retrain: `addRatings` (100 ratings of `userId`) → `modelUpdated`, then one request (commit →
 * answer pushed), then every job terminal.
 * @returns the train job's own time (JobInfo started → finished, s), addRatings → idle (s), and
 *   the request's latency (ms)
 */
async function retrainOnce(
  pach: Pachyderm,
  services: Services,
  userId: string,
  pairs: { userId: string; movieId: string }[],
): Promise<{ trainJobS: number; retrainS: number; afterRetrainMs: number }> {
  const updates = services.events.subscribe('MODEL_UPDATED')[Symbol.asyncIterator]();
  const nextModel = updates.next();
  const ratings = Array.from({ length: 100 }, (_, j) => ({
    userId,
    movieId: String(1 + j),
    rating: 1 + (j % 5),
  }));
  const tRetrain = now();
  const batch = await services.ratings.addRatings(ratings);
  await nextModel;
  await updates.return?.();
  const tReq = now();
  const receipt = await services.predictions.requestPredictions(pairs);
  const afterRetrainMs = (await answered(services, receipt.requestId)) - tReq;
  while (!(await idle(pach))) await sleep(20);
  const retrainS = (now() - tRetrain) / 1000;
  const train = await pach.inspectJob({ pipeline: 'train', id: batch.commit });
  if (train.state !== JobState.JOB_SUCCESS) throw new Error(`train job: ${train.reason}`);
  const trainJobS = (train.finished!.getTime() - train.started!.getTime()) / 1000;
  return { trainJobS, retrainS, afterRetrainMs };
}

interface Row {
  R: number;
  trainJobS: number;
  retrainS: number;
  afterRetrainMs: number;
  p50: number;
  p99: number;
  unanswered: number;
  /** CPU ms per request of the steady load: this process, and its long-lived descendants. */
  cpuOwnMs: number;
  cpuChildrenMs: number;
  rss: number;
  pachdRss: number;
  /** `reelgraph pachd`'s V8 heap in use after a full GC, MiB (gRPC; NaN embedded). */
  pachdHeap: number;
}

async function runEngine(engine: 'embedded' | 'grpc', args: Args, parent: string): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(parent, `reelgraph-history-${engine}-`));
  let child: ChildProcess | undefined;
  let pachd: PachdChild | undefined;
  let pach: Pachyderm;
  if (engine === 'embedded') {
    pach = await openEmbeddedEngine(dir);
  } else {
    pachd = await startPachd(dir);
    child = pachd.child;
    pach = connectPachd(pachd.address);
  }
  const rows: Row[] = [];
  let services: Services | undefined;
  try {
    if (engine === 'grpc' && !args.unbatchedGrpc) {
      // the stand-in speaks the worker SDK's batching protocol, as the embedded engine does:
      // bootstrap (which keeps the committed spec over gRPC), then turn batching on for predict
      await bootstrap(pach, { datasets: { datasetsDir: DATASETS }, waitForModel: false });
      const spec = loadPipelineSpec('predict');
      spec.transform = { ...(spec.transform as object), datumBatching: true };
      await pach.createPipeline(spec, { update: true });
    }
    await bootstrap(pach, { datasets: { datasetsDir: DATASETS } });
    services = await createServices(pach, { dataset: { datasetsDir: DATASETS, download: false } });
    await services.models.ready({ timeoutMs: 600_000 });
    let history = 0;
    let k = 0;
    for (const R of args.sizes) {
      if (R > history) {
        const t0 = now();
        const before = history;
        await growHistory(
          services,
          R - history,
          args.setupWindow,
          () => pairsFor(k++, args.pairs),
          (done) =>
            console.error(
              `${engine}: set-up ${before + done}/${R} answered requests, ${(done / ((now() - t0) / 1000)).toFixed(1)} requests/s`,
            ),
        );
        while (!(await idle(pach))) await sleep(50);
        history = R;
        const s = (now() - t0) / 1000;
        console.log(
          `${engine.padEnd(8)} set-up R=${before} → ${R}: ${s.toFixed(1)} s, ${((R - before) / s).toFixed(1)} answered requests/s ` +
            `(at most ${args.setupWindow} unanswered at once; uptime: ${uptime()})`,
        );
      }

      // retrain → served → one request, `--retrains` times (medians)
      const retrains: { trainJobS: number; retrainS: number; afterRetrainMs: number }[] = [];
      for (let t = 0; t < args.retrains; t++) {
        retrains.push(
          await retrainOnce(pach, services, `hist${R}x${t}`, pairsFor(k++, args.pairs)),
        );
        history++;
      }
      const med = (f: (x: (typeof retrains)[number]) => number) => quantile(retrains.map(f), 0.5);
      const trainJobS = med((x) => x.trainJobS);
      const retrainS = med((x) => x.retrainS);
      const afterRetrainMs = med((x) => x.afterRetrainMs);

      // steady load (open loop)
      const latencies: number[] = [];
      const waits: Promise<void>[] = [];
      const total = Math.round(args.duration * args.rate);
      const stopProfile = args.cpuProfDir
        ? await startCpuProfile(path.resolve(args.cpuProfDir, `${engine}-R${R}.cpuprofile`))
        : undefined;
      const cpu0 = { own: ownCpuMs(), children: descendantsCpuMs() };
      const start = now();
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / args.rate;
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const t = now();
        waits.push(
          services.predictions
            .requestPredictions(pairsFor(k++, args.pairs))
            .then((r) => answered(services!, r.requestId))
            .then((at) => void latencies.push(at - t)),
        );
      }
      const deadline = sleep(args.drain * 1000).then(() => 'timeout' as const);
      await Promise.race([Promise.allSettled(waits), deadline]);
      const unanswered = total - latencies.length;
      for (let u = 0; u < unanswered; u++) latencies.push(now() - start);
      while (!(await idle(pach))) await sleep(50);
      const cpuOwnMs = (ownCpuMs() - cpu0.own) / total;
      const cpuChildrenMs = (descendantsCpuMs() - cpu0.children) / total;
      await stopProfile?.();
      history += total;

      const row: Row = {
        R,
        trainJobS,
        retrainS,
        afterRetrainMs,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        unanswered,
        cpuOwnMs,
        cpuChildrenMs,
        rss: rssMiB(),
        pachdRss: NaN,
        pachdHeap: NaN,
      };
      const pachdMemory = await pachd?.memory();
      row.pachdRss = pachdMemory?.rss ?? NaN;
      row.pachdHeap = pachdMemory?.heapUsed ?? NaN;
      rows.push(row);
      console.log(
        `${engine.padEnd(8)} R=${String(R).padStart(6)} | train job ${row.trainJobS.toFixed(2)} s | retrain → idle ${row.retrainS.toFixed(2)} s ` +
          `(beyond the train job ${(row.retrainS - row.trainJobS).toFixed(2)} s; medians of ${args.retrains}) | ` +
          `request after retrain ${row.afterRetrainMs.toFixed(0)} ms | load ${args.rate}/s × ${args.duration} s: p50 ${row.p50.toFixed(0)} ms, p99 ${row.p99.toFixed(0)} ms` +
          `${unanswered ? ` (${unanswered} unanswered after ${args.drain} s)` : ''}, ` +
          `CPU ${(row.cpuOwnMs + row.cpuChildrenMs).toFixed(1)} ms/request (${engine === 'embedded' ? 'server' : 'API'} ${row.cpuOwnMs.toFixed(1)} + ` +
          `${engine === 'embedded' ? 'workers' : 'pachd and workers'} ${row.cpuChildrenMs.toFixed(1)}) | RSS ${row.rss.toFixed(0)} MiB (heap ${lastHeapMiB.toFixed(0)})` +
          (child
            ? ` + pachd ${row.pachdRss.toFixed(0)} MiB (heap ${row.pachdHeap.toFixed(1)} used / ${pachdMemory!.heapTotal.toFixed(0)} committed, ` +
              `external ${pachdMemory!.external.toFixed(0)}; anon ${pachdMemory!.rssAnon.toFixed(0)}, file ${pachdMemory!.rssFile.toFixed(0)})`
            : ''),
      );
    }
  } finally {
    await services?.close();
    await pach.close();
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child!.on('exit', () => resolve());
        child!.kill('SIGTERM');
      });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs; R = ${args.sizes.join(', ')}; ` +
      `load ${args.rate}/s × ${args.duration} s; ${args.pairs} pairs per request; uptime: ${uptime()}`,
  );
  for (const engine of args.engines) {
    const rows = await runEngine(engine, args, parent);
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (rows.length > 1) {
      const r = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
      console.log(
        `${engine} R=${last.R} over R=${first.R} (goal ≤ 1.25×): retrain → idle ${r(last.retrainS, first.retrainS)} ` +
          `(train job ${r(last.trainJobS, first.trainJobS)}, beyond it ${r(last.retrainS - last.trainJobS, first.retrainS - first.trainJobS)}), ` +
          `request after retrain ${r(last.afterRetrainMs, first.afterRetrainMs)}, load p50 ${r(last.p50, first.p50)}, ` +
          `p99 ${r(last.p99, first.p99)}, CPU per request ${r(last.cpuOwnMs + last.cpuChildrenMs, first.cpuOwnMs + first.cpuChildrenMs)}, RSS ${r(last.rss, first.rss)}` +
          (engine === 'grpc'
            ? `, pachd RSS ${r(last.pachdRss, first.pachdRss)} (heap ${first.pachdHeap.toFixed(1)} → ${last.pachdHeap.toFixed(1)} MiB)`
            : ''),
      );
    }
  }
  console.log(`uptime: ${uptime()}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
