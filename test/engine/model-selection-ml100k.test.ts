/**
 * Model selection on MovieLens 100K (read from REELGRAPH_DATASETS or ../shared/datasets; never
 * downloaded here): PredefinedKFold over u1…u5, and the acceptance figures for the
 * deterministic BaselineOnly (ALS and SGD), which Surprise 1.1.4 gives as
 * ALS RMSE 0.9457 / MAE 0.7499 and SGD 0.9431 / 0.7444 (mean over the 5 predefined folds).
 */
import * as path from 'node:path';
import '../../src/engine/algorithms';
import { Dataset, predefinedFolds } from '../../src/engine/dataset';
import { crossValidate, KFold, PredefinedKFold } from '../../src/engine/model-selection';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const opts = { datasetsDir, download: false, progress: false as const };

let folds: Dataset;
beforeAll(async () => {
  folds = await predefinedFolds('ml-100k', opts);
});

describe('PredefinedKFold on ml-100k', () => {
  it('yields u1…u5: 80 000 training and 20 000 test ratings each, tests partitioning u.data', () => {
    const pk = new PredefinedKFold();
    expect(pk.getNSplits(folds)).toBe(5);
    const seen = new Set<string>();
    let k = 0;
    for (const [trainset, testset] of pk.split(folds)) {
      k++;
      expect(trainset.nRatings).toBe(80000);
      expect(testset).toHaveLength(20000);
      for (const [u, i] of testset) seen.add(`${u}:${i}`);
      if (k === 1) {
        // u1.base starts "1 1 5 …", "1 2 3 …"; u1.test starts "1 6 5 …"
        expect([trainset.toRawUid(0), trainset.toRawIid(0), trainset.toRawIid(1)]).toEqual([
          '1',
          '1',
          '2',
        ]);
        expect(trainset.ur(0).ratings.slice(0, 2)).toEqual(Float64Array.of(5, 3));
        expect(testset[0]).toEqual(['1', '6', 5]);
      }
    }
    expect(k).toBe(5);
    expect(seen.size).toBe(100000);
  });
});

describe('acceptance: BaselineOnly on the predefined folds (Surprise 1.1.4 figures)', () => {
  it.each([
    ['als', 0.9457, 0.7499],
    ['sgd', 0.9431, 0.7444],
  ])('%s: mean RMSE %d, MAE %d to 1e-4', (method, wantRmse, wantMae) => {
    const r = crossValidate({ name: 'BaselineOnly', params: { bslOptions: { method } } }, folds, {
      cv: new PredefinedKFold(),
    });
    expect(r.nSplits).toBe(5);
    expect(Math.abs(r.mean.testRmse! - wantRmse)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(r.mean.testMae! - wantMae)).toBeLessThanOrEqual(1e-4);
  });
});

describe('SVD sanity on a 2-fold KFold of u.data', () => {
  it('learns: RMSE well below the global-mean baseline, and the same seed gives the same figures', async () => {
    const data = await Dataset.loadBuiltin('ml-100k', opts);
    const run = () =>
      crossValidate({ name: 'SVD', params: { nEpochs: 5, randomState: 0 } }, data, {
        cv: new KFold({ nSplits: 2, randomState: 0 }),
      });
    const a = run();
    // A constant prediction has RMSE ≈ std of the ratings (≈ 1.126 on ml-100k).
    expect(a.mean.testRmse!).toBeLessThan(1.0);
    expect(a.mean.testRmse!).toBeGreaterThan(0.85);
    expect(run().testRmse).toEqual(a.testRmse);
  });
});
