/**
 * The SGD loop of SVD (Surprise 1.1.4, matrix_factorization.pyx, `SVD.sgd`), twice: in plain
 * TypeScript over typed arrays (`svdSgdJs`, the reference) and as a small WebAssembly function
 * (`svdSgdWasm`) that runs the same operations in the same order about three times faster (no
 * bounds check per element). WebAssembly's f64 arithmetic is IEEE 754 binary64 with round-to-nearest
 * and never fuses a multiply and an add, so both give bit-identical factors; a test checks it.
 *
 * The WebAssembly module is assembled at load time from the instruction list below, with the
 * shared assembler of wasm-asm.ts (no binary blob in the repository).
 */
import {
  OP,
  type UserLocals,
  VOID,
  biasUpdate,
  eachUser,
  estimate,
  element,
  f64c0,
  forUserChunks,
  get,
  i32c,
  increment,
  lazyKernel,
  plus,
  ldF,
  ldI,
  runKernel,
  set,
  stF,
  uleb,
  userSetup,
  whileLess,
} from './wasm-asm';
import type { FactorTraining } from './factor-model';
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

// ---- The kernel in WebAssembly (assembler helpers: wasm-asm.ts) -----------------------

// Parameters of the exported function `sgd` (local indices 0…19): one pass over users
// uStart…uEnd−1.
const P = {
  uEnd: 0,
  rowBytes: 1,
  uStart: 2,
  biased: 3,
  offP: 4,
  itemsP: 5,
  ratingsP: 6,
  buP: 7,
  biP: 8,
  puP: 9,
  qiP: 10,
  mu: 11,
  lrBu: 12,
  lrBi: 13,
  lrPu: 14,
  lrQi: 15,
  regBu: 16,
  regBi: 17,
  regPu: 18,
  regQi: 19,
} as const;
// Locals.
const L = {
  limit4: 20,
  u: 21,
  k: 22,
  end: 23,
  up: 24,
  ip: 25,
  f: 26,
  buA: 27,
  biA: 28,
  dot: 29,
  err: 30,
  puf: 31,
  qif: 32,
} as const;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

/**
 * `step(o)` for every factor: four factors per iteration while at least four remain (f < limit4,
 * i.e. f + 32 ≤ rowBytes), then one at a time. Steps run in increasing f, as the plain loop.
 */
function unrolled(step: (o: number) => number[], step2?: (o: number) => number[]): number[] {
  const advance = (n: number) => [...get(L.f), ...i32c(n), OP.i32Add, ...set(L.f)];
  const four = step2
    ? [...step2(0), ...step2(16)]
    : [...step(0), ...step(8), ...step(16), ...step(24)];
  return [
    ...whileLess(L.f, L.limit4, [...four, ...advance(32)]),
    ...whileLess(L.f, P.rowBytes, [...step(0), ...advance(8)]),
  ];
}

// SIMD (f64x2): each lane does the scalar operations, so the results are the same bits.
const simd = (op: number) => [0xfd, ...uleb(op)];
const ldV = (offset: number) => [...simd(0), 3, ...uleb(offset)];
const stV = (offset: number) => [...simd(11), 3, ...uleb(offset)];
const SPLAT = simd(20);
const lane = (k: number) => [...simd(33), k];
const VADD = simd(240);
const VSUB = simd(241);
const VMUL = simd(242);
/** v128 locals (SIMD build only). */
const V = { e: 33, p: 34, q: 35, m: 36, lrPu: 37, regPu: 38, lrQi: 39, regQi: 40 } as const;

/** Loads, stores and arithmetic of one lane width: f64 scalars, or f64x2 vectors. */
interface Lanes {
  ld: (offset: number) => number[];
  st: (offset: number) => number[];
  mul: number[];
  sub: number[];
  add: number[];
}
const SCALAR: Lanes = { ld: ldF, st: stF, mul: [OP.f64Mul], sub: [OP.f64Sub], add: [OP.f64Add] };
const VECTOR: Lanes = { ld: ldV, st: stV, mul: VMUL, sub: VSUB, add: VADD };
/** The factor rates, as f64 parameters (scalar) or splatted v128 locals (SIMD). */
type RateName = 'lrPu' | 'regPu' | 'lrQi' | 'regQi';

