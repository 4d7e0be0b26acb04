/**
 * `reelgraph compare --workers N`, run as a real child process on a small synthetic ratings file:
 * the folds on a pool of worker threads give the same report as one after the other in the
 * command's own thread (`--workers 1`): same algorithms in the same order, same per-fold and
 * mean measures and top-N figures to the last digit — only the times, the date and the command
 * line differ. Progress reports every finished fold; bad values are usage errors.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { CompareJson } from '../../src/cli/report/compare-report';
import { syntheticRows, writeCsv } from '../helpers/synthetic-ratings';

const SEED = 13;
const rows = syntheticRows(SEED, 50, 35, 0.4);
let tmp: string;
let file: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-compare-workers-'));
  file = path.join(tmp, 'ratings.csv');
  writeCsv(file, rows);
  console.log(`compare-workers: synthetic ratings seed ${SEED}, ${rows.length} ratings`);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ALGOS = 'BaselineOnly,KNNBasic,SVD,SlopeOne,CoClustering';
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
  ALGOS,
  '--param',
  'SVD.nEpochs=5',
  '--top-n',
  '5',
];

/** The JSON without what may differ between runs: times, date, command, worker count. */
function withoutTimes(doc: CompareJson): unknown {
  const { date: _d, command: _c, workers: _w, ...run } = doc.run;
  return {
    run,
    algorithms: doc.algorithms.map((a) => ({
      ...a,
      perFold: a.perFold.map(({ fitTime: _f, testTime: _t, ...f }) => f),
      mean: { ...a.mean, fitTime: undefined, testTime: undefined },
      std: { ...a.std, fitTime: undefined, testTime: undefined },
    })),
  };
}

describe('reelgraph compare --workers', () => {
  it('answers the same --json with 2 workers as with 1 (sequential), to the last digit', async () => {
    const [one, two] = await Promise.all([
      runCli([...base(), '--workers', '1', '--json', '--quiet']),
      runCli([...base(), '--workers', '2', '--json', '--quiet']),
    ]);
    expect(one.stderr).toBe('');
    expect(two.stderr).toBe('');
    expect([one.code, two.code]).toEqual([0, 0]);
    const a = JSON.parse(one.stdout) as CompareJson;
    const b = JSON.parse(two.stdout) as CompareJson;
    expect([a.run.workers, b.run.workers]).toEqual([1, 2]);
    expect(withoutTimes(b)).toEqual(withoutTimes(a));
    // the comparison is not between empty or equal rows
    expect(a.algorithms.map((x) => x.algorithm).sort()).toEqual(ALGOS.split(',').sort());
    expect(new Set(a.algorithms.map((x) => x.mean.rmse)).size).toBe(5);
    expect(a.algorithms.every((x) => x.perFold.length === 3 && x.topN!.perFold.length === 3)).toBe(
      true,
    );
  }, 120_000);

  it('reports every finished fold on stderr, then the same table', async () => {
    const r = await runCli([...base(), '--workers', '2']);
    expect(r.code).toBe(0);
    const foldLines = r.stderr
      .split('\n')
      .filter((l) => /^\[\d\/5\] \w+ fold \d\/3: RMSE /.test(l));
    expect(foldLines).toHaveLength(15);
    for (const name of ALGOS.split(',')) {
      const folds = foldLines
        .filter((l) => l.includes(`] ${name} fold`))
        .map((l) => /fold (\d)\/3/.exec(l)![1])
        .sort();
      expect(folds).toEqual(['1', '2', '3']);
    }
    expect(r.stderr).toMatch(/3-fold KFold, 2 workers/);
    expect(r.stdout.split('\n')[0]).toMatch(/^Algorithm\s+RMSE\s+MAE\s+Prec@5/);
  }, 120_000);

  it('takes REELGRAPH_WORKERS when --workers is absent', async () => {
    const r = await runCli([...base(), '--json', '--quiet'], { REELGRAPH_WORKERS: '1' });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as CompareJson).run.workers).toBe(1);
  }, 120_000);

  it.each([
    [['--workers', '0'], {}, /--workers must be a whole number in \[1, 256\], got '0'/],
    [['--workers', 'two'], {}, /--workers must be a whole number in \[1, 256\], got 'two'/],
    [['--workers', '1.5'], {}, /got '1\.5'/],
    [[], { REELGRAPH_WORKERS: 'many' }, /REELGRAPH_WORKERS must be a whole number .* got 'many'/],
  ])('usage error %j %j → exit 2, one line, nothing run', async (args, env, message) => {
    const r = await runCli([...base(), ...args], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help documents --workers', async () => {
    const r = await runCli(['compare', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--workers <n>\s+folds fitted at the same time/);
    expect(r.stdout).toMatch(/REELGRAPH_WORKERS,\s+else the number of cores/);
  });
});
