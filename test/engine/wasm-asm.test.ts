/**
 * The shared WebAssembly assembler of the training kernels (src/engine/algorithms/wasm-asm.ts):
 * encodings checked against the examples of the LEB128 definition (DWARF 5, §7.6 / Wikipedia),
 * a hand-assembled module that runs, and the "compile once, fall back only when WebAssembly
 * refuses the bytes" rule. Importing named exports from the module also catches the CommonJS trap
 * of a local variable named `exports` shadowing the module's exports.
 */
import {
  CHUNK_RATINGS,
  OP,
  accumulate,
  biasUpdate,
  eachUser,
  element,
  f64c,
  factorKernel,
  get,
  i32c,
  lazyKernel,
  lazyModule,
  localLayout,
  passLayout,
  runKernel,
  set,
  sleb,
  uleb,
  userSetup,
} from '../../src/engine/algorithms/wasm-asm';
import type { FactorTraining } from '../../src/engine/algorithms/factor-model';

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

describe('wasm-asm factor-model pass shell', () => {
  // A pass with one flag, an own array x (copied back) and a scratch s, and two f64 parameters.
  const PARAMS = passLayout(['biased'], ['xP', 'sP'], ['mu', 'lr']);
  const LOCALS = localLayout(PARAMS, ['u', 'up', 'buA', 'end', 'k'], ['t'], ['v']);
  const { P, L } = { P: PARAMS.P, L: LOCALS.L };
  const U = { ...P, ...L };

  it('numbers the parameters (i32: range, flags, addresses; then f64) and the locals after them', () => {
    expect(PARAMS.P).toEqual({
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
      xP: 11,
      sP: 12,
      mu: 13,
      lr: 14,
    });
    expect([PARAMS.nI32, PARAMS.nF64]).toEqual([13, 2]);
    expect(LOCALS.L).toEqual({ u: 15, up: 16, buA: 17, end: 18, k: 19, t: 20, v: 21 });
    expect(LOCALS.counts).toEqual({ i32: 5, f64: 1, v128: 1 });
  });

  // Per user: bu[u] += mu; x[u] += lr; s[0] += 1; s[1] += biased.
  const body = () =>
    eachUser(U, [
      ...userSetup(U, set(L.k)),
      ...accumulate(get(L.buA), get(P.mu)),
      ...accumulate(element(P.xP, L.u, 3), get(P.lr)),
      ...accumulate(get(P.sP), f64c(1)),
      ...accumulate([...get(P.sP), ...i32c(8), OP.i32Add], [...get(P.biased), OP.f64ConvertI32S]),
    ]);
  const kernel = factorKernel('pass', PARAMS, LOCALS.counts, body);

  /** nUsers users of 2 ratings each: more than one call's chunk of ratings. */
  function training(nUsers: number, nEpochs: number): FactorTraining {
    return {
      nUsers,
      nFactors: 2,
      nEpochs,
      urOffsets: Int32Array.from({ length: nUsers + 1 }, (_, u) => 2 * u),
      urItems: new Int32Array(2 * nUsers),
      urRatings: new Float64Array(2 * nUsers).fill(3),
      bu: new Float64Array(nUsers),
      bi: new Float64Array(1),
      pu: new Float64Array(2 * nUsers).fill(0.5),
      qi: new Float64Array(2),
      mu: 0.5,
    };
  }

  it('runs every epoch over every user once, in chunks, and copies the outputs back', () => {
    const nUsers = CHUNK_RATINGS; // 2·CHUNK_RATINGS ratings: at least two calls per epoch
    const a = training(nUsers, 3);
    const x = new Float64Array(nUsers);
    const before: number[][] = [];
    const after: number[][] = [];
    const ran = kernel.run(a, {
      flags: { biased: 1 },
      arrays: { xP: x, sP: 2 },
      floats: { mu: a.mu, lr: 0.25 },
      beforeEpoch: (views) => before.push(Array.from(views.sP)),
      afterEpoch: (views) => after.push(Array.from(views.sP)),
    });
    expect(ran).toBe(true);
    expect(kernel.available()).toBe(true);
    // 3 epochs of +0.5 and +0.25 (exact in binary), on every user.
    expect(a.bu.every((b) => b === 1.5)).toBe(true);
    expect(x.every((v) => v === 0.75)).toBe(true);
    // The scratch is zeroed once, kept between epochs, not copied out: nUsers visits per epoch.
    expect(before).toEqual([0, 1, 2].map((e) => [e * nUsers, e * nUsers]));
    expect(after).toEqual([1, 2, 3].map((e) => [e * nUsers, e * nUsers]));
    expect(a.pu.every((p) => p === 0.5)).toBe(true);
  });

  it('a refused kernel changes nothing and answers false (the TypeScript loop runs instead)', () => {
    const refused = factorKernel('pass', PARAMS, { i32: 0, f64: 0 }, body); // too few locals
    const a = training(3, 1);
    const x = new Float64Array(3);
    expect(refused.available()).toBe(false);
    const args = { flags: { biased: 0 }, arrays: { xP: x, sP: 2 }, floats: { mu: 1, lr: 1 } };
    expect(refused.run(a, args)).toBe(false);
    expect(a.bu).toEqual(new Float64Array(3));
    expect(x).toEqual(new Float64Array(3));
  });
});