function sgdBody(useSimd: boolean): number[] {
  // dot = dot + qi[ip + f + o] * pu[up + f + o]   (f and o in bytes)
  const dotStep = (o: number) => [
    ...get(L.dot),
    ...plus(L.ip, L.f),
    ...ldF(o),
    ...plus(L.up, L.f),
    ...ldF(o),
    OP.f64Mul,
    OP.f64Add,
    ...set(L.dot),
  ];
  // Two factors: m = qi[..] * pu[..] lane-wise, then dot = (dot + m0) + m1.
  const dotStep2 = (o: number) => [
    ...plus(L.ip, L.f),
    ...ldV(o),
    ...plus(L.up, L.f),
    ...ldV(o),
    ...VMUL,
    ...set(V.m),
    ...get(L.dot),
    ...get(V.m),
    ...lane(0),
    OP.f64Add,
    ...get(V.m),
    ...lane(1),
    OP.f64Add,
    ...set(L.dot),
  ];
  const dotLoop = [
    ...f64c0,
    ...set(L.dot),
    ...i32c(0),
    ...set(L.f),
    ...unrolled(dotStep, useSimd ? dotStep2 : undefined),
  ];
  // err = r − (((mu + bu[u]) + bi[i]) + dot)
  const errCalc = [
    ...element(P.ratingsP, L.k, 3),
    ...ldF(),
    ...estimate(P.mu, L.buA, L.biA, L.dot),
    OP.f64Sub,
    ...set(L.err),
  ];
  const biases = [
    ...get(P.biased),
    OP.if,
    VOID,
    ...biasUpdate(L.buA, P.lrBu, L.err, P.regBu),
    ...biasUpdate(L.biA, P.lrBi, L.err, P.regBi),
    OP.end,
  ];
  // puf = pu[up+f]; qif = qi[ip+f];
  // pu[up+f] = puf + lrPu * (err * qif − regPu * puf); qi[ip+f] = qif + lrQi * (err * puf − regQi * qif)
  // One factor (scalar f64 locals) or two at once (f64x2 locals, err splatted in both lanes).
  const factorStepOf =
    (w: Lanes, x: { p: number; q: number; err: number } & Record<RateName, number>) =>
    (o: number) => {
      const update = (addrBase: number, own: number, other: number, lr: number, reg: number) => [
        ...plus(addrBase, L.f),
        ...get(own),
        ...get(lr),
        ...get(x.err),
        ...get(other),
        ...w.mul,
        ...get(reg),
        ...get(own),
        ...w.mul,
        ...w.sub,
        ...w.mul,
        ...w.add,
        ...w.st(o),
      ];
      return [
        ...plus(L.up, L.f),
        ...w.ld(o),
        ...set(x.p),
        ...plus(L.ip, L.f),
        ...w.ld(o),
        ...set(x.q),
        ...update(L.up, x.p, x.q, x.lrPu, x.regPu),
        ...update(L.ip, x.q, x.p, x.lrQi, x.regQi),
      ];
    };
  const factorStep = factorStepOf(SCALAR, { ...P, p: L.puf, q: L.qif, err: L.err });
  const factorStep2 = factorStepOf(VECTOR, { ...V, err: V.e });
  const factorLoop = [
    ...(useSimd ? [...get(L.err), ...SPLAT, ...set(V.e)] : []),
    ...i32c(0),
    ...set(L.f),
    ...unrolled(factorStep, useSimd ? factorStep2 : undefined),
  ];
  // One rating k of user u: i = items[k]; ip = qiP + i * rowBytes; biA = biP + 8i.
  const rating = [
    ...element(P.itemsP, L.k, 2),
    ...ldI(),
    OP.tee,
    ...uleb(L.f), // i, kept in f until the dot loop resets it
    ...get(P.rowBytes),
    OP.i32Mul,
    ...get(P.qiP),
    OP.i32Add,
    ...set(L.ip),
    ...element(P.biP, L.f, 3),
    ...set(L.biA),
    ...dotLoop,
    ...errCalc,
    ...biases,
    ...factorLoop,
    ...increment(L.k),
  ];
  const user = [...userSetup(U, set(L.k)), ...whileLess(L.k, L.end, rating)];
  const splats = useSimd
    ? [
        ...[P.lrPu, V.lrPu, P.regPu, V.regPu, P.lrQi, V.lrQi, P.regQi, V.regQi].flatMap(
          (x, k, all) => (k % 2 === 0 ? [...get(x), ...SPLAT, ...set(all[k + 1])] : []),
        ),
      ]
    : [];
  return [
    ...splats,
    ...get(P.rowBytes),
    ...i32c(24),
    OP.i32Sub,
    ...set(L.limit4),
    ...eachUser(U, user),
  ];
}

