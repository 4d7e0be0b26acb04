/**
 * Small building blocks for the WebAssembly training kernels of NMF and SVDpp (nmf-kernel.ts,
 * svdpp-kernel.ts), on top of the assembler helpers of svd-kernel.ts: a one-function module, its
 * compilation (refused bytes fall back to TypeScript), a linear memory holding typed arrays, and
 * loops over a row of factors.
 *
 * Conventions: addresses and the factor offset `f` are in bytes; a row of factors is `rowBytes`
 * (= nFactors × 8) long. f64 arithmetic in WebAssembly is IEEE 754 binary64, round to nearest,
 * never fused, so a kernel doing the operations of a TypeScript loop in the same order gives the
 * same bits.
 */
import {
  F64,
  I32,
  OP,
  get,
  i32c,
  ldF,
  section,
  set,
  stF,
  str,
  uleb,
  vec,
  wasm,
  whileLess,
} from './svd-kernel';

/** `f64.div`. */
export const F64_DIV = 0xa3;
/** `f64.sqrt`. */
export const F64_SQRT = 0x9f;
/** `f64.convert_i32_s`. */
export const F64_CONVERT_I32_S = 0xb7;
/** `i32.shl`. */
export const I32_SHL = 0x74;

/** `mem[addr] = mem[addr] + x` for the f64 at the address pushed by `addr`. */
export const accumulate = (addr: number[], x: number[]): number[] => [
  ...addr,
  ...addr,
  ...ldF(),
  ...x,
  OP.f64Add,
  ...stF(),
];

/** `base + f` (i32 locals). */
export const plus = (base: number, f: number): number[] => [...get(base), ...get(f), OP.i32Add];

/** `for (f = 0; f < rowBytes; f += 8) body`, with `f` and `rowBytes` i32 locals. */
export const eachFactor = (f: number, rowBytes: number, body: number[]): number[] => [
  ...i32c(0),
  ...set(f),
  ...whileLess(f, rowBytes, [...body, ...get(f), ...i32c(8), OP.i32Add, ...set(f)]),
];

/** `base + (x << shift)` for i32 locals `base` and `x` (the address of element x). */
export const element = (base: number, x: number, shift: number): number[] => [
  ...get(base),
  ...get(x),
  ...i32c(shift),
  I32_SHL,
  OP.i32Add,
];

/**
 * A module importing `env.memory` and exporting one function `name` with `nI32` i32 parameters,
 * then `nF64` f64 parameters, `locals` i32 and f64 locals, and the given body (ending in `end`).
 */
export function oneFunctionModule(
  name: string,
  nI32: number,
  nF64: number,
  locals: { i32: number; f64: number },
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

/**
 * Compiles module bytes once (`make` is called on first use). @returns the module, or null when
 * the runtime has no WebAssembly or refuses the bytes. @throws anything else (a bug to report).
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

/** Instantiates `mod` on `memory` and returns its exported function `name`. */
export function kernelFunction(
  mod: object,
  memory: object,
  name: string,
): (...args: number[]) => void {
  return new wasm!.Instance(mod, { env: { memory } }).exports[name] as (...args: number[]) => void;
}

/** Ratings per call into WebAssembly: short calls let V8's optimised tier take over early. */
export const CHUNK_RATINGS = 4096;

/**
 * Calls `run(u0, u1)` on consecutive ranges of users covering 0…nUsers−1, each holding about
 * `CHUNK_RATINGS` ratings (at least one user), in order.
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
