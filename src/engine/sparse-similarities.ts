/**
 * Similarities stored as sparse rows: only the non-zero similarities of pairs that share a rater
 * (users) or a rated item, symmetric, in compressed sparse rows. For item-based k-NN on tens of
 * thousands of movies the dense n × n float64 matrix (62 423² × 8 B = 31 GB) cannot exist; the
 * non-zero pairs are what the data supports.
 *
 * Exactness: a pair absent from the rows has similarity 0, exactly what the dense matrix holds for
 * it (pairs without a common y, or below the minimum support, or with a zero denominator), and
 * the diagonal is 1 as in the dense matrix; so every estimate and neighbour ranking computed from
 * these rows is bit-identical to the dense path (k-NN's `selectNeighbors` reads sim[x, x'] for the
 * raters of y and scatters row x into a dense scratch row to do so).
 *
 * Memory: 12 bytes per stored entry, two entries per pair (both directions), plus 4 bytes per row.
 */
import { formatBytes } from './bytes';
import type { Trainset } from './trainset';
import {
  SimilarityBudgetError,
  forEachSimilarity,
  memoryBudgetBytes,
  similarityMatrixBytes,
  type SimOptions,
  type SimilarityExtras,
} from './similarities';

/** Symmetric similarities in compressed sparse rows. */
export interface SparseSimilarities {
  /** Number of users (user-based) or items. */
  n: number;
  /** Row x's entries are at `offsets[x] … offsets[x + 1] − 1`; length n + 1. */
  offsets: Int32Array;
  /** The other id x' of each entry (rows are not sorted). */
  cols: Int32Array;
  /** sim[x, x'] of each entry, never 0. */
  values: Float64Array;
  /** Bytes of the three arrays. */
  bytes: number;
}

/** Bytes of sparse rows holding `pairs` non-zero pairs over n rows (both directions stored). */
export function sparseSimilarityBytes(pairs: number, n: number): number {
  return pairs * 2 * (Int32Array.BYTES_PER_ELEMENT + Float64Array.BYTES_PER_ELEMENT) + (n + 1) * 4;
}

/**
 * An upper bound of the pairs that share a y: Σ_y C(deg y, 2), at most n(n − 1)/2 (the
 * computation's cost is of this order too).
 */
export function coRatedPairsBound(trainset: Trainset, userBased: boolean): number {
  const offsets = userBased ? trainset.irOffsets : trainset.urOffsets;
  const n = userBased ? trainset.nUsers : trainset.nItems;
  let sum = 0;
  for (let y = 0; y + 1 < offsets.length; y++) {
    const d = offsets[y + 1] - offsets[y];
    sum += (d * (d - 1)) / 2;
  }
  return Math.min(sum, (n * (n - 1)) / 2);
}

/**
 * Neither the dense matrix nor the sparse rows fit the memory budget. Names both sizes (the
 * sparse one counted so far when the computation stopped). A {@link SimilarityBudgetError} whose
 * `neededBytes` are the sparse rows'.
 */
export class SparseSimilarityBudgetError extends SimilarityBudgetError {
  constructor(
    n: number,
    /** Bytes the sparse rows need at least (counted when the budget was passed). */
    neededBytes: number,
    /** Bytes the dense matrix would need. */
    readonly denseBytes: number,
    budgetBytes: number,
    what: string,
  ) {
    super(n, neededBytes, budgetBytes, what);
    this.message =
      `the ${what} similarities over ${n} ${what}s need at least ${formatBytes(neededBytes, 'binary')} ` +
      `(${neededBytes} bytes) as sparse rows, and ${formatBytes(denseBytes, 'binary')} as the dense ` +
      `matrix, but the memory budget is ${formatBytes(budgetBytes, 'binary')} (${budgetBytes} bytes); ` +
      `raise memoryBudgetBytes or REELGRAPH_MEMORY_BUDGET, raise simOptions.minSupport, or use ` +
      `${what === 'user' ? 'item' : 'user'}-based similarities if there are fewer of them`;
    this.name = 'SparseSimilarityBudgetError';
  }
}

/**
 * Computes the similarities as sparse rows (same formulas and bits as `computeSimilarities`).
 * @throws SparseSimilarityBudgetError as soon as the rows pass the memory budget (before the
 *   symmetric rows are allocated); the errors of `computeSimilarities` otherwise.
 */
export function computeSparseSimilarities(
  trainset: Trainset,
  options: SimOptions,
  extras: SimilarityExtras = {},
): SparseSimilarities {
  const ub = options.userBased;
  const n = ub ? trainset.nUsers : trainset.nItems;
  const budget = memoryBudgetBytes(extras.memoryBudgetBytes);
  const what = ub ? 'user' : 'item';
  // Upper-triangle entries in emit order (rows ascending), grown by doubling.
  const upperCount = new Int32Array(n);
  let cap = 1 << 16;
  let cols = new Int32Array(cap);
  let vals = new Float64Array(cap);
  let m = 0;
  forEachSimilarity(trainset, options, extras, (x, xj, v) => {
    if (v === 0) return;
    if (m === cap) {
      if (sparseSimilarityBytes(m, n) + m * 12 > budget) {
        throw new SparseSimilarityBudgetError(
          n,
          sparseSimilarityBytes(m, n),
          similarityMatrixBytes(n),
          budget,
          what,
        );
      }
      cap *= 2;
      const c2 = new Int32Array(cap);
      c2.set(cols);
      cols = c2;
      const v2 = new Float64Array(cap);
      v2.set(vals);
      vals = v2;
    }
    upperCount[x]++;
    cols[m] = xj;
    vals[m++] = v;
  });
  const bytes = sparseSimilarityBytes(m, n);
  if (bytes > budget) {
    throw new SparseSimilarityBudgetError(n, bytes, similarityMatrixBytes(n), budget, what);
  }
  const offsets = new Int32Array(n + 1);
  for (let x = 0; x < n; x++) offsets[x + 1] += upperCount[x];
  for (let k = 0; k < m; k++) offsets[cols[k] + 1]++;
  for (let x = 0; x < n; x++) offsets[x + 1] += offsets[x];
  const outCols = new Int32Array(2 * m);
  const outVals = new Float64Array(2 * m);
  const cursor = offsets.slice(0, n);
  let k = 0;
  for (let x = 0; x < n; x++) {
    for (let e = 0; e < upperCount[x]; e++, k++) {
      const xj = cols[k];
      const v = vals[k];
      let p = cursor[x]++;
      outCols[p] = xj;
      outVals[p] = v;
      p = cursor[xj]++;
      outCols[p] = x;
      outVals[p] = v;
    }
  }
  return { n, offsets, cols: outCols, values: outVals, bytes };
}

/**
 * A dense view of one row at a time: `row(x)` scatters row x into a scratch of n doubles
 * (diagonal 1, absent pairs 0), clearing the previous row's entries first. O(row length) per
 * change of x.
 */
export class SparseRowReader {
  private readonly scratch: Float64Array;
  private current = -1;

  constructor(private readonly sim: SparseSimilarities) {
    this.scratch = new Float64Array(sim.n);
  }

  /** The dense row x (valid until the next call). */
  row(x: number): Float64Array {
    if (x === this.current) return this.scratch;
    const { offsets, cols, values } = this.sim;
    const s = this.scratch;
    if (this.current >= 0) {
      const c = this.current;
      for (let p = offsets[c]; p < offsets[c + 1]; p++) s[cols[p]] = 0;
      s[c] = 0;
    }
    for (let p = offsets[x]; p < offsets[x + 1]; p++) s[cols[p]] = values[p];
    s[x] = 1;
    this.current = x;
    return s;
  }
}
