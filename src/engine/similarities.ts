/**
 * Similarity measures between users (or items): cosine, mean squared difference (MSD), Pearson
 * and shrunk Pearson-baseline, as Surprise 1.1.4 computes them (surprise/similarities.pyx, called
 * by `AlgoBase.compute_similarities` in surprise/prediction_algorithms/algo_base.py).
 *
 * Vocabulary (Surprise's): when the measure is user-based, `x` is a user and `y` an item; when
 * item-based, `x` is an item and `y` a user. The result is the symmetric `nX × nX` matrix
 * `sim[x, x']`, stored row-major in one `Float64Array` (Surprise's float64 `numpy` array).
 *
 * How it is computed: one pass over the co-rated pairs. Rows `x` are visited in ascending order;
 * for each `y` that `x` rated (ascending `y`), every `x' > x` that also rated `y` adds its terms
 * to per-row accumulators (typed arrays of length nX); the row is then finished into
 * `sim[x, x']` and `sim[x', x]`. Each pair `(x, x')` thus receives its terms in ascending `y`
 * order, the order of Surprise's loop over `yr.items()`, so every sum, and every similarity, is
 * the same floating-point number as Surprise's. Working memory beyond the matrix is O(nX + R).
 *
 * Surprise's rules kept here:
 * - the diagonal is 1;
 * - a pair with fewer than `minSupport` common ys has similarity 0 (pearson_baseline uses
 *   `max(2, minSupport)`);
 * - Pearson is 0 when its denominator is 0.
 * One deviation: where Surprise's Cython code divides by zero (cosine or MSD with
 * `minSupport = 0` and no common y, cosine or pearson_baseline when a sum of squares is 0) it
 * raises `ZeroDivisionError` and the fit fails; here the similarity is 0.
 *
 * Ratings are used as they are: half stars (3.5) are never truncated.
 */
import type { Trainset } from './trainset';
import type { ParamSpec, ParamValues } from './params';
import { ParamError } from './params';
import { formatBytes } from './bytes';

/** The similarity measures (Surprise's `sim_options['name']`). */
export const SIMILARITY_NAMES = ['cosine', 'msd', 'pearson', 'pearson_baseline'] as const;

/** One of `SIMILARITY_NAMES`. */
export type SimilarityName = (typeof SIMILARITY_NAMES)[number];

/** Options of the similarity measure (Surprise's `sim_options`, camelCased). */
export interface SimOptions {
  /** The measure; default `'msd'` (as Surprise). */
  name: SimilarityName;
  /** True: similarities between users (default); false: between items. */
  userBased: boolean;
  /** Minimum number of common items (users) for a non-zero similarity; default 1. */
  minSupport: number;
  /** Shrinkage of pearson_baseline (ignored by the other measures); default 100. */
  shrinkage: number;
}

/**
 * The declaration of the `simOptions` parameter, shared by the k-NN algorithms
 * (`static paramSpecs = { simOptions: SIM_OPTIONS_SPEC, … }`). Read values with `toSimOptions`.
 */
export const SIM_OPTIONS_SPEC: ParamSpec = {
  type: 'object',
  doc: "Options of the similarity measure (Surprise's sim_options): name (cosine, msd, pearson, pearson_baseline; default msd), userBased (default true), minSupport (default 1), shrinkage (pearson_baseline only; default 100).",
  fields: {
    name: {
      type: 'enum',
      values: SIMILARITY_NAMES,
      default: 'msd',
      doc: 'The similarity measure: cosine, msd (mean squared difference), pearson, or pearson_baseline (shrunk Pearson correlation of baseline residuals).',
    },
    userBased: {
      type: 'bool',
      default: true,
      doc: 'Similarities between users (true) or between items (false).',
    },
    minSupport: {
      type: 'int',
      default: 1,
      min: 0,
      doc: 'Minimum number of common items (users) for a non-zero similarity.',
    },
    shrinkage: {
      type: 'float',
      default: 100,
      min: 0,
      doc: 'Shrinkage of pearson_baseline: sim × (n − 1) / (n − 1 + shrinkage), n = common count. Used only by pearson_baseline.',
    },
  },
};

/**
 * Reads resolved `simOptions` parameter values (see `SIM_OPTIONS_SPEC`), filling in Surprise's
 * defaults for missing fields.
 * @throws ParamError when `name` is not a known measure or a field has the wrong type.
 */
