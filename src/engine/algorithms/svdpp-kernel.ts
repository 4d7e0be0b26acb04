/**
 * The reorganised SVD++ epoch (`svdppSgd` in svdpp.ts: implicit feedback kept current, the y_j
 * rows of a user's items updated once per user through an accumulated affine map) as a small
 * WebAssembly function, assembled at load time. It performs the operations of `svdppSgd` in the
 * same order, so both give the same bits (a test checks it), without bounds checks.
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
  VOID,
  type UserLocals,
  biasUpdate,
  eachFactor as eachFactorOf,
  eachUser,
  estimate,
  element,
  f64c,
  f64c0,
  get,
  increment,
  itemRow,
  lessThan,
  i32c,
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
import type { SvdppSgdInput } from './svdpp';

// Parameters of the exported function `pass` (users uStart…uEnd−1; see `passLayout`), then locals.
const PARAMS = passLayout(
  [],
  ['yjP', 'implP', 'cP'],
  ['mu', 'lrBu', 'lrBi', 'lrPu', 'lrQi', 'lrYj', 'regBu', 'regBi', 'regPu', 'regQi', 'a'],
);
const P = PARAMS.P;
const LOCALS = localLayout(
  PARAMS,
  ['u', 'k', 'start', 'end', 'up', 'ip', 'f', 'buA', 'biA', 'jp', 'nip', 'nbiA'],
  ['s', 'n', 'A', 'dot', 'err', 'g', 'gImpl', 'puf', 'qif', 'im', 'pun'],
);
const L = LOCALS.L;
/** The parameters and locals `userSetup`/`eachUser` use. */
const U: UserLocals = { ...P, ...L };

const eachFactor = (body: number[]) => eachFactorOf(L.f, P.rowBytes, body);
const fOf = (base: number) => plus(base, L.f); // base + f
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
  ...whileLess(L.k, L.end, [...body, ...get(L.k), ...i32c(1), OP.i32Add, ...set(L.k)]),
];

