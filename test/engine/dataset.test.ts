/**
 * Dataset: loading from a file, from folds and from memory; duplicates (last one wins, at its
 * position); the full trainset; half-star scales carried to prediction clipping.
 */
import * as path from 'node:path';
import { Dataset, RawRatings, Reader, DatasetFormatError } from '../../src/engine/dataset';
import { AlgoBase } from '../../src/engine/algorithms/base';

const FIX = path.resolve(__dirname, '../fixtures/datasets');

describe('Dataset.loadFromFile', () => {
  test('ratings, scale, no duplicates', () => {
    const file = path.join(FIX, 'reader/tab.tsv');
    const ds = Dataset.loadFromFile(file, Reader.builtin('ml-100k'));
    expect(ds.nRatings).toBe(4);
    expect(ds.ratingScale).toEqual([1, 5]);
    expect(ds.duplicates).toBe(0);
    expect(ds.warnings).toEqual([]);
    expect(ds.files).toEqual([file]);
    expect(ds.folds).toBeNull();
    expect(ds.name).toBeNull();
  });

  test('duplicate (user, item) pairs: the last one wins, at its position, and is counted', () => {
    // duplicates.tsv lines: (1,a,1) (2,a,2) (1,b,3) (1,a,4) (3,c,5) (1,a,5) (2,a,1)
    // (1,a) occurs on lines 1, 4, 6 → kept at line 6 with 5; (2,a) on lines 2, 7 → line 7 with 1.
    const file = path.join(FIX, 'reader/duplicates.tsv');
    const ds = Dataset.loadFromFile(file, Reader.builtin('ml-100k'));
    expect(ds.duplicates).toBe(3);
    expect(ds.ratings.users).toEqual(['1', '3', '1', '2']);
    expect(ds.ratings.items).toEqual(['b', 'c', 'a', 'a']);
    expect(Array.from(ds.ratings.ratings)).toEqual([3, 5, 5, 1]);
    expect(Array.from(ds.ratings.timestamps!)).toEqual([102, 104, 105, 106]);
    expect(ds.warnings).toEqual([
      `${file}: 3 duplicate (user, item) ratings removed (the last rating of each pair was kept)`,
    ]);
  });

  test('a missing file is named', () => {
    expect(() => Dataset.loadFromFile('/nonexistent/r.tsv', new Reader())).toThrow(
      'ratings file /nonexistent/r.tsv does not exist',
    );
  });

  test('a malformed line stops loading with file and line', () => {
    const file = path.join(FIX, 'malformed/rating-out-of-scale.tsv');
    expect(() => Dataset.loadFromFile(file, new Reader({ sep: '\t' }))).toThrow(DatasetFormatError);
    expect(() => Dataset.loadFromFile(file, new Reader({ sep: '\t' }))).toThrow(`${file}:4:`);
  });

  test('ids are strings: the user written 7 is the user "7"', () => {
    const ds = Dataset.loadFromFile(path.join(FIX, 'reader/tab.tsv'), Reader.builtin('ml-100k'));
    const ts = ds.buildFullTrainset();
    expect(ts.toInnerUid('7')).toBe(0);
    expect(ts.findUser(7 as unknown as string)).toBe(0);
  });
});

describe('buildFullTrainset', () => {
  test('inner ids in order of first appearance, global mean of all ratings', () => {
    const ds = Dataset.loadFromFile(path.join(FIX, 'reader/tab.tsv'), Reader.builtin('ml-100k'));
    const ts = ds.buildFullTrainset();
    expect(ts.nUsers).toBe(3); // 7, 8, 9
    expect(ts.nItems).toBe(3); // 42, 43, 44
    expect(ts.nRatings).toBe(4);
    expect(ts.globalMean).toBe((3 + 3 + 1 + 5) / 4);
    expect([ts.toRawUid(0), ts.toRawUid(1), ts.toRawUid(2)]).toEqual(['7', '8', '9']);
    expect(Array.from(ts.ur(0).ratings)).toEqual([3, 5]);
    expect(ts.ratingScale).toEqual([1, 5]);
  });
});

