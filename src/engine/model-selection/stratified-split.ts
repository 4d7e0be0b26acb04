/**
 * The per-user stratified split of Microsoft Recommenders (`python_stratified_split`,
 * recommenders/datasets/python_splitters.py, `_do_stratification` with `is_random=True`,
 * `filter_by="user"`), the split of their published MovieLens benchmark.
 *
 * Definition: every rating gets a uniform draw in [0, 1) (NumPy's `np.random.seed(seed);
 * np.random.rand(n)`, in data order; here `RandomState(seed).random()`, the same numbers). Within
 * each user, ratings are ordered by their draw; the rating at position p (1-based) of a user with
 * c ratings has rank p / c, and goes to the training part when p / c ≤ 1 − testSize, to the test
 * part otherwise. So a user with c ratings keeps the ⌊(1 − testSize)·c⌋ first ones (up to the
 * rounding of p / c) in training and the rest in test; a user with a single rating has it in test
 * only (1/1 > 1 − testSize), and is then unknown to the trainset.
 *
 * Both parts list their ratings in data order (Recommenders returns them ordered by user and
 * draw; only the order of inner ids differs).
 */
import type { RawRatings } from '../dataset/raw-ratings';
import { RandomState } from '../random';

/** Options of `stratifiedSplit`. */
export interface StratifiedSplitOptions {
  /** Fraction of each user's ratings in the test part, in (0, 1); default 0.25. */
  testSize?: number;
  /** Seed of the draws, a whole number in [0, 2^32 − 1]; default 42 (Recommenders' default). */
  seed?: number;
  /** Split only these ratings (indices into `ratings`), e.g. a training part again. */
  indices?: ArrayLike<number>;
}

/** Indices into the ratings of each part, ascending. */
export interface StratifiedSplit {
  train: Int32Array;
  test: Int32Array;
}

/**
 * Splits ratings per user (see the module comment).
 * @throws RangeError for a test size outside (0, 1) or a bad seed.
 */
export function stratifiedSplit(
  ratings: RawRatings,
  opts: StratifiedSplitOptions = {},
): StratifiedSplit {
  const testSize = opts.testSize ?? 0.25;
  if (!(testSize > 0 && testSize < 1)) {
    throw new RangeError(`test size must be a fraction in (0, 1), got ${testSize}`);
  }
  const rng = new RandomState(opts.seed ?? 42);
  const idx = opts.indices
    ? Int32Array.from(opts.indices)
    : Int32Array.from({ length: ratings.length }, (_, k) => k);
  const n = idx.length;
  const draw = new Float64Array(n);
  for (let t = 0; t < n; t++) draw[t] = rng.random();
  // Group positions by user (users in order of first appearance), each group by draw.
  const userOf = new Map<string, number>();
  const group = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    const uid = ratings.users[idx[t]];
    let g = userOf.get(uid);
    if (g === undefined) userOf.set(uid, (g = userOf.size));
    group[t] = g;
  }
  const order = Array.from({ length: n }, (_, t) => t);
  order.sort((a, b) => group[a] - group[b] || draw[a] - draw[b] || a - b);
  const ratio = 1 - testSize;
  const inTrain = new Uint8Array(n);
  for (let s = 0; s < n;) {
    let e = s;
    while (e < n && group[order[e]] === group[order[s]]) e++;
    const c = e - s;
    for (let p = s; p < e; p++) if ((p - s + 1) / c <= ratio) inTrain[order[p]] = 1;
    s = e;
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let t = 0; t < n; t++) (inTrain[t] ? train : test).push(idx[t]);
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
