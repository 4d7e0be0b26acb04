/**
 * A seeded generator of synthetic ratings shaped like MovieLens 25M (ml-25m), streamed to a file,
 * for tests and benchmarks on machines that cannot download the real data.
 *
 * Shape of ml-25m (GroupLens, ml-25m/README.txt): 25 000 095 ratings by 162 541 users of 59 047
 * movies (62 423 movies in `movies.csv`), every user with at least 20 ratings, ratings 0.5…5 in
 * half stars, `ratings.csv` with the header `userId,movieId,rating,timestamp`, sorted by user then
 * movie, timestamps from 1995 to 2019.
 *
 * The generator reproduces:
 * - **user activity**, power law: the user of activity rank r of n rates
 *   `20 + (max − 20) · (r^(−a) − n^(−a)) / (1 − n^(−a))` movies (see {@link activityCounts}),
 *   `max` = 32 202 (ml-25m's most active user), capped at half the movies, and the exponent `a`
 *   solved by bisection so that the counts sum to the requested number of ratings; ranks are
 *   given to user ids by a seeded permutation;
 * - **movie popularity**, Zipf–Mandelbrot: the movie of popularity rank r is drawn with weight
 *   `(r + q)^(−s)`, s = 2.07 and q = 300 · nMovies / 59 047, fitted by hand so that the most
 *   popular movie takes ~0.33 % of the ratings (Forrest Gump's 81 491 in ml-25m) and the median
 *   movie a handful; each user's movies are drawn without replacement (rejection against a stamp
 *   array, or Efraimidis–Spirakis keys for users who rate more than 1/20 of the movies), and the
 *   movies are handed out in turn (each user rates ⌈remaining movies / remaining users⌉ of them
 *   first) so that every movie has a rating;
 * - **the rating distribution** of ml-25m exactly in expectation ({@link ML25M_RATING_COUNTS}):
 *   a latent score `bᵤ + bᵢ + ε` (normal user and movie effects and noise, variances 0.25, 0.25,
 *   0.5, total 1) is mapped through the standard normal CDF onto the published cumulative shares,
 *   so ratings carry learnable user and movie effects and keep MovieLens's marginal distribution.
 *
 * Memory: O(users + movies) — the ratings are written as they are drawn, one user at a time.
 */
import * as fs from 'node:fs';
import { RandomState } from '../random';

/**
 * Number of ratings of each value 0.5, 1, 1.5, …, 5 in ml-25m's `ratings.csv` (they sum to
 * 25 000 095). Counted from the file by several public analyses of MovieLens 25M; the shares are
 * these counts / 25 000 095 (e.g. 4.0: 26.6 %, 3.0: 19.6 %, 0.5: 1.6 %).
 */
export const ML25M_RATING_COUNTS: readonly number[] = [
  393_068, 776_815, 399_490, 1_640_868, 1_262_797, 4_896_928, 3_177_318, 6_639_798, 2_200_539,
  3_612_474,
];

/** ml-25m's size: ratings, users, movies with ratings, movies in the catalogue. */
export const ML25M_SHAPE = {
  ratings: 25_000_095,
  users: 162_541,
  ratedMovies: 59_047,
  catalogueMovies: 62_423,
} as const;

/** Options of {@link generateSynthetic}. */
export interface SyntheticOptions {
  /** Number of ratings, ≥ 20 · users. Default ml-25m's 25 000 095. */
  ratings?: number;
  /**
   * Number of users, ≥ 1. Default: ml-25m's 162 541 scaled by ratings / 25 000 095 (ml-25m's mean
   * of 153.8 ratings per user), at least 1.
   */
  users?: number;
  /** Number of movies that get ratings, ≥ 40. Default ml-25m's 59 047. */
  movies?: number;
  /** Seed of the Mersenne Twister (0…2^32 − 1). Default 0. */
  seed?: number;
  /**
   * Output format: `csv` (ml-25m's `ratings.csv`, header, `,`, ratings like `4.0`), `dat`
   * (ml-1m's `ratings.dat`, `::`) or `udata` (ml-100k's `u.data`, tabs). Default `csv`.
   */
  format?: 'csv' | 'dat' | 'udata';
}

/** What {@link generateSynthetic} wrote. */
export interface SyntheticSummary {
  ratings: number;
  users: number;
  /** Movies with at least one rating (= the `movies` option). */
  movies: number;
  /** Ratings per value 0.5, 1, …, 5 as written. */
  counts: number[];
  /** Largest number of ratings of one user. */
  maxUserRatings: number;
  /** The user-activity exponent solved for. */
  activityExponent: number;
  /** Bytes written. */
  bytes: number;
}

