/**
 * NormalPredictor, BaselineOnly and SVD: Surprise's formulas on hand-worked fixtures, equality with
 * an independent NumPy re-implementation of Surprise's loops (test/fixtures/surprise-ref), unknown
 * users and items, seeds, clipping, parameters and the registry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RandomState } from '../../src/engine/random';
import { ParamError } from '../../src/engine/params';
import {
  BaselineOnly,
  NormalPredictor,
  SVD,
  BSL_OPTIONS_SPEC,
  computeBaselines,
  createAlgorithm,
  listAlgorithms,
  type AlgoBase,
} from '../../src/engine/algorithms';
import { trainsetOf } from './helpers';

/** 2 users, 2 items: u1 rates i1 4 and i2 2; u2 rates i1 5 (inner ids u1 0, u2 1, i1 0, i2 1). */
const HAND: [string, string, number][] = [
  ['u1', 'i1', 4],
  ['u1', 'i2', 2],
  ['u2', 'i1', 5],
];

describe('hand-worked formulas', () => {
  const ts = trainsetOf(HAND);
  const mu = 11 / 3;

  it('the global mean is 11/3', () => {
    expect(ts.globalMean).toBeCloseTo(mu, 15);
  });

  it('ALS baselines, one epoch (regI 10, regU 15)', () => {
    const { bu, bi } = computeBaselines(ts, { method: 'als', nEpochs: 1 });
    // bi[i] = Σ (r − μ − bu[u]) / (regI + |ir[i]|) with bu = 0, then bu[u] with the new bi.
    expect(bi[0]).toBeCloseTo((4 - mu + (5 - mu)) / 12, 15); // = 5/36
    expect(bi[0]).toBeCloseTo(5 / 36, 15);
    expect(bi[1]).toBeCloseTo(-5 / 33, 15);
    expect(bu[0]).toBeCloseTo(-523 / 6732, 15); // ((4 − μ − 5/36) + (2 − μ + 5/33)) / 17
    expect(bu[1]).toBeCloseTo(43 / 576, 15); // (5 − μ − 5/36) / 16
  });

  it('ALS with defaults runs 10 epochs, SGD 20', () => {
    const big = trainsetOf(REF.cases[1].ratings);
    const bytes = (a: Float64Array) => Buffer.from(a.buffer).toString('hex');
    const als = (o: object) => bytes(computeBaselines(big, o).bu);
    expect(als({})).toBe(als({ method: 'als', nEpochs: 10 }));
    expect(als({})).not.toBe(als({ method: 'als', nEpochs: 9 }));
    expect(als({ method: 'sgd' })).toBe(als({ method: 'sgd', nEpochs: 20 }));
    expect(als({ method: 'sgd' })).not.toBe(als({ method: 'sgd', nEpochs: 19 }));
  });

  it('SGD baselines, one epoch (lr 0.005, reg 0.02), ratings in allRatings order', () => {
    const lr = 0.005;
    const reg = 0.02;
    const { bu, bi } = computeBaselines(ts, { method: 'sgd', nEpochs: 1 });
    // (u1, i1, 4)
    const e1 = 4 - mu;
    const bu0a = lr * e1;
    const bi0a = lr * e1;
    // (u1, i2, 2)
    const e2 = 2 - (mu + bu0a);
    const bu0b = bu0a + lr * (e2 - reg * bu0a);
    const bi1 = lr * e2;
    // (u2, i1, 5)
    const e3 = 5 - (mu + bi0a);
    const bu1 = lr * e3;
    const bi0b = bi0a + lr * (e3 - reg * bi0a);
    expect(bu[0]).toBeCloseTo(bu0b, 15);
    expect(bu[1]).toBeCloseTo(bu1, 15);
    expect(bi[0]).toBeCloseTo(bi0b, 15);
    expect(bi[1]).toBeCloseTo(bi1, 15);
    expect(bu[0]).toBeCloseTo(0.005 * (1 / 3) + 0.005 * (-5 / 3 - 0.005 / 3 - 0.0001 / 3), 8);
  });

  it('BaselineOnly estimates μ + bu + bi', () => {
    const algo = new BaselineOnly().fit(ts);
    const { bu, bi } = computeBaselines(ts, {});
    expect(algo.predict('u2', 'i2', null, false).est).toBe(mu + bu[1] + bi[1]);
  });

  it('SVD, one factor, one epoch, biased: Funk SGD updates in order', () => {
    const lr = 0.005;
    const reg = 0.02;
    const algo = new SVD({ nFactors: 1, nEpochs: 1, randomState: 7 }).fit(ts);
    const g = new RandomState(7);
    const p = [g.normal(0, 0.1), g.normal(0, 0.1)];
    const q = [g.normal(0, 0.1), g.normal(0, 0.1)];
    const bu = [0, 0];
    const bi = [0, 0];
    for (const [u, i, r] of [
      [0, 0, 4],
      [0, 1, 2],
      [1, 0, 5],
    ]) {
      const err = r - (mu + bu[u] + bi[i] + q[i] * p[u]);
      bu[u] += lr * (err - reg * bu[u]);
      bi[i] += lr * (err - reg * bi[i]);
      const [pu, qi] = [p[u], q[i]];
      p[u] += lr * (err * qi - reg * pu);
      q[i] += lr * (err * pu - reg * qi);
    }
    for (let k = 0; k < 2; k++) {
      expect(algo.bu[k]).toBeCloseTo(bu[k], 15);
      expect(algo.bi[k]).toBeCloseTo(bi[k], 15);
      expect(algo.pu[k]).toBeCloseTo(p[k], 15);
      expect(algo.qi[k]).toBeCloseTo(q[k], 15);
    }
    expect(algo.predict('u2', 'i2', null, false).est).toBeCloseTo(
      mu + bu[1] + bi[1] + q[1] * p[1],
      15,
    );
  });

  it('SVD unbiased leaves the biases at zero and predicts q_i·p_u', () => {
    const algo = new SVD({ nFactors: 2, nEpochs: 3, biased: false, randomState: 1 }).fit(ts);
    expect(Array.from(algo.bu)).toEqual([0, 0]);
    expect(Array.from(algo.bi)).toEqual([0, 0]);
    const dot = algo.qi[2] * algo.pu[0] + algo.qi[3] * algo.pu[1];
    expect(algo.predict('u1', 'i2', null, false).est).toBe(dot);
  });

  it('NormalPredictor: σ by maximum likelihood, estimates drawn from N(μ, σ²)', () => {
    const algo = new NormalPredictor({ randomState: 3 }).fit(ts);
    const sigma = Math.sqrt(((4 - mu) ** 2 + (2 - mu) ** 2 + (5 - mu) ** 2) / 3);
    expect(algo.sigma).toBeCloseTo(sigma, 15);
    expect(algo.sigma).toBeCloseTo(Math.sqrt(14 / 9), 15);
    const g = new RandomState(3);
    expect(algo.predict('u1', 'i1', null, false).est).toBe(mu + algo.sigma * g.gauss());
    expect(algo.predict('u1', 'i1', null, false).est).toBe(mu + algo.sigma * g.gauss());
  });
});

