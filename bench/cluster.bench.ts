/**
 * Cluster mode against the embedded engine: the prediction round trip — `requestPredictions`
 * (10 pairs; a commit of the request's own) → the `watchResult` push (predict job, answer read
 * back) — measured on
 *
 * 1. the embedded engine in this process (datum batching over Node's IPC channel), and
 * 2. a real-socket cluster stand-in: `reelgraph pachd` as a child process on 127.0.0.1 (gRPC, the
 *    2.12 finishing window of 50 ms, datum batching through the worker's gRPC NextDatum), with
 *    the services on reelgraph's gRPC client, as the API runs on a cluster.
 *
 * Both get the same repos and pipelines (workers/*.json, predict with `datumBatching: true`) and
 * the same synthetic training data (300 users × 40 movies, seed printed), then 5 warm-up requests
 * and 30 measured ones; each figure is the median over RUNS runs (default 3) of the per-run p50 /
 * p90. The ratio is stand-in / embedded. Peak RSS is this process's (the stand-in's own memory is
 * in its child).
 *
 * A round trip crosses two finishing windows on the stand-in (the request's commit, then the
 * predict output commit), as on a real pachd, whose window length is not known here:
 * FINISHING_WINDOW_MS sets the stand-in's (default 50, as `reelgraph pachd`).
 *
 * Run: `npm run bench:cluster`. Env: RUNS (default 3), FINISHING_WINDOW_MS (default 50),
 * REELGRAPH_BENCH_DIR (temp parent).
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pachyderm } from '../src/pachyderm';
import { connectPachd } from '../src/pachyderm/grpc/client';
import { startPachd } from './pachd-child';
import { commitFiles } from '../src/pachyderm/own-commit';
import { createServices } from '../src/services';
import {
  MODELS_REPO,
  PIPELINES,
  STREAMING_REPO,
  TRAINING_REPO,
  openEmbeddedEngine,
  pipelineSpecFor,
  waitForModel,
} from '../src/services/bootstrap';

const RUNS = Number(process.env.RUNS ?? 3);
/** The stand-in's finishing window (its `--finishing-window-ms`; `reelgraph pachd` defaults to 50). */
const WINDOW_MS = Number(process.env.FINISHING_WINDOW_MS ?? 50);
const SEED = 14;

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (v: number[]) => quantile(v, 0.5);
const now = () => performance.now();

/** Deterministic ratings (xorshift32 from SEED): "user movie rating ts" lines. */
function ratings(): string {
  let x = SEED;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const lines: string[] = [];
  for (let u = 1; u <= 300; u++)
    for (let m = 1; m <= 40; m++)
      if (rnd() < 0.5) lines.push(`${u} ${m} ${1 + Math.floor(rnd() * 5)} 0`);
  return lines.join('\n') + '\n';
}

/** Repos, pipelines, one training commit; resolves when the first model is there. */
async function setUp(pach: Pachyderm): Promise<void> {
  await pach.createRepo(TRAINING_REPO);
  await pach.createRepo(STREAMING_REPO);
  // predict's model input (the `models` repo the serving model is published to)
  await pach.createRepo(MODELS_REPO);
  await commitFiles(pach, `${TRAINING_REPO}@master`, [
    { op: 'put', path: '/base/synthetic.txt', data: ratings() },
  ]);
  for (const name of PIPELINES) await pach.createPipeline(pipelineSpecFor(name, pach, {}));
  await waitForModel(pach, { timeoutMs: 10 * 60_000 });
}

/** p50 and p90 of 30 round trips (after 5 warm-ups) on `pach`. */
async function roundTrips(pach: Pachyderm): Promise<{ p50: number; p90: number }> {
  const services = await createServices(pach);
  try {
    const pairs = Array.from({ length: 10 }, (_, k) => ({
      userId: String(1 + k),
      movieId: String(1 + ((k * 7) % 40)),
    }));
    const lat: number[] = [];
    for (let n = 0; n < 35; n++) {
      const t0 = now();
      const receipt = await services.predictions.requestPredictions(pairs);
      const it = await services.predictions.watchResult(receipt.requestId);
      const r = await it.next();
      await it.return?.();
      if (!r.value?.ready || r.value.error)
        throw new Error(`bad result ${JSON.stringify(r.value)}`);
      if (n >= 5) lat.push(now() - t0);
    }
    return { p50: quantile(lat, 0.5), p90: quantile(lat, 0.9) };
  } finally {
    await services.close();
  }
}

async function standIn(dir: string): Promise<{ child: ChildProcess; address: string }> {
  return startPachd(dir, ['--finishing-window-ms', String(WINDOW_MS)]);
}

async function main(): Promise<void> {
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  console.log(
    `cluster bench: node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, RUNS=${RUNS}, stand-in finishing window ${WINDOW_MS} ms, ratings seed ${SEED}`,
  );
  const emb: { p50: number; p90: number }[] = [];
  const grpc: { p50: number; p90: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const d1 = fs.mkdtempSync(path.join(parent, 'reelgraph-cluster-bench-'));
    const embedded = await openEmbeddedEngine(d1);
    try {
      await setUp(embedded);
      emb.push(await roundTrips(embedded));
    } finally {
      await embedded.close();
      fs.rmSync(d1, { recursive: true, force: true });
    }
    const d2 = fs.mkdtempSync(path.join(parent, 'reelgraph-cluster-bench-'));
    const { child, address } = await standIn(d2);
    const client = connectPachd(address);
    try {
      await setUp(client);
      grpc.push(await roundTrips(client));
    } finally {
      await client.close();
      const exited = new Promise((r) => child.on('exit', r));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(d2, { recursive: true, force: true });
    }
    console.log(
      `run ${run + 1}: embedded p50 ${emb[run].p50.toFixed(1)} ms; stand-in p50 ${grpc[run].p50.toFixed(1)} ms`,
    );
  }
  const e50 = median(emb.map((x) => x.p50));
  const g50 = median(grpc.map((x) => x.p50));
  console.log(
    `request → push, embedded engine (IPC batching):        p50 ${e50.toFixed(1)} ms, p90 ${median(emb.map((x) => x.p90)).toFixed(1)} ms`,
  );
  console.log(
    `request → push, stand-in over gRPC (NextDatum batching, window ${WINDOW_MS} ms): p50 ${g50.toFixed(1)} ms, p90 ${median(grpc.map((x) => x.p90)).toFixed(1)} ms`,
  );
  console.log(`ratio stand-in / embedded (p50): ${(g50 / e50).toFixed(2)}×`);
  console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
