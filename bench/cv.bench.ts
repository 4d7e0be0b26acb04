/**
 * `npm run bench:cv`: where the time of a cross-validation goes — the 5-fold cross-validation
 * (KFold, randomState 0) of Surprise's 11 algorithms with their defaults (seeded ones with
 * randomState 0) on all of ml-100k's u.data, the figure issue 17 set at ≤ 10 s (24 s at its
 * start; Surprise 1.1.4: 199 s).
 *
 * Each run does, interleaved so that both see the same load:
 * - sequential: `compareAlgorithms` in this thread;
 * - pooled: `compareAlgorithmsPooled` on a fresh pool of `--workers N` threads (default: the
 *   cores), its start-up included in the wall time.
 * Prints, median of `--runs N` (default 3):
 * - the total wall seconds of each, and their ratio;
 * - per algorithm, the sum over its 5 folds of fit + test seconds, sequential and pooled (in the
 *   pool these are the seconds inside the workers);
 * - the pool's idle tail: how long the first worker out of tasks waits for the last one (longest
 *   first keeps it short);
 * - the pool's overheads: thread start-up (a new worker until it answers a first, trivial task),
 *   and what one task costs to send (the structured clone of its message, measured here);
 * - a check that both give the same RMSE and MAE per fold, bit for bit;
 * - the k-NN neighbour selection of one fold's test ratings, the stable top-k against the
 *   insertion method it replaced (same lists checked);
 * - the CPU seconds of each (all threads of the process: the work itself, whatever the load), and
 *   the pool's CPU seconds over the number of workers (its wall time on idle cores);
 * - the load average (`uptime`) before and after, and the peak RSS of the process (worker threads
 *   included: they share it).
 *
 * `--selection-only` prints the neighbour-selection figure alone.
 *
 * Data: REELGRAPH_DATASETS (default ../../shared/datasets), never downloaded.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { getAlgorithm } from '../src/engine/algorithms';
import { Dataset, Reader } from '../src/engine/dataset';
import {
  FoldPool,
  KFold,
  compareAlgorithms,
  compareAlgorithmsPooled,
  poolSize,
  type CrossValidateResult,
} from '../src/engine/model-selection';
import { Trainset } from '../src/engine/trainset';
import { KNNBasic } from '../src/engine/algorithms/knn';
import { StableTopK } from '../src/engine/neighbor-selection';
import * as v8 from 'node:v8';
import { DEFAULT_COMPARE_ALGORITHMS } from '../src/cli/commands/compare';

/** Surprise's 11 algorithms, in its benchmark table's order; the seeded ones with randomState 0. */
export const ELEVEN = DEFAULT_COMPARE_ALGORITHMS.filter((name) => name !== 'BayesianFM');

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const k = args.indexOf(name);
  const v = k >= 0 ? Number(args[k + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return v;
};
const runs = arg('--runs', 3);
const workers = arg('--workers', poolSize());
const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const foldSeconds = (r: CrossValidateResult) => sum(r.fitTime) + sum(r.testTime);

/** A tiny fold task: BaselineOnly on the first 200 ratings, measured on 20 of them. */
function tinyTask(data: Dataset) {
  const idx = Int32Array.from({ length: 200 }, (_, k) => k);
  const ts = Trainset.build(data.ratings, data.ratingScale, idx);
  return {
    kind: 'fold' as const,
    task: {
      name: 'BaselineOnly',
      params: {},
      trainset: ts.state(),
      testset: ts.buildTestset().slice(0, 20),
      measures: ['rmse' as const],
      returnTrainMeasures: false,
    },
  };
}

/** Seconds from creating a pool of one worker to the answer of its first tiny task, less a warm one's. */
async function startUpSeconds(data: Dataset): Promise<number> {
  const pool = new FoldPool(1);
  try {
    const task = tinyTask(data);
    let t0 = performance.now();
    await pool.run(task);
    const cold = performance.now() - t0;
    t0 = performance.now();
    await pool.run(task);
    return (cold - (performance.now() - t0)) / 1000;
  } finally {
    await pool.close();
  }
}

/**
 * What one task of the first KFold fold weighs as the pool sends it (v8 serialisation): the
 * positions form (KFold, ShuffleSplit, PredefinedKFold; its position arrays are on shared memory,
 * so only the rest is copied) and the arrays form (custom splitters: the trainset's arrays and the
 * testset, copied per task).
 */
function taskCost(data: Dataset): string {
  const [[train, test]] = new KFold({ nSplits: 5, randomState: 0 }).splitIndices(
    data.ratings.length,
  );
  const ts = Trainset.build(data.ratings, data.ratingScale, train);
  const message = {
    trainset: { ...ts.state(), urTimestamps: ts.urTimestamps },
    testset: data.ratings.subset(test).toTestset(),
  };
  const positions = {
    kind: 'split',
    task: {
      key: '1:1:0',
      train: { data: 1, positions: null },
      test: { data: 1, positions: null },
      cacheSplits: 5,
      name: 'SVD',
      params: { randomState: 0 },
      measures: ['rmse', 'mae'],
      returnTrainMeasures: false,
      returnEstimates: false,
    },
  };
  const cost = (m: unknown) => {
    const times: number[] = [];
    let bytes = 0;
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const buf = v8.serialize(m);
      v8.deserialize(buf);
      times.push(performance.now() - t0);
      bytes = buf.length;
    }
    return { bytes, ms: median(times) };
  };
  const a = cost(positions);
  const b = cost(message);
  const t0 = performance.now();
  new Int32Array(new SharedArrayBuffer(train.byteLength)).set(train);
  const share = performance.now() - t0;
  return (
    `positions form ${a.bytes} bytes copied + ${((train.byteLength + test.byteLength) / 2 ** 10).toFixed(0)} KiB of positions on shared memory ` +
    `(${share.toFixed(2)} ms to share, once per fold); arrays form (custom splitters only) ` +
    `${(b.bytes / 2 ** 20).toFixed(2)} MiB, ${b.ms.toFixed(1)} ms to serialise + deserialise per task`
  );
}

