/**
 * CoClustering: users and items are grouped into clusters and co-clusters, k-means style.
 *
 * Prediction: `r̂_ui = C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i)`, where `C̄_ui` is the mean rating of
 * the co-cluster (u's cluster, i's cluster), `C̄_u` of u's cluster, `C̄_i` of i's cluster, and
 * `μ_u`, `μ_i` the user's and item's mean ratings. If the user or the item is unknown, the estimate
 * is the global mean μ (what Surprise 1.1.4's `estimate` returns; its branches meant to return
 * `μ_i` / `μ_u` are unreachable there, and are kept unreachable here to agree with it).
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/co_clustering.pyx (itself after
 * MyMediaLite's CoClustering):
 *
 * ```
 * rng = get_rng(random_state)
 * cltr_u = rng.randint(n_cltr_u, size=n_users);  cltr_i = rng.randint(n_cltr_i, size=n_items)
 * user_mean[u] = mean(ur[u]);  item_mean[i] = mean(ir[i])          (numpy.mean)
 * for epoch in range(n_epochs):
 *     avg_cltr_u, avg_cltr_i, avg_cocltr = compute_averages(cltr_u, cltr_i)
 *     for u in all_users:  cltr_u[u] = argmin_uc Σ_{(i,r) ∈ ur[u]} (r − est(uc, cltr_i[i]))²
 *     for i in all_items:  cltr_i[i] = argmin_ic Σ_{(u,r) ∈ ir[i]} (r − est(cltr_u[u], ic))²
 * avg_cltr_u, avg_cltr_i, avg_cocltr = compute_averages(cltr_u, cltr_i)
 * ```
 *
 * with `est(uc, ic) = avg_cocltr[uc,ic] + user_mean[u] − avg_cltr_u[uc] + item_mean[i] −
 * avg_cltr_i[ic]`, and a cluster's average set to the global mean when it is empty. `argmin` takes
 * the first minimum. One deliberate difference: Surprise's Cython code declares ratings and
 * cluster sums `int`, truncating half stars; here ratings are used as they are (identical for
 * whole-star data such as ml-100k).
 *
 * Reference: T. George, S. Merugu, "A Scalable Collaborative Filtering Framework based on
 * Co-clustering", ICDM 2005.
 */
import { AlgoBase, requireArray, type AlgoState } from './base';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng } from '../random';
import { pairwiseSum } from '../numeric';

