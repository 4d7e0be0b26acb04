/**
 * The one-pass top-N of factor models (src/engine/factor-top-n.ts) gives exactly `recommend`'s
 * list (same ids, same bits, same tie order) for every user of a seeded synthetic set, for SVD
 * (biased and not), SVDpp and NMF, with and without the rated movies, and with a filter.
 */
import { SVD } from '../../src/engine/algorithms/svd';
import { SVDpp } from '../../src/engine/algorithms/svdpp';
import { NMF } from '../../src/engine/algorithms/nmf';
import type { FactorModel } from '../../src/engine/algorithms/factor-model';
import { factorRecommend } from '../../src/engine/factor-top-n';
import { recommend } from '../../src/engine/top-n';
import { syntheticRows } from '../helpers/synthetic-ratings';
import { trainsetOf } from './helpers';

const SEED = 3;

describe('factor-model top-N in one pass', () => {
  const ts = trainsetOf(syntheticRows(SEED, 30, 40, 0.4));
  const models: Array<[string, FactorModel]> = [
    ['SVD', new SVD({ nFactors: 8, nEpochs: 5, randomState: SEED }).fit(ts)],
    [
      'SVD unbiased',
      new SVD({ nFactors: 8, nEpochs: 5, biased: false, randomState: SEED }).fit(ts),
    ],
    ['SVDpp', new SVDpp({ nFactors: 4, nEpochs: 3, randomState: SEED }).fit(ts)],
    ['NMF', new NMF({ nFactors: 6, nEpochs: 10, randomState: SEED }).fit(ts)],
  ];

  it.each(models)('ranks as recommend does for %s (seed 3)', (_name, algo) => {
    for (let u = 0; u < ts.nUsers; u++) {
      const uid = ts.toRawUid(u);
      for (const excludeRated of [true, false]) {
        expect(factorRecommend(algo, u, 7, excludeRated)).toEqual(
          recommend(algo, uid, { k: 7, excludeRated }),
        );
      }
      const even = (i: number) => Number(ts.toRawIid(i).slice(1)) % 2 === 0;
      expect(factorRecommend(algo, u, 5, true, even)).toEqual(
        recommend(algo, uid, { k: ts.nItems, excludeRated: true })
          .filter((r) => Number(r.iid.slice(1)) % 2 === 0)
          .slice(0, 5),
      );
    }
  });

  it('keeps the exact order among many estimates clipped to the top of the scale (ties by id)', () => {
    const algo = new SVD({ nFactors: 8, nEpochs: 5, randomState: SEED }).fit(ts);
    algo.bi = algo.bi.map((b, i) => (i % 3 === 0 ? b + 3 : b)); // a third of the movies clip at 5
    for (let u = 0; u < ts.nUsers; u++) {
      expect(factorRecommend(algo, u, 10, true)).toEqual(
        recommend(algo, ts.toRawUid(u), { k: 10, excludeRated: true }),
      );
    }
  });
});
