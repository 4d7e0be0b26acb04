/**
 * Seeded random numbers, bit-compatible with NumPy's legacy `numpy.random.RandomState`.
 *
 * Surprise draws every random number from a `RandomState` (its `get_rng(random_state)`): SVD's
 * initial factors (`rng.normal(init_mean, init_std, size)`), KFold's shuffle (`rng.shuffle`), and
 * so on. Reproducing the same generator means that `randomState: 0` here draws exactly the numbers
 * Surprise draws with `random_state=0`, so results can be compared one to one.
 *
 * Sources: M. Matsumoto and T. Nishimura, "Mersenne Twister: a 623-dimensionally equidistributed
 * uniform pseudo-random number generator" (1998); NumPy's `numpy/random/src/mt19937/mt19937.c`
 * (seeding, 53-bit doubles) and `numpy/random/src/legacy/legacy-distributions.c` (`legacy_gauss`,
 * the polar method with one cached value).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** The state of a `RandomState` (`getState` / `setState`). */
export interface RandomStateSnapshot {
  /** The 624 Mersenne Twister key words. */
  key: Uint32Array;
  /** Words of the key already used, 0…624 (624: the next draw twists the key). */
  pos: number;
  /** Whether a second normal value of the polar method is cached, and that value. */
  hasGauss: boolean;
  gaussValue: number;
}

/** A seed for a random generator: a whole number in [0, 2^32 − 1], a generator, or none. */
export type RandomStateLike = number | RandomState | null | undefined;

/**
 * Mersenne Twister MT19937 with NumPy's legacy seeding and distributions.
 *
 * @example new RandomState(0).normal(0, 0.1) // same value as numpy.random.RandomState(0).normal(0, 0.1)
 */
export class RandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;
  private hasGauss = false;
  private gaussValue = 0;

  /**
   * @param seed whole number in [0, 2^32 − 1] (NumPy's `RandomState(seed)`); when omitted, a seed
   *   is drawn from the operating system's entropy.
   * @throws RangeError when the seed is not a whole number in that range.
   */
  constructor(seed?: number) {
    this.seed(seed ?? randomSeed());
  }

  /** Re-seed as NumPy's `mt19937_seed` (Knuth's initialisation, `init_genrand`). */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be a whole number in [0, 4294967295], got ${seed}`);
    }
    let s = seed >>> 0;
    for (let p = 0; p < N; p++) {
      this.key[p] = s;
      s = (Math.imul(1812433253, (s ^ (s >>> 30)) >>> 0) + p + 1) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.gaussValue = 0;
  }

  private generate(): void {
    const k = this.key;
    let i = 0;
    let y: number;
    for (; i < N - M; i++) {
      y = (k[i] & UPPER_MASK) | (k[i + 1] & LOWER_MASK);
      k[i] = k[i + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; i < N - 1; i++) {
      y = (k[i] & UPPER_MASK) | (k[i + 1] & LOWER_MASK);
      k[i] = k[i + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (k[N - 1] & UPPER_MASK) | (k[0] & LOWER_MASK);
    k[N - 1] = k[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** The next tempered 32-bit output, in [0, 2^32 − 1]. */
  nextUint32(): number {
    if (this.pos === N) this.generate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (NumPy's `random_sample()`). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** A standard normal draw (NumPy's `legacy_gauss`: Marsaglia's polar method, one value cached). */
  gauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const v = this.gaussValue;
      this.gaussValue = 0;
      return v;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2.0 * this.random() - 1.0;
      x2 = 2.0 * this.random() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.gaussValue = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /**
   * A copy of the whole state: the 624 key words, the position in them, and the cached second
   * polar-method value (for code that continues the stream elsewhere, e.g. in a WebAssembly
   * kernel: src/engine/kernels/init.ts; `setState` takes it back).
   */
  getState(): RandomStateSnapshot {
    return {
      key: this.key.slice(),
      pos: this.pos,
      hasGauss: this.hasGauss,
      gaussValue: this.gaussValue,
    };
  }

  /**
   * Continues from `s` (a `getState` snapshot, possibly advanced elsewhere).
   * @throws RangeError when the key is not 624 words or the position not in [0, 624].
   */
  setState(s: RandomStateSnapshot): void {
    if (s.key.length !== N || !Number.isInteger(s.pos) || s.pos < 0 || s.pos > N) {
      throw new RangeError(
        `a RandomState state needs 624 key words and a position in [0, 624], got ${s.key.length} words and ${s.pos}`,
      );
    }
    this.key.set(s.key);
    this.pos = s.pos;
    this.hasGauss = s.hasGauss;
    this.gaussValue = s.gaussValue;
  }

  /** A normal draw with mean `loc` and standard deviation `scale` (NumPy's `normal(loc, scale)`). */
  normal(loc = 0, scale = 1): number {
    return loc + scale * this.gauss();
  }

  /** Fills `out` with normal draws in order (NumPy's `normal(loc, scale, size)` in C order). */
  fillNormal(out: Float64Array, loc = 0, scale = 1): Float64Array {
    for (let j = 0; j < out.length; j++) out[j] = loc + scale * this.gauss();
    return out;
  }

  /**
   * A whole number in [0, max] by masked rejection (NumPy's legacy `random_interval`, used by
   * `shuffle`). @param max whole number in [0, 2^32 − 1].
   */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let value: number;
    do {
      value = (this.nextUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /** A whole number in [low, high) (NumPy's legacy `randint(low, high)` for spans below 2^32). */
  randint(low: number, high: number): number {
    if (!(high > low)) throw new RangeError(`randint needs low < high, got [${low}, ${high})`);
    return low + this.interval(high - low - 1);
  }

  /**
   * A uniform draw in [low, high) (NumPy's legacy `uniform(low, high)`: `low + (high − low) ·
   * random_sample()`, numpy/random/mtrand.pyx and `random_uniform` in distributions.c).
   */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Fills `out` with uniform draws in order (NumPy's `uniform(low, high, size)` in C order). */
  fillUniform(out: Float64Array, low = 0, high = 1): Float64Array {
    const range = high - low;
    for (let j = 0; j < out.length; j++) out[j] = low + range * this.random();
    return out;
  }

  /**
   * Fills `out` with whole numbers in [low, high) in order (NumPy's legacy `randint(low, high,
   * size)`: `random_bounded_uint64_fill` with masked rejection on 32-bit draws, which is what
   * `interval` does, for spans below 2^32). @throws RangeError unless low < high.
   */
  fillRandint<T extends Int32Array | Float64Array | Uint32Array>(
    out: T,
    low: number,
    high: number,
  ): T {
    if (!(high > low)) throw new RangeError(`randint needs low < high, got [${low}, ${high})`);
    const max = high - low - 1;
    for (let j = 0; j < out.length; j++) out[j] = low + this.interval(max);
    return out;
  }

  /** Shuffles in place, Fisher–Yates from the end, exactly as NumPy's legacy `shuffle`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A shuffled copy of 0…n−1 (NumPy's `permutation(n)`). */
  permutation(n: number): Int32Array {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }
}

/** A seed from the operating system's entropy, for generators asked for no particular seed. */
export function randomSeed(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(4).readUInt32LE(0);
}

/**
 * Surprise's `get_rng`: a number seeds a new generator, a generator is used as it is (so that
 * successive users continue its stream), and `null`/`undefined` gives a generator seeded from
 * entropy. @throws RangeError for a seed outside [0, 2^32 − 1].
 */
export function getRng(randomState: RandomStateLike): RandomState {
  if (randomState instanceof RandomState) return randomState;
  return new RandomState(randomState ?? undefined);
}
