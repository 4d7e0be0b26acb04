/**
 * `reelgraph compare --top-n`, run as a real child process on a small synthetic ratings file.
 *
 * The expected figures are computed here independently: the same seeded KFold splits, a fresh
 * algorithm fitted per fold, its test predictions, and a tiny implementation of the FAQ protocol
 * in this file (each user's test items sorted by estimate, stably; precision/recall as Surprise's
 * FAQ; binary NDCG@k; hit = a relevant recommended item), averaged over users, then folds
 * (population std over folds).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import '../../src/engine/algorithms';
import { createAlgorithm } from '../../src/engine/algorithms/registry';
import type { CompareJson } from '../../src/cli/report/compare-report';
import {
  compareAlgorithms,
  formatFixed,
  KFold,
  type FoldPredictions,
} from '../../src/engine/model-selection';
import { measureFunctions } from '../../src/engine/metrics';
import { avg, faqFigures, KEYS, sd, type Figures } from '../helpers/faq-top-n';
import { datasetOf, syntheticRows, writeCsv } from '../helpers/synthetic-ratings';

const rows = syntheticRows(5, 40, 30, 0.4);
const SEED = 5;
const K = 3;
const THRESHOLD = 3.5;
const ALGOS: [string, Record<string, unknown>][] = [
  ['BaselineOnly', {}],
  ['NormalPredictor', { randomState: SEED }], // --seed also seeds algorithms that have one
];

let tmp: string;
let file: string;
/** Per algorithm: the figures of each fold, and their means and stds. */
const expected: Record<string, { perFold: Figures[]; mean: Figures; std: Figures }> = {};

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-compare-topn-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
  const data = datasetOf(rows);
  for (const [name, params] of ALGOS) {
    const perFold: Figures[] = [];
    for (const [trainset, testset] of new KFold({ nSplits: 3, randomState: SEED }).split(data)) {
      const algo = createAlgorithm(name, params).fit(trainset);
      perFold.push(faqFigures(algo.test(testset), K, THRESHOLD));
    }
    const mean = {} as Figures;
    const std = {} as Figures;
    for (const key of KEYS) {
      mean[key] = avg(perFold.map((f) => f[key]));
      std[key] = sd(perFold.map((f) => f[key]));
    }
    expected[name] = { perFold, mean, std };
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

describe('reelgraph compare --top-n', () => {
  it('the expected figures are not degenerate (the test can tell algorithms apart)', () => {
    const b = expected.BaselineOnly.mean;
    const n = expected.NormalPredictor.mean;
    for (const key of KEYS) {
      expect(b[key]).toBeGreaterThan(0);
      expect(b[key]).toBeLessThan(1);
    }
    expect(Math.abs(b.ndcg - n.ndcg)).toBeGreaterThan(1e-3);
    expect(Math.abs(b.precision - n.precision)).toBeGreaterThan(1e-3);
  });

  it('--json: per-fold figures, mean and std over folds, equal to the independent computation', async () => {
    const r = await runCli([...base(), '--top-n', String(K), '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as CompareJson;
    expect(doc.run.topN).toEqual({ k: K, threshold: THRESHOLD });
    expect(doc.algorithms.map((a) => a.algorithm)).toEqual(['BaselineOnly', 'NormalPredictor']);
    for (const a of doc.algorithms) {
      const want = expected[a.algorithm];
      const topN = a.topN!;
      expect(topN.perFold.map((f) => f.fold)).toEqual([1, 2, 3]);
      for (let k = 0; k < 3; k++) {
        for (const key of KEYS) expect(topN.perFold[k][key]).toBeCloseTo(want.perFold[k][key], 12);
      }
      for (const key of KEYS) {
        expect(topN.mean[key]).toBeCloseTo(want.mean[key], 12);
        expect(topN.std[key]).toBeCloseTo(want.std[key], 12);
      }
      // nUsers: the distinct users of each fold's testset.
      expect(topN.perFold[0].nUsers).toBeGreaterThan(30);
    }
  });

  it('--top-n without a value means k = 10; --threshold changes relevance', async () => {
    const r = await runCli([...base(), '--top-n', '--threshold', '4', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as CompareJson;
    expect(doc.run.topN).toEqual({ k: 10, threshold: 4 });
    const data = datasetOf(rows);
    const folds = [...new KFold({ nSplits: 3, randomState: SEED }).split(data)];
    const bsl = doc.algorithms.find((a) => a.algorithm === 'BaselineOnly')!;
    const want = avg(
      folds.map(([trainset, testset]) => {
        const algo = createAlgorithm('BaselineOnly', {}).fit(trainset);
        return faqFigures(algo.test(testset), 10, 4).recall;
      }),
    );
    expect(bsl.topN!.mean.recall).toBeCloseTo(want, 12);
  });

  it('prints the figures in the table and draws a chart per figure in the report', async () => {
    const out = path.join(tmp, 'report.html');
    const r = await runCli([...base(), '--top-n', String(K), '--out', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(cells(lines[0])).toEqual([
      'Algorithm',
      'RMSE',
      'MAE',
      'Prec@3',
      'Recall@3',
      'NDCG@3',
      'Hit@3',
      'Fit (s)',
      'Test (s)',
    ]);
    for (const line of lines.slice(1, 3)) {
      const c = cells(line);
      const want = expected[c[0]].mean;
      expect(c.slice(3, 7)).toEqual(KEYS.map((key) => formatFixed(want[key], 4)));
    }
    expect(r.stdout).toMatch(/Top-3: each user's test items ranked by estimate/);
    // Progress lines carry the fold's top-N figures.
    const f1 = expected.NormalPredictor.perFold[0];
    expect(r.stderr).toContain(`[1/2] NormalPredictor fold 1/3: RMSE `);
    expect(r.stderr).toContain(
      `Prec@3 ${formatFixed(f1.precision, 4)}, Recall@3 ${formatFixed(f1.recall, 4)}`,
    );

    const html = fs.readFileSync(out, 'utf8');
    // RMSE, MAE, and the 4 top-N figures × (against time, per fold).
    expect((html.match(/<svg/g) ?? []).length).toBe(12);
    for (const title of ['Precision@3', 'Recall@3', 'NDCG@3', 'Hit rate@3']) {
      expect(html).toContain(`<figure aria-label="${title} against time">`);
      expect(html).toContain(`<figure aria-label="${title} per fold">`);
    }
    const b = expected.BaselineOnly;
    expect(html).toContain(
      `<td>${formatFixed(b.mean.ndcg, 4)} ± ${formatFixed(b.std.ndcg, 4)}</td>`,
    );
    expect(html).toContain(`<td>${formatFixed(b.perFold[2].precision, 4)}</td>`);
    expect(html).toContain('<th>NDCG@3 (mean ± std)</th>');
    expect(html).toMatch(/<dt>Top-N<\/dt><dd>precision@3, recall@3, NDCG@3, hit rate@3: /);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('without --top-n nothing changes: no top-N columns, JSON topN null', async () => {
    const r = await runCli([...base(), '--json', '--quiet']);
    const doc = JSON.parse(r.stdout) as CompareJson;
    expect(doc.run.topN).toBeNull();
    expect(doc.algorithms.every((a) => a.topN === undefined)).toBe(true);
  });

  it.each([
    [
      ['--top-n', '0'],
      /option '--top-n \[k\]' argument '0' is invalid\. --top-n must be a whole number in \[1, /,
    ],
    [['--top-n', 'ten'], /option '--top-n \[k\]' argument 'ten' is invalid/],
    [['--top-n', '2.5'], /--top-n must be a whole number/],
    [
      ['--top-n', '--threshold', 'high'],
      /argument 'high' is invalid\. --threshold must be a rating, a finite number/,
    ],
    [['--threshold', '4'], /^error: --threshold applies only with --top-n \[k\]$/],
    [
      ['--top-n', '--threshold', '6'],
      /^error: --threshold 6 is outside the rating scale \[1, 5\]: expected a rating within it$/,
    ],
  ])('usage error %j → exit 2, one line', async (args, message) => {
    const r = await runCli([...base(), '--quiet', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help explains --top-n and --threshold', async () => {
    const r = await runCli(['compare', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--top-n \[k\]\s+also rank each user's test items by estimate/);
    expect(r.stdout).toMatch(/--threshold <rating>\s+with --top-n: true rating/);
    expect(r.stdout).toContain('--top-n 10 --threshold 4');
    expect(r.stdout).toMatch(/Top-N \(--top-n \[k\], --threshold <rating>; defaults 10 and 3\.5/);
    expect(r.stdout).not.toContain('preset');
  });
});

describe('compareAlgorithms onPredictions', () => {
  it('hands over the very predictions each fold is measured on (no second fit)', () => {
    const data = datasetOf(rows);
    const seen: (FoldPredictions & { algorithm: string })[] = [];
    let fits = 0;
    const results = compareAlgorithms([{ name: 'BaselineOnly' }], data, {
      measures: ['rmse'],
      cv: new KFold({ nSplits: 3, randomState: SEED }),
      onProgress: (p) => {
        if (p.phase === 'fit') fits++;
      },
      onPredictions: (p) => seen.push(p),
    });
    expect(fits).toBe(3);
    expect(seen.map((s) => [s.algorithm, s.fold, s.nSplits])).toEqual([
      ['BaselineOnly', 1, 3],
      ['BaselineOnly', 2, 3],
      ['BaselineOnly', 3, 3],
    ]);
    // The RMSE of each fold is that of the predictions handed over.
    expect(seen.map((s) => measureFunctions.rmse(s.predictions))).toEqual(results[0].testRmse);
    expect(seen.map((s) => s.predictions.length)).toEqual(results[0].nTest);
  });
});
