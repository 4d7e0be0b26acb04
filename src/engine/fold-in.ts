/**
 * Fold-in: a user's own parameters re-solved against a fitted model's frozen item side, so that
 * ratings given after the fit change the user's estimates at once, without a retrain (Sarwar et
 * al., "Incremental singular value decomposition algorithms for highly scalable recommender
 * systems", 2002, §3 "folding-in"; for the factor models, the user half-step of alternating least
 * squares: Hu, Koren, Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM
 * 2008, eq. 4, with explicit ratings).
 *
 * What is solved, per model (μ the trainset's global mean, b_i and q_i the frozen item biases and
 * factors, R(u) the user's ratings of items the model knows, n = |R(u)|):
 *
 * - **SVD** (biased): `min Σ_{(i,r) ∈ R(u)} (r − μ − b_i − b_u − q_iᵀ p_u)² + n·(λ_bu b_u² + λ_pu |p_u|²)`,
 *   exactly, by one (k+1) × (k+1) Cholesky solve (k = nFactors) of the normal equations
 *   `(Σ x_i x_iᵀ + n·diag(λ_bu, λ_pu, …, λ_pu)) [b_u; p_u] = Σ x_i (r − μ − b_i)` with
 *   `x_i = [1; q_i]`. Unbiased: the k × k system without b_u, target r. The regularisation is
 *   the model's own (`regBu`, `regPu`, falling back to `regAll`) scaled by n: Surprise's SGD applies
 *   `−λ·p_u` once per rating, so its fixed point solves exactly these equations (each epoch
 *   `Σ_i err_i q_i = n λ p_u`); folding a trained user's own ratings therefore lands near the
 *   factors the fit learned.
 * - **SVD++**: the implicit term `z_u = |N(u)|^−½ Σ_{j ∈ N(u)} y_j` over the user's rated items,
 *   then the SVD system above with target `r − μ − b_i − q_iᵀ z_u`; the estimate uses `p_u + z_u`.
 * - **NMF**: the user half of its multiplicative updates (Luo et al. 2014, as nmf.ts) with q_i
 *   frozen, {@link NMF_FOLD_ITERATIONS} times from p_u = (initLow + initHigh)/2:
 *   `p_uf ← p_uf · Σ q_if r / (Σ q_if r̂ + n λ_pu p_uf)`, which keeps p_u ≥ 0 (a ridge solve would
 *   not); biased NMF also sets `b_u = Σ (r − μ − b_i − q_iᵀ p_u) / (n (1 + λ_bu))` (the SGD fixed
 *   point) before each factor step.
 * - **BaselineOnly**: `b_u = Σ (r − μ − b_i) / (λ_u + n)` — ALS's own user step (λ_u = `regU`,
 *   baselines.ts); with the SGD method, its fixed point `Σ (r − μ − b_i) / (n (1 + reg))`.
 *
 * - **The k-NN family** (KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline): the user's rating
 *   list takes the place of the trainset's, with the user-based similarities, mean, deviation and
 *   bias recomputed from it (engine/knn-fold-in.ts).
 *
 * Other algorithms (SlopeOne, CoClustering, NormalPredictor, BayesianFM) are not folded:
 * {@link canFoldIn} is false and their answers stay the trained model's. Items the model does not
 * know are left out of R(u) (they have no item parameters yet; the retrain adds them).
 *
 * Cost per user: O(n k² + k³) for SVD/SVD++ (k = 100: about a million multiply-adds, ~1–2 ms),
 * O(NMF_FOLD_ITERATIONS · n k) for NMF, O(n) for BaselineOnly; memory O(k²) scratch.
 */
import type { AlgoBase } from './algorithms/base';
import { BaselineOnly } from './algorithms/baseline-only';
import { FactorModel } from './algorithms/factor-model';
import { NMF } from './algorithms/nmf';
import { SVD } from './algorithms/svd';
import { SVDpp } from './algorithms/svdpp';
import { choleskyInPlace, choleskySolveInPlace } from './rankers/dense';
import { PredictionImpossible } from './algorithms/base';
import { canFoldInKnn, foldInKnnUser, type KnnFold } from './knn-fold-in';
import { TopKHeap } from './top-n';
import { factorTopK, isFactorModel, withExcluded } from './factor-top-n';
import type { Recommendation } from './top-n';

