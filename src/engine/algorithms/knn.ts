/**
 * The k-NN family: KNNBasic, KNNWithMeans, KNNWithZScore and KNNBaseline, as Surprise 1.1.4
 * (surprise/prediction_algorithms/knns.py: `SymmetricAlgo` and its subclasses).
 *
 * Each predicts `r̂_ui` from the k most similar users who rated i (user-based, the default) or the
 * k items most similar to i that u rated (item-based, `simOptions.userBased = false`). Surprise's
 * notation: when user-based, `x` is the user and `y` the item, otherwise the reverse.
 *
 * Neighbour selection is Surprise's `heapq.nlargest(k, neighbors, key=sim)`: the candidates are
 * the raters of y in the order of Surprise's `yr[y]` (the trainset's `ir[i]` or `ur[u]` order),
 * and the k largest similarities are taken as a stable descending sort would (ties keep the order
 * of `yr[y]`); they are then visited in that order and only those with `sim > 0` contribute. The
 * sums are evaluated in Surprise's order, so estimates agree with Surprise's to the last bits.
 *
 * Details of every estimate: `{ actualK }`, the number of neighbours that contributed.
 */
import { AlgoBase, PredictionImpossible, requireArray } from './base';
import type { AlgoState, EstimateResult } from './base';
import type { Trainset } from '../trainset';
import type { ParamSpecs, ParamValues } from '../params';
import { mean, pairwiseSum } from '../numeric';
import type { KnnFold } from '../knn-fold-in';
import { BSL_OPTIONS_SPEC, computeBaselines, type Baselines } from './baselines';
import {
  SIM_OPTIONS_SPEC,
  computeSimilarities,
  memoryBudgetBytes,
  similarityMatrixBytes,
  toSimOptions,
  type SimOptions,
} from '../similarities';
import { StableTopK } from '../neighbor-selection';
import {
  SparseRowReader,
  computeSparseSimilarities,
  type SparseSimilarities,
} from '../sparse-similarities';

/** Parameters shared by the four k-NN algorithms. */
const KNN_PARAM_SPECS: ParamSpecs = {
  k: {
    type: 'int',
    default: 40,
    min: 1,
    doc: 'The (max) number of neighbours taken into account for aggregation.',
  },
  minK: {
    type: 'int',
    default: 1,
    min: 1,
    doc: 'The minimum number of neighbours (with a positive similarity) for a neighbourhood estimate.',
  },
  simOptions: SIM_OPTIONS_SPEC,
  bslOptions: {
    ...BSL_OPTIONS_SPEC,
    doc:
      'Options of the baselines used by the pearson_baseline similarity (and by KNNBaseline): ' +
      BSL_OPTIONS_SPEC.doc,
  },
  memoryBudgetBytes: {
    type: 'int',
    default: null,
    nullable: true,
    min: 1,
    doc: 'Largest similarities allowed, in bytes; null: REELGRAPH_MEMORY_BUDGET or 2 GiB. Dense storage fails with a clear error, before allocating, when the n × n float64 matrix would be larger; sparse storage (and auto past the budget) fails, naming the bytes, as soon as its rows pass it.',
  },
  similarityStorage: {
    type: 'enum',
    values: ['auto', 'dense', 'sparse'],
    default: 'auto',
    doc: 'How the similarities are kept: dense (the n × n float64 matrix), sparse (rows of the non-zero similarities of pairs sharing a rater or item: 12 bytes per entry, both directions), or auto (dense when it fits memoryBudgetBytes, else sparse). Estimates are identical either way.',
  },
};

const UNKNOWN = 'User and/or item is unknown.';
const NOT_ENOUGH = 'Not enough neighbors.';

/**
 * The common part of the k-NN algorithms (Surprise's `SymmetricAlgo` plus the neighbour
 * selection of each `estimate`). Not registered itself.
 */
