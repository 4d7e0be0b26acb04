/**
 * k-NN on MovieLens 100K's predefined folds u1–u5: RMSE / MAE (mean over the folds) of the five
 * configurations of issue 6 next to Surprise 1.1.4's figures, and fit / test seconds per fold
 * (median of the folds).
 *
 * Run: `npx ts-node`-free: `node -r @swc-node/register bench/knn.ts` is not installed here, so:
 *   npx tsc -p tsconfig.json --outDir /tmp/rg-bench && node /tmp/rg-bench/bench/knn.js
 * or with jest's transformer: `npx swc-node`… — see bench/README in the final docs. Set
 * REELGRAPH_DATASETS to the folder holding ml-100k (default ../../shared/datasets).
 * Optional argument: a configuration name to run only that one.
 */
import * as path from 'path';
import { Dataset } from '../src/engine/dataset/dataset';
import { Reader } from '../src/engine/dataset/reader';
import { Trainset } from '../src/engine/trainset';
import { rmse, mae } from '../src/engine/metrics';
import { KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline } from '../src/engine/algorithms/knn';
import type { AlgoBase } from '../src/engine/algorithms/base';

const datasets = process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const dir = path.join(datasets, 'ml-100k');

const configs: { name: string; make: () => AlgoBase; surprise: [number, number] }[] = [
  { name: 'KNNBasic', make: () => new KNNBasic(), surprise: [0.9801, 0.7744] },
  { name: 'KNNWithMeans', make: () => new KNNWithMeans(), surprise: [0.9527, 0.7505] },
  { name: 'KNNWithZScore', make: () => new KNNWithZScore(), surprise: [0.9527, 0.7474] },
  { name: 'KNNBaseline', make: () => new KNNBaseline(), surprise: [0.9323, 0.7345] },
  {
    name: 'KNNBaseline pearson_baseline item-based',
    make: () => new KNNBaseline({ simOptions: { name: 'pearson_baseline', userBased: false } }),
    surprise: [0.9204, 0.7214],
  },
];

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const only = process.argv[2];
const data = Dataset.loadFromFolds(
  [1, 2, 3, 4, 5].map((k) => [path.join(dir, `u${k}.base`), path.join(dir, `u${k}.test`)] as const),
  Reader.builtin('ml-100k'),
);
for (const c of configs) {
  if (only && c.name !== only) continue;
  const r: number[] = [];
  const m: number[] = [];
  const fitS: number[] = [];
  const testS: number[] = [];
  for (const fold of data.folds!) {
    const ts = Trainset.build(fold.train, data.ratingScale);
    const testset = fold.test.toTestset();
    const algo = c.make();
    let t = process.hrtime.bigint();
    algo.fit(ts);
    fitS.push(Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    const preds = algo.test(testset);
    testS.push(Number(process.hrtime.bigint() - t) / 1e9);
    r.push(rmse(preds));
    m.push(mae(preds));
  }
  const mr = r.reduce((a, b) => a + b) / r.length;
  const mm = m.reduce((a, b) => a + b) / m.length;
  console.log(
    `${c.name.padEnd(40)} RMSE ${mr.toFixed(4)} (Surprise ${c.surprise[0]}, Δ ${(mr - c.surprise[0]).toFixed(4)})` +
      `  MAE ${mm.toFixed(4)} (Surprise ${c.surprise[1]}, Δ ${(mm - c.surprise[1]).toFixed(4)})` +
      `  fit ${median(fitS).toFixed(3)} s  test ${median(testS).toFixed(3)} s` +
      `  per fold RMSE ${r.map((x) => x.toFixed(10)).join(' ')} MAE ${m.map((x) => x.toFixed(10)).join(' ')}`,
  );
}