/** Multiplicative-update passes of an NMF fold-in (the user half-step only; O(n·k) each). */
export const NMF_FOLD_ITERATIONS = 50;

/** A user folded into a fitted model. */
export interface FoldedUser {
  /** The user's ratings the fold-in used: inner item ids (known items only), ascending. */
  items: Int32Array;
  /** Their ratings, same order as `items`. */
  ratings: Float64Array;
  /** The user bias b_u (0 for unbiased models). */
  bu: number;
  /** The user factor vector (length nFactors; SVD++: `p_u + z_u`), or null for BaselineOnly. */
  pu: Float64Array | null;
  /** For a k-NN model: the folded neighbourhood quantities (engine/knn-fold-in.ts); else absent. */
  knn?: KnnFold | null;
}

/**
 * True when `algo` (fitted) can fold users in: SVD, SVDpp, NMF, BaselineOnly, and the k-NN
 * family (except user-based pearson_baseline without KNNBaseline: engine/knn-fold-in.ts).
 */
export function canFoldIn(algo: AlgoBase): boolean {
  return (
    algo instanceof SVD ||
    algo instanceof SVDpp ||
    algo instanceof NMF ||
    algo instanceof BaselineOnly ||
    canFoldInKnn(algo)
  );
}

/** `regX ?? regAll` of an SGD model's parameters (sgd-params.ts). */
function sgdReg(algo: AlgoBase, term: 'Bu' | 'Pu'): number {
  const own = algo.params[`reg${term}`] as number | null | undefined;
  return own ?? (algo.params.regAll as number);
}

/**
 * The user's ratings of items `algo` knows, by inner id ascending, the last rating of an item
 * winning. @param ratings raw item id → rating
 */
