/**
 * Speed of top-N evaluation on MovieLens 100K: SVD (randomState 0) and BaselineOnly fitted on
 * u1.base, then `evaluateTopN` on u1.test (k = 10, threshold 3.5): every user of the testset gets
 * every unrated item estimated (≈ 1.4 million estimates) and a top 10 kept by a bounded heap.
 * Also `recommend` for one user. Median of several runs after one warm-up, wall and CPU time; the
 * measures themselves are printed once.
 *
 * Run: node -r ./scripts/ts-register.js bench/top-n.bench.ts [runs]
 * Set REELGRAPH_DATASETS to the folder holding ml-100k/ (default ../shared/datasets).
 */
import * as path from 'node:path';
import '../src/engine/algorithms';
import { createAlgorithm } from '../src/engine/algorithms/registry';
import { predefinedFolds } from '../src/engine/dataset';
import { Trainset } from '../src/engine/trainset';
import { evaluateTopN, recommend } from '../src/engine/top-n';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const runs = Number(process.argv[2] ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time(label: string, fn: () => unknown): void {
  fn(); // warm-up
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  console.log(
    `${label.padEnd(44)} wall median ${median(ms).toFixed(1).padStart(8)} ms` +
      `  cpu median ${median(cpu).toFixed(1).padStart(8)} ms  [${runs} runs]`,
  );
}

async function main(): Promise<void> {
  const data = await predefinedFolds('ml-100k', { datasetsDir, download: false });
  const fold = data.folds![0];
  const trainset = Trainset.build(fold.train, data.ratingScale);
  const testset = fold.test.toTestset();
  for (const [name, params] of [
    ['BaselineOnly', {}],
    ['SVD', { randomState: 0 }],
  ] as const) {
    const algo = createAlgorithm(name, params).fit(trainset);
    const r = evaluateTopN(algo, testset, { k: 10 });
    const f = (x: number) => x.toFixed(4);
    console.log(
      `${name} on u1: precision@10 ${f(r.precision)}, recall@10 ${f(r.recall)}, NDCG@10 ${f(r.ndcg)}, ` +
        `hit rate ${f(r.hitRate)}, coverage ${f(r.coverage)} (${r.nUsersEvaluated} users evaluated)`,
    );
    time(`evaluateTopN ${name} (u1.test, k=10)`, () => evaluateTopN(algo, testset, { k: 10 }));
    time(`recommend ${name} (user 1, k=10)`, () => recommend(algo, '1', { k: 10 }));
  }
}

void main();