const MIN_PER_USER = 20;
const MAX_PER_USER = 32_202;
const POPULARITY_S = 2.07;
const POPULARITY_Q = 300;
/** ml-25m timestamps: 1995-01-09 … 2019-11-21 (seconds since 1970). */
const T0 = 789_652_009;
const T1 = 1_574_327_703;

/**
 * Writes a synthetic ml-25m-shaped ratings file (see the module documentation), streaming.
 *
 * @param out path of the file to write (created or truncated).
 * @throws RangeError for counts out of range (naming the option and the range).
 */
export function generateSynthetic(out: string, opts: SyntheticOptions = {}): SyntheticSummary {
  const nRatings = opts.ratings ?? ML25M_SHAPE.ratings;
  const nMovies = opts.movies ?? ML25M_SHAPE.ratedMovies;
  const nUsers =
    opts.users ?? Math.max(1, Math.round((ML25M_SHAPE.users * nRatings) / ML25M_SHAPE.ratings));
  const format = opts.format ?? 'csv';
  if (!Number.isInteger(nMovies) || nMovies < 2 * MIN_PER_USER || nMovies > 2 ** 24) {
    throw new RangeError(
      `movies must be a whole number in ${2 * MIN_PER_USER}…2^24, got ${nMovies}`,
    );
  }
  if (!Number.isInteger(nUsers) || nUsers < 1 || nUsers > 2 ** 24) {
    throw new RangeError(`users must be a whole number in 1…2^24, got ${nUsers}`);
  }
  const maxPer = Math.min(MAX_PER_USER, Math.floor(nMovies / 2));
  if (
    !Number.isInteger(nRatings) ||
    nRatings < MIN_PER_USER * nUsers ||
    nRatings > maxPer * nUsers
  ) {
    throw new RangeError(
      `ratings must be a whole number in ${MIN_PER_USER * nUsers}…${maxPer * nUsers} ` +
        `(${MIN_PER_USER}…${maxPer} per user for ${nUsers} users), got ${nRatings}`,
    );
  }
  if (!['csv', 'dat', 'udata'].includes(format)) {
    throw new RangeError(`format must be csv, dat or udata, got ${String(format)}`);
  }
  const rng = new RandomState(opts.seed ?? 0);

  // User activity: counts by rank, then ranks to user ids by a permutation.
  const { counts: byRank, exponent } = activityCounts(nUsers, nRatings, maxPer);
  const rankOfUser = permutation(nUsers, rng);
  // Movie popularity: cumulative weights by rank; rank → movie id by a permutation of the
  // catalogue slots, ids spread over 1…~209 171 like ml-25m's sparse movieIds.
  const q = (POPULARITY_Q * nMovies) / ML25M_SHAPE.ratedMovies;
  const cum = new Float64Array(nMovies);
  const weight = new Float64Array(nMovies);
  let acc = 0;
  for (let r = 0; r < nMovies; r++) {
    weight[r] = Math.pow(r + 1 + q, -POPULARITY_S);
    acc += weight[r];
    cum[r] = acc;
  }
  const slotOfRank = permutation(nMovies, rng);
  const movieId = new Int32Array(nMovies);
  const spread = 209_171 / ML25M_SHAPE.catalogueMovies;
  for (let r = 0; r < nMovies; r++) movieId[r] = 1 + Math.floor(slotOfRank[r] * spread);
  // Effects: user and movie biases for the latent score.
  const movieEffect = new Float64Array(nMovies);
  for (let r = 0; r < nMovies; r++) movieEffect[r] = rng.normal(0, 0.5);
  const cutoffs = ratingCutoffs();

  const fd = fs.openSync(out, 'w');
  const sep = format === 'csv' ? ',' : format === 'dat' ? '::' : '\t';
  let buf = format === 'csv' ? 'userId,movieId,rating,timestamp\n' : '';
  let bytes = 0;
  const flush = (force: boolean) => {
    if (buf.length > (force ? 0 : 1 << 20)) {
      bytes += fs.writeSync(fd, buf);
      buf = '';
    }
  };
  const stamp = new Int32Array(nMovies).fill(-1);
  const chosen = new Int32Array(maxPer);
  const written = new Array<number>(10).fill(0);
  let maxUser = 0;
  let cover = 0; // next movie rank that must get a rating
  try {
    for (let u = 0; u < nUsers; u++) {
      const k = byRank[rankOfUser[u]];
      maxUser = Math.max(maxUser, k);
      let m = 0;
      // every movie gets a rating: the remaining ones spread over the remaining users
      const covers = Math.min(k, Math.ceil((nMovies - cover) / (nUsers - u)));
      while (m < covers) {
        chosen[m++] = cover;
        stamp[cover++] = u;
      }
      if (k > nMovies / 20) {
        m = weightedWithoutReplacement(weight, k, rng, stamp, u, chosen, m);
      } else {
        while (m < k) {
          const r = drawRank(cum, rng.random() * acc);
          if (stamp[r] !== u) {
            stamp[r] = u;
            chosen[m++] = r;
          }
        }
      }
      const ids = Array.from(chosen.subarray(0, m), (r) => r).sort(
        (a, b) => movieId[a] - movieId[b],
      );
      const userEffect = rng.normal(0, 0.5);
      const start = T0 + rng.random() * (T1 - T0) * 0.9;
      const span = rng.random() * (T1 - start);
      const uid = String(u + 1);
      for (const r of ids) {
        const z = userEffect + movieEffect[r] + rng.normal(0, Math.SQRT1_2);
        const c = normalCdf(z);
        let v = 0;
        while (v < 9 && c > cutoffs[v]) v++;
        written[v]++;
        const value = (v + 1) / 2;
        const rating = format === 'csv' ? value.toFixed(1) : String(value);
        const t = Math.floor(start + rng.random() * span);
        buf += `${uid}${sep}${movieId[r]}${sep}${rating}${sep}${t}\n`;
      }
      flush(false);
    }
    flush(true);
  } finally {
    fs.closeSync(fd);
  }
  return {
    ratings: nRatings,
    users: nUsers,
    movies: nMovies,
    counts: written,
    maxUserRatings: maxUser,
    activityExponent: exponent,
    bytes,
  };
}

