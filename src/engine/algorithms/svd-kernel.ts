/**
 * The SGD loop of SVD (Surprise 1.1.4, matrix_factorization.pyx, `SVD.sgd`), twice: in plain
 * TypeScript over typed arrays (`svdSgdJs`, the reference) and as a small WebAssembly function
 * (`svdSgdWasm`) that runs the same operations in the same order, scheduled for the processor: no
 * bounds checks, f64x2 SIMD for the factor updates, and the factor update of each rating done in
 * one pass with the dot product of the user's next rating (see the comment before `PARAMS`). On
 * ml-100k's u1.base with SVD's defaults it runs about five times faster than `svdSgdJs` (0.19 s
 * against 0.95 s of CPU, `npm run bench:engine` prints the kernel's share of a fit).
 * WebAssembly's f64 arithmetic is IEEE 754 binary64 with round-to-nearest and never fuses a
 * multiply and an add, and the dot product adds its terms in Surprise's order (f = 0, 1, …), so
 * both give bit-identical factors; a test checks it for both builds.
 *
 * The WebAssembly module is assembled at load time from the instruction list below, with the
 * shared assembler of wasm-asm.ts (no binary blob in the repository).
 */
import {
  OP,
  VOID,
  type KernelBuild,
  type Lanes,
  type UserLocals,
  biasUpdate,
  eachUser,
  factorKernel,
  fusedRatings,
  get,
  limit4,
  localLayout,
  passLayout,
  plus,
  ratingError,
  rowsOf,
  set,
  simdAndScalar,
  splats,
  uleb,
  userSetup,
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
//
// Same operations, same order, but scheduled for the processor. The dot product of a rating is
// one chain of nFactors dependent additions (Surprise's order, kept for the bits), so its latency
// bounds the loop. The factor update of rating k and the dot product of the user's next rating
// k+1 are therefore done in ONE pass over the factors: at factor f, first
//   pu[u,f] ← puf + lrPu·(err·qif − regPu·puf);  qi[i,f] ← qif + lrQi·(err·puf − regQi·qif)
// then  dot' ← dot' + qi[i',f] · pu[u,f]  (i' the next item; qi[i',f] is loaded after the store,
// so an i' equal to i also reads the updated value). Every addend of dot' is the value the plain
// loop would use (factor f of rating k+1 depends only on factor f of rating k), and the additions
// run in increasing f, so the result is the same bits; the independent update work now fills the
// latency of the addition chain. The user's first rating has a plain dot loop and its last
// rating a plain update loop. What bounds the loop now is that chain itself (one addition's
// latency, about 0.95 ns here, × nFactors × ratings × epochs: 0.15 s of the 0.19 s on u1.base);
// several partial sums would be faster but would change the bits, so they are not used.

// Parameters of the exported function `sgd` (users uStart…uEnd−1; see `passLayout`), then
// locals (the v128 ones in the SIMD build only).
const PARAMS = passLayout(
  ['biased'],
  [],
  ['mu', 'lrBu', 'lrBi', 'lrPu', 'lrQi', 'regBu', 'regBi', 'regPu', 'regQi'],
);
const P = PARAMS.P;
const LOCALS = localLayout(
  PARAMS,
  ['limit4', 'u', 'k', 'end', 'up', 'ip', 'f', 'buA', 'biA', 'nip', 'nbiA'],
  ['dot', 'err', 'puf', 'qif', 'pun'],
  ['e', 'p', 'q', 'm', 'vLrPu', 'vRegPu', 'vLrQi', 'vRegQi', 'vPun'],
);
const L = LOCALS.L;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

/** The v128 locals (SIMD build only). */
const V = {
  e: L.e,
  p: L.p,
  q: L.q,
  m: L.m,
  lrPu: L.vLrPu,
  regPu: L.vRegPu,
  lrQi: L.vLrQi,
  regQi: L.vRegQi,
  pun: L.vPun,
} as const;

/** The locals a factor step of one lane width uses. */
type StepLocals = Record<
  'p' | 'q' | 'm' | 'pun' | 'err' | 'lrPu' | 'regPu' | 'lrQi' | 'regQi',
  number
>;
const SCALAR_LOCALS: StepLocals = { ...P, p: L.puf, q: L.qif, m: L.qif, pun: L.pun, err: L.err };
const VECTOR_LOCALS: StepLocals = { ...V, err: V.e };

/** `dot = dot + qi[ip+f+o]·pu[up+f+o]` for one lane width (f and o in bytes). */
const dotStepOf = (w: Lanes, x: StepLocals) => (o: number) => [
  ...plus(L.ip, L.f),
  ...w.ld(o),
  ...plus(L.up, L.f),
  ...w.ld(o),
  ...w.mul,
  ...w.addTo(L.dot, x.m),
];

/**
 * The factor update of one lane width at offset o:
 * `puf = pu[up+f]; qif = qi[ip+f]; pu[up+f] = puf + lrPu·(err·qif − regPu·puf);
 * qi[ip+f] = qif + lrQi·(err·puf − regQi·qif)`; when `fused`, then
 * `dot = dot + qi[nip+f]·pu[up+f]` with the new pu[up+f] (kept in a local).
 */
const factorStepOf = (w: Lanes, x: StepLocals, fused: boolean) => (o: number) => {
  const update = (own: number, other: number, lr: number, reg: number) => [
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
  ];
  return [
    ...plus(L.up, L.f),
    ...w.ld(o),
    ...set(x.p),
    ...plus(L.ip, L.f),
    ...w.ld(o),
    ...set(x.q),
    ...plus(L.up, L.f),
    ...update(x.p, x.q, x.lrPu, x.regPu),
    ...(fused ? [OP.tee, ...uleb(x.pun)] : []),
    ...w.st(o),
    ...plus(L.ip, L.f),
    ...update(x.q, x.p, x.lrQi, x.regQi),
    ...w.st(o),
    ...(fused
      ? [...plus(L.nip, L.f), ...w.ld(o), ...get(x.pun), ...w.mul, ...w.addTo(L.dot, x.m)]
      : []),
  ];
};

function sgdBody(useSimd: boolean): number[] {
  // Loops over a row: four factors per iteration while four remain (SIMD: two lanes at a time).
  const row = rowsOf(
    { f: L.f, rowBytes: P.rowBytes, limit: L.limit4 },
    useSimd,
    SCALAR_LOCALS,
    VECTOR_LOCALS,
  );
  const X = { ...P, ...L };
  const user = [
    ...userSetup(U, set(L.k)),
    ...fusedRatings(X, {
      firstDot: row(dotStepOf),
      // err, then the biases: b_u += lrBu·(err − regBu·b_u); b_i likewise
      rating: [
        ...ratingError(X),
        ...get(P.biased),
        OP.if,
        VOID,
        ...biasUpdate(L.buA, P.lrBu, L.err, P.regBu),
        ...biasUpdate(L.biA, P.lrBi, L.err, P.regBi),
        OP.end,
        ...(useSimd ? splats([[L.err, V.e]]) : []),
      ],
      fused: row((w, x) => factorStepOf(w, x, true)),
      last: row((w, x) => factorStepOf(w, x, false)),
    }),
  ];
  const rates: [number, number][] = [
    [P.lrPu, V.lrPu],
    [P.regPu, V.regPu],
    [P.lrQi, V.lrQi],
    [P.regQi, V.regQi],
  ];
  return [...(useSimd ? splats(rates) : []), ...limit4(P.rowBytes, L.limit4), ...eachUser(U, user)];
}

/** The module of the `sgd` function; `useSimd` selects the f64x2 build (9 v128 locals). */
const sgdKernel = (useSimd: boolean) =>
  factorKernel('sgd', PARAMS, { ...LOCALS.counts, v128: useSimd ? LOCALS.counts.v128 : 0 }, () =>
    sgdBody(useSimd),
  );

/** Which WebAssembly build runs: f64x2 SIMD, scalar, or none (the TypeScript loop). */
export type SvdKernelBuild = KernelBuild;

/** Both builds, each compiled once; a build is unavailable when the runtime refuses it. */
const kernels = simdAndScalar(sgdKernel);

/** The build `svdSgd` uses on this runtime: SIMD when supported, else scalar, else none. */
export const svdKernelBuild = (): SvdKernelBuild => kernels.build();

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
  return kernels.run(a, { flags: { biased: a.biased ? 1 : 0 }, arrays: {}, floats: a }, build);
}

/** Runs Surprise's SVD SGD loop in place: WebAssembly when available, else the TypeScript loop. */
export function svdSgd(a: SvdSgdInput): void {
  if (!svdSgdWasm(a)) svdSgdJs(a);
}
