import * as fixture from '../fixtures/model-selection/splits.json';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import {
  getCv,
  KFold,
  PredefinedKFold,
  ShuffleSplit,
  stableHash32,
  stableSplit,
  trainTestSizes,
  trainTestSplit,
} from '../../src/engine/model-selection/split';
import { RandomState } from '../../src/engine/random';

/** n ratings: rating k is user `u{k mod 4}`, item `i{k}`, value 1 + k mod 5 (k identifies it). */
function synthetic(n: number): RawRatings {
  const users: string[] = [];
  const items: string[] = [];
  const ratings = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    users.push(`u${k % 4}`);
    items.push(`i${k}`);
    ratings[k] = 1 + (k % 5);
  }
  return new RawRatings(users, items, ratings);
}

const data = (n: number) => ({ ratings: synthetic(n), ratingScale: [1, 5] as const });

/** Rating positions of a testset from the synthetic data (item `i{k}` is rating k). */
const positions = (testset: Array<[string, string, number]>) =>
  testset.map(([, iid]) => Number(iid.slice(1)));

describe('KFold', () => {
  it.each(fixture.kfold.map((c) => [c.n, c.nSplits, c.randomState, c]))(
    'n=%d k=%d seed=%d: the folds NumPy gives',
    (_n, _k, _s, c) => {
      const kf = new KFold({ nSplits: c.nSplits, randomState: c.randomState });
      const got = [...kf.splitIndices(c.n)].map(([train, test]) => ({
        train: [...train],
        test: [...test],
      }));
      expect(got).toEqual(c.folds);
    },
  );

  it('shuffles 100 000 indices exactly as numpy.random.RandomState(42).shuffle', () => {
    const big = fixture.bigShuffle;
    const [[train, test]] = new KFold({ nSplits: 2, randomState: big.randomState }).splitIndices(
      big.n,
    );
    // fold 0's testset is the head of the shuffled indices; its trainset the rest
    const perm = [...test, ...train];
    expect(perm.slice(0, 10)).toEqual(big.head);
    expect(perm.slice(-10)).toEqual(big.tail);
    let sum = 0;
    for (let k = 0; k < perm.length; k++) sum += perm[k] * k;
    expect(sum).toBe(big.weightedSum);
  });

  it('gives folds of sizes n//k (+1 for the first n%k), disjoint, covering every rating', () => {
    const n = 103;
    const splits = [...new KFold({ nSplits: 5, randomState: 1 }).split(data(n))];
    expect(splits.map(([, test]) => test.length)).toEqual([21, 21, 21, 20, 20]);
    const seen = new Set<number>();
    for (const [trainset, testset] of splits) {
      const testPos = positions(testset);
      for (const k of testPos) {
        expect(seen.has(k)).toBe(false);
        seen.add(k);
      }
      expect(trainset.nRatings + testset.length).toBe(n);
      // no test rating is in the trainset (items are unique per rating)
      for (const k of testPos) expect(trainset.findItem(`i${k}`)).toBe(-1);
    }
    expect(seen.size).toBe(n);
  });

  it('builds trainsets in train-index order (inner ids by first appearance)', () => {
    const kf = new KFold({ nSplits: 3, randomState: 5 });
    const [trainIdx] = kf.splitIndices(12).next().value!;
    const [trainset, testset] = kf.split(data(12)).next().value!;
    // with one item per rating, inner item ids follow the train indices
    expect([...trainIdx].map((k) => trainset.findItem(`i${k}`))).toEqual(
      [...trainIdx].map((_, q) => q),
    );
    expect(testset[0]).toEqual([
      `u${positions(testset)[0] % 4}`,
      `i${positions(testset)[0]}`,
      1 + (positions(testset)[0] % 5),
    ]);
  });

  it('same seed, same folds; a generator continues its stream', () => {
    const a = [...new KFold({ nSplits: 4, randomState: 3 }).splitIndices(40)];
    const b = [...new KFold({ nSplits: 4, randomState: 3 }).splitIndices(40)];
    expect(b).toEqual(a);
    const kf = new KFold({ nSplits: 4, randomState: new RandomState(3) });
    const first = [...kf.splitIndices(40)];
    const second = [...kf.splitIndices(40)];
    expect(first).toEqual(a);
    expect(second).not.toEqual(a);
  });

  it('without shuffle, folds are consecutive', () => {
    const folds = [...new KFold({ nSplits: 3, shuffle: false }).splitIndices(7)];
    expect(folds.map(([, t]) => [...t])).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect([...folds[1][0]]).toEqual([0, 1, 2, 5, 6]);
  });

  it('refuses fewer than 2 folds, or more folds than ratings', () => {
    expect(() => new KFold({ nSplits: 1 })).toThrow(
      'KFold nSplits must be a whole number ≥ 2, got 1',
    );
    expect(() => new KFold({ nSplits: 2.5 })).toThrow(/whole number/);
    expect(() => [...new KFold({ nSplits: 6 }).split(data(5))]).toThrow(
      'KFold nSplits=6 is more than the number of ratings (5)',
    );
  });
});

