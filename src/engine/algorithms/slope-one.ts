/**
 * SlopeOne: predicts from the average differences between the ratings of pairs of items.
 *
 * Prediction: `r̂_ui = μ_u + (1 / |R_i(u)|) Σ_{j ∈ R_i(u)} dev(i, j)`, where `μ_u` is the mean
 * rating of user u, `R_i(u)` the items j rated by u that share at least one user with i, and
 * `dev(i, j) = (1 / |U_ij|) Σ_{v ∈ U_ij} (r_vi − r_vj)` over the users `U_ij` who rated both.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/slope_one.pyx exactly: the sums
 * `Σ (r_vi − r_vj)` run over users in inner-id order, `dev(i, j)` is computed for i < j and
 * `dev(j, i) = −dev(i, j)`, `μ_u` is `numpy.mean` of `ur[u]` (pairwise summation), and the sum of
 * `dev(i, j)` in `estimate` runs over `ur[u]` in order, left to right. Estimates therefore equal
 * Surprise's to the last bit. One deliberate difference: Surprise declares the ratings `int` in
 * its Cython loop, truncating half stars; here ratings are used as they are.
 *
 * Storage: Surprise keeps two dense nItems × nItems matrices (`freq`, `dev`). Here only the pairs
 * with a common user are stored, once each (i < j), in compressed rows: row i holds the items
 * `j > i` (ascending) with `freq(i, j) = |U_ij| > 0` and `dev(i, j)`. `freq(i, i)` is the number of
 * ratings of i and `dev(i, i) = 0`. Estimates read a dense nItems × nItems copy of `dev` when it
 * fits (`SlopeOne.denseLimit`, e.g. ml-100k and ml-1m); otherwise they binary-search the rows, and
 * when many estimates come in a row for one user (top-N candidates, a testset sorted by user) all
 * the user's estimates are computed in one pass over the partners of the user's items. All three
 * ways add the same terms in the same order.
 *
 * Unknown user or item: `PredictionImpossible('User and/or item is unknown.')`, as Surprise.
 *
 * Reference: D. Lemire, A. Maclachlan, "Slope One Predictors for Online Rating-Based
 * Collaborative Filtering", SDM 2005.
 */
import { AlgoBase, PredictionImpossible, requireArray, type AlgoState } from './base';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { pairwiseSum } from '../numeric';

export class SlopeOne extends AlgoBase {
  static readonly algorithmName = 'SlopeOne';
  static readonly description =
    "Slope One: the user's mean rating plus the mean deviation between the item and the items the user rated.";
  static readonly paramSpecs: ParamSpecs = {};
  /**
   * Largest nItems² for which estimates read a dense nItems × nItems table of `dev` (built after
   * fit or import; 2^24 entries = 128 MiB, about 4096 items: ml-100k and ml-1m); above it they binary-search the compressed rows. Both
   * give the same estimates.
   */
  static denseLimit = 1 << 24;

  /** Mean rating `μ_u` of each user (length nUsers), as `numpy.mean`. */
  userMean: Float64Array = new Float64Array(0);
  /** Start of row i in `pairItems`/`pairFreq`/`pairDev` (length nItems + 1). */
  pairOffsets: Int32Array = new Int32Array(1);
  /** The items j > i that share a user with i, ascending within each row. */
  pairItems: Int32Array = new Int32Array(0);
  /** `freq(i, j)`: number of users who rated both i and j (≥ 1). */
  pairFreq: Int32Array = new Int32Array(0);
  /** `dev(i, j)`: mean of `r_vi − r_vj` over those users. */
  pairDev: Float64Array = new Float64Array(0);
  /**
   * Dense copy for fast estimates when nItems² ≤ `SlopeOne.denseLimit`: `devDense[i * nItems + j] =
   * dev(i, j)`, NaN where no user rated both; empty otherwise (estimates then binary-search the
   * rows). Derived from the pair arrays after fit or import.
   */
  private devDense: Float64Array = new Float64Array(0);
  /**
   * Without the dense table: the pairs (i, j), i < j, listed by their larger item j (i ascending),
   * as item i and position in the pair arrays; with the rows they give every item's partners.
   */
  private colOffsets: Int32Array = new Int32Array(0);
  private colItems: Int32Array = new Int32Array(0);
  private colPairs: Int32Array = new Int32Array(0);
  /** Estimates of every item for `cacheUser` (sparse storage, many estimates for one user). */
  private cacheUser = -1;
  private cacheEst: Float64Array = new Float64Array(0);
  private cacheCount: Int32Array = new Int32Array(0);
  private lastUser = -1;
  private sameUserCalls = 0;

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const { nUsers, nItems, urOffsets, urItems, urRatings } = trainset;

