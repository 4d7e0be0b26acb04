/**
 * The one home of the small WebAssembly assembler behind the training kernels of SVD, SVDpp and
 * NMF (svd-kernel.ts, svdpp-kernel.ts, nmf-kernel.ts): binary encodings (LEB128, names, vectors,
 * sections), the opcodes and instruction helpers the kernels use, a one-function module, its
 * compilation once per process (bytes the runtime refuses fall back to the TypeScript loop), a
 * linear memory holding typed arrays, lane widths (`SCALAR` f64, `VECTOR` f64x2 SIMD) and loops
 * over a row of factors in either (`rowLoop`, `rowsOf`), loops over a range of users and over a
 * user's ratings with each factor update fused with the next rating's dot product
 * (`fusedRatings`), and the entry shell of a factor-model kernel (`passLayout`/`localLayout` name
 * its parameters and locals, `factorKernel` compiles it, `simdAndScalar` builds it twice,
 * `runFactorPasses` runs its epochs). Each kernel file keeps only its own steps and the values it
 * passes.
 *
 * Conventions: addresses and the factor offset `f` are in bytes; a row of factors is `rowBytes`
 * (= nFactors × 8) long. f64 arithmetic in WebAssembly is IEEE 754 binary64, round to nearest,
 * never fused, so a kernel doing the operations of a TypeScript loop in the same order gives the
 * same bits. Source: the WebAssembly Core Specification 1.0 (binary format, §5) and the fixed-width
 * SIMD proposal (f64x2 opcodes).
 *
 * Trap kept away here: compiled to CommonJS, a local variable named `exports` would shadow the
 * module's exports object and silently break every export of this file (hence `exportSection`);
 * the kernel tests (test/engine/algorithms-svd-kernel.test.ts, nmf, svdpp) import through it.
 */

import type { FactorTraining } from './factor-model';

// ---- Encodings ----------------------------------------------------------------------------

/** WebAssembly value type i32. */
export const I32 = 0x7f;
/** WebAssembly value type f64. */
export const F64 = 0x7c;
/** WebAssembly value type v128 (SIMD). */
export const V128 = 0x7b;
/** The empty block type. */
export const VOID = 0x40;
/** The WebAssembly opcodes used by the kernels. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
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
  i32LtS: 0x48,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f64Sqrt: 0x9f,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f64ConvertI32S: 0xb7,
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

// ---- Instructions -------------------------------------------------------------------------

/** `local.get x`. */
export const get = (x: number) => [OP.get, ...uleb(x)];
/** `local.set x`. */
export const set = (x: number) => [OP.set, ...uleb(x)];
/** `i32.const n`. */
export const i32c = (n: number) => [OP.i32Const, ...sleb(n)];
/** `f64.const x` (the 8 little-endian bytes of x). */
export const f64c = (x: number) => [OP.f64Const, ...new Uint8Array(Float64Array.of(x).buffer)];
/** `f64.const 0`. */
export const f64c0 = f64c(0);
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

// ---- Lanes: one f64, or two (f64x2 SIMD) ------------------------------------------------

/** A SIMD instruction (prefix 0xfd, then the opcode as unsigned LEB128). */
const simd = (op: number) => [0xfd, ...uleb(op)];

/**
 * Loads, stores and arithmetic of one lane width: plain f64, or f64x2 (SIMD) where each lane does
 * the scalar operation, so a loop over a row gives the same bits either way. The operands of a
 * vector operation are v128 locals; scalars it needs are splatted into v128 locals first.
 */
export interface Lanes {
  /** Factors handled by one step: 1 or 2. */
  width: 1 | 2;
  /** Load / store (8-byte aligned) at the address on the stack plus `offset` bytes. */
  ld: (offset: number) => number[];
  st: (offset: number) => number[];
  mul: number[];
  sub: number[];
  add: number[];
  div: number[];
  /** Pushes zero in every lane. */
  zero: number[];
  /**
   * `dot = dot + v` for the value v on the stack, lane by lane in order: `(dot + v₀) + v₁` (the
   * order of a plain loop over the factors). `dot` is an f64 local, `m` a scratch local of the
   * lane type.
   */
  addTo: (dot: number, m: number) => number[];
}

