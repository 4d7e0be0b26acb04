/**
 * The SGD loop of SVD (Surprise 1.1.4, matrix_factorization.pyx, `SVD.sgd`), twice: in plain
 * TypeScript over typed arrays (`svdSgdJs`, the reference) and as a small WebAssembly function
 * (`svdSgdWasm`) that runs the same operations in the same order about three times faster (no
 * bounds check per element). WebAssembly's f64 arithmetic is IEEE 754 binary64 with round-to-nearest
 * and never fuses a multiply and an add, so both give bit-identical factors; a test checks it.
 *
 * The WebAssembly module is assembled here, at load time, from the instruction list below (no
 * binary blob in the repository).
 */

/** Inputs of one SGD run. Arrays are updated in place. */
export interface SvdSgdInput {
  nUsers: number;
  nFactors: number;
  nEpochs: number;
  biased: boolean;
  /** The trainset's `urOffsets` (length nUsers + 1), `urItems`, `urRatings`. */
  urOffsets: Int32Array;
  urItems: Int32Array;
  urRatings: Float64Array;
  /** Initial biases (zeros), length nUsers / nItems; updated in place. */
  bu: Float64Array;
  bi: Float64Array;
  /** Initial factors, row-major, length nUsers × nFactors / nItems × nFactors; updated in place. */
  pu: Float64Array;
  qi: Float64Array;
  /** Global mean when biased, else 0. */
  mu: number;
  lrBu: number;
  lrBi: number;
  lrPu: number;
  lrQi: number;
  regBu: number;
  regBi: number;
  regPu: number;
  regQi: number;
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

// ---- A minimal WebAssembly assembler -------------------------------------------------------

/** WebAssembly value type i32 (shared with nmf-kernel.ts, as the helpers below). */
export const I32 = 0x7f;
/** WebAssembly value type f64. */
export const F64 = 0x7c;
/** The empty block type. */
export const VOID = 0x40;
/** The WebAssembly opcodes used by the kernels. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
} as const;

/** Unsigned LEB128 encoding of `n` (a whole number in [0, 2^32 − 1]). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 encoding of `n` (a 32-bit whole number). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A WebAssembly name: its UTF-8 bytes preceded by their count. */
export const str = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
/** A WebAssembly vector: the count of items, then the items. */
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
/** A module section: id, byte size, body. */
export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

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

/** `local.get x`. */
export const get = (x: number) => [OP.get, ...uleb(x)];
/** `local.set x`. */
export const set = (x: number) => [OP.set, ...uleb(x)];
/** `i32.const n`. */
export const i32c = (n: number) => [OP.i32Const, ...sleb(n)];
/** `f64.const 0`. */
export const f64c0 = [OP.f64Const, 0, 0, 0, 0, 0, 0, 0, 0];
/** `f64.load` (8-byte aligned) at the address on the stack plus `offset`. */
export const ldF = (offset = 0) => [OP.f64Load, 3, ...uleb(offset)];
/** `f64.store` (8-byte aligned) at the address on the stack plus `offset`. */
export const stF = (offset = 0) => [OP.f64Store, 3, ...uleb(offset)];
/** `i32.load` (4-byte aligned) at the address on the stack plus `offset`. */
export const ldI = (offset = 0) => [OP.i32Load, 2, ...uleb(offset)];

/** `for (; !(a >= b); ) { body }` as block/loop; `ge` is the comparison opcode. */
export function whileLess(a: number, b: number, body: number[], ge: number = OP.i32GeS): number[] {
  return [
    OP.block,
    VOID,
    OP.loop,
    VOID,
    ...get(a),
    ...get(b),
    ge,
    OP.brIf,
    1,
    ...body,
    OP.br,
    0,
    OP.end,
    OP.end,
  ];
}

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
const V128 = 0x7b;
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

function sgdBody(useSimd: boolean): number[] {
  // dot = dot + qi[ip + f + o] * pu[up + f + o]   (f and o in bytes)
  const dotStep = (o: number) => [
    ...get(L.dot),
    ...get(L.ip),
    ...get(L.f),
    OP.i32Add,
    ...ldF(o),
    ...get(L.up),
    ...get(L.f),
    OP.i32Add,
    ...ldF(o),
    OP.f64Mul,
    OP.f64Add,
    ...set(L.dot),
  ];
  // Two factors: m = qi[..] * pu[..] lane-wise, then dot = (dot + m0) + m1.
  const dotStep2 = (o: number) => [
    ...get(L.ip),
    ...get(L.f),
    OP.i32Add,
    ...ldV(o),
    ...get(L.up),
    ...get(L.f),
    OP.i32Add,
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
    ...get(P.ratingsP),
    ...get(L.k),
    ...i32c(3),
    OP.i32Shl,
    OP.i32Add,
    ...ldF(),
    ...get(P.mu),
    ...get(L.buA),
    ...ldF(),
    OP.f64Add,
    ...get(L.biA),
    ...ldF(),
    OP.f64Add,
    ...get(L.dot),
    OP.f64Add,
    OP.f64Sub,
    ...set(L.err),
  ];
  // b[x] = b[x] + lr * (err − reg * b[x])
  const biasUpdate = (addr: number, lr: number, reg: number) => [
    ...get(addr),
    ...get(addr),
    ...ldF(),
    ...get(lr),
    ...get(L.err),
    ...get(reg),
    ...get(addr),
    ...ldF(),
    OP.f64Mul,
    OP.f64Sub,
    OP.f64Mul,
    OP.f64Add,
    ...stF(),
  ];
  const biases = [
    ...get(P.biased),
    OP.if,
    VOID,
    ...biasUpdate(L.buA, P.lrBu, P.regBu),
    ...biasUpdate(L.biA, P.lrBi, P.regBi),
    OP.end,
  ];
  // puf = pu[up+f]; qif = qi[ip+f];
  // pu[up+f] = puf + lrPu * (err * qif − regPu * puf); qi[ip+f] = qif + lrQi * (err * puf − regQi * qif)
  const factorUpdate = (
    addrBase: number,
    own: number,
    other: number,
    lr: number,
    reg: number,
    o: number,
  ) => [
    ...get(addrBase),
    ...get(L.f),
    OP.i32Add,
    ...get(own),
    ...get(lr),
    ...get(L.err),
    ...get(other),
    OP.f64Mul,
    ...get(reg),
    ...get(own),
    OP.f64Mul,
    OP.f64Sub,
    OP.f64Mul,
    OP.f64Add,
    ...stF(o),
  ];
  const factorStep = (o: number) => [
    ...get(L.up),
    ...get(L.f),
    OP.i32Add,
    ...ldF(o),
    ...set(L.puf),
    ...get(L.ip),
    ...get(L.f),
    OP.i32Add,
    ...ldF(o),
    ...set(L.qif),
    ...factorUpdate(L.up, L.puf, L.qif, P.lrPu, P.regPu, o),
    ...factorUpdate(L.ip, L.qif, L.puf, P.lrQi, P.regQi, o),
  ];
  // Two factors at once: the same formulas on f64x2 lanes (e = err in both lanes).
  const factorUpdate2 = (
    addrBase: number,
    own: number,
    other: number,
    lr: number,
    reg: number,
    o: number,
  ) => [
    ...get(addrBase),
    ...get(L.f),
    OP.i32Add,
    ...get(own),
    ...get(lr),
    ...get(V.e),
    ...get(other),
    ...VMUL,
    ...get(reg),
    ...get(own),
    ...VMUL,
    ...VSUB,
    ...VMUL,
    ...VADD,
    ...stV(o),
  ];
  const factorStep2 = (o: number) => [
    ...get(L.up),
    ...get(L.f),
    OP.i32Add,
    ...ldV(o),
    ...set(V.p),
    ...get(L.ip),
    ...get(L.f),
    OP.i32Add,
    ...ldV(o),
    ...set(V.q),
    ...factorUpdate2(L.up, V.p, V.q, V.lrPu, V.regPu, o),
    ...factorUpdate2(L.ip, V.q, V.p, V.lrQi, V.regQi, o),
  ];
  const factorLoop = [
    ...(useSimd ? [...get(L.err), ...SPLAT, ...set(V.e)] : []),
    ...i32c(0),
    ...set(L.f),
    ...unrolled(factorStep, useSimd ? factorStep2 : undefined),
  ];
  // One rating k of user u: i = items[k]; ip = qiP + i * rowBytes; biA = biP + 8i.
  const rating = [
    ...get(P.itemsP),
    ...get(L.k),
    ...i32c(2),
    OP.i32Shl,
    OP.i32Add,
    ...ldI(),
    OP.tee,
    ...uleb(L.f), // i, kept in f until the dot loop resets it
    ...get(P.rowBytes),
    OP.i32Mul,
    ...get(P.qiP),
    OP.i32Add,
    ...set(L.ip),
    ...get(P.biP),
    ...get(L.f),
    ...i32c(3),
    OP.i32Shl,
    OP.i32Add,
    ...set(L.biA),
    ...dotLoop,
    ...errCalc,
    ...biases,
    ...factorLoop,
    ...get(L.k),
    ...i32c(1),
    OP.i32Add,
    ...set(L.k),
  ];
  const user = [
    ...get(P.puP),
    ...get(L.u),
    ...get(P.rowBytes),
    OP.i32Mul,
    OP.i32Add,
    ...set(L.up),
    ...get(P.buP),
    ...get(L.u),
    ...i32c(3),
    OP.i32Shl,
    OP.i32Add,
    ...set(L.buA),
    ...get(P.offP),
    ...get(L.u),
    ...i32c(2),
    OP.i32Shl,
    OP.i32Add,
    OP.tee,
    ...uleb(L.end),
    ...ldI(0),
    ...set(L.k),
    ...get(L.end),
    ...ldI(4),
    ...set(L.end),
    ...whileLess(L.k, L.end, rating),
    ...get(L.u),
    ...i32c(1),
    OP.i32Add,
    ...set(L.u),
  ];
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
    ...get(P.uStart),
    ...set(L.u),
    ...whileLess(L.u, P.uEnd, user),
    OP.end,
  ];
}

