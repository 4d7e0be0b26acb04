/**
 * Fold-in for the k-NN family (src/engine/knn-fold-in.ts through engine/fold-in.ts), on a seeded
 * synthetic trainset (seed printed):
 * - user-based: a new user's folded estimates equal those of the same algorithm refitted on the
 *   trainset plus the user's ratings (the user's ratings change only the user's own similarities
 *   and mean, so the refit is the independent reference), for msd, cosine and pearson;
 * - item-based: the estimate is Surprise's formula over the user's new ratings with the trained
 *   item similarities and means, worked out here from the model's own arrays;
 * - KNNBaseline folds b_u with ALS's user step; user-based pearson_baseline without kept baselines
 *   is refused, naming the algorithm.
 */
import { KNNBasic, KNNBaseline, KNNWithMeans } from '../../src/engine/algorithms/knn';
import type { AlgoBase } from '../../src/engine/algorithms/base';
import { canFoldIn, estimateFoldedResult, foldInUser } from '../../src/engine/fold-in';
import { loadModel, saveModel } from '../../src/engine/model-file';
import { syntheticRows, type Row } from '../helpers/synthetic-ratings';
import { trainsetOf } from './helpers';

const SEED = 31;
const rows = syntheticRows(SEED, 40, 25, 0.45);
const mine: Row[] = [
  ['new', 'i0', 5],
  ['new', 'i3', 2],
  ['new', 'i7', 4],
  ['new', 'i12', 1],
  ['new', 'i20', 3],
];
const unrated = ['i1', 'i2', 'i5', 'i9', 'i14', 'i24'];

beforeAll(() => console.log(`knn fold-in test: synthetic ratings seed ${SEED}`));

function folded(algo: AlgoBase, movieId: string) {
  const f = foldInUser(algo, new Map(mine.map(([, m, r]) => [m, r])), 'new')!;
  return estimateFoldedResult(algo, f, algo.trainset.findItem(movieId));
}

describe.each([
  ['KNNBasic', (o: Record<string, unknown>) => new KNNBasic(o)],
  ['KNNWithMeans', (o: Record<string, unknown>) => new KNNWithMeans(o)],
])('%s user-based', (_name, make) => {
  it.each(['msd', 'cosine', 'pearson'])(
    'answers a new user with %s as a refit on their ratings would',
    (sim) => {
      const params = { k: 5, simOptions: { name: sim, userBased: true } };
      const algo = make(params).fit(trainsetOf(rows));
      const refit = make(params).fit(trainsetOf([...rows, ...mine]));
      // the same from the model file (format 2: item rows rebuilt on first use)
      const served = loadModel(saveModel(algo));
      for (const m of unrated) {
        const got = folded(algo, m);
        const want = refit.predict('new', m, null, false);
        expect(got.impossible).toBe(want.details.wasImpossible);
        if (!got.impossible) expect(got.est).toBeCloseTo(want.est, 12);
        expect(folded(served, m)).toEqual(got);
      }
    },
  );
});

it('answers item-based KNNWithMeans from the trained item similarities and means over the new ratings', () => {
  const algo = new KNNWithMeans({ k: 3, simOptions: { name: 'msd', userBased: false } }).fit(
    trainsetOf(rows),
  );
  const ts = algo.trainset;
  for (const m of unrated) {
    const i = ts.findItem(m);
    const row = algo.similarityRow(i);
    // the 3 rated items most similar to i (stable), those with sim > 0 contributing
    const cands = mine
      .map(([, j, r]) => ({ j: ts.findItem(j), r }))
      .sort((a, b) => row[b.j] - row[a.j])
      .slice(0, 3)
      .filter((c) => row[c.j] > 0);
    let num = 0;
    let den = 0;
    for (const c of cands) {
      num += row[c.j] * (c.r - algo.means[c.j]);
      den += row[c.j];
    }
    expect(folded(algo, m).est).toBeCloseTo(algo.means[i] + num / den, 12);
  }
});

it("folds KNNBaseline's user bias with ALS's user step and answers around it", () => {
  const algo = new KNNBaseline({
    k: 5,
    simOptions: { name: 'pearson_baseline', userBased: true },
    bslOptions: { method: 'als', regU: 15 },
  }).fit(trainsetOf(rows));
  const ts = algo.trainset;
  const f = foldInUser(algo, new Map(mine.map(([, m, r]) => [m, r])), 'new')!;
  let s = 0;
  for (const [, m, r] of mine) s += r - ts.globalMean - algo.bi[ts.findItem(m)];
  expect(f.bu).toBeCloseTo(s / (15 + mine.length), 12);
  // a movie nobody similar rated is answered by the baseline μ + b_u + b_i
  const est = folded(algo, 'i1').est;
  expect(Number.isFinite(est)).toBe(true);
  expect(folded(algo, 'unknown-movie')).toEqual({
    est: ts.globalMean + f.bu,
    impossible: true,
    reason: 'Item unknown',
  });
});

it('refuses user-based pearson_baseline for the k-NN algorithms that keep no baselines', () => {
  const algo = new KNNBasic({ simOptions: { name: 'pearson_baseline', userBased: true } }).fit(
    trainsetOf(rows),
  );
  expect(canFoldIn(algo)).toBe(false);
  expect(() => foldInUser(algo, new Map([['i0', 5]]))).toThrow(/KNNBasic cannot fold users in/);
});
