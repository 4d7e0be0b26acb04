/**
 * Acceptance on MovieLens 100K's predefined folds u1…u5 (mean over the five folds), against the
 * figures Surprise 1.1.4 gives on the same folds. Fails, naming $REELGRAPH_DATASETS, when the data set is missing.
 */
import * as path from 'node:path';
import { Dataset, Reader } from '../../src/engine/dataset';
import { Trainset } from '../../src/engine/trainset';
import { BaselineOnly, NormalPredictor, SVD, type AlgoBase } from '../../src/engine/algorithms';
import { mae, rmse } from '../../src/engine/metrics';
import { ML100K_DIR, describeMl100k } from './helpers';

const DIR = ML100K_DIR;
const maybe = describeMl100k;

maybe('ml-100k predefined folds u1–u5 (Surprise 1.1.4 figures)', () => {
  let folds: { train: Trainset; test: [string, string, number][] }[] = [];

  beforeAll(() => {
    const ds = Dataset.loadFromFolds(
      [1, 2, 3, 4, 5].map(
        (k) => [path.join(DIR, `u${k}.base`), path.join(DIR, `u${k}.test`)] as const,
      ),
      Reader.builtin('ml-100k'),
    );
    folds = ds.folds!.map((f) => ({
      train: Trainset.build(f.train, ds.ratingScale),
      test: f.test.toTestset(),
    }));
  });

  function meanScores(make: () => AlgoBase): { rmse: number; mae: number } {
    let r = 0;
    let m = 0;
    for (const f of folds) {
      const preds = make().fit(f.train).test(f.test);
      r += rmse(preds);
      m += mae(preds);
    }
    return { rmse: r / folds.length, mae: m / folds.length };
  }

  it('BaselineOnly ALS: RMSE 0.9457, MAE 0.7499', () => {
    const s = meanScores(() => new BaselineOnly());
    expect(Math.abs(s.rmse - 0.9457)).toBeLessThanOrEqual(0.00005);
    expect(Math.abs(s.mae - 0.7499)).toBeLessThanOrEqual(0.00005);
  });

  it('BaselineOnly SGD: RMSE 0.9431, MAE 0.7444', () => {
    const s = meanScores(() => new BaselineOnly({ bslOptions: { method: 'sgd' } }));
    expect(Math.abs(s.rmse - 0.9431)).toBeLessThanOrEqual(0.00005);
    expect(Math.abs(s.mae - 0.7444)).toBeLessThanOrEqual(0.00005);
  });

  it('SVD: RMSE 0.9380 ± 0.004, MAE 0.7390 ± 0.004', () => {
    const s = meanScores(() => new SVD({ randomState: 0 }));
    expect(Math.abs(s.rmse - 0.938)).toBeLessThanOrEqual(0.004);
    expect(Math.abs(s.mae - 0.739)).toBeLessThanOrEqual(0.004);
  });

  it('NormalPredictor: RMSE 1.5199 ± 0.02', () => {
    const s = meanScores(() => new NormalPredictor({ randomState: 0 }));
    expect(Math.abs(s.rmse - 1.5199)).toBeLessThanOrEqual(0.02);
  });
});
