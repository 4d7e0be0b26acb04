/**
 * k-NN with sparse similarity rows (similarityStorage 'sparse'): the same estimates, details and
 * neighbour rankings, bit for bit, as the dense matrix on MovieLens 100K's u1 fold, for every
 * similarity and both orientations; a model file round trip; `auto` choosing sparse when the
 * dense matrix exceeds the budget; and a clear error naming the bytes when neither fits.
 */
import * as path from 'node:path';
import { Dataset } from '../../src/engine/dataset/dataset';
import { Reader } from '../../src/engine/dataset/reader';
import {
  KNNBasic,
  KNNBaseline,
  KNNWithMeans,
  KNNWithZScore,
  type SymmetricAlgo,
} from '../../src/engine/algorithms/knn';
import { registerAlgorithm } from '../../src/engine/algorithms/registry';
import { saveModel, loadModel } from '../../src/engine/model-file';
import {
  SparseSimilarityBudgetError,
  coRatedPairsBound,
} from '../../src/engine/sparse-similarities';
import type { Trainset } from '../../src/engine/trainset';
import { ML100K_DIR, describeMl100k } from './helpers';

for (const c of [KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline]) registerAlgorithm(c);

type Make = (p: Record<string, unknown>) => SymmetricAlgo;
const CASES: Array<[string, Make, Record<string, unknown>]> = [
  ['KNNBasic msd user-based', (p) => new KNNBasic(p), {}],
  [
    'KNNBasic cosine item-based',
    (p) => new KNNBasic(p),
    { simOptions: { name: 'cosine', userBased: false } },
  ],
  [
    'KNNWithMeans pearson user-based',
    (p) => new KNNWithMeans(p),
    { simOptions: { name: 'pearson' } },
  ],
  [
    'KNNWithZScore msd item-based, minSupport 3',
    (p) => new KNNWithZScore(p),
    { simOptions: { userBased: false, minSupport: 3 } },
  ],
  [
    'KNNBaseline pearson_baseline item-based',
    (p) => new KNNBaseline(p),
    { simOptions: { name: 'pearson_baseline', userBased: false } },
  ],
  [
    'KNNBaseline pearson_baseline user-based, k 10',
    (p) => new KNNBaseline(p),
    { k: 10, simOptions: { name: 'pearson_baseline' } },
  ],
];

describeMl100k('k-NN with sparse similarity rows', () => {
  let train: Trainset;
  let test: Array<[string, string, number]>;
  beforeAll(() => {
    const ds = Dataset.loadFromFolds(
      [[path.join(ML100K_DIR, 'u1.base'), path.join(ML100K_DIR, 'u1.test')]],
      Reader.builtin('ml-100k'),
    );
    train = Dataset.loadFromRawRatings(ds.folds![0].train, [1, 5]).buildFullTrainset();
    test = ds.folds![0].test.toTestset();
  });

  it.each(CASES)('%s: answers the same estimates as the dense matrix on u1', (_n, make, params) => {
    const dense = make({ ...params, similarityStorage: 'dense' }).fit(train);
    const sparse = make({ ...params, similarityStorage: 'sparse' }).fit(train);
    expect(dense.similarityIsSparse).toBe(false);
    expect(sparse.similarityIsSparse).toBe(true);
    const a = dense.test(test);
    const b = sparse.test(test);
    let differ = 0;
    for (let k = 0; k < a.length; k++) {
      if (!Object.is(a[k].est, b[k].est) || a[k].details.actualK !== b[k].details.actualK) differ++;
    }
    expect(differ).toBe(0);
    // the predictions are real: most have neighbours
    expect(a.filter((p) => (p.details.actualK as number) > 0).length).toBeGreaterThan(15_000);
    // rows agree with the dense matrix everywhere (absent = 0, diagonal 1)
    const n = dense.similarityMatrix.length ** 0.5;
    for (const x of [0, 1, 17, n - 1]) {
      expect([...sparse.similarityRow(x)]).toEqual([...dense.similarityRow(x)]);
      expect(sparse.getNeighbors(x, 25)).toEqual(dense.getNeighbors(x, 25));
    }
  });

  it('round-trips sparse rows through a model file with identical predictions', () => {
    const algo = new KNNBaseline({
      simOptions: { name: 'pearson_baseline', userBased: false },
      similarityStorage: 'sparse',
    }).fit(train);
    const loaded = loadModel(saveModel(algo)) as SymmetricAlgo;
    expect(loaded.similarityIsSparse).toBe(true);
    expect(loaded.similarityBytes).toBe(algo.similarityBytes);
    for (const [u, i] of test.slice(0, 500))
      expect(loaded.predict(u, i)).toEqual(algo.predict(u, i));
  });

  it('auto stores sparse rows when the dense matrix exceeds the budget, dense otherwise', () => {
    const nItems = train.nItems;
    const denseBytes = nItems * nItems * 8;
    const roomy = new KNNBasic({
      simOptions: { userBased: false },
      memoryBudgetBytes: denseBytes,
    }).fit(train);
    expect(roomy.similarityIsSparse).toBe(false);
    // sparse rows of item-based msd on u1: at most 2 × 12 bytes per co-rated pair
    const bound = coRatedPairsBound(train, false);
    const tight = new KNNBasic({
      simOptions: { userBased: false, minSupport: 30 },
      memoryBudgetBytes: denseBytes - 1,
    }).fit(train);
    expect(tight.similarityIsSparse).toBe(true);
    expect(tight.similarityBytes).toBeLessThan(denseBytes);
    expect(tight.similarityBytes).toBeLessThanOrEqual(bound * 24 + (nItems + 1) * 4);
  });

  it('refuses with an error naming the bytes needed when neither dense nor sparse fits', () => {
    const algo = new KNNBasic({ simOptions: { userBased: false }, memoryBudgetBytes: 1_000_000 });
    let err: unknown;
    try {
      algo.fit(train);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SparseSimilarityBudgetError);
    const e = err as SparseSimilarityBudgetError;
    expect(e.neededBytes).toBeGreaterThan(1_000_000);
    expect(e.denseBytes).toBe(train.nItems * train.nItems * 8);
    expect(e.message).toMatch(/item similarities over 1650 items need at least .* as sparse rows/);
    expect(e.message).toContain('memory budget is 976.6 KiB (1000000 bytes)');
  });
});