export abstract class SymmetricAlgo extends AlgoBase {
  /** The (max) number of neighbours. */
  readonly k: number;
  /** The minimum number of contributing neighbours. */
  readonly minK: number;
  /** The resolved similarity options. */
  readonly simOptions: SimOptions;
  /** The similarity matrix, row-major nX × nX (undefined before fit or when sparse). */
  protected sim?: Float64Array;
  /** The similarities as sparse rows (when stored sparse; undefined otherwise). */
  protected sparseSim?: SparseSimilarities;
  private sparseRows?: SparseRowReader;
  /** Number of users (user-based) or items. */
  protected nX = 0;
  /** Surprise's `yr`: start of each y's row; the trainset's `irOffsets` (user-based) or `urOffsets`. */
  protected yrOffsets: Int32Array = new Int32Array(1);
  /** Surprise's `yr`: the x of each rating, by y row (`irUsers` or `urItems`), in trainset order. */
  protected yrXs: Int32Array = new Int32Array(0);
  /** Surprise's `yr`: the rating value, same positions as `yrXs`. */
  protected yrRatings: Float64Array = new Float64Array(0);
  // Scratch of the neighbour selection: the chosen neighbours in Surprise's order.
  private selSim = new Float64Array(0);
  private selX = new Int32Array(0);
  private selR = new Float64Array(0);
  private selPos = new Int32Array(0);
  private topK = new StableTopK(0);

  constructor(params?: Record<string, unknown>) {
    super(params);
    this.k = this.params.k as number;
    this.minK = this.params.minK as number;
    this.simOptions = toSimOptions(this.params.simOptions as ParamValues);
  }

  /** Bytes of the similarities (dense: nX² × 8; sparse: the rows); 0 before fit. */
  get similarityBytes(): number {
    if (this.sparseSim) return this.sparseSim.bytes;
    return this.sim ? this.sim.byteLength : 0;
  }

  /** Whether the fitted similarities are stored as sparse rows. */
  get similarityIsSparse(): boolean {
    return this.sparseSim !== undefined;
  }

  /**
   * The similarity matrix (row-major, nX × nX).
   * @throws Error before fit, or when the similarities are stored sparse (see `similarityRow`).
   */
  get similarityMatrix(): Float64Array {
    if (this.sparseSim) {
      throw new Error(
        `${this.name} keeps its similarities as sparse rows (similarityStorage); use similarityRow(x)`,
      );
    }
    if (!this.sim) throw new Error(`${this.name} is not fitted: call fit(trainset) first`);
    return this.sim;
  }

  /** Row x of the similarities, dense (a view valid until the next call). @throws Error before fit. */
  similarityRow(x: number): Float64Array {
    if (this.sparseRows) return this.sparseRows.row(x);
    const sim = this.similarityMatrix;
    return sim.subarray(x * this.nX, (x + 1) * this.nX);
  }

  /** Sets up `yr` and the selection scratch for the current trainset (Surprise's `SymmetricAlgo.fit`). */
  protected setUpRows(trainset: Trainset): void {
    const ub = this.simOptions.userBased;
    this.nX = ub ? trainset.nUsers : trainset.nItems;
    this.yrOffsets = ub ? trainset.irOffsets : trainset.urOffsets;
    this.yrXs = ub ? trainset.irUsers : trainset.urItems;
    this.yrRatings = ub ? trainset.irRatings : trainset.urRatings;
    let maxDeg = 0;
    for (let y = 0; y + 1 < this.yrOffsets.length; y++) {
      maxDeg = Math.max(maxDeg, this.yrOffsets[y + 1] - this.yrOffsets[y]);
    }
    const size = Math.min(this.k, maxDeg);
    this.selSim = new Float64Array(size);
    this.selX = new Int32Array(size);
    this.selR = new Float64Array(size);
    this.selPos = new Int32Array(size);
    this.topK = new StableTopK(maxDeg);
  }

  /** Computes the similarity matrix (Surprise's `compute_similarities`), with `baselines` for pearson_baseline. */
  protected computeSim(trainset: Trainset, baselines?: Baselines): void {
    if (this.simOptions.name === 'pearson_baseline' && !baselines) {
      baselines = computeBaselines(trainset, this.params.bslOptions as ParamValues);
    }
    const extras = { baselines, memoryBudgetBytes: this.params.memoryBudgetBytes as number | null };
    let storage = this.params.similarityStorage as 'auto' | 'dense' | 'sparse';
    if (storage === 'auto') {
      const fits = similarityMatrixBytes(this.nX) <= memoryBudgetBytes(extras.memoryBudgetBytes);
      storage = fits ? 'dense' : 'sparse';
    }
    this.sim = undefined;
    this.sparseSim = undefined;
    this.sparseRows = undefined;
    if (storage === 'dense') {
      this.sim = computeSimilarities(trainset, this.simOptions, extras).values;
    } else {
      this.useSparse(computeSparseSimilarities(trainset, this.simOptions, extras));
    }
  }

