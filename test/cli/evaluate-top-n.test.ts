/**
 * `reelgraph evaluate --top-n`, run as a real child process, on a small synthetic ratings file and
 * on ml-100k's predefined folds u1…u5. The expected figures come from an independent
 * implementation of the FAQ protocol (test/helpers/faq-top-n.ts) on the predictions of a fresh
 * algorithm fitted per fold in this process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DATASETS, runCli } from './run-cli';
import '../../src/engine/algorithms';
import type { EvaluateJson } from '../../src/cli/commands/evaluate';
import { createAlgorithm } from '../../src/engine/algorithms/registry';
import { Dataset } from '../../src/engine/dataset';
import {
  formatFixed,
  KFold,
  PredefinedKFold,
  type SplitData,
  type Splitter,
} from '../../src/engine/model-selection';
import { avg, faqFigures, KEYS, sd, type Figures } from '../helpers/faq-top-n';
import { syntheticRows, datasetOf, writeCsv } from '../helpers/synthetic-ratings';

const rows = syntheticRows(7, 30, 25, 0.5);
let tmp: string;
let file: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-evaluate-topn-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Per-fold figures of `name` (default parameters) fitted on each split. */
function expectedFolds(
  name: string,
  data: SplitData,
  cv: Splitter,
  k: number,
  threshold: number,
): Figures[] {
  const out: Figures[] = [];
  for (const [trainset, testset] of cv.split(data)) {
    out.push(faqFigures(createAlgorithm(name, {}).fit(trainset).test(testset), k, threshold));
  }
  return out;
}

const cells = (line: string) => line.trim().split(/\s{2,}/);

describe('reelgraph evaluate --top-n', () => {
  const args = () => [
    'evaluate',
    '--algo',
    'BaselineOnly',
    '--dataset',
    file,
    '--sep',
    ',',
    '--skip-lines',
    '1',
    '--cv',
    '4',
    '--seed',
    '3',
    '--top-n',
    '4',
    '--threshold',
    '3',
  ];

  it('--json: k, threshold, per-fold figures and their mean and std', async () => {
    const r = await runCli([...args(), '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as EvaluateJson;
    const want = expectedFolds(
      'BaselineOnly',
      datasetOf(rows),
      new KFold({ nSplits: 4, randomState: 3 }),
      4,
      3,
    );
    const topN = doc.topN!;
    expect(topN.k).toBe(4);
    expect(topN.threshold).toBe(3);
    expect(topN.perFold).toHaveLength(4);
    for (const key of KEYS) {
      topN.perFold.forEach((f, k) => expect(f[key]).toBeCloseTo(want[k][key], 12));
      expect(topN.mean[key]).toBeCloseTo(avg(want.map((f) => f[key])), 12);
      expect(topN.std[key]).toBeCloseTo(sd(want.map((f) => f[key])), 12);
    }
  });

  it('the table gets Precision@k, Recall@k, NDCG@k and Hit rate@k rows before the times', async () => {
    const r = await runCli(args());
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const want = expectedFolds(
      'BaselineOnly',
      datasetOf(rows),
      new KFold({ nSplits: 4, randomState: 3 }),
      4,
      3,
    );
    expect(lines.slice(3, 11).map((l) => cells(l)[0])).toEqual([
      'RMSE (testset)',
      'MAE (testset)',
      'Precision@4',
      'Recall@4',
      'NDCG@4',
      'Hit rate@4',
      'Fit time',
      'Test time',
    ]);
    const ndcg = want.map((f) => f.ndcg);
    expect(cells(lines[7])).toEqual([
      'NDCG@4',
      ...ndcg.map((v) => formatFixed(v, 4)),
      formatFixed(avg(ndcg), 4),
      formatFixed(sd(ndcg), 4),
    ]);
    // Each finished fold's progress line ends with its top-N figures.
    expect(r.stderr).toContain(
      `Prec@4 ${formatFixed(want[0].precision, 4)}, Recall@4 ${formatFixed(want[0].recall, 4)}, ` +
        `NDCG@4 ${formatFixed(want[0].ndcg, 4)}, Hit@4 ${formatFixed(want[0].hitRate, 4)}`,
    );
  });

  it('BaselineOnly on ml-100k u1…u5: top 10 from 3.5 stars, as the independent computation', async () => {
    const r = await runCli([
      'evaluate',
      '--algo',
      'BaselineOnly',
      '--folds',
      'predefined',
      '--top-n',
      '--json',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as EvaluateJson;
    const data = await Dataset.loadPredefinedFolds('ml-100k', {
      datasetsDir: DATASETS,
      progress: false,
    });
    const want = expectedFolds('BaselineOnly', data, new PredefinedKFold(), 10, 3.5);
    expect(doc.topN!.k).toBe(10);
    expect(doc.topN!.threshold).toBe(3.5);
    for (const key of KEYS) {
      doc.topN!.perFold.forEach((f, k) => expect(f[key]).toBeCloseTo(want[k][key], 12));
    }
    // u1.test … u5.test each hold 20,000 ratings of (almost) every user.
    expect(doc.topN!.perFold.map((f) => f.nUsers).every((n) => n > 400 && n <= 943)).toBe(true);
    expect(doc.topN!.mean.precision).toBeGreaterThan(0.5);
  }, 60_000);

  it('without --top-n the JSON has no topN; --threshold alone is a usage error', async () => {
    const base = args().slice(0, -4);
    const r = await runCli([...base, '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as EvaluateJson).topN).toBeUndefined();
    const bad = await runCli([...base, '--threshold', '4']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim()).toBe('error: --threshold applies only with --top-n [k]');
    const help = await runCli(['evaluate', '--help']);
    expect(help.stdout).toMatch(/--top-n \[k\]/);
    expect(help.stdout).toMatch(/--threshold <rating>/);
  });
});
