/**
 * The shared WebAssembly assembler of the training kernels (src/engine/algorithms/wasm-asm.ts):
 * encodings checked against the examples of the LEB128 definition (DWARF 5, §7.6 / Wikipedia),
 * a hand-assembled module that runs, and the "compile once, fall back only when WebAssembly
 * refuses the bytes" rule. Importing named exports from the module also catches the CommonJS trap
 * of a local variable named `exports` shadowing the module's exports.
 */
import {
  OP,
  biasUpdate,
  f64c,
  get,
  lazyKernel,
  lazyModule,
  runKernel,
  sleb,
  uleb,
} from '../../src/engine/algorithms/wasm-asm';

describe('wasm-asm encodings', () => {
  it('unsigned LEB128 (DWARF examples: 2, 127, 128, 129, 130, 12857, 624485)', () => {
    expect(uleb(2)).toEqual([2]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(129)).toEqual([0x81, 0x01]);
    expect(uleb(130)).toEqual([0x82, 0x01]);
    expect(uleb(12857)).toEqual([0xb9, 0x64]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
  });

  it('signed LEB128 (DWARF examples: 2, −2, 127, −127, 128, −128, 129, −129; −123456)', () => {
    expect(sleb(2)).toEqual([2]);
    expect(sleb(-2)).toEqual([0x7e]);
    expect(sleb(127)).toEqual([0xff, 0x00]);
    expect(sleb(-127)).toEqual([0x81, 0x7f]);
    expect(sleb(128)).toEqual([0x80, 0x01]);
    expect(sleb(-128)).toEqual([0x80, 0x7f]);
    expect(sleb(129)).toEqual([0x81, 0x01]);
    expect(sleb(-129)).toEqual([0xff, 0x7e]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('f64.const holds the 8 little-endian bytes of the value (1.0 = 0x3FF0000000000000)', () => {
    expect(f64c(1)).toEqual([OP.f64Const, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });
});

describe('wasm-asm modules', () => {
  // bias(addr, lr, err, reg): mem[addr] += lr·(err − reg·mem[addr]) (Surprise's bias step).
  const biasKernel = lazyKernel({
    name: 'bias',
    nI32: 1,
    nF64: 3,
    locals: { i32: 0, f64: 0 },
    body: () => [...biasUpdate(0, 1, 2, 3), OP.end],
  });

  it('a one-function module runs on a memory holding the given arrays', () => {
    const b = Float64Array.of(0.5, 0.25);
    const untouched = Int32Array.of(7);
    const ran = runKernel(biasKernel(), 'bias', [untouched, b], [], 1, (bias, mem) => {
      bias(mem.addresses[1] + 8, 0.1, 2, 0.5); // b[1] = 0.25 + 0.1·(2 − 0.5·0.25)
    });
    expect(ran).toBe(true);
    expect(b[0]).toBe(0.5);
    expect(b[1]).toBe(0.25 + 0.1 * (2 - 0.5 * 0.25));
    expect(untouched[0]).toBe(7);
  });

  it('compiles once and answers null (the TypeScript fallback) when the bytes are refused', () => {
    let made = 0;
    // A module whose code section is cut short: the runtime refuses it (CompileError).
    const refused = lazyModule(() => {
      made++;
      return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x02]);
    });
    expect(refused()).toBeNull();
    expect(refused()).toBeNull();
    expect(made).toBe(1);
    // local.get 5 in a function without locals: refused by validation.
    const invalid = lazyKernel({
      name: 'bad',
      nI32: 0,
      nF64: 0,
      locals: { i32: 0, f64: 0 },
      body: () => [...get(5), OP.end],
    });
    expect(invalid()).toBeNull();
    expect(runKernel(invalid(), 'bad', [Float64Array.of(1)], [], 0, () => undefined)).toBe(false);
  });

  it('any other error while building the bytes is thrown, not hidden by the fallback', () => {
    const broken = lazyModule(() => {
      throw new TypeError('bug in the assembler');
    });
    expect(() => broken()).toThrow('bug in the assembler');
  });
});
