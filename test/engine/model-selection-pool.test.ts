/**
 * Cross-validation and comparison on the worker pool (src/engine/model-selection/pool.ts,
 * pooled.ts): the same measures, bit for bit and in fold order, as the sequential
 * `crossValidate` / `compareAlgorithms` on the same splits (synthetic data and ml-100k); folds
 * really run in worker threads; the data goes once to each worker and is forgotten after; the
 * longest tasks go first; bad input is refused before anything runs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import '../../src/engine/algorithms';
import { loadAlgorithmPlugins } from '../../src/engine/algorithms/plugins';
import { SVD, KNNBaseline, type AlgoBase } from '../../src/engine/algorithms';
import {
  FoldPool,
  GridSearchCV,
  KFold,
  PredefinedKFold,
  closeFoldPool,
  compareAlgorithms,
  compareAlgorithmsPooled,
  crossValidate,
  crossValidatePooled,
  poolSize,
  type CrossValidateResult,
} from '../../src/engine/model-selection';
import { foldCost, longestFirst } from '../../src/engine/model-selection/schedule';
import { Dataset, Reader } from '../../src/engine/dataset';
import { datasetOf, syntheticRows } from '../helpers/synthetic-ratings';
import { requireDataset } from '../helpers/datasets';

const SEED = 7;
const data = datasetOf(syntheticRows(SEED, 60, 40, 0.4));
console.log(`model-selection-pool: synthetic data seed ${SEED}, ${data.nRatings} ratings`);

afterAll(closeFoldPool);

/** The figures that must agree exactly (everything but the times). */
const figures = (r: CrossValidateResult) => ({
  algorithmName: r.algorithmName,
  params: r.params,
  nSplits: r.nSplits,
  nTrain: r.nTrain,
  nTest: r.nTest,
  testRmse: r.testRmse,
  testMae: r.testMae,
  testFcp: r.testFcp,
  trainRmse: r.trainRmse,
  meanRmse: r.mean.testRmse,
  stdRmse: r.std.testRmse,
});