interface RefCase {
  name: string;
  ratings: [string, string, number][];
  nUsers: number;
  nItems: number;
  globalMean: number;
  normalPredictor: { randomState: number; sigma: number; estimates: number[] };
  probes: [string, string][];
  baselineOnly: {
    bslOptions: Record<string, unknown>;
    bu: number[];
    bi: number[];
    estimates: number[];
  }[];
  svd: {
    params: Record<string, unknown>;
    bu: number[];
    bi: number[];
    pu: number[];
    qi: number[];
    estimates: (number | null)[];
  }[];
}

const REF = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/surprise-ref/svd_ref.json'), 'utf8'),
) as { cases: RefCase[] };

function expectArrayClose(actual: Float64Array, expected: number[], tol: number) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    worst = Math.max(worst, Math.abs(actual[k] - expected[k]));
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

describe.each(REF.cases.map((c) => [c.name, c] as const))(
  'equal to the NumPy re-implementation of Surprise 1.1.4 (%s data set)',
  (_name, c) => {
    const ts = trainsetOf(c.ratings);

    it('builds the same trainset', () => {
      expect(ts.nUsers).toBe(c.nUsers);
      expect(ts.nItems).toBe(c.nItems);
      expect(ts.globalMean).toBe(c.globalMean);
    });

    it('NormalPredictor: same σ and the same draws for the same seed', () => {
      const np = c.normalPredictor;
      const algo = new NormalPredictor({ randomState: np.randomState }).fit(ts);
      expect(algo.sigma).toBe(np.sigma);
      const got = np.estimates.map(
        () => algo.predict(c.probes[0][0], c.probes[0][1], null, false).est,
      );
      expect(got).toEqual(np.estimates);
    });

    it.each(c.baselineOnly.map((b) => [JSON.stringify(b.bslOptions), b] as const))(
      'BaselineOnly %s: bit-identical biases and estimates',
      (_o, b) => {
        const algo = new BaselineOnly({ bslOptions: b.bslOptions }).fit(ts);
        expect(Array.from(algo.bu)).toEqual(b.bu);
        expect(Array.from(algo.bi)).toEqual(b.bi);
        const got = c.probes.map(([u, i]) => algo.predict(u, i, null, false).est);
        expect(got).toEqual(b.estimates);
      },
    );

    it.each(c.svd.map((s) => [JSON.stringify(s.params), s] as const))(
      'SVD %s: same factors and biases, same estimates',
      (_p, s) => {
        const algo = new SVD(s.params).fit(ts);
        // Same operations in the same order. Not always to the last bit: NumPy's Gaussian calls the
        // C library's log(), Math.log may differ by one ulp on a few draws (seen: 4 of 378).
        expectArrayClose(algo.bu, s.bu, 1e-12);
        expectArrayClose(algo.bi, s.bi, 1e-12);
        expectArrayClose(algo.pu, s.pu, 1e-12);
        expectArrayClose(algo.qi, s.qi, 1e-12);
        c.probes.forEach(([u, i], k) => {
          const p = algo.predict(u, i, null, false);
          const want = s.estimates[k];
          if (want === null) {
            expect(p.details.wasImpossible).toBe(true);
            expect(p.details.reason).toMatch(
              /^(User unknown|Item unknown|User and item are unknown\.)$/,
            );
            expect(p.est).toBe(ts.globalMean);
          } else {
            expect(Math.abs(p.est - want)).toBeLessThanOrEqual(1e-12);
          }
        });
      },
    );
  },
);