  private useSparse(s: SparseSimilarities): void {
    this.sparseSim = s;
    this.sparseRows = new SparseRowReader(s);
  }

  /** x from `(u, i)`: the user when user-based, else the item (Surprise's `switch`). */
  protected xOf(u: number, i: number): number {
    return this.simOptions.userBased ? u : i;
  }

  /** y from `(u, i)`: the item when user-based, else the user (Surprise's `switch`). */
  protected yOf(u: number, i: number): number {
    return this.simOptions.userBased ? i : u;
  }

  /**
   * Selects the neighbours of x among the raters of y: Surprise's
   * `heapq.nlargest(k, [(x2, sim[x, x2], r) for (x2, r) in yr[y]], key=sim)`. Fills the scratch
   * arrays with the chosen (x2, sim, r) in descending similarity, ties in `yr[y]` order.
   * @returns the number chosen (≤ k).
   */
  protected selectNeighbors(x: number, y: number): number {
    const sim = this.sparseRows ? this.sparseRows.row(x) : this.sim!;
    const row = this.sparseRows ? 0 : x * this.nX;
    const selPos = this.selPos;
    const cnt = this.topK.select(
      sim,
      row,
      this.yrXs,
      this.yrOffsets[y],
      this.yrOffsets[y + 1],
      this.selSim.length,
      selPos,
      this.selSim,
    );
    for (let j = 0; j < cnt; j++) {
      this.selX[j] = this.yrXs[selPos[j]];
      this.selR[j] = this.yrRatings[selPos[j]];
    }
    return cnt;
  }

  /** Neighbour j of the last selection: similarity. */
  protected nbSim(j: number): number {
    return this.selSim[j];
  }

  /** Neighbour j of the last selection: inner id (user when user-based, else item). */
  protected nbId(j: number): number {
    return this.selX[j];
  }

  /** Neighbour j of the last selection: its rating of y. */
  protected nbRating(j: number): number {
    return this.selR[j];
  }

  /** Results of the last `aggregate`: Σ sim, Σ contribution, and the number of contributors. */
  protected sumSim = 0;
  protected sumRatings = 0;
  protected actualK = 0;

  /**
   * Surprise's aggregation over the neighbours of x among the raters of y (`selectNeighbors`),
   * in its order: for each neighbour j with a similarity s > 0, `sumSim += s`,
   * `sumRatings += contribution(j, s)`, `actualK++`. Results in `sumSim`, `sumRatings`, `actualK`.
   */
  protected aggregate(x: number, y: number): void {
    this.sumSelected(this.selectNeighbors(x, y));
  }

  /**
   * Sums the first `cnt` selected neighbours with a positive similarity (Surprise's k-NN
   * aggregation) into sumSim, sumRatings (through contribution()) and actualK.
   */
  private sumSelected(cnt: number): void {
    let sumSim = 0;
    let sumRatings = 0;
    let actualK = 0;
    for (let j = 0; j < cnt; j++) {
      const s = this.selSim[j];
      if (s > 0) {
        sumSim += s;
        sumRatings += this.contribution(j, s);
        actualK++;
      }
    }
    this.sumSim = sumSim;
    this.sumRatings = sumRatings;
    this.actualK = actualK;
  }

  /**
   * What neighbour j (similarity s > 0) adds to the numerator: `s · r` here (KNNBasic); the other
   * algorithms centre (and scale) the rating.
   */
  protected contribution(j: number, s: number): number {
    return s * this.selR[j];
  }

