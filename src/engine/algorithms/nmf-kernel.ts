/**
 * The training loop of NMF (Surprise 1.1.4, matrix_factorization.pyx, `NMF.sgd`), twice: in plain
 * TypeScript over typed arrays (`nmfSgdJs`, the reference) and with its hot part, the pass over
 * the ratings, as a small WebAssembly function (`nmfSgdWasm`, assembled at load time with the
 * helpers of wasm-asm.ts). WebAssembly's f64 arithmetic is IEEE 754 binary64, round to nearest,
 * never fused, and the kernel performs the same operations in the same order, so both give the
 * same bits (a test checks it); the WebAssembly pass has no bounds checks and runs several times
 * faster.
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
import {
  OP,
  type UserLocals,
  VOID,
  accumulate,
  biasUpdate,
  eachFactor as eachFactorOf,
  eachUser,
  estimate,
  element,
  f64c0,
  get,
  i32c,
  increment,
  ldF,
  ldI,
  plus,
  factorKernel,
  localLayout,
  passLayout,
  set,
  stF,
  uleb,
  userSetup,
  whileLess,
} from './wasm-asm';
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
 * with numerators and denominators interleaved in `itemAcc` (length 2 × nItems × nFactors).
 */
function updateItems(a: NmfSgdInput, itemAcc: Float64Array, qi: Float64Array): void {
  const { nItems, itemDegrees, regQi } = a;
  const nF = a.nFactors;
  for (let i = 0; i < nItems; i++) {
    const nRatings = itemDegrees[i];
    const io = i * nF;
    for (let f = 0; f < nF; f++) {
      const x = 2 * (io + f);
      const denom = itemAcc[x + 1] + nRatings * regQi * qi[io + f];
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
          itemAcc[ia + 2 * f] += puf * r;
        }
        const est = mu + bu[u] + bi[i] + dot;
        const err = r - est;
        if (biased) {
          bu[u] += lrBu * (err - regBu * bu[u]);
          bi[i] += lrBi * (err - regBi * bi[i]);
        }
        for (let f = 0; f < nF; f++) {
          uDen[f] += qi[io + f] * est;
          itemAcc[ia + 2 * f + 1] += pu[uo + f] * est;
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

// Parameters of the exported function `pass` (users uStart…uEnd−1; see `passLayout`), then locals.
const PARAMS = passLayout(
  ['biased'],
  ['accP', 'numP', 'denP'],
  ['mu', 'lrBu', 'lrBi', 'regBu', 'regBi', 'regPu'],
);
const P = PARAMS.P;
const LOCALS = localLayout(
  PARAMS,
  ['u', 'k', 'end', 'up', 'ip', 'ap', 'f', 'buA', 'biA', 'start'],
  ['r', 'dot', 'est', 'err', 'q', 'p'],
);
const L = LOCALS.L;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

const eachFactor = (body: number[]) => eachFactorOf(L.f, P.rowBytes, body);
const fOf = (base: number) => plus(base, L.f); // base + f
/** base + 2f (+ extra): the item accumulators are interleaved (numerator, denominator). */
const f2Of = (base: number, extra = 0) => [
  ...element(base, L.f, 1),
  ...(extra ? [...i32c(extra), OP.i32Add] : []),
];

function passBody(): number[] {
  // q = qi[i,f]; p = pu[u,f]; dot += q·p; num[f] += q·r; acc[i,2f] += p·r
  const numerators = eachFactor([
    ...fOf(L.ip),
    ...ldF(),
    ...set(L.q),
    ...fOf(L.up),
    ...ldF(),
    ...set(L.p),
    ...get(L.dot),
    ...get(L.q),
    ...get(L.p),
    OP.f64Mul,
    OP.f64Add,
    ...set(L.dot),
    ...accumulate(fOf(P.numP), [...get(L.q), ...get(L.r), OP.f64Mul]),
    ...accumulate(f2Of(L.ap), [...get(L.p), ...get(L.r), OP.f64Mul]),
  ]);
  // den[f] += qi[i,f]·est; acc[i,2f+1] += pu[u,f]·est
  const denominators = eachFactor([
    ...accumulate(fOf(P.denP), [...fOf(L.ip), ...ldF(), ...get(L.est), OP.f64Mul]),
    ...accumulate(f2Of(L.ap, 8), [...fOf(L.up), ...ldF(), ...get(L.est), OP.f64Mul]),
  ]);
  const rating = [
    // i = items[k]; ip = qiP + i·rowBytes; ap = accP + 2·i·rowBytes; biA = biP + 8i; r = ratings[k]
    ...element(P.itemsP, L.k, 2),
    ...ldI(),
    OP.tee,
    ...uleb(L.f), // i, kept in f until the factor loop resets it
    ...get(P.rowBytes),
    OP.i32Mul,
    OP.tee,
    ...uleb(L.ip),
    ...i32c(1),
    OP.i32Shl,
    ...get(P.accP),
    OP.i32Add,
    ...set(L.ap),
    ...get(L.ip),
    ...get(P.qiP),
    OP.i32Add,
    ...set(L.ip),
    ...element(P.biP, L.f, 3),
    ...set(L.biA),
    ...element(P.ratingsP, L.k, 3),
    ...ldF(),
    ...set(L.r),
    ...f64c0,
    ...set(L.dot),
    ...numerators,
    // est = ((mu + bu[u]) + bi[i]) + dot
    ...estimate(P.mu, L.buA, L.biA, L.dot),
    ...set(L.est),
    ...get(P.biased),
    OP.if,
    VOID,
    ...get(L.r),
    ...get(L.est),
    OP.f64Sub,
    ...set(L.err),
    ...biasUpdate(L.buA, P.lrBu, L.err, P.regBu),
    ...biasUpdate(L.biA, P.lrBi, L.err, P.regBi),
    OP.end,
    ...denominators,
    ...increment(L.k),
  ];
  // num[f] = den[f] = 0
  const clear = eachFactor([
    ...fOf(P.numP),
    ...f64c0,
    ...stF(),
    ...fOf(P.denP),
    ...f64c0,
    ...stF(),
  ]);
  // pu[u,f] = pu[u,f] · (num[f] / (den[f] + (nRatings·regPu)·pu[u,f]))
  const userUpdate = eachFactor([
    ...fOf(L.up),
    ...fOf(L.up),
    ...ldF(),
    ...set(L.p),
    ...get(L.p),
    ...fOf(P.numP),
    ...ldF(),
    ...fOf(P.denP),
    ...ldF(),
    ...get(L.end),
    ...get(L.start),
    OP.i32Sub,
    OP.f64ConvertI32S,
    ...get(P.regPu),
    OP.f64Mul,
    ...get(L.p),
    OP.f64Mul,
    OP.f64Add,
    OP.f64Div,
    OP.f64Mul,
    ...stF(),
  ]);
  const user = [
    // up = puP + u·rowBytes; buA = buP + 8u; k = start = off[u]; end = off[u + 1]
    ...userSetup(U, [OP.tee, ...uleb(L.start), ...set(L.k)]),
    ...clear,
    ...whileLess(L.k, L.end, rating),
    ...userUpdate,
  ];
  return eachUser(U, user);
}

const kernel = factorKernel('pass', PARAMS, LOCALS.counts, passBody);

/** True when the WebAssembly pass is available on this runtime. */
export const nmfKernelAvailable: () => boolean = kernel.available;

/**
 * The same loop with the pass over the ratings in WebAssembly. Copies the arrays into a fresh
 * linear memory, runs, copies the biases and factors back.
 * @returns false (and changes nothing) when WebAssembly is unavailable or the data would need more
 *   than 2 GiB; the caller then runs `nmfSgdJs`.
 */
export function nmfSgdWasm(a: NmfSgdInput): boolean {
  // Scratch: item (numerator, denominator) pairs; the user's numerators, denominators.
  const arrays = { accP: a.nItems * a.nFactors * 2, numP: a.nFactors, denP: a.nFactors };
  return kernel.run(a, {
    arrays,
    beforeEpoch: (views) => views.accP.fill(0),
    afterEpoch: (views) => updateItems(a, views.accP as Float64Array, views.qiP as Float64Array),
    flags: { biased: a.biased ? 1 : 0 },
    floats: a,
  });
}

/** Runs Surprise's NMF loop in place: the WebAssembly pass when available, else TypeScript. */
export function nmfSgd(a: NmfSgdInput): void {
  if (!nmfSgdWasm(a)) nmfSgdJs(a);
}