describe('the fold pool', () => {
  it('is sized by REELGRAPH_WORKERS, else the number of cores, and refuses a bad value', () => {
    expect(poolSize({ REELGRAPH_WORKERS: '3' })).toBe(3);
    expect(poolSize({})).toBe(os.availableParallelism());
    expect(() => poolSize({ REELGRAPH_WORKERS: 'two' })).toThrow(
      /REELGRAPH_WORKERS must be a whole number in \[1, 256\], got 'two'/,
    );
    expect(() => poolSize({ REELGRAPH_WORKERS: '0' })).toThrow(/got '0'/);
  });

  it('answers the same measures as the sequential crossValidate, fold by fold', async () => {
    for (const algo of [
      { name: 'SVD', params: { randomState: 3, nFactors: 8, nEpochs: 5 } },
      {
        name: 'KNNBaseline',
        params: { simOptions: { name: 'pearson_baseline', userBased: false } },
      },
      { name: 'SlopeOne' },
    ]) {
      const opts = {
        cv: new KFold({ nSplits: 4, randomState: 5 }),
        measures: ['rmse', 'mae', 'fcp'],
        returnTrainMeasures: true,
      };
      const seq = crossValidate(algo, data, opts);
      const par = await crossValidatePooled(algo, data, {
        ...opts,
        cv: new KFold({ nSplits: 4, randomState: 5 }),
      });
      expect(figures(par)).toEqual(figures(seq));
      expect(par.testRmse!.every((x) => x > 0.3 && x < 2)).toBe(true);
    }
  });

  it('answers the same comparison as compareAlgorithms, in the order given', async () => {
    const algos = [
      { name: 'NormalPredictor', params: { randomState: 1 } },
      { name: 'BaselineOnly' },
      { name: 'SVD', params: { randomState: 0, nFactors: 6, nEpochs: 4 } },
      { name: 'NMF', params: { randomState: 0, nEpochs: 5 } },
      { name: 'CoClustering', params: { randomState: 0, nEpochs: 5 } },
    ];
    const seq = compareAlgorithms(algos, data, { cv: new KFold({ nSplits: 3, randomState: 2 }) });
    const par = await compareAlgorithmsPooled(algos, data, {
      cv: new KFold({ nSplits: 3, randomState: 2 }),
    });
    expect(par.map(figures)).toEqual(seq.map(figures));
  });

  it('runs the folds on the pool threads, spread over them', async () => {
    const pool = new FoldPool(2);
    try {
      const task = {
        name: 'SVD',
        params: { randomState: 0, nFactors: 4, nEpochs: 20 },
        trainset: data.buildFullTrainset().state(),
        testset: data.buildFullTrainset().buildTestset().slice(0, 50),
        measures: ['rmse' as const],
        returnTrainMeasures: false,
      };
      const out = await Promise.all([1, 2, 3, 4].map(() => pool.run({ kind: 'fold', task })));
      expect(threadId).toBe(0);
      const threads = new Set(out.map((o) => o.threadId));
      expect(threads.has(0)).toBe(false);
      expect(threads.size).toBe(2);
      // the same task gives the same bits on every thread
      expect(new Set(out.map((o) => o.test.rmse)).size).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('lets a program that used it exit on its own once the folds are done', async () => {
    // a real child process cross-validates on the pool and returns; the positive signal is the
    // child's own exit, which the test waits for (an idle worker must not keep it alive)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pool-exit-'));
    const script = path.join(dir, 'cv.ts');
    const src = (m: string) => JSON.stringify(path.resolve(__dirname, '../../src', m));
    fs.writeFileSync(
      script,
      [
        `import { crossValidatePooled, KFold } from ${src('engine/model-selection')};`,
        `import { datasetOf, syntheticRows } from ${JSON.stringify(path.resolve(__dirname, '../helpers/synthetic-ratings'))};`,
        `import ${src('engine/algorithms')};`,
        'const data = datasetOf(syntheticRows(7, 30, 20, 0.4));',
        "void crossValidatePooled({ name: 'BaselineOnly' }, data, { cv: new KFold({ nSplits: 2, randomState: 0 }) })",
        "  .then(() => console.log('done'));",
      ].join('\n'),
    );
    try {
      const child = spawn(
        process.execPath,
        ['-r', path.resolve(__dirname, '../../scripts/ts-register.js'), script],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REELGRAPH_WORKERS: '2' } },
      );
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      // a guard only (never a wait): a child that hangs is killed before jest's own timeout
      const guard = setTimeout(() => child.kill('SIGKILL'), 50_000);
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      clearTimeout(guard);
      expect({ code, out, err }).toEqual({ code: 0, out: 'done\n', err: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses an unknown algorithm or parameter before running any fold', async () => {
    await expect(crossValidatePooled({ name: 'NoSuchAlgo' }, data)).rejects.toThrow(/NoSuchAlgo/);
    await expect(
      compareAlgorithmsPooled([{ name: 'SVD', params: { nFactorz: 3 } }], data),
    ).rejects.toThrow(/nFactorz/);
    await expect(compareAlgorithmsPooled([], data)).rejects.toThrow(/no algorithm to compare/);
  });

  it('runs a factory or an instance source too, with the same result', async () => {
    const opts = { cv: new KFold({ nSplits: 3, randomState: 9 }) };
    const make = (): AlgoBase => new KNNBaseline({ k: 10 });
    const seq = crossValidate(make, data, opts);
    const viaFactory = await crossValidatePooled(make, data, {
      cv: new KFold({ nSplits: 3, randomState: 9 }),
    });
    const viaInstance = await crossValidatePooled(new SVD({ randomState: 1, nEpochs: 3 }), data, {
      cv: new KFold({ nSplits: 3, randomState: 9 }),
    });
    expect(figures(viaFactory)).toEqual(figures(seq));
    expect(figures(viaInstance)).toEqual(
      figures(crossValidate(new SVD({ randomState: 1, nEpochs: 3 }), data, opts)),
    );
  });

  it('answers the same grid search as GridSearchCV.fit: table, best candidates, refit', async () => {
    const grid = { nFactors: [2, 5], lrAll: [0.005, 0.01], nEpochs: [4], randomState: [0] };
    const opts = { measures: ['rmse', 'mae'], refit: 'rmse' as const };
    const seq = new GridSearchCV('SVD', grid, {
      ...opts,
      cv: new KFold({ nSplits: 3, randomState: 4 }),
    }).fit(data);
    const par = await new GridSearchCV('SVD', grid, {
      ...opts,
      cv: new KFold({ nSplits: 3, randomState: 4 }),
    }).fitPooled(data);
    const withoutTimes = (t: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(t).filter(([k]) => !/Time$/.test(k)));
    expect(withoutTimes(par.cvResults as unknown as Record<string, unknown>)).toEqual(
      withoutTimes(seq.cvResults as unknown as Record<string, unknown>),
    );
    expect(par.bestParams).toEqual(seq.bestParams);
    expect(par.bestScore).toEqual(seq.bestScore);
    expect(par.candidateResults.map(figures)).toEqual(seq.candidateResults.map(figures));
    // the refitted best estimator predicts the same
    expect(par.bestEstimator.rmse!.predict('u1', 'i1').est).toBe(
      seq.bestEstimator.rmse!.predict('u1', 'i1').est,
    );
    // 4 candidates with different scores: the comparison is not between equal rows
    expect(new Set(seq.cvResults.meanTestRmse).size).toBe(4);
  });
});

describe('the fold pool with side information', () => {
  it('sends the attributes with the data and answers as the sequential run (BayesianFM)', async () => {
    // genders and genres drawn from the synthetic ids (u<k>, i<k>): attributes BayesianFM uses
    const users = new Map<string, Record<string, string>>();
    const items = new Map<string, Record<string, string>>();
    for (const u of new Set(data.ratings.users)) {
      users.set(u, { gender: Number(u.slice(1)) % 2 ? 'F' : 'M', occupation: 'writer' });
    }
    for (const i of new Set(data.ratings.items)) {
      items.set(i, { genres: Number(i.slice(1)) % 3 ? 'Comedy|Drama' : 'Horror' });
    }
    const withSide = data.withSideInfo({ users, items });
    const algos = [
      {
        name: 'BayesianFM',
        params: { randomState: 2, nSamples: 8, burnIn: 2, nStoredSamples: 4 },
      },
      { name: 'BaselineOnly' },
    ];
    const seq = compareAlgorithms(algos, withSide, {
      cv: new KFold({ nSplits: 3, randomState: 8 }),
    });
    const threads = new Set<number>();
    const par = await compareAlgorithmsPooled(algos, withSide, {
      cv: new KFold({ nSplits: 3, randomState: 8 }),
      onFold: (f) => threads.add(f.outcome.threadId),
    });
    expect(par.map(figures)).toEqual(seq.map(figures));
    expect(threads.has(0)).toBe(false);
    // the attributes reached the fit: without them BayesianFM answers otherwise
    const bare = compareAlgorithms(algos.slice(0, 1), data, {
      cv: new KFold({ nSplits: 3, randomState: 8 }),
    });
    expect(bare[0].testRmse).not.toEqual(seq[0].testRmse);
  }, 120_000);
});

describe('the fold pool on MovieLens 100K', () => {
  const ML_SEED = 11;
  let ml: Dataset;
  beforeAll(() => {
    ml = Dataset.loadFromFile(requireDataset('ml-100k', 'u.data'), Reader.builtin('ml-100k'));
    console.log(`model-selection-pool: ml-100k KFold randomState ${ML_SEED}`);
  });

  it('answers RMSE and MAE identical to the last digit of the sequential run, sending the data once per worker', async () => {
    const algos = [
      { name: 'SVD', params: { randomState: ML_SEED, nEpochs: 5 } },
      { name: 'KNNWithMeans', params: { k: 20 } },
      { name: 'SlopeOne' },
      { name: 'CoClustering', params: { randomState: ML_SEED, nEpochs: 5 } },
    ];
    const cv = () => new KFold({ nSplits: 3, randomState: ML_SEED });
    const seq = compareAlgorithms(algos, ml, { cv: cv() });
    const pool = new FoldPool(2);
    const threads = new Set<number>();
    try {
      const par = await compareAlgorithmsPooled(algos, ml, {
        cv: cv(),
        pool,
        onFold: (f) => threads.add(f.outcome.threadId),
      });
      expect(par.map(figures)).toEqual(seq.map(figures));
      // 12 tasks, one data set: each of the 2 workers was sent it once
      expect(pool.started).toBe(2);
      expect(pool.dataSent).toBe(2);
      expect(threads.has(0)).toBe(false);
      expect(threads.size).toBe(2);
      // published figures: Surprise's README gives SVD 0.934, SlopeOne 0.946 on ml-100k (5 folds)
      expect(par[0].mean.testRmse!).toBeGreaterThan(0.9);
      expect(par[0].mean.testRmse!).toBeLessThan(0.97);
      expect(par[2].mean.testRmse!).toBeGreaterThan(0.93);
      expect(par[2].mean.testRmse!).toBeLessThan(0.96);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('answers the same on predefined folds (u1, u2), each fold sent as its own data', async () => {
    const dir = requireDataset('ml-100k');
    const folds = Dataset.loadFromFolds(
      [1, 2].map((k) => [path.join(dir, `u${k}.base`), path.join(dir, `u${k}.test`)] as const),
      Reader.builtin('ml-100k'),
    );
    const algos = [{ name: 'BaselineOnly' }, { name: 'KNNBasic', params: { k: 10 } }];
    const seq = compareAlgorithms(algos, folds, { cv: new PredefinedKFold() });
    const pool = new FoldPool(2);
    try {
      const par = await compareAlgorithmsPooled(algos, folds, { cv: new PredefinedKFold(), pool });
      expect(par.map(figures)).toEqual(seq.map(figures));
      // BaselineOnly (ALS): Surprise 1.1.4 gives RMSE 0.9457 as the mean of u1…u5; u1, u2 near it
      for (const x of par[0].testRmse!) expect(Math.abs(x - 0.9457)).toBeLessThan(0.02);
    } finally {
      await pool.close();
    }
  }, 120_000);
});

describe('the pool schedule and protocol', () => {
  it('takes the longest tasks first', async () => {
    expect(longestFirst([1, 5, 3, 5, 0])).toEqual([1, 3, 2, 0, 4]);
    // KNNBasic folds are costed above BaselineOnly's, SVD with 40 epochs twice SVD with 20
    expect(foldCost('KNNBasic', {}, 80_000)).toBeGreaterThan(foldCost('BaselineOnly', {}, 80_000));
    expect(foldCost('SVD', { nEpochs: 40 }, 1000)).toBeCloseTo(2 * foldCost('SVD', {}, 1000), 12);
    // one worker runs the tasks in the order sent: every KNNBasic fold before any BaselineOnly
    const pool = new FoldPool(1);
    const order: number[] = [];
    try {
      await compareAlgorithmsPooled([{ name: 'BaselineOnly' }, { name: 'KNNBasic' }], data, {
        cv: new KFold({ nSplits: 3, randomState: 1 }),
        pool,
        onFold: (f) => order.push(f.index),
      });
    } finally {
      await pool.close();
    }
    expect(order).toEqual([1, 1, 1, 0, 0, 0]);
  });

  it('hands back the predictions of each fold as the sequential run makes them', async () => {
    const cv = () => new KFold({ nSplits: 3, randomState: 6 });
    const seq: Record<number, Array<[string, string, number | null, number, boolean]>> = {};
    crossValidate({ name: 'KNNBasic', params: { k: 5 } }, data, {
      cv: cv(),
      onPredictions: (p) =>
        (seq[p.fold] = p.predictions.map((q) => [
          q.uid,
          q.iid,
          q.rUi,
          q.est,
          q.details.wasImpossible,
        ])),
    });
    const par: typeof seq = {};
    await crossValidatePooled({ name: 'KNNBasic', params: { k: 5 } }, data, {
      cv: cv(),
      returnPredictions: true,
      onFold: (f) =>
        (par[f.fold] = f.predictions!.map((q) => [
          q.uid,
          q.iid,
          q.rUi,
          q.est,
          q.details.wasImpossible,
        ])),
    });
    expect(par).toEqual(seq);
    expect(Object.keys(par)).toEqual(['1', '2', '3']);
  });

  it('rejects the task of a worker that exits, and carries on with a new worker', async () => {
    // a plugin whose fit ends its thread (process.exit in a worker thread ends only that thread)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pool-exit-plugin-'));
    const plugin = path.join(dir, 'exits.js');
    fs.writeFileSync(
      plugin,
      [
        "'use strict';",
        'module.exports = function register({ AlgoBase, registerAlgorithm }) {',
        '  class ExitsInFit extends AlgoBase {',
        '    fit() { process.exit(3); }',
        '    estimate() { return 3; }',
        '  }',
        "  ExitsInFit.algorithmName = 'ExitsInFit';",
        "  ExitsInFit.description = 'Ends its thread in fit (a test plugin).';",
        '  ExitsInFit.paramSpecs = {};',
        '  registerAlgorithm(ExitsInFit);',
        '};',
      ].join('\n'),
    );
    const before = process.env.REELGRAPH_PLUGINS;
    process.env.REELGRAPH_PLUGINS = plugin; // the workers load it as the process would
    loadAlgorithmPlugins([plugin]);
    const pool = new FoldPool(1);
    try {
      const cv = () => new KFold({ nSplits: 2, randomState: 0 });
      await expect(
        crossValidatePooled({ name: 'ExitsInFit' }, data, { cv: cv(), pool }),
      ).rejects.toThrow(/a fold worker exited \(code 3\) before answering its task/);
      // the pool starts a new worker for the next call, which answers
      const r = await crossValidatePooled({ name: 'BaselineOnly' }, data, { cv: cv(), pool });
      expect(r.testRmse).toEqual(
        crossValidate({ name: 'BaselineOnly' }, data, { cv: cv() }).testRmse,
      );
    } finally {
      await pool.close();
      if (before === undefined) delete process.env.REELGRAPH_PLUGINS;
      else process.env.REELGRAPH_PLUGINS = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the workers forget a released data set', async () => {
    const pool = new FoldPool(1);
    const raw = data.ratings;
    const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
    const id = 999_999;
    const msg = {
      kind: 'data' as const,
      id,
      ratings: { userCodes, userIds, itemCodes, itemIds, ratings: raw.ratings, timestamps: null },
      ratingScale: [1, 5] as [number, number],
      sideInfo: null,
    };
    const all = Int32Array.from({ length: raw.length }, (_, k) => k);
    const task = (key: string) => ({
      kind: 'split' as const,
      task: {
        key,
        train: { data: id, positions: all.subarray(0, 900) },
        test: { data: id, positions: all.subarray(900) },
        cacheSplits: 1,
        name: 'BaselineOnly',
        params: {},
        measures: ['rmse' as const],
        returnTrainMeasures: false,
        returnEstimates: false,
      },
    });
    try {
      const first = await pool.run(task('a'), [msg]);
      expect(first.nTrain).toBe(900);
      expect(first.nTest).toBe(raw.length - 900);
      pool.release([id]);
      await expect(pool.run(task('b'), [])).rejects.toThrow(
        /data set 999999 was not sent to this worker/,
      );
    } finally {
      await pool.close();
    }
  });
});