describe('unknown users and items', () => {
  const ts = trainsetOf(HAND);
  const algos: [string, () => AlgoBase][] = [
    ['NormalPredictor', () => new NormalPredictor({ randomState: 0 })],
    ['BaselineOnly', () => new BaselineOnly()],
    ['SVD', () => new SVD({ nFactors: 3, randomState: 0 })],
    ['SVD unbiased', () => new SVD({ nFactors: 3, biased: false, randomState: 0 })],
  ];
  const cases: [string, string, string, string][] = [
    ['unknown user', 'nobody', 'i1', 'User unknown'],
    ['unknown item', 'u1', 'nothing', 'Item unknown'],
    ['both unknown', 'nobody', 'nothing', 'User and item are unknown.'],
  ];

  it.each(algos)('%s: known pairs are not flagged', (_n, make) => {
    const p = make().fit(ts).predict('u1', 'i1', 4);
    expect(p.details.wasImpossible).toBe(false);
    expect(p.rUi).toBe(4);
  });

  describe.each(algos)('%s', (name, make) => {
    const algo = make().fit(ts);
    it.each(cases)(
      '%s: flagged wasImpossible with a reason; Surprise estimate',
      (_c, u, i, reason) => {
        const p = algo.predict(u, i);
        expect(p.uid).toBe(u);
        expect(p.iid).toBe(i);
        expect(p.details.wasImpossible).toBe(true);
        if (name === 'SVD unbiased') {
          // Surprise raises PredictionImpossible: the default prediction, the global mean; the
          // reason names the unknown side (Surprise's own says "User and items" whichever it is).
          expect(p.details.reason).toBe(reason);
          expect(p.est).toBe(ts.globalMean);
          return;
        }
        expect(p.details.reason).toBe(reason);
        if (name === 'NormalPredictor') {
          expect(Number.isFinite(p.est)).toBe(true);
          return;
        }
        // BaselineOnly and biased SVD: μ plus the known part of the baseline, no factor term.
        const b = algo as BaselineOnly | SVD;
        const uIn = ts.findUser(u);
        const iIn = ts.findItem(i);
        let want = ts.globalMean;
        if (uIn >= 0) want += b.bu[uIn];
        if (iIn >= 0) want += b.bi[iIn];
        expect(p.est).toBe(want);
      },
    );
  });
});