  /**
   * The centred estimate of KNNWithMeans, KNNWithZScore and KNNBaseline after `aggregate`:
   * `base + (sumRatings / sumSim) · scale`, or `base` when fewer than `minK` neighbours
   * contributed (Surprise then sets sum_ratings to 0) or none did (sumSim 0). `scale` is σ_u
   * for KNNWithZScore, else 1 (multiplying by 1 is exact, so the bits are Surprise's).
   */
  protected centredEstimate(base: number, scale = 1): EstimateResult {
    const sumRatings = this.actualK < this.minK ? 0 : this.sumRatings;
    let est = base;
    if (this.sumSim !== 0) est += (sumRatings / this.sumSim) * scale; // × 1 is exact
    return { est, details: { actualK: this.actualK } };
  }

  /** The last folded user's similarities as a dense row (see aggregateFolded). */
  private foldedRow: { f: KnnFold; sim: Float64Array } | null = null;

  /**
   * Surprise's neighbour aggregation for a folded-in user (engine/knn-fold-in.ts) and inner item
   * `i` (known): user-based, the raters of i with the folded user's own similarities (the user
   * itself, when in the trainset, with similarity 1 and its folded rating); item-based, the items
   * the folded user rated with i's trained similarities. Same selection (k largest, stable) and
   * sums as {@link SymmetricAlgo.aggregate}; results in `sumSim`, `sumRatings`, `actualK`.
   */
  protected aggregateFolded(f: KnnFold, i: number): void {
    const k = this.k;
    const selSim = new Float64Array(k);
    const selX = new Int32Array(k);
    const selR = new Float64Array(k);
    let cnt = 0;
    const offer = (x2: number, s: number, r: number) => {
      let j: number;
      if (cnt < k) j = cnt++;
      else if (s > selSim[k - 1]) j = k - 1;
      else return;
      while (j > 0 && selSim[j - 1] < s) {
        selSim[j] = selSim[j - 1];
        selX[j] = selX[j - 1];
        selR[j] = selR[j - 1];
        j--;
      }
      selSim[j] = s;
      selX[j] = x2;
      selR[j] = r;
    };
    if (this.simOptions.userBased) {
      // the user's similarities scattered into a dense row, kept for the next estimate of the same
      // folded user (a recommendation estimates every movie): one row of nX floats at most
      let sim = this.foldedRow?.f === f ? this.foldedRow.sim : null;
      if (!sim) {
        sim = new Float64Array(this.nX);
        for (let t = 0; t < f.simCols.length; t++) sim[f.simCols[t]] = f.simValues[t];
        this.foldedRow = { f, sim };
      }
      const own = f.items.indexOf(i);
      for (let p = this.yrOffsets[i]; p < this.yrOffsets[i + 1]; p++) {
        const x2 = this.yrXs[p];
        if (x2 === f.u) offer(x2, 1, own >= 0 ? f.ratings[own] : this.yrRatings[p]);
        else offer(x2, sim[x2], this.yrRatings[p]);
      }
    } else {
      const row = this.similarityRow(i);
      for (let t = 0; t < f.items.length; t++) offer(f.items[t], row[f.items[t]], f.ratings[t]);
    }
    // the chosen neighbours take the place of the trained selection for contribution()
    const keep = [this.selSim, this.selX, this.selR] as const;
    this.selSim = selSim;
    this.selX = selX;
    this.selR = selR;
    try {
      this.sumSelected(cnt);
    } finally {
      [this.selSim, this.selX, this.selR] = keep;
    }
  }

  /**
   * The estimate of a folded-in user `f` for inner item `i` (≥ 0), by the algorithm's own formula
   * with the user's folded quantities (engine/knn-fold-in.ts).
   * @throws PredictionImpossible as `estimate` (KNNBasic: not enough neighbours)
   */
  abstract estimateFoldedUser(f: KnnFold, i: number): EstimateResult;

  /**
   * The `k` nearest neighbours of inner id `x` (a user when user-based, else an item): Surprise's
   * `AlgoBase.get_neighbors`, all others sorted by similarity descending (stable, ties by inner id).
   * @throws RangeError when `x` is not a valid inner id; Error before fit.
   */
  getNeighbors(x: number, k: number): number[] {
    if (!this.sim && !this.sparseSim) {
      throw new Error(`${this.name} is not fitted: call fit(trainset) first`);
    }
    if (!Number.isInteger(x) || x < 0 || x >= this.nX) {
      throw new RangeError(
        `${x} is not a valid inner ${this.simOptions.userBased ? 'user' : 'item'} id (0…${this.nX - 1})`,
      );
    }
    const others: number[] = [];
    for (let x2 = 0; x2 < this.nX; x2++) if (x2 !== x) others.push(x2);
    const sim = this.similarityRow(x);
    others.sort((a, b) => sim[b] - sim[a] || a - b);
    return others.slice(0, Math.max(0, k));
  }

