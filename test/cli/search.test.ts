/**
 * `reelgraph search`, run as a real child process on a small hand-made ratings file: its ranked
 * results equal the engine's GridSearchCV run in-process on the same data, folds (KFold, seed 1)
 * and per-candidate seed; a randomized search samples --n-iter candidates; bad grids are usage
 * errors naming the problem. (`--apply` is exercised against a real server in
 * test/server/own-data.test.ts.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { SearchJson } from '../../src/cli/commands/search';
import '../../src/engine/algorithms';
import { Dataset, Reader } from '../../src/engine/dataset';
import { GridSearchCV, KFold } from '../../src/engine/model-selection';

let tmp: string;
let file: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-search-'));
  const lines = ['userId\tmovieId\trating\ttimestamp'];
  for (let u = 1; u <= 8; u++) {
    for (let i = 1; i <= 12; i++) {
      if ((u + i) % 3 === 0) continue;
      lines.push(`${u}\t${i}\t${1 + ((u * 7 + i * 3) % 5)}\t${1000 + u * 100 + i}`);
    }
  }
  file = path.join(tmp, 'ratings.tsv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DATA = ['--dataset', '', '--sep', 'tab', '--skip-lines', '1', '--cv', '3', '--seed', '1'];
const data = () => DATA.map((a) => (a === '' ? file : a));

test('ranks the grid as the engine GridSearchCV does on the same folds and seeds', async () => {
  const grid = { nFactors: [2, 4], nEpochs: [3, 6] };
  const r = await runCli([
    'search',
    ...data(),
    '--algo',
    'SVD',
    '--grid',
    JSON.stringify(grid),
    '--json',
  ]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('candidate 4/4 {"nFactors":4,"nEpochs":6}: fold 3/3 RMSE');
  const out = JSON.parse(r.stdout) as SearchJson;
  expect(out).toMatchObject({ algorithm: 'SVD', seed: 1, nSplits: 3, measures: ['rmse', 'mae'] });

  const reader = new Reader({ lineFormat: 'user item rating', sep: '\t', skipLines: 1 });
  const own = new GridSearchCV(
    'SVD',
    { ...grid, randomState: [1] },
    { cv: new KFold({ nSplits: 3, randomState: 1 }), measures: ['rmse', 'mae'] },
  ).fit(Dataset.loadFromFile(file, reader));
  const means = own.cvResults.meanTestRmse as number[];
  const expected = own.paramCombinations
    .map((p, k) => ({ p, rmse: means[k] }))
    .sort((a, b) => a.rmse - b.rmse);
  expect(out.candidates.map((c) => [c.params, c.mean.rmse])).toEqual(
    expected.map(({ p, rmse }) => [{ nFactors: p.nFactors, nEpochs: p.nEpochs }, rmse]),
  );
  expect(out.candidates.map((c) => c.rank)).toEqual([1, 2, 3, 4]);
  expect(out.best).toEqual({
    measure: 'rmse',
    params: out.candidates[0].params,
    score: expected[0].rmse,
  });

  const table = await runCli(['search', ...data(), '--grid', JSON.stringify(grid), '--quiet']);
  expect(table.code).toBe(0);
  expect(table.stdout.split('\n')[0]).toMatch(/^RANK\s+PARAMS\s+RMSE\s+MAE\s+STD\s+FIT TIME$/);
  expect(table.stdout).toContain(`best by RMSE: ${JSON.stringify(out.best.params)}`);
});

test('--randomized samples --n-iter candidates from lists and distributions', async () => {
  const r = await runCli([
    'search',
    ...data(),
    '--grid',
    '{"nFactors": [2, 4], "lrAll": {"uniform": [0.001, 0.01]}}',
    '--randomized',
    '--n-iter',
    '3',
    '--json',
    '--quiet',
  ]);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as SearchJson;
  expect(out.candidates).toHaveLength(3);
  for (const c of out.candidates) {
    expect([2, 4]).toContain(c.params.nFactors);
    expect(c.params.lrAll as number).toBeGreaterThanOrEqual(0.001);
    expect(c.params.lrAll as number).toBeLessThan(0.01);
  }
});

test.each([
  [['--grid', '{nFactors: [1]}'], /--grid is not JSON/],
  [['--grid', '{"nFactor": [1]}'], /unknown parameter 'nFactor' for SVD/],
  [['--grid', '{"lrAll": {"uniform": [0, 1]}}'], /--grid lrAll: a distribution needs --randomized/],
  [['--grid', '[1]'], /--grid must be an object of parameter → list of values/],
])('usage error %j → exit 2, one line', async (args, message) => {
  const r = await runCli(['search', ...data(), ...args]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
});