export function toSimOptions(values: ParamValues | Partial<SimOptions> | undefined): SimOptions {
  const v = (values ?? {}) as Record<string, unknown>;
  const name = String(v.name ?? 'msd').toLowerCase();
  if (!(SIMILARITY_NAMES as readonly string[]).includes(name)) {
    throw new ParamError(
      'simOptions.name',
      `wrong sim name '${name}'; expected one of ${SIMILARITY_NAMES.join(', ')}`,
    );
  }
  const minSupport = v.minSupport ?? 1;
  const shrinkage = v.shrinkage ?? 100;
  if (typeof minSupport !== 'number' || !Number.isInteger(minSupport) || minSupport < 0) {
    throw new ParamError(
      'simOptions.minSupport',
      `simOptions.minSupport must be a whole number ≥ 0, got ${JSON.stringify(minSupport)}`,
    );
  }
  if (typeof shrinkage !== 'number' || !(shrinkage >= 0)) {
    throw new ParamError(
      'simOptions.shrinkage',
      `simOptions.shrinkage must be a number ≥ 0, got ${JSON.stringify(shrinkage)}`,
    );
  }
  return {
    name: name as SimilarityName,
    userBased: v.userBased === undefined ? true : Boolean(v.userBased),
    minSupport,
    shrinkage,
  };
}

/** Default memory budget for a similarity matrix: 2 GiB. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 2 * 1024 ** 3;

/**
 * The memory budget in bytes: `explicit` when given, else the environment variable
 * `REELGRAPH_MEMORY_BUDGET` (bytes, or with a unit: `512MiB`, `2GiB`, `1.5G`, `800M`, `64K`;
 * units are powers of 1024), else `DEFAULT_MEMORY_BUDGET_BYTES`.
 * @throws RangeError when the environment variable cannot be read as a size.
 */
export function memoryBudgetBytes(explicit?: number | null): number {
  if (explicit !== undefined && explicit !== null) return explicit;
  const env = process.env.REELGRAPH_MEMORY_BUDGET;
  if (env === undefined || env.trim() === '') return DEFAULT_MEMORY_BUDGET_BYTES;
  return parseByteSize(env, 'REELGRAPH_MEMORY_BUDGET');
}

/**
 * Parses a size such as `1073741824`, `512MiB`, `2GiB`, `1.5G`, `64k` (units are powers of 1024).
 * @throws RangeError naming `what` when the text is not a positive size.
 */
export function parseByteSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) {
    throw new RangeError(
      `${what} must be a number of bytes, optionally with a unit (K, M, G, T, e.g. 2GiB), got '${text}'`,
    );
  }
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()]!;
  const bytes = Math.floor(Number(m[1]) * mult);
  if (!(bytes > 0)) throw new RangeError(`${what} must be positive, got '${text}'`);
  return bytes;
}

/** Bytes taken by the `n × n` float64 similarity matrix. */
export function similarityMatrixBytes(n: number): number {
  return n * n * Float64Array.BYTES_PER_ELEMENT;
}

/** The similarity matrix would not fit the configured memory budget (raised before allocating). */
export class SimilarityBudgetError extends RangeError {
  constructor(
    /** Number of users (items) the matrix is over. */
    readonly n: number,
    /** Bytes the matrix needs (n² × 8). */
    readonly neededBytes: number,
    /** The budget in bytes. */
    readonly budgetBytes: number,
    what: string,
  ) {
    super(
      `the ${what} similarity matrix (${n} × ${n} float64) needs ${formatBytes(neededBytes, 'binary')} ` +
        `(${neededBytes} bytes) but the memory budget is ${formatBytes(budgetBytes, 'binary')} ` +
        `(${budgetBytes} bytes); raise memoryBudgetBytes or REELGRAPH_MEMORY_BUDGET, or use ` +
        `${what === 'user' ? 'item' : 'user'}-based similarities if there are fewer of them`,
    );
    this.name = 'SimilarityBudgetError';
  }
}

/** A computed similarity matrix. */
export interface SimilarityMatrix {
  /** Number of users (userBased) or items; the matrix is n × n. */
  n: number;
  /** `sim[x, x']` at `values[x * n + x']`; symmetric, diagonal 1. */
  values: Float64Array;
  /** Bytes of `values` (n² × 8). */
  bytes: number;
}

/** Extra inputs of `computeSimilarities`. */
export interface SimilarityExtras {
  /** Baselines `bu` (nUsers), `bi` (nItems): required by pearson_baseline. */
  baselines?: { bu: Float64Array; bi: Float64Array };
  /** Budget for the matrix in bytes (default: `memoryBudgetBytes()`). */
  memoryBudgetBytes?: number | null;
}

const COSINE = 0;
const MSD = 1;
const PEARSON = 2;
const PEARSON_BASELINE = 3;