/** One f64 per step. */
export const SCALAR: Lanes = {
  width: 1,
  ld: ldF,
  st: stF,
  mul: [OP.f64Mul],
  sub: [OP.f64Sub],
  add: [OP.f64Add],
  div: [OP.f64Div],
  zero: f64c0,
  addTo: (dot) => [...get(dot), OP.f64Add, ...set(dot)],
};

/** `f64x2.splat`: an f64 on the stack into both lanes. */
export const SPLAT = simd(20);
const lane = (k: number) => [...simd(33), k];

/** Two f64 per step (f64x2 SIMD; the row's last factor, if odd, takes a SCALAR step). */
export const VECTOR: Lanes = {
  width: 2,
  ld: (offset) => [...simd(0), 3, ...uleb(offset)],
  st: (offset) => [...simd(11), 3, ...uleb(offset)],
  mul: simd(242),
  sub: simd(241),
  add: simd(240),
  div: simd(243),
  zero: [...f64c0, ...SPLAT],
  addTo: (dot, m) => [
    ...set(m),
    ...get(dot),
    ...get(m),
    ...lane(0),
    OP.f64Add,
    ...get(m),
    ...lane(1),
    OP.f64Add,
    ...set(dot),
  ],
};

/** `dst = splat(src)` for each pair `[src, dst]` (an f64 local into a v128 local). */
export const splats = (pairs: [number, number][]): number[] =>
  pairs.flatMap(([src, dst]) => [...get(src), ...SPLAT, ...set(dst)]);

/**
 * `for (f = 0; f < rowBytes; …) step(o)` over a row of factors (f and o in bytes), in increasing
 * f: `perIteration` factors per iteration while that many remain (`f < limit`, the i32 local
 * holding `rowBytes − 8·(perIteration − 1)`), with `vector` steps when given (else `scalar`
 * ones), then the rest one factor at a time with `scalar`.
 */
export function rowLoop(
  x: { f: number; rowBytes: number; limit: number },
  perIteration: number,
  scalar: (o: number) => number[],
  vector?: (o: number) => number[],
): number[] {
  const advance = (n: number) => [...get(x.f), ...i32c(n), OP.i32Add, ...set(x.f)];
  const w = vector ? 2 : 1;
  const steps = Array.from({ length: perIteration / w }, (_, j) =>
    (vector ?? scalar)(8 * w * j),
  ).flat();
  return [
    ...i32c(0),
    ...set(x.f),
    ...whileLess(x.f, x.limit, [...steps, ...advance(8 * perIteration)]),
    ...whileLess(x.f, x.rowBytes, [...scalar(0), ...advance(8)]),
  ];
}

/** A step at byte offset o of a loop over a row's factors, built for one lane width `w`. */
export type LaneStep<X> = (w: Lanes, x: X) => (o: number) => number[];

/**
 * The row loops of a kernel build: `row(step)` runs `step` over the factors (`rowLoop`, four per
 * iteration while four remain: two VECTOR steps with the `vector` locals when `useSimd`, else four
 * SCALAR steps with the `scalar` locals; then SCALAR steps one factor at a time). `loop.limit` is
 * the i32 local holding `rowBytes − 24` (see `limit4`).
 */
export const rowsOf =
  <X>(
    loop: { f: number; rowBytes: number; limit: number },
    useSimd: boolean,
    scalar: X,
    vector: X,
  ) =>
  (step: LaneStep<X>): number[] =>
    rowLoop(loop, 4, step(SCALAR, scalar), useSimd ? step(VECTOR, vector) : undefined);

/** `limit = rowBytes − 24`: while f < limit, at least four factors remain (for `rowsOf`). */
export const limit4 = (rowBytes: number, limit: number): number[] => [
  ...get(rowBytes),
  ...i32c(24),
  OP.i32Sub,
  ...set(limit),
];

