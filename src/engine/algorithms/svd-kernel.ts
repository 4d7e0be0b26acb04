/**
 * The SGD loop of SVD (Surprise 1.1.4, matrix_factorization.pyx, `SVD.sgd`), in three kernels:
 *
 * - `svdSgdJs`: plain TypeScript over typed arrays, the reference, operation for operation;
 * - `svdSgdWasm` (kernel 'exact'): the same f64 operations in the same order in WebAssembly,
 *   compiled from AssemblyScript (src/engine/kernels/assembly/svd.ts, `sgdExact`): bit-identical
 *   to `svdSgdJs` (WebAssembly f64 arithmetic is IEEE 754 binary64, round to nearest, never
 *   fused; the dot product adds its terms in Surprise's order f = 0, 1, …); a test checks it;
 * - kernel 'simd' (src/engine/kernels/svd-simd.ts): f32 in four-lane SIMD over a deterministic
 *   DSGD block schedule, optionally on several threads; not bit-identical to Surprise, RMSE within
 *   ±0.002 of 'exact' on ml-100k (test/engine/svd-simd.test.ts).
 *
 * `svdSgd(input, kernel, threads)` picks one.
 */
import { instantiateKernel } from '../kernels/module';
import { forEachUserChunk, layOutUserRows } from '../kernels/user-rows';
import { svdSgdSimd } from '../kernels/svd-simd';
import type { FactorTraining } from './factor-model';
import type { RandomState } from '../random';
import type { SgdRates } from './sgd-params';

/** Inputs of one SGD run: the training arrays (updated in place) and the rates. */
export interface SvdSgdInput extends FactorTraining, SgdRates<'Bu' | 'Bi' | 'Pu' | 'Qi'> {
  /** Whether the biases are learned (Surprise's `biased`). */
  biased: boolean;
}

/** The reference loop in TypeScript: Surprise's `SVD.sgd`, operation for operation. */
export function svdSgdJs(a: SvdSgdInput): void {
  const { nUsers, nEpochs, biased, urOffsets, urItems, urRatings, bu, bi, pu, qi, mu } = a;
  const nF = a.nFactors;
  const { lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi } = a;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let u = 0; u < nUsers; u++) {
      const uo = u * nF;
      const end = urOffsets[u + 1];
      for (let k = urOffsets[u]; k < end; k++) {
        const i = urItems[k];
        const io = i * nF;
        let dot = 0;
        for (let f = 0; f < nF; f++) dot += qi[io + f] * pu[uo + f];
        const err = urRatings[k] - (mu + bu[u] + bi[i] + dot);
        if (biased) {
          bu[u] += lrBu * (err - regBu * bu[u]);
          bi[i] += lrBi * (err - regBi * bi[i]);
        }
        for (let f = 0; f < nF; f++) {
          const puf = pu[uo + f];
          const qif = qi[io + f];
          pu[uo + f] = puf + lrPu * (err * qif - regPu * puf);
          qi[io + f] = qif + lrQi * (err * puf - regQi * qif);
        }
      }
    }
  }
}

/** The exports of the AssemblyScript SVD module (src/engine/kernels/assembly/svd.ts). */
export interface SvdKernelExports {
  sgdExact(
    uStart: number,
    uEnd: number,
    offsets: number,
    items: number,
    ratings: number,
    bu: number,
    bi: number,
    pu: number,
    qi: number,
    nF: number,
    biased: number,
    mu: number,
    lrBu: number,
    lrBi: number,
    lrPu: number,
    lrQi: number,
    regBu: number,
    regBi: number,
    regPu: number,
    regQi: number,
  ): void;
  sgdF32x4(
    kStart: number,
    kEnd: number,
    users: number,
    items: number,
    ratings: number,
    bu: number,
    bi: number,
    pu: number,
    qi: number,
    nF8: number,
    biased: number,
    mu: number,
    lrBu: number,
    lrBi: number,
    lrPu: number,
    lrQi: number,
    regBu: number,
    regBi: number,
    regPu: number,
    regQi: number,
  ): void;
}

/**
 * Runs `a.nEpochs` epochs of the exact kernel (`sgdExact`, f64, Surprise's order) in
 * WebAssembly: copies the arrays into a fresh kernel memory (`layOutUserRows`), runs each epoch
 * over the users in calls of about `CHUNK_RATINGS` ratings (`forEachUserChunk`), copies the biases
 * and factors back.
 *
 * @returns false (and changes nothing) when the data would need more than 4 GiB; the caller then
 *   runs `svdSgdJs`.
 */
export function svdSgdWasm(a: SvdSgdInput): boolean {
  const { bu, bi, pu, qi } = a;
  const m = layOutUserRows(a, { bu, bi, pu, qi }, {});
  if (!m) return false;
  const { offsets, items, ratings, model } = m;
  const k = instantiateKernel<SvdKernelExports>('svd', m.mem.memory);
  for (let epoch = 0; epoch < a.nEpochs; epoch++) {
    forEachUserChunk(a.urOffsets, a.nUsers, (u0, u1) =>
      k.sgdExact(
        u0,
        u1,
        offsets.address,
        items.address,
        ratings.address,
        model.bu.address,
        model.bi.address,
        model.pu.address,
        model.qi.address,
        a.nFactors,
        a.biased ? 1 : 0,
        a.mu,
        a.lrBu,
        a.lrBi,
        a.lrPu,
        a.lrQi,
        a.regBu,
        a.regBi,
        a.regPu,
        a.regQi,
      ),
    );
  }
  m.copyBack();
  return true;
}

/** Which SGD kernel runs: 'exact' (f64, Surprise's order and bits) or 'simd' (f32x4, DSGD). */
export type SvdKernel = 'exact' | 'simd';

/**
 * Initial factors to draw instead of reading them from the input's `pu` and `qi`: p then q, each
 * `rng.fillNormal(…, mean, std)` (Surprise's `rng.normal(init_mean, init_std, (rows, n_factors))`).
 */
export interface NormalDraw {
  rng: RandomState;
  mean: number;
  std: number;
}

/** Options of `svdSgd`: the 'simd' kernel's (ignored by 'exact') and the initial draw. */
export interface SimdOptions {
  /** Threads (1 = this thread only); must divide `blocks`. Default 1. */
  threads?: number;
  /** B of the B × B block grid (a whole number ≥ 1). Default 4. */
  blocks?: number;
  /**
   * When given, `pu` and `qi` are drawn from it first (they need only the right lengths); the
   * 'simd' kernel draws them straight into its f32 memory (the same values, rounded to f32).
   */
  draw?: NormalDraw;
}

/**
 * Runs Surprise's SVD SGD loop in place with `kernel`: 'exact' in WebAssembly (the TypeScript
 * loop when the data exceeds 4 GiB), or 'simd' (svd-simd.ts; the factors come back widened from
 * f32 to f64).
 */
export function svdSgd(a: SvdSgdInput, kernel: SvdKernel = 'exact', opts: SimdOptions = {}): void {
  const { draw } = opts;
  if (kernel === 'simd') return svdSgdSimd(a, opts.threads ?? 1, opts.blocks ?? 4, draw);
  if (draw) {
    draw.rng.fillNormal(a.pu, draw.mean, draw.std);
    draw.rng.fillNormal(a.qi, draw.mean, draw.std);
  }
  if (!svdSgdWasm(a)) svdSgdJs(a);
}
