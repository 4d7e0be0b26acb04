/**
 * The fold-in overlay (src/engine/fold-in-overlay.ts): what it holds per model version, its bounds, and
 * what a retrain keeps. The model is a BaselineOnly on a tiny trainset, whose fold-in is
 * b_u = Σ (r − μ − b_i) / (regU + n) (ALS's user step; worked out by hand below).
 */
import { BaselineOnly } from '../../src/engine/algorithms/baseline-only';
import { loadModel, readModelHeader, saveModel } from '../../src/engine/model-file';
import { FoldInOverlay } from '../../src/engine/fold-in-overlay';
import { trainsetOf } from './helpers';

// μ = 3; BaselineOnly with regU 1, b_i set by hand: i0 +1, i1 −1
function model(): BaselineOnly {
  const algo = new BaselineOnly({ bslOptions: { method: 'als', regU: 1 } }).fit(
    trainsetOf([
      ['a', 'i0', 4],
      ['a', 'i1', 2],
      ['b', 'i0', 3],
    ]),
  );
  algo.bi = Float64Array.from([1, -1]);
  return algo;
}
const r = (userId: string, movieId: string, rating: number) => ({ userId, movieId, rating });

describe('fold-in overlay', () => {
  it("folds a user's trainset ratings with the newer ones over them, last rating winning", () => {
    const o = new FoldInOverlay({ algo: model() }, 100);
    expect(o.add([r('a', 'i0', 5), r('new', 'i1', 1), r('a', 'i0', 2)], 200)).toEqual(['a', 'new']);
    // a: i0 → 2 (last wins over 5 and the trainset's 4), i1 → 2: (2−3−1) + (2−3+1) = −2; n = 2
    expect(o.get('a')!.folded!.bu).toBeCloseTo(-2 / 3, 14);
    // new: i1 → 1: (1 − 3 + 1) / (1 + 1)
    expect(o.get('new')!.folded!.bu).toBeCloseTo(-0.5, 14);
    expect(o.get('b')).toBeUndefined();
    expect(o.ratingsHeld).toBe(3);
  });

  it('applies batches in commit order whatever order they arrive in (the last committed rating wins)', () => {
    const o = new FoldInOverlay({ algo: model() }, 100);
    o.add([r('late', 'i0', 1)], 300); // committed second, arrives first
    o.add([r('late', 'i0', 5)], 200);
    // i0 → 1 (the commit at 300 wins): (1 − 3 − 1) / (1 + 1)
    expect(o.get('late')!.folded!.bu).toBeCloseTo(-1.5, 14);
  });

  it('folds the same from a model loaded from a version 2 file (float32 ratings, no item rows)', () => {
    const bytes = saveModel(model());
    const h = readModelHeader(bytes);
    expect(h.formatVersion).toBe(2);
    expect(h.arrays.find((a) => a.name === 'trainset.urRatings')!.dtype).toBe('float32');
    expect(h.arrays.some((a) => a.name === 'trainset.irUsers')).toBe(false);
    const o = new FoldInOverlay({ algo: loadModel(bytes) }, 100);
    o.add([r('a', 'i0', 5), r('new', 'i1', 1), r('a', 'i0', 2)], 200);
    // the same hand-worked values as above: the user's stored ratings come from the file
    expect(o.get('a')!.folded!.bu).toBeCloseTo(-2 / 3, 14);
    expect(o.get('new')!.folded!.bu).toBeCloseTo(-0.5, 14);
    // b: the stored rating (i0 → 3, read from the file) and a new one of i1
    o.add([r('b', 'i1', 4)], 300);
    // i0 → 3: 3 − 3 − 1 = −1; i1 → 4: 4 − 3 + 1 = 2; n = 2: (−1 + 2) / 3
    expect(o.get('b')!.folded!.bu).toBeCloseTo(1 / 3, 14);
  });

  it('ignores a batch the model already includes (committed at or before its training commit)', () => {
    const o = new FoldInOverlay({ algo: model() }, 100);
    expect(o.add([r('new', 'i1', 1)], 100)).toEqual([]);
    expect(o.get('new')).toBeUndefined();
  });

  it('keeps after a retrain only the batches the new model did not see, re-folded against it', () => {
    const o = new FoldInOverlay({ algo: model() }, 100);
    o.add([r('x', 'i0', 5)], 200);
    o.add([r('y', 'i0', 1)], 300);
    o.add([r('x', 'i1', 5)], 400);
    const newer = model();
    newer.bi = Float64Array.from([0, 0]);
    const next = o.rebase({ algo: newer }, 300);
    expect(next.get('y')).toBeUndefined();
    // x keeps only the batch at 400: i1 → 5: (5 − 3 − 0) / (1 + 1) = 1
    expect(next.get('x')!.folded!.bu).toBeCloseTo(1, 14);
    expect(next.size).toBe(1);
    expect(next.ratingsHeld).toBe(1);
    // the old overlay is unchanged (queries in flight on the old model keep it)
    expect(o.size).toBe(2);
  });

  it('drops the users folded longest ago past its user and rating caps', () => {
    const caps = { maxUsers: 2, maxRatings: 3, maxUsersPerBatch: 2 };
    const o = new FoldInOverlay({ algo: model() }, 0, caps);
    expect(o.add([r('p', 'i0', 5), r('q', 'i0', 5), r('s', 'i0', 5)], 1)).toEqual(['p', 'q']);
    o.add([r('t', 'i0', 5)], 2); // 3 users > 2: p goes
    expect(o.get('p')).toBeUndefined();
    expect(o.size).toBe(2);
    o.add([r('q', 'i1', 1), r('q', 'i0', 1)], 3); // q refreshed: 4 ratings > 3: t goes
    expect(o.get('t')).toBeUndefined();
    expect(o.get('q')).toBeDefined();
    expect(o.ratingsHeld).toBe(3);
  });

  it('solves each fold once until the user rates again', () => {
    const o = new FoldInOverlay({ algo: model() }, 0);
    o.add([r('a', 'i0', 5)], 1);
    o.get('a');
    o.get('a');
    expect(o.solves).toBe(1);
    o.add([r('a', 'i1', 5)], 2);
    o.get('a');
    expect(o.solves).toBe(2);
  });

  it('takes a removed batch out: its users fold from their other batches, or leave', () => {
    const o = new FoldInOverlay({ algo: model() }, 0);
    o.add([r('x', 'i0', 5), r('y', 'i0', 1)], 1, 'b1');
    o.add([r('x', 'i1', 1)], 2, 'b2');
    expect(o.remove('b1')).toBe(2);
    expect(o.get('y')).toBeUndefined();
    // x keeps b2 only: i1 → 1: (1 − 3 + 1) / (1 + 1)
    expect(o.get('x')!.folded!.bu).toBeCloseTo(-0.5, 14);
    expect(o.ratingsHeld).toBe(1);
    expect(o.remove('b1')).toBe(0);
  });
});