/** `mem[base + f + o] = 0` (every lane) for each of `bases` (i32 locals), f the factor offset. */
export const zeroRows =
  (f: number, ...bases: number[]): LaneStep<unknown> =>
  (w) =>
  (o) =>
    bases.flatMap((base) => [...get(base), ...get(f), OP.i32Add, ...w.zero, ...w.st(o)]);

/** `x = x + 1` for the i32 local `x`. */
export const increment = (x: number): number[] => [...get(x), ...i32c(1), OP.i32Add, ...set(x)];

/**
 * `mem[addr + o] = mem[addr + o] + x` for the f64 (or, with `w` = VECTOR, the f64x2) at the
 * address pushed by `addr`, `x` pushing the value to add.
 */
export const accumulate = (addr: number[], x: number[], w: Lanes = SCALAR, o = 0): number[] => [
  ...addr,
  ...addr,
  ...w.ld(o),
  ...x,
  ...w.add,
  ...w.st(o),
];

/**
 * `b[x] = b[x] + lr · (err − reg · b[x])` for the f64 at the address in the i32 local `addr`,
 * with f64 locals `lr`, `err`, `reg` (Surprise's bias step, e.g. `bu[u] += lr_bu * (err - reg_bu
 * * bu[u])`).
 */
export const biasUpdate = (addr: number, lr: number, err: number, reg: number): number[] => [
  ...get(addr),
  ...get(addr),
  ...ldF(),
  ...get(lr),
  ...get(err),
  ...get(reg),
  ...get(addr),
  ...ldF(),
  OP.f64Mul,
  OP.f64Sub,
  OP.f64Mul,
  OP.f64Add,
  ...stF(),
];

/**
 * Pushes Surprise's estimate `((μ + b_u) + b_i) + dot` (in that order of additions), with `mu`
 * and `dot` f64 locals and `buA`, `biA` i32 locals holding the addresses of b_u and b_i.
 */
export const estimate = (mu: number, buA: number, biA: number, dot: number): number[] => [
  ...get(mu),
  ...get(buA),
  ...ldF(),
  OP.f64Add,
  ...get(biA),
  ...ldF(),
  OP.f64Add,
  ...get(dot),
  OP.f64Add,
];

/** `base + f` (i32 locals). */
export const plus = (base: number, f: number): number[] => [...get(base), ...get(f), OP.i32Add];

/** `base + (x << shift)` for i32 locals `base` and `x` (the address of element x). */
export const element = (base: number, x: number, shift: number): number[] => [
  ...get(base),
  ...get(x),
  ...i32c(shift),
  OP.i32Shl,
  OP.i32Add,
];

/** Pushes `a < b` (signed) for the i32 locals `a` and `b`. */
export const lessThan = (a: number, b: number): number[] => [...get(a), ...get(b), OP.i32LtS];

/** The i32 locals and parameters `itemRow` uses (indices of locals). */
export interface ItemLocals {
  /** Parameters: addresses of the trainset's `urItems` (i32), of `qi` and `bi` (f64); row size. */
  itemsP: number;
  qiP: number;
  biP: number;
  rowBytes: number;
  /** Locals: the rating's index, and a scratch (the factor offset, reset by the factor loop). */
  k: number;
  f: number;
}

/**
 * The item of rating k: `i = items[k]; ipTo = qiP + i·rowBytes; biATo = biP + 8i` (the addresses
 * of its row of q_i and of its bias b_i), with i kept in the local `f` meanwhile.
 */
export const itemRow = (x: ItemLocals, ipTo: number, biATo: number): number[] => [
  ...element(x.itemsP, x.k, 2),
  ...ldI(),
  OP.tee,
  ...uleb(x.f),
  ...get(x.rowBytes),
  OP.i32Mul,
  ...get(x.qiP),
  OP.i32Add,
  ...set(ipTo),
  ...element(x.biP, x.f, 3),
  ...set(biATo),
];

