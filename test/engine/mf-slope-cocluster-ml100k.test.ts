/**
 * Acceptance of SVDpp, NMF, SlopeOne and CoClustering on MovieLens 100K's predefined folds u1…u5
 * (mean over the five folds) against Surprise 1.1.4's figures on the same folds (issue 6).
 * Fails, naming $REELGRAPH_DATASETS, when the data set is missing. Timings are in bench/svdpp-nmf-slopeone-coclustering.ts.
 */
import * as path from 'node:path';
import { Dataset, Reader } from '../../src/engine/dataset';
import { crossValidate } from '../../src/engine/model-selection/validation';
import { PredefinedKFold } from '../../src/engine/model-selection/split';
import { SVDpp, NMF, SlopeOne, CoClustering, type AlgoBase } from '../../src/engine/algorithms';
import { ML100K_DIR, describeMl100k } from './helpers';

const DIR = ML100K_DIR;
const maybe = describeMl100k;

maybe('ml-100k predefined folds u1–u5 (Surprise 1.1.4 figures)', () => {
  let data: Dataset;
  beforeAll(() => {
    data = Dataset.loadFromFolds(
      [1, 2, 3, 4, 5].map(
        (k) => [path.join(DIR, `u${k}.base`), path.join(DIR, `u${k}.test`)] as [string, string],
      ),
      Reader.builtin('ml-100k'),
    );
  });

  function expectScores(make: () => AlgoBase, rmse: number, mae: number, tol: number): void {
    const r = crossValidate(make, data, { cv: new PredefinedKFold() });
    expect(r.nSplits).toBe(5);
    expect(Math.abs(r.mean.testRmse! - rmse)).toBeLessThanOrEqual(tol);
    expect(Math.abs(r.mean.testMae! - mae)).toBeLessThanOrEqual(tol);
  }

  it('SlopeOne (deterministic): RMSE 0.9470, MAE 0.7439 to the 4 decimals given', () => {
    expectScores(() => new SlopeOne(), 0.947, 0.7439, 0.00005);
  });

  it('SVDpp: RMSE 0.9218 ± 0.004, MAE 0.7238 ± 0.004', () => {
    expectScores(() => new SVDpp({ randomState: 0 }), 0.9218, 0.7238, 0.004);
  });

  it('NMF: RMSE 0.9689 ± 0.004, MAE 0.7619 ± 0.004', () => {
    expectScores(() => new NMF({ randomState: 0 }), 0.9689, 0.7619, 0.004);
  });

  it('CoClustering: RMSE 0.9629 ± 0.004, MAE 0.7542 ± 0.004', () => {
    expectScores(() => new CoClustering({ randomState: 0 }), 0.9629, 0.7542, 0.004);
  });
});
