/**
 * The reorganised SVD++ epoch (`svdppSgd` in svdpp.ts: implicit feedback kept current, the y_j
 * rows of a user's items updated once per user through an accumulated affine map) as a small
 * WebAssembly function, assembled at load time. It performs the operations of `svdppSgd` in the
 * same order, so both give the same bits (a test checks it for both builds), without bounds
 * checks, two factors at a time with f64x2 SIMD where the runtime has it (each lane does the
 * scalar operation), and with the factor update of a rating done in the same pass as the dot
 * product of the user's next rating (as in svd-kernel.ts: factor f of the next dot product reads
 * pu[u,f], impl[f] and qi[i',f] after their update, so every addend is the same, added in the same
 * order f = 0, 1, …).
 *
 * Per user u (ratings start…end−1, n = end − start, s = √n):
 *
 * ```
 * impl[f] = Σ_k yj[items[k], f] / s                       (k in order)
 * C[f] = 0;  A = 1
 * for k in start…end−1:  i = items[k]
 *     dot = Σ_f qi[i,f] · (pu[u,f] + impl[f])
 *     err = r − (((μ + bu[u]) + bi[i]) + dot)
 *     bu[u] += lr_bu·(err − reg_bu·bu[u]);  bi[i] += lr_bi·(err − reg_bi·bi[i])
 *     g = (lr_yj·err)/s;  gImpl = (n·g)/s
 *     for f: puf = pu[u,f]; qif = qi[i,f]; im = impl[f]
 *            pu[u,f] = puf + lr_pu·(err·qif − reg_pu·puf)
 *            qi[i,f] = qif + lr_qi·(err·(puf + im) − reg_qi·qif)
 *            C[f] = a·C[f] + g·qif;  impl[f] = a·im + gImpl·qif
 *     A = A·a
 * for k: yj[items[k], f] = A·yj[items[k], f] + C[f]
 * ```
 */
import {
  OP,
  type KernelBuild,
  type LaneStep,
  type UserLocals,
  biasUpdate,
  eachUser,
  element,
  f64c,
  factorKernel,
  fusedRatings,
  get,
  increment,
  ldI,
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
  whileLess,
  zeroRows,
} from './wasm-asm';
import type { SvdppSgdInput } from './svdpp';

// Parameters of the exported function `pass` (users uStart…uEnd−1; see `passLayout`), then
// locals (the v128 ones in the SIMD build only).
const PARAMS = passLayout(
  [],
  ['yjP', 'implP', 'cP'],
  ['mu', 'lrBu', 'lrBi', 'lrPu', 'lrQi', 'lrYj', 'regBu', 'regBi', 'regPu', 'regQi', 'a'],
);
const P = PARAMS.P;
const LOCALS = localLayout(
  PARAMS,
  ['u', 'k', 'start', 'end', 'up', 'ip', 'f', 'buA', 'biA', 'jp', 'nip', 'nbiA', 'limit4'],
  ['s', 'n', 'A', 'dot', 'err', 'g', 'gImpl', 'puf', 'qif', 'im', 'pun'],
  // prettier-ignore
  ['vS', 'vA', 'vErr', 'vG', 'vGImpl', 'vP', 'vQ', 'vIm', 'vPun', 'vM',
    'vDecay', 'vLrPu', 'vRegPu', 'vLrQi', 'vRegQi'],
);
const L = LOCALS.L;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

/** The locals a step of one lane width uses: f64 ones (scalar), or v128 ones (SIMD). */
type StepLocals = Record<
  | 's'
  | 'A'
  | 'err'
  | 'g'
  | 'gImpl'
  | 'p'
  | 'q'
  | 'im'
  | 'pun'
  | 'm'
  | 'a'
  | 'lrPu'
  | 'regPu'
  | 'lrQi'
  | 'regQi',
  number
>;
const SCALAR_LOCALS: StepLocals = { ...P, ...L, p: L.puf, q: L.qif, m: L.qif };
const VECTOR_LOCALS: StepLocals = {
  ...{ s: L.vS, A: L.vA, err: L.vErr, g: L.vG, gImpl: L.vGImpl },
  ...{ p: L.vP, q: L.vQ, im: L.vIm, pun: L.vPun, m: L.vM, a: L.vDecay },
  ...{ lrPu: L.vLrPu, regPu: L.vRegPu, lrQi: L.vLrQi, regQi: L.vRegQi },
};

