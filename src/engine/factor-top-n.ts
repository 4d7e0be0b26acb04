/**
 * Top-N of a matrix-factorisation model (SVD, SVDpp, NMF) for one user vector: the serving path of
 * `recommendations` at catalogue size (62,000 movies × 100 factors is 6.2 M multiply-adds per call).
 *
 * Same list and numbers as `recommend` (engine/top-n.ts) — each returned estimate is summed in the
 * model's own order (`μ + b_u + b_i + Σ_f q_if p_uf`, f ascending; unbiased: the dot product
 * alone), clipped to the rating scale, ties to the lower inner id — in two steps:
 *
 * 1. **float32 first pass**: the dot products of every item with the user vector in float32 SIMD
 *    (f32x4, WebAssembly compiled from kernels/assembly/topn.ts) over a float32 copy of the item
 *    factors made once per model (4 bytes per factor: 24 MB at 59,047 × 100, in the kernel's
 *    memory), then, in JavaScript, the biases, clipping and a bounded heap of the best
 *    k + {@link TOP_N_MARGIN} candidates;
 * 2. **exact re-score** of those survivors in float64, in the model's order, into a heap of k.
 *
 * Why that is exact: a float32 estimate differs from the exact one by at most
 * δ = ((nF4/8 + 8)·2⁻²⁴ + 2·nF·2⁻⁵²)·1.01·max_i |q_i|·|p| + 1e-9, nF4 = nF rounded up to 4 (each
 * factor rounded to float32: 2⁻²⁴ relative each, so 2·2⁻²⁴ per product; the float32 products and
 * sums, at most nF4/8 + 3 deep per lane: γ·Σ|q_if p_f| with γ ≤ (nF4/8 + 4)·2⁻²⁴·1.01 (Higham,
 * "Accuracy and Stability of Numerical Algorithms", §3.1); the exact float64 sum's own
 * γ_nF ≤ 2·nF·2⁻⁵²; Σ|q_if p_f| ≤ |q_i||p| (Cauchy–Schwarz); 1e-9 covers the bias additions'
 * rounding; clipping only shrinks differences). Every item left
 * out by the first pass has a float32 score ≤ the last survivor's a_min, so an exact score
 * ≤ a_min + δ. When the k-th exact score of the survivors is above a_min + δ, no such item can be in
 * the top k: the answer is exact. Otherwise (near-ties, e.g. many estimates clipped at the top of
 * the scale), a second pass over the float32 scores re-scores exactly every item within δ of the
 * k-th exact score: exact again.
 *
 * Per call: O(nItems · nFactors) time, O(k) allocation (the heaps and the answer); the float32 user
 * vector and the exclusion mask are scratch reused across calls (serving is single-threaded).
 */
import { FactorModel } from './algorithms/factor-model';
import { NMF } from './algorithms/nmf';
import { SVD } from './algorithms/svd';
import { SVDpp } from './algorithms/svdpp';
import type { AlgoBase } from './algorithms/base';
import { TopKHeap, type Recommendation } from './top-n';
import { KernelMemory, instantiateKernel } from './kernels/module';

/** Survivors of the float32 first pass beyond k, re-scored in float64 (see the module comment). */
export const TOP_N_MARGIN = 32;

/**
 * Counts of `factorTopK` calls answered after the first pass and of those that needed the second
 * float32 pass (near-ties at the cut): for tests and benchmarks.
 */
export const factorTopKCounts = { calls: 0, secondPasses: 0 };

/** True for the models `factorTopK` ranks (SVD, SVDpp, NMF: fitted factor models). */
export function isFactorModel(algo: AlgoBase): algo is FactorModel {
  return algo instanceof SVD || algo instanceof SVDpp || algo instanceof NMF;
}

/** Whether the model adds the baselines μ + b_u + b_i (SVDpp always does). */
export function isBiased(algo: FactorModel): boolean {
  return algo instanceof SVDpp ? true : (algo.params.biased as boolean);
}