/** The module's bytes; `useSimd` selects the f64x2 build. */
function assemble(useSimd: boolean): Uint8Array {
  const params = [...Array(11).fill(I32), ...Array(9).fill(F64)];
  const type = section(1, vec([[0x60, ...vec(params.map((t) => [t])), 0]]));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]]));
  const funcs = section(3, vec([[0]]));
  const exportSection = section(7, vec([[...str('sgd'), 0x00, 0]]));
  const locals = vec([
    [...uleb(9), I32],
    [...uleb(4), F64],
    ...(useSimd ? [[...uleb(8), V128]] : []),
  ]);
  const body = [...locals, ...sgdBody(useSimd)];
  const code = section(10, vec([[...uleb(body.length), ...body]]));
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...type,
    ...imports,
    ...funcs,
    ...exportSection,
    ...code,
  ]);
}

/** The part of the WebAssembly JavaScript API used here (lib ES2022 does not declare it). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  /** Thrown by `new Module` for bytes this runtime does not accept (e.g. no SIMD support). */
  CompileError: new (...args: unknown[]) => Error;
}

/** The runtime's WebAssembly API, if any. */
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
/** Which WebAssembly build runs: f64x2 SIMD, scalar, or none (the TypeScript loop). */
export type SvdKernelBuild = 'simd' | 'scalar' | 'none';

