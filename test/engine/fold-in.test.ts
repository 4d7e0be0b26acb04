/**
 * Fold-in (src/engine/fold-in.ts) on tiny models whose item side is set by hand, against
 * solutions worked out on paper (2 × 2 normal equations by Cramer's rule, the ALS bias step,
 * NMF's one-factor fixed point), and on a fitted SVD: a trained user's own ratings fold back near
 * the factors SGD learned.
 */
import { SVD } from '../../src/engine/algorithms/svd';
import { SVDpp } from '../../src/engine/algorithms/svdpp';
import { NMF } from '../../src/engine/algorithms/nmf';
import { BaselineOnly } from '../../src/engine/algorithms/baseline-only';
import { SlopeOne } from '../../src/engine/algorithms/slope-one';
import { canFoldIn, estimateFolded, foldInUser, recommendFolded } from '../../src/engine/fold-in';
import { trainsetOf } from './helpers';
import { RandomState } from '../../src/engine/random';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import { EASE, IALS } from '../../src/engine/rankers';

// μ = (4 + 2 + 5 + 1 + 3) / 5 = 3; items i0, i1, i2.
const ROWS: [string, string, number][] = [
  ['u0', 'i0', 4],
  ['u0', 'i1', 2],
  ['u1', 'i0', 5],
  ['u1', 'i1', 1],
  ['u1', 'i2', 3],
];
// The new user's ratings (one of a movie the model does not know: left out).
const NEW = new Map<string, number>([
  ['i0', 5],
  ['i1', 2],
  ['i2', 4],
  ['unknown-movie', 1],
]);

/** A one-factor model with b_i = (0.5, −0.5, 0) and q_i = (1, −1, 2). */
function tinyFactorModel<T extends SVD | SVDpp | NMF>(algo: T): T {
  algo.fit(trainsetOf(ROWS));
  algo.bi = Float64Array.from([0.5, -0.5, 0]);
  algo.qi = Float64Array.from([1, -1, 2]);
  return algo;
}