/** Upper cumulative shares of ratings 0.5 … 4.5 (the last category takes the rest). */
function ratingCutoffs(): Float64Array {
  const total = ML25M_RATING_COUNTS.reduce((a, b) => a + b, 0);
  const out = new Float64Array(9);
  let acc = 0;
  for (let v = 0; v < 9; v++) {
    acc += ML25M_RATING_COUNTS[v];
    out[v] = acc / total;
  }
  return out;
}

/**
 * Ratings per user by activity rank r = 1…n: `20 + (max − 20) · (r^(−a) − n^(−a)) / (1 − n^(−a))`
 * floored (rank 1 rates `max`, rank n rates 20, as ml-25m's least active users), `a` found by
 * bisection so that the sum is `total`, and the remainder added one by one from rank 1 (never
 * above `max`).
 */
export function activityCounts(
  nUsers: number,
  total: number,
  max: number,
): { counts: Int32Array; exponent: number } {
  const at = (r: number, a: number) => {
    const tail = nUsers ** -a;
    const x = nUsers === 1 ? 1 : (r ** -a - tail) / (1 - tail);
    return Math.floor(MIN_PER_USER + (max - MIN_PER_USER) * x);
  };
  const sumFor = (a: number) => {
    let s = 0;
    for (let r = 1; r <= nUsers; r++) s += at(r, a);
    return s;
  };
  let lo = 1e-9;
  let hi = 50;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (sumFor(mid) > total) lo = mid;
    else hi = mid;
  }
  const a = hi;
  const counts = new Int32Array(nUsers);
  let s = 0;
  for (let r = 0; r < nUsers; r++) {
    counts[r] = at(r + 1, a);
    s += counts[r];
  }
  for (let r = 0; s < total; r = (r + 1) % nUsers) {
    if (counts[r] < max) {
      counts[r]++;
      s++;
    }
  }
  return { counts, exponent: a };
}

/** A seeded Fisher–Yates permutation of 0…n−1. */
function permutation(n: number, rng: RandomState): Int32Array {
  const p = new Int32Array(n);
  for (let k = 0; k < n; k++) p[k] = k;
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(rng.random() * (k + 1));
    const t = p[k];
    p[k] = p[j];
    p[j] = t;
  }
  return p;
}

/** The first rank whose cumulative weight exceeds `x` (binary search). */
function drawRank(cum: Float64Array, x: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Adds movies to `chosen[m…k)` drawn without replacement with probability ∝ weight
 * (Efraimidis & Spirakis 2006: the k largest keys `ln(U) / w`), skipping those stamped `u`.
 * @returns the new count (k).
 */
function weightedWithoutReplacement(
  weight: Float64Array,
  k: number,
  rng: RandomState,
  stamp: Int32Array,
  u: number,
  chosen: Int32Array,
  m: number,
): number {
  const n = weight.length;
  const keys = new Float64Array(n);
  const idx: number[] = [];
  for (let r = 0; r < n; r++) {
    if (stamp[r] === u) continue;
    keys[r] = Math.log(1 - rng.random()) / weight[r];
    idx.push(r);
  }
  idx.sort((a, b) => keys[b] - keys[a]);
  for (let j = 0; m < k; j++) {
    stamp[idx[j]] = u;
    chosen[m++] = idx[j];
  }
  return m;
}

/** Φ(z), the standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e−8). */
function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989422804014327 * Math.exp((-z * z) / 2);
  const p =
    d *
    t *
    (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return z >= 0 ? 1 - p : p;
}
