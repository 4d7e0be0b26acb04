/**
 * The synthetic ml-25m-shaped generator: exact sizes, MovieLens's invariants (≥ 20 ratings per
 * user, one rating per pair, sorted by user then movie, every movie rated), the published rating
 * distribution, power-law activity and popularity, and determinism by seed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Reader } from '../../src/engine/dataset';
import {
  ML25M_RATING_COUNTS,
  activityCounts,
  generateSynthetic,
} from '../../src/engine/dataset/synthetic';

const SEED = 4242;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synthetic-'));
  process.stdout.write(`seed ${SEED}\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const csv = new Reader({
  lineFormat: 'user item rating timestamp',
  sep: ',',
  skipLines: 1,
  ratingScale: [0.5, 5],
  extraFields: 'reject',
});

describe('generateSynthetic', () => {
  it('writes exactly the requested ratings, users and movies, with MovieLens invariants', () => {
    const file = path.join(dir, 'a.csv');
    const s = generateSynthetic(file, { ratings: 200_000, movies: 3_000, seed: SEED });
    expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe('userId,movieId,rating,timestamp');
    const raw = csv.parseFile(file);
    expect(raw.length).toBe(200_000);
    // ml-25m's 153.8 ratings per user: 162 541 × 200 000 / 25 000 095 = 1300.3 users
    expect(s.users).toBe(1300);
    const perUser = new Map<string, number>();
    const pairs = new Set<string>();
    const movies = new Set<string>();
    let sorted = true;
    for (let k = 0; k < raw.length; k++) {
      const u = raw.users[k];
      perUser.set(u, (perUser.get(u) ?? 0) + 1);
      pairs.add(`${u} ${raw.items[k]}`);
      movies.add(raw.items[k]);
      if (k > 0) {
        const du = Number(u) - Number(raw.users[k - 1]);
        if (du < 0 || (du === 0 && Number(raw.items[k]) <= Number(raw.items[k - 1])))
          sorted = false;
      }
      if (!Number.isInteger(raw.ratings[k] * 2)) sorted = false;
    }
    expect(perUser.size).toBe(1300);
    expect(Math.min(...perUser.values())).toBeGreaterThanOrEqual(20);
    expect(Math.max(...perUser.values())).toBe(s.maxUserRatings);
    expect(s.maxUserRatings).toBeLessThanOrEqual(1_500); // half the movies
    expect(pairs.size).toBe(200_000);
    expect(movies.size).toBe(3_000);
    expect(sorted).toBe(true);
    // timestamps within ml-25m's span (1995-01-09 … 2019-11-21)
    expect(raw.timestamps!.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(789_652_009);
    expect(raw.timestamps!.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(1_574_327_703);

    // the rating distribution of ml-25m: each share within 2.5 points of the published one
    const total = ML25M_RATING_COUNTS.reduce((a, b) => a + b, 0);
    expect(total).toBe(25_000_095);
    const counts = new Array<number>(10).fill(0);
    for (const r of raw.ratings) counts[r * 2 - 1]++;
    expect(counts).toEqual(s.counts);
    counts.forEach((c, v) =>
      expect(Math.abs(c / 200_000 - ML25M_RATING_COUNTS[v] / total)).toBeLessThan(0.025),
    );

    // power laws: the top 10 % of users hold far more than 10 % of the ratings, and the most
    // popular movie ~0.3 % … 3 % (Zipf–Mandelbrot with q scaled to 3 000 movies)
    const activity = [...perUser.values()].sort((a, b) => b - a);
    const top10 = activity.slice(0, 130).reduce((a, b) => a + b, 0);
    expect(top10 / 200_000).toBeGreaterThan(0.3);
    const perMovie = new Map<string, number>();
    for (const i of raw.items) perMovie.set(i, (perMovie.get(i) ?? 0) + 1);
    const maxMovie = Math.max(...perMovie.values());
    expect(maxMovie / 200_000).toBeGreaterThan(0.003);
    expect(maxMovie / 200_000).toBeLessThan(0.03);
  });

  it('writes the same bytes for the same seed and other bytes for another seed; other formats parse alike', () => {
    const a = path.join(dir, 'b1.csv');
    const b = path.join(dir, 'b2.csv');
    const c = path.join(dir, 'b3.csv');
    generateSynthetic(a, { ratings: 30_000, movies: 500, seed: 1 });
    generateSynthetic(b, { ratings: 30_000, movies: 500, seed: 1 });
    generateSynthetic(c, { ratings: 30_000, movies: 500, seed: 2 });
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    expect(fs.readFileSync(a).equals(fs.readFileSync(c))).toBe(false);
    const d = path.join(dir, 'b.dat');
    generateSynthetic(d, { ratings: 30_000, movies: 500, seed: 1, format: 'dat' });
    const fromDat = Reader.builtin('ml-1m');
    const x = csv.parseFile(a);
    const y = new Reader({
      lineFormat: 'user item rating timestamp',
      sep: '::',
      ratingScale: [0.5, 5],
    }).parseFile(d);
    expect(fromDat.sep).toBe('::');
    expect([...y.ratings]).toEqual([...x.ratings]);
    expect([...y.items]).toEqual([...x.items]);
  });

  it('solves the activity exponent so that the counts sum exactly (ml-25m: a ≈ 0.44), from 32 202 down to 20', () => {
    const { counts, exponent } = activityCounts(162_541, 25_000_095, 32_202);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(25_000_095);
    expect(counts[0]).toBe(32_202);
    expect(counts[162_540]).toBe(20);
    expect(exponent).toBeGreaterThan(0.4);
    expect(exponent).toBeLessThan(0.5);
  });

  it('refuses sizes it cannot honour, naming the option and the range', () => {
    expect(() => generateSynthetic(path.join(dir, 'x'), { ratings: 100, users: 10 })).toThrow(
      'ratings must be a whole number in 200…',
    );
    expect(() => generateSynthetic(path.join(dir, 'x'), { ratings: 1000, movies: 10 })).toThrow(
      'movies must be a whole number in 40…',
    );
  });
});
