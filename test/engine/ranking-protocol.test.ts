import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { stratifiedSplit } from '../../src/engine/model-selection/stratified-split';
import { RandomState } from '../../src/engine/random';
import { MostPopular } from '../../src/engine/rankers';
import {
  evaluateRanking,
  scorerOfRanker,
  userRankingFigures,
} from '../../src/engine/ranking-protocol';
import { trainsetOf } from './helpers';

const log2 = Math.log2;

describe('userRankingFigures', () => {
  it('answers the hand-computed figures of a user with more test items than hits', () => {
    // k = 3, ranked [hit, miss, hit], 2 test items:
    // precision 2/3; recall 2/2; DCG = 1/log2(2) + 1/log2(4) = 1.5, IDCG = 1 + 1/log2(3);
    // MAP = (1/1 + 2/3) / 2; MAP@k divides by min(3, 2) = 2 too.
    const f = userRankingFigures([true, false, true], 2, 3);
    expect(f.precision).toBeCloseTo(2 / 3, 12);
    expect(f.recall).toBeCloseTo(1, 12);
    expect(f.ndcg).toBeCloseTo(1.5 / (1 + 1 / log2(3)), 12);
    expect(f.map).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(f.mapAtK).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(f.hit).toBe(1);
  });

  it('answers a user with fewer test items than k: precision still over k, IDCG over the test items', () => {
    // k = 4, ranked [miss, hit, miss, miss], 1 test item: precision 1/4, recall 1,
    // NDCG = (1/log2(3)) / 1, MAP = (1/2) / 1, MAP@k = (1/2) / min(4, 1).
    const f = userRankingFigures([false, true, false, false], 1, 4);
    expect(f.precision).toBeCloseTo(0.25, 12);
    expect(f.recall).toBeCloseTo(1, 12);
    expect(f.ndcg).toBeCloseTo(1 / log2(3), 12);
    expect(f.map).toBeCloseTo(0.5, 12);
    expect(f.mapAtK).toBeCloseTo(0.5, 12);
  });

  it('divides MAP by all test items and MAP@k by at most k', () => {
    // k = 2, ranked [hit, hit], 5 test items: rr = 1 + 1 = 2; MAP 2/5; MAP@k 2/2.
    const f = userRankingFigures([true, true], 5, 2);
    expect(f.map).toBeCloseTo(0.4, 12);
    expect(f.mapAtK).toBeCloseTo(1, 12);
    expect(f.recall).toBeCloseTo(0.4, 12);
    expect(f.ndcg).toBeCloseTo(1, 12);
  });

  it('gives zeros to a user with no hit, and refuses a user with no test item', () => {
    expect(userRankingFigures([false, false], 3, 2)).toEqual({
      precision: 0,
      recall: 0,
      ndcg: 0,
      map: 0,
      mapAtK: 0,
      hit: 0,
    });
    expect(() => userRankingFigures([], 0, 2)).toThrow(/at least one relevant item/);
    expect(() => userRankingFigures([true, true, true], 3, 2)).toThrow(/3 items ranked for k = 2/);
  });
});