/** The locals and parameters `ratingError` and `fusedRatings` use (indices of locals). */
export interface RatingLocals extends ItemLocals {
  /** Parameters: address of the trainset's `urRatings`; μ (f64). */
  ratingsP: number;
  mu: number;
  /** i32 locals: end of the user's ratings; addresses of b_u, of the current and next item's b_i and q_i row. */
  end: number;
  buA: number;
  ip: number;
  biA: number;
  nip: number;
  nbiA: number;
  /** f64 locals: the dot product and the error. */
  dot: number;
  err: number;
}

/** `err = r_k − (((μ + b_u) + b_i) + dot)` (Surprise's estimate, in its order of additions). */
export const ratingError = (x: RatingLocals): number[] => [
  ...element(x.ratingsP, x.k, 3),
  ...ldF(),
  ...estimate(x.mu, x.buA, x.biA, x.dot),
  OP.f64Sub,
  ...set(x.err),
];

/**
 * A user's ratings k…end−1 (k set by the caller) in an SGD kernel whose factor update of rating
 * k is done in one pass with the dot product of the next rating k+1 (svd-kernel.ts explains why
 * the bits are those of the plain loop):
 *
 * ```
 * if (k < end) {
 *   ip, biA = item of k; dot = 0; firstDot
 *   while (k < end) {
 *     rating; k += 1
 *     if (k < end) { nip, nbiA = item of k; dot = 0; fused; ip = nip; biA = nbiA } else last
 *     after
 *   }
 * }
 * ```
 */
export function fusedRatings(
  x: RatingLocals,
  parts: {
    firstDot: number[];
    rating: number[];
    fused: number[];
    last: number[];
    after?: number[];
  },
): number[] {
  const zeroDot = [...f64c0, ...set(x.dot)];
  const kBeforeEnd = lessThan(x.k, x.end);
  const each = [
    ...parts.rating,
    ...increment(x.k),
    ...kBeforeEnd,
    OP.if,
    VOID,
    ...itemRow(x, x.nip, x.nbiA),
    ...zeroDot,
    ...parts.fused,
    ...get(x.nip),
    ...set(x.ip),
    ...get(x.nbiA),
    ...set(x.biA),
    OP.else,
    ...parts.last,
    OP.end,
    ...(parts.after ?? []),
  ];
  return [
    ...kBeforeEnd,
    OP.if,
    VOID,
    ...itemRow(x, x.ip, x.biA),
    ...zeroDot,
    ...parts.firstDot,
    ...whileLess(x.k, x.end, each),
    OP.end,
  ];
}

/** The i32 locals and parameters a kernel uses to walk the users (indices of locals). */
export interface UserLocals {
  /** Parameters: first user (inclusive), last user (exclusive), bytes of a factor row. */
  uStart: number;
  uEnd: number;
  rowBytes: number;
  /** Parameters: addresses of the trainset's `urOffsets` (i32), `bu` and `pu` (f64). */
  offP: number;
  buP: number;
  puP: number;
  /** Locals: the user, the address of its factor row and of its bias, the end of its ratings. */
  u: number;
  up: number;
  buA: number;
  end: number;
}

/**
 * The start of one user's work: `up = puP + u·rowBytes; buA = buP + 8u;` then `off[u]` (the first
 * rating) is pushed and consumed by `useStart` (e.g. `set(k)`), then `end = off[u + 1]`.
 */
export const userSetup = (x: UserLocals, useStart: number[]): number[] => [
  ...get(x.puP),
  ...get(x.u),
  ...get(x.rowBytes),
  OP.i32Mul,
  OP.i32Add,
  ...set(x.up),
  ...element(x.buP, x.u, 3),
  ...set(x.buA),
  ...element(x.offP, x.u, 2),
  OP.tee,
  ...uleb(x.end),
  ...ldI(0),
  ...useStart,
  ...get(x.end),
  ...ldI(4),
  ...set(x.end),
];

/**
 * The rest of a kernel function's body: `for (u = uStart; u < uEnd; u++) user` (`user` from
 * `userSetup` on), then the function's `end`.
 */
export const eachUser = (x: UserLocals, user: number[]): number[] => [
  ...get(x.uStart),
  ...set(x.u),
  ...whileLess(x.u, x.uEnd, [...user, ...increment(x.u)]),
  OP.end,
];