describe('fold-in', () => {
  it('solves the biased SVD ridge exactly (hand-worked 2 × 2 normal equations)', () => {
    // targets y = r − μ − b_i = (1.5, −0.5, 1); x_i = [1, q_i] = [1,1], [1,−1], [1,2]; n λ = 0.3.
    // A = [[3 + 0.3, 2], [2, 6 + 0.3]], b = [2, 4]; det = 3.3·6.3 − 4 = 16.79.
    // b_u = (6.3·2 − 2·4)/16.79 = 460/1679; p_u = (3.3·4 − 2·2)/16.79 = 920/1679.
    const algo = tinyFactorModel(new SVD({ nFactors: 1, nEpochs: 0, regAll: 0.1, randomState: 1 }));
    const f = foldInUser(algo, NEW)!;
    expect(Array.from(f.items)).toEqual([0, 1, 2]);
    expect(f.bu).toBeCloseTo(460 / 1679, 14);
    expect(f.pu![0]).toBeCloseTo(920 / 1679, 14);
    // estimate of i2: μ + b_u + b_2 + q_2 p_u = 3 + 460/1679 + 0 + 2·920/1679 = 3 + 2300/1679
    expect(estimateFolded(algo, f, 2)).toBeCloseTo(3 + 2300 / 1679, 14);
    // an unknown item: μ + b_u
    expect(estimateFolded(algo, f, -1)).toBeCloseTo(3 + 460 / 1679, 14);
  });

  it('uses regBu and regPu apart when they differ from regAll', () => {
    // n·λ_bu = 3·0.5 = 1.5, n·λ_pu = 3·0.1 = 0.3: A = [[4.5, 2], [2, 6.3]], det = 28.35 − 4 = 24.35
    const algo = tinyFactorModel(
      new SVD({ nFactors: 1, nEpochs: 0, regAll: 0.1, regBu: 0.5, randomState: 1 }),
    );
    const f = foldInUser(algo, NEW)!;
    expect(f.bu).toBeCloseTo((6.3 * 2 - 2 * 4) / 24.35, 14);
    expect(f.pu![0]).toBeCloseTo((4.5 * 4 - 2 * 2) / 24.35, 14);
  });

  it('solves the unbiased SVD ridge: p_u = Σ q_i r / (Σ q_i² + n λ)', () => {
    const algo = tinyFactorModel(
      new SVD({ nFactors: 1, nEpochs: 0, regAll: 0.1, biased: false, randomState: 1 }),
    );
    const f = foldInUser(algo, NEW)!;
    // Σ q r = 5 − 2 + 8 = 11; Σ q² = 6; n λ = 0.3
    expect(f.bu).toBe(0);
    expect(f.pu![0]).toBeCloseTo(11 / 6.3, 14);
    expect(estimateFolded(algo, f, 0)).toBeCloseTo(11 / 6.3, 14);
  });

  it('folds SVD++ with the implicit term of the rated items', () => {
    const algo = tinyFactorModel(
      new SVDpp({ nFactors: 1, nEpochs: 0, regAll: 0.1, randomState: 1 }),
    );
    algo.yj = Float64Array.from([0.6, -0.3, 0]);
    const z = 0.3 / Math.sqrt(3);
    // targets r − μ − b_i − q_i z; same A as the SVD case; b = Σ x y
    const y = [1.5 - z, -0.5 + z, 1 - 2 * z];
    const b0 = y[0] + y[1] + y[2];
    const b1 = y[0] - y[1] + 2 * y[2];
    const bu = (6.3 * b0 - 2 * b1) / 16.79;
    const pu = (3.3 * b1 - 2 * b0) / 16.79;
    const f = foldInUser(algo, NEW)!;
    expect(f.bu).toBeCloseTo(bu, 13);
    expect(f.pu![0]).toBeCloseTo(pu + z, 13); // stored as p_u + z_u
    expect(estimateFolded(algo, f, 2)).toBeCloseTo(3 + bu + 0 + 2 * (pu + z), 13);
  });

  it('folds unbiased NMF to its one-factor fixed point Σ q r / (Σ q² + n λ), non-negative', () => {
    const algo = new NMF({ nFactors: 1, nEpochs: 0, regPu: 0.1, randomState: 1 }).fit(
      trainsetOf(ROWS),
    );
    algo.qi = Float64Array.from([1, 0.5, 2]);
    const f = foldInUser(algo, NEW)!;
    // Σ q r = 5 + 1 + 8 = 14; Σ q² = 1 + 0.25 + 4 = 5.25; n λ = 0.3
    expect(f.pu![0]).toBeCloseTo(14 / 5.55, 12);
    expect(estimateFolded(algo, f, 1)).toBeCloseTo((0.5 * 14) / 5.55, 12);
  });

  it("folds BaselineOnly with ALS's user step b_u = Σ (r − μ − b_i) / (regU + n)", () => {
    const algo = new BaselineOnly().fit(trainsetOf(ROWS));
    algo.bi = Float64Array.from([0.5, -0.5, 0]);
    const f = foldInUser(algo, NEW)!;
    expect(f.bu).toBeCloseTo(2 / 18, 14); // (1.5 − 0.5 + 1) / (15 + 3)
    expect(f.pu).toBeNull();
    expect(estimateFolded(algo, f, 0)).toBeCloseTo(3 + 2 / 18 + 0.5, 14);
  });

  it('answers null when no rated movie is known, and refuses SlopeOne by name', () => {
    const algo = tinyFactorModel(new SVD({ nFactors: 1, nEpochs: 0, randomState: 1 }));
    expect(foldInUser(algo, new Map([['nope', 4]]))).toBeNull();
    const slope = new SlopeOne().fit(trainsetOf(ROWS));
    expect(canFoldIn(slope)).toBe(false);
    expect(() => foldInUser(slope, NEW)).toThrow(/SlopeOne cannot fold users in/);
  });

  it('recommends by the folded estimates, leaving out the rated movies', () => {
    const algo = tinyFactorModel(new SVD({ nFactors: 1, nEpochs: 0, regAll: 0.1, randomState: 1 }));
    const f = foldInUser(algo, new Map([['i0', 5]]))!;
    // one rating: A = [[1 + 0.1, 1], [1, 1 + 0.1]], b = [1.5, 1.5] → b_u = p_u = 1.5 / 2.1
    const w = 1.5 / 2.1;
    const recs = recommendFolded(algo, f, 5, true);
    expect(recs.map((r) => r.iid)).toEqual(['i2', 'i1']);
    expect(recs[0].est).toBeCloseTo(Math.min(5, 3 + w + 2 * w), 14);
    expect(recs[1].est).toBeCloseTo(3 + w - 0.5 - w, 14);
  });

  it("lands a trained user's own ratings near the estimates SGD learned (seed 7)", () => {
    // A seeded synthetic set: 60 users × 40 items, r = clip(round(3 + a_u + c_i + noise)).
    const seed = 7;
    const rng = new RandomState(seed);
    const users: string[] = [];
    const items: string[] = [];
    const ratings: number[] = [];
    const a = Array.from({ length: 60 }, () => rng.normal(0, 0.7));
    const c = Array.from({ length: 40 }, () => rng.normal(0, 0.7));
    for (let u = 0; u < 60; u++) {
      for (let i = 0; i < 40; i++) {
        if (rng.uniform(0, 1) < 0.5) continue;
        users.push(`u${u}`);
        items.push(`i${i}`);
        ratings.push(Math.min(5, Math.max(1, Math.round(3 + a[u] + c[i] + rng.normal(0, 0.5)))));
      }
    }
    const ts = Trainset.build(new RawRatings(users, items, Float64Array.from(ratings)), [1, 5]);
    const algo = new SVD({ nFactors: 5, nEpochs: 200, randomState: seed }).fit(ts);
    let worst = 0;
    let sum = 0;
    let count = 0;
    let coldSum = 0;
    for (let u = 0; u < ts.nUsers; u++) {
      const own = new Map<string, number>();
      const { items: its, ratings: rs } = ts.ur(u);
      its.forEach((i, t) => own.set(ts.toRawIid(i), rs[t]));
      const f = foldInUser(algo, own)!;
      for (let t = 0; t < its.length; t++) {
        const trained = algo.predict(ts.toRawUid(u), ts.toRawIid(its[t]), null, false).est;
        const d = Math.abs(estimateFolded(algo, f, its[t]) - trained);
        worst = Math.max(worst, d);
        sum += d;
        count++;
        // what the user would get unfolded (an unknown user: μ + b_i)
        coldSum += Math.abs(algo.predict('nobody', ts.toRawIid(its[t]), null, false).est - trained);
      }
    }
    const meanDiff = sum / count;
    const coldDiff = coldSum / count;
    console.log(
      `fold-in vs trained, seed ${seed}: mean |difference| ${meanDiff} (unfolded ${coldDiff}), largest ${worst}`,
    );
    expect(meanDiff).toBeLessThan(coldDiff / 5);
  });
});