  override exportState(): AlgoState {
    if (this.sparseSim) {
      const { offsets, cols, values } = this.sparseSim;
      return { values: {}, arrays: { simOffsets: offsets, simCols: cols, simValues: values } };
    }
    return { values: {}, arrays: { sim: this.similarityMatrix } };
  }

  override importState(state: AlgoState): void {
    this.setUpRows(this.trainset);
    this.sim = undefined;
    this.sparseSim = undefined;
    this.sparseRows = undefined;
    if (state.arrays.simOffsets) {
      const offsets = requireArray(state, 'simOffsets', this.nX + 1, Int32Array);
      const m = offsets[this.nX];
      const cols = requireArray(state, 'simCols', m, Int32Array);
      const values = requireArray(state, 'simValues', m, Float64Array);
      this.useSparse({ n: this.nX, offsets, cols, values, bytes: m * 12 + (this.nX + 1) * 4 });
      return;
    }
    this.sim = requireArray(state, 'sim', this.nX * this.nX, Float64Array);
  }
}

/** Means of each x's ratings, as `np.mean([r for (_, r) in xr[x]])`. */
function rowMeans(offsets: Int32Array, ratings: Float64Array): Float64Array {
  const n = offsets.length - 1;
  const out = new Float64Array(n);
  for (let x = 0; x < n; x++) out[x] = mean(ratings.subarray(offsets[x], offsets[x + 1]));
  return out;
}

/** `np.std(a)`: sqrt(mean(|a − mean(a)|²)) with NumPy's pairwise sums. */
export function npStd(a: Float64Array, scratch: Float64Array): number {
  const m = mean(a);
  const d = scratch.subarray(0, a.length);
  for (let t = 0; t < a.length; t++) {
    const v = a[t] - m;
    d[t] = v * v;
  }
  return Math.sqrt(pairwiseSum(d) / a.length);
}

/** Surprise's `xr`: user rows (user-based) or item rows of the trainset. */
function xRows(ts: Trainset, userBased: boolean): { offsets: Int32Array; ratings: Float64Array } {
  return userBased
    ? { offsets: ts.urOffsets, ratings: ts.urRatings }
    : { offsets: ts.irOffsets, ratings: ts.irRatings };
}

/**
 * KNNBasic: `r̂_ui = Σ_{v ∈ N^k_i(u)} sim(u, v) · r_vi / Σ_{v ∈ N^k_i(u)} sim(u, v)` (user-based;
 * item-based symmetric), over the k nearest neighbours with a positive similarity.
 *
 * Throws `PredictionImpossible('User and/or item is unknown.')` for an unknown user or item and
 * `PredictionImpossible('Not enough neighbors.')` when fewer than `minK` neighbours contribute;
 * the prediction is then the global mean.
 */
export class KNNBasic extends SymmetricAlgo {
  static readonly algorithmName = 'KNNBasic';
  static readonly description =
    'Basic k-NN collaborative filtering: similarity-weighted mean of the neighbours’ ratings.';
  static readonly paramSpecs: ParamSpecs = KNN_PARAM_SPECS;

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    this.setUpRows(trainset);
    this.computeSim(trainset);
    return this;
  }

  override estimate(u: number, i: number): EstimateResult {
    if (u < 0 || i < 0) throw new PredictionImpossible(UNKNOWN);
    this.aggregate(this.xOf(u, i), this.yOf(u, i));
    if (this.actualK < this.minK) throw new PredictionImpossible(NOT_ENOUGH);
    return { est: this.sumRatings / this.sumSim, details: { actualK: this.actualK } };
  }

  estimateFoldedUser(f: KnnFold, i: number): EstimateResult {
    this.aggregateFolded(f, i);
    if (this.actualK < this.minK) throw new PredictionImpossible(NOT_ENOUGH);
    return { est: this.sumRatings / this.sumSim, details: { actualK: this.actualK } };
  }
}

