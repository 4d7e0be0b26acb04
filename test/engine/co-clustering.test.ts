/**
 * CoClustering: cluster averages worked by hand, equality (to the last bit) with a NumPy
 * transcription of Surprise 1.1.4's co_clustering.pyx (test/fixtures/surprise-ref/mf_ref.py),
 * unknown users and items, parameters, seeds, half stars, model state.
 */
import { CoClustering } from '../../src/engine/algorithms/co-clustering';
import { createAlgorithm } from '../../src/engine/algorithms';
import { RandomState } from '../../src/engine/random';
import {
  REF,
  refTrainset,
  trainsetOf,
  expectPredictions,
  allEstimates,
  expectEveryParamMatters,
  expectStateRoundTrip,
} from './mf-ref';

/**
 * A: x 4, y 2;  B: x 5;  C: y 1 (global mean 3). Seed 7 draws user clusters A 1, B 0, C 1 and item
 * clusters x 0, y 1 (numpy.random.RandomState(7).randint(2, size=3), then randint(2, size=2)).
 * User clusters: 0 = {B}: 5;  1 = {A, C}: (4 + 2 + 1) / 3 = 7/3.  Item clusters: 0 = {x}: 4.5;
 * 1 = {y}: 1.5.  Co-clusters: (0,0) B x: 5;  (0,1) empty: global mean 3;  (1,0) A x: 4;
 * (1,1) A y, C y: 1.5.  Means: μ_A 3, μ_B 5, μ_C 1, μ_x 4.5, μ_y 1.5.
 */
const HAND: [string, string, number][] = [
  ['A', 'x', 4],
  ['A', 'y', 2],
  ['B', 'x', 5],
  ['C', 'y', 1],
];

describe('CoClustering by hand (no epoch: the random clusters)', () => {
  const algo = new CoClustering({ nCltrU: 2, nCltrI: 2, nEpochs: 0, randomState: 7 }).fit(
    trainsetOf(HAND, [1, 5]),
  );

  it('draws the clusters as numpy randint(n, size) (users, then items)', () => {
    const r = new RandomState(7);
    expect(Array.from(algo.cltrU)).toEqual([r.randint(0, 2), r.randint(0, 2), r.randint(0, 2)]);
    expect(Array.from(algo.cltrU)).toEqual([1, 0, 1]);
    expect(Array.from(algo.cltrI)).toEqual([0, 1]);
  });

  it('cluster and co-cluster averages; an empty co-cluster gets the global mean', () => {
    expect(Array.from(algo.avgCltrU)).toEqual([5, 7 / 3]);
    expect(Array.from(algo.avgCltrI)).toEqual([4.5, 1.5]);
    expect(Array.from(algo.avgCocltr)).toEqual([5, 3, 4, 1.5]);
    expect(Array.from(algo.userMean)).toEqual([3, 5, 1]);
    expect(Array.from(algo.itemMean)).toEqual([4.5, 1.5]);
  });

  it('estimate = C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i)', () => {
    expect(algo.predict('B', 'y', null, false).est).toBe(3 + (5 - 5) + (1.5 - 1.5));
    expect(algo.predict('C', 'x', null, false).est).toBeCloseTo(4 + (1 - 7 / 3) + 0, 15);
    expect(algo.predict('A', 'y', null, false).est).toBeCloseTo(1.5 + (3 - 7 / 3) + 0, 15);
  });

  it('one epoch keeps A in cluster 1 (squared error 17/36 there, 2 in cluster 0)', () => {
    const one = new CoClustering({ nCltrU: 2, nCltrI: 2, nEpochs: 1, randomState: 7 }).fit(
      trainsetOf(HAND, [1, 5]),
    );
    expect(one.cltrU[0]).toBe(1);
  });

  it('empty user clusters get the global mean', () => {
    const many = new CoClustering({ nCltrU: 6, nCltrI: 1, nEpochs: 0, randomState: 0 }).fit(
      trainsetOf(HAND, [1, 5]),
    );
    const used = new Set(many.cltrU);
    for (let c = 0; c < 6; c++) if (!used.has(c)) expect(many.avgCltrU[c]).toBe(3);
    expect(used.size).toBeLessThan(6);
  });
});

