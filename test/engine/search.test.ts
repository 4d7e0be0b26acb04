import * as path from 'node:path';
import * as fs from 'node:fs';
import '../../src/engine/algorithms';
import { AlgoBase } from '../../src/engine/algorithms/base';
import { BaselineOnly } from '../../src/engine/algorithms/baseline-only';
import type { Dataset } from '../../src/engine/dataset/dataset';
import { rmse } from '../../src/engine/metrics';
import { KFold } from '../../src/engine/model-selection/split';
import { crossValidate } from '../../src/engine/model-selection/validation';
import {
  GridSearchCV,
  RandomizedSearchCV,
  randint,
  uniform,
} from '../../src/engine/model-selection/search';
import { ParamError } from '../../src/engine/params';
import { RandomState } from '../../src/engine/random';
import { datasetOf, syntheticRows } from '../helpers/synthetic-ratings';

function syntheticDataset(seed = 1): Dataset {
  return datasetOf(syntheticRows(seed));
}

/** A test algorithm with one parameter of each kind; predicts alpha-shrunk item means. */
class Shrunk extends AlgoBase {
  static readonly algorithmName = 'ShrunkTest';
  static readonly description = 'test: item means shrunk towards the global mean';
  static readonly paramSpecs = {
    alpha: { type: 'float', default: 0, min: 0, max: 1, doc: 'shrinkage' },
    mode: { type: 'enum', values: ['a', 'b', 'c'], default: 'a', doc: 'unused' },
    n: { type: 'int', default: 1, min: 1, doc: 'unused' },
  } as const;
  estimate(_u: number, i: number): number {
    const ts = this.trainset;
    if (i < 0) return ts.globalMean;
    const { ratings } = ts.ir(i);
    let s = 0;
    for (const r of ratings) s += r;
    const alpha = this.params.alpha as number;
    return alpha * ts.globalMean + (1 - alpha) * (s / ratings.length);
  }
}