/**
 * The k-NN neighbour selection (k = 40) of the first KFold fold's 20 000 test ratings, with
 * KNNBasic's user-based MSD similarities: the stable top-k (neighbor-selection.ts) against the
 * insertion method it replaced (the reference, here), interleaved, median of 15; the two must give
 * the same lists.
 */
function selectionFigure(data: Dataset): string {
  const [[train, test]] = new KFold({ nSplits: 5, randomState: 0 }).splitIndices(
    data.ratings.length,
  );
  const ts = Trainset.build(data.ratings, data.ratingScale, train);
  const algo = new KNNBasic().fit(ts);
  const sim = algo.similarityMatrix;
  const nX = ts.nUsers;
  const testset = data.ratings.subset(test).toTestset();
  const pairs = testset
    .map(([u, i]) => [ts.findUser(u), ts.findItem(i)])
    .filter(([u, i]) => u >= 0 && i >= 0);
  const k = 40;
  const selSim = new Float64Array(k);
  const selPos = new Int32Array(k);
  const { irOffsets: off, irUsers: xs } = ts;
  const insertion = (x: number, y: number): number => {
    let cnt = 0;
    const row = x * nX;
    for (let p = off[y]; p < off[y + 1]; p++) {
      const s = sim[row + xs[p]];
      let j: number;
      if (cnt < k) j = cnt++;
      else if (s > selSim[k - 1]) j = k - 1;
      else continue;
      while (j > 0 && selSim[j - 1] < s) {
        selSim[j] = selSim[j - 1];
        selPos[j] = selPos[j - 1];
        j--;
      }
      selSim[j] = s;
      selPos[j] = p;
    }
    return cnt;
  };
  const top = new StableTopK(ts.nUsers);
  const stable = (x: number, y: number) =>
    top.select(sim, x * nX, xs, off[y], off[y + 1], k, selPos, selSim);
  const run = (f: (x: number, y: number) => number) => {
    const t0 = performance.now();
    let check = 0;
    for (const [u, i] of pairs) {
      const c = f(u, i);
      for (let j = 0; j < c; j++) check = (check * 31 + selPos[j]) % 1_000_000_007;
    }
    return { ms: performance.now() - t0, check };
  };
  const a: number[] = [];
  const b: number[] = [];
  let same = true;
  for (let r = 0; r < 15; r++) {
    const x = run(insertion);
    const y = run(stable);
    a.push(x.ms);
    b.push(y.ms);
    if (x.check !== y.check) same = false;
  }
  return (
    `k-NN neighbour selection (k 40) of ${pairs.length} test ratings, median of 15: insertion ` +
    `${median(a).toFixed(1)} ms, stable top-k ${median(b).toFixed(1)} ms ` +
    `(${(median(a) / median(b)).toFixed(2)}×); same lists: ${same ? 'yes' : 'NO'}`
  );
}

