/**
 * Accuracy measures over predictions: Surprise's `surprise/accuracy.py` (`rmse`, `mse`, `mae`,
 * `fcp`), with the same definitions and the same results.
 *
 * Means are computed as `numpy.mean` computes them (pairwise summation, see `numeric.ts`), so RMSE,
 * MSE and MAE equal Surprise's to the last bit for the same predictions.
 */
import { mean } from './numeric';
import type { Prediction } from './algorithms/base';

/** What a measure needs of a prediction: the user, the true rating and the estimate. */
export type ScoredPrediction = Pick<Prediction, 'uid' | 'rUi' | 'est'>;

/** Names of the accuracy measures, lower case as Surprise's `accuracy` module functions. */
export const MEASURES = ['rmse', 'mse', 'mae', 'fcp'] as const;

/** One of `MEASURES`. */
export type MeasureName = (typeof MEASURES)[number];

const EMPTY = 'Prediction list is empty.';

/** Checks the list is not empty and every prediction has a true rating. */
function checked(predictions: readonly ScoredPrediction[]): void {
  if (predictions.length === 0) throw new Error(EMPTY);
}

function trueRating(p: ScoredPrediction, k: number): number {
  const r = p.rUi;
  if (typeof r !== 'number') {
    throw new Error(
      `prediction ${k} (user ${p.uid}) has no true rating (rUi is ${String(r)}): accuracy needs a testset with ratings`,
    );
  }
  return r;
}

/**
 * Mean squared error: `mean((rUi − est)²)`.
 *
 * @param predictions predictions with a true rating (`rUi`), as returned by `algo.test(testset)`.
 * @returns MSE in squared rating units, ≥ 0.
 * @throws Error('Prediction list is empty.') on an empty list; Error when a prediction has no `rUi`.
 */
export function mse(predictions: readonly ScoredPrediction[]): number {
  checked(predictions);
  const sq = new Float64Array(predictions.length);
  for (let k = 0; k < predictions.length; k++) {
    const p = predictions[k];
    const d = trueRating(p, k) - p.est;
    sq[k] = d * d;
  }
  return mean(sq);
}

/**
 * Root mean squared error: `sqrt(mean((rUi − est)²))` (Surprise's `accuracy.rmse`).
 *
 * @returns RMSE in rating units, ≥ 0.
 * @throws Error('Prediction list is empty.') on an empty list; Error when a prediction has no `rUi`.
 */
export function rmse(predictions: readonly ScoredPrediction[]): number {
  return Math.sqrt(mse(predictions));
}

/**
 * Mean absolute error: `mean(|rUi − est|)` (Surprise's `accuracy.mae`).
 *
 * @returns MAE in rating units, ≥ 0.
 * @throws Error('Prediction list is empty.') on an empty list; Error when a prediction has no `rUi`.
 */
export function mae(predictions: readonly ScoredPrediction[]): number {
  checked(predictions);
  const abs = new Float64Array(predictions.length);
  for (let k = 0; k < predictions.length; k++) {
    const p = predictions[k];
    abs[k] = Math.abs(trueRating(p, k) - p.est);
  }
  return mean(abs);
}

/**
 * Fraction of Concordant Pairs (Koren, "Factor in the neighbors: scalable and accurate
 * collaborative filtering", TKDD 2010, §5.2), exactly as Surprise's `accuracy.fcp`:
 *
 * - for each user u, over all ordered pairs (i, j) of u's predictions: concordant when
 *   `est_i > est_j` and `r_i > r_j`; discordant when `est_i >= est_j` and `r_i < r_j` (so a tie in
 *   the estimates of two different true ratings counts as one discordant pair; a tie in the true
 *   ratings counts as nothing);
 * - `nc` = mean of the users' concordant counts over the users that have at least one concordant
 *   pair (0 when none has), `nd` likewise for discordant pairs — the two means may run over
 *   different users, as in Surprise;
 * - `fcp = nc / (nc + nd)`.
 *
 * Computed in O(n log n) per user (sort by true rating, Fenwick tree over estimate ranks) instead
 * of Surprise's O(n²) double loop; the counts, hence the result, are the same. A pair where either
 * value is NaN is neither concordant nor discordant (Python's comparisons are false).
 *
 * @returns FCP in [0, 1]; higher is better.
 * @throws Error('Prediction list is empty.') on an empty list; Error('cannot compute FCP on this
 *   list of prediction. Does every user have at least two predictions?') when no pair is
 *   concordant or discordant; Error when a prediction has no `rUi`.
 */
