/**
 * Shared by the SVDpp, NMF, SlopeOne and CoClustering tests: the reference values computed by
 * test/fixtures/surprise-ref/mf_ref.py (a NumPy transcription of Surprise 1.1.4's loops) and small
 * helpers to compare against them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Trainset } from '../../src/engine/trainset';
import { trainsetOf as trainsetOfRows } from './helpers';
import type { AlgoBase, AlgorithmClass } from '../../src/engine/algorithms/base';

type Pred = (number | null)[];
export interface MfRef {
  ratings: [string, string, number][];
  queries: [string, string][];
  globalMean: number;
  svdpp: {
    params: Record<string, unknown>;
    result: Record<string, number[]> & { predictions: Pred };
  }[];
  svdppDuplicates: {
    ratings: [string, string, number][];
    params: Record<string, unknown>;
    result: Record<string, number[]> & { predictions: Pred };
  };
  nmf: {
    params: Record<string, unknown>;
    result: Record<string, number[]> & { predictions: Pred };
  }[];
  slopeOne: {
    freq: number[];
    dev: number[];
    userMean: number[];
    allPredictions: number[][];
    predictions: Pred;
  };
  coClustering: {
    params: Record<string, unknown>;
    result: Record<string, number[]> & { predictions: Pred };
  }[];
}

export const REF = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/surprise-ref/mf_ref.json'), 'utf8'),
) as MfRef;

/** A trainset of `[user, item, rating]` rows, in order (default scale [0.5, 5]). */
export const trainsetOf = (
  rows: [string, string, number][],
  scale: [number, number] = [0.5, 5],
): Trainset => trainsetOfRows(rows, scale);

/** The reference data set (70 half-star ratings, 14 users, 11 items). */
export const refTrainset = (): Trainset => trainsetOf(REF.ratings);

/**
 * Checks `algo`'s unclipped predictions for the reference queries: a number where the reference
 * has one (within `tol`), and an impossible prediction (global mean) where Surprise raises.
 */
export function expectPredictions(algo: AlgoBase, expected: Pred, tol: number): void {
  REF.queries.forEach(([u, i], k) => {
    const p = algo.predict(u, i, null, false);
    const e = expected[k];
    if (e === null) {
      expect(p.details.wasImpossible).toBe(true);
      expect(p.est).toBe(algo.trainset.globalMean);
    } else {
      expect(Math.abs(p.est - e)).toBeLessThanOrEqual(tol);
    }
  });
}

/** Largest absolute difference between two arrays of the same length (fails on a length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
  return d;
}

/** The estimates of every (user, item) pair of the trainset's id space, as one array. */
export function allEstimates(algo: AlgoBase): number[] {
  const ts = algo.trainset;
  const out: number[] = [];
  for (let u = 0; u < ts.nUsers; u++) {
    for (let i = 0; i < ts.nItems; i++)
      out.push(algo.predict(ts.toRawUid(u), ts.toRawIid(i), null, false).est);
  }
  return out;
}

/**
 * For every declared hyper-parameter, fits with `base` and with `base` changed by `variants[name]`
 * and expects different estimates (no parameter is silently ignored). Fails when a declared
 * parameter has no variant, so a new parameter cannot go untested.
 */
export function expectEveryParamMatters(
  Cls: AlgorithmClass,
  ts: Trainset,
  base: Record<string, unknown>,
  variants: Record<string, Record<string, unknown>>,
): void {
  expect(Object.keys(variants).sort()).toEqual(Object.keys(Cls.paramSpecs).sort());
  const ref = allEstimates(new Cls(base).fit(ts));
  for (const [name, change] of Object.entries(variants)) {
    const other = allEstimates(new Cls({ ...base, ...change }).fit(ts));
    if (maxAbsDiff(ref, other) === 0)
      throw new Error(`parameter ${name} did not change the estimates`);
  }
}

/** Fits, exports the state, restores it into a new instance and expects the same estimates. */
export function expectStateRoundTrip(
  Cls: AlgorithmClass,
  params: Record<string, unknown>,
  ts: Trainset,
): void {
  const a = new Cls(params).fit(ts);
  const b = new Cls(params).restore(ts, a.exportState());
  expect(allEstimates(b)).toEqual(allEstimates(a));
  expect(b.predict('nobody', 'nothing', null, false)).toEqual(
    a.predict('nobody', 'nothing', null, false),
  );
}