async function main(): Promise<void> {
  const file = path.join(datasetsDir, 'ml-100k', 'u.data');
  const data = Dataset.loadFromFile(file, Reader.builtin('ml-100k'));
  const algos = ELEVEN.map((name) =>
    'randomState' in getAlgorithm(name).paramSpecs
      ? { name, params: { randomState: 0 } as Record<string, unknown> }
      : { name },
  );
  console.log(
    `reelgraph cv bench — 5-fold CV (KFold randomState 0) of ${algos.length} algorithms on ${file} ` +
      `(${data.ratings.length} ratings), median of ${runs} runs, pool of ${workers} workers; ` +
      `node ${process.version}, ${os.cpus().length} cores`,
  );
  console.log(`load before: ${load()} (1/5/15 min)`);
  const cv = () => new KFold({ nSplits: 5, randomState: 0 });
  if (args.includes('--selection-only')) {
    console.log(selectionFigure(data));
    console.log(`load after: ${load()} (1/5/15 min)`);
    return;
  }

  const seqWall: number[] = [];
  const parWall: number[] = [];
  const seqCpu: number[] = [];
  const parCpu: number[] = [];
  const cpuSince = (c0: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(c0);
    return (u.user + u.system) / 1e6;
  };
  const startUp: number[] = [];
  const tail: number[] = [];
  const seqPer: number[][] = algos.map(() => []);
  const parPer: number[][] = algos.map(() => []);
  let same = true;
  for (let k = 0; k < runs; k++) {
    let c0 = process.cpuUsage();
    let t0 = performance.now();
    const a = compareAlgorithms(algos, data, { cv: cv() });
    seqWall.push((performance.now() - t0) / 1000);
    seqCpu.push(cpuSince(c0));

    const pool = new FoldPool(workers);
    try {
      c0 = process.cpuUsage();
      t0 = performance.now();
      const lastByThread = new Map<number, number>();
      const b = await compareAlgorithmsPooled(algos, data, {
        cv: cv(),
        pool,
        onFold: (f) => lastByThread.set(f.outcome.threadId, performance.now()),
      });
      const end = performance.now();
      parWall.push((end - t0) / 1000);
      parCpu.push(cpuSince(c0));
      // how long the first worker to run out of tasks waited for the last one
      tail.push((end - Math.min(...lastByThread.values())) / 1000);
      a.forEach((r, j) => {
        seqPer[j].push(foldSeconds(r));
        parPer[j].push(foldSeconds(b[j]));
        for (const key of ['testRmse', 'testMae'] as const) {
          if (JSON.stringify(r[key]) !== JSON.stringify(b[j][key])) same = false;
        }
      });
    } finally {
      await pool.close();
    }
    startUp.push(await startUpSeconds(data));
    console.log(
      `  run ${k + 1}: sequential ${seqWall[k].toFixed(2)} s wall (${seqCpu[k].toFixed(2)} s CPU), ` +
        `pool ${parWall[k].toFixed(2)} s wall (${parCpu[k].toFixed(2)} s CPU, all threads) (load ${load()})`,
    );
  }
  console.log('per algorithm, Σ over the 5 folds of fit + test seconds (median of runs):');
  console.log(`  ${'algorithm'.padEnd(16)} ${'sequential'.padStart(10)} ${'in pool'.padStart(10)}`);
  algos.forEach((a, j) =>
    console.log(
      `  ${a.name.padEnd(16)} ${median(seqPer[j]).toFixed(2).padStart(10)} ${median(parPer[j])
        .toFixed(2)
        .padStart(10)}`,
    ),
  );
  console.log(
    `  ${'total'.padEnd(16)} ${sum(seqPer.map(median)).toFixed(2).padStart(10)} ${sum(
      parPer.map(median),
    )
      .toFixed(2)
      .padStart(10)}`,
  );
  console.log(
    `idle tail of the pool (the first worker out of tasks waits for the last, longest first): ` +
      `${median(tail).toFixed(2)} s (median), ${((100 * median(tail)) / median(parWall)).toFixed(1)} % of its wall time`,
  );
  console.log(
    `pool overheads: worker start-up ${(median(startUp) * 1000).toFixed(0)} ms (median: a fresh ` +
      `worker's first tiny task minus the same task on a warm worker); per task sent: ${taskCost(data)}`,
  );
  const s = median(seqWall);
  const p = median(parWall);
  console.log(
    `5-fold CV of the ${algos.length} algorithms on u.data: sequential ${s.toFixed(2)} s, pool of ${workers} workers ` +
      `${p.toFixed(2)} s (median of ${runs}; min ${Math.min(...seqWall).toFixed(2)} / ${Math.min(...parWall).toFixed(2)}); ` +
      `sequential / pool ${(s / p).toFixed(2)}×; goal ≤ 10 s; same RMSE and MAE per fold: ${same ? 'yes' : 'NO'}`,
  );
  console.log(selectionFigure(data));
  console.log(
    `CPU seconds (all threads of the process, median): sequential ${median(seqCpu).toFixed(2)} s, ` +
      `pool ${median(parCpu).toFixed(2)} s — on ${workers} otherwise idle cores the pool's wall ` +
      `time would be about ${(median(parCpu) / workers).toFixed(2)} s`,
  );
  console.log(`load after: ${load()} (1/5/15 min); uptime: ${os.uptime().toFixed(0)} s`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