export function fcp(predictions: readonly ScoredPrediction[]): number {
  checked(predictions);
  const n = predictions.length;
  // Group by user, users in order of first appearance (as Surprise's defaultdict).
  const userOf = new Int32Array(n);
  const index = new Map<string, number>();
  for (let k = 0; k < n; k++) {
    const uid = predictions[k].uid;
    let u = index.get(uid);
    if (u === undefined) {
      u = index.size;
      index.set(uid, u);
    }
    userOf[k] = u;
  }
  const nUsers = index.size;
  const start = new Int32Array(nUsers + 1);
  for (let k = 0; k < n; k++) start[userOf[k] + 1]++;
  for (let u = 0; u < nUsers; u++) start[u + 1] += start[u];
  const cursor = start.slice(0, nUsers);
  const r = new Float64Array(n);
  const est = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const p = predictions[k];
    const rk = trueRating(p, k);
    const ek = p.est;
    if (Number.isNaN(rk) || Number.isNaN(ek)) continue; // in no pair, as in Python
    const pos = cursor[userOf[k]]++;
    r[pos] = rk;
    est[pos] = ek;
  }

  // Work buffers shared by all users.
  const byR = new Int32Array(n);
  const byEst = new Int32Array(n);
  const rank = new Int32Array(n);
  const tree = new Int32Array(n + 1);

  let ncSum = 0;
  let ncUsers = 0;
  let ndSum = 0;
  let ndUsers = 0;
  for (let u = 0; u < nUsers; u++) {
    const a = start[u];
    const m = cursor[u] - a;
    if (m < 2) continue;
    const ordR = byR.subarray(0, m);
    const ordE = byEst.subarray(0, m);
    for (let q = 0; q < m; q++) ordR[q] = ordE[q] = a + q;
    ordR.sort((x, y) => r[x] - r[y]);
    ordE.sort((x, y) => est[x] - est[y]);
    // Dense ranks of the estimates, 1-based, ties share a rank.
    let nRanks = 0;
    for (let q = 0; q < m; q++) {
      if (q === 0 || est[ordE[q]] !== est[ordE[q - 1]]) nRanks++;
      rank[ordE[q] - a] = nRanks;
    }
    tree.fill(0, 0, nRanks + 1);
    // Walk groups of equal true rating in increasing order: every earlier element has a strictly
    // smaller rating; count those with a strictly smaller estimate (concordant pairs).
    let concordant = 0;
    let pairsDistinctR = (m * (m - 1)) / 2;
    let g = 0;
    while (g < m) {
      let h = g + 1;
      while (h < m && r[ordR[h]] === r[ordR[g]]) h++;
      const c = h - g;
      pairsDistinctR -= (c * (c - 1)) / 2;
      for (let q = g; q < h; q++) {
        for (let x = rank[ordR[q] - a] - 1; x > 0; x -= x & -x) concordant += tree[x];
      }
      for (let q = g; q < h; q++) {
        for (let x = rank[ordR[q] - a]; x <= nRanks; x += x & -x) tree[x]++;
      }
      g = h;
    }
    // Every other pair of distinct true ratings is discordant (estimates tied or reversed).
    const discordant = pairsDistinctR - concordant;
    if (concordant > 0) {
      ncSum += concordant;
      ncUsers++;
    }
    if (discordant > 0) {
      ndSum += discordant;
      ndUsers++;
    }
  }
  // Integer sums below 2^53 are exact in any order, so these equal numpy.mean of the counts.
  const nc = ncUsers > 0 ? ncSum / ncUsers : 0;
  const nd = ndUsers > 0 ? ndSum / ndUsers : 0;
  if (nc + nd === 0) {
    throw new Error(
      'cannot compute FCP on this list of prediction. Does every user have at least two predictions?',
    );
  }
  return nc / (nc + nd);
}

/** The measure functions by name. */
export const measureFunctions: Readonly<
  Record<MeasureName, (p: readonly ScoredPrediction[]) => number>
> = { rmse, mse, mae, fcp };

/**
 * Checks and normalises measure names (case-insensitive, as Surprise lower-cases them).
 * @returns the lower-case names, in the given order.
 * @throws Error naming the unknown measure and the known ones; Error on an empty list or a
 *   repeated measure.
 */
export function parseMeasures(names: readonly string[]): MeasureName[] {
  if (names.length === 0)
    throw new Error(`no measure given; expected some of: ${MEASURES.join(', ')}`);
  const out: MeasureName[] = [];
  for (const name of names) {
    const m = name.trim().toLowerCase();
    if (!(MEASURES as readonly string[]).includes(m)) {
      throw new Error(`unknown measure '${name}'; expected one of: ${MEASURES.join(', ')}`);
    }
    if (out.includes(m as MeasureName)) throw new Error(`measure '${name}' is given twice`);
    out.push(m as MeasureName);
  }
  return out;
}