export class CoClustering extends AlgoBase {
  static readonly algorithmName = 'CoClustering';
  static readonly description =
    'Co-clustering of users and items (k-means style); the estimate adds user and item offsets to the co-cluster mean.';
  static readonly paramSpecs: ParamSpecs = {
    nCltrU: { type: 'int', default: 3, min: 1, doc: 'Number of user clusters.' },
    nCltrI: { type: 'int', default: 3, min: 1, doc: 'Number of item clusters.' },
    nEpochs: { type: 'int', default: 20, min: 0, doc: 'Number of iterations of the optimisation.' },
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the initial random clusters (whole number in [0, 2^32 − 1]); the same seed gives the same model. null draws a seed from the operating system.',
    },
  };

  /** Cluster of each user, in [0, nCltrU) (length nUsers). */
  cltrU: Int32Array = new Int32Array(0);
  /** Cluster of each item, in [0, nCltrI) (length nItems). */
  cltrI: Int32Array = new Int32Array(0);
  /** Mean rating of each user (length nUsers). */
  userMean: Float64Array = new Float64Array(0);
  /** Mean rating of each item (length nItems). */
  itemMean: Float64Array = new Float64Array(0);
  /** Mean rating of each user cluster (length nCltrU). */
  avgCltrU: Float64Array = new Float64Array(0);
  /** Mean rating of each item cluster (length nCltrI). */
  avgCltrI: Float64Array = new Float64Array(0);
  /** Mean rating of each co-cluster, row-major `avgCocltr[uc * nCltrI + ic]` (nCltrU × nCltrI). */
  avgCocltr: Float64Array = new Float64Array(0);

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const nCU = this.params.nCltrU as number;
    const nCI = this.params.nCltrI as number;
    const nEpochs = this.params.nEpochs as number;
    const { nUsers, nItems, urOffsets, urItems, urRatings, irOffsets, irUsers, irRatings } =
      trainset;

    const rng = getRng(this.params.randomState as number | null);
    const cltrU = rng.fillRandint(new Int32Array(nUsers), 0, nCU);
    const cltrI = rng.fillRandint(new Int32Array(nItems), 0, nCI);

    const userMean = new Float64Array(nUsers);
    const itemMean = new Float64Array(nItems);
    for (let u = 0; u < nUsers; u++) {
      const a = urOffsets[u];
      const b = urOffsets[u + 1];
      userMean[u] = pairwiseSum(urRatings, a, b) / (b - a);
    }
    for (let i = 0; i < nItems; i++) {
      const a = irOffsets[i];
      const b = irOffsets[i + 1];
      itemMean[i] = pairwiseSum(irRatings, a, b) / (b - a);
    }

    this.avgCltrU = new Float64Array(nCU);
    this.avgCltrI = new Float64Array(nCI);
    this.avgCocltr = new Float64Array(nCU * nCI);
    const { avgCltrU, avgCltrI, avgCocltr } = this;
    const errorsU = new Float64Array(nCU);
    const errorsI = new Float64Array(nCI);

    for (let epoch = 0; epoch < nEpochs; epoch++) {
      this.computeAverages(cltrU, cltrI);

      for (let u = 0; u < nUsers; u++) {
        const a = urOffsets[u];
        const b = urOffsets[u + 1];
        const um = userMean[u];
        for (let uc = 0; uc < nCU; uc++) {
          const row = uc * nCI;
          const acu = avgCltrU[uc];
          let e = 0;
          for (let k = a; k < b; k++) {
            const i = urItems[k];
            const ic = cltrI[i];
            const est = avgCocltr[row + ic] + um - acu + itemMean[i] - avgCltrI[ic];
            const d = urRatings[k] - est;
            e += d * d;
          }
          errorsU[uc] = e;
        }
        cltrU[u] = argmin(errorsU);
      }

      for (let i = 0; i < nItems; i++) {
        const a = irOffsets[i];
        const b = irOffsets[i + 1];
        const im = itemMean[i];
        for (let ic = 0; ic < nCI; ic++) {
          const aci = avgCltrI[ic];
          let e = 0;
          for (let k = a; k < b; k++) {
            const u = irUsers[k];
            const uc = cltrU[u];
            const est = avgCocltr[uc * nCI + ic] + userMean[u] - avgCltrU[uc] + im - aci;
            const d = irRatings[k] - est;
            e += d * d;
          }
          errorsI[ic] = e;
        }
        cltrI[i] = argmin(errorsI);
      }
    }
    this.computeAverages(cltrU, cltrI);

    this.cltrU = cltrU;
    this.cltrI = cltrI;
    this.userMean = userMean;
    this.itemMean = itemMean;
    return this;
  }

  /**
   * Surprise's `compute_averages`: fills `avgCltrU`, `avgCltrI`, `avgCocltr` with the mean rating
   * of each user cluster, item cluster and co-cluster for the given assignments (sums in
   * `allRatings()` order), or the global mean for an empty one.
   */
  private computeAverages(cltrU: Int32Array, cltrI: Int32Array): void {
    const ts = this.trainset;
    const { nUsers, urOffsets, urItems, urRatings, globalMean } = ts;
    const nCU = this.params.nCltrU as number;
    const nCI = this.params.nCltrI as number;
    const countU = new Float64Array(nCU);
    const countI = new Float64Array(nCI);
    const countCo = new Float64Array(nCU * nCI);
    const sumU = new Float64Array(nCU);
    const sumI = new Float64Array(nCI);
    const sumCo = new Float64Array(nCU * nCI);
    for (let u = 0; u < nUsers; u++) {
      const uc = cltrU[u];
      for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
        const ic = cltrI[urItems[k]];
        const r = urRatings[k];
        countU[uc]++;
        countI[ic]++;
        countCo[uc * nCI + ic]++;
        sumU[uc] += r;
        sumI[ic] += r;
        sumCo[uc * nCI + ic] += r;
      }
    }
    for (let uc = 0; uc < nCU; uc++) {
      this.avgCltrU[uc] = countU[uc] ? sumU[uc] / countU[uc] : globalMean;
    }
    for (let ic = 0; ic < nCI; ic++) {
      this.avgCltrI[ic] = countI[ic] ? sumI[ic] / countI[ic] : globalMean;
    }
    for (let c = 0; c < nCU * nCI; c++) {
      this.avgCocltr[c] = countCo[c] ? sumCo[c] / countCo[c] : globalMean;
    }
  }

  /**
   * `C̄_ui + (μ_u − C̄_u) + (μ_i − C̄_i)` for a known user and item; the global mean otherwise
   * (as Surprise, which does not raise here).
   */
  estimate(u: number, i: number): number {
    if (u < 0 || i < 0) return this.trainset.globalMean;
    const uc = this.cltrU[u];
    const ic = this.cltrI[i];
    const nCI = this.params.nCltrI as number;
    return (
      this.avgCocltr[uc * nCI + ic] +
      this.userMean[u] -
      this.avgCltrU[uc] +
      this.itemMean[i] -
      this.avgCltrI[ic]
    );
  }

  override exportState(): AlgoState {
    return {
      values: {},
      arrays: {
        cltrU: this.cltrU,
        cltrI: this.cltrI,
        userMean: this.userMean,
        itemMean: this.itemMean,
        avgCltrU: this.avgCltrU,
        avgCltrI: this.avgCltrI,
        avgCocltr: this.avgCocltr,
      },
    };
  }

  override importState(state: AlgoState): void {
    const { nUsers, nItems } = this.trainset;
    const nCU = this.params.nCltrU as number;
    const nCI = this.params.nCltrI as number;
    this.cltrU = requireArray(state, 'cltrU', nUsers, Int32Array);
    this.cltrI = requireArray(state, 'cltrI', nItems, Int32Array);
    this.userMean = requireArray(state, 'userMean', nUsers, Float64Array);
    this.itemMean = requireArray(state, 'itemMean', nItems, Float64Array);
    this.avgCltrU = requireArray(state, 'avgCltrU', nCU, Float64Array);
    this.avgCltrI = requireArray(state, 'avgCltrI', nCI, Float64Array);
    this.avgCocltr = requireArray(state, 'avgCocltr', nCU * nCI, Float64Array);
  }
}

/** Index of the first smallest value (`numpy.argmin`; a NaN counts as the smallest, as numpy). */
function argmin(a: Float64Array): number {
  let best = 0;
  if (Number.isNaN(a[0])) return 0;
  for (let k = 1; k < a.length; k++) {
    if (Number.isNaN(a[k])) return k;
    if (a[k] < a[best]) best = k;
  }
  return best;
}