// ---- Module, compilation, memory, calls ---------------------------------------------------

/** Local declarations of a function: how many i32, f64 and v128 locals (in that order). */
export interface LocalCounts {
  i32: number;
  f64: number;
  /** v128 locals (SIMD builds only); none when omitted. */
  v128?: number;
}

/**
 * A module importing `env.memory` and exporting one function `name` with `nI32` i32 parameters,
 * then `nF64` f64 parameters, the given locals, and the given body (ending in `end`).
 */
export function oneFunctionModule(
  name: string,
  nI32: number,
  nF64: number,
  locals: LocalCounts,
  body: number[],
): Uint8Array {
  const params = [...Array(nI32).fill(I32), ...Array(nF64).fill(F64)];
  const type = section(1, vec([[0x60, ...vec(params.map((t) => [t])), 0]]));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]]));
  const funcs = section(3, vec([[0]]));
  const exportSection = section(7, vec([[...str(name), 0x00, 0]]));
  const localDecl = vec([
    [...uleb(locals.i32), I32],
    [...uleb(locals.f64), F64],
    ...(locals.v128 ? [[...uleb(locals.v128), V128]] : []),
  ]);
  const code = [...localDecl, ...body];
  const codeSection = section(10, vec([[...uleb(code.length), ...code]]));
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  return Uint8Array.from([
    ...header,
    ...type,
    ...imports,
    ...funcs,
    ...exportSection,
    ...codeSection,
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

/**
 * Compiles module bytes once (`make` is called on first use). @returns the module, or null when
 * the runtime has no WebAssembly or refuses the bytes (`CompileError`: the caller then runs its
 * TypeScript loop). @throws anything else (a bug to report).
 */
export function lazyModule(make: () => Uint8Array): () => object | null {
  let compiled: object | null | undefined;
  return () => {
    if (compiled === undefined) {
      const bytes = make();
      try {
        compiled = wasm ? new wasm.Module(bytes) : null;
      } catch (err) {
        if (!(err instanceof wasm!.CompileError)) throw err;
        compiled = null;
      }
    }
    return compiled;
  };
}

/** A kernel's one exported function: its signature, locals and body (see `oneFunctionModule`). */
export interface KernelSpec {
  name: string;
  nI32: number;
  nF64: number;
  locals: LocalCounts;
  /** The body, assembled on first use. */
  body: () => number[];
}

/** `lazyModule` of `oneFunctionModule(spec)`: compiled once, on first use; null when refused. */
export const lazyKernel = (spec: KernelSpec): (() => object | null) =>
  lazyModule(() => oneFunctionModule(spec.name, spec.nI32, spec.nF64, spec.locals, spec.body()));

const PAGE = 65536;
const MAX_BYTES = 2 ** 31; // every address stays a positive i32

/** Typed arrays placed in one WebAssembly memory, 8-byte aligned, with views and addresses. */
export interface KernelMemory {
  /** The memory, for the instance's `env.memory` import. */
  memory: object;
  /** Byte address of each array, in the order given. */
  addresses: number[];
  /** A view of each array in the memory (same type and length), in the order given. */
  views: (Int32Array | Float64Array)[];
}

/**
 * Allocates a memory holding `arrays` (copied in) and `scratch` zeroed f64 arrays of the given
 * lengths after them. @returns null when it would exceed 2 GiB or WebAssembly is unavailable.
 */
export function kernelMemory(
  arrays: (Int32Array | Float64Array)[],
  scratch: number[] = [],
): KernelMemory | null {
  if (!wasm) return null;
  const sizes = [...arrays.map((a) => a.byteLength), ...scratch.map((n) => n * 8)];
  const addresses: number[] = [];
  let size = 0;
  for (const s of sizes) {
    addresses.push(size);
    size += (s + 7) & ~7;
  }
  if (size + 8 > MAX_BYTES) return null;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(size / PAGE)) });
  const buf = memory.buffer;
  const views: (Int32Array | Float64Array)[] = arrays.map((a, k) => {
    const v =
      a instanceof Int32Array
        ? new Int32Array(buf, addresses[k], a.length)
        : new Float64Array(buf, addresses[k], a.length);
    v.set(a);
    return v;
  });
  scratch.forEach((n, k) => views.push(new Float64Array(buf, addresses[arrays.length + k], n)));
  return { memory, addresses, views };
}

