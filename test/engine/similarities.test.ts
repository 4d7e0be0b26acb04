import * as fs from 'fs';
import * as path from 'path';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import { computeBaselines } from '../../src/engine/algorithms/baselines';
import {
  computeSimilarities,
  toSimOptions,
  memoryBudgetBytes,
  parseByteSize,
  similarityMatrixBytes,
  SimilarityBudgetError,
  DEFAULT_MEMORY_BUDGET_BYTES,
  type SimOptions,
} from '../../src/engine/similarities';
import { ParamError } from '../../src/engine/params';

/*
 * The hand-worked fixture: 3 users × 4 items, one half star (B's 3.5 on i2).
 *
 *        i1   i2   i3   i4
 *   A     4    3    5    2
 *   B     2   3.5   -    1
 *   C     -    4    2    5
 *
 * Raw order A…, B…, C… so inner ids are A=0, B=1, C=2 and i1=0 … i4=3.
 * Common items: A–B {i1, i2, i4}, A–C {i2, i3, i4}, B–C {i2, i4}.
 * Common users: i1–i2 {A, B}, i1–i3 {A}, i1–i4 {A, B}, i2–i3 {A, C}, i2–i4 {A, B, C}, i3–i4 {A, C}.
 */
const raw = new RawRatings(
  ['A', 'A', 'A', 'A', 'B', 'B', 'B', 'C', 'C', 'C'],
  ['i1', 'i2', 'i3', 'i4', 'i1', 'i2', 'i4', 'i2', 'i3', 'i4'],
  Float64Array.from([4, 3, 5, 2, 2, 3.5, 1, 4, 2, 5]),
);
const ts = Trainset.build(raw, [1, 5]);
const A = 0,
  B = 1,
  C = 2;

function sims(opts: Partial<SimOptions>, extras = {}): (a: number, b: number) => number {
  const m = computeSimilarities(ts, toSimOptions(opts), extras);
  return (a, b) => m.values[a * m.n + b];
}

// Baselines chosen so that the residuals are round: μ = 31.5 / 10 = 3.15,
// μ + bu = 3 (A), 2 (B), 4 (C); bi = 0.5, 0, −0.5, 0.
// Residuals d = r − (μ + bu + bi):
//        i1    i2    i3    i4
//   A    0.5   0     2.5  −1
//   B   −0.5   1.5   -    −1
//   C    -     0    −1.5   1
const baselines = {
  bu: Float64Array.from([-0.15, -1.15, 0.85]),
  bi: Float64Array.from([0.5, 0, -0.5, 0]),
};

