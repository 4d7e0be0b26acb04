/**
 * Benchmarks of the API services (issue 5) at the schema level (graphql `execute` / `subscribe`,
 * no HTTP), on a fresh embedded engine bootstrapped with MovieLens 100K and the real pipelines:
 *
 * 1. prediction round trip: `requestPredictions` (10 pairs) → the `subscribeToPrediction` push
 *    (commit, predict job with a worker process, answer read) — median / p90 of 20 requests;
 * 2. the subscription's own latency: from the predict output commit's finish (the engine's
 *    commit event, seen by a raw subscribeCommit) to the push — median of the same 20;
 * 3. online `predict(userId, movieId)` and `recommendations(userId, first: 10)` through `execute`
 *    — median over 200 / 50 calls;
 * 4. `addRatings` (100 ratings) → `modelUpdated` (a full SVD fit on ~100k ratings, holdout
 *    included) — median of 3.
 *
 * Run: `node -r ./scripts/ts-register.js bench/services.bench.ts`.
 * Env: REELGRAPH_DATASETS (default ../shared/datasets), REELGRAPH_BENCH_DIR (temp parent).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ExecutionResult, execute, parse, subscribe } from 'graphql';
import { CommitState } from '../src/pachyderm/types';
import { buildSchema } from '../src/resolvers/schema';
import { createServices } from '../src/services';
import { bootstrap, openEmbeddedEngine } from '../src/services/bootstrap';

const DATASETS = process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (v: number[]) => quantile(v, 0.5);
const now = () => performance.now();

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(
    path.join(process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir(), 'reelgraph-services-bench-'),
  );
  const pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets: { datasetsDir: DATASETS } });
  const services = await createServices(pach, {
    dataset: { datasetsDir: DATASETS, download: false },
  });
  const schema = await buildSchema();
  const ctx = { services };
  const run = async (q: string, v?: Record<string, unknown>) => {
    const r = await execute({ schema, document: parse(q), variableValues: v, contextValue: ctx });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  // commit finish instants of `predict`, seen by a raw subscription (the reference clock)
  const finishedAt = new Map<string, number>();
  const ac = new AbortController();
  void (async () => {
    for await (const ci of pach.subscribeCommit('predict', {
      state: CommitState.FINISHED,
      signal: ac.signal,
    })) {
      finishedAt.set(ci.commit.id, now());
    }
  })();
  try {
    console.log(`data directory: ${dir} (node ${process.version}, ${os.cpus().length} CPUs)`);
    const roundTrip: number[] = [];
    const pushLag: number[] = [];
    const pairs = Array.from({ length: 10 }, (_, k) => ({
      userId: String(1 + k),
      movieId: String(100 + k),
    }));
    for (let n = 0; n < 20; n++) {
      const t0 = now();
      const d = await run(
        `mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId commit } }`,
        { p: pairs },
      );
      const sub = (await subscribe({
        schema,
        document: parse(
          `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready error predictions { estimate } } }`,
        ),
        variableValues: { id: d.requestPredictions.requestId },
        contextValue: ctx,
      })) as AsyncGenerator<ExecutionResult>;
      const ev = await sub.next();
      const t1 = now();
      await sub.return(undefined);
      const res = (ev.value as ExecutionResult).data?.subscribeToPrediction as {
        ready: boolean;
        error: string | null;
      };
      if (!res?.ready || res.error) throw new Error(`bad result ${JSON.stringify(ev.value)}`);
      roundTrip.push(t1 - t0);
      const f = finishedAt.get(d.requestPredictions.commit);
      if (f !== undefined) pushLag.push(t1 - f);
    }
    console.log(
      `requestPredictions → subscribeToPrediction push (10 pairs): median ${median(roundTrip).toFixed(1)} ms, p90 ${quantile(roundTrip, 0.9).toFixed(1)} ms (n=${roundTrip.length})`,
    );
    console.log(
      `predict commit finished → push: median ${median(pushLag).toFixed(2)} ms, p90 ${quantile(pushLag, 0.9).toFixed(2)} ms (n=${pushLag.length})`,
    );

    const online: number[] = [];
    for (let n = 0; n < 200; n++) {
      const t0 = now();
      await run(
        `{ predict(userId: "${1 + (n % 900)}", movieId: "${1 + (n % 1600)}") { estimate } }`,
      );
      online.push(now() - t0);
    }
    console.log(
      `query predict: median ${median(online).toFixed(3)} ms, p90 ${quantile(online, 0.9).toFixed(3)} ms (n=200)`,
    );
    const recs: number[] = [];
    for (let n = 0; n < 50; n++) {
      const t0 = now();
      await run(
        `{ recommendations(userId: "${1 + n}", first: 10) { items { movieId title score } } }`,
      );
      recs.push(now() - t0);
    }
    console.log(
      `query recommendations(first: 10): median ${median(recs).toFixed(2)} ms, p90 ${quantile(recs, 0.9).toFixed(2)} ms (n=50)`,
    );

    const retrain: number[] = [];
    for (let n = 0; n < 3; n++) {
      const updates = (await subscribe({
        schema,
        document: parse(`subscription { modelUpdated { version } }`),
        contextValue: ctx,
      })) as AsyncGenerator<ExecutionResult>;
      const next = updates.next();
      const ratings = Array.from({ length: 100 }, (_, k) => ({
        userId: `bench${n}`,
        movieId: String(1 + k),
        rating: 1 + (k % 5),
      }));
      const t0 = now();
      await run(`mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit } }`, {
        r: ratings,
      });
      await next;
      retrain.push(now() - t0);
      await updates.return(undefined);
    }
    console.log(
      `addRatings (100) → modelUpdated (SVD fit on ~100k ratings + holdout fit): median ${(median(retrain) / 1000).toFixed(2)} s (n=3)`,
    );
  } finally {
    ac.abort();
    await services.close();
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