/**
 * Computes the similarity matrix of `trainset` for `options` (Surprise's
 * `AlgoBase.compute_similarities` followed by `similarities.<name>`). Formulas, with sums over
 * the `n` ys that both x and x' rated, rx = r_xy, rx' = r_x'y:
 *
 * - cosine: `Σ rx·rx' / sqrt(Σ rx² · Σ rx'²)`
 * - msd: `1 / (Σ (rx − rx')² / n + 1)`
 * - pearson: `(n·Σ rx·rx' − Σ rx · Σ rx') / sqrt((n·Σ rx² − (Σ rx)²) · (n·Σ rx'² − (Σ rx')²))`,
 *   0 when the denominator is 0
 * - pearson_baseline: with `d = r_xy − (μ + b_y + b_x)`,
 *   `Σ dx·dx' / sqrt(Σ dx² · Σ dx'²) · (n − 1) / (n − 1 + shrinkage)`
 *
 * @returns the n × n matrix and its size in bytes.
 * @throws SimilarityBudgetError before allocating when the matrix exceeds the memory budget.
 * @throws Error when pearson_baseline is asked for without baselines, or they have the wrong size.
 */
export function computeSimilarities(
  trainset: Trainset,
  options: SimOptions,
  extras: SimilarityExtras = {},
): SimilarityMatrix {
  const ub = options.userBased;
  const nX = ub ? trainset.nUsers : trainset.nItems;
  const bytes = similarityMatrixBytes(nX);
  const budget = memoryBudgetBytes(extras.memoryBudgetBytes);
  if (bytes > budget) throw new SimilarityBudgetError(nX, bytes, budget, ub ? 'user' : 'item');
  const sim = new Float64Array(nX * nX);
  for (let x = 0; x < nX; x++) sim[x * nX + x] = 1;
  forEachSimilarity(trainset, options, extras, (x, xj, v) => {
    sim[x * nX + xj] = v;
  });
  mirrorUpperTriangle(sim, nX);
  return { n: nX, values: sim, bytes };
}

/**
 * Runs the similarity computation of {@link computeSimilarities} and hands every pair x < x' that
 * shares at least one y to `emit(x, x', sim)` (0 below the minimum support, or when a measure's
 * denominator is 0), rows x ascending. Pairs never emitted have similarity 0; the diagonal is 1.
 * @throws Error when pearson_baseline is asked for without baselines, or they have the wrong size.
 */