describe('similarities: hand-worked values (user-based)', () => {
  test('cosine: Σ rx·rx′ / sqrt(Σ rx² · Σ rx′²) over common items, half star kept', () => {
    const s = sims({ name: 'cosine' });
    // A–B: (4·2 + 3·3.5 + 2·1) / sqrt((16 + 9 + 4)(4 + 12.25 + 1))
    expect(s(A, B)).toBeCloseTo(20.5 / Math.sqrt(29 * 17.25), 14);
    // A–C: (3·4 + 5·2 + 2·5) / sqrt((9 + 25 + 4)(16 + 4 + 25))
    expect(s(A, C)).toBeCloseTo(32 / Math.sqrt(38 * 45), 14);
    // B–C: (3.5·4 + 1·5) / sqrt((12.25 + 1)(16 + 25))
    expect(s(B, C)).toBeCloseTo(19 / Math.sqrt(13.25 * 41), 14);
    expect(s(C, B)).toBe(s(B, C));
    expect([s(A, A), s(B, B), s(C, C)]).toEqual([1, 1, 1]);
  });

  test('msd: 1 / (mean squared difference + 1)', () => {
    const s = sims({ name: 'msd' });
    // A–B: ((4−2)² + (3−3.5)² + (2−1)²) / 3 = 5.25 / 3
    expect(s(A, B)).toBeCloseTo(1 / (5.25 / 3 + 1), 15);
    // A–C: ((3−4)² + (5−2)² + (2−5)²) / 3 = 19 / 3
    expect(s(A, C)).toBeCloseTo(3 / 22, 15);
    // B–C: ((3.5−4)² + (1−5)²) / 2 = 8.125
    expect(s(B, C)).toBeCloseTo(1 / 9.125, 15);
    // truncating 3.5 to 3 would give ((1)² + (4)²)/2 = 8.5: not what we get
    expect(s(B, C)).not.toBeCloseTo(1 / 9.5, 6);
  });

  test('pearson: (nΣxy − ΣxΣy) / sqrt((nΣx² − (Σx)²)(nΣy² − (Σy)²))', () => {
    const s = sims({ name: 'pearson' });
    // A–B: x = (4, 3, 2), y = (2, 3.5, 1): n = 3, Σx = 9, Σy = 6.5, Σxy = 20.5, Σx² = 29,
    // Σy² = 17.25 → (61.5 − 58.5) / sqrt((87 − 81)(51.75 − 42.25)) = 3 / sqrt(57)
    expect(s(A, B)).toBeCloseTo(3 / Math.sqrt(57), 14);
    // A–C: x = (3, 5, 2), y = (4, 2, 5): centred (−1/3, 5/3, −4/3) and (1/3, −5/3, 4/3) → −1
    expect(s(A, C)).toBeCloseTo(-1, 14);
    // B–C: two points → −1 (3.5 > 1 while 4 < 5)
    expect(s(B, C)).toBeCloseTo(-1, 14);
  });

  test('pearson_baseline: shrunk correlation of baseline residuals', () => {
    const s = sims({ name: 'pearson_baseline', shrinkage: 100 }, { baselines });
    // A–B: dA = (0.5, 0, −1), dB = (−0.5, 1.5, −1): Σ = 0.75, ΣdA² = 1.25, ΣdB² = 3.5; n = 3
    expect(s(A, B)).toBeCloseTo((0.75 / Math.sqrt(1.25 * 3.5)) * (2 / 102), 14);
    // A–C: dA = (0, 2.5, −1), dC = (0, −1.5, 1): Σ = −4.75, 7.25, 3.25; n = 3
    expect(s(A, C)).toBeCloseTo((-4.75 / Math.sqrt(7.25 * 3.25)) * (2 / 102), 14);
    // B–C: dB = (1.5, −1), dC = (0, 1): Σ = −1, 3.25, 1; n = 2
    expect(s(B, C)).toBeCloseTo((-1 / Math.sqrt(3.25)) * (1 / 101), 14);
  });

  test('shrinkage changes pearson_baseline: 0 means no shrinkage', () => {
    const s0 = sims({ name: 'pearson_baseline', shrinkage: 0 }, { baselines });
    expect(s0(A, B)).toBeCloseTo(0.75 / Math.sqrt(1.25 * 3.5), 14);
    const s10 = sims({ name: 'pearson_baseline', shrinkage: 10 }, { baselines });
    expect(s10(B, C)).toBeCloseTo((-1 / Math.sqrt(3.25)) * (1 / 11), 14);
  });

  test('minSupport: pairs with fewer common items get 0', () => {
    const s = sims({ name: 'msd', minSupport: 3 });
    expect(s(B, C)).toBe(0); // 2 common items
    expect(s(A, B)).toBeCloseTo(1 / (5.25 / 3 + 1), 15); // 3 common items
    expect(sims({ name: 'cosine', minSupport: 4 })(A, C)).toBe(0);
    expect(sims({ name: 'pearson', minSupport: 3 })(B, C)).toBe(0);
    // pearson_baseline needs at least 2 whatever minSupport says (shrinkage of n − 1)
    expect(sims({ name: 'pearson_baseline', minSupport: 0 }, { baselines })(B, C)).not.toBe(0);
    expect(sims({ name: 'pearson_baseline', minSupport: 3 }, { baselines })(B, C)).toBe(0);
  });
});

describe('similarities: item-based (userBased false)', () => {
  const I1 = 0,
    I2 = 1,
    I3 = 2,
    I4 = 3;

  test('cosine between items over common users', () => {
    const s = sims({ name: 'cosine', userBased: false });
    // i2–i4: users A (3, 2), B (3.5, 1), C (4, 5): 29.5 / sqrt((9 + 12.25 + 16)(4 + 1 + 25))
    expect(s(I2, I4)).toBeCloseTo(29.5 / Math.sqrt(37.25 * 30), 14);
    // i1–i3: only A (4, 5) → 20 / sqrt(16 · 25) = 1
    expect(s(I1, I3)).toBeCloseTo(1, 15);
    expect(sims({ name: 'cosine', userBased: false, minSupport: 2 })(I1, I3)).toBe(0);
  });

  test('msd and pearson between items', () => {
    // i2–i4: ((3−2)² + (3.5−1)² + (4−5)²) / 3 = 8.25 / 3
    expect(sims({ name: 'msd', userBased: false })(I2, I4)).toBeCloseTo(1 / (8.25 / 3 + 1), 15);
    // i2–i4: n = 3, Σx = 10.5, Σy = 8, Σxy = 29.5, Σx² = 37.25, Σy² = 30
    //   → (88.5 − 84) / sqrt((111.75 − 110.25)(90 − 64)) = 4.5 / sqrt(39)
    const p = sims({ name: 'pearson', userBased: false });
    expect(p(I2, I4)).toBeCloseTo(4.5 / Math.sqrt(39), 14);
    // i1–i3: a single common user → denominator 0 → 0
    expect(p(I1, I3)).toBe(0);
  });

  test('pearson_baseline between items uses bi as x biases and bu as y biases', () => {
    const s = sims({ name: 'pearson_baseline', userBased: false, shrinkage: 100 }, { baselines });
    // i2–i4: residuals A (0, −1), B (1.5, −1), C (0, 1): Σ = −1.5, Σd2² = 2.25, Σd4² = 3; n = 3
    expect(s(I2, I4)).toBeCloseTo((-1.5 / Math.sqrt(2.25 * 3)) * (2 / 102), 14);
  });

  test('the matrix is nItems × nItems with bytes reported', () => {
    const m = computeSimilarities(ts, toSimOptions({ userBased: false }));
    expect(m.n).toBe(4);
    expect(m.values.length).toBe(16);
    expect(m.bytes).toBe(16 * 8);
  });
});

