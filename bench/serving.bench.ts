/**
 * Serving at size (issue 17, part C): the API (the real `startApi`, in this process, HTTP on
 * 127.0.0.1 port 0, the embedded engine and the real train pipeline: SVD 100 factors + the
 * default ranker) on two data sets:
 *
 * - `ml-100k`: MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets), bootstrapped as the
 *   first start does (943 users, 1,682 movies);
 * - `synthetic-62k`: a seeded set shaped like ml-25m's catalogue — 62,000 movies drawn by a
 *   Zipf–Mandelbrot law (s = 1, q = 10), users with power-law activity (≥ 20 ratings each, as
 *   MovieLens keeps), half-star ratings from user and movie biases plus noise; BENCH_RATINGS
 *   ratings (default 2,000,000) by BENCH_USERS users (default 40,000). It is committed as one
 *   batch file to `training@master`, which starts the train job (the 25M set of engineer A's
 *   generator goes the same way once its import lands: BENCH_RATINGS=25000000).
 *
 * For each it prints: the train job's wall time (commit → model served), the model file's size,
 * the time to load it (`loadModel`, median of 3) and the registry's swap (train commit finished →
 * serving), this process's RSS after load and its peak RSS; then over HTTP, one request at a time
 * (latency of one request, no queueing), median over BENCH_RUNS runs of each run's p50 / p99:
 * `predict` (random known user × random movie; BENCH_REQUESTS per run) and `recommendations`
 * (first 10, random known user; the rating model over the whole catalogue above 20,000 movies,
 * EASE below); and fold-in latency: with the train pipeline stopped (so no retrain competes),
 * `addRatings` of 10 ratings by a new user, then `predict` for them until it answers
 * `modelSource: FOLDED_IN` — time from sending the mutation to that answer, p50 / p99 over
 * BENCH_FOLDS trials (goal p50 ≤ 100 ms). Beside each latency: the CPU time (user + system) of
 * this process per request — server and client together — which, unlike wall time, does not grow
 * when other processes load the machine.
 *
 * - `model` (BENCH_MODEL=FILE.rgm, e.g. the 25M model of bench/serving-model.ts): first the load
 *   of each file of BENCH_MODEL and BENCH_MODEL_COMPARE (e.g. the same model in format version 1),
 *   each in a fresh child process (bench/serving-load-child.ts; median of 3 children: read, load,
 *   first answers, RSS, peak RSS); then the API serves FILE — committed with its metrics and
 *   manifest as a `train` commit while the train pipeline is stopped, so the real registry loads
 *   it — and the same latencies and fold-in as above are measured.
 *
 * Run: `npm run bench:serving` (node --expose-gc). Env: BENCH_ONLY (ml-100k | synthetic-62k | model),
 * BENCH_RATINGS, BENCH_USERS, BENCH_MOVIES (default 62000), BENCH_SEED (default 25), BENCH_RUNS
 * (default 3), BENCH_REQUESTS (default 500), BENCH_FOLDS (default 30). Prints `uptime` first:
 * figures on a loaded machine are upper bounds.
 */