describe('GridSearchCV', () => {
  const data = syntheticDataset();
  const grid = {
    bslOptions: { method: ['als', 'sgd'], reg: [0.02, 1], nEpochs: [2, 10] },
  };

  test('picks the candidate whose cross-validated means are best, on the same folds', () => {
    const cv = new KFold({ nSplits: 3, randomState: 7 });
    const gs = new GridSearchCV('BaselineOnly', grid, { measures: ['RMSE', 'mae', 'fcp'], cv });
    // Nested grid → product in itertools order (last field fastest).
    expect(gs.paramCombinations).toHaveLength(8);
    expect(gs.paramCombinations[0]).toEqual({
      bslOptions: { method: 'als', reg: 0.02, nEpochs: 2 },
    });
    expect(gs.paramCombinations[1]).toEqual({
      bslOptions: { method: 'als', reg: 0.02, nEpochs: 10 },
    });
    expect(gs.paramCombinations[7]).toEqual({ bslOptions: { method: 'sgd', reg: 1, nEpochs: 10 } });
    gs.fit(data);

    // Independently: crossValidate each candidate on the same seeded KFold.
    const independent = gs.paramCombinations.map((params) =>
      crossValidate(new BaselineOnly(params), data, {
        measures: ['rmse', 'mae', 'fcp'],
        cv: new KFold({ nSplits: 3, randomState: 7 }),
      }),
    );
    const meanRmse = independent.map((r) => r.mean.testRmse!);
    const meanMae = independent.map((r) => r.mean.testMae!);
    const meanFcp = independent.map((r) => r.mean.testFcp!);
    const bestRmse = meanRmse.indexOf(Math.min(...meanRmse));
    const bestMae = meanMae.indexOf(Math.min(...meanMae));
    const bestFcp = meanFcp.indexOf(Math.max(...meanFcp));

    expect(gs.bestIndex).toEqual({ rmse: bestRmse, mae: bestMae, fcp: bestFcp });
    expect(gs.bestScore.rmse).toBe(meanRmse[bestRmse]);
    expect(gs.bestScore.fcp).toBe(meanFcp[bestFcp]);
    expect(gs.bestParams.rmse).toEqual(gs.paramCombinations[bestRmse]);
    expect(gs.bestEstimator.rmse).toBeInstanceOf(BaselineOnly);
    expect(gs.bestEstimator.rmse!.isFitted).toBe(false);
    expect((gs.bestEstimator.rmse!.params.bslOptions as { method: string }).method).toBe(
      (gs.paramCombinations[bestRmse].bslOptions as { method: string }).method,
    );

    const r = gs.cvResults;
    expect(r.meanTestRmse).toEqual(meanRmse);
    for (let s = 0; s < 3; s++) {
      expect(r[`split${s}TestRmse`]).toEqual(independent.map((x) => x.testRmse![s]));
    }
    // std is numpy's population std of the 3 folds.
    const f = independent[0].testRmse!;
    const mu = (f[0] + f[1] + f[2]) / 3;
    const sd = Math.sqrt(((f[0] - mu) ** 2 + (f[1] - mu) ** 2 + (f[2] - mu) ** 2) / 3);
    expect(r.stdTestRmse[0] as number).toBeCloseTo(sd, 14);
    // Ranks as Surprise's argsort (stable): 1 = best; among equal means (ALS ignores `reg`, so
    // candidates tie) the earlier candidate ranks first for errors, the later one for fcp (Surprise
    // assigns fcp ranks n…1 along the ascending argsort).
    const rankOf = (values: number[], higherIsBetter: boolean) =>
      values.map(
        (v, c) =>
          1 +
          values.filter((w, j) =>
            higherIsBetter ? w > v || (w === v && j > c) : w < v || (w === v && j < c),
          ).length,
      );
    expect(r.rankTestRmse).toEqual(rankOf(meanRmse, false));
    expect(r.rankTestFcp).toEqual(rankOf(meanFcp, true));
    expect(r.params).toEqual(gs.paramCombinations);
    expect(r.paramBslOptions).toEqual(gs.paramCombinations.map((p) => p.bslOptions));
    for (const key of ['meanFitTime', 'stdFitTime', 'meanTestTime', 'stdTestTime']) {
      expect(r[key]).toHaveLength(8);
      expect((r[key] as number[]).every((t) => t >= 0)).toBe(true);
    }
    expect(gs.resultRows()[bestRmse].rankTestRmse).toBe(1);
  });

  test('splits once: identical candidates get identical folds even with an unseeded KFold', () => {
    const gs = new GridSearchCV(
      'BaselineOnly',
      { 'bslOptions.method': ['als', 'als'] },
      { measures: ['rmse'], cv: new KFold({ nSplits: 3 }) },
    ).fit(data);
    expect(gs.cvResults.split0TestRmse[0]).toBe(gs.cvResults.split0TestRmse[1]);
    expect(gs.cvResults.split2TestRmse[0]).toBe(gs.cvResults.split2TestRmse[1]);
    // Ties: the first index wins; ranks from a stable argsort.
    expect(gs.bestIndex.rmse).toBe(0);
    expect(gs.cvResults.rankTestRmse).toEqual([1, 2]);
  });

  test('refit fits the best estimator on all the data; test and predict use it', () => {
    const gs = new GridSearchCV('BaselineOnly', grid, {
      measures: ['rmse', 'mae'],
      cv: 3,
      refit: 'mae',
    }).fit(data);
    const best = gs.bestEstimator.mae!;
    expect(best.isFitted).toBe(true);
    expect(best.trainset.nRatings).toBe(data.ratings.length);
    expect(gs.bestEstimator.rmse!.isFitted).toBe(best === gs.bestEstimator.rmse);
    const direct = new BaselineOnly(gs.bestParams.mae).fit(data.buildFullTrainset());
    expect(gs.predict('u3', 'i4').est).toBe(direct.predict('u3', 'i4').est);
    const testset = data.ratings.toTestset().slice(0, 50);
    expect(rmse(gs.test(testset))).toBe(rmse(direct.test(testset)));
    const noRefit = new GridSearchCV('BaselineOnly', grid, { cv: 3 });
    expect(() => noRefit.predict('u1', 'i1')).toThrow(/refit is false/);
  });

  test('progress reports each candidate and fold', () => {
    const events: string[] = [];
    new GridSearchCV(
      'BaselineOnly',
      { bslOptions: { method: ['als', 'sgd'] } },
      {
        cv: 2,
        onProgress: (p) =>
          events.push(`${p.phase} ${p.candidate}/${p.nCandidates} ${p.fold}/${p.nSplits}`),
      },
    ).fit(data);
    expect(events).toEqual([
      'fit 1/2 1/2',
      'done 1/2 1/2',
      'fit 1/2 2/2',
      'done 1/2 2/2',
      'fit 2/2 1/2',
      'done 2/2 1/2',
      'fit 2/2 2/2',
      'done 2/2 2/2',
    ]);
  });

  test('a bad grid is refused before anything runs, naming the parameter', () => {
    const bad = (g: Record<string, unknown>, re: RegExp) => {
      let err: unknown;
      try {
        new GridSearchCV('BaselineOnly', g as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParamError);
      expect((err as Error).message).toMatch(re);
    };
    bad(
      { nFactors: [1, 2] },
      /unknown parameter 'nFactors' for BaselineOnly; expected one of: bslOptions/,
    );
    bad(
      { bslOptions: { method: ['als', 'bfgs'] } },
      /candidate 2: parameter 'bslOptions.method' of BaselineOnly must be one of als, sgd, got "bfgs"/,
    );
    bad({ bslOptions: { regu: [1] } }, /unknown parameter 'bslOptions.regu'/);
    bad({ 'bslOptions.reg': [-1] }, /'bslOptions.reg' of BaselineOnly must be ≥ 0/);
    bad({ 'bslOptions.reg': [] }, /'bslOptions.reg' has an empty list/);
    bad({ 'bslOptions.reg': 0.5 }, /'bslOptions.reg' must be a list of values/);
    bad({ bslOptions: { reg: [1] }, 'bslOptions.method': ['als'] }, /overlaps/);
    bad({ 'bslOptions.reg': uniform(0, 1) }, /GridSearchCV needs a list/);
    expect(() => new GridSearchCV('NoSuchAlgo', {})).toThrow(/unknown algorithm 'NoSuchAlgo'/);
    expect(() => new GridSearchCV('BaselineOnly', {}, { measures: ['auc'] })).toThrow(
      /unknown measure 'auc'/,
    );
    expect(() => new GridSearchCV('BaselineOnly', {}, { refit: 'fcp' })).toThrow(
      /refit measure 'fcp' is not among the measures/,
    );
  });
});

describe('RandomizedSearchCV', () => {
  const ref = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../fixtures/search/randomized_ref.json'), 'utf8'),
  );

  test("draws Surprise's samples (NumPy RandomState) from distributions and lists", () => {
    const rs = new RandomizedSearchCV(
      Shrunk,
      { n: randint(2, 9), mode: ['a', 'b', 'c'], alpha: uniform(0.1, 0.5) },
      { nIter: 6, randomState: 42 },
    );
    expect(rs.paramCombinations).toEqual(ref.distributions_seed42_n6);
  });

  test('lists only: distinct combinations, permutation(grid)[:nIter]', () => {
    const rs = new RandomizedSearchCV(
      Shrunk,
      { n: [1, 2], mode: ['a', 'b', 'c'], alpha: [0.1, 0.2] },
      { nIter: 5, randomState: 3 },
    );
    expect(rs.paramCombinations).toEqual(ref.lists_seed3_n5);
    expect(
      () => new RandomizedSearchCV(Shrunk, { n: [1, 2] }, { nIter: 3, randomState: 0 }),
    ).toThrow(/nIter=3 is larger than the 2 combinations/);
  });

  test('reproducible with a seed: same candidates, same scores', () => {
    const data = syntheticDataset(2);
    const run = () =>
      new RandomizedSearchCV(
        Shrunk,
        { alpha: uniform(0, 1), n: randint(1, 4) },
        { nIter: 4, randomState: 11, cv: new KFold({ nSplits: 3, randomState: 5 }) },
      ).fit(data);
    const a = run();
    const b = run();
    expect(a.paramCombinations).toEqual(b.paramCombinations);
    expect(a.cvResults.meanTestRmse).toEqual(b.cvResults.meanTestRmse);
    expect(a.bestParams.rmse).toEqual(b.bestParams.rmse);
    // Best rmse is the smallest mean.
    const means = a.cvResults.meanTestRmse as number[];
    expect(a.bestScore.rmse).toBe(Math.min(...means));
  });

  test('dotted names reach into object parameters; nested grids take lists only', () => {
    const rs = new RandomizedSearchCV(
      'BaselineOnly',
      { 'bslOptions.reg': uniform(0.01, 0.1), 'bslOptions.method': ['sgd'] },
      { nIter: 3, randomState: 0 },
    );
    // Sorted keys: 'bslOptions.method' (list) then 'bslOptions.reg' (uniform), per candidate.
    const rng = new RandomState(0);
    const expected = [0, 1, 2].map(() => {
      rng.randint(0, 1);
      return { bslOptions: { method: 'sgd', reg: rng.uniform(0.01, 0.1) } };
    });
    expect(rs.paramCombinations).toEqual(expected);
    expect(
      // Not allowed by the types either; a JavaScript caller can still pass it.
      () => new RandomizedSearchCV('BaselineOnly', { bslOptions: { reg: uniform(0, 1) } } as never),
    ).toThrow(/'bslOptions.reg' is a distribution inside a nested grid; give it a dotted name/);
  });

  test('distributions are checked against the parameter specs', () => {
    expect(() => new RandomizedSearchCV(Shrunk, { n: uniform(1, 3) })).toThrow(
      /'n' of ShrunkTest takes whole numbers; uniform\(1, 3\) draws fractions/,
    );
    expect(() => new RandomizedSearchCV(Shrunk, { alpha: uniform(0.5, 2) })).toThrow(
      /uniform\(0.5, 2\) for 'alpha' of ShrunkTest leaves its range \[0, 1\]/,
    );
    expect(() => new RandomizedSearchCV(Shrunk, { mode: randint(0, 2) })).toThrow(
      /'mode' of ShrunkTest is a enum parameter/,
    );
    expect(() => randint(1.5, 3)).toThrow(/whole numbers/);
    expect(() => uniform(2, 1)).toThrow(/low < high/);
    expect(() => new RandomizedSearchCV(Shrunk, { n: [1] }, { nIter: 0 })).toThrow(/nIter/);
  });
});
