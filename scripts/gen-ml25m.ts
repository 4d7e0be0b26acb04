/**
 * `npm run gen:ml25m -- --out FILE [--ratings N] [--users N] [--movies N] [--seed S]
 * [--format csv|dat|udata]`: writes a synthetic ratings file shaped like MovieLens 25M (see
 * src/engine/dataset/synthetic.ts). Defaults: ml-25m's 25 000 095 ratings, 162 541 users and 59 047
 * movies, seed 0, `ratings.csv` format. Example: 1M ratings on 10 000 movies:
 * `npm run gen:ml25m -- --out /tmp/r1m.csv --ratings 1000000 --movies 10000`.
 * Never commit the output (it is data, ~650 MB at full size).
 */
import { parseArgs } from 'node:util';
import { generateSynthetic } from '../src/engine/dataset/synthetic';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    ratings: { type: 'string' },
    users: { type: 'string' },
    movies: { type: 'string' },
    seed: { type: 'string' },
    format: { type: 'string' },
  },
});
if (!values.out) {
  process.stderr.write(
    'usage: npm run gen:ml25m -- --out FILE [--ratings N] [--users N] [--movies N] [--seed S] [--format csv|dat|udata]\n',
  );
  process.exit(2);
}
const num = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} ${JSON.stringify(v)}: expected a whole number\n`);
    process.exit(2);
  }
  return n;
};
const seed = num('seed', values.seed) ?? 0;
const t0 = Date.now();
const s = generateSynthetic(values.out, {
  ratings: num('ratings', values.ratings),
  users: num('users', values.users),
  movies: num('movies', values.movies),
  seed,
  format: values.format as 'csv' | 'dat' | 'udata' | undefined,
});
process.stdout.write(
  `wrote ${values.out}: ${s.ratings} ratings, ${s.users} users, ${s.movies} movies, seed ${seed}, ` +
    `${(s.bytes / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
    `most active user ${s.maxUserRatings} ratings (activity exponent ${s.activityExponent.toFixed(3)}); ` +
    `ratings 0.5…5: ${s.counts.join(' ')}\n`,
);