/**
 * Runs a compiled kernel on copies of `arrays` in a fresh linear memory, then copies the arrays
 * from index `firstOutput` on back (the ones before, e.g. the trainset's, are left untouched).
 *
 * @param mod The compiled module (from `lazyModule`/`lazyKernel`); null means unavailable.
 * @param name The exported function's name.
 * @param scratch Lengths of zeroed f64 arrays placed after `arrays` (see `kernelMemory`).
 * @param run Calls the kernel function; `mem` gives the addresses and views.
 * @returns false, having changed nothing, when `mod` is null or the memory would exceed 2 GiB:
 *   the caller then runs its TypeScript loop.
 */
export function runKernel(
  mod: object | null,
  name: string,
  arrays: (Int32Array | Float64Array)[],
  scratch: number[],
  firstOutput: number,
  run: (kernel: (...args: number[]) => void, mem: KernelMemory) => void,
): boolean {
  if (!mod) return false;
  const mem = kernelMemory(arrays, scratch);
  if (!mem) return false;
  const instance = new wasm!.Instance(mod, { env: { memory: mem.memory } });
  run(instance.exports[name] as (...args: number[]) => void, mem);
  for (let k = firstOutput; k < arrays.length; k++) arrays[k].set(mem.views[k]);
  return true;
}

/** Ratings per call into WebAssembly: short calls let V8's optimised tier take over early. */
export const CHUNK_RATINGS = 4096;

/**
 * Calls `run(u0, u1)` on consecutive ranges of users covering 0…nUsers−1, each holding about
 * `CHUNK_RATINGS` ratings (at least one user), in order.
 *
 * Why: V8 first runs WebAssembly code from its baseline compiler and only calls made after the
 * optimised code is ready use it (a running call is never replaced), so short calls let the
 * optimised code take over within the first epoch. The order of the updates is the same as in
 * one long loop.
 */
export function forUserChunks(
  urOffsets: Int32Array,
  nUsers: number,
  run: (u0: number, u1: number) => void,
): void {
  let u0 = 0;
  while (u0 < nUsers) {
    let u1 = u0 + 1;
    while (u1 < nUsers && urOffsets[u1] - urOffsets[u0] < CHUNK_RATINGS) u1++;
    run(u0, u1);
    u0 = u1;
  }
}

// ---- Factor-model pass kernels: parameter layout, locals, the epochs loop ----------------

/**
 * The addresses of the trainset's and the model's arrays every factor-model pass receives (in this
 * order, after the user range and the flags): `urOffsets` (i32), `urItems` (i32), `urRatings`,
 * `bu`, `bi`, `pu`, `qi` (f64).
 */
export const TRAINING_ARRAYS = ['offP', 'itemsP', 'ratingsP', 'buP', 'biP', 'puP', 'qiP'] as const;
/** The name of one of `TRAINING_ARRAYS`. */
export type TrainingArray = (typeof TRAINING_ARRAYS)[number];

/** Consecutive local indices from `first`, by name: `indices(['a', 'b'], 3)` is `{a: 3, b: 4}`. */
export function indices<const N extends readonly string[]>(
  names: N,
  first = 0,
): { readonly [K in N[number]]: number } {
  return Object.fromEntries(names.map((n, k) => [n, first + k])) as {
    readonly [K in N[number]]: number;
  };
}

/**
 * The parameters of a factor-model pass function, by name, in this order: `uEnd` (exclusive),
 * `rowBytes` (nFactors × 8), `uStart` (i32), then the i32 `flags`, the addresses of the
 * `TRAINING_ARRAYS` and of the kernel's own `addresses` (i32), then the f64 `floats`.
 * Kernels declare theirs with `passLayout` and are called by `runFactorPasses`, which passes the
 * values in the same order: the two cannot drift apart.
 */