describe('similarities: errors and the memory budget', () => {
  test('pearson_baseline without baselines is refused', () => {
    expect(() => computeSimilarities(ts, toSimOptions({ name: 'pearson_baseline' }))).toThrow(
      /needs baselines/,
    );
    expect(() =>
      computeSimilarities(ts, toSimOptions({ name: 'pearson_baseline' }), {
        baselines: { bu: new Float64Array(2), bi: new Float64Array(4) },
      }),
    ).toThrow(/bu 2 \(expected 3\)/);
  });

  test('unknown measure names are refused, naming the choices', () => {
    expect(() => toSimOptions({ name: 'jaccard' as never })).toThrow(ParamError);
    expect(() => toSimOptions({ name: 'jaccard' as never })).toThrow(/cosine, msd, pearson/);
    expect(toSimOptions({}).name).toBe('msd');
    expect(toSimOptions({ name: 'PEARSON' as never }).name).toBe('pearson');
  });

  test('a matrix over the budget fails before allocating, naming sizes', () => {
    expect(similarityMatrixBytes(3)).toBe(72);
    const run = (budget: number) =>
      computeSimilarities(ts, toSimOptions({}), { memoryBudgetBytes: budget });
    expect(() => run(71)).toThrow(SimilarityBudgetError);
    expect(() => run(71)).toThrow(/3 × 3 float64\) needs 72 bytes .* memory budget is 71 bytes/);
    expect(run(72).n).toBe(3);
    try {
      computeSimilarities(ts, toSimOptions({ userBased: false }), { memoryBudgetBytes: 100 });
      throw new Error('expected a budget error');
    } catch (e) {
      expect(e).toBeInstanceOf(SimilarityBudgetError);
      const err = e as SimilarityBudgetError;
      expect([err.n, err.neededBytes, err.budgetBytes]).toEqual([4, 128, 100]);
      expect(err.message).toMatch(/item similarity matrix/);
    }
  });

  test('the budget comes from REELGRAPH_MEMORY_BUDGET when not given', () => {
    const saved = process.env.REELGRAPH_MEMORY_BUDGET;
    try {
      delete process.env.REELGRAPH_MEMORY_BUDGET;
      expect(memoryBudgetBytes()).toBe(DEFAULT_MEMORY_BUDGET_BYTES);
      process.env.REELGRAPH_MEMORY_BUDGET = '64';
      expect(() => computeSimilarities(ts, toSimOptions({}))).toThrow(/budget is 64 bytes/);
      expect(memoryBudgetBytes(1000)).toBe(1000);
      process.env.REELGRAPH_MEMORY_BUDGET = 'lots';
      expect(() => memoryBudgetBytes()).toThrow(/REELGRAPH_MEMORY_BUDGET must be a number/);
    } finally {
      if (saved === undefined) delete process.env.REELGRAPH_MEMORY_BUDGET;
      else process.env.REELGRAPH_MEMORY_BUDGET = saved;
    }
  });

  test('byte sizes: plain bytes or K/M/G/T units of 1024', () => {
    expect(parseByteSize('1000')).toBe(1000);
    expect(parseByteSize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize('512 MiB')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('64k')).toBe(65536);
    expect(() => parseByteSize('0')).toThrow(/positive/);
    expect(() => parseByteSize('-5')).toThrow(/number of bytes/);
  });
});

// Surprise's formulas re-implemented with NumPy (test/fixtures/surprise-ref/knn_ref.py) on a
// synthetic half-star data set, every measure × user/item-based × minSupport/shrinkage.
const ref = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../fixtures/surprise-ref/knn_ref.json'), 'utf8'),
) as {
  synthetic: {
    ratings: [string, string, number][];
    similarities: { simOptions: SimOptions; n: number; values: number[] }[];
  };
};

describe('similarities: agree with the NumPy re-implementation of Surprise', () => {
  const r = ref.synthetic.ratings;
  const synth = Trainset.build(
    new RawRatings(
      r.map((x) => x[0]),
      r.map((x) => x[1]),
      Float64Array.from(r.map((x) => x[2])),
    ),
    [1, 5],
  );
  const bsl = computeBaselines(synth, {});
  test.each(ref.synthetic.similarities.map((c) => [JSON.stringify(c.simOptions), c] as const))(
    '%s',
    (_name, c) => {
      const m = computeSimilarities(synth, toSimOptions(c.simOptions), { baselines: bsl });
      expect(m.n).toBe(c.n);
      let maxDiff = 0;
      for (let k = 0; k < c.values.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(m.values[k] - c.values[k]));
      }
      expect(maxDiff).toBeLessThan(1e-12);
    },
  );
});
