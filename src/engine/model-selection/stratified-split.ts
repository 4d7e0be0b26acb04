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
  // Group positions by user (users in order of first appearance), each group by draw. Users by
  // their interned codes (no per-rating string or map: 25M-rating sets), groups by a counting sort.
  const { userCodes, userIds } = ratings.interned();
  const groupOfCode = new Int32Array(userIds.length).fill(-1);
  const group = new Int32Array(n);
  let groups = 0;
  for (let t = 0; t < n; t++) {
    const c = userCodes[idx[t]];
    if (groupOfCode[c] < 0) groupOfCode[c] = groups++;
    group[t] = groupOfCode[c];
  }
  const start = new Int32Array(groups + 1);
  for (let t = 0; t < n; t++) start[group[t] + 1]++;
  for (let g = 0; g < groups; g++) start[g + 1] += start[g];
  const order = new Int32Array(n);
  const cursor = start.slice(0, groups);
  for (let t = 0; t < n; t++) order[cursor[group[t]]++] = t;
  const ratio = 1 - testSize;
  const inTrain = new Uint8Array(n);
  let nTrain = 0;
  for (let g = 0; g < groups; g++) {
    const s = start[g];
    const e = start[g + 1];
    order.subarray(s, e).sort((a, b) => draw[a] - draw[b] || a - b);
    const c = e - s;
    for (let p = s; p < e; p++) {
      if ((p - s + 1) / c <= ratio) {
        inTrain[order[p]] = 1;
        nTrain++;
      }
    }
  }
  const train = new Int32Array(nTrain);
  const test = new Int32Array(n - nTrain);
  for (let t = 0, a = 0, b = 0; t < n; t++) {
    if (inTrain[t]) train[a++] = idx[t];
    else test[b++] = idx[t];
  }
  train.sort();
  test.sort();
  return { train, test };
}
