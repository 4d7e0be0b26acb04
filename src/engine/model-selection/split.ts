/**
 * Cross-validation iterators: Surprise's `surprise/model_selection/split.py` (`KFold`,
 * `ShuffleSplit`, `train_test_split`, `PredefinedKFold`, `get_cv`).
 *
 * Every splitter yields `[trainset, testset]` pairs. A trainset is built from the training ratings
 * in the order the splitter lists them (inner ids by first appearance, as Surprise's
 * `construct_trainset`), a testset is the test ratings as `[uid, iid, rUi]` in order (Surprise's
 * `construct_testset`). Shuffles draw from `RandomState` in Surprise's call order, so a
 * `randomState` of k gives exactly the folds Surprise gives with `random_state=k`.
 */
import { Trainset } from '../trainset';
import type { RatingScale, RawRatings, Testset } from '../dataset/raw-ratings';
import type { SideInfo } from '../dataset/side-info';
import { getRng, type RandomStateLike } from '../random';

/** What splitters need of a data set (a `Dataset` fits): its ratings and rating scale. */
export interface SplitData {
  /** All ratings, in order (Surprise's `raw_ratings`). */
  readonly ratings: RawRatings;
  /** The rating scale of the trainsets built. */
  readonly ratingScale: RatingScale;
  /** Predefined folds, for `PredefinedKFold` (Surprise's `folds_files`); null or absent otherwise. */
  readonly folds?: ReadonlyArray<{
    readonly name: string;
    readonly train: RawRatings;
    readonly test: RawRatings;
  }> | null;
  /** Attributes of users and items, given to every trainset built (for BayesianFM); optional. */
  readonly sideInfo?: SideInfo | null;
}

/** One split: the trainset to fit on and the testset to measure on. */
export type Split = [trainset: Trainset, testset: Testset];

/** A cross-validation iterator (Surprise's objects with `split(data)` and `n_splits`). */
export interface Splitter {
  /** Yields the splits of `data`, lazily (one trainset in memory at a time). */
  split(data: SplitData): Generator<Split>;
  /** Number of splits `split(data)` yields. */
  getNSplits(data: SplitData): number;
}

/** Options of {@link KFold}. */
export interface KFoldOptions {
  /** Number of folds, ≥ 2 and ≤ the number of ratings. Default 5. */
  nSplits?: number;
  /** Seed or generator for the shuffle (Surprise's `random_state`); default null (entropy). */
  randomState?: RandomStateLike;
  /** Shuffle the ratings before cutting them into folds. Default true. */
  shuffle?: boolean;
}

