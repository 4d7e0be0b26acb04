/**
 * SlopeOne: dev and freq worked by hand, equality (to the last bit) with a NumPy transcription of
 * Surprise 1.1.4's slope_one.pyx (test/fixtures/surprise-ref/mf_ref.py), the dense and the sparse
 * lookups, unknown users and items, half stars, model state.
 */
import { SlopeOne } from '../../src/engine/algorithms/slope-one';
import { createAlgorithm } from '../../src/engine/algorithms';
import { RandomState } from '../../src/engine/random';
import {
  REF,
  refTrainset,
  trainsetOf,
  expectPredictions,
  allEstimates,
  expectStateRoundTrip,
} from './mf-ref';

/**
 * A: x 5, y 3, z 2;  B: x 3.5, y 4;  C: y 2, z 5;  D: w 4.
 * freq(x,y) = 2 (A, B), freq(x,z) = 1 (A), freq(y,z) = 2 (A, C), freq(·,w) = 0 except (w,w) = 1.
 * dev(x,y) = ((5−3) + (3.5−4)) / 2 = 0.75;  dev(x,z) = (5−2) / 1 = 3;  dev(y,z) = ((3−2) + (2−5)) / 2 = −1.
 * μ_A = 10/3, μ_B = 3.75, μ_C = 3.5, μ_D = 4.
 */
const HAND: [string, string, number][] = [
  ['A', 'x', 5],
  ['A', 'y', 3],
  ['A', 'z', 2],
  ['B', 'x', 3.5],
  ['B', 'y', 4],
  ['C', 'y', 2],
  ['C', 'z', 5],
  ['D', 'w', 4],
];

describe.each([
  ['dense', 1 << 23],
  ['sparse', 0],
])('SlopeOne by hand (%s lookup)', (_name, limit) => {
  const saved = SlopeOne.denseLimit;
  let algo: SlopeOne;
  beforeAll(() => {
    SlopeOne.denseLimit = limit;
    algo = new SlopeOne().fit(trainsetOf(HAND, [1, 5]));
  });
  afterAll(() => {
    SlopeOne.denseLimit = saved;
  });
  const id = (raw: string) => algo.trainset.toInnerIid(raw);

  it('freq counts the users who rated both items', () => {
    expect(algo.freq(id('x'), id('y'))).toBe(2);
    expect(algo.freq(id('y'), id('x'))).toBe(2);
    expect(algo.freq(id('x'), id('z'))).toBe(1);
    expect(algo.freq(id('z'), id('y'))).toBe(2);
    expect(algo.freq(id('x'), id('w'))).toBe(0);
    expect(algo.freq(id('y'), id('y'))).toBe(3);
    expect(algo.freq(id('w'), id('w'))).toBe(1);
  });

  it('dev is the mean difference, antisymmetric, 0 without a common user', () => {
    expect(algo.dev(id('x'), id('y'))).toBe(0.75);
    expect(algo.dev(id('y'), id('x'))).toBe(-0.75);
    expect(algo.dev(id('x'), id('z'))).toBe(3);
    expect(algo.dev(id('z'), id('x'))).toBe(-3);
    expect(algo.dev(id('y'), id('z'))).toBe(-1);
    expect(algo.dev(id('z'), id('y'))).toBe(1);
    expect(algo.dev(id('x'), id('w'))).toBe(0);
    expect(algo.dev(id('x'), id('x'))).toBe(0);
  });

  it('estimates μ_u plus the mean dev over the relevant items', () => {
    // B, z: relevant x, y → (dev(z,x) + dev(z,y)) / 2 = (−3 + 1) / 2 = −1
    expect(algo.predict('B', 'z').est).toBe(3.75 - 1);
    // C, x: relevant y, z → (0.75 + 3) / 2 = 1.875 → 5.375 unclipped, 5 clipped
    expect(algo.predict('C', 'x', null, false).est).toBe(5.375);
    expect(algo.predict('C', 'x').est).toBe(5);
    // A, w: no item of A shares a user with w → μ_A
    expect(algo.predict('A', 'w', null, false).est).toBe(10 / 3);
    // D, x: D's only item w shares no user with x → μ_D
    expect(algo.predict('D', 'x', null, false).est).toBe(4);
    // A, x (a rated pair): x itself counts with dev 0 → μ_A + (0 + 0.75 + 3) / 3
    expect(algo.predict('A', 'x', null, false).est).toBe(10 / 3 + 3.75 / 3);
  });

  it('is impossible for an unknown user, item or both (global mean, flagged)', () => {
    for (const [u, i] of [
      ['nobody', 'x'],
      ['A', 'nothing'],
      ['nobody', 'nothing'],
    ]) {
      const p = algo.predict(u, i, null, false);
      expect(p.est).toBe(algo.trainset.globalMean);
      expect(p.details).toEqual({ wasImpossible: true, reason: 'User and/or item is unknown.' });
    }
  });

  it('freq and dev refuse ids outside the trainset', () => {
    expect(() => algo.dev(0, 99)).toThrow('99 is not a valid inner item id.');
    expect(() => algo.freq(-1, 0)).toThrow('-1 is not a valid inner item id.');
  });
});