describe('half-star data set', () => {
  class Constant extends AlgoBase {
    static algorithmName = 'Constant';
    static description = 'test algorithm: one constant estimate';
    static paramSpecs = {};
    value = 0;
    estimate(): number {
      return this.value;
    }
  }

  test('parsed on [0.5, 5] and predictions clipped to that scale', () => {
    const ds = Dataset.loadFromFile(
      path.join(FIX, 'reader/comma-header.csv'),
      Reader.builtin('ml-latest-small'),
    );
    expect(Array.from(ds.ratings.ratings)).toEqual([4.5, 0.5, 5, 3.5, 2]);
    expect(ds.ratingScale).toEqual([0.5, 5]);
    const algo = new Constant().fit(ds.buildFullTrainset());
    algo.value = 7;
    expect(algo.predict('1', '10').est).toBe(5);
    algo.value = 0.1;
    expect(algo.predict('1', '10').est).toBe(0.5);
    algo.value = 0.75;
    expect(algo.predict('1', '10').est).toBe(0.75);
  });
});

describe('Dataset.loadFromFolds', () => {
  test('one fold per [train, test] pair, named after the training file', () => {
    const reader = new Reader();
    const ds = Dataset.loadFromFolds(
      [
        [path.join(FIX, 'folds/a.base'), path.join(FIX, 'folds/a.test')],
        [path.join(FIX, 'folds/b.base'), path.join(FIX, 'folds/b.test')],
      ],
      reader,
    );
    expect(ds.folds!.map((f) => f.name)).toEqual(['a', 'b']);
    expect(ds.folds![0].train.length).toBe(3);
    expect(ds.folds![0].test.toTestset()).toEqual([['2', '2', 2]]);
    // b.test holds (1,2,3) then (1,2,1): the last one wins.
    expect(ds.folds![1].test.toTestset()).toEqual([['1', '2', 1]]);
    expect(ds.duplicates).toBe(1);
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toContain('b.test: 1 duplicate (user, item) rating removed');
    // ratings = first fold's train then test
    expect(ds.ratings.toTestset()).toEqual([
      ['1', '1', 5],
      ['1', '2', 3],
      ['2', '1', 4],
      ['2', '2', 2],
    ]);
    expect(ds.files).toHaveLength(4);
  });

  test('bad fold lists are refused', () => {
    expect(() => Dataset.loadFromFolds([], new Reader())).toThrow(/at least one/);
    expect(() =>
      Dataset.loadFromFolds([['only-one'] as unknown as [string, string]], new Reader()),
    ).toThrow(/\[trainFile, testFile\]/);
  });
});

describe('Dataset.loadFromRawRatings', () => {
  const raw = new RawRatings(
    ['u1', 'u2', 'u1'],
    ['i1', 'i1', 'i1'],
    Float64Array.from([1, 2.5, 4]),
  );

  test('duplicates removed, scale kept', () => {
    const ds = Dataset.loadFromRawRatings(raw, [0.5, 5]);
    expect(ds.duplicates).toBe(1);
    expect(ds.ratings.toTestset()).toEqual([
      ['u2', 'i1', 2.5],
      ['u1', 'i1', 4],
    ]);
    expect(ds.ratingScale).toEqual([0.5, 5]);
    expect(ds.files).toEqual([]);
  });

  test('a rating outside the scale or not finite is refused, naming it', () => {
    expect(() => Dataset.loadFromRawRatings(raw, [1, 4])).not.toThrow();
    expect(() => Dataset.loadFromRawRatings(raw, [1, 3])).toThrow(
      'rating 2 (user u1, item i1) is 4, expected a number in the rating scale [1, 3]',
    );
    const bad = new RawRatings(['a'], ['b'], Float64Array.from([NaN]));
    expect(() => Dataset.loadFromRawRatings(bad, [1, 5])).toThrow(
      'rating 0 (user a, item b) is NaN',
    );
    expect(() => Dataset.loadFromRawRatings(raw, [5, 1])).toThrow(/lowest < highest/);
  });

  test('numeric ids become strings: 196 and "196" are one user', () => {
    const mixed = new RawRatings(
      [196, '196'] as unknown as string[],
      [242, 302] as unknown as string[],
      Float64Array.from([3, 4]),
    );
    const ds = Dataset.loadFromRawRatings(mixed, [1, 5]);
    expect(ds.ratings.users).toEqual(['196', '196']);
    expect(ds.ratings.items).toEqual(['242', '302']);
    expect(ds.buildFullTrainset().nUsers).toBe(1);
  });

  test('an empty dataset cannot build a trainset', () => {
    const empty = Dataset.loadFromRawRatings(new RawRatings([], [], new Float64Array(0)), [1, 5]);
    expect(empty.nRatings).toBe(0);
    expect(() => empty.buildFullTrainset()).toThrow(/zero ratings/);
  });
});
