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

/** The twist of all 624 key words at `key` (MT19937's refill). */
function generate(key: usize): void {
  let k = 0;
  for (; k < N - M; k++) {
    const y = (word(key, k) & UPPER_MASK) | (word(key, k + 1) & LOWER_MASK);
    store<u32>(key + ((<usize>k) << 2), word(key, k + M) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0));
  }
  for (; k < N - 1; k++) {
    const y = (word(key, k) & UPPER_MASK) | (word(key, k + 1) & LOWER_MASK);
    store<u32>(
      key + ((<usize>k) << 2),
      word(key, k + (M - N)) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0),
    );
  }
  const y = (word(key, N - 1) & UPPER_MASK) | (word(key, 0) & LOWER_MASK);
  store<u32>(key + ((<usize>(N - 1)) << 2), word(key, M - 1) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0));
}

/** `pos`, or 0 after a refill of the key when all 624 words are used. */
function ready(key: usize, pos: i32): i32 {
  if (pos < N) return pos;
  generate(key);
  return 0;
}

/** Key word k. */
function word(key: usize, k: i32): u32 {
  return load<u32>(key + ((<usize>k) << 2));
}

/** MT19937's tempering of a key word. */
function temper(w: u32): u32 {
  let y = w;
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  y ^= y >>> 18;
  return y;
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
  // the generator in locals while the loop runs: the position in the key, the cached value
  let pos = load<i32>(state + POS);
  let hasGauss = load<i32>(state + HAS_GAUSS) != 0;
  let gaussValue = load<f64>(state + GAUSS_VALUE);
  for (let r = 0; r < rows; r++) {
    const row = out + <usize>r * ((<usize>stride) << 2);
    for (let c = 0; c < cols; c++) {
      // gauss(): NumPy's legacy_gauss, the polar method with one value cached
      let g: f64;
      if (hasGauss) {
        hasGauss = false;
        g = gaussValue;
        gaussValue = 0;
      } else {
        let x1: f64;
        let x2: f64;
        let r2: f64;
        do {
          // two random_sample() draws: (a·2^26 + b) / 2^53 from two 32-bit outputs each
          pos = ready(state, pos);
          const w0 = temper(word(state, pos++));
          pos = ready(state, pos);
          const w1 = temper(word(state, pos++));
          pos = ready(state, pos);
          const w2 = temper(word(state, pos++));
          pos = ready(state, pos);
          const w3 = temper(word(state, pos++));
          x1 = 2.0 * ((<f64>(w0 >>> 5) * 67108864.0 + <f64>(w1 >>> 6)) / 9007199254740992.0) - 1.0;
          x2 = 2.0 * ((<f64>(w2 >>> 5) * 67108864.0 + <f64>(w3 >>> 6)) / 9007199254740992.0) - 1.0;
          r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        const f = Math.sqrt((-2.0 * hostLog(r2)) / r2);
        gaussValue = f * x1;
        hasGauss = true;
        g = f * x2;
      }
      store<f32>(row + ((<usize>c) << 2), <f32>(loc + scale * g));
    }
  }
  store<i32>(state + POS, pos);
  store<i32>(state + HAS_GAUSS, hasGauss ? 1 : 0);
  store<f64>(state + GAUSS_VALUE, gaussValue);
}
