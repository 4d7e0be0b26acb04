/**
 * `reelgraph evaluate`, run as a real child process. The ml-100k figures asserted are Surprise
 * 1.1.4's (BaselineOnly ALS on the predefined folds u1…u5: RMSE 0.9457, MAE 0.7499).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { EvaluateJson } from '../../src/cli/commands/evaluate';
import { BaselineOnly } from '../../src/engine/algorithms';
import { Dataset, Reader } from '../../src/engine/dataset';
import { readModelFile } from '../../src/engine/model-file';

let tmp: string;
let ratingsFile: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-evaluate-'));
  // 8 users × 12 items, a header line, tab-separated, half-star scale: rating depends on u and i
  const lines = ['userId\tmovieId\trating\ttimestamp'];
  for (let u = 1; u <= 8; u++) {
    for (let i = 1; i <= 12; i++) {
      if ((u + i) % 3 === 0) continue;
      lines.push(`${u}\t${i}\t${0.5 + ((u * 7 + i * 3) % 10) / 2}\t${1000 + u * 100 + i}`);
    }
  }
  ratingsFile = path.join(tmp, 'ratings.tsv');
  fs.writeFileSync(ratingsFile, lines.join('\n') + '\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Lines of stdout, split into cells on runs of 2+ spaces. */
const cells = (line: string) => line.trim().split(/\s{2,}/);

