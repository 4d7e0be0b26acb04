/**
 * The training loop of NMF (Surprise 1.1.4, matrix_factorization.pyx, `NMF.sgd`), twice: in plain
 * TypeScript over typed arrays (`nmfSgdJs`, the reference) and with its hot part, the pass over
 * the ratings, as a small WebAssembly function (`nmfSgdWasm`, assembled at load time with the
 * helpers of wasm-asm.ts). WebAssembly's f64 arithmetic is IEEE 754 binary64, round to nearest,
 * never fused, and the kernel performs the same operations in the same order, so both give the
 * same bits (a test checks it for both builds); the WebAssembly pass has no bounds checks, does
 * two factors at a time with f64x2 SIMD where the runtime has it (each lane does the scalar
 * operation) and runs several times faster.
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
  VOID,
  type KernelBuild,
  type LaneStep,
  type UserLocals,
  accumulate,
  biasUpdate,
  eachUser,
  estimate,
  element,
  f64c0,
  factorKernel,
  get,
  i32c,
  increment,
  itemRow,
  ldF,
  localLayout,
  passLayout,
  plus,
  rowsOf,
  limit4,
  zeroRows,
  set,
  simdAndScalar,
  splats,
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

// Parameters of the exported function `pass` (users uStart…uEnd−1; see `passLayout`), then
// locals (the v128 ones in the SIMD build only).
const PARAMS = passLayout(
  ['biased'],
  ['accP', 'numP', 'denP'],
  ['mu', 'lrBu', 'lrBi', 'regBu', 'regBi', 'regPu'],
);
const P = PARAMS.P;
const LOCALS = localLayout(
  PARAMS,
  ['u', 'k', 'end', 'up', 'ip', 'ap', 'dp', 'f', 'buA', 'biA', 'start', 'limit4'],
  ['r', 'dot', 'est', 'err', 'q', 'p', 'c'],
  ['vR', 'vEst', 'vC', 'vQ', 'vP', 'vM'],
);
const L = LOCALS.L;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

/** The locals a step of one lane width uses: f64 ones (scalar), or v128 ones (SIMD). */
type StepLocals = Record<'r' | 'est' | 'c' | 'q' | 'p' | 'm', number>;
const SCALAR_LOCALS: StepLocals = { ...L, m: L.q };
const VECTOR_LOCALS: StepLocals = { r: L.vR, est: L.vEst, c: L.vC, q: L.vQ, p: L.vP, m: L.vM };
/** A step at byte offset o of the factor loop (f in bytes), for one lane width. */
type Step = LaneStep<StepLocals>;

const fOf = (base: number) => plus(base, L.f); // base + f
// q = qi[i,f]; p = pu[u,f]; dot += q·p; num[f] += q·r; itemNum[i,f] += p·r
const numeratorStep: Step = (w, x) => (o) => [
  ...fOf(L.ip),
  ...w.ld(o),
  ...set(x.q),
  ...fOf(L.up),
  ...w.ld(o),
  ...set(x.p),
  ...get(x.q),
  ...get(x.p),
  ...w.mul,
  ...w.addTo(L.dot, x.m),
  ...accumulate(fOf(P.numP), [...get(x.q), ...get(x.r), ...w.mul], w, o),
  ...accumulate(fOf(L.ap), [...get(x.p), ...get(x.r), ...w.mul], w, o),
];
// den[f] += qi[i,f]·est; itemDen[i,f] += pu[u,f]·est
const denominatorStep: Step = (w, x) => (o) => [
  ...accumulate(fOf(P.denP), [...fOf(L.ip), ...w.ld(o), ...get(x.est), ...w.mul], w, o),
  ...accumulate(fOf(L.dp), [...fOf(L.up), ...w.ld(o), ...get(x.est), ...w.mul], w, o),
];
// num[f] = den[f] = 0
const clearStep: Step = zeroRows(L.f, P.numP, P.denP);
// pu[u,f] = pu[u,f] · (num[f] / (den[f] + c·pu[u,f])), c = nRatings·regPu
const userStep: Step = (w, x) => (o) => [
  ...fOf(L.up),
  ...fOf(L.up),
  ...w.ld(o),
  ...set(x.p),
  ...get(x.p),
  ...fOf(P.numP),
  ...w.ld(o),
  ...fOf(P.denP),
  ...w.ld(o),
  ...get(x.c),
  ...get(x.p),
  ...w.mul,
  ...w.add,
  ...w.div,
  ...w.mul,
  ...w.st(o),
];