describe('ShuffleSplit and trainTestSplit', () => {
  it.each(fixture.shuffleSplit.map((c) => [c.n, c.testSize, c.trainSize, c]))(
    'n=%d testSize=%p trainSize=%p: the splits NumPy gives',
    (_n, _t, _r, c) => {
      const ss = new ShuffleSplit({
        nSplits: c.nSplits,
        testSize: c.testSize,
        trainSize: c.trainSize,
        randomState: c.randomState,
      });
      const got = [...ss.splitIndices(c.n)].map(([train, test]) => ({
        train: [...train],
        test: [...test],
      }));
      expect(got).toEqual(c.splits);
    },
  );

  it('trainTestSplit is one ShuffleSplit split', () => {
    const c = fixture.shuffleSplit[1];
    const [trainset, testset] = trainTestSplit(data(c.n), { testSize: 0.2, randomState: 3 });
    expect(positions(testset)).toEqual(c.splits[0].test);
    expect(trainset.nRatings).toBe(c.splits[0].train.length);
    expect(c.splits[0].train.map((k) => trainset.findItem(`i${k}`))).toEqual(
      c.splits[0].train.map((_, q) => q),
    );
  });

  it('turns sizes into counts as Surprise does', () => {
    expect(trainTestSizes(0.2, null, 17)).toEqual([13, 4]); // ceil(3.4) = 4
    expect(trainTestSizes(null, 0.5, 17)).toEqual([8, 9]); // floor(8.5) = 8
    expect(trainTestSizes(5, 0.5, 30)).toEqual([15, 5]);
    expect(trainTestSizes(3, 10, 30)).toEqual([10, 3]);
  });

  it('refuses impossible sizes', () => {
    expect(() => trainTestSizes(30, null, 30)).toThrow(
      'test_size=30 should be less than the number of ratings 30',
    );
    expect(() => trainTestSizes(20, 15, 30)).toThrow(
      'The sum of train_size and test_size (35) should be smaller than the number of ratings 30.',
    );
    expect(() => trainTestSizes(0, null, 30)).toThrow(/test_size=0 must be a fraction/);
    expect(() => trainTestSizes(2.5, null, 30)).toThrow(/whole number/);
    expect(() => trainTestSizes(null, null, 30)).toThrow(/both be null/);
    expect(() => new ShuffleSplit({ nSplits: 0 })).toThrow(/≥ 1/);
  });
});

describe('PredefinedKFold', () => {
  it('builds one split per fold, in file order', () => {
    const all = synthetic(10);
    const folds = [
      { name: 'a', train: all.subset([3, 1, 2]), test: all.subset([0]) },
      { name: 'b', train: all.subset([0, 5]), test: all.subset([9, 8]) },
    ];
    const pk = new PredefinedKFold();
    const d = { ratings: all, ratingScale: [1, 5] as const, folds };
    expect(pk.getNSplits(d)).toBe(2);
    const splits = [...pk.split(d)];
    expect(splits[0][0].toRawIid(0)).toBe('i3');
    expect(splits[0][0].nRatings).toBe(3);
    expect(splits[1][1]).toEqual([
      ['u1', 'i9', 5],
      ['u0', 'i8', 4],
    ]);
  });

  it('refuses a data set without folds', () => {
    expect(() => [...new PredefinedKFold().split(data(5))]).toThrow(
      /needs a data set with predefined folds/,
    );
  });
});

