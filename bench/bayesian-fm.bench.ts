/**
 * BayesianFM beside SVD and SVD++ (Surprise's defaults), all measured in the same run:
 * - `u1`: MovieLens 100K u1.base → u1.test RMSE / MAE, fit seconds (wall and CPU) on u1.base,
 *   model-file size;
 * - `folds`: the mean RMSE over the predefined folds u1–u5;
 * - `latest`: ml-latest-small, 5-fold cross-validation (KFold, shuffled with seed 0);
 * - `cold`: ml-100k with 10 % of the users held out entirely (chosen by a stable hash of the user
 *   id): RMSE on their ratings of the global mean, BaselineOnly, SVD, SVD++ and BayesianFM with
 *   and without the users' attributes (u.user: age group, gender, occupation, zip area).
 * Peak RSS of the process is printed at the end, and the load average at the start and end (the
 * machine may be shared: CPU seconds are less disturbed by other programs than wall seconds).
 * BayesianFM's defaults were chosen on a validation split carved from u1.base (10 %, stableSplit
 * seed 0), never on u1.test.
 *
 * Run: npm run bench:bayesian-fm -- [u1|folds|latest|cold|all] [seed]
 * REELGRAPH_DATASETS names the folder holding ml-100k/ and ml-latest-small/ (default
 * ../../shared/datasets).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Dataset } from '../src/engine/dataset/dataset';
import { Trainset } from '../src/engine/trainset';
import { KFold, PredefinedKFold, type Split } from '../src/engine/model-selection/split';
import { BaselineOnly, BayesianFM, SVD, SVDpp, type AlgoBase } from '../src/engine/algorithms';
import { mae, rmse } from '../src/engine/metrics';
import { saveModel } from '../src/engine/model-file';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const opts = { datasetsDir, download: false };
const part = process.argv[2] ?? 'all';
const seed = Number(process.argv[3] ?? 0);

const algos: [string, (s: number) => AlgoBase][] = [
  ['SVD', (s) => new SVD({ randomState: s })],
  ['SVDpp', (s) => new SVDpp({ randomState: s })],
  ['BayesianFM', (s) => new BayesianFM({ randomState: s })],
];

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Fits and tests one algorithm on one split; returns RMSE, MAE, wall and CPU seconds of fit. */
function run(make: () => AlgoBase, [trainset, testset]: Split) {
  const algo = make();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  algo.fit(trainset);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const preds = algo.test(testset);
  return { algo, rmse: rmse(preds), mae: mae(preds), wall, cpu: (c.user + c.system) / 1e6 };
}

async function u1AndFolds(all: boolean): Promise<void> {
  const ds = await Dataset.loadBuiltinWithSideInfo('ml-100k', { ...opts, folds: true });
  const splits = [...new PredefinedKFold().split(ds)];
  console.log(`\nml-100k u1.base → u1.test (seed ${seed}); GLocal-K 0.8889 (published best)`);
  console.log('algorithm     RMSE    MAE     fit wall s  fit cpu s  model MB');
  for (const [name, make] of algos) {
    const r = run(() => make(seed), splits[0]);
    const mb = saveModel(r.algo).length / 2 ** 20;
    console.log(
      `${name.padEnd(12)}  ${r.rmse.toFixed(4)}  ${r.mae.toFixed(4)}  ${r.wall.toFixed(1).padStart(10)}  ${r.cpu.toFixed(1).padStart(9)}  ${mb.toFixed(1).padStart(8)}`,
    );
  }
  if (!all) return;
  console.log(`\nml-100k u1–u5 (seed ${seed}): RMSE per fold and mean`);
  for (const [name, make] of algos) {
    const per = splits.map((s) => run(() => make(seed), s).rmse);
    console.log(
      `${name.padEnd(12)}  ${per.map((x) => x.toFixed(4)).join('  ')}  mean ${(per.reduce((a, b) => a + b, 0) / per.length).toFixed(4)}`,
    );
  }
}

async function latest(): Promise<void> {
  const ds = await Dataset.loadBuiltinWithSideInfo('ml-latest-small', opts);
  const splits = [...new KFold({ nSplits: 5, randomState: 0, shuffle: true }).split(ds)];
  console.log(
    `\nml-latest-small, 5-fold (KFold seed 0, algorithm seed ${seed}): RMSE per fold and mean`,
  );
  for (const [name, make] of algos) {
    const per = splits.map((s) => run(() => make(seed), s));
    const mean = per.reduce((a, b) => a + b.rmse, 0) / per.length;
    const cpu = per.reduce((a, b) => a + b.cpu, 0) / per.length;
    console.log(
      `${name.padEnd(12)}  ${per.map((x) => x.rmse.toFixed(4)).join('  ')}  mean ${mean.toFixed(4)}  (fit cpu ${cpu.toFixed(1)} s/fold)`,
    );
  }
}

/** Stable 32-bit FNV-1a hash of a string. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) {
    h ^= s.charCodeAt(k);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

async function cold(): Promise<void> {
  const ds = await Dataset.loadBuiltinWithSideInfo('ml-100k', opts);
  const r = ds.ratings;
  const train: number[] = [];
  const test: number[] = [];
  for (let k = 0; k < r.length; k++) (fnv(`cold\t${r.users[k]}`) % 10 === 0 ? test : train).push(k);
  const heldOut = new Set(test.map((k) => r.users[k])).size;
  const trainset = Trainset.build(r.subset(train), ds.ratingScale, undefined, ds.sideInfo);
  const testset = r.subset(test).toTestset();
  console.log(
    `\ncold start: ml-100k, ${heldOut} users held out entirely (${test.length} ratings), trained on ${trainset.nUsers} users`,
  );
  const mu = trainset.globalMean;
  const meanRmse = Math.sqrt(testset.reduce((s, [, , x]) => s + (x - mu) ** 2, 0) / testset.length);
  console.log(`global mean   RMSE ${meanRmse.toFixed(4)}`);
  const cases: [string, () => AlgoBase][] = [
    ['BaselineOnly', () => new BaselineOnly()],
    ...algos.map(([n, m]) => [n, () => m(seed)] as [string, () => AlgoBase]),
    [
      'BayesianFM without user attributes',
      () => new BayesianFM({ randomState: seed, useUserAttributes: false }),
    ],
  ];
  for (const [name, make] of cases) {
    const res = run(make, [trainset, testset]);
    console.log(`${name.padEnd(12)}  RMSE ${res.rmse.toFixed(4)}  MAE ${res.mae.toFixed(4)}`);
  }
}

async function main(): Promise<void> {
  console.log(`load average at start: ${load()} (${os.cpus().length} cores)`);
  if (part === 'u1' || part === 'folds' || part === 'all') await u1AndFolds(part !== 'u1');
  if (part === 'latest' || part === 'all') await latest();
  if (part === 'cold' || part === 'all') await cold();
  console.log(
    `\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average at end: ${load()}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