/** A step at byte offset o of the factor loop (f in bytes), for one lane width. */
type Step = LaneStep<StepLocals>;

const fOf = (base: number) => plus(base, L.f); // base + f

// impl[f] = 0; C[f] = 0
const clearStep: Step = zeroRows(L.f, P.implP, P.cP);
// impl[f] = impl[f] + yj[j,f] / s
const implStep: Step = (w, x) => (o) => [
  ...fOf(P.implP),
  ...fOf(P.implP),
  ...w.ld(o),
  ...fOf(L.jp),
  ...w.ld(o),
  ...get(x.s),
  ...w.div,
  ...w.add,
  ...w.st(o),
];
// dot = dot + qi[i,f] · (pu[u,f] + impl[f])
const dotStep: Step = (w, x) => (o) => [
  ...fOf(L.ip),
  ...w.ld(o),
  ...fOf(L.up),
  ...w.ld(o),
  ...fOf(P.implP),
  ...w.ld(o),
  ...w.add,
  ...w.mul,
  ...w.addTo(L.dot, x.m),
];
/**
 * The factor update of rating k; when `fused`, with the next rating's dot product (its item row
 * at nip) in the same pass: `dot = dot + qi[i',f]·(pu[u,f] + impl[f])` on the updated values
 * (kept in pun and im), read after the stores, so the same bits as a separate loop.
 */
const factorStep =
  (fused: boolean): Step =>
  (w, x) =>
  (o) => [
    // puf = pu[u,f]; qif = qi[i,f]; im = impl[f]
    ...fOf(L.up),
    ...w.ld(o),
    ...set(x.p),
    ...fOf(L.ip),
    ...w.ld(o),
    ...set(x.q),
    ...fOf(P.implP),
    ...w.ld(o),
    ...set(x.im),
    // pu[u,f] = puf + lrPu·(err·qif − regPu·puf)
    ...fOf(L.up),
    ...get(x.p),
    ...get(x.lrPu),
    ...get(x.err),
    ...get(x.q),
    ...w.mul,
    ...get(x.regPu),
    ...get(x.p),
    ...w.mul,
    ...w.sub,
    ...w.mul,
    ...w.add,
    ...(fused ? [OP.tee, ...uleb(x.pun)] : []),
    ...w.st(o),
    // qi[i,f] = qif + lrQi·(err·(puf + im) − regQi·qif)
    ...fOf(L.ip),
    ...get(x.q),
    ...get(x.lrQi),
    ...get(x.err),
    ...get(x.p),
    ...get(x.im),
    ...w.add,
    ...w.mul,
    ...get(x.regQi),
    ...get(x.q),
    ...w.mul,
    ...w.sub,
    ...w.mul,
    ...w.add,
    ...w.st(o),
    // C[f] = a·C[f] + g·qif
    ...fOf(P.cP),
    ...get(x.a),
    ...fOf(P.cP),
    ...w.ld(o),
    ...w.mul,
    ...get(x.g),
    ...get(x.q),
    ...w.mul,
    ...w.add,
    ...w.st(o),
    // impl[f] = a·im + gImpl·qif
    ...fOf(P.implP),
    ...get(x.a),
    ...get(x.im),
    ...w.mul,
    ...get(x.gImpl),
    ...get(x.q),
    ...w.mul,
    ...w.add,
    ...(fused ? [OP.tee, ...uleb(x.im)] : []),
    ...w.st(o),
    ...(fused
      ? [
          ...fOf(L.nip),
          ...w.ld(o),
          ...get(x.pun),
          ...get(x.im),
          ...w.add,
          ...w.mul,
          ...w.addTo(L.dot, x.m),
        ]
      : []),
  ];
// yj[j,f] = A·yj[j,f] + C[f]
const writeBackStep: Step = (w, x) => (o) => [
  ...fOf(L.jp),
  ...get(x.A),
  ...fOf(L.jp),
  ...w.ld(o),
  ...w.mul,
  ...fOf(P.cP),
  ...w.ld(o),
  ...w.add,
  ...w.st(o),
];