describe('CoClustering against the NumPy transcription of Surprise', () => {
  const ts = refTrainset();
  REF.coClustering.forEach(({ params, result }, k) => {
    it(`case ${k}: clusters, averages and predictions equal (${JSON.stringify(params)})`, () => {
      const init = new CoClustering({ ...params, nEpochs: 0 }).fit(ts);
      expect(Array.from(init.cltrU)).toEqual(result.initCltrU);
      expect(Array.from(init.cltrI)).toEqual(result.initCltrI);
      const algo = new CoClustering(params).fit(ts);
      expect(Array.from(algo.cltrU)).toEqual(result.cltrU);
      expect(Array.from(algo.cltrI)).toEqual(result.cltrI);
      expect(Array.from(algo.userMean)).toEqual(result.userMean);
      expect(Array.from(algo.itemMean)).toEqual(result.itemMean);
      expect(Array.from(algo.avgCltrU)).toEqual(result.avgCltrU);
      expect(Array.from(algo.avgCltrI)).toEqual(result.avgCltrI);
      expect(Array.from(algo.avgCocltr)).toEqual(result.avgCocltr);
      expectPredictions(algo, result.predictions, 0);
    });
  });
});

describe('CoClustering unknown users and items (Surprise returns the global mean)', () => {
  const ts = refTrainset();
  const algo = new CoClustering({ randomState: 0 }).fit(ts);
  it.each([
    ['nobody', 'i2', 'User unknown'],
    ['u3', 'nothing', 'Item unknown'],
    ['nobody', 'nothing', 'User and item are unknown.'],
  ])('%s / %s → global mean, flagged', (u, i, reason) => {
    const p = algo.predict(u, i, null, false);
    expect(p.est).toBe(ts.globalMean);
    expect(p.details).toEqual({ wasImpossible: true, reason });
  });
});

describe('CoClustering parameters, seeds, half stars, state', () => {
  const ts = refTrainset();
  const base = { nEpochs: 1, randomState: 0 };

  it('every hyper-parameter changes the estimates', () => {
    expectEveryParamMatters(CoClustering, ts, base, {
      nCltrU: { nCltrU: 2 },
      nCltrI: { nCltrI: 4 },
      nEpochs: { nEpochs: 0 },
      randomState: { randomState: 1 },
    });
  });

  it('the same seed gives the same clusters', () => {
    const a = new CoClustering({ randomState: 5 }).fit(ts);
    const b = new CoClustering({ randomState: 5 }).fit(ts);
    expect(b.cltrU).toEqual(a.cltrU);
    expect(b.cltrI).toEqual(a.cltrI);
  });

  it('half stars are used as they are (Surprise would truncate them)', () => {
    const algo = new CoClustering({ nCltrU: 1, nCltrI: 1, nEpochs: 0, randomState: 0 }).fit(
      trainsetOf(
        [
          ['a', 'x', 4.5],
          ['a', 'y', 2],
          ['b', 'x', 3.5],
        ],
        [0.5, 5],
      ),
    );
    // one cluster: μ = 10/3, μ_b = 3.5, μ_y = 2 → μ + (μ_b − μ) + (μ_y − μ)
    const mu = 10 / 3;
    expect(algo.predict('b', 'y', null, false).est).toBeCloseTo(mu + (3.5 - mu) + (2 - mu), 14);
  });

  it('refuses zero clusters, naming the parameter', () => {
    expect(() => new CoClustering({ nCltrU: 0 })).toThrow(/nCltrU/);
  });

  it('exportState / importState restore the same estimates', () => {
    expectStateRoundTrip(CoClustering, { randomState: 0 }, ts);
  });

  it('is registered with Surprise defaults', () => {
    expect(createAlgorithm('CoClustering').params).toEqual({
      nCltrU: 3,
      nCltrI: 3,
      nEpochs: 20,
      randomState: null,
    });
    expect(allEstimates(createAlgorithm('CoClustering', { randomState: 2 }).fit(ts)).length).toBe(
      ts.nUsers * ts.nItems,
    );
  });
});
