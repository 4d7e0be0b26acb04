/**
 * `reelgraph search --workers N`, run as a real child process on a small synthetic ratings file:
 * every (candidate, fold) pair on a pool of worker threads gives the same ranked candidates, the
 * same means and stds and the same best parameters as one after the other (`--workers 1`), to the
 * last digit — only the fit times differ. Progress reports every finished fold.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { SearchJson } from '../../src/cli/commands/search';
import { syntheticRows, writeCsv } from '../helpers/synthetic-ratings';

const SEED = 21;
const rows = syntheticRows(SEED, 45, 30, 0.4);
let tmp: string;
let file: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-search-workers-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
  console.log(`search-workers: synthetic ratings seed ${SEED}, ${rows.length} ratings`);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const args = () => [
  'search',
  '--dataset',
  file,
  '--sep',
  ',',
  '--skip-lines',
  '1',
  '--cv',
  '3',
  '--seed',
  String(SEED),
  '--algo',
  'SVD',
  '--grid',
  JSON.stringify({ nFactors: [2, 6], lrAll: [0.005, 0.02], nEpochs: [4] }),
];

const withoutTimes = (doc: SearchJson) => ({
  ...doc,
  candidates: doc.candidates.map(({ fitTime: _f, ...c }) => c),
});

test('answers the same search with 2 workers as with 1 (sequential), to the last digit', async () => {
  const [one, two] = await Promise.all([
    runCli([...args(), '--workers', '1', '--json', '--quiet']),
    runCli([...args(), '--workers', '2', '--json', '--quiet']),
  ]);
  expect([one.code, two.code, one.stderr, two.stderr]).toEqual([0, 0, '', '']);
  const a = JSON.parse(one.stdout) as SearchJson;
  const b = JSON.parse(two.stdout) as SearchJson;
  expect(withoutTimes(b)).toEqual(withoutTimes(a));
  // four candidates with four different scores: the comparison is not between equal rows
  expect(new Set(a.candidates.map((c) => c.mean.rmse)).size).toBe(4);
}, 120_000);

test('reports every finished fold of every candidate with --workers 2', async () => {
  const r = await runCli([...args(), '--workers', '2']);
  expect(r.code).toBe(0);
  const lines = r.stderr.split('\n').filter((l) => /^candidate \d\/4 .*: fold \d\/3 RMSE/.test(l));
  expect(lines).toHaveLength(12);
  expect(r.stderr).toMatch(/3 folds, 2 workers/);
}, 120_000);