/**
 * KNNWithMeans: `r̂_ui = μ_u + Σ sim(u, v) · (r_vi − μ_v) / Σ sim(u, v)` (user-based; item-based
 * symmetric with item means). With fewer than `minK` contributing neighbours the estimate is the
 * mean `μ_u` (`μ_i`), as Surprise. Unknown user or item: `PredictionImpossible`.
 */
export class KNNWithMeans extends SymmetricAlgo {
  static readonly algorithmName = 'KNNWithMeans';
  static readonly description =
    'k-NN collaborative filtering on mean-centred ratings (each user’s or item’s mean).';
  static readonly paramSpecs: ParamSpecs = KNN_PARAM_SPECS;

  /** Mean rating of each x (user when user-based, else item). */
  means: Float64Array = new Float64Array(0);

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    this.setUpRows(trainset);
    this.computeSim(trainset);
    const xr = xRows(trainset, this.simOptions.userBased);
    this.means = rowMeans(xr.offsets, xr.ratings);
    return this;
  }

  override estimate(u: number, i: number): EstimateResult {
    if (u < 0 || i < 0) throw new PredictionImpossible(UNKNOWN);
    const x = this.xOf(u, i);
    this.aggregate(x, this.yOf(u, i));
    return this.centredEstimate(this.means[x]);
  }

  estimateFoldedUser(f: KnnFold, i: number): EstimateResult {
    this.aggregateFolded(f, i);
    return this.centredEstimate(this.simOptions.userBased ? f.mean : this.means[i]);
  }

  /** `s · (r − μ_v)`. */
  protected override contribution(j: number, s: number): number {
    return s * (this.nbRating(j) - this.means[this.nbId(j)]);
  }

  override exportState(): AlgoState {
    const s = super.exportState();
    s.arrays.means = this.means;
    return s;
  }

  override importState(state: AlgoState): void {
    super.importState(state);
    this.means = requireArray(state, 'means', this.nX, Float64Array);
  }
}

/**
 * KNNWithZScore: `r̂_ui = μ_u + σ_u · Σ sim(u, v) · (r_vi − μ_v) / σ_v / Σ sim(u, v)`
 * (user-based; item-based symmetric). σ is `np.std` of the x's ratings; where it is 0 the
 * standard deviation of all ratings is used (as Surprise). Fewer than `minK` contributing
 * neighbours: the mean. Unknown user or item: `PredictionImpossible`.
 */
export class KNNWithZScore extends SymmetricAlgo {
  static readonly algorithmName = 'KNNWithZScore';
  static readonly description =
    'k-NN collaborative filtering on z-score normalised ratings (mean and standard deviation).';
  static readonly paramSpecs: ParamSpecs = KNN_PARAM_SPECS;

  /** Mean rating of each x. */
  means: Float64Array = new Float64Array(0);
  /** `np.std` of each x's ratings (the overall one where it is 0). */
  sigmas: Float64Array = new Float64Array(0);
  /** Standard deviation of all ratings (used where an x's own is 0). */
  overallSigma = 0;

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    this.setUpRows(trainset);
    const ub = this.simOptions.userBased;
    const scratch = new Float64Array(trainset.nRatings);
    this.overallSigma = npStd(trainset.urRatings, scratch);
    const xr = xRows(trainset, ub);
    this.means = rowMeans(xr.offsets, xr.ratings);
    this.sigmas = new Float64Array(this.nX);
    for (let x = 0; x < this.nX; x++) {
      const sigma = npStd(xr.ratings.subarray(xr.offsets[x], xr.offsets[x + 1]), scratch);
      this.sigmas[x] = sigma === 0 ? this.overallSigma : sigma;
    }
    this.computeSim(trainset);
    return this;
  }

  override estimate(u: number, i: number): EstimateResult {
    if (u < 0 || i < 0) throw new PredictionImpossible(UNKNOWN);
    const x = this.xOf(u, i);
    this.aggregate(x, this.yOf(u, i));
    return this.centredEstimate(this.means[x], this.sigmas[x]);
  }

  estimateFoldedUser(f: KnnFold, i: number): EstimateResult {
    this.aggregateFolded(f, i);
    const ub = this.simOptions.userBased;
    return this.centredEstimate(ub ? f.mean : this.means[i], ub ? f.sigma : this.sigmas[i]);
  }

  /** `s · (r − μ_v) / σ_v`. */
  protected override contribution(j: number, s: number): number {
    const nb = this.nbId(j);
    return (s * (this.nbRating(j) - this.means[nb])) / this.sigmas[nb];
  }

  override exportState(): AlgoState {
    const s = super.exportState();
    s.values.overallSigma = this.overallSigma;
    s.arrays.means = this.means;
    s.arrays.sigmas = this.sigmas;
    return s;
  }

  override importState(state: AlgoState): void {
    super.importState(state);
    this.means = requireArray(state, 'means', this.nX, Float64Array);
    this.sigmas = requireArray(state, 'sigmas', this.nX, Float64Array);
    const o = state.values.overallSigma;
    if (typeof o !== 'number') throw new Error("model state: value 'overallSigma' missing");
    this.overallSigma = o;
  }
}