function passBody(): number[] {
  // impl[f] = impl[f] + yj[j,f] / s over u's items (impl zeroed first); C[f] = 0
  const initImpl = [
    ...eachFactor([...fOf(P.implP), ...f64c0, ...stF(), ...fOf(P.cP), ...f64c0, ...stF()]),
    ...eachRating([
      ...setJp,
      ...eachFactor([
        ...fOf(P.implP),
        ...fOf(P.implP),
        ...ldF(),
        ...fOf(L.jp),
        ...ldF(),
        ...get(L.s),
        OP.f64Div,
        OP.f64Add,
        ...stF(),
      ]),
    ]),
  ];
  // dot = dot + qi[i,f] · (pu[u,f] + impl[f])
  const dotLoop = [
    ...f64c0,
    ...set(L.dot),
    ...eachFactor([
      ...get(L.dot),
      ...fOf(L.ip),
      ...ldF(),
      ...fOf(L.up),
      ...ldF(),
      ...fOf(P.implP),
      ...ldF(),
      OP.f64Add,
      OP.f64Mul,
      OP.f64Add,
      ...set(L.dot),
    ]),
  ];
  // The factor update of rating k; when `fused`, with the dot product of the next rating (item
  // address in nip) in the same pass: dot = dot + qi[i',f]·(pu[u,f] + impl[f]) on the updated
  // values (kept in pun and im), after the stores, so the same bits as a separate loop.
  const factorLoop = (fused: boolean) =>
    eachFactor([
      ...fOf(L.up),
      ...ldF(),
      ...set(L.puf),
      ...fOf(L.ip),
      ...ldF(),
      ...set(L.qif),
      ...fOf(P.implP),
      ...ldF(),
      ...set(L.im),
      // pu[u,f] = puf + lrPu·(err·qif − regPu·puf)
      ...fOf(L.up),
      ...get(L.puf),
      ...get(P.lrPu),
      ...get(L.err),
      ...get(L.qif),
      OP.f64Mul,
      ...get(P.regPu),
      ...get(L.puf),
      OP.f64Mul,
      OP.f64Sub,
      OP.f64Mul,
      OP.f64Add,
      ...(fused ? [OP.tee, ...uleb(L.pun)] : []),
      ...stF(),
      // qi[i,f] = qif + lrQi·(err·(puf + im) − regQi·qif)
      ...fOf(L.ip),
      ...get(L.qif),
      ...get(P.lrQi),
      ...get(L.err),
      ...get(L.puf),
      ...get(L.im),
      OP.f64Add,
      OP.f64Mul,
      ...get(P.regQi),
      ...get(L.qif),
      OP.f64Mul,
      OP.f64Sub,
      OP.f64Mul,
      OP.f64Add,
      ...stF(),
      // C[f] = a·C[f] + g·qif
      ...fOf(P.cP),
      ...get(P.a),
      ...fOf(P.cP),
      ...ldF(),
      OP.f64Mul,
      ...get(L.g),
      ...get(L.qif),
      OP.f64Mul,
      OP.f64Add,
      ...stF(),
      // impl[f] = a·im + gImpl·qif
      ...fOf(P.implP),
      ...get(P.a),
      ...get(L.im),
      OP.f64Mul,
      ...get(L.gImpl),
      ...get(L.qif),
      OP.f64Mul,
      OP.f64Add,
      ...(fused ? [OP.tee, ...uleb(L.im)] : []),
      ...stF(),
      ...(fused
        ? [
            ...get(L.dot),
            ...fOf(L.nip),
            ...ldF(),
            ...get(L.pun),
            ...get(L.im),
            OP.f64Add,
            OP.f64Mul,
            OP.f64Add,
            ...set(L.dot),
          ]
        : []),
    ]);
  const itemOf = (ipTo: number, biATo: number) => itemRow({ ...P, ...L }, ipTo, biATo);
  const kBeforeEnd = lessThan(L.k, L.end);
  // Rating k (ip, biA, dot ready); k += 1; then the factor update fused with the next rating's
  // dot product (the next rating becomes the current one), or the user's last update.
  const rating = [
    // err = r − (((mu + bu[u]) + bi[i]) + dot)
    ...element(P.ratingsP, L.k, 3),
    ...ldF(),
    ...estimate(P.mu, L.buA, L.biA, L.dot),
    OP.f64Sub,
    ...set(L.err),
    ...biasUpdate(L.buA, P.lrBu, L.err, P.regBu),
    ...biasUpdate(L.biA, P.lrBi, L.err, P.regBi),
    // g = (lrYj·err)/s; gImpl = (n·g)/s
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
    ...increment(L.k),
    ...kBeforeEnd,
    OP.if,
    VOID,
    ...itemOf(L.nip, L.nbiA),
    ...f64c0,
    ...set(L.dot),
    ...factorLoop(true),
    ...get(L.nip),
    ...set(L.ip),
    ...get(L.nbiA),
    ...set(L.biA),
    OP.else,
    ...factorLoop(false),
    OP.end,
    // A = A·a
    ...get(L.A),
    ...get(P.a),
    OP.f64Mul,
    ...set(L.A),
  ];
  // yj[j,f] = A·yj[j,f] + C[f]
  const writeBack = eachRating([
    ...setJp,
    ...eachFactor([
      ...fOf(L.jp),
      ...get(L.A),
      ...fOf(L.jp),
      ...ldF(),
      OP.f64Mul,
      ...fOf(P.cP),
      ...ldF(),
      OP.f64Add,
      ...stF(),
    ]),
  ]);
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
    ...initImpl,
    ...get(L.start),
    ...set(L.k),
    ...kBeforeEnd,
    OP.if,
    VOID,
    ...itemOf(L.ip, L.biA),
    ...dotLoop,
    ...whileLess(L.k, L.end, rating),
    OP.end,
    ...writeBack,
  ];
  return eachUser(U, user);
}

const kernel = factorKernel('pass', PARAMS, LOCALS.counts, passBody);

/** True when the WebAssembly SVD++ epoch is available on this runtime. */
export const svdppKernelAvailable: () => boolean = kernel.available;

/**
 * Runs `svdppSgd`'s loop in WebAssembly. Copies the arrays into a fresh linear memory, runs,
 * copies the biases and factors back.
 * @returns false (and changes nothing) when WebAssembly is unavailable or the data would need more
 *   than 2 GiB; the caller then runs the TypeScript loop.
 */
export function svdppSgdWasm(a: SvdppSgdInput): boolean {
  // y_j is copied in and back; impl and C are scratch rows. `a` is the y_j decay 1 − lr_yj·reg_yj.
  const arrays = { yjP: a.yj, implP: a.nFactors, cP: a.nFactors };
  return kernel.run(a, { flags: {}, arrays, floats: { ...a, a: 1 - a.lrYj * a.regYj } });
}