function checkWhole(value: number, what: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${what} must be a whole number ≥ ${min}, got ${value}`);
  }
}

/**
 * The splits given by index pairs (positions in `data.ratings`), built lazily: the trainset of
 * the train positions, and the testset of the test positions.
 */
function* indexSplits(
  data: SplitData,
  indices: Iterable<[train: Int32Array, test: Int32Array]>,
): Generator<Split> {
  for (const [train, test] of indices) {
    yield [
      Trainset.build(data.ratings, data.ratingScale, train, data.sideInfo),
      data.ratings.subset(test).toTestset(),
    ];
  }
}

/**
 * K-fold cross-validation (Surprise's `KFold`): the ratings, shuffled when `shuffle`, are cut into
 * `nSplits` consecutive folds; each fold is the testset once and the other folds the trainset.
 *
 * Exactly as Surprise: `indices = arange(n)`, shuffled in place by `getRng(randomState).shuffle`
 * (a new generator per `split` call for a number, so the same seed gives the same folds; a
 * `RandomState` continues its stream). Fold i is `indices[start:stop]` where `stop` advances by
 * `n // k`, plus one for the first `n % k` folds; the trainset is
 * `indices[:start] ++ indices[stop:]`, in that order.
 */
export class KFold implements Splitter {
  /** Number of folds. */
  readonly nSplits: number;
  /** Seed or generator of the shuffle. */
  readonly randomState: RandomStateLike;
  /** Whether the ratings are shuffled. */
  readonly shuffle: boolean;

  /** @throws RangeError when nSplits is not a whole number ≥ 2. */
  constructor(opts: KFoldOptions = {}) {
    this.nSplits = opts.nSplits ?? 5;
    this.randomState = opts.randomState ?? null;
    this.shuffle = opts.shuffle ?? true;
    checkWhole(this.nSplits, 'KFold nSplits', 2);
  }

  /** The folds as index lists: `[trainIndices, testIndices]` per fold (raw rating positions). */
  *splitIndices(n: number): Generator<[train: Int32Array, test: Int32Array]> {
    if (this.nSplits > n) {
      throw new RangeError(
        `KFold nSplits=${this.nSplits} is more than the number of ratings (${n}); it must be ≥ 2 and ≤ ${n}`,
      );
    }
    const indices = new Int32Array(n);
    for (let k = 0; k < n; k++) indices[k] = k;
    if (this.shuffle) getRng(this.randomState).shuffle(indices);
    let stop = 0;
    for (let fold = 0; fold < this.nSplits; fold++) {
      const start = stop;
      stop += Math.floor(n / this.nSplits);
      if (fold < n % this.nSplits) stop += 1;
      const train = new Int32Array(n - (stop - start));
      train.set(indices.subarray(0, start), 0);
      train.set(indices.subarray(stop), start);
      yield [train, indices.slice(start, stop)];
    }
  }

  /**
   * Yields `[trainset, testset]` per fold, one trainset in memory at a time.
   * @throws RangeError when nSplits exceeds the number of ratings.
   */
  *split(data: SplitData): Generator<Split> {
    yield* indexSplits(data, this.splitIndices(data.ratings.length));
  }

  /** Number of folds (`nSplits`). */
  getNSplits(): number {
    return this.nSplits;
  }
}

/** A size given as a fraction of the ratings (0 < x < 1) or as a count (a whole number ≥ 1). */
export type SplitSize = number;

/** Options of {@link ShuffleSplit} and {@link trainTestSplit}. */
export interface ShuffleSplitOptions {
  /** Test size: a fraction in (0, 1) (rounded up: `ceil(testSize · n)`) or a count. Default 0.2. */
  testSize?: SplitSize | null;
  /** Train size: a fraction in (0, 1) (rounded down: `floor(trainSize · n)`) or a count. Default: the rest. */
  trainSize?: SplitSize | null;
  /** Seed or generator of the permutations; default null (entropy). */
  randomState?: RandomStateLike;
  /** Permute the ratings before splitting. Default true. */
  shuffle?: boolean;
}

function isFraction(size: number): boolean {
  return size < 1;
}

/**
 * The train and test counts of Surprise's `ShuffleSplit.validate_train_test_sizes`, with the
 * distinction Python makes by type made by value here: a size below 1 is a fraction, 1 or more a
 * count. Test fraction → `ceil(testSize · n)`, train fraction → `floor(trainSize · n)`; an absent
 * size is the rest.
 *
 * @returns `[nTrain, nTest]`.
 * @throws RangeError when a size is not positive, a count is not whole or not below n, both are
 *   absent, or the two sum to more than n (Surprise's messages); also when either part is empty.
 */
export function trainTestSizes(
  testSize: SplitSize | null | undefined,
  trainSize: SplitSize | null | undefined,
  n: number,
): [nTrain: number, nTest: number] {
  const resolve = (size: number, what: string, round: (x: number) => number): number => {
    if (!Number.isFinite(size) || size <= 0) {
      throw new RangeError(`${what}=${size} must be a fraction in (0, 1) or a count ≥ 1`);
    }
    if (isFraction(size)) return round(size * n);
    if (!Number.isInteger(size))
      throw new RangeError(`${what}=${size}: a count must be a whole number`);
    if (size >= n)
      throw new RangeError(`${what}=${size} should be less than the number of ratings ${n}`);
    return size;
  };
  const test = testSize == null ? null : resolve(testSize, 'test_size', Math.ceil);
  const train = trainSize == null ? null : resolve(trainSize, 'train_size', Math.floor);
  if (test === null && train === null) {
    throw new RangeError('test_size and train_size cannot both be null');
  }
  const nTest = test ?? n - train!;
  const nTrain = train ?? n - test!;
  if (nTrain + nTest > n) {
    throw new RangeError(
      `The sum of train_size and test_size (${nTrain + nTest}) should be smaller than the number of ratings ${n}.`,
    );
  }
  if (nTrain < 1 || nTest < 1) {
    throw new RangeError(
      `this split leaves ${nTrain} training and ${nTest} test ratings out of ${n}; both must be ≥ 1`,
    );
  }
  return [nTrain, nTest];
}

/**
 * Random train/test splits (Surprise's `ShuffleSplit`): each split permutes the ratings
 * (`rng.permutation(n)`, one generator for all splits of a `split` call) and takes the first
 * `nTrain` as the trainset and the next `nTest` as the testset; ratings beyond `nTrain + nTest`
 * are in neither.
 */
export class ShuffleSplit implements Splitter {
  /** Number of splits, ≥ 1. */
  readonly nSplits: number;
  /** Test size as given (fraction or count; null: the rest after the trainset). */
  readonly testSize: SplitSize | null;
  /** Train size as given (fraction or count; null: the rest after the testset). */
  readonly trainSize: SplitSize | null;
  /** Seed or generator of the permutations. */
  readonly randomState: RandomStateLike;
  /** Whether the ratings are permuted (false: the first ratings train, the next ones test). */
  readonly shuffle: boolean;

  /** @throws RangeError when nSplits is not a whole number ≥ 1. */
  constructor(opts: ShuffleSplitOptions & { nSplits?: number } = {}) {
    this.nSplits = opts.nSplits ?? 5;
    this.testSize = opts.testSize === undefined ? 0.2 : opts.testSize;
    this.trainSize = opts.trainSize ?? null;
    this.randomState = opts.randomState ?? null;
    this.shuffle = opts.shuffle ?? true;
    checkWhole(this.nSplits, 'ShuffleSplit nSplits', 1);
  }

  /** The splits as index lists: `[trainIndices, testIndices]`. @throws RangeError on bad sizes. */
  *splitIndices(n: number): Generator<[train: Int32Array, test: Int32Array]> {
    const [nTrain, nTest] = trainTestSizes(this.testSize, this.trainSize, n);
    const rng = getRng(this.randomState);
    for (let s = 0; s < this.nSplits; s++) {
      let perm: Int32Array;
      if (this.shuffle) perm = rng.permutation(n);
      else {
        perm = new Int32Array(n);
        for (let k = 0; k < n; k++) perm[k] = k;
      }
      yield [perm.slice(0, nTrain), perm.slice(nTrain, nTrain + nTest)];
    }
  }

  /** Yields `[trainset, testset]` per split. @throws RangeError on invalid sizes. */
  *split(data: SplitData): Generator<Split> {
    yield* indexSplits(data, this.splitIndices(data.ratings.length));
  }

  /** Number of splits (`nSplits`). */
  getNSplits(): number {
    return this.nSplits;
  }
}

/**
 * One random train/test split (Surprise's `train_test_split`: a `ShuffleSplit` with one split).
 *
 * @param data the ratings to split.
 * @returns `[trainset, testset]`: the first `nTrain` ratings of a permutation, then the next
 *   `nTest` (see {@link trainTestSizes} for how sizes become counts; default testSize 0.2).
 * @throws RangeError on invalid sizes.
 */
export function trainTestSplit(data: SplitData, opts: ShuffleSplitOptions = {}): Split {
  const it = new ShuffleSplit({ ...opts, nSplits: 1 }).split(data);
  return it.next().value as Split;
}

/**
 * The predefined folds of a data set (Surprise's `PredefinedKFold`), e.g. MovieLens 100K's
 * u1…u5 base/test files: one split per fold, the trainset built from the training file's ratings
 * in file order, the testset the test file's ratings in file order.
 */
export class PredefinedKFold implements Splitter {
  /** @throws Error when `data` has no predefined folds. */
  *split(data: SplitData): Generator<Split> {
    for (const fold of foldsOf(data)) {
      yield [
        Trainset.build(fold.train, data.ratingScale, undefined, data.sideInfo),
        fold.test.toTestset(),
      ];
    }
  }

  /** Number of predefined folds of `data`. @throws Error when it has none. */
  getNSplits(data: SplitData): number {
    return foldsOf(data).length;
  }
}

function foldsOf(data: SplitData): NonNullable<SplitData['folds']> {
  if (!data.folds || data.folds.length === 0) {
    throw new Error(
      'PredefinedKFold needs a data set with predefined folds (Dataset.loadFromFolds or predefinedFolds)',
    );
  }
  return data.folds;
}

/**
 * Surprise's `get_cv`: a number k is `new KFold({nSplits: k})`, absent is `KFold` with 5 folds, a
 * splitter is used as it is.
 * @throws RangeError for a number that is not a whole number ≥ 2.
 */
export function getCv(cv: number | Splitter | null | undefined): Splitter {
  if (cv === null || cv === undefined) return new KFold({ nSplits: 5 });
  if (typeof cv === 'number') return new KFold({ nSplits: cv });
  return cv;
}

/**
 * A 32-bit hash of a string, uniform on [0, 2³²): FNV-1a over its UTF-8 bytes (Fowler, Noll, Vo;
 * offset basis 0x811c9dc5, prime 0x01000193) followed by MurmurHash3's `fmix32` finaliser, so
 * that keys differing in one character spread over the whole range.
 * @returns an unsigned 32-bit integer
 */
export function stableHash32(key: string): number {
  return finalizeHash32(fnv1a(0x811c9dc5, Buffer.from(key, 'utf8')));
}

/** FNV-1a (32-bit) continued from state `h` over `bytes`. */
function fnv1a(h: number, bytes: Uint8Array): number {
  for (let k = 0; k < bytes.length; k++) {
    h ^= bytes[k];
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** The avalanche step of {@link stableHash32} (MurmurHash3's fmix32), as an unsigned number. */
function finalizeHash32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Options of {@link stableSplit}. */
export interface StableSplitOptions {
  /** Proportion of ratings in the testset, in (0, 1) (default 0.1). */
  testSize?: number;
  /** Salt of the hash: another seed draws another split (default 0). */
  seed?: number;
}

/**
 * A train/test split in which every rating keeps its side whatever else the data set holds:
 * the rating of user u for item i is in the testset iff
 * `stableHash32(seed + "\t" + u + "\t" + i) < testSize · 2³²`. Not in Surprise (whose
 * `train_test_split` permutes all ratings, so one more rating redraws the whole split): this one
 * makes the holdout figures of successive versions of a growing data set comparable — a rating
 * held out once stays held out. The testset is about `testSize` of the ratings (exactly, only on
 * average).
 * @returns `[trainset, testset]`, both in the data set's order (either may be empty for tiny sets)
 * @throws RangeError when testSize is not in (0, 1)
 */
export function stableSplit(data: SplitData, opts: StableSplitOptions = {}): Split {
  const testSize = opts.testSize ?? 0.1;
  if (!(testSize > 0 && testSize < 1)) {
    throw new RangeError(`testSize must be in (0, 1), got ${testSize}`);
  }
  const seed = opts.seed ?? 0;
  const limit = testSize * 2 ** 32;
  const { ratings } = data;
  // stableHash32 of `${seed}\t${u}\t${i}` without a string per rating: FNV-1a runs over bytes, so
  // its state after `${seed}\t${u}\t` is computed once per distinct user and continued over the
  // item's UTF-8 bytes (computed once per distinct item).
  const { userCodes, userIds, itemCodes, itemIds } = ratings.interned();
  const prefix = new Int32Array(userIds.length);
  userIds.forEach(
    (u, c) => (prefix[c] = fnv1a(0x811c9dc5, Buffer.from(`${seed}\t${u}\t`, 'utf8'))),
  );
  const itemBytes = itemIds.map((i) => Buffer.from(i, 'utf8'));
  const n = ratings.length;
  const side = new Uint8Array(n);
  let nTest = 0;
  for (let k = 0; k < n; k++) {
    const h = finalizeHash32(fnv1a(prefix[userCodes[k]], itemBytes[itemCodes[k]]));
    if (h < limit) {
      side[k] = 1;
      nTest++;
    }
  }
  const train = new Int32Array(n - nTest);
  const test = new Int32Array(nTest);
  for (let k = 0, a = 0, b = 0; k < n; k++) {
    if (side[k]) test[b++] = k;
    else train[a++] = k;
  }
  return [
    Trainset.build(ratings.subset(train), data.ratingScale, undefined, data.sideInfo),
    ratings.subset(test).toTestset(),
  ];
}