describe('seeds', () => {
  const ts = trainsetOf(REF.cases[1].ratings);

  it('SVD: the same randomState gives bit-identical models; another seed another model', () => {
    const a = new SVD({ nFactors: 8, nEpochs: 5, randomState: 99 }).fit(ts);
    const b = new SVD({ nFactors: 8, nEpochs: 5, randomState: 99 }).fit(ts);
    const c = new SVD({ nFactors: 8, nEpochs: 5, randomState: 100 }).fit(ts);
    expect(Buffer.from(a.pu.buffer).equals(Buffer.from(b.pu.buffer))).toBe(true);
    expect(Buffer.from(a.qi.buffer).equals(Buffer.from(b.qi.buffer))).toBe(true);
    expect(Buffer.from(a.bu.buffer).equals(Buffer.from(b.bu.buffer))).toBe(true);
    expect(Buffer.from(a.bi.buffer).equals(Buffer.from(b.bi.buffer))).toBe(true);
    expect(Buffer.from(a.pu.buffer).equals(Buffer.from(c.pu.buffer))).toBe(false);
  });

  it('SVD: the initial factors are N(initMean, initStd²) draws, users first, then items', () => {
    const a = new SVD({ nFactors: 3, nEpochs: 0, initMean: 1, initStd: 0.5, randomState: 4 }).fit(
      ts,
    );
    const g = new RandomState(4);
    const pu = Array.from({ length: ts.nUsers * 3 }, () => g.normal(1, 0.5));
    const qi = Array.from({ length: ts.nItems * 3 }, () => g.normal(1, 0.5));
    expect(Array.from(a.pu)).toEqual(pu);
    expect(Array.from(a.qi)).toEqual(qi);
  });

  it('NormalPredictor: the same randomState gives the same estimates', () => {
    const a = new NormalPredictor({ randomState: 5 }).fit(ts);
    const b = new NormalPredictor({ randomState: 5 }).fit(ts);
    const c = new NormalPredictor({ randomState: 6 }).fit(ts);
    const draws = (x: AlgoBase) => [1, 2, 3, 4].map(() => x.predict('u1', 'm10', null, false).est);
    const da = draws(a);
    expect(draws(b)).toEqual(da);
    expect(draws(c)).not.toEqual(da);
  });

  it('without randomState, two fits differ (seeded from the operating system)', () => {
    const a = new SVD({ nFactors: 4, nEpochs: 1 }).fit(ts);
    const b = new SVD({ nFactors: 4, nEpochs: 1 }).fit(ts);
    expect(Array.from(a.pu)).not.toEqual(Array.from(b.pu));
  });
});

describe('clipping to the rating scale', () => {
  // Two disjoint groups: high raters of high items, low raters of low items.
  const ts = trainsetOf([
    ['a', 'x', 5],
    ['a', 'y', 5],
    ['b', 'x', 5],
    ['c', 'z', 1],
    ['c', 'w', 1],
    ['d', 'z', 1],
    ['e', 'x', 3],
    ['e', 'z', 3],
  ]);
  const algo = new BaselineOnly({ bslOptions: { regU: 0, regI: 0 } }).fit(ts);

  it('clips an estimate above the scale to its top', () => {
    const raw = algo.predict('b', 'y', null, false).est;
    expect(raw).toBe(ts.globalMean + algo.bu[ts.findUser('b')] + algo.bi[ts.findItem('y')]);
    expect(raw).toBeGreaterThan(5);
    expect(algo.predict('b', 'y').est).toBe(5);
  });

  it('clips an estimate below the scale to its bottom', () => {
    const raw = algo.predict('d', 'w', null, false).est;
    expect(raw).toBeLessThan(1);
    expect(algo.predict('d', 'w').est).toBe(1);
  });

  it('test() clips every prediction and keeps the true ratings', () => {
    const preds = algo.test([
      ['b', 'y', 5],
      ['d', 'w', 1],
      ['a', 'z', 2],
    ]);
    expect(preds.map((p) => p.est)).toEqual([5, 1, algo.predict('a', 'z').est]);
    expect(preds.map((p) => p.rUi)).toEqual([5, 1, 2]);
    expect(preds[2].est).toBeGreaterThan(1);
    expect(preds[2].est).toBeLessThan(5);
  });
});