    const n = urItems.length;
    // Item columns with users in inner-id order (Surprise accumulates freq and dev user by user),
    // then user rows sorted by item, built from the columns; pos[c] is where column entry c sits
    // in its user's sorted row, so that the items j > i of that user follow it.
    const colOffsets = new Int32Array(nItems + 1);
    for (let k = 0; k < n; k++) colOffsets[urItems[k] + 1]++;
    for (let i = 0; i < nItems; i++) colOffsets[i + 1] += colOffsets[i];
    const colCursor = colOffsets.slice(0, nItems);
    const colUsers = new Int32Array(n);
    const colRatings = new Float64Array(n);
    for (let u = 0; u < nUsers; u++) {
      for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
        const c = colCursor[urItems[k]]++;
        colUsers[c] = u;
        colRatings[c] = urRatings[k];
      }
    }
    const rowCursor = urOffsets.slice(0, nUsers);
    const rowItems = new Int32Array(n);
    const rowRatings = new Float64Array(n);
    const pos = new Int32Array(n);
    for (let i = 0; i < nItems; i++) {
      for (let c = colOffsets[i]; c < colOffsets[i + 1]; c++) {
        const k = rowCursor[colUsers[c]]++;
        rowItems[k] = i;
        rowRatings[k] = colRatings[c];
        pos[c] = k;
      }
    }

    const sum = new Float64Array(nItems);
    const freq = new Int32Array(nItems);
    const touched = new Int32Array(nItems);
    const pairOffsets = new Int32Array(nItems + 1);
    // Room for the pairs: at most one per item pair and one per pair of a user's ratings (up to
    // 4M to start with; grown when needed).
    let maxPairs = (nItems * (nItems - 1)) / 2;
    let userPairs = 0;
    for (let u = 0; u < nUsers; u++) {
      const d = urOffsets[u + 1] - urOffsets[u];
      userPairs += (d * (d - 1)) / 2;
    }
    maxPairs = Math.min(maxPairs, userPairs, 1 << 22);
    let items = new Int32Array(Math.max(16, maxPairs));
    let freqs = new Int32Array(items.length);
    let devs = new Float64Array(items.length);
    let nnz = 0;
    for (let i = 0; i < nItems; i++) {
      let nTouched = 0;
      for (let c = colOffsets[i]; c < colOffsets[i + 1]; c++) {
        const rUi = colRatings[c];
        const end = urOffsets[colUsers[c] + 1];
        for (let k = pos[c] + 1; k < end; k++) {
          const j = rowItems[k];
          if (freq[j] === 0) touched[nTouched++] = j;
          freq[j]++;
          sum[j] += rUi - rowRatings[k];
        }
      }
      if (nnz + nTouched > items.length) {
        const cap = Math.max(items.length * 2, nnz + nTouched);
        items = grow(items, cap);
        freqs = grow(freqs, cap);
        devs = grow(devs, cap);
      }
      // The row's items in ascending order: sort the few touched ones, or scan when many are.
      const sparse = nTouched * 16 < nItems - i;
      if (sparse) touched.subarray(0, nTouched).sort();
      const last = sparse ? nTouched : nItems;
      for (let t = sparse ? 0 : i + 1; t < last; t++) {
        const j = sparse ? touched[t] : t;
        const fj = freq[j];
        if (fj === 0) continue;
        items[nnz] = j;
        freqs[nnz] = fj;
        devs[nnz] = sum[j] / fj;
        nnz++;
        freq[j] = 0;
        sum[j] = 0;
      }
      pairOffsets[i + 1] = nnz;
    }

    const userMean = new Float64Array(nUsers);
    for (let u = 0; u < nUsers; u++) {
      userMean[u] =
        pairwiseSum(urRatings, urOffsets[u], urOffsets[u + 1]) / (urOffsets[u + 1] - urOffsets[u]);
    }
    this.userMean = userMean;
    this.pairOffsets = pairOffsets;
    this.pairItems = items.slice(0, nnz);
    this.pairFreq = freqs.slice(0, nnz);
    this.pairDev = devs.slice(0, nnz);
    this.buildDense();
    return this;
  }

  /**
   * Prepares the estimates: the dense table when the item count allows it, else the column index
   * of the pairs (for per-user batches of estimates).
   */
  private buildDense(): void {
    const n = this.trainset.nItems;
    this.cacheUser = -1;
    this.lastUser = -1;
    this.sameUserCalls = 0;
    if (n * n > SlopeOne.denseLimit) {
      this.devDense = new Float64Array(0);
      this.buildColumns();
      return;
    }
    this.colOffsets = new Int32Array(0);
    this.colItems = new Int32Array(0);
    this.colPairs = new Int32Array(0);
    this.cacheEst = new Float64Array(0);
    this.cacheCount = new Int32Array(0);
    const dense = new Float64Array(n * n).fill(NaN);
    const { pairOffsets, pairItems, pairDev } = this;
    for (let i = 0; i < n; i++) {
      dense[i * n + i] = 0;
      for (let k = pairOffsets[i]; k < pairOffsets[i + 1]; k++) {
        const j = pairItems[k];
        dense[i * n + j] = pairDev[k];
        dense[j * n + i] = -pairDev[k];
      }
    }
    this.devDense = dense;
  }

  /** Position of the pair (a, b), a < b, in the pair arrays, or −1 when no user rated both. */
  private pairIndex(a: number, b: number): number {
    const items = this.pairItems;
    let lo = this.pairOffsets[a];
    let hi = this.pairOffsets[a + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = items[mid];
      if (v < b) lo = mid + 1;
      else if (v > b) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /**
   * `freq(i, j)`: the number of users who rated both items (inner ids); `freq(i, i)` is the number
   * of ratings of i. @throws RangeError for an id outside the trainset.
   */
  freq(i: number, j: number): number {
    this.checkItems(i, j);
    if (i === j) return this.trainset.itemDegree(i);
    const k = i < j ? this.pairIndex(i, j) : this.pairIndex(j, i);
    return k < 0 ? 0 : this.pairFreq[k];
  }

  /**
   * `dev(i, j)`: the mean of `r_ui − r_uj` over the users who rated both (inner ids); 0 when none
   * did, and for i = j. @throws RangeError for an id outside the trainset.
   */
  dev(i: number, j: number): number {
    this.checkItems(i, j);
    if (i === j) return 0;
    if (i < j) {
      const k = this.pairIndex(i, j);
      return k < 0 ? 0 : this.pairDev[k];
    }
    const k = this.pairIndex(j, i);
    return k < 0 ? 0 : -this.pairDev[k];
  }

  private checkItems(i: number, j: number): void {
    const ts = this.trainset;
    for (const x of [i, j]) {
      if (!ts.knowsItem(x)) throw new RangeError(`${x} is not a valid inner item id.`);
    }
  }

  /** The pairs listed by their larger item (see `colOffsets`). */
  private buildColumns(): void {
    const n = this.trainset.nItems;
    const { pairOffsets, pairItems } = this;
    const nnz = pairItems.length;
    const colOffsets = new Int32Array(n + 1);
    for (let p = 0; p < nnz; p++) colOffsets[pairItems[p] + 1]++;
    for (let j = 0; j < n; j++) colOffsets[j + 1] += colOffsets[j];
    const cursor = colOffsets.slice(0, n);
    const colItems = new Int32Array(nnz);
    const colPairs = new Int32Array(nnz);
    for (let i = 0; i < n; i++) {
      for (let p = pairOffsets[i]; p < pairOffsets[i + 1]; p++) {
        const c = cursor[pairItems[p]]++;
        colItems[c] = i;
        colPairs[c] = p;
      }
    }
    this.colOffsets = colOffsets;
    this.colItems = colItems;
    this.colPairs = colPairs;
    this.cacheEst = new Float64Array(n);
    this.cacheCount = new Int32Array(n);
  }

  /**
   * Estimates every item for user u at once into `cacheEst`: for each j of ur[u] in order, adds
   * dev(i, j) to item i's sum for every partner i of j. Each item's sum thus receives the same
   * terms in the same order as in `estimate`, so the results are the same bits.
   */
  private fillUserCache(u: number): void {
    const { urOffsets, urItems } = this.trainset;
    const { pairOffsets, pairItems, pairDev, colOffsets, colItems, colPairs } = this;
    const sum = this.cacheEst;
    const cnt = this.cacheCount;
    sum.fill(0);
    cnt.fill(0);
    for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
      const j = urItems[k];
      cnt[j]++; // dev(j, j) = 0
      for (let p = pairOffsets[j]; p < pairOffsets[j + 1]; p++) {
        const i = pairItems[p]; // i > j: dev(i, j) = −dev(j, i)
        sum[i] += -pairDev[p];
        cnt[i]++;
      }
      for (let c = colOffsets[j]; c < colOffsets[j + 1]; c++) {
        const i = colItems[c]; // i < j: dev(i, j) is stored
        sum[i] += pairDev[colPairs[c]];
        cnt[i]++;
      }
    }
    const mu = this.userMean[u];
    for (let i = 0; i < sum.length; i++) sum[i] = cnt[i] > 0 ? mu + sum[i] / cnt[i] : mu;
    this.cacheUser = u;
  }

  /**
   * `μ_u + mean of dev(i, j) over the items j of ur[u] sharing a user with i`, or `μ_u` when
   * there is none. @throws PredictionImpossible when the user or the item is unknown.
   */
  estimate(u: number, i: number): number {
    if (u < 0 || i < 0) throw new PredictionImpossible('User and/or item is unknown.');
    const { urOffsets, urItems, nItems } = this.trainset;
    const devs = this.pairDev;
    const dense = this.devDense;
    let sum = 0;
    let n = 0;
    if (dense.length > 0) {
      const row = i * nItems;
      for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
        const d = dense[row + urItems[k]];
        if (d === d) {
          sum += d;
          n++;
        }
      }
      return n > 0 ? this.userMean[u] + sum / n : this.userMean[u];
    }
    // Many estimates in a row for one user (top-N candidates, testsets sorted by user): estimate
    // all items for that user once.
    if (u === this.cacheUser) return this.cacheEst[i];
    this.sameUserCalls = u === this.lastUser ? this.sameUserCalls + 1 : 1;
    this.lastUser = u;
    if (this.sameUserCalls >= BATCH_AFTER) {
      this.fillUserCache(u);
      return this.cacheEst[i];
    }
    for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
      const j = urItems[k];
      if (j === i) {
        n++; // freq(i, i) > 0 and dev(i, i) = 0
      } else if (i < j) {
        const p = this.pairIndex(i, j);
        if (p >= 0) {
          sum += devs[p];
          n++;
        }
      } else {
        const p = this.pairIndex(j, i);
        if (p >= 0) {
          sum += -devs[p];
          n++;
        }
      }
    }
    let est = this.userMean[u];
    if (n > 0) est += sum / n;
    return est;
  }

  override exportState(): AlgoState {
    return {
      values: {},
      arrays: {
        userMean: this.userMean,
        pairOffsets: this.pairOffsets,
        pairItems: this.pairItems,
        pairFreq: this.pairFreq,
        pairDev: this.pairDev,
      },
    };
  }

  override importState(state: AlgoState): void {
    const { nUsers, nItems } = this.trainset;
    const offsets = requireArray(state, 'pairOffsets', nItems + 1, Int32Array);
    const nnz = offsets[nItems];
    this.userMean = requireArray(state, 'userMean', nUsers, Float64Array);
    this.pairItems = requireArray(state, 'pairItems', nnz, Int32Array);
    this.pairFreq = requireArray(state, 'pairFreq', nnz, Int32Array);
    this.pairDev = requireArray(state, 'pairDev', nnz, Float64Array);
    this.pairOffsets = offsets;
    this.buildDense();
  }
}

function grow<T extends Int32Array | Float64Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** Consecutive estimates for one user after which the sparse storage estimates all its items. */
const BATCH_AFTER = 16;