const modules: { simd?: object | null; scalar?: object | null } = {};

function compile(build: 'simd' | 'scalar'): object | null {
  if (modules[build] === undefined) {
    const bytes = assemble(build === 'simd');
    try {
      modules[build] = wasm ? new wasm.Module(bytes) : null;
    } catch (err) {
      // Only a runtime that refuses the bytes falls back; anything else is a bug to report.
      if (!(err instanceof wasm!.CompileError)) throw err;
      modules[build] = null;
    }
  }
  return modules[build]!;
}

/** The build `svdSgd` uses on this runtime: SIMD when supported, else scalar, else none. */
export function svdKernelBuild(): SvdKernelBuild {
  if (compile('simd')) return 'simd';
  if (compile('scalar')) return 'scalar';
  return 'none';
}

const PAGE = 65536;
/** Ratings per call into WebAssembly (see `svdSgdWasm`). */
const CHUNK_RATINGS = 4096;
const MAX_BYTES = 2 ** 31; // keep every address a positive i32 well inside wasm32 memory

/**
 * The same loop in WebAssembly. Copies the arrays into a fresh linear memory, runs, copies the
 * biases and factors back.
 *
 * Users are passed in chunks of about 4096 ratings, one call each: V8 first runs WebAssembly
 * code from its baseline compiler and only calls made after the optimised code is ready use it
 * (a running call is never replaced), so short calls let the optimised code take over within the
 * first epoch. The order of the updates is the same as in one long loop.
 *
 * @param build 'auto' (default): SIMD when the runtime supports it, else scalar; 'simd' or
 *   'scalar' force one build (tests compare them).
 * @returns false (and changes nothing) when that build is unavailable or the data would need
 *   more than 2 GiB; the caller then runs `svdSgdJs`.
 */