/**
 * KNNBaseline: `r̂_ui = b_ui + Σ sim(u, v) · (r_vi − b_vi) / Σ sim(u, v)` with the baseline
 * `b_ui = μ + b_u + b_i` (Koren 2010, eq. 3; user-based; item-based symmetric). The baselines are
 * learned with `bslOptions` (default ALS), the same ones the pearson_baseline similarity uses.
 * Unknown user or item: the part of the baseline that is known (μ + b_u, μ + b_i or μ), as
 * Surprise. Fewer than `minK` contributing neighbours: the baseline.
 */
export class KNNBaseline extends SymmetricAlgo {
  static readonly algorithmName = 'KNNBaseline';
  static readonly description =
    'k-NN collaborative filtering around baseline estimates (Koren 2010); best with pearson_baseline.';
  static readonly paramSpecs: ParamSpecs = KNN_PARAM_SPECS;

  /** User biases (length nUsers). */
  bu: Float64Array = new Float64Array(0);
  /** Item biases (length nItems). */
  bi: Float64Array = new Float64Array(0);

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    this.setUpRows(trainset);
    const b = computeBaselines(trainset, this.params.bslOptions as ParamValues);
    this.bu = b.bu;
    this.bi = b.bi;
    this.computeSim(trainset, b);
    return this;
  }

  override estimate(u: number, i: number): EstimateResult {
    const mu = this.trainset.globalMean;
    let est = mu;
    if (u >= 0) est += this.bu[u];
    if (i >= 0) est += this.bi[i];
    if (u < 0 || i < 0) return est;
    const ub = this.simOptions.userBased;
    const y = this.yOf(u, i);
    this.mu = mu;
    this.bx = ub ? this.bu : this.bi;
    this.byY = (ub ? this.bi : this.bu)[y];
    this.aggregate(this.xOf(u, i), y);
    return this.centredEstimate(est);
  }

  estimateFoldedUser(f: KnnFold, i: number): EstimateResult {
    const mu = this.trainset.globalMean;
    const ub = this.simOptions.userBased;
    this.mu = mu;
    this.bx = ub ? this.bu : this.bi;
    this.byY = ub ? this.bi[i] : f.bu;
    this.aggregateFolded(f, i);
    return this.centredEstimate(mu + f.bu + this.bi[i]);
  }

  // The baselines of the current estimate: μ, b_x by neighbour id, and b_y of its y.
  private mu = 0;
  private bx: Float64Array = new Float64Array(0);
  private byY = 0;

  /** `s · (r − b_vi)` with the neighbour's baseline `b_vi = μ + b_v + b_i`. */
  protected override contribution(j: number, s: number): number {
    const nbBsl = this.mu + this.bx[this.nbId(j)] + this.byY;
    return s * (this.nbRating(j) - nbBsl);
  }

  override exportState(): AlgoState {
    const s = super.exportState();
    s.arrays.bu = this.bu;
    s.arrays.bi = this.bi;
    return s;
  }

  override importState(state: AlgoState): void {
    super.importState(state);
    this.bu = requireArray(state, 'bu', this.trainset.nUsers, Float64Array);
    this.bi = requireArray(state, 'bi', this.trainset.nItems, Float64Array);
  }
}
