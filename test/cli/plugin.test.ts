/**
 * Custom algorithms in the CLI: the ItemMean plugin (test/fixtures/plugins/item-mean.js) loaded
 * with `--plugin` or REELGRAPH_PLUGINS, evaluated and compared like a built-in. Expected RMSEs are
 * computed here from the algorithm's formula over the same KFold indices.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { EvaluateJson } from '../../src/cli/commands/evaluate';
import type { CompareJson } from '../../src/cli/report/compare-report';
import { syntheticRows, writeCsv } from '../helpers/synthetic-ratings';
import { itemMeanRmse } from '../helpers/item-mean-reference';
import { layInput, runReelgraph } from '../workers/helpers';

const PLUGIN = path.resolve(__dirname, '../fixtures/plugins/item-mean.js');
const rows = syntheticRows(8, 30, 20, 0.5);
let tmp: string;
let file: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-plugin-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const data = () => [
  '--dataset',
  file,
  '--sep',
  ',',
  '--skip-lines',
  '1',
  '--cv',
  '3',
  '--seed',
  '4',
];

describe('custom algorithms in the CLI', () => {
  it('reelgraph --plugin <file> evaluate --algo ItemMean', async () => {
    const r = await runCli([
      '--plugin',
      PLUGIN,
      'evaluate',
      '--algo',
      'ItemMean',
      '--param',
      'shrinkage=2',
      ...data(),
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as EvaluateJson;
    expect(doc.algorithm).toBe('ItemMean');
    expect(doc.params).toEqual({ shrinkage: 2 });
    const expected = itemMeanRmse(rows, 2, 3, 4);
    doc.perFold.forEach((f, k) => expect(f.rmse!).toBeCloseTo(expected[k], 12));
  });

  it('REELGRAPH_PLUGINS + compare, beside a built-in', async () => {
    const r = await runCli(
      ['compare', '--algos', 'ItemMean,BaselineOnly', ...data(), '--json', '--quiet'],
      { REELGRAPH_PLUGINS: path.relative(path.resolve(__dirname, '../..'), PLUGIN) },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as CompareJson;
    const mine = doc.algorithms.find((a) => a.algorithm === 'ItemMean')!;
    const expected = itemMeanRmse(rows, 0, 3, 4);
    mine.perFold.forEach((f, k) => expect(f.rmse!).toBeCloseTo(expected[k], 12));
  });

  it('the train and predict pipeline programs fit and serve it by name from their env', async () => {
    const root = path.join(tmp, 'pfs');
    // training repo: one batch file, lines "user movie rating"
    layInput(root, 'training', {
      '/base/ratings.txt': rows.map((r) => `${r[0]} ${r[1]} ${r[2]}`).join('\n') + '\n',
    });
    const env = {
      REELGRAPH_PFS_ROOT: root,
      REELGRAPH_ALGO: 'ItemMean',
      REELGRAPH_PARAMS: '{"shrinkage": 1}',
      REELGRAPH_PLUGINS: PLUGIN,
    };
    const train = await runReelgraph(['worker', 'train'], env);
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'out', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ algorithm: 'ItemMean', params: { shrinkage: 1 } });

    // predict with that model: est = (Σ r + 1·μ) / (n + 1) over all the ratings of the item
    const predictRoot = path.join(tmp, 'pfs-predict');
    layInput(predictRoot, 'train', {
      '/model.rgm': fs.readFileSync(path.join(root, 'out', 'model.rgm')),
    });
    layInput(predictRoot, 'streaming', { '/q': 'u0 i3\nu5 i7\n' });
    const predict = await runReelgraph(['worker', 'predict'], {
      REELGRAPH_PFS_ROOT: predictRoot,
      REELGRAPH_PLUGINS: PLUGIN,
    });
    expect(predict.stderr).toBe('');
    expect(predict.code).toBe(0);
    const mu = rows.reduce((s, r) => s + r[2], 0) / rows.length;
    const est = (item: string) => {
      const rs = rows.filter((r) => r[1] === item).map((r) => r[2]);
      return (rs.reduce((a, b) => a + b, 0) + mu) / (rs.length + 1);
    };
    const answers = fs
      .readFileSync(path.join(predictRoot, 'out', 'q'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(answers.map((a) => a.slice(0, 2))).toEqual([
      ['u0', 'i3'],
      ['u5', 'i7'],
    ]);
    expect(Number(answers[0][2])).toBeCloseTo(est('i3'), 12);
    expect(Number(answers[1][2])).toBeCloseTo(est('i7'), 12);
  });

  it('a plugin that cannot be found is a one-line usage error (exit 2) naming it', async () => {
    const r = await runCli(['--plugin', './no-such-plugin.js', 'evaluate', '--algo', 'SVD']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: plugin '\.\/no-such-plugin\.js' not found/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without the plugin, the name is unknown (exit 2)', async () => {
    const r = await runCli(['evaluate', '--algo', 'ItemMean', ...data()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown algorithm 'ItemMean'/);
  });
});