describe('evaluateRanking', () => {
  // Trainset popularity: i1 3, i2 2, i3 1, i4 1, i5 0 (i5 only in test) — MostPopular ranks
  // i1, i2, i3, i4 (ties by first appearance: i3 before i4).
  const ts = trainsetOf([
    ['a', 'i1', 5],
    ['b', 'i1', 4],
    ['c', 'i1', 3],
    ['a', 'i2', 2],
    ['b', 'i2', 4],
    ['c', 'i3', 1],
    ['d', 'i4', 5],
  ]);
  const pop = new MostPopular().fit(ts);

  it('ranks all unrated trainset items for each test user and averages over the users', () => {
    // k = 2. a rated i1, i2 → top [i3, i4]; test {i4, i5}: hits at 2 → P 1/2, R 1/2,
    //   NDCG (1/log2 3)/(1 + 1/log2 3), MAP (1/2)/2, hit 1.
    // b rated i1, i2 → top [i3, i4]; test {i3}: hit at 1 → P 1/2, R 1, NDCG 1, MAP 1.
    // d rated i4 → top [i1, i2]; test {i2, i3, i5}: hit at 2 → P 1/2, R 1/3,
    //   NDCG (1/log2 3)/(1 + 1/log2 3), MAP (1/2)/3.
    // 'zed' is unknown to the trainset: left out. Coverage: {i1, i2, i3, i4} / 4 items = 1.
    const test: [string, string, number][] = [
      ['a', 'i4', 4],
      ['a', 'i5', 1],
      ['b', 'i3', 2],
      ['d', 'i2', 3],
      ['d', 'i3', 5],
      ['d', 'i5', 4],
      ['zed', 'i1', 5],
    ];
    const f = evaluateRanking(scorerOfRanker(pop), ts, test, 2);
    const partial = 1 / log2(3) / (1 + 1 / log2(3));
    expect(f.algorithm).toBe('MostPopular');
    expect(f.nUsers).toBe(3);
    expect(f.precision).toBeCloseTo(0.5, 12);
    expect(f.recall).toBeCloseTo((1 / 2 + 1 + 1 / 3) / 3, 12);
    expect(f.ndcg).toBeCloseTo((partial + 1 + partial) / 3, 12);
    expect(f.map).toBeCloseTo((1 / 4 + 1 + 1 / 6) / 3, 12);
    expect(f.mapAtK).toBeCloseTo((1 / 4 + 1 + 1 / 4) / 3, 12);
    expect(f.hitRate).toBe(1);
    expect(f.coverage).toBe(1);
  });

  it('refuses a testset with no user known to the trainset', () => {
    expect(() => evaluateRanking(scorerOfRanker(pop), ts, [['zed', 'i1', 5]], 2)).toThrow(
      /no user of the testset is known/,
    );
  });
});

describe('stratifiedSplit', () => {
  it("puts each user's ratings with the largest draws in test: ⌈c/4⌉ of c, a single rating in test", () => {
    const seed = 42;
    // Users with 4, 1, 2 and 7 ratings, interleaved.
    const users = ['u4', 'u1', 'u4', 'u2', 'u7', 'u4', 'u2', 'u4', ...Array(6).fill('u7')];
    const items = users.map((_, k) => `i${k}`);
    const raw = new RawRatings(users, items, new Float64Array(users.length).fill(3));
    const s = stratifiedSplit(raw, { testSize: 0.25, seed });
    // The draws are NumPy's np.random.seed(42); np.random.rand(n), one per rating in order.
    const rng = new RandomState(seed);
    const draws = users.map(() => rng.random());
    const expectedTest: number[] = [];
    for (const [uid, nTrain] of [
      ['u4', 3], // ranks 1/4, 2/4, 3/4 ≤ 0.75
      ['u1', 0], // 1/1 > 0.75
      ['u2', 1], // 1/2
      ['u7', 5], // 5/7 = 0.714 ≤ 0.75 < 6/7
    ] as const) {
      const mine = users.map((u, k) => k).filter((k) => users[k] === uid);
      mine.sort((a, b) => draws[a] - draws[b]);
      expectedTest.push(...mine.slice(nTrain));
    }
    expect(Array.from(s.test)).toEqual(expectedTest.sort((a, b) => a - b));
    expect(s.train.length + s.test.length).toBe(users.length);
    expect(new Set([...s.train, ...s.test]).size).toBe(users.length);
  });

  it('splits only the indices given, and refuses a test size outside (0, 1)', () => {
    const raw = new RawRatings(
      ['a', 'a', 'a', 'a', 'b'],
      ['1', '2', '3', '4', '5'],
      new Float64Array(5),
    );
    const s = stratifiedSplit(raw, { indices: [0, 1, 2, 3], seed: 1 });
    expect(s.train.length).toBe(3);
    expect(s.test.length).toBe(1);
    expect(s.test[0]).toBeLessThan(4);
    expect(() => stratifiedSplit(raw, { testSize: 1 })).toThrow(/fraction in \(0, 1\)/);
  });
});
