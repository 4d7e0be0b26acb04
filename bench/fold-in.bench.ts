/**
 * Fold-in beyond the online path (issue 17, part F): how soon a committed rating batch is felt by
 * a `requestPredictions` answer (the predict pipeline folds in the batches published with the
 * model in `models:/fold-in/`), and by online `predict` when another writer committed it (the
 * `training` watch), on MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets; the real
 * `startApi` in this process, the embedded engine, SVD + EASE as bootstrapped).
 *
 * The train pipeline is stopped once the first model serves, so every figure is the fold-in
 * alone (a retrain in parallel would compete for the CPU and replace the folded model). Per
 * trial a new user rates 10 random movies (seeded):
 * - `own → predict`: `addRatings` (GraphQL over HTTP) sent → `predict` answers FOLDED_IN (the
 *   reference measured in the same run; bench:serving measures it at 62 000 movies);
 * - `own → request answered`: `addRatings` sent → a `requestPredictions` committed right after
 *   it is answered FOLDED_IN (the result pushed by `watchResult`, in process); beside it the
 *   request's own part, request commit → answer pushed, and the reference measured in the same
 *   run: a request of a user of no batch (answered by the trained model), commit → answer pushed;
 * - `other writer → predict`: a batch committed directly to `training` (as `reelgraph import` or
 *   another replica does) → `predict` answers FOLDED_IN (polled every 2 ms), and → the batch is
 *   published in `models` (polled).
 * Median of BENCH_FOLDS trials (default 30), p90 beside; peak RSS of this process. Prints
 * `uptime`: on a loaded machine the figures are upper bounds.
 */
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { RandomState } from '../src/engine/random';
import { commitFiles } from '../src/pachyderm/own-commit';
import { loadConfig } from '../src/server/config';
import { createLogger } from '../src/server/logging';
import { startApi, type ApiProcess } from '../src/server/start';
import { ModelPublisher } from '../src/services/model-publisher';
import { newBatchId } from '../src/services/ratings';

const ROOT = path.resolve(__dirname, '..');
const DATASETS = (process.env.REELGRAPH_DATASETS ??= path.resolve(ROOT, '../shared/datasets'));
const FOLDS = Number(process.env.BENCH_FOLDS ?? 30);
const SEED = Number(process.env.BENCH_SEED ?? 17);

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const fmt = (x: number, d = 1) => x.toFixed(d);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

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

const ADD = 'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id commit } }';
const PREDICT = 'query($u: ID!, $m: ID!) { predict(userId: $u, movieId: $m) { modelSource } }';

function line(what: string, v: number[]): void {
  console.log(
    `${what}: p50 ${fmt(quantile(v, 0.5))} ms, p90 ${fmt(quantile(v, 0.9))} ms (${v.length} trials)`,
  );
}

