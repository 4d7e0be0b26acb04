/**
 * Fold-in for the k-NN family (KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline; knn.ts): a
 * k-NN estimate reads the trainset at prediction time, so folding a user in is giving it the
 * user's newer ratings, everything else (the other users, the items, their similarities, means,
 * deviations and biases) frozen as fitted (Sarwar et al. 2002's folding-in, applied to a
 * neighbourhood model).
 *
 * - **Item-based** (`simOptions.userBased = false`): `r̂_ui` aggregates the user's own ratings of
 *   the k items most similar to i, so the folded user's rating list takes the place of `ur[u]`;
 *   the item similarities are the trained ones. KNNBaseline also folds the user bias b_u (ALS's
 *   user step `Σ (r − μ − b_i) / (regU + n)`, or SGD's fixed point `Σ (r − μ − b_i) / (n (1 + reg))`).
 * - **User-based** (the default): the user's similarity to every user who shares a rated movie is
 *   computed again from the folded ratings with the model's measure and `minSupport` (Surprise's
 *   formulas, as similarities.ts: cosine, msd, pearson; pearson_baseline for KNNBaseline, whose
 *   baselines are kept — the other three do not keep theirs, so user-based pearson_baseline is not
 *   folded); the user's mean (KNNWithMeans, KNNWithZScore), `np.std` (KNNWithZScore; the overall
 *   one when 0) and b_u (KNNBaseline) come from the folded ratings. The terms of each pair are
 *   summed in ascending movie order, as the fit does, so folding a trained user's own ratings
 *   gives back the trained similarities.
 *
 * Cost per user: item-based O(n); user-based O(Σ_{j ∈ R(u)} |raters of j|) time and at most one
 * entry per other user (12 bytes) kept. Movies the model does not know are left out.
 */
import { KNNBaseline, KNNWithZScore, SymmetricAlgo, npStd } from './algorithms/knn';
import { toBaselineOptions } from './algorithms/baselines';
import type { AlgoBase } from './algorithms/base';
import { mean } from './numeric';

/** What a folded-in user holds for a k-NN model. */
export interface KnnFold {
  /** The user's inner id in the trainset, or −1 for a new user. */
  u: number;
  /** The folded ratings: inner item ids (known items), ascending. */
  items: Int32Array;
  /** Their ratings, same order. */
  ratings: Float64Array;
  /** User-based: the users with a similarity to this user (ascending) and those similarities. */
  simCols: Int32Array;
  simValues: Float64Array;
  /** Mean of the folded ratings (user-based KNNWithMeans / KNNWithZScore). */
  mean: number;
  /** `np.std` of the folded ratings, the overall one when 0 (KNNWithZScore). */
  sigma: number;
  /** The folded user bias (KNNBaseline), else 0. */
  bu: number;
}

/** True when `algo` is a fitted k-NN model that can fold users in (see the module comment). */
export function canFoldInKnn(algo: AlgoBase): algo is SymmetricAlgo {
  if (!(algo instanceof SymmetricAlgo)) return false;
  const o = algo.simOptions;
  return !(o.userBased && o.name === 'pearson_baseline' && !(algo instanceof KNNBaseline));
}

/**
 * Folds one user into a k-NN model.
 * @param known the user's ratings of known items, inner ids ascending (engine/fold-in.ts
 *   `knownRatings`); at least one
 * @param u the user's inner id, or −1
 * @throws RangeError when {@link canFoldInKnn} is false, naming the algorithm and measure
 */
export function foldInKnnUser(
  algo: SymmetricAlgo,
  known: { items: Int32Array; ratings: Float64Array },
  u: number,
): KnnFold {
  if (!canFoldInKnn(algo)) {
    const a = algo as SymmetricAlgo;
    throw new RangeError(
      `${a.name} with the user-based ${a.simOptions.name} similarity cannot fold users in (its baselines are not kept; KNNBaseline can)`,
    );
  }
  const ts = algo.trainset;
  const { items, ratings } = known;
  const n = items.length;
  let bu = 0;
  if (algo instanceof KNNBaseline) {
    const o = toBaselineOptions(algo.params.bslOptions as Record<string, unknown>);
    let s = 0;
    for (let t = 0; t < n; t++) s += ratings[t] - ts.globalMean - algo.bi[items[t]];
    bu = o.method === 'als' ? s / (o.regU + n) : s / (n * (1 + o.reg));
  }
  const m = mean(ratings);
  let sigma = 0;
  if (algo instanceof KNNWithZScore) {
    sigma = npStd(ratings, new Float64Array(n));
    if (sigma === 0) sigma = algo.overallSigma;
  }
  const fold: KnnFold = {
    u,
    items,
    ratings,
    simCols: new Int32Array(0),
    simValues: new Float64Array(0),
    mean: m,
    sigma,
    bu,
  };
  if (algo.simOptions.userBased) userSimilarities(algo, fold);
  return fold;
}

/** The folded user's similarities to the other users (user-based; similarities.ts formulas). */
function userSimilarities(algo: SymmetricAlgo, f: KnnFold): void {
  const ts = algo.trainset;
  const o = algo.simOptions;
  const nU = ts.nUsers;
  const baseline = o.name === 'pearson_baseline';
  const bl = baseline ? (algo as KNNBaseline) : null;
  const mu = ts.globalMean;
  const freq = new Float64Array(nU);
  const prods = new Float64Array(nU);
  const sqi = new Float64Array(nU);
  const sqj = new Float64Array(nU);
  const si = new Float64Array(nU);
  const sj = new Float64Array(nU);
  const touched: number[] = [];
  // the item rows (built on first use for a trainset restored from a model file)
  const { irOffsets, irUsers, irRatings } = ts;
  for (let t = 0; t < f.items.length; t++) {
    const j = f.items[t];
    const ri = bl ? f.ratings[t] - (mu + bl.bi[j] + f.bu) : f.ratings[t];
    for (let p = irOffsets[j]; p < irOffsets[j + 1]; p++) {
      const v = irUsers[p];
      if (v === f.u) continue;
      const rj = bl ? irRatings[p] - (mu + bl.bi[j] + bl.bu[v]) : irRatings[p];
      if (freq[v]++ === 0) touched.push(v);
      if (o.name === 'msd') {
        const d = ri - rj;
        prods[v] += d * d;
        continue;
      }
      prods[v] += ri * rj;
      sqi[v] += ri * ri;
      sqj[v] += rj * rj;
      si[v] += ri;
      sj[v] += rj;
    }
  }
  touched.sort((a, b) => a - b);
  const minSprt = baseline ? Math.max(2, o.minSupport) : o.minSupport;
  const cols: number[] = [];
  const values: number[] = [];
  for (const v of touched) {
    const n = freq[v];
    if (n < minSprt) continue;
    let s = 0;
    if (o.name === 'msd') s = 1 / (prods[v] / n + 1);
    else if (o.name === 'pearson') {
      const num = n * prods[v] - si[v] * sj[v];
      const den = Math.sqrt((n * sqi[v] - si[v] * si[v]) * (n * sqj[v] - sj[v] * sj[v]));
      s = den === 0 ? 0 : num / den;
    } else {
      const den = Math.sqrt(sqi[v] * sqj[v]);
      s = den === 0 ? 0 : prods[v] / den;
      if (baseline) s *= (n - 1) / (n - 1 + o.shrinkage);
    }
    if (s === 0) continue;
    cols.push(v);
    values.push(s);
  }
  f.simCols = Int32Array.from(cols);
  f.simValues = Float64Array.from(values);
}
