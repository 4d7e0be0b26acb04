/**
 * The training loop of NMF (Surprise 1.1.4, matrix_factorization.pyx, `NMF.sgd`), twice: in plain
 * TypeScript over typed arrays (`nmfSgdJs`, the reference) and with its hot part, the pass over
 * the ratings, in WebAssembly (`nmfSgdWasm`), compiled from the AssemblyScript source
 * src/engine/kernels/assembly/nmf.ts (`nmfPass`; see docs/engine.md, "SGD kernels").
 * WebAssembly's f64 arithmetic is IEEE 754 binary64, round to nearest, never fused, and the kernel
 * performs the same operations in the same order, so both give the same bits (a test checks it);
 * the WebAssembly pass has no bounds checks and does the element-wise work two factors at a time
 * in f64x2 (each lane does the scalar operation).
 *
 * Per epoch:
 *
 * ```
 * item_num = item_denom = 0
 * for u in users:                                   (the WebAssembly pass)
 *     user_num = user_denom = 0
 *     for (i, r) in ur[u]:
 *         dot = Σ_f qi[i,f] · pu[u,f]                  (with user_num[f] += qi[i,f]·r, item_num[i,f] += pu[u,f]·r)
 *         est = ((μ + bu[u]) + bi[i]) + dot;  err = r − est
 *         if biased: bu[u] += lr_bu·(err − reg_bu·bu[u]);  bi[i] += lr_bi·(err − reg_bi·bi[i])
 *         user_denom[f] += qi[i,f]·est;  item_denom[i,f] += pu[u,f]·est
 *     pu[u,f] *= user_num[f] / (user_denom[f] + |I_u|·reg_pu·pu[u,f])
 * for i in items: qi[i,f] *= item_num[i,f] / (item_denom[i,f] + |U_i|·reg_qi·qi[i,f])
 * ```
 *
 * `p_u` is updated right after u's ratings because nothing reads it later in the pass; Surprise
 * does it in a separate loop after the pass, with the same values.
 */
import { instantiateKernel } from '../kernels/module';
import { forEachUserChunk, layOutUserRows } from '../kernels/user-rows';
import type { FactorTraining } from './factor-model';

/** Inputs of one NMF run: the training arrays (`bu`, `bi`, `pu`, `qi` updated in place) and more. */
export interface NmfSgdInput extends FactorTraining {
  nItems: number;
  /** Whether the biases are learned (Surprise's `biased`). */
  biased: boolean;
  /** Number of ratings of each item (length nItems). */
  itemDegrees: Int32Array;
  regPu: number;
  regQi: number;
  regBu: number;
  regBi: number;
  lrBu: number;
  lrBi: number;
}

/**
 * The item factor update closing an epoch: `qi[i,f] *= num / (denom + |U_i|·reg_qi·qi[i,f])`,
 * with `itemAcc` (length 2 × nItems × nFactors) holding, for each item i, its nFactors numerators
 * then its nFactors denominators (at 2·i·nFactors + f and 2·i·nFactors + nFactors + f).
 */
function updateItems(a: NmfSgdInput, itemAcc: Float64Array, qi: Float64Array): void {
  const { nItems, itemDegrees, regQi } = a;
  const nF = a.nFactors;
  for (let i = 0; i < nItems; i++) {
    const nRatings = itemDegrees[i];
    const io = i * nF;
    for (let f = 0; f < nF; f++) {
      const x = 2 * io + f;
      const denom = itemAcc[x + nF] + nRatings * regQi * qi[io + f];
      qi[io + f] *= itemAcc[x] / denom;
    }
  }
}

