/**
 * `reelgraph recommend --all-users`, run as a real child process on a small ratings file:
 * MostPopular's lists are recomputed here from the definition (interaction counts, ties by first
 * appearance, each user's rated movies left out).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { EASE, saveRanker } from '../../src/engine/rankers';
import { Trainset } from '../../src/engine/trainset';
import { runCli } from './run-cli';

let tmp: string;
let ratingsFile: string;
// user, movie, rating: movie popularity m1 4, m2 3, m3 2, m4 1, m5 1
const ROWS: [string, string, number][] = [
  ['a', 'm1', 5],
  ['b', 'm1', 4],
  ['c', 'm1', 3],
  ['d', 'm1', 2],
  ['a', 'm2', 4],
  ['b', 'm2', 5],
  ['c', 'm2', 1],
  ['c', 'm3', 2],
  ['d', 'm3', 3],
  ['b', 'm4', 4],
  ['d', 'm5', 5],
];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-recommend-'));
  ratingsFile = path.join(tmp, 'ratings.csv');
  fs.writeFileSync(ratingsFile, ROWS.map((r) => r.join(',')).join('\n') + '\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const fileArgs = () => ['--dataset', ratingsFile, '--format', 'user item rating', '--sep', ','];

describe('reelgraph recommend --all-users', () => {
  it("writes every user's top N of unrated movies, by popularity, to --out", async () => {
    const out = path.join(tmp, 'top.tsv');
    const r = await runCli([
      'recommend',
      '--all-users',
      '--ranker',
      'MostPopular',
      '--first',
      '2',
      '--out',
      out,
      ...fileArgs(),
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // a rated m1, m2 → m3 (2), m4 (1; before m5: seen first); b rated m1, m2, m4 → m3, m5;
    // c rated m1, m2, m3 → m4, m5; d rated m1, m3, m5 → m2, m4.
    expect(fs.readFileSync(out, 'utf8')).toBe(
      [
        'a\t1\tm3\t2',
        'a\t2\tm4\t1',
        'b\t1\tm3\t2',
        'b\t2\tm5\t1',
        'c\t1\tm4\t1',
        'c\t2\tm5\t1',
        'd\t1\tm2\t3',
        'd\t2\tm4\t1',
        '',
      ].join('\n'),
    );
  });

  it('ranks with a ranker file as it ranks once loaded, and reports progress on stderr', async () => {
    const raw = new RawRatings(
      ROWS.map((x) => x[0]),
      ROWS.map((x) => x[1]),
      Float64Array.from(ROWS.map((x) => x[2])),
    );
    const ease = new EASE({ lambda: 1 }).fit(Trainset.build(raw, [1, 5]));
    const file = path.join(tmp, 'ranker.rgr');
    fs.writeFileSync(file, saveRanker(ease));
    const r = await runCli(['recommend', '--all-users', '--ranker-file', file, '--first', '3']);
    expect(r.code).toBe(0);
    const want = ['a', 'b', 'c', 'd'].flatMap((u) =>
      ease.rank(u, 3).items.map((it, p) => `${u}\t${p + 1}\t${it.iid}\t${it.score}`),
    );
    expect(r.stdout).toBe(want.join('\n') + '\n');
    expect(r.stderr).toMatch(/4\/4 users/);
  });

  it('refuses to run without --all-users, with exit code 2', async () => {
    const r = await runCli(['recommend', ...fileArgs()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/recommend needs --all-users/);
  });
});
