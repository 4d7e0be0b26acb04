/**
 * The one-pass top-N of factor models (src/engine/factor-top-n.ts) gives exactly `recommend`'s
 * list (same ids, same bits, same tie order) for every user of a seeded synthetic set, for SVD
 * (biased and not), SVDpp and NMF, with and without the rated movies, and with a filter; and on
 * ml-100k u1.base (SVD, 100 factors) exactly the top of a full float64 sort of every movie by the
 * model's own `predict`, for every user — the float32 first pass never changes an answer.
 */
import { SVD } from '../../src/engine/algorithms/svd';
import { SVDpp } from '../../src/engine/algorithms/svdpp';
import { NMF } from '../../src/engine/algorithms/nmf';
import type { FactorModel } from '../../src/engine/algorithms/factor-model';
import * as path from 'node:path';
import { Dataset, Reader } from '../../src/engine/dataset';
import { factorRecommend, factorTopKCounts } from '../../src/engine/factor-top-n';
import { loadModel, saveModel } from '../../src/engine/model-file';
import { Trainset } from '../../src/engine/trainset';
import { recommend } from '../../src/engine/top-n';
import { syntheticRows } from '../helpers/synthetic-ratings';
import { ML100K_DIR, describeMl100k, trainsetOf } from './helpers';

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

describeMl100k('factor-model top-N on ml-100k: float32 first pass, float64 answers', () => {
  /** Every unrated movie by the model's own `predict` (clipped, float64), fully sorted. */
  const fullSort = (algo: FactorModel, u: number, exclude: boolean) => {
    const ts = algo.trainset;
    const rated = new Set(exclude ? ts.ur(u).items : []);
    const uid = ts.toRawUid(u);
    const all: { iid: string; est: number; i: number }[] = [];
    for (let i = 0; i < ts.nItems; i++) {
      if (rated.has(i)) continue;
      all.push({ iid: ts.toRawIid(i), est: algo.predict(uid, ts.toRawIid(i)).est, i });
    }
    all.sort((a, b) => b.est - a.est || a.i - b.i);
    return all.map(({ iid, est }) => ({ iid, est }));
  };
  let ts: Trainset;
  let svd: SVD;
  beforeAll(() => {
    const ds = Dataset.loadFromFolds(
      [[path.join(ML100K_DIR, 'u1.base'), path.join(ML100K_DIR, 'u1.test')]],
      Reader.builtin('ml-100k'),
    );
    ts = Trainset.build(ds.folds![0].train, ds.ratingScale);
    console.log(`SVD seed ${SEED} on ml-100k u1.base`);
    svd = new SVD({ nFactors: 100, nEpochs: 20, randomState: SEED }).fit(ts);
  });

  it('answers every third user of u1.base with the full float64 sort’s top 10 and top 50, bit for bit', () => {
    const before = { ...factorTopKCounts };
    let users = 0;
    for (let u = 0; u < ts.nUsers; u += 3) {
      users++;
      const all = fullSort(svd, u, false);
      const rated = new Set(Array.from(ts.ur(u).items, (i) => ts.toRawIid(i)));
      const unrated = all.filter((r) => !rated.has(r.iid));
      for (const [exclude, ref] of [
        [false, all],
        [true, unrated],
      ] as const) {
        expect(factorRecommend(svd, u, 10, exclude)).toEqual(ref.slice(0, 10));
        expect(factorRecommend(svd, u, 50, exclude)).toEqual(ref.slice(0, 50));
      }
    }
    expect(factorTopKCounts.calls - before.calls).toBe(4 * users);
  });

  it('orders near-ties finer than float32 by the exact estimates (50 movies 1e-10 apart)', () => {
    const m = loadModel(saveModel(svd)) as SVD;
    const nF = m.nFactors;
    const q0 = m.qi.slice(0, nF);
    const dot = (u: number) => {
      let s = 0;
      for (let f = 0; f < nF; f++) s += q0[f] * m.pu[u * nF + f];
      return s;
    };
    let u = 0;
    while (dot(u) < 0.5) u++;
    // movies 0…49: item 0's factors scaled by 1 + t·1e-10 (equal in float32), biases putting them
    // at 3 + t·1e-10·dot; every other movie far below (clipped at 1)
    const d = dot(u);
    for (let i = 0; i < m.trainset.nItems; i++) {
      if (i < 50) {
        for (let f = 0; f < nF; f++) m.qi[i * nF + f] = q0[f] * (1 + i * 1e-10);
        m.bi[i] = 3 - m.trainset.globalMean - m.bu[u] - d;
      } else m.bi[i] = -20;
    }
    const ref = fullSort(m, u, false);
    // the exact order is by t descending: movies 49, 48, … (inner ids)
    expect(ref.slice(0, 10).map((r) => m.trainset.findItem(r.iid))).toEqual(
      Array.from({ length: 10 }, (_, t) => 49 - t),
    );
    expect(factorRecommend(m, u, 10, false)).toEqual(ref.slice(0, 10));
  });

  it('stays exact when a third of the movies clip at 5 (the second float32 pass breaks the ties)', () => {
    const tied = loadModel(saveModel(svd)) as SVD;
    tied.bi = tied.bi.map((b, i) => (i % 3 === 0 ? b + 3 : b));
    const before = { ...factorTopKCounts };
    for (let u = 0; u < ts.nUsers; u += 9) {
      expect(factorRecommend(tied, u, 10, true)).toEqual(fullSort(tied, u, true).slice(0, 10));
    }
    // the near-tie path really ran
    expect(factorTopKCounts.secondPasses - before.secondPasses).toBeGreaterThan(0);
  });
});
