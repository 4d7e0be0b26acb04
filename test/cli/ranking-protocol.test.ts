/**
 * `reelgraph evaluate|compare --protocol ranking`, run as real child processes on a small ratings
 * file. MostPopular's figures are recomputed here from the definitions (popularity counted on the
 * training part, top k of each user's unrated movies, Recommenders' formulas), independently of
 * src/engine/ranking-protocol.ts; the split is the engine's stratifiedSplit (tested on its own in
 * test/engine/ranking-protocol.test.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { stratifiedSplit } from '../../src/engine/model-selection/stratified-split';
import { RandomState } from '../../src/engine/random';
import { runCli } from './run-cli';

let tmp: string;
let ratingsFile: string;
const users: string[] = [];
const items: string[] = [];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-ranking-'));
  // 30 users × up to 25 movies; movie m is rated by a user with probability falling with m, so
  // popularity is informative. Seeded; the seed is printed.
  const seed = 2024;
  console.log(`ranking protocol CLI data: RandomState(${seed})`);
  const rng = new RandomState(seed);
  const lines: string[] = [];
  for (let u = 1; u <= 30; u++) {
    for (let m = 1; m <= 25; m++) {
      if (rng.random() < 0.8 - m / 40) {
        users.push(String(u));
        items.push(String(m));
        lines.push(`${u},${m},${1 + rng.randint(0, 5)}`);
      }
    }
  }
  ratingsFile = path.join(tmp, 'ratings.csv');
  fs.writeFileSync(ratingsFile, lines.join('\n') + '\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const fileArgs = () => ['--dataset', ratingsFile, '--format', 'user item rating', '--sep', ','];

/** MostPopular's figures from the definitions (see the file comment). */
function expectedMostPopular(k: number, seed: number, testSize: number) {
  const raw = new RawRatings(users, items, new Float64Array(users.length).fill(3));
  const s = stratifiedSplit(raw, { seed, testSize });
  const count = new Map<string, number>();
  const firstSeen: string[] = [];
  const ratedTrain = new Map<string, Set<string>>();
  for (const t of s.train) {
    if (!count.has(items[t])) firstSeen.push(items[t]);
    count.set(items[t], (count.get(items[t]) ?? 0) + 1);
    if (!ratedTrain.has(users[t])) ratedTrain.set(users[t], new Set());
    ratedTrain.get(users[t])!.add(items[t]);
  }
  // Popularity, ties by first appearance in the training part (the trainset's inner id order).
  const byPop = [...firstSeen].sort(
    (a, b) => count.get(b)! - count.get(a)! || firstSeen.indexOf(a) - firstSeen.indexOf(b),
  );
  const tests = new Map<string, Set<string>>();
  for (const t of s.test) {
    if (!ratedTrain.has(users[t])) continue;
    if (!tests.has(users[t])) tests.set(users[t], new Set());
    tests.get(users[t])!.add(items[t]);
  }
  let ndcg = 0;
  let map = 0;
  let precision = 0;
  let recall = 0;
  for (const [u, rel] of tests) {
    const top = byPop.filter((m) => !ratedTrain.get(u)!.has(m)).slice(0, k);
    let hits = 0;
    let dcg = 0;
    let ap = 0;
    top.forEach((m, p) => {
      if (!rel.has(m)) return;
      hits++;
      dcg += 1 / Math.log2(p + 2);
      ap += hits / (p + 1);
    });
    let idcg = 0;
    for (let p = 0; p < Math.min(k, rel.size); p++) idcg += 1 / Math.log2(p + 2);
    ndcg += dcg / idcg;
    map += ap / rel.size;
    precision += hits / k;
    recall += hits / rel.size;
  }
  const n = tests.size;
  return { ndcg: ndcg / n, map: map / n, precision: precision / n, recall: recall / n, n };
}