async function main(): Promise<void> {
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  console.log(`seed ${SEED}; datasets ${DATASETS}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-fold-in-bench-'));
  const config = loadConfig(
    { PORT: '0', HOST: '127.0.0.1', REELGRAPH_DATA_DIR: dir, REELGRAPH_DATASETS: DATASETS },
    { dataset: 'ml-100k' },
  );
  const api = await startApi(config, { logger: createLogger('silent'), print: () => undefined });
  try {
    for (let t0 = Date.now(); api.services.models.currentVersion() === null;) {
      if (Date.now() - t0 > 600_000) throw new Error('no model after 10 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
    await api.pach.stopPipeline({ name: 'train' });
    const rng = new RandomState(SEED);
    const publisher = new ModelPublisher(api.pach);
    const batch = (user: string) => {
      const seen = new Set<number>();
      const out: { userId: string; movieId: string; rating: number }[] = [];
      while (out.length < 10) {
        const m = 1 + Math.floor(rng.random() * 1682);
        if (seen.has(m)) continue;
        seen.add(m);
        out.push({ userId: user, movieId: String(m), rating: 1 + Math.floor(rng.random() * 5) });
      }
      return out;
    };
    const own: number[] = [];
    const ownRequest: number[] = [];
    const requestOnly: number[] = [];
    const plain: number[] = [];
    const other: number[] = [];
    const otherPublished: number[] = [];
    for (let t = 0; t < FOLDS; t++) {
      // own batch → online predict
      {
        const user = `bench-own-${t}`;
        const t0 = process.hrtime.bigint();
        await gql(api, ADD, { r: batch(user) });
        for (;;) {
          const d = await gql<{ predict: { modelSource: string } }>(api, PREDICT, {
            u: user,
            m: '50',
          });
          if (d.predict.modelSource === 'FOLDED_IN') break;
        }
        own.push(ms(t0));
      }
      // own batch → a request committed right after it answered FOLDED_IN
      {
        const user = `bench-req-${t}`;
        const t0 = process.hrtime.bigint();
        await gql(api, ADD, { r: batch(user) });
        const t1 = process.hrtime.bigint();
        const req = await api.services.predictions.requestPredictions([
          { userId: user, movieId: '50' },
        ]);
        const stream = await api.services.predictions.watchResult(req.requestId);
        const r = await stream.next();
        await stream.return?.();
        if (r.done || r.value.predictions[0]?.modelSource !== 'FOLDED_IN') {
          throw new Error(`request ${req.requestId} was not answered FOLDED_IN`);
        }
        ownRequest.push(ms(t0));
        requestOnly.push(ms(t1));
      }
      // the reference: a request of a user of no batch (the trained model), commit → answer
      {
        const t0 = process.hrtime.bigint();
        const req = await api.services.predictions.requestPredictions([
          { userId: '1', movieId: '50' },
        ]);
        const stream = await api.services.predictions.watchResult(req.requestId);
        const r = await stream.next();
        await stream.return?.();
        if (r.done || r.value.predictions[0]?.modelSource !== 'TRAINED') {
          throw new Error(`request ${req.requestId} was not answered TRAINED`);
        }
        plain.push(ms(t0));
      }
      // another writer's batch → online predict, and → published with the model
      {
        const user = `bench-other-${t}`;
        const text = batch(user)
          .map((r) => `${r.userId} ${r.movieId} ${r.rating} 1700000000\n`)
          .join('');
        const t0 = process.hrtime.bigint();
        const c = await commitFiles(api.pach, 'training@master', [
          { op: 'put', path: `/batches/${newBatchId()}.txt`, data: text },
        ]);
        for (;;) {
          const p = await api.services.models.predict(user, '50');
          if (p.modelSource === 'FOLDED_IN') break;
          await new Promise((r) => setTimeout(r, 2));
        }
        other.push(ms(t0));
        while ((await publisher.record())?.foldIn?.through !== c.id) {
          await new Promise((r) => setTimeout(r, 2));
        }
        otherPublished.push(ms(t0));
      }
    }
    console.log('\n== ml-100k, train pipeline stopped (fold-in alone)');
    line('own batch: addRatings sent → predict FOLDED_IN', own);
    line('own batch: addRatings sent → requestPredictions answer pushed FOLDED_IN', ownRequest);
    line('  of which the request: commit → answer pushed', requestOnly);
    line('reference: a request of a user of no batch, commit → answer pushed TRAINED', plain);
    line('other writer: training commit → predict FOLDED_IN (watch)', other);
    line('other writer: training commit → published in models:/fold-in/', otherPublished);
    if (process.env.BENCH_JOBS) {
      // the newest predict jobs (what a request waits behind)
      for await (const j of api.pach.listJob({ pipeline: 'predict', number: 8 })) {
        console.log(
          `predict job ${j.job.id.slice(0, 8)}: created→started ${j.started ? j.started.getTime() - j.created.getTime() : '?'} ms, ` +
            `started→finished ${j.finished && j.started ? j.finished.getTime() - j.started.getTime() : '?'} ms, ` +
            `data total ${j.dataTotal} processed ${j.dataProcessed} skipped ${j.dataSkipped}`,
        );
      }
    }
    const rec = await publisher.record();
    console.log(
      `models head: ${rec?.foldIn?.batches ?? 0} batches, ${rec?.foldIn?.bytes ?? 0} bytes folded in; ` +
        `peak RSS ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MiB`,
    );
  } finally {
    await api.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nuptime: ${execSync('uptime').toString().trim()}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