describe('getCv', () => {
  it('maps a number to KFold and keeps a splitter', () => {
    expect((getCv(3) as KFold).nSplits).toBe(3);
    expect((getCv(undefined) as KFold).nSplits).toBe(5);
    const pk = new PredefinedKFold();
    expect(getCv(pk)).toBe(pk);
  });
});

describe('stableHash32 and stableSplit', () => {
  it.each([
    // FNV-1a 32 then fmix32; FNV-1a("a") = 0xe40c292c is the published test vector, the finalised
    // values were computed independently in Python
    ['', 0xab3e7c0b],
    ['a', 0x1a80b1b3],
    ['foobar', 0x0c0da6dc],
  ])('stableHash32(%j) = %d', (key, want) => expect(stableHash32(key)).toBe(want));

  it('hashes the UTF-8 bytes of the key (é is C3 A9)', () => {
    expect(stableHash32('é')).toBe(0x8e4756c7);
  });

  it('holds out about testSize of the ratings; train and test partition them, in order', () => {
    const [trainset, testset] = stableSplit(data(20_000), { testSize: 0.1, seed: 3 });
    expect(trainset.nRatings + testset.length).toBe(20_000);
    // binomial(20 000, 0.1): sd 42, so ±300 is over 7 sd
    expect(Math.abs(testset.length - 2_000)).toBeLessThan(300);
    const test = positions(testset);
    expect(test).toEqual([...test].sort((a, b) => a - b));
    const inTest = new Set(test);
    const train = [...trainset.allRatings()].map(([, i]) => Number(trainset.toRawIid(i).slice(1)));
    expect(train.filter((k) => inTest.has(k))).toEqual([]);
  });

  it('answers by the documented rule: test iff stableHash32(seed\tu\ti) < testSize · 2³², also for non-ASCII ids and interned ratings', () => {
    const users: string[] = [];
    const items: string[] = [];
    const names = ['u1', 'é', 'ü2', '東京', '42'];
    for (let k = 0; k < 3_000; k++) {
      users.push(names[k % 5] + String(k % 7));
      items.push(`i${k}${names[(k * 3) % 5]}`);
    }
    const ratings = new RawRatings(users, items, new Float64Array(3_000).fill(3));
    const c = ratings.interned();
    const interned = RawRatings.fromCodes(
      c.userCodes,
      c.userIds,
      c.itemCodes,
      c.itemIds,
      ratings.ratings,
    );
    expect(interned.isInterned).toBe(true);
    for (const raw of [ratings, interned]) {
      const testset = stableSplit(
        { ratings: raw, ratingScale: [1, 5] },
        { testSize: 0.2, seed: 9 },
      )[1];
      const want = users
        .map((u, k): [string, string, number] => [u, items[k], 3])
        .filter(([u, i]) => stableHash32(`9\t${u}\t${i}`) < 0.2 * 2 ** 32);
      expect(want.length).toBeGreaterThan(400);
      expect(testset).toEqual(want);
    }
  });

  it('a rating keeps its side when the data set grows; another seed draws another split', () => {
    const small = positions(stableSplit(data(5_000), { seed: 1 })[1]);
    const big = positions(stableSplit(data(8_000), { seed: 1 })[1]);
    expect(big.filter((k) => k < 5_000)).toEqual(small);
    const other = positions(stableSplit(data(5_000), { seed: 2 })[1]);
    expect(other).not.toEqual(small);
    // membership is the hash test itself
    for (const k of [0, 1, 2, 4_999]) {
      const held = stableHash32(`1\tu${k % 4}\ti${k}`) < 0.1 * 2 ** 32;
      expect(small.includes(k)).toBe(held);
    }
  });

  it.each([0, 1, -0.1, NaN])('refuses testSize %p', (testSize) => {
    expect(() => stableSplit(data(10), { testSize })).toThrow(/testSize must be in \(0, 1\)/);
  });
});