export function knownRatings(
  algo: AlgoBase,
  ratings: ReadonlyMap<string, number>,
): { items: Int32Array; ratings: Float64Array } {
  const ts = algo.trainset;
  const pairs: Array<[number, number]> = [];
  for (const [iid, r] of ratings) {
    const i = ts.findItem(iid);
    if (i >= 0) pairs.push([i, r]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return {
    items: Int32Array.from(pairs, (p) => p[0]),
    ratings: Float64Array.from(pairs, (p) => p[1]),
  };
}

/**
 * Solves `(Σ x xᵀ + n·diag(reg)) w = Σ x y` exactly (Cholesky), x = [1; q_i] when `withBias`
 * else q_i. @returns w (length k + 1 with the bias first, or k)
 */
function ridgeSolve(
  qi: Float64Array,
  k: number,
  items: Int32Array,
  targets: Float64Array,
  withBias: boolean,
  regBias: number,
  regFactor: number,
): Float64Array {
  const d = withBias ? k + 1 : k;
  const off = withBias ? 1 : 0;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const x = new Float64Array(d);
  const n = items.length;
  for (let t = 0; t < n; t++) {
    const io = items[t] * k;
    if (withBias) x[0] = 1;
    for (let f = 0; f < k; f++) x[off + f] = qi[io + f];
    const y = targets[t];
    for (let r = 0; r < d; r++) {
      const xr = x[r];
      b[r] += xr * y;
      const row = r * d;
      for (let c = 0; c <= r; c++) a[row + c] += xr * x[c];
    }
  }
  if (withBias) a[0] += n * regBias;
  for (let f = off; f < d; f++) a[f * d + f] += n * regFactor;
  if (d === 0) return b;
  choleskyInPlace(a, d);
  choleskySolveInPlace(a, d, b);
  return b;
}

/**
 * Folds one user into a fitted `algo` (see the module comment for what is solved per model).
 *
 * @param ratings the user's whole rating list (raw item id → rating): the trainset's ratings of
 *   the user, if any, with the newer ones applied over them; items the model does not know are
 *   ignored.
 * @returns the folded user, or null when no rated item is known to the model (nothing to solve).
 * @throws RangeError when `algo` cannot fold in ({@link canFoldIn}), naming the algorithm.
 */
export function foldInUser(
  algo: AlgoBase,
  ratings: ReadonlyMap<string, number>,
  userId?: string,
): FoldedUser | null {
  if (!canFoldIn(algo)) {
    throw new RangeError(
      `${algo.name} cannot fold users in (SVD, SVDpp, NMF, BaselineOnly and the k-NN family can)`,
    );
  }
  const known = knownRatings(algo, ratings);
  const n = known.items.length;
  if (n === 0) return null;
  const ts = algo.trainset;
  const mu = ts.globalMean;
  if (canFoldInKnn(algo)) {
    const u = userId === undefined ? -1 : ts.findUser(userId);
    const knn = foldInKnnUser(algo, known, u);
    return { ...known, bu: knn.bu, pu: null, knn };
  }
  if (algo instanceof BaselineOnly) {
    const o = algo.params.bslOptions as Record<string, unknown>;
    const als = (o.method ?? 'als') === 'als';
    let s = 0;
    for (let t = 0; t < n; t++) s += known.ratings[t] - mu - algo.bi[known.items[t]];
    const bu = als
      ? s / (((o.regU as number | undefined) ?? 15) + n)
      : s / (n * (1 + ((o.reg as number | undefined) ?? 0.02)));
    return { ...known, bu, pu: null };
  }
  const fm = algo as FactorModel;
  const k = fm.nFactors;
  if (algo instanceof NMF) return foldNmf(algo, known.items, known.ratings);
  const biased = algo instanceof SVDpp ? true : (algo.params.biased as boolean);
  let z: Float64Array | null = null;
  if (algo instanceof SVDpp) {
    z = new Float64Array(k);
    for (const j of known.items) for (let f = 0; f < k; f++) z[f] += algo.yj[j * k + f];
    const s = Math.sqrt(n);
    for (let f = 0; f < k; f++) z[f] /= s;
  }
  const targets = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const i = known.items[t];
    let y = known.ratings[t];
    if (biased) y -= mu + fm.bi[i];
    if (z) for (let f = 0; f < k; f++) y -= fm.qi[i * k + f] * z[f];
    targets[t] = y;
  }
  const w = ridgeSolve(
    fm.qi,
    k,
    known.items,
    targets,
    biased,
    sgdReg(algo, 'Bu'),
    sgdReg(algo, 'Pu'),
  );
  const pu = biased ? w.slice(1) : w;
  if (z) for (let f = 0; f < k; f++) pu[f] += z[f];
  return { ...known, bu: biased ? w[0] : 0, pu };
}

/** NMF's user half-step with the item factors frozen (module comment). */
function foldNmf(algo: NMF, items: Int32Array, ratings: Float64Array): FoldedUser {
  const k = algo.nFactors;
  const p = algo.params;
  const biased = p.biased as boolean;
  const regPu = p.regPu as number;
  const regBu = p.regBu as number;
  const mu = biased ? algo.trainset.globalMean : 0;
  const n = items.length;
  const pu = new Float64Array(k).fill(((p.initLow as number) + (p.initHigh as number)) / 2);
  const num = new Float64Array(k);
  const den = new Float64Array(k);
  let bu = 0;
  for (let it = 0; it < NMF_FOLD_ITERATIONS; it++) {
    if (biased) {
      let s = 0;
      for (let t = 0; t < n; t++)
        s += ratings[t] - mu - algo.bi[items[t]] - dotRow(algo.qi, items[t], k, pu);
      bu = s / (n * (1 + regBu));
    }
    num.fill(0);
    den.fill(0);
    for (let t = 0; t < n; t++) {
      const i = items[t];
      const io = i * k;
      const est = mu + bu + (biased ? algo.bi[i] : 0) + dotRow(algo.qi, i, k, pu);
      for (let f = 0; f < k; f++) {
        num[f] += algo.qi[io + f] * ratings[t];
        den[f] += algo.qi[io + f] * est;
      }
    }
    for (let f = 0; f < k; f++) {
      const d = den[f] + n * regPu * pu[f];
      if (d !== 0) pu[f] *= num[f] / d;
    }
  }
  return { items, ratings, bu, pu };
}

/** `q_iᵀ p` for item row i of a row-major factor matrix with k columns. */
function dotRow(q: Float64Array, i: number, k: number, p: Float64Array): number {
  const io = i * k;
  let s = 0;
  for (let f = 0; f < k; f++) s += q[io + f] * p[f];
  return s;
}

/**
 * The folded user's estimate for inner item `i` (−1: an item the model does not know), not
 * clipped: the model's own formula with the folded b_u and p_u — `μ + b_u (+ b_i + q_iᵀ p_u
 * when i is known)` for biased models, `q_iᵀ p_u` unbiased (the global mean for an unknown item,
 * as the base class falls back), `μ + b_u (+ b_i)` for BaselineOnly.
 */
export function estimateFolded(algo: AlgoBase, user: FoldedUser, i: number): number {
  return estimateFoldedResult(algo, user, i).est;
}

/**
 * {@link estimateFolded} with whether the estimate is the fallback (`wasImpossible`): the item is
 * unknown, or (KNNBasic) fewer than `minK` neighbours contributed — the estimate is then the
 * global mean, as the trained model's `predict` falls back; `reason` as Surprise's.
 */
export function estimateFoldedResult(
  algo: AlgoBase,
  user: FoldedUser,
  i: number,
): { est: number; impossible: boolean; reason: string | null } {
  const ts = algo.trainset;
  if (user.knn && canFoldInKnn(algo)) {
    if (!ts.knowsItem(i)) {
      return { est: ts.globalMean + user.bu, impossible: true, reason: 'Item unknown' };
    }
    try {
      const r = algo.estimateFoldedUser(user.knn, i);
      return { est: typeof r === 'number' ? r : r.est, impossible: false, reason: null };
    } catch (e) {
      if (!(e instanceof PredictionImpossible)) throw e;
      return { est: ts.globalMean, impossible: true, reason: e.message };
    }
  }
  const est = estimateFactorOrBaseline(algo, user, i);
  return { est, impossible: !ts.knowsItem(i), reason: ts.knowsItem(i) ? null : 'Item unknown' };
}

/** estimateFolded for the factor models and BaselineOnly. */
function estimateFactorOrBaseline(algo: AlgoBase, user: FoldedUser, i: number): number {
  const ts = algo.trainset;
  const known = ts.knowsItem(i);
  if (algo instanceof BaselineOnly) return ts.globalMean + user.bu + (known ? algo.bi[i] : 0);
  const fm = algo as FactorModel;
  const biased = algo instanceof SVDpp ? true : (algo.params.biased as boolean);
  if (!biased) return known ? dotRow(fm.qi, i, fm.nFactors, user.pu!) : ts.globalMean;
  let est = ts.globalMean + user.bu;
  if (known) est += fm.bi[i] + dotRow(fm.qi, i, fm.nFactors, user.pu!);
  return est;
}

/**
 * The k items with the highest clipped folded estimates, best first (ties: lower inner id), by a
 * bounded heap over the catalogue (O(nItems · (nFactors + log k)), no sort of the catalogue;
 * factor models through `factorTopK`).
 * @param excludeRated leave out the items in `user.items`
 */
export function recommendFolded(
  algo: AlgoBase,
  user: FoldedUser,
  k: number,
  excludeRated: boolean,
  keep: ((i: number) => boolean) | null = null,
): Recommendation[] {
  const ts = algo.trainset;
  const [lo, hi] = ts.ratingScale;
  // the rated items as a reused scratch mask (factor-top-n.ts): no catalogue-sized array per call
  return withExcluded(ts.nItems, excludeRated ? user.items : [], (rated) => {
    if (user.pu && isFactorModel(algo)) return factorTopK(algo, user.bu, user.pu, k, rated, keep);
    const heap = new TopKHeap(k);
    for (let i = 0; i < ts.nItems; i++) {
      if (rated[i] || (keep !== null && !keep(i))) continue;
      heap.offer(Math.min(hi, Math.max(lo, estimateFolded(algo, user, i))), i);
    }
    const m = heap.drainSorted();
    const out: Recommendation[] = new Array(m);
    for (let q = 0; q < m; q++) out[q] = { iid: ts.toRawIid(heap.ids[q]), est: heap.scores[q] };
    return out;
  });
}