function passBody(useSimd: boolean): number[] {
  // Loops over a row: four factors per iteration while four remain (SIMD: two lanes at a time).
  const row = rowsOf(
    { f: L.f, rowBytes: P.rowBytes, limit: L.limit4 },
    useSimd,
    SCALAR_LOCALS,
    VECTOR_LOCALS,
  );
  const vectors = (pairs: [number, number][]) => (useSimd ? splats(pairs) : []);
  const rating = [
    // i = items[k]; ip = qiP + i·rowBytes; biA = biP + 8i; ap = accP + 2·i·rowBytes (the item's
    // numerators), dp = ap + rowBytes (its denominators); r = ratings[k]
    ...itemRow({ ...P, ...L }, L.ip, L.biA),
    ...get(L.ip),
    ...get(P.qiP),
    OP.i32Sub,
    ...i32c(1),
    OP.i32Shl,
    ...get(P.accP),
    OP.i32Add,
    OP.tee,
    ...uleb(L.ap),
    ...get(P.rowBytes),
    OP.i32Add,
    ...set(L.dp),
    ...element(P.ratingsP, L.k, 3),
    ...ldF(),
    ...set(L.r),
    ...vectors([[L.r, L.vR]]),
    ...f64c0,
    ...set(L.dot),
    ...row(numeratorStep),
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
    ...vectors([[L.est, L.vEst]]),
    ...row(denominatorStep),
    ...increment(L.k),
  ];
  const user = [
    // up = puP + u·rowBytes; buA = buP + 8u; k = start = off[u]; end = off[u + 1]
    ...userSetup(U, [OP.tee, ...uleb(L.start), ...set(L.k)]),
    ...row(clearStep),
    ...whileLess(L.k, L.end, rating),
    // c = nRatings·regPu
    ...get(L.end),
    ...get(L.start),
    OP.i32Sub,
    OP.f64ConvertI32S,
    ...get(P.regPu),
    OP.f64Mul,
    ...set(L.c),
    ...vectors([[L.c, L.vC]]),
    ...row(userStep),
  ];
  return [...limit4(P.rowBytes, L.limit4), ...eachUser(U, user)];
}

/** Both builds, each compiled once; a build is unavailable when the runtime refuses it. */
const kernels = simdAndScalar((useSimd) =>
  factorKernel('pass', PARAMS, { ...LOCALS.counts, v128: useSimd ? LOCALS.counts.v128 : 0 }, () =>
    passBody(useSimd),
  ),
);

/** The build `nmfSgdWasm` uses on this runtime: SIMD when supported, else scalar, else none. */
export const nmfKernelBuild = (): KernelBuild => kernels.build();

/** True when the WebAssembly pass is available on this runtime. */
export const nmfKernelAvailable = (): boolean => kernels.build() !== 'none';

/**
 * The same loop with the pass over the ratings in WebAssembly. Copies the arrays into a fresh
 * linear memory, runs, copies the biases and factors back.
 * @returns false (and changes nothing) when WebAssembly is unavailable or the data would need more
 *   than 2 GiB; the caller then runs `nmfSgdJs`.
 */
export function nmfSgdWasm(a: NmfSgdInput, build: 'simd' | 'scalar' | 'auto' = 'auto'): boolean {
  // Scratch: each item's numerators then denominators; the user's numerators, denominators.
  const arrays = { accP: a.nItems * a.nFactors * 2, numP: a.nFactors, denP: a.nFactors };
  const args = {
    arrays,
    beforeEpoch: (views: { accP: Float64Array | Int32Array }) => views.accP.fill(0),
    afterEpoch: (views: { accP: Float64Array | Int32Array; qiP: Float64Array | Int32Array }) =>
      updateItems(a, views.accP as Float64Array, views.qiP as Float64Array),
    flags: { biased: a.biased ? 1 : 0 },
    floats: a,
  };
  return kernels.run(a, args, build);
}

/** Runs Surprise's NMF loop in place: the WebAssembly pass when available, else TypeScript. */
export function nmfSgd(a: NmfSgdInput): void {
  if (!nmfSgdWasm(a)) nmfSgdJs(a);
}