/** The reference loop in TypeScript, operation for operation as Surprise's `NMF.sgd`. */
export function nmfSgdJs(a: NmfSgdInput): void {
  const { nUsers, nItems, nEpochs, biased, urOffsets, urItems, urRatings, bu, bi, pu, qi, mu } = a;
  const nF = a.nFactors;
  const { regPu, regBu, regBi, lrBu, lrBi } = a;
  const uNum = new Float64Array(nF);
  const uDen = new Float64Array(nF);
  const itemAcc = new Float64Array(nItems * nF * 2);
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    itemAcc.fill(0);
    for (let u = 0; u < nUsers; u++) {
      const uo = u * nF;
      const start = urOffsets[u];
      const end = urOffsets[u + 1];
      uNum.fill(0);
      uDen.fill(0);
      for (let k = start; k < end; k++) {
        const i = urItems[k];
        const r = urRatings[k];
        const io = i * nF;
        const ia = io * 2;
        // The numerators do not depend on the estimate: accumulate them with the dot product.
        let dot = 0;
        for (let f = 0; f < nF; f++) {
          const qif = qi[io + f];
          const puf = pu[uo + f];
          dot += qif * puf;
          uNum[f] += qif * r;
          itemAcc[ia + f] += puf * r;
        }
        const est = mu + bu[u] + bi[i] + dot;
        const err = r - est;
        if (biased) {
          bu[u] += lrBu * (err - regBu * bu[u]);
          bi[i] += lrBi * (err - regBi * bi[i]);
        }
        for (let f = 0; f < nF; f++) {
          uDen[f] += qi[io + f] * est;
          itemAcc[ia + nF + f] += pu[uo + f] * est;
        }
      }
      const nRatings = end - start;
      for (let f = 0; f < nF; f++) {
        const denom = uDen[f] + nRatings * regPu * pu[uo + f];
        pu[uo + f] *= uNum[f] / denom;
      }
    }
    updateItems(a, itemAcc, qi);
  }
}

// ---- The pass over the ratings in WebAssembly ----------------------------------------------

/** The export of the AssemblyScript NMF module (src/engine/kernels/assembly/nmf.ts). */
interface NmfKernelExports {
  nmfPass(
    uStart: number,
    uEnd: number,
    offsets: number,
    items: number,
    ratings: number,
    bu: number,
    bi: number,
    pu: number,
    qi: number,
    acc: number,
    num: number,
    den: number,
    nF: number,
    biased: number,
    mu: number,
    lrBu: number,
    lrBi: number,
    regBu: number,
    regBi: number,
    regPu: number,
  ): void;
}

/**
 * The same loop with the pass over the ratings in WebAssembly. Copies the arrays into a fresh
 * kernel memory, runs each epoch's pass over the users in calls of about `CHUNK_RATINGS` ratings
 * (then the item update, `updateItems`, on the memory's views), copies the biases and factors
 * back.
 * @returns false (and changes nothing) when the data would need more than 4 GiB; the caller then
 *   runs `nmfSgdJs`.
 */
export function nmfSgdWasm(a: NmfSgdInput): boolean {
  const { bu, bi, pu, qi } = a;
  const nF = a.nFactors;
  const m = layOutUserRows(a, { bu, bi, pu, qi }, { acc: a.nItems * nF * 2, num: nF, den: nF });
  if (!m) return false;
  const { offsets, items, ratings, model, scratch } = m;
  const k = instantiateKernel<NmfKernelExports>('nmf', m.mem.memory);
  for (let epoch = 0; epoch < a.nEpochs; epoch++) {
    scratch.acc.view.fill(0);
    forEachUserChunk(a.urOffsets, a.nUsers, (u0, u1) =>
      k.nmfPass(
        u0,
        u1,
        offsets.address,
        items.address,
        ratings.address,
        model.bu.address,
        model.bi.address,
        model.pu.address,
        model.qi.address,
        scratch.acc.address,
        scratch.num.address,
        scratch.den.address,
        nF,
        a.biased ? 1 : 0,
        a.mu,
        a.lrBu,
        a.lrBi,
        a.regBu,
        a.regBi,
        a.regPu,
      ),
    );
    updateItems(a, scratch.acc.view, model.qi.view);
  }
  m.copyBack();
  return true;
}

/** Runs Surprise's NMF loop in place: the WebAssembly pass, else (over 4 GiB) TypeScript. */
export function nmfSgd(a: NmfSgdInput): void {
  if (!nmfSgdWasm(a)) nmfSgdJs(a);
}