export function forEachSimilarity(
  trainset: Trainset,
  options: SimOptions,
  extras: SimilarityExtras,
  emit: (x: number, xj: number, sim: number) => void,
): void {
  const ub = options.userBased;
  const nX = ub ? trainset.nUsers : trainset.nItems;
  const nY = ub ? trainset.nItems : trainset.nUsers;
  const mode =
    options.name === 'cosine'
      ? COSINE
      : options.name === 'msd'
        ? MSD
        : options.name === 'pearson'
          ? PEARSON
          : PEARSON_BASELINE;

  // x rows from the trainset's user rows (userBased) or item rows.
  const xOffsets = ub ? trainset.urOffsets : trainset.irOffsets;
  const xYs = ub ? trainset.urItems : trainset.irUsers;
  const xRatings = ub ? trainset.urRatings : trainset.irRatings;
  const nR = xYs.length;

  // The value each rating contributes: the rating, or its baseline residual r − (μ + b_y + b_x)
  // evaluated as Surprise does: partial_bias = μ + y_biases[y]; r − (partial_bias + x_biases[x]).
  let xVals: Float64Array = xRatings;
  if (mode === PEARSON_BASELINE) {
    const b = extras.baselines;
    if (!b) throw new Error('the pearson_baseline similarity needs baselines (bu, bi)');
    if (b.bu.length !== trainset.nUsers || b.bi.length !== trainset.nItems) {
      throw new Error(
        `baselines have the wrong size: bu ${b.bu.length} (expected ${trainset.nUsers}), bi ${b.bi.length} (expected ${trainset.nItems})`,
      );
    }
    const bx = ub ? b.bu : b.bi;
    const by = ub ? b.bi : b.bu;
    const mu = trainset.globalMean;
    xVals = new Float64Array(nR);
    for (let x = 0; x < nX; x++) {
      for (let p = xOffsets[x]; p < xOffsets[x + 1]; p++) {
        const partialBias = mu + by[xYs[p]];
        xVals[p] = xRatings[p] - (partialBias + bx[x]);
      }
    }
  }

  // y rows sorted by x (counting sort over x ascending), then x rows sorted by y.
  const yOffsets = new Int32Array(nY + 1);
  for (let p = 0; p < nR; p++) yOffsets[xYs[p] + 1]++;
  for (let y = 0; y < nY; y++) yOffsets[y + 1] += yOffsets[y];
  const yXs = new Int32Array(nR);
  const yVals = new Float64Array(nR);
  const cursor = yOffsets.slice(0, nY);
  for (let x = 0; x < nX; x++) {
    for (let p = xOffsets[x]; p < xOffsets[x + 1]; p++) {
      const q = cursor[xYs[p]]++;
      yXs[q] = x;
      yVals[q] = xVals[p];
    }
  }
  const sOffsets = new Int32Array(nX + 1);
  for (let x = 0; x < nX; x++) sOffsets[x + 1] = sOffsets[x] + (xOffsets[x + 1] - xOffsets[x]);
  const sYs = new Int32Array(nR);
  const xCursor = sOffsets.slice(0, nX);
  for (let y = 0; y < nY; y++) {
    for (let q = yOffsets[y]; q < yOffsets[y + 1]; q++) sYs[xCursor[yXs[q]]++] = y;
  }
  // cursor[y]: position of the next x to visit in y's row (rows are visited in ascending x).
  // Rows fill the upper triangle; it is mirrored at the end.
  cursor.set(yOffsets.subarray(0, nY));

  const freq = new Float64Array(nX);
  const prods = new Float64Array(nX);
  const sqi = new Float64Array(nX);
  const sqj = new Float64Array(nX);
  const si = mode === PEARSON ? new Float64Array(nX) : sqi;
  const sj = mode === PEARSON ? new Float64Array(nX) : sqj;
  const minSprt = mode === PEARSON_BASELINE ? Math.max(2, options.minSupport) : options.minSupport;
  const shrinkage = options.shrinkage;

  // The x' > x that share a y with x, in order of first meeting.
  const touched = new Int32Array(nX);
  for (let x = 0; x < nX; x++) {
    let nTouched = 0;
    for (let s = sOffsets[x]; s < sOffsets[x + 1]; s++) {
      const y = sYs[s];
      const p = cursor[y]++;
      const ri = yVals[p];
      const end = yOffsets[y + 1];
      switch (mode) {
        case COSINE:
        case PEARSON_BASELINE:
          for (let q = p + 1; q < end; q++) {
            const xj = yXs[q];
            if (xj === x) continue; // a duplicate rating of x itself
            const rj = yVals[q];
            if (freq[xj]++ === 0) touched[nTouched++] = xj;
            prods[xj] += ri * rj;
            sqi[xj] += ri * ri;
            sqj[xj] += rj * rj;
          }
          break;
        case MSD:
          for (let q = p + 1; q < end; q++) {
            const xj = yXs[q];
            if (xj === x) continue;
            const d = ri - yVals[q];
            prods[xj] += d * d;
            if (freq[xj]++ === 0) touched[nTouched++] = xj;
          }
          break;
        case PEARSON:
          for (let q = p + 1; q < end; q++) {
            const xj = yXs[q];
            if (xj === x) continue;
            const rj = yVals[q];
            prods[xj] += ri * rj;
            if (freq[xj]++ === 0) touched[nTouched++] = xj;
            sqi[xj] += ri * ri;
            sqj[xj] += rj * rj;
            si[xj] += ri;
            sj[xj] += rj;
          }
          break;
      }
    }

    // Pairs never touched keep similarity 0 (any measure gives 0 without a common y).
    for (let t = 0; t < nTouched; t++) {
      const xj = touched[t];
      const n = freq[xj];
      let v = 0;
      if (n >= minSprt) {
        switch (mode) {
          case COSINE: {
            const denum = Math.sqrt(sqi[xj] * sqj[xj]);
            v = denum === 0 ? 0 : prods[xj] / denum;
            break;
          }
          case MSD:
            v = 1 / (prods[xj] / n + 1);
            break;
          case PEARSON: {
            const num = n * prods[xj] - si[xj] * sj[xj];
            const denum = Math.sqrt(
              (n * sqi[xj] - si[xj] * si[xj]) * (n * sqj[xj] - sj[xj] * sj[xj]),
            );
            v = denum === 0 ? 0 : num / denum;
            break;
          }
          case PEARSON_BASELINE: {
            const denum = Math.sqrt(sqi[xj] * sqj[xj]);
            v = denum === 0 ? 0 : prods[xj] / denum;
            v *= (n - 1) / (n - 1 + shrinkage);
            break;
          }
        }
      }
      emit(x, xj, v);
      freq[xj] = 0;
      prods[xj] = 0;
      sqi[xj] = 0;
      sqj[xj] = 0;
      if (mode === PEARSON) {
        si[xj] = 0;
        sj[xj] = 0;
      }
    }
  }
}

/** Copies the upper triangle of the row-major n × n matrix `m` to its lower one, in cache-sized tiles. */
function mirrorUpperTriangle(m: Float64Array, n: number): void {
  const T = 64;
  for (let bi = 0; bi < n; bi += T) {
    const iEnd = Math.min(bi + T, n);
    for (let bj = bi; bj < n; bj += T) {
      const jEnd = Math.min(bj + T, n);
      for (let i = bi; i < iEnd; i++) {
        const row = i * n;
        for (let j = Math.max(bj, i + 1); j < jEnd; j++) m[j * n + i] = m[row + j];
      }
    }
  }
}