describe('reelgraph evaluate', () => {
  it('--help documents every option', async () => {
    const r = await runCli(['evaluate', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--algo',
      '--dataset',
      '--format',
      '--sep',
      '--skip-lines',
      '--rating-scale',
      '--cv',
      '--folds',
      '--seed',
      '--param',
      '--measures',
      '--json',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    expect(r.stdout).toMatch(/Algorithms: .*BaselineOnly.*SVD/);
  });

  it("prints Surprise's table for BaselineOnly on ml-100k's predefined folds, progress on stderr", async () => {
    const r = await runCli(['evaluate', '--algo', 'BaselineOnly', '--folds', 'predefined']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Evaluating RMSE, MAE of algorithm BaselineOnly on 5 split(s).');
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe(
      '                  Fold 1  Fold 2  Fold 3  Fold 4  Fold 5  Mean    Std     ',
    );
    const rmse = cells(lines[3]);
    const mae = cells(lines[4]);
    expect(rmse[0]).toBe('RMSE (testset)');
    expect(mae[0]).toBe('MAE (testset)');
    expect(rmse[6]).toBe('0.9457'); // Surprise 1.1.4: 0.9457
    expect(mae[6]).toBe('0.7499'); // Surprise 1.1.4: 0.7499
    expect(cells(lines[5])[0]).toBe('Fit time');
    expect(cells(lines[6])[0]).toBe('Test time');
    expect(cells(lines[5])).toHaveLength(8);
    // not a TTY: one plain line when each fold starts and ends
    expect(r.stderr).toContain('fold 1/5: fitting on 80000 ratings, testing on 20000');
    expect(r.stderr).toMatch(/fold 5\/5: RMSE 0\.\d{4}, MAE 0\.\d{4} \(fit \d+\.\d\d s/);
  });

  it('--json prints one object with per-fold and mean figures', async () => {
    const r = await runCli([
      'evaluate',
      '--dataset',
      ratingsFile,
      '--format',
      'user item rating timestamp',
      '--sep',
      '\\t',
      '--skip-lines',
      '1',
      '--rating-scale',
      '0.5,5',
      '--algo',
      'BaselineOnly',
      '--param',
      'bslOptions.method=sgd',
      '--cv',
      '3',
      '--seed',
      '1',
      '--measures',
      'RMSE,mae,fcp',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvaluateJson;
    expect(out.algorithm).toBe('BaselineOnly');
    expect((out.params.bslOptions as Record<string, unknown>).method).toBe('sgd');
    expect(out.dataset).toBe(ratingsFile);
    expect(out.nRatings).toBe(64); // 96 pairs minus the 32 with (u + i) divisible by 3
    expect(out).toMatchObject({ folds: 'random', nSplits: 3, seed: 1 });
    expect(out.measures).toEqual(['rmse', 'mae', 'fcp']);
    expect(out.perFold.map((f) => [f.fold, f.nTest, f.nTrain])).toEqual([
      [1, 22, 42],
      [2, 21, 43],
      [3, 21, 43],
    ]);
    for (const m of ['rmse', 'mae', 'fcp', 'fitTime', 'testTime'] as const) {
      const values = out.perFold.map((f) => f[m]!);
      const mu = values.reduce((s, v) => s + v, 0) / 3;
      expect(out.mean[m]).toBeCloseTo(mu, 12);
      expect(out.std[m]).toBeCloseTo(
        Math.sqrt(values.reduce((s, v) => s + (v - mu) ** 2, 0) / 3),
        12,
      );
    }
    // ratings on [0.5, 5]: errors are bounded by the scale
    for (const f of out.perFold) expect(f.rmse! > 0 && f.rmse! < 4.5).toBe(true);
    // same seed, same folds and figures
    const again = await runCli([
      'evaluate',
      '--dataset',
      ratingsFile,
      '--sep',
      'tab',
      '--skip-lines',
      '1',
      '--rating-scale',
      '0.5,5',
      '--algo',
      'BaselineOnly',
      '--param',
      'bslOptions.method=sgd',
      '--cv',
      '3',
      '--seed',
      '1',
      '--measures',
      'rmse,mae,fcp',
      '--json',
    ]);
    const out2 = JSON.parse(again.stdout) as EvaluateJson;
    expect(out2.perFold.map((f) => f.rmse)).toEqual(out.perFold.map((f) => f.rmse));
  });

  it('records the seed it drew when --seed is not given; --seed with that value replays the run', async () => {
    const args = ['evaluate', '--dataset', ratingsFile, '--sep', 'tab', '--skip-lines', '1'];
    args.push('--rating-scale', '0.5,5', '--algo', 'SVD', '--param', 'nEpochs=3', '--cv', '3');
    const first = await runCli([...args, '--json']);
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout) as EvaluateJson;
    expect(Number.isInteger(out.seed)).toBe(true);
    expect(first.stderr).toContain(`seed ${out.seed} (drawn; --seed ${out.seed} replays this run)`);
    // the seed also went to the algorithm (SVD's randomState), not only to KFold
    expect(out.params.randomState).toBe(out.seed);
    const replay = await runCli([...args, '--seed', String(out.seed), '--json', '--quiet']);
    const again = JSON.parse(replay.stdout) as EvaluateJson;
    expect(again.seed).toBe(out.seed);
    expect(again.perFold.map((f) => [f.nTrain, f.rmse, f.mae])).toEqual(
      out.perFold.map((f) => [f.nTrain, f.rmse, f.mae]),
    );
  });

  it('--save writes the model fitted on the whole data set, which loads back in code', async () => {
    const out = path.join(tmp, 'saved.rgm');
    const r = await runCli([
      'evaluate',
      '--dataset',
      ratingsFile,
      '--sep',
      'tab',
      '--skip-lines',
      '1',
      '--rating-scale',
      '0.5,5',
      '--algo',
      'BaselineOnly',
      '--cv',
      '3',
      '--seed',
      '2',
      '--save',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`saved BaselineOnly fitted on all 64 ratings to ${out}`);
    const algo = readModelFile(out);
    const own = new BaselineOnly().fit(
      Dataset.loadFromFile(
        ratingsFile,
        new Reader({
          lineFormat: 'user item rating timestamp',
          sep: '\t',
          skipLines: 1,
          ratingScale: [0.5, 5],
        }),
      ).buildFullTrainset(),
    );
    for (const [u, i] of [
      ['1', '1'],
      ['3', '12'],
      ['9', '9'],
    ]) {
      expect(algo.predict(u, i).est).toBe(own.predict(u, i).est);
    }
    const predefined = await runCli(['evaluate', '--folds', 'predefined', '--save', out]);
    expect(predefined.code).toBe(2);
    expect(predefined.stderr).toContain(
      '--save fits on the whole data set: not with --folds predefined',
    );
  });

  it.each([
    [['--algo', 'Nope'], /^error: unknown algorithm 'Nope'; expected one of: .*SVD/],
    [['--algo', 'SVD', '--param', 'nFactor=3'], /^error: unknown parameter 'nFactor' for SVD/],
    [['--param', 'nFactors=abc'], /^error: parameter 'nFactors' of SVD must be a number/],
    [['--cv', '1'], /--cv must be a whole number in \[2,/],
    [['--folds', 'both'], /argument 'both' is invalid. Allowed choices are random, predefined/],
    [
      ['--dataset', 'ml-1m', '--folds', 'predefined'],
      /^error: --folds predefined needs --dataset ml-100k/,
    ],
    [['--folds', 'predefined', '--cv', '3'], /^error: --cv 3 conflicts with --folds predefined/],
    [
      ['--dataset', '/no/such/file.csv'],
      /^error: --dataset '\/no\/such\/file.csv' is neither a built-in/,
    ],
    [
      ['--dataset', 'ml-100k', '--sep', ','],
      /^error: --sep applies only to a ratings file; ml-100k is read with its own format/,
    ],
    [['--measures', 'rmse,ndcg'], /^error: unknown measure 'ndcg'/],
  ])('usage error %j → exit 2, one line', async (args, message) => {
    const r = await runCli(['evaluate', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--cv above the number of ratings is a usage error (exit 2) found after loading', async () => {
    // the fixture: 8 users × 12 items minus the 4 items per user with (u + i) % 3 = 0 → 64 ratings
    const args = ['evaluate', '--dataset', ratingsFile, '--sep', 'tab', '--skip-lines', '1'];
    const r = await runCli([...args, '--rating-scale', '0.5,5', '--cv', '65', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `error: --cv 65 is more than the number of ratings in ${ratingsFile} (64): expected a whole number in [2, 64]`,
    );
  });

  it('a malformed ratings file is a failure (exit 1) naming the file and line, no stack', async () => {
    const bad = path.join(tmp, 'bad.csv');
    fs.writeFileSync(bad, '1,1,4\n1,2,x\n');
    const r = await runCli(['evaluate', '--dataset', bad, '--sep', ',']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*bad\.csv:2: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a data set that cannot be found or downloaded is a failure (exit 1)', async () => {
    const r = await runCli(['evaluate', '--quiet'], {
      REELGRAPH_DATASETS: path.join(tmp, 'empty'),
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
      REELGRAPH_DATASETS_URL: 'http://127.0.0.1:9', // discard port: nothing listens
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Data set ml-100k was not found/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