describe('fold-in of rankers', () => {
  const rows: [string, string, number][] = [
    ['a', 'm1', 5],
    ['a', 'm2', 4],
    ['b', 'm2', 3],
    ['b', 'm3', 5],
    ['c', 'm1', 2],
    ['c', 'm3', 4],
    ['c', 'm4', 1],
    ['d', 'm4', 5],
  ];

  it("scores a user known only by their items as EASE's x·B: the sum of those rows of B", () => {
    const ease = new EASE({ lambda: 1 }).fit(trainsetOf(rows));
    const ts = ease.trainset;
    const items = Int32Array.from([ts.findItem('m1'), ts.findItem('m3')]);
    const top = ease.topKOfItems(items, 4, null)!;
    const n = ease.nModelled;
    for (let p = 0; p < top.ids.length; p++) {
      const j = ease.itemSlot[top.ids[p]];
      const expected = items.reduce((s, i) => s + ease.weights[ease.itemSlot[i] * n + j], 0);
      expect(top.scores[p]).toBeCloseTo(expected, 6);
    }
    // a trained user's own items rank as the trained user does
    const u = ts.findUser('c');
    const known = ease.topK(u, 4, null);
    const folded = ease.topKOfItems(ts.ur(u).items, 4, null)!;
    expect(Array.from(folded.ids)).toEqual(Array.from(known.ids));
    expect(Array.from(folded.scores)).toEqual(Array.from(known.scores));
  });

  it('answers null for a ranker whose user side is learned (iALS)', () => {
    const ials = new IALS({ nFactors: 2, randomState: 1 }).fit(trainsetOf(rows));
    expect(ials.topKOfItems(Int32Array.from([0]), 2, null)).toBeNull();
  });
});
