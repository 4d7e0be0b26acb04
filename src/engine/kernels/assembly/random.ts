/**
 * Normal draws for the initial factors, written straight into a kernel's memory: the stream of
 * the TypeScript `RandomState` (src/engine/random.ts, NumPy's legacy `RandomState`), continued
 * here from its state and handed back, so that the values are exactly those of
 * `RandomState.fillNormal` (hence Surprise's `rng.normal(init_mean, init_std, size)` draws).
 *
 * Sources, as for random.ts: M. Matsumoto and T. Nishimura, "Mersenne Twister" (1998); NumPy's
 * mt19937.c (53-bit doubles) and legacy-distributions.c (`legacy_gauss`: Marsaglia's polar
 * method, one value cached). Every operation is IEEE 754 binary64 as in the TypeScript; the one
 * transcendental function, the logarithm, is imported from the host (`hostLog`, which
 * AssemblyScript imports as `random.hostLog`, the module named after this file; init.ts passes
 * JavaScript's `Math.log`), so it is the very function the TypeScript calls. (AssemblyScript's own
 * `Math.log` would also bring a table in a data segment, written into the shared memory at
 * instantiation.)
 *
 * The generator state at address `state` (filled and read back by src/engine/kernels/init.ts):
 *   u32[624] key, then i32 pos (at +2496), i32 hasGauss (+2500), f64 gaussValue (+2504).
 */

declare function hostLog(x: f64): f64;

const N: i32 = 624;
const M: i32 = 397;
const MATRIX_A: u32 = 0x9908b0df;
const UPPER_MASK: u32 = 0x80000000;
const LOWER_MASK: u32 = 0x7fffffff;
const POS: usize = 2496;
const HAS_GAUSS: usize = 2500;
const GAUSS_VALUE: usize = 2504;

// the key's address, the position and the cached value, in globals while a fill runs (read from and written back
// to the state record by fillNormalF32)
let pos: i32 = N;
let hasGauss: bool = false;
let gaussValue: f64 = 0;
let key: usize = 0;

/** The key's word k. */
function word(k: i32): u32 {
  return load<u32>(key + ((<usize>k) << 2));
}

/** The twist of all 624 words (MT19937's refill). */
function generate(): void {
  let k = 0;
  for (; k < N - M; k++) {
    const y = (word(k) & UPPER_MASK) | (word(k + 1) & LOWER_MASK);
    store<u32>(key + ((<usize>k) << 2), word(k + M) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0));
  }
  for (; k < N - 1; k++) {
    const y = (word(k) & UPPER_MASK) | (word(k + 1) & LOWER_MASK);
    store<u32>(key + ((<usize>k) << 2), word(k + (M - N)) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0));
  }
  const y = (word(N - 1) & UPPER_MASK) | (word(0) & LOWER_MASK);
  store<u32>(key + ((<usize>(N - 1)) << 2), word(M - 1) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0));
  pos = 0;
}

/** The next tempered 32-bit output. */
function nextUint32(): u32 {
  if (pos == N) generate();
  let y = word(pos++);
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  y ^= y >>> 18;
  return y;
}

/** A double in [0, 1) with 53 random bits (NumPy's `random_sample`). */
function random(): f64 {
  const a = <f64>(nextUint32() >>> 5);
  const b = <f64>(nextUint32() >>> 6);
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

/** A standard normal draw (NumPy's `legacy_gauss`). */
function gauss(): f64 {
  if (hasGauss) {
    hasGauss = false;
    const v = gaussValue;
    gaussValue = 0;
    return v;
  }
  let x1: f64;
  let x2: f64;
  let r2: f64;
  do {
    x1 = 2.0 * random() - 1.0;
    x2 = 2.0 * random() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const f = Math.sqrt((-2.0 * hostLog(r2)) / r2);
  gaussValue = f * x1;
  hasGauss = true;
  return f * x2;
}

/**
 * Draws `rows` × `cols` values loc + scale·N(0, 1) in row-major order (the order of
 * `RandomState.fillNormal` over a rows × cols matrix), each rounded to f32, into rows of `stride`
 * f32 starting at `out` (lanes cols…stride−1 of each row are left as they are).
 */
export function fillNormalF32(
  out: usize,
  rows: i32,
  cols: i32,
  stride: i32,
  loc: f64,
  scale: f64,
  state: usize,
): void {
  key = state;
  pos = load<i32>(state + POS);
  hasGauss = load<i32>(state + HAS_GAUSS) != 0;
  gaussValue = load<f64>(state + GAUSS_VALUE);
  for (let r = 0; r < rows; r++) {
    const row = out + <usize>r * ((<usize>stride) << 2);
    for (let c = 0; c < cols; c++) {
      store<f32>(row + ((<usize>c) << 2), <f32>(loc + scale * gauss()));
    }
  }
  store<i32>(state + POS, pos);
  store<i32>(state + HAS_GAUSS, hasGauss ? 1 : 0);
  store<f64>(state + GAUSS_VALUE, gaussValue);
}