/**
 * The k items with the highest clipped estimates for a user given by their bias and factor
 * vector, best first (ties: lower inner id).
 *
 * @param bu the user's bias (ignored by unbiased models)
 * @param pu the user's factor vector (length nFactors; SVDpp: `p_u + z_u`)
 * @param exclude items to leave out (1 = excluded), length nItems, or null
 * @param keep an extra filter on inner item ids (e.g. a genre), or null for every item
 */
export function factorTopK(
  algo: FactorModel,
  bu: number,
  pu: Float64Array,
  k: number,
  exclude: Uint8Array | null,
  keep: ((i: number) => boolean) | null = null,
): Recommendation[] {
  const ts = algo.trainset;
  const nF = algo.nFactors;
  const { qi, bi } = algo;
  const [lo, hi] = ts.ratingScale;
  const biased = isBiased(algo);
  const n = ts.nItems;
  if (k <= 0 || n === 0) return [];
  factorTopKCounts.calls++;
  const side = itemSide(qi, nF);
  const scores = side.score(pu);
  const base = biased ? ts.globalMean + bu : 0;
  const delta =
    ((side.nF4 / 8 + 8) * 2 ** -24 + 2 * nF * 2 ** -52) * 1.01 * side.maxRowNorm * norm(pu) + 1e-9;

  /** The float32 estimate of item i (clipped). */
  const approx = (i: number): number => {
    const est = biased ? base + bi[i] + scores[i] : scores[i];
    return est < lo ? lo : est > hi ? hi : est;
  };
  /** The exact estimate of item i (clipped): the model's own order, as `recommend`. */
  const exact = (i: number): number => {
    const io = i * nF;
    let dot = 0;
    for (let f = 0; f < nF; f++) dot += qi[io + f] * pu[f];
    let est: number;
    if (biased) {
      est = ts.globalMean;
      est += bu;
      est += bi[i];
      est += dot;
    } else est = dot;
    return est < lo ? lo : est > hi ? hi : est;
  };

  // Pass 1: float32 scores of every candidate, the best k + margin kept.
  const k1 = k + TOP_N_MARGIN;
  const first = new TopKHeap(k1);
  let floor = -Infinity; // first.worst(), kept in a local: most items fall below it
  for (let i = 0; i < n; i++) {
    if (exclude !== null && exclude[i] === 1) continue;
    const est = biased ? base + bi[i] + scores[i] : scores[i];
    const a = est < lo ? lo : est > hi ? hi : est;
    if (a <= floor) continue; // ids ascend: an equal score loses on the id
    if (keep !== null && !keep(i)) continue;
    first.offer(a, i);
    floor = first.worst();
  }
  const m1 = first.drainSorted();
  // Pass 2: the survivors re-scored exactly.
  const heap = new TopKHeap(k);
  for (let q = 0; q < m1; q++) heap.offer(exact(first.ids[q]), first.ids[q]);
  let m = heap.drainSorted();
  if (m1 === k1 && !(heap.scores[m - 1] > first.scores[m1 - 1] + delta)) {
    // Near-ties at the cut: every item whose float32 score is within δ of the k-th exact one.
    factorTopKCounts.secondPasses++;
    const cut = heap.scores[m - 1] - delta;
    const again = new TopKHeap(k);
    for (let i = 0; i < n; i++) {
      if (exclude !== null && exclude[i] === 1) continue;
      if (keep !== null && !keep(i)) continue;
      if (approx(i) >= cut) again.offer(exact(i), i);
    }
    m = again.drainSorted();
    return toRecommendations(ts, again, m);
  }
  return toRecommendations(ts, heap, m);
}

function toRecommendations(
  ts: FactorModel['trainset'],
  heap: TopKHeap,
  m: number,
): Recommendation[] {
  const out: Recommendation[] = new Array(m);
  for (let q = 0; q < m; q++) out[q] = { iid: ts.toRawIid(heap.ids[q]), est: heap.scores[q] };
  return out;
}

/** Euclidean norm of a vector. */
function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let f = 0; f < v.length; f++) s += v[f] * v[f];
  return Math.sqrt(s);
}

