/**
 * SVDpp, NMF, SlopeOne and CoClustering on MovieLens 100K's predefined folds u1–u5: RMSE / MAE
 * (mean over the folds) next to Surprise 1.1.4's figures on the same folds, fit / test seconds per
 * fold (wall clock, median over the folds) and the process's CPU seconds per fold (fit + test,
 * mean; less sensitive than wall clock to other processes on a busy machine).
 *
 * Run: npm run bench:algorithms -- [name|all] [seeds]
 * `name` runs one algorithm only; `seeds` (default 0) is a comma-separated list of randomState
 * values for the randomised algorithms (each seed is one 5-fold run). REELGRAPH_DATASETS names the
 * folder holding ml-100k (default ../../shared/datasets).
 */
import * as path from 'path';
import { Dataset } from '../src/engine/dataset/dataset';
import { Reader } from '../src/engine/dataset/reader';
import { crossValidate } from '../src/engine/model-selection/validation';
import { PredefinedKFold } from '../src/engine/model-selection/split';
import { SVDpp } from '../src/engine/algorithms/svdpp';
import { NMF } from '../src/engine/algorithms/nmf';
import { SlopeOne } from '../src/engine/algorithms/slope-one';
import { CoClustering } from '../src/engine/algorithms/co-clustering';
import type { AlgoBase } from '../src/engine/algorithms/base';

const datasets = process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const dir = path.join(datasets, 'ml-100k');

/** Surprise 1.1.4 on u1–u5 (issue 6): [RMSE, MAE, fit s, test s]. */
const configs: {
  name: string;
  make: (seed: number) => AlgoBase;
  surprise: [number, number];
  surpriseTime: string;
  seeded: boolean;
}[] = [
  {
    name: 'SVDpp',
    make: (s) => new SVDpp({ randomState: s }),
    surprise: [0.9218, 0.7238],
    surpriseTime: '13.7 s fit',
    seeded: true,
  },
  {
    name: 'NMF',
    make: (s) => new NMF({ randomState: s }),
    surprise: [0.9689, 0.7619],
    surpriseTime: '0.45 s fit',
    seeded: true,
  },
  {
    name: 'SlopeOne',
    make: () => new SlopeOne(),
    surprise: [0.947, 0.7439],
    surpriseTime: '0.22 s fit + 0.67 s test',
    seeded: false,
  },
  {
    name: 'CoClustering',
    make: (s) => new CoClustering({ randomState: s }),
    surprise: [0.9629, 0.7542],
    surpriseTime: '0.42 s fit',
    seeded: true,
  },
];

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const only = process.argv[2] && process.argv[2] !== 'all' ? process.argv[2] : undefined;
const seeds = (process.argv[3] ?? '0').split(',').map(Number);
const data = Dataset.loadFromFolds(
  [1, 2, 3, 4, 5].map(
    (k) => [path.join(dir, `u${k}.base`), path.join(dir, `u${k}.test`)] as [string, string],
  ),
  Reader.builtin('ml-100k'),
);
const cv = new PredefinedKFold();
console.log(
  'algorithm      seed  RMSE    (Surprise)  MAE     (Surprise)  fit s   test s  cpu s/fold  Surprise per fold',
);
for (const c of configs) {
  if (only && c.name !== only) continue;
  const rmses: number[] = [];
  const maes: number[] = [];
  for (const seed of c.seeded ? seeds : [0]) {
    const c0 = process.cpuUsage();
    const r = crossValidate(() => c.make(seed), data, { cv });
    const cpuPerFold = process.cpuUsage(c0).user / 1e6 / r.nSplits;
    rmses.push(r.mean.testRmse!);
    maes.push(r.mean.testMae!);
    console.log(
      `${c.name.padEnd(14)} ${(c.seeded ? String(seed) : '-').padEnd(5)} ${r.mean.testRmse!.toFixed(4)}  (${c.surprise[0].toFixed(4)})    ${r.mean.testMae!.toFixed(4)}  (${c.surprise[1].toFixed(4)})    ${median(r.fitTime).toFixed(3)}   ${median(r.testTime).toFixed(3)}   ${cpuPerFold.toFixed(3)}       ${c.surpriseTime}`,
    );
  }
  if (rmses.length > 1) {
    const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(
      `${c.name.padEnd(14)} mean  ${avg(rmses).toFixed(4)}  diff ${(avg(rmses) - c.surprise[0]).toFixed(4)}  ${avg(maes).toFixed(4)}  diff ${(avg(maes) - c.surprise[1]).toFixed(4)}`,
    );
  }
}