export interface PassLayout<F extends string, A extends string, X extends string> {
  /** Local index of every parameter by name. */
  P: { readonly [K in 'uEnd' | 'rowBytes' | 'uStart' | F | TrainingArray | A | X]: number };
  flags: readonly F[];
  addresses: readonly A[];
  floats: readonly X[];
  /** Number of i32 parameters, then of f64 parameters. */
  nI32: number;
  nF64: number;
}

/** The `PassLayout` of a kernel with these i32 flags, extra array addresses and f64 parameters. */
export function passLayout<
  const F extends readonly string[],
  const A extends readonly string[],
  const X extends readonly string[],
>(flags: F, addresses: A, floats: X): PassLayout<F[number], A[number], X[number]> {
  const i32 = ['uEnd', 'rowBytes', 'uStart', ...flags, ...TRAINING_ARRAYS, ...addresses];
  return {
    P: indices([...i32, ...floats]) as PassLayout<F[number], A[number], X[number]>['P'],
    flags,
    addresses,
    floats,
    nI32: i32.length,
    nF64: floats.length,
  };
}

/** Locals by name (i32 ones, then f64, then v128, numbered after the parameters) and their counts. */
export interface LocalLayout<I extends string, D extends string, V extends string> {
  L: { readonly [K in I | D | V]: number };
  counts: Required<LocalCounts>;
}

/** The `LocalLayout` of these locals after the parameters of `params`. */
export function localLayout<
  const I extends readonly string[],
  const D extends readonly string[],
  const V extends readonly string[] = [],
>(
  params: { nI32: number; nF64: number },
  i32: I,
  f64: D,
  v128: V = [] as unknown as V,
): LocalLayout<I[number], D[number], V[number]> {
  return {
    L: indices([...i32, ...f64, ...v128], params.nI32 + params.nF64) as LocalLayout<
      I[number],
      D[number],
      V[number]
    >['L'],
    counts: { i32: i32.length, f64: f64.length, v128: v128.length },
  };
}

/** The values of one run of a factor-model pass kernel (see `runFactorPasses`). */
export interface PassArgs<F extends string, A extends string, X extends string> {
  /** The i32 flags (e.g. `biased`: 1 or 0). */
  flags: { readonly [K in F]: number };
  /**
   * Each of the kernel's own addresses: a Float64Array copied into the memory and back after the
   * run (e.g. SVD++'s y_j), or a length: a zeroed f64 scratch array (not copied back).
   */
  arrays: { readonly [K in A]: Float64Array | number };
  /** The f64 parameters. */
  floats: { readonly [K in X]: number };
  /** Called before / after each epoch's pass with the memory's views by name (e.g. NMF's items). */
  beforeEpoch?: (views: { readonly [K in TrainingArray | A]: Float64Array | Int32Array }) => void;
  afterEpoch?: (views: { readonly [K in TrainingArray | A]: Float64Array | Int32Array }) => void;
}

/**
 * The entry shell of every factor-model kernel (SVD, SVD++, NMF): places the training arrays, the
 * kernel's own arrays and scratch in a fresh linear memory (`runKernel`), runs `a.nEpochs` epochs,
 * each one pass over all users in chunks (`forUserChunks`; `beforeEpoch`/`afterEpoch` around it),
 * then copies `bu`, `bi`, `pu`, `qi` and the kernel's own Float64Arrays back into `a` / `args`.
 *
 * @param mod The compiled module (null: unavailable).
 * @param name Its exported pass function, whose parameters follow `layout`.
 * @returns false, having changed nothing, when `mod` is null or the memory would exceed 2 GiB.
 */