describe('SlopeOne against the NumPy transcription of Surprise', () => {
  const ts = refTrainset();
  const ref = REF.slopeOne;

  it.each([
    ['dense', 1 << 23],
    ['sparse', 0],
  ])('freq, dev, user means and every estimate equal to the last bit (%s)', (_n, limit) => {
    const saved = SlopeOne.denseLimit;
    SlopeOne.denseLimit = limit;
    try {
      const algo = new SlopeOne().fit(ts);
      const n = ts.nItems;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          expect(algo.freq(i, j)).toBe(ref.freq[i * n + j]);
          expect(algo.dev(i, j)).toBe(ref.dev[i * n + j]);
        }
      }
      expect(Array.from(algo.userMean)).toEqual(ref.userMean);
      expect(allEstimates(algo)).toEqual(ref.allPredictions.flat());
      expectPredictions(algo, ref.predictions, 0);
    } finally {
      SlopeOne.denseLimit = saved;
    }
  });

  it('stores each pair once: the pairs with a common user, i < j', () => {
    const algo = new SlopeOne().fit(ts);
    const n = ts.nItems;
    let pairs = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) if (ref.freq[i * n + j] > 0) pairs++;
    expect(algo.pairItems.length).toBe(pairs);
  });
});

describe.each([
  ['dense table', 1 << 24],
  ['sparse rows, per-user batches', 0],
])('SlopeOne on many items with few ratings each (%s)', (_name, limit) => {
  const saved = SlopeOne.denseLimit;
  beforeAll(() => {
    SlopeOne.denseLimit = limit;
  });
  afterAll(() => {
    SlopeOne.denseLimit = saved;
  });

  it('freq, dev and estimates equal a brute-force computation over users in inner-id order', () => {
    const r = new RandomState(3);
    const rows: [string, string, number][] = [];
    for (let u = 0; u < 60; u++) {
      const seen = new Set<number>();
      while (seen.size < 6) seen.add(r.randint(0, 300));
      for (const i of seen) rows.push([`u${u}`, `i${i}`, r.randint(1, 11) / 2]);
    }
    const ts = trainsetOf(rows);
    const n = ts.nItems;
    const freq = new Int32Array(n * n);
    const sum = new Float64Array(n * n);
    for (let u = 0; u < ts.nUsers; u++) {
      const { items, ratings } = ts.ur(u);
      for (let a = 0; a < items.length; a++) {
        for (let b = 0; b < items.length; b++) {
          freq[items[a] * n + items[b]]++;
          sum[items[a] * n + items[b]] += ratings[a] - ratings[b];
        }
      }
    }
    const algo = new SlopeOne().fit(ts);
    const got: number[] = [];
    const want: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const f = freq[i * n + j];
        got.push(algo.freq(i, j), algo.dev(i, j));
        const d = i === j || f === 0 ? 0 : i < j ? sum[i * n + j] / f : -(sum[j * n + i] / f);
        want.push(f, d);
      }
    }
    expect(got).toEqual(want);
    expect(algo.pairItems.length).toBeLessThan((n * (n - 1)) / 20); // really sparse rows

    // Estimates from the brute-force dev, summed over ur[u] in order (Surprise's estimate).
    const dev = (i: number, j: number) =>
      i === j ? 0 : i < j ? sum[i * n + j] / freq[i * n + j] : -(sum[j * n + i] / freq[j * n + i]);
    const expected = (u: number, i: number) => {
      const { items } = ts.ur(u);
      let s = 0;
      let c = 0;
      for (const j of items) {
        if (freq[i * n + j] > 0) {
          s += dev(i, j);
          c++;
        }
      }
      return c > 0 ? algo.userMean[u] + s / c : algo.userMean[u];
    };
    const want2: number[] = [];
    const byUser: number[] = []; // every item of a user in a row: estimated in one batch
    const interleaved: number[] = []; // users alternating: one estimate at a time
    for (let u = 0; u < 5; u++) {
      for (let i = 0; i < n; i++) {
        want2.push(expected(u, i));
        byUser.push(algo.estimate(u, i) as number);
      }
    }
    for (let u = 0; u < 5; u++) for (let i = 0; i < n; i++) interleaved.push(0);
    for (let i = 0; i < n; i++) {
      for (let u = 0; u < 5; u++) interleaved[u * n + i] = algo.estimate(u, i) as number;
    }
    expect(byUser).toEqual(want2);
    expect(interleaved).toEqual(want2);
    // the sparse storage did estimate by batches (the last user's is still there)
    const cached = (algo as unknown as { cacheUser: number }).cacheUser;
    expect(cached).toBe(limit === 0 ? 4 : -1);
  });
});

describe('SlopeOne half stars, state, registry', () => {
  it('half stars are used as they are (Surprise would truncate them)', () => {
    const algo = new SlopeOne().fit(
      trainsetOf(
        [
          ['a', 'x', 4.5],
          ['a', 'y', 2],
          ['b', 'y', 3],
        ],
        [0.5, 5],
      ),
    );
    // dev(x, y) = 4.5 − 2 = 2.5; b, x → μ_b + 2.5 = 5.5 unclipped
    expect(algo.predict('b', 'x', null, false).est).toBe(5.5);
  });

  it('exportState / importState restore the same estimates, dense or sparse', () => {
    expectStateRoundTrip(SlopeOne, {}, refTrainset());
    const saved = SlopeOne.denseLimit;
    SlopeOne.denseLimit = 0;
    try {
      expectStateRoundTrip(SlopeOne, {}, refTrainset());
    } finally {
      SlopeOne.denseLimit = saved;
    }
  });

  it('importState checks the pair arrays against the offsets', () => {
    const ts = refTrainset();
    const state = new SlopeOne().fit(ts).exportState();
    state.arrays.pairDev = (state.arrays.pairDev as Float64Array).subarray(1);
    expect(() => new SlopeOne().restore(ts, state)).toThrow(/array 'pairDev'/);
  });

  it('is registered, takes no parameters', () => {
    expect(createAlgorithm('SlopeOne')).toBeInstanceOf(SlopeOne);
    expect(() => createAlgorithm('SlopeOne', { k: 3 })).toThrow(/unknown parameter 'k'/);
  });
});
