/**
 * `reelgraph compare`, run as a real child process on a small synthetic ratings file, with two
 * fast algorithms. The expected figures come from crossValidate run in this process on the same
 * ratings and the same seeded KFold; the report is checked for its charts, its table values and
 * the absence of any outside reference.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import '../../src/engine/algorithms';
import type { CompareJson } from '../../src/cli/report/compare-report';
import {
  crossValidate,
  formatFixed,
  KFold,
  type CrossValidateResult,
} from '../../src/engine/model-selection';
import { datasetOf, syntheticRows, writeCsv } from '../helpers/synthetic-ratings';

let tmp: string;
let file: string;
const rows = syntheticRows(5, 40, 30, 0.4);
const SEED = 5;
let expected: Record<string, CrossValidateResult>;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-compare-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
  const data = datasetOf(rows);
  expected = {};
  for (const [name, params] of [
    ['BaselineOnly', {}],
    ['NormalPredictor', { randomState: SEED }], // --seed also seeds algorithms that have one
  ] as const) {
    expected[name] = crossValidate({ name, params }, data, {
      measures: ['rmse', 'mae'],
      cv: new KFold({ nSplits: 3, randomState: SEED }),
    });
  }
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const base = () => [
  'compare',
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
  '--algos',
  'NormalPredictor,BaselineOnly',
];

const cells = (line: string) => line.trim().split(/\s{2,}/);

describe('reelgraph compare', () => {
  it('prints the table ranked by RMSE and writes a self-contained HTML report', async () => {
    const out = path.join(tmp, 'report.html');
    const r = await runCli([...base(), '--out', out]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(cells(lines[0])).toEqual(['Algorithm', 'RMSE', 'MAE', 'Fit (s)', 'Test (s)']);
    // BaselineOnly beats NormalPredictor: first line.
    const bsl = expected.BaselineOnly;
    const np = expected.NormalPredictor;
    expect(bsl.mean.testRmse!).toBeLessThan(np.mean.testRmse!);
    expect(cells(lines[1]).slice(0, 3)).toEqual([
      'BaselineOnly',
      formatFixed(bsl.mean.testRmse!, 4),
      formatFixed(bsl.mean.testMae!, 4),
    ]);
    expect(cells(lines[2]).slice(0, 3)).toEqual([
      'NormalPredictor',
      formatFixed(np.mean.testRmse!, 4),
      formatFixed(np.mean.testMae!, 4),
    ]);
    expect(cells(lines[1])[3]).toMatch(/^\d+\.\d\d$/);
    expect(r.stdout).toContain('Means over 3 folds');
    // Progress on stderr, one line per fold (not a TTY).
    expect(r.stderr).toMatch(/\[1\/2\] NormalPredictor fold 1\/3: RMSE \d\.\d{4}, MAE \d\.\d{4}/);
    expect(r.stderr).toMatch(/\[2\/2\] BaselineOnly fold 3\/3/);

    const html = fs.readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg/g) ?? []).length).toBe(4); // RMSE, MAE × (vs time, per fold)
    for (const res of [bsl, np]) {
      expect(html).toContain(
        `${formatFixed(res.mean.testRmse!, 4)} ± ${formatFixed(res.std.testRmse!, 4)}`,
      );
      expect(html).toContain(`<td>${formatFixed(res.testRmse![2], 4)}</td>`);
    }
    expect(html).toContain(`${rows.length} ratings`);
    expect(html).toContain('3-fold KFold, seed 5');
    // Nothing from elsewhere: no URL, script, stylesheet link, image or font source.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|url\(/i);
  });

  it('--json prints run details and per-fold figures, best first', async () => {
    const r = await runCli([...base(), '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as CompareJson;
    expect(doc.run).toMatchObject({
      dataset: file,
      nRatings: rows.length,
      folds: 'random',
      nSplits: 3,
      seed: SEED,
      measures: ['rmse', 'mae'],
    });
    expect(doc.algorithms.map((a) => a.algorithm)).toEqual(['BaselineOnly', 'NormalPredictor']);
    const [bsl] = doc.algorithms;
    expect(bsl.perFold.map((f) => f.rmse)).toEqual(expected.BaselineOnly.testRmse);
    expect(bsl.mean.mae).toBe(expected.BaselineOnly.mean.testMae);
    expect(bsl.params).toEqual(expected.BaselineOnly.params);
  });

  it('--param reaches one algorithm', async () => {
    const r = await runCli([
      ...base(),
      '--param',
      'BaselineOnly.bslOptions.method=sgd',
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as CompareJson;
    const bsl = doc.algorithms.find((a) => a.algorithm === 'BaselineOnly')!;
    expect((bsl.params.bslOptions as { method: string }).method).toBe('sgd');
  });

  it.each([
    [['--algos', 'Nope'], /^error: unknown algorithm 'Nope'; expected one of: .*BaselineOnly/],
    [['--algos', 'BaselineOnly', '--param', 'SVD.nFactors=3'], /is for SVD, which is not compared/],
    [['--param', 'nFactors=3'], /must name its algorithm: Algo\.name=value/],
    [['--algos', 'SVD', '--param', 'SVD.nFactor=3'], /unknown parameter 'nFactor' for SVD/],
    [['--algos', 'SVD,SVD'], /--algos lists SVD twice/],
    [['--out', '/no/such/dir/report.html'], /--out '\/no\/such\/dir\/report\.html': directory/],
    [['--measures', 'rmse,auc'], /unknown measure 'auc'/],
  ])('usage error %j → exit 2, one line', async (args, message) => {
    const r = await runCli([
      'compare',
      '--dataset',
      file,
      '--sep',
      ',',
      '--skip-lines',
      '1',
      ...args,
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--cv above the number of ratings is a usage error (exit 2) found after loading', async () => {
    const n = rows.length;
    const r = await runCli([
      'compare',
      '--dataset',
      file,
      '--sep',
      ',',
      '--skip-lines',
      '1',
      '--cv',
      String(n + 1),
      '--quiet',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `error: --cv ${n + 1} is more than the number of ratings in ${file} (${n}): expected a whole number in [2, ${n}]`,
    );
  });

  it('--help lists the options and the default algorithms', async () => {
    const r = await runCli(['compare', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--algos',
      '--dataset',
      '--cv',
      '--folds',
      '--seed',
      '--param',
      '--out',
      '--json',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toMatch(/Default: NormalPredictor, BaselineOnly, SVD/);
  });
});
