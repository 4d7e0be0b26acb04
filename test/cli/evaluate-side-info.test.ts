/**
 * `reelgraph evaluate --algo BayesianFM` with catalogue files (`--users`, `--movies`), run as a
 * real child process: the figures equal an in-process cross-validation of the engine on the same
 * folds with the same attributes, differ without them, and a malformed catalogue file is refused
 * naming the file, the line and the field (exit 1).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';
import type { EvaluateJson } from '../../src/cli/commands/evaluate';
import { BayesianFM } from '../../src/engine/algorithms';
import { Dataset } from '../../src/engine/dataset/dataset';
import { Reader } from '../../src/engine/dataset/reader';
import { parseCatalogueCsv } from '../../src/engine/dataset/side-info';
import { crossValidate } from '../../src/engine/model-selection/validation';
import { KFold } from '../../src/engine/model-selection/split';

let tmp: string;
const files = { ratings: '', users: '', movies: '', bad: '' };
const USERS =
  'userId,age,gender,occupation\n' +
  Array.from(
    { length: 12 },
    (_, u) => `${u + 1},${20 + u * 3},${u % 2 ? 'F' : 'M'},${u % 3 ? 'writer' : 'artist'}`,
  ).join('\n') +
  '\n';
const MOVIES =
  'movieId,title,genres,year\n' +
  Array.from(
    { length: 10 },
    (_, i) => `${i + 1},"Movie ${i + 1}, The",${i % 2 ? 'Comedy' : 'Drama|War'},${1970 + i * 5}`,
  ).join('\n') +
  '\n';
const PARAMS = [
  '--param',
  'nFactors=2',
  '--param',
  'nSamples=5',
  '--param',
  'burnIn=2',
  '--param',
  'nStoredSamples=3',
];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-evaluate-side-'));
  const lines: string[] = [];
  for (let u = 1; u <= 12; u++) {
    for (let i = 1; i <= 10; i++) {
      if ((u * i) % 4 === 1) continue;
      lines.push(`${u}\t${i}\t${1 + ((u * 5 + i * 3 + (u % 2) * 2) % 5)}`);
    }
  }
  files.ratings = path.join(tmp, 'ratings.tsv');
  fs.writeFileSync(files.ratings, lines.join('\n') + '\n');
  files.users = path.join(tmp, 'users.csv');
  fs.writeFileSync(files.users, USERS);
  files.movies = path.join(tmp, 'movies.csv');
  fs.writeFileSync(files.movies, MOVIES);
  files.bad = path.join(tmp, 'bad-users.csv');
  fs.writeFileSync(files.bad, 'userId,age\n1,30\n2,thirty\n');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const args = (...extra: string[]) => [
  'evaluate',
  '--algo',
  'BayesianFM',
  '--dataset',
  files.ratings,
  '--cv',
  '3',
  '--seed',
  '4',
  ...PARAMS,
  '--json',
  '--quiet',
  ...extra,
];

describe('reelgraph evaluate --algo BayesianFM with catalogue files', () => {
  it('gives the figures of the engine cross-validating on the same folds with the same attributes', async () => {
    const r = await runCli(args('--users', files.users, '--movies', files.movies));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as EvaluateJson;
    const data = Dataset.loadFromFile(files.ratings, new Reader()).withSideInfo({
      users: parseCatalogueCsv(USERS, 'users.csv', 'users'),
      items: parseCatalogueCsv(MOVIES, 'movies.csv', 'movies'),
    });
    const own = crossValidate(
      () =>
        new BayesianFM({ nFactors: 2, nSamples: 5, burnIn: 2, nStoredSamples: 3, randomState: 4 }),
      data,
      { cv: new KFold({ nSplits: 3, randomState: 4 }), measures: ['rmse', 'mae'] },
    );
    expect(json.perFold.map((f) => f.rmse)).toEqual(own.testRmse);
    expect(json.perFold.map((f) => f.mae)).toEqual(own.testMae);

    const without = JSON.parse((await runCli(args())).stdout) as EvaluateJson;
    expect(without.perFold.map((f) => f.rmse)).not.toEqual(json.perFold.map((f) => f.rmse));
  });

  it('refuses a malformed catalogue file naming the file, the line and the field', async () => {
    const r = await runCli(args('--users', files.bad));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${files.bad}:3: field age is "thirty", expected a whole number 0…150 or nothing`,
    );
    expect(r.stdout).toBe('');
  });
});