describe('reelgraph evaluate --protocol ranking', () => {
  it('prints the figures of the definitions for MostPopular as JSON, means at the top level', async () => {
    const r = await runCli([
      'evaluate',
      '--protocol',
      'ranking',
      '--algo',
      'MostPopular',
      ...fileArgs(),
      '--k',
      '5',
      '--seed',
      '7',
      '--test-size',
      '0.3',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, number | string>;
    const want = expectedMostPopular(5, 7, 0.3);
    expect(json.algorithm).toBe('MostPopular');
    expect(json.protocol).toBe('ranking');
    expect(json.nUsers).toBe(want.n);
    expect(json.ndcg).toBeCloseTo(want.ndcg, 10);
    expect(json.map).toBeCloseTo(want.map, 10);
    expect(json.precision).toBeCloseTo(want.precision, 10);
    expect(json.recall).toBeCloseTo(want.recall, 10);
    expect(json).toMatchObject({ k: 5, seed: 7, testSize: 0.3 });
  });

  it('--help writes out the definitions of the ranking protocol', async () => {
    const r = await runCli(['evaluate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--protocol <name>');
    expect(r.stdout).toContain('python_stratified_split');
    expect(r.stdout).toMatch(/nDCG@k = sum over hits of 1\/log\(1\+p\)/);
    expect(r.stdout).toMatch(/Rankers \(--protocol ranking only\): EASE, iALS, BPR, ItemKNN/);
  });

  it('refuses the FAQ --top-n, --cv and ranking options out of place, with exit code 2', async () => {
    const withTopN = await runCli([
      'evaluate',
      '--protocol',
      'ranking',
      '--top-n',
      '5',
      ...fileArgs(),
    ]);
    expect(withTopN.code).toBe(2);
    expect(withTopN.stderr).toMatch(/--top-n is Surprise's FAQ protocol/);
    const withCv = await runCli(['evaluate', '--protocol', 'ranking', '--cv', '3', ...fileArgs()]);
    expect(withCv.code).toBe(2);
    expect(withCv.stderr).toMatch(/--cv and --folds apply to cross-validation/);
    const kAlone = await runCli(['evaluate', '--k', '5', ...fileArgs()]);
    expect(kAlone.code).toBe(2);
    expect(kAlone.stderr).toMatch(/apply only with --protocol ranking/);
    const badSize = await runCli(['evaluate', '--protocol', 'ranking', '--test-size', '1']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/--test-size must be a fraction in \(0, 1\)/);
  });
});

describe('reelgraph compare --protocol ranking', () => {
  it('measures rankers and rating models on the same split and lists, best nDCG first', async () => {
    const r = await runCli([
      'compare',
      '--protocol',
      'ranking',
      '--algos',
      'MostPopular,EASE,BaselineOnly',
      '--param',
      'EASE.lambda=10',
      ...fileArgs(),
      '--k',
      '5',
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      seed: number;
      results: Array<Record<string, number | string | Record<string, unknown>>>;
    };
    expect(json.seed).toBe(42);
    expect(json.results.map((x) => x.algorithm)).toEqual(['MostPopular', 'EASE', 'BaselineOnly']);
    const want = expectedMostPopular(5, 42, 0.25);
    expect(json.results[0].ndcg).toBeCloseTo(want.ndcg, 10);
    for (const x of json.results) expect(x.nUsers).toBe(want.n);
    expect((json.results[1].params as Record<string, unknown>).lambda).toBe(10);

    const table = await runCli([
      'compare',
      '--protocol',
      'ranking',
      '--algos',
      'MostPopular,EASE',
      ...fileArgs(),
      '--quiet',
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Algorithm\s+nDCG@10\s+MAP\s+Prec@10\s+Recall@10\s+Hit@10\s+Coverage/,
    );
    const ndcgs = lines.slice(1, 3).map((l) => Number(l.trim().split(/\s{2,}/)[1]));
    expect(ndcgs[0]).toBeGreaterThanOrEqual(ndcgs[1]);
  });

  it('writes the HTML report with --out: the same figures as --json, best nDCG first', async () => {
    const out = path.join(tmp, 'ranking.html');
    const args = ['compare', '--protocol', 'ranking', '--algos', 'EASE,MostPopular'];
    const r = await runCli([
      ...args,
      '--param',
      'EASE.lambda=10',
      ...fileArgs(),
      '--k',
      '5',
      '--out',
      out,
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      results: Array<{ algorithm: string; ndcg: number; map: number }>;
    };
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    // self-contained: no script, no external reference
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    expect((html.match(/<svg/g) ?? []).length).toBe(2); // nDCG and MAP against time
    const rows = [
      ...html.matchAll(
        /<tr[^>]*><td class="name">(\d+)<\/td><td class="name">([^<]+)<\/td><td>([\d.]+)<\/td><td>([\d.]+)<\/td>/g,
      ),
    ];
    const byNdcg = [...json.results].sort((a, b) => b.ndcg - a.ndcg);
    expect(rows.map((m) => m[2])).toEqual(byNdcg.map((x) => x.algorithm));
    rows.forEach((m, i) => {
      expect(m[1]).toBe(String(i + 1));
      expect(m[3]).toBe(byNdcg[i].ndcg.toFixed(4));
      expect(m[4]).toBe(byNdcg[i].map.toFixed(4));
    });

    const missing = await runCli([
      ...args,
      ...fileArgs(),
      '--out',
      path.join(tmp, 'no/such/dir/r.html'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out '.*r\.html': directory .* does not exist/);
  });

  it('refuses a parameter for a model it does not compare, naming the models', async () => {
    const r = await runCli([
      'compare',
      '--protocol',
      'ranking',
      '--algos',
      'MostPopular',
      '--param',
      'EASE.lambda=3',
      ...fileArgs(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is for EASE, which is not compared \(MostPopular\)/);
  });
});