export function runFactorPasses<F extends string, A extends string, X extends string>(
  mod: object | null,
  name: string,
  layout: PassLayout<F, A, X>,
  a: FactorTraining,
  args: PassArgs<F, A, X>,
): boolean {
  const own = layout.addresses.filter((n) => typeof args.arrays[n] !== 'number');
  const scratch = layout.addresses.filter((n) => typeof args.arrays[n] === 'number');
  const trainingArrays = [a.urOffsets, a.urItems, a.urRatings, a.bu, a.bi, a.pu, a.qi];
  const arrays = [...trainingArrays, ...own.map((n) => args.arrays[n] as Float64Array)];
  const order: (TrainingArray | A)[] = [...TRAINING_ARRAYS, ...own, ...scratch];
  const lengths = scratch.map((n) => args.arrays[n] as number);
  return runKernel(mod, name, arrays, lengths, 3, (pass, mem) => {
    const address = Object.fromEntries(order.map((n, k) => [n, mem.addresses[k]]));
    const views = Object.fromEntries(order.map((n, k) => [n, mem.views[k]])) as {
      [K in TrainingArray | A]: Float64Array | Int32Array;
    };
    const values = [
      0,
      a.nFactors * 8,
      0,
      ...layout.flags.map((f) => args.flags[f]),
      ...[...TRAINING_ARRAYS, ...layout.addresses].map((n) => address[n]),
      ...layout.floats.map((x) => args.floats[x]),
    ];
    for (let epoch = 0; epoch < a.nEpochs; epoch++) {
      args.beforeEpoch?.(views);
      forUserChunks(a.urOffsets, a.nUsers, (u0, u1) => {
        values[0] = u1;
        values[2] = u0;
        pass(...values);
      });
      args.afterEpoch?.(views);
    }
  });
}

/** A compiled factor-model pass kernel (see `factorKernel`). */
export interface FactorKernel<F extends string, A extends string, X extends string> {
  /** True when the runtime accepted the module (compiled on first call). */
  available(): boolean;
  /** `runFactorPasses` with this kernel: false (nothing changed) when unavailable. */
  run(a: FactorTraining, args: PassArgs<F, A, X>): boolean;
}

/**
 * A factor-model pass kernel: one exported function `name` with the parameters of `params`, the
 * given locals and body (assembled and compiled on first use, once per process).
 */
export function factorKernel<F extends string, A extends string, X extends string>(
  name: string,
  params: PassLayout<F, A, X>,
  locals: LocalCounts,
  body: () => number[],
): FactorKernel<F, A, X> {
  const mod = lazyKernel({ name, nI32: params.nI32, nF64: params.nF64, locals, body });
  return {
    available: () => mod() !== null,
    run: (a, args) => runFactorPasses(mod(), name, params, a, args),
  };
}

/** Which build of a kernel runs: f64x2 SIMD, scalar, or none (the TypeScript loop). */
export type KernelBuild = 'simd' | 'scalar' | 'none';

/** A kernel built twice, with and without SIMD (see `simdAndScalar`). */
export interface KernelBuilds<F extends string, A extends string, X extends string> {
  /** The build `run` picks on this runtime: SIMD when supported, else scalar, else none. */
  build(): KernelBuild;
  /**
   * Runs the `build` ('auto': the one `build()` names) on `a` (`runFactorPasses`). @returns false,
   * having changed nothing, when that build is unavailable or the memory would exceed 2 GiB.
   */
  run(a: FactorTraining, args: PassArgs<F, A, X>, build?: 'simd' | 'scalar' | 'auto'): boolean;
}

/** The SIMD and scalar builds of a kernel, `make(useSimd)`, each compiled on first use. */
export function simdAndScalar<F extends string, A extends string, X extends string>(
  make: (useSimd: boolean) => FactorKernel<F, A, X>,
): KernelBuilds<F, A, X> {
  const kernels = { simd: make(true), scalar: make(false) };
  const build = (): KernelBuild => {
    if (kernels.simd.available()) return 'simd';
    return kernels.scalar.available() ? 'scalar' : 'none';
  };
  return {
    build,
    run: (a, args, wanted = 'auto') => {
      const chosen = wanted === 'auto' ? build() : wanted;
      return chosen !== 'none' && kernels[chosen].run(a, args);
    },
  };
}