describe('parameters and registry', () => {
  const ts = trainsetOf(REF.cases[0].ratings);

  it('SVD per-parameter rates default to lrAll / regAll', () => {
    const a = new SVD({ nFactors: 2, nEpochs: 3, lrAll: 0.01, regAll: 0.1, randomState: 2 }).fit(
      ts,
    );
    const b = new SVD({
      nFactors: 2,
      nEpochs: 3,
      lrBu: 0.01,
      lrBi: 0.01,
      lrPu: 0.01,
      lrQi: 0.01,
      regBu: 0.1,
      regBi: 0.1,
      regPu: 0.1,
      regQi: 0.1,
      randomState: 2,
    }).fit(ts);
    expect(Array.from(a.pu)).toEqual(Array.from(b.pu));
    expect(Array.from(a.bi)).toEqual(Array.from(b.bi));
    const c = new SVD({
      nFactors: 2,
      nEpochs: 3,
      lrAll: 0.01,
      regAll: 0.1,
      lrBu: 0.02,
      randomState: 2,
    }).fit(ts);
    expect(Array.from(c.bu)).not.toEqual(Array.from(a.bu));
  });

  it('Surprise defaults', () => {
    expect(new SVD().params).toMatchObject({
      nFactors: 100,
      nEpochs: 20,
      biased: true,
      initMean: 0,
      initStd: 0.1,
      lrAll: 0.005,
      regAll: 0.02,
      lrBu: null,
      regQi: null,
      randomState: null,
    });
    expect(new BaselineOnly().params.bslOptions).toEqual({
      method: 'als',
      nEpochs: null,
      regU: 15,
      regI: 10,
      reg: 0.02,
      learningRate: 0.005,
    });
    expect(BSL_OPTIONS_SPEC.type).toBe('object');
  });

  it('refuses unknown parameters and bad values, naming them', () => {
    expect(() => new SVD({ nFactor: 3 })).toThrow(ParamError);
    expect(() => new SVD({ nFactor: 3 })).toThrow(/nFactor.*nFactors/);
    expect(() => new SVD({ nFactors: -1 })).toThrow(/nFactors/);
    expect(() => new BaselineOnly({ bslOptions: { method: 'lbfgs' } })).toThrow(
      /bslOptions\.method.*als, sgd/,
    );
    expect(() => computeBaselines(ts, { method: 'lbfgs' as 'als' })).toThrow(/lbfgs/);
  });

  it('predict before fit says to fit first', () => {
    expect(() => new SVD().predict('u1', 'm10')).toThrow(/not fitted/);
  });

  it('the registry creates each built-in by name', () => {
    expect(listAlgorithms()).toEqual(
      expect.arrayContaining(['NormalPredictor', 'BaselineOnly', 'SVD']),
    );
    const a = createAlgorithm('SVD', { nFactors: 5 });
    expect(a).toBeInstanceOf(SVD);
    expect(a.params.nFactors).toBe(5);
    expect(createAlgorithm('BaselineOnly')).toBeInstanceOf(BaselineOnly);
    expect(createAlgorithm('NormalPredictor')).toBeInstanceOf(NormalPredictor);
    expect(() => createAlgorithm('SVDXX')).toThrow(/unknown algorithm 'SVDXX'/);
  });

  it('fit returns the algorithm', () => {
    const a = new BaselineOnly();
    expect(a.fit(ts)).toBe(a);
  });
});
