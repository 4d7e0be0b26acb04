/**
 * Cross-validation and comparison on the worker pool (src/engine/model-selection/pool.ts):
 * the same measures, bit for bit and in fold order, as the sequential `crossValidate` /
 * `compareAlgorithms` on the same splits; folds really run in worker threads; bad input is
 * refused before anything runs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import '../../src/engine/algorithms';
import { SVD, KNNBaseline, type AlgoBase } from '../../src/engine/algorithms';
import {
  FoldPool,
  GridSearchCV,
  KFold,
  closeFoldPool,
  compareAlgorithms,
  compareAlgorithmsPooled,
  crossValidate,
  crossValidatePooled,
  poolSize,
  type CrossValidateResult,
} from '../../src/engine/model-selection';
import { datasetOf, syntheticRows } from '../helpers/synthetic-ratings';

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
      const out = await Promise.all([1, 2, 3, 4].map(() => pool.run(task)));
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