export function svdSgdWasm(a: SvdSgdInput, build: 'simd' | 'scalar' | 'auto' = 'auto'): boolean {
  const chosen = build === 'auto' ? svdKernelBuild() : build;
  const mod = chosen === 'none' ? null : compile(chosen);
  if (!mod || !wasm) return false;
  const parts = [a.urOffsets, a.urItems, a.urRatings, a.bu, a.bi, a.pu, a.qi];
  const offsets: number[] = [];
  let size = 0;
  for (const p of parts) {
    offsets.push(size);
    size += (p.byteLength + 7) & ~7;
  }
  if (size + 8 > MAX_BYTES || a.nFactors * 8 > MAX_BYTES) return false;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(size / PAGE)) });
  const buf = memory.buffer;
  const [offP, itemsP, ratingsP, buP, biP, puP, qiP] = offsets;
  new Int32Array(buf, offP, a.urOffsets.length).set(a.urOffsets);
  new Int32Array(buf, itemsP, a.urItems.length).set(a.urItems);
  new Float64Array(buf, ratingsP, a.urRatings.length).set(a.urRatings);
  new Float64Array(buf, buP, a.bu.length).set(a.bu);
  new Float64Array(buf, biP, a.bi.length).set(a.bi);
  new Float64Array(buf, puP, a.pu.length).set(a.pu);
  new Float64Array(buf, qiP, a.qi.length).set(a.qi);
  const sgd = new wasm.Instance(mod, { env: { memory } }).exports.sgd as (
    ...args: number[]
  ) => void;
  const { urOffsets, nUsers } = a;
  const rowBytes = a.nFactors * 8;
  const biased = a.biased ? 1 : 0;
  const { mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi } = a;
  for (let epoch = 0; epoch < a.nEpochs; epoch++) {
    let u0 = 0;
    while (u0 < nUsers) {
      let u1 = u0 + 1;
      while (u1 < nUsers && urOffsets[u1] - urOffsets[u0] < CHUNK_RATINGS) u1++;
      // prettier-ignore
      sgd(u1, rowBytes, u0, biased, offP, itemsP, ratingsP, buP, biP, puP, qiP,
        mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi);
      u0 = u1;
    }
  }
  a.bu.set(new Float64Array(buf, buP, a.bu.length));
  a.bi.set(new Float64Array(buf, biP, a.bi.length));
  a.pu.set(new Float64Array(buf, puP, a.pu.length));
  a.qi.set(new Float64Array(buf, qiP, a.qi.length));
  return true;
}

/** Runs Surprise's SVD SGD loop in place: WebAssembly when available, else the TypeScript loop. */
export function svdSgd(a: SvdSgdInput): void {
  if (!svdSgdWasm(a)) svdSgdJs(a);
}