/** `jp = yjP + items[k] · rowBytes` */
const setJp = [
  ...get(P.yjP),
  ...element(P.itemsP, L.k, 2),
  ...ldI(),
  ...get(P.rowBytes),
  OP.i32Mul,
  OP.i32Add,
  ...set(L.jp),
];
/** `for (k = start; k < end; k++) body` */
const eachRating = (body: number[]) => [
  ...get(L.start),
  ...set(L.k),
  ...whileLess(L.k, L.end, [...body, ...increment(L.k)]),
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
  const X = { ...P, ...L };
  // Rating k: err, the biases, g = (lrYj·err)/s and gImpl = (n·g)/s.
  const rating = [
    ...ratingError(X),
    ...biasUpdate(L.buA, P.lrBu, L.err, P.regBu),
    ...biasUpdate(L.biA, P.lrBi, L.err, P.regBi),
    ...get(P.lrYj),
    ...get(L.err),
    OP.f64Mul,
    ...get(L.s),
    OP.f64Div,
    OP.tee,
    ...uleb(L.g),
    ...get(L.n),
    OP.f64Mul,
    ...get(L.s),
    OP.f64Div,
    ...set(L.gImpl),
    ...vectors([
      [L.err, L.vErr],
      [L.g, L.vG],
      [L.gImpl, L.vGImpl],
    ]),
  ];
  const user = [
    ...userSetup(U, [...set(L.start)]),
    // n = end − start; s = √n; A = 1
    ...get(L.end),
    ...get(L.start),
    OP.i32Sub,
    OP.f64ConvertI32S,
    OP.tee,
    ...uleb(L.n),
    OP.f64Sqrt,
    ...set(L.s),
    ...f64c(1),
    ...set(L.A),
    ...vectors([[L.s, L.vS]]),
    // impl = Σ_j y_j / s over u's items (impl and C zeroed first)
    ...row(clearStep),
    ...eachRating([...setJp, ...row(implStep)]),
    // the ratings, each factor update fused with the next rating's dot product; A = A·a each
    ...get(L.start),
    ...set(L.k),
    ...fusedRatings(X, {
      firstDot: row(dotStep),
      rating,
      fused: row(factorStep(true)),
      last: row(factorStep(false)),
      after: [...get(L.A), ...get(P.a), OP.f64Mul, ...set(L.A)],
    }),
    // y_j = A·y_j + C for u's items
    ...vectors([[L.A, L.vA]]),
    ...eachRating([...setJp, ...row(writeBackStep)]),
  ];
  return [
    ...vectors([
      [P.a, L.vDecay],
      [P.lrPu, L.vLrPu],
      [P.regPu, L.vRegPu],
      [P.lrQi, L.vLrQi],
      [P.regQi, L.vRegQi],
    ]),
    ...limit4(P.rowBytes, L.limit4),
    ...eachUser(U, user),
  ];
}

/** Both builds, each compiled once; a build is unavailable when the runtime refuses it. */
const kernels = simdAndScalar((useSimd) =>
  factorKernel('pass', PARAMS, { ...LOCALS.counts, v128: useSimd ? LOCALS.counts.v128 : 0 }, () =>
    passBody(useSimd),
  ),
);

/** The build `svdppSgdWasm` uses on this runtime: SIMD when supported, else scalar, else none. */
export const svdppKernelBuild = (): KernelBuild => kernels.build();

/** True when a WebAssembly SVD++ epoch is available on this runtime. */
export const svdppKernelAvailable = (): boolean => kernels.build() !== 'none';

/**
 * Runs `svdppSgd`'s loop in WebAssembly. Copies the arrays into a fresh linear memory, runs,
 * copies the biases and factors back.
 * @param build 'auto' (default): SIMD when the runtime supports it, else scalar; 'simd' or
 *   'scalar' force one build (tests compare them).
 * @returns false (and changes nothing) when that build is unavailable or the data would need more
 *   than 2 GiB; the caller then runs the TypeScript loop.
 */
export function svdppSgdWasm(
  a: SvdppSgdInput,
  build: 'simd' | 'scalar' | 'auto' = 'auto',
): boolean {
  // y_j is copied in and back; impl and C are scratch rows. `a` is the y_j decay 1 − lr_yj·reg_yj.
  const arrays = { yjP: a.yj, implP: a.nFactors, cP: a.nFactors };
  const floats = { ...a, a: 1 - a.lrYj * a.regYj };
  return kernels.run(a, { flags: {}, arrays, floats }, build);
}
