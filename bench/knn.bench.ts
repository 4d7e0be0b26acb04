/**
 * k-NN benchmark on MovieLens 100K's predefined folds u1…u5 (issue 6's acceptance figures).
 *
 * For each configuration — KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline (all msd,
 * user-based) and KNNBaseline with pearson_baseline item-based — prints the mean RMSE / MAE over
 * the five folds (crossValidate with PredefinedKFold) next to Surprise 1.1.4's figures (acceptance
 * ±0.004), the median fit and test seconds per fold (wall clock; Surprise: KNNBaseline 0.15 s fit
 * + 1.50 s test), the CPU seconds of this process for the whole configuration (less disturbed
 * when other programs share the cores), the size of the similarity matrix, and the per-fold
 * figures to 10 decimals.
 *
 * Run: `node -r ./scripts/ts-register.js bench/knn.bench.ts [configuration name]`.
 * Data: REELGRAPH_DATASETS (default ../../shared/datasets), never downloaded.
 */
import * as path from 'node:path';
import { Dataset, Reader } from '../src/engine/dataset';
import { crossValidate, PredefinedKFold } from '../src/engine/model-selection';
import {
  KNNBasic,
  KNNWithMeans,
  KNNWithZScore,
  KNNBaseline,
  type SymmetricAlgo,
} from '../src/engine/algorithms/knn';

const datasets = process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const dir = path.join(datasets, 'ml-100k');

const configs: { name: string; make: () => SymmetricAlgo; surprise: [number, number] }[] = [
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
  let simBytes = 0;
  const make = () => {
    const a = c.make();
    const fit = a.fit.bind(a);
    a.fit = (ts) => {
      fit(ts);
      simBytes = a.similarityBytes;
      return a;
    };
    return a;
  };
  const cpu0 = process.cpuUsage();
  const r = crossValidate(make, data, { cv: new PredefinedKFold() });
  const cpu = process.cpuUsage(cpu0);
  const mr = r.mean.testRmse!;
  const mm = r.mean.testMae!;
  const d = (x: number, y: number) => (x - y >= 0 ? '+' : '') + (x - y).toFixed(4);
  console.log(
    `${c.name}\n` +
      `  RMSE ${mr.toFixed(4)} (Surprise ${c.surprise[0]}, ${d(mr, c.surprise[0])})` +
      `  MAE ${mm.toFixed(4)} (Surprise ${c.surprise[1]}, ${d(mm, c.surprise[1])})\n` +
      `  fit ${median(r.fitTime).toFixed(3)} s  test ${median(r.testTime).toFixed(3)} s per fold (median)` +
      `  CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s for 5 folds` +
      `  similarity matrix ${(simBytes / 2 ** 20).toFixed(1)} MiB\n` +
      `  per fold RMSE ${r.testRmse!.map((x) => x.toFixed(10)).join(' ')}\n` +
      `  per fold MAE  ${r.testMae!.map((x) => x.toFixed(10)).join(' ')}`,
  );
}