/** The module of the `sgd` function; `useSimd` selects the f64x2 build (8 v128 locals). */
const sgdKernel = (useSimd: boolean) =>
  lazyKernel({
    name: 'sgd',
    nI32: 11,
    nF64: 9,
    locals: { i32: 9, f64: 4, v128: useSimd ? 8 : 0 },
    body: () => sgdBody(useSimd),
  });

/** Which WebAssembly build runs: f64x2 SIMD, scalar, or none (the TypeScript loop). */
export type SvdKernelBuild = 'simd' | 'scalar' | 'none';

/** Each build, compiled once; null when the runtime refuses it (e.g. no SIMD). */
const modules = { simd: sgdKernel(true), scalar: sgdKernel(false) };

/** The build `svdSgd` uses on this runtime: SIMD when supported, else scalar, else none. */
export function svdKernelBuild(): SvdKernelBuild {
  if (modules.simd()) return 'simd';
  if (modules.scalar()) return 'scalar';
  return 'none';
}

/**
 * The same loop in WebAssembly. Copies the arrays into a fresh linear memory, runs (users in
 * chunks of about 4096 ratings, one call each: see `forUserChunks`), copies the biases and
 * factors back.
 *
 * @param build 'auto' (default): SIMD when the runtime supports it, else scalar; 'simd' or
 *   'scalar' force one build (tests compare them).
 * @returns false (and changes nothing) when that build is unavailable or the data would need
 *   more than 2 GiB; the caller then runs `svdSgdJs`.
 */
export function svdSgdWasm(a: SvdSgdInput, build: 'simd' | 'scalar' | 'auto' = 'auto'): boolean {
  const chosen = build === 'auto' ? svdKernelBuild() : build;
  const mod = chosen === 'none' ? null : modules[chosen]();
  const arrays = [a.urOffsets, a.urItems, a.urRatings, a.bu, a.bi, a.pu, a.qi];
  return runKernel(mod, 'sgd', arrays, [], 3, (sgd, mem) => {
    const [offP, itemsP, ratingsP, buP, biP, puP, qiP] = mem.addresses;
    const { urOffsets, nUsers } = a;
    const rowBytes = a.nFactors * 8;
    const biased = a.biased ? 1 : 0;
    const { mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi } = a;
    for (let epoch = 0; epoch < a.nEpochs; epoch++) {
      forUserChunks(urOffsets, nUsers, (u0, u1) =>
        // prettier-ignore
        sgd(u1, rowBytes, u0, biased, offP, itemsP, ratingsP, buP, biP, puP, qiP,
          mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi),
      );
    }
  });
}

/** Runs Surprise's SVD SGD loop in place: WebAssembly when available, else the TypeScript loop. */
export function svdSgd(a: SvdSgdInput): void {
  if (!svdSgdWasm(a)) svdSgdJs(a);
}