import { execFileSync, execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { factorRecommend, isFactorModel } from '../src/engine/factor-top-n';
import { loadModel, readModelHeader } from '../src/engine/model-file';
import { RandomState } from '../src/engine/random';
import { commitFiles } from '../src/pachyderm/own-commit';
import { loadConfig } from '../src/server/config';
import { createLogger } from '../src/server/logging';
import { startApi, type ApiProcess } from '../src/server/start';
import type { ModelRegistry } from '../src/services/model-registry';
import { newBatchId } from '../src/services/ratings';

const ROOT = path.resolve(__dirname, '..');
const DATASETS = (process.env.REELGRAPH_DATASETS ??= path.resolve(ROOT, '../shared/datasets'));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
const FOLDS = Number(process.env.BENCH_FOLDS ?? 30);
const N_RATINGS = Number(process.env.BENCH_RATINGS ?? 2_000_000);
const N_USERS = Number(process.env.BENCH_USERS ?? 40_000);
const N_MOVIES = Number(process.env.BENCH_MOVIES ?? 62_000);
const SEED = Number(process.env.BENCH_SEED ?? 25);
const MODEL = process.env.BENCH_MODEL;
const MODEL_COMPARE = process.env.BENCH_MODEL_COMPARE;

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (v: number[]) => quantile(v, 0.5);
const fmt = (x: number, d = 1) => x.toFixed(d);
const mib = (bytes: number) => bytes / 1024 / 1024;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** The synthetic set as batch-file text (`user movie rating timestamp` lines). */
function syntheticBatch(): { text: string; users: number; movies: number; ratings: number } {
  const rng = new RandomState(SEED);
  // movie popularity: Zipf–Mandelbrot, cumulative weights for inverse-CDF draws
  const cum = new Float64Array(N_MOVIES);
  let acc = 0;
  for (let i = 0; i < N_MOVIES; i++) cum[i] = acc += 1 / (i + 1 + 10);
  const draw = () => {
    const x = rng.random() * acc;
    let lo = 0;
    let hi = N_MOVIES - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const bi = Float64Array.from({ length: N_MOVIES }, () => rng.normal(0, 0.5));
  // user activity: Pareto(α = 1.5) above 20, scaled to N_RATINGS in total
  const act = Float64Array.from({ length: N_USERS }, () => Math.pow(1 - rng.random(), -1 / 1.5));
  const actSum = act.reduce((a, b) => a + b, 0);
  const extra = N_RATINGS - 20 * N_USERS;
  const parts: string[] = [];
  let count = 0;
  const seen = new Set<number>();
  for (let u = 0; u < N_USERS; u++) {
    const n = Math.min(N_MOVIES >> 2, 20 + Math.floor((extra * act[u]) / actSum));
    const bu = rng.normal(0, 0.4);
    seen.clear();
    let line = '';
    while (seen.size < n) {
      const i = draw();
      if (seen.has(i)) continue;
      seen.add(i);
      const r = Math.round(2 * (3.5 + bu + bi[i] + rng.normal(0, 0.8))) / 2;
      line += `s${u} m${i} ${Math.min(5, Math.max(0.5, r))} 1700000000\n`;
    }
    parts.push(line);
    count += n;
  }
  return { text: parts.join(''), users: N_USERS, movies: N_MOVIES, ratings: count };
}

async function gql<T>(api: ApiProcess, query: string, variables?: Record<string, unknown>) {
  const r = await fetch(api.server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await r.json()) as { data?: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

const PREDICT =
  'query($u: ID!, $m: ID!) { predict(userId: $u, movieId: $m) { estimate modelSource } }';
const RECS =
  'query($u: ID!) { recommendations(userId: $u, first: 10) { modelSource rankedBy items { movieId score } } }';

async function waitServed(api: ApiProcess, than: string | null, ms = 3_600_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const v = api.services.models.currentVersion();
    if (v && v !== than) return v;
    if (Date.now() - t0 > ms) throw new Error('no model served in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU time (user + system, ms) of this process — server and client — per request of the last `latencies`. */
let cpuPerRequest = NaN;

async function latencies(n: number, one: (k: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const t0 = process.hrtime.bigint();
    await one(k);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const c = process.cpuUsage(c0);
  cpuPerRequest = (c.user + c.system) / 1000 / n;
  return out;
}

/** Loads of one model file, each in a fresh child (bench/serving-load-child.ts), median of 3. */
function childLoads(file: string): void {
  const runs: Record<string, number>[] = [];
  for (let k = 0; k < 3; k++) {
    const out = execFileSync(
      process.execPath,
      ['-r', './scripts/ts-register.js', 'bench/serving-load-child.ts', file],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    runs.push(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
  }
  const m = (key: string) => median(runs.map((r) => r[key]));
  console.log(
    `${path.basename(file)} (format ${runs[0].formatVersion}, ${fmt(m('fileMiB'))} MiB): read ${fmt(m('readMs'), 0)} ms, ` +
      `loadModel ${fmt(m('loadMs'), 0)} ms, first predict + top-10 ${fmt(m('firstAnswersMs'), 0)} ms; ` +
      `RSS after ${fmt(m('rssMiB'), 0)} MiB, peak ${fmt(m('maxRssMiB'), 0)} MiB (fresh process each, median of 3)`,
  );
}

/**
 * Makes the train pipeline publish a model file as its output: its transform is updated to copy
 * FILE into /pfs/out (with a metrics.json from the file's header), then one rating is committed
 * to `training` to start the job. The registry then loads it as any train commit.
 */
async function serveModelFile(api: ApiProcess, file: string): Promise<void> {
  const h = readModelHeader(fs.readFileSync(file));
  const metrics = JSON.stringify({
    algorithm: h.algorithm,
    params: h.params,
    ratings: h.trainset.nRatings,
    users: h.trainset.nUsers,
    items: h.trainset.nItems,
  });
  const spec = JSON.parse(
    fs.readFileSync(path.join(ROOT, 'workers/train/pipeline.json'), 'utf8'),
  ) as Record<string, Record<string, unknown>>;
  spec.transform = {
    ...spec.transform,
    cmd: [
      'sh',
      '-c',
      'cp "$BENCH_MODEL_FILE" /pfs/out/model.rgm && printf %s "$BENCH_METRICS" > /pfs/out/metrics.json',
    ],
    env: { BENCH_MODEL_FILE: path.resolve(file), BENCH_METRICS: metrics },
  };
  await api.pach.createPipeline(spec, { update: true });
  await commitFiles(api.pach, 'training@master', [
    { op: 'put', path: `/batches/${newBatchId()}.txt`, data: 'bench m0 3 1700000000\n' },
  ]);
}

async function benchSet(name: 'ml-100k' | 'synthetic-62k' | 'model'): Promise<void> {
  console.log(`\n== ${name}${name === 'model' ? ` ${MODEL}` : ''}`);
  if (name === 'model') {
    for (const f of [MODEL!, ...(MODEL_COMPARE ? [MODEL_COMPARE] : [])]) childLoads(f);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reelgraph-serving-${name}-`));
  const config = loadConfig(
    { PORT: '0', HOST: '127.0.0.1', REELGRAPH_DATA_DIR: dir, REELGRAPH_DATASETS: DATASETS },
    name === 'ml-100k' ? { dataset: 'ml-100k' } : { dataset: 'none', ratingScale: [0.5, 5] },
  );
  const tStart = Date.now();
  const api = await startApi(config, { logger: createLogger('silent'), print: () => undefined });
  try {
    let committedMs = tStart;
    if (name === 'model') {
      gc();
      console.log(
        `serving process RSS before any model ${fmt(mib(process.memoryUsage().rss), 0)} MiB (the API, the embedded engine, this bench)`,
      );
      committedMs = Date.now();
      await serveModelFile(api, MODEL!);
    } else if (name === 'synthetic-62k') {
      const t0 = Date.now();
      const set = syntheticBatch();
      console.log(
        `generated ${set.ratings} ratings, ${set.users} users, ${set.movies} movies (seed ${SEED}) in ${fmt((Date.now() - t0) / 1000)} s`,
      );
      committedMs = Date.now();
      const batchId = newBatchId();
      await commitFiles(api.pach, 'training@master', [
        { op: 'put', path: `/batches/${batchId}.txt`, data: set.text },
      ]);
      gc();
    }
    const version = await waitServed(api, null);
    const servedMs = Date.now();
    const ci = await api.pach.inspectCommit({ repo: 'train', id: version });
    const info = await api.services.models.model(version);
    gc();
    // the serving process as it serves: the registry's model and nothing of this bench's reads
    const servingRss = mib(process.memoryUsage().rss);
    const mem = process.memoryUsage();
    const servingBuffers = mib(mem.arrayBuffers);
    const servingHeap = mib(mem.heapUsed);
    const loads: number[] = [];
    let fileMiB = 0;
    {
      const buf = await api.pach.readFile({
        commit: { repo: 'train', id: version },
        path: '/model.rgm',
      });
      fileMiB = mib(buf.length);
      for (let k = 0; k < 3; k++) {
        const t0 = process.hrtime.bigint();
        loadModel(buf);
        loads.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    gc();
    const ranker = (api.services.models as ModelRegistry).current()?.ranker?.name ?? 'none';
    console.log(
      `model ${info.algorithm} ${JSON.stringify({ nFactors: info.params.nFactors })} on ${info.ratingsCount} ratings, ` +
        `${info.usersCount} users, ${info.itemsCount} movies; ranker ${ranker}`,
    );
    console.log(
      `train job: commit → served ${fmt((servedMs - committedMs) / 1000)} s (fit ${fmt(info.fitSeconds ?? NaN)} s); ` +
        `model file ${fmt(fileMiB)} MiB; loadModel ${fmt(median(loads))} ms (median of 3); ` +
        `train commit finished → served ${ci.finished ? fmt(servedMs - ci.finished.getTime(), 0) : '?'} ms`,
    );
    console.log(
      `serving process RSS after load ${fmt(servingRss, 0)} MiB (array buffers ${fmt(servingBuffers, 0)} MiB, JS heap used ${fmt(servingHeap, 0)} MiB; before this bench's own loadModel timings), peak RSS ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MiB`,
    );

    const algo = (api.services.models as ModelRegistry).current()!.algo;
    const ts = algo.trainset;
    const rng = new RandomState(SEED + 1);
    const user = () => ts.toRawUid(rng.randint(0, ts.nUsers));
    const movie = () => ts.toRawIid(rng.randint(0, ts.nItems));
    const p50s: number[][] = [[], [], []];
    const p99s: number[][] = [[], [], []];
    const cpus: number[][] = [[], []];
    // warm-up
    await latencies(50, () => gql(api, PREDICT, { u: user(), m: movie() }));
    await latencies(20, () => gql(api, RECS, { u: user() }));
    let rankedBy = '';
    for (let run = 0; run < RUNS; run++) {
      const p = await latencies(REQUESTS, () => gql(api, PREDICT, { u: user(), m: movie() }));
      cpus[0].push(cpuPerRequest);
      const r = await latencies(Math.max(50, REQUESTS >> 1), async () => {
        const d = await gql<{ recommendations: { rankedBy: string } }>(api, RECS, { u: user() });
        rankedBy = d.recommendations.rankedBy;
      });
      cpus[1].push(cpuPerRequest);
      for (const [k, v] of [p, r].entries()) {
        p50s[k].push(quantile(v, 0.5));
        p99s[k].push(quantile(v, 0.99));
      }
    }
    // Where predict's time goes: the HTTP + GraphQL floor (a query that resolves nothing) and
    // the registry's own predict, in process (no HTTP).
    const floor = await latencies(REQUESTS, () => gql(api, '{ __typename }'));
    const floorCpu = cpuPerRequest;
    const c0 = process.cpuUsage();
    const tIn = process.hrtime.bigint();
    const N_IN = 20_000;
    for (let k = 0; k < N_IN; k++) await api.services.models.predict(user(), movie());
    const inWall = Number(process.hrtime.bigint() - tIn) / 1e3 / N_IN;
    const cIn = process.cpuUsage(c0);
    // recommendations' top-N in process (no HTTP): the rating model's path in the registry
    let recIn = '';
    if (isFactorModel(algo)) {
      const N_REC = 300;
      const c1 = process.cpuUsage();
      const t1 = process.hrtime.bigint();
      for (let k = 0; k < N_REC; k++) factorRecommend(algo, rng.randint(0, ts.nUsers), 10, true);
      const cr = process.cpuUsage(c1);
      recIn =
        `; top-10 of the factor model in process (factorRecommend): ${fmt(Number(process.hrtime.bigint() - t1) / 1e6 / N_REC, 2)} ms wall, ` +
        `${fmt((cr.user + cr.system) / 1000 / N_REC, 2)} ms CPU per call (${N_REC} users)`;
    }
    console.log(
      `HTTP + GraphQL floor ({ __typename }): p50 ${fmt(quantile(floor, 0.5), 2)} ms, p99 ${fmt(quantile(floor, 0.99), 2)} ms, ` +
        `CPU ${fmt(floorCpu, 2)} ms per request; ModelRegistry.predict in process: ${fmt(inWall, 1)} µs wall, ` +
        `${fmt((cIn.user + cIn.system) / N_IN, 1)} µs CPU per call (${N_IN} calls)${recIn}`,
    );
    console.log(
      `predict over HTTP: p50 ${fmt(median(p50s[0]), 2)} ms, p99 ${fmt(median(p99s[0]), 2)} ms, ` +
        `CPU ${fmt(median(cpus[0]), 2)} ms per request ` +
        `(${REQUESTS} sequential requests per run, median of ${RUNS} runs; goal p99 ≤ 10 ms)`,
    );
    console.log(
      `recommendations (first 10, ranked by ${rankedBy}) over HTTP: p50 ${fmt(median(p50s[1]), 2)} ms, ` +
        `p99 ${fmt(median(p99s[1]), 2)} ms, CPU ${fmt(median(cpus[1]), 2)} ms per request (${Math.max(50, REQUESTS >> 1)} per run, median of ${RUNS} runs; goal p99 ≤ 20 ms)`,
    );

    await api.pach.stopPipeline({ name: 'train' });
    const folds: number[] = [];
    const mutations: number[] = [];
    for (let t = 0; t < FOLDS; t++) {
      const uid = `fold-${t}`;
      const ratings = Array.from({ length: 10 }, () => ({
        userId: uid,
        movieId: movie(),
        rating: 1 + rng.randint(0, 5),
      }));
      const target = movie();
      const t0 = process.hrtime.bigint();
      await gql(api, 'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit } }', {
        r: ratings,
      });
      mutations.push(Number(process.hrtime.bigint() - t0) / 1e6);
      for (;;) {
        const d = await gql<{ predict: { modelSource: string } }>(api, PREDICT, {
          u: uid,
          m: target,
        });
        if (d.predict.modelSource === 'FOLDED_IN') break;
      }
      folds.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(
      `fold-in: addRatings sent → predict answers FOLDED_IN p50 ${fmt(median(folds))} ms, p99 ${fmt(quantile(folds, 0.99))} ms ` +
        `(of which the addRatings commit p50 ${fmt(median(mutations))} ms; ${FOLDS} new users × 10 ratings; goal p50 ≤ 100 ms)`,
    );
    console.log(
      `serving process RSS at the end ${fmt(mib(process.memoryUsage().rss), 0)} MiB, peak ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MiB`,
    );
  } finally {
    await api.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  console.log(
    `node ${process.version}, ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB`,
  );
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'ml-100k') await benchSet('ml-100k');
  if (!only || only === 'synthetic-62k') await benchSet('synthetic-62k');
  if (only === 'model' || (!only && MODEL)) {
    if (!MODEL) throw new Error('BENCH_ONLY=model needs BENCH_MODEL=FILE.rgm');
    await benchSet('model');
  }
  console.log(`\nuptime: ${execSync('uptime').toString().trim()}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