/** The float32 item side of a factor matrix: the kernel's memory and its scoring call. */
export interface ItemSide {
  /** nF rounded up to a multiple of 4 (the kernel's row length). */
  nF4: number;
  /** The largest row norm |q_i| of the float64 matrix. */
  maxRowNorm: number;
  /**
   * The float32 dot products of every item with `pu`, as a view of the kernel's memory (valid
   * until the next call).
   */
  score(pu: ArrayLike<number>): Float32Array;
}

const sides = new WeakMap<Float64Array, ItemSide>();

interface TopnKernel {
  scoreItems(q: number, p: number, nItems: number, nF4: number, out: number): void;
}

/**
 * The float32 item side of a row-major item-factor matrix with `nF` columns (see
 * {@link ItemSide}), made on first use and kept as long as the matrix: 4 bytes per factor
 * (rows padded to a multiple of 4) plus 4 per item, in one kernel memory. The model registry
 * calls it when a model is loaded ({@link prepareServing}), so the first request does not pay.
 */
export function itemSide(qi: Float64Array, nF: number): ItemSide {
  let s = sides.get(qi);
  if (s !== undefined) return s;
  const nItems = qi.length / nF;
  const nF4 = Math.max(4, Math.ceil(nF / 4) * 4);
  const mem = new KernelMemory(
    KernelMemory.size(nItems * nF4, 4) + KernelMemory.size(nF4, 4) + KernelMemory.size(nItems, 4),
  );
  const q = mem.place(Float32Array, nItems * nF4);
  const p = mem.place(Float32Array, nF4);
  const out = mem.place(Float32Array, nItems);
  let maxRowNorm = 0;
  for (let i = 0; i < nItems; i++) {
    const row = qi.subarray(i * nF, (i + 1) * nF);
    q.view.set(row, i * nF4);
    maxRowNorm = Math.max(maxRowNorm, norm(row));
  }
  const kernel = instantiateKernel<TopnKernel>('topn', mem.memory);
  s = {
    nF4,
    maxRowNorm,
    score(pu: ArrayLike<number>): Float32Array {
      for (let f = 0; f < nF; f++) p.view[f] = pu[f];
      kernel.scoreItems(q.address, p.address, nItems, nF4, out.address);
      return out.view;
    },
  };
  sides.set(qi, s);
  return s;
}

/** Prepares a factor model for serving (its float32 item side); other models: nothing. */
export function prepareServing(algo: AlgoBase): void {
  if (isFactorModel(algo)) itemSide(algo.qi, algo.nFactors);
}

let excludeScratch = new Uint8Array(0);

/**
 * `recommend(algo, uid, {k, excludeRated})` for a user the factor model knows (inner id `u`),
 * through `factorTopK`. @param keep as `factorTopK`
 */
export function factorRecommend(
  algo: FactorModel,
  u: number,
  k: number,
  excludeRated: boolean,
  keep: ((i: number) => boolean) | null = null,
): Recommendation[] {
  const ts = algo.trainset;
  const nF = algo.nFactors;
  const pu = algo instanceof SVDpp ? algo.userVector(u) : algo.pu.subarray(u * nF, (u + 1) * nF);
  if (!excludeRated) return factorTopK(algo, algo.bu[u], pu, k, null, keep);
  return withExcluded(ts.nItems, ts.ur(u).items, (exclude) =>
    factorTopK(algo, algo.bu[u], pu, k, exclude, keep),
  );
}

/**
 * Runs `fn` with a mask of `nItems` entries set to 1 at `items`: a scratch array reused across
 * calls and cleared afterwards (O(|items|) per call, no allocation once grown).
 */
export function withExcluded<T>(
  nItems: number,
  items: ArrayLike<number>,
  fn: (exclude: Uint8Array) => T,
): T {
  if (excludeScratch.length < nItems) excludeScratch = new Uint8Array(nItems);
  const mask =
    excludeScratch.length === nItems ? excludeScratch : excludeScratch.subarray(0, nItems);
  for (let t = 0; t < items.length; t++) mask[items[t]] = 1;
  try {
    return fn(mask);
  } finally {
    for (let t = 0; t < items.length; t++) mask[items[t]] = 0;
  }
}
