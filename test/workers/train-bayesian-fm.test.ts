/**
 * The train pipeline with side information: `reelgraph worker train` (a real child process over a
 * temporary /pfs layout) reads the catalogue files `/movies/*.csv` and `/users/*.csv` beside the
 * ratings, a later file's row overriding an earlier one, and with REELGRAPH_ALGO=BayesianFM fits
 * a model that predicts as an in-process fit on the same ratings and attributes, a user without
 * ratings answered from the attributes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BayesianFM } from '../../src/engine/algorithms';
import { readModelFile } from '../../src/engine/model-file';
import { Trainset } from '../../src/engine/trainset';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import type { AttributeRow } from '../../src/engine/dataset/side-info';
import { readCatalogue } from '../../src/workers/catalogue-data';
import { listTrainingFiles } from '../../src/workers/training-data';
import { layInput, makeTemp, removeTemp, runReelgraph } from './helpers';

jest.setTimeout(120_000);

const RATINGS = [
  '1\t10\t4\t100',
  '1\t11\t3\t100',
  '2\t10\t5\t100',
  '2\t12\t2\t100',
  '3\t11\t4\t100',
  '3\t12\t1\t100',
  '4\t10\t5\t100',
  '',
].join('\n');
const FILES: Record<string, string> = {
  '/base/ml.txt': RATINGS,
  '/movies/0000000000000-0000000000000000.csv':
    'movieId,title,genres,year\n10,"Heat, The (1995)",Action|Crime,1995\n11,Babe (1995),Children\'s|Comedy,1995\n12,Alien (1979),Horror|Sci-Fi,1979\n',
  '/users/0000000000000-0000000000000000.csv':
    'userId,age,gender,occupation,zip\n1,24,M,technician,85711\n2,53,F,other,94043\n3,23,M,writer,32067\n4,24,M,technician,43537\n9,33,F,writer,15213\n',
  // a later file: user 2 is now a writer, movie 13 is new
  '/users/1733400000000-00000000000000aa.csv':
    'userId,age,gender,occupation,zip\n2,53,F,writer,94043\n',
  '/movies/1733400000000-00000000000000bb.csv':
    'movieId,title,genres,year,director\n13,New (2026),Comedy,2026,Someone\n',
};
const PARAMS = { nFactors: 3, nSamples: 6, burnIn: 3, nStoredSamples: 3 };

describe('reelgraph worker train with REELGRAPH_ALGO=BayesianFM and catalogue files', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTemp('train-bfm');
  });
  afterAll(() => removeTemp(dir));

  function pfs(name: string, files: Record<string, string> = FILES): string {
    const root = path.join(dir, name);
    layInput(root, 'training', files);
    return root;
  }

  it('reads the catalogue in name order, a later row replacing an earlier one', () => {
    const root = pfs('read');
    const input = path.join(root, 'training');
    const side = readCatalogue(input, listTrainingFiles(input));
    expect([...side.users.keys()]).toEqual(['1', '2', '3', '4', '9']);
    expect(side.users.get('2')).toEqual({
      age: '53',
      gender: 'F',
      occupation: 'writer',
      zip: '94043',
    });
    expect(side.items.get('10')).toEqual({
      title: 'Heat, The (1995)',
      genres: 'Action|Crime',
      year: '1995',
    });
    expect(side.items.get('13')).toEqual({
      title: 'New (2026)',
      genres: 'Comedy',
      year: '2026',
      director: 'Someone',
    });
  });

  it('fits BayesianFM on the ratings and attributes: the same predictions as an in-process fit', async () => {
    const root = pfs('fit');
    const r = await runReelgraph(['worker', 'train'], {
      REELGRAPH_PFS_ROOT: root,
      REELGRAPH_ALGO: 'BayesianFM',
      REELGRAPH_PARAMS: JSON.stringify(PARAMS),
      REELGRAPH_SEED: '5',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // the catalogue files are not read as ratings
    expect(r.stdout).toContain('read 7 ratings from 1 file');
    expect(r.stdout).toContain('read the catalogue: 4 movies and 5 users with attributes');
    const algo = readModelFile(path.join(root, 'out', 'model.rgm'));
    expect(algo.name).toBe('BayesianFM');

    const lines = RATINGS.trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const raw = new RawRatings(
      lines.map((l) => l[0]),
      lines.map((l) => l[1]),
      Float64Array.from(lines.map((l) => Number(l[2]))),
      Float64Array.from(lines.map((l) => Number(l[3]))),
    );
    const users = new Map<string, AttributeRow>([
      ['1', { age: '24', gender: 'M', occupation: 'technician', zip: '85711' }],
      ['2', { age: '53', gender: 'F', occupation: 'writer', zip: '94043' }],
      ['3', { age: '23', gender: 'M', occupation: 'writer', zip: '32067' }],
      ['4', { age: '24', gender: 'M', occupation: 'technician', zip: '43537' }],
      ['9', { age: '33', gender: 'F', occupation: 'writer', zip: '15213' }],
    ]);
    const items = new Map<string, AttributeRow>([
      ['10', { title: 'Heat, The (1995)', genres: 'Action|Crime', year: '1995' }],
      ['11', { title: 'Babe (1995)', genres: "Children's|Comedy", year: '1995' }],
      ['12', { title: 'Alien (1979)', genres: 'Horror|Sci-Fi', year: '1979' }],
      ['13', { title: 'New (2026)', genres: 'Comedy', year: '2026', director: 'Someone' }],
    ]);
    const own = new BayesianFM({ ...PARAMS, randomState: 5 }).fit(
      Trainset.build(raw, [1, 5], undefined, { users, items }),
    );
    for (const [u, i] of [
      ['1', '12'],
      ['4', '11'],
      ['9', '10'], // user 9 has attributes, no rating
      ['9', '13'], // neither has a rating
      ['77', '10'], // no ratings, no attributes
    ]) {
      expect(algo.predict(u, i).est).toBe(own.predict(u, i).est);
    }
    const cold = algo.predict('9', '10', null, false);
    expect(cold.details).toMatchObject({ wasImpossible: true, reason: 'User unknown' });
    // the attributes matter: a user with none gets another estimate
    expect(cold.est).not.toBe(algo.predict('77', '10', null, false).est);
  });

  it('fails on a malformed catalogue row, naming the file, the line and the field; writes nothing', async () => {
    const root = pfs('bad', {
      ...FILES,
      '/users/1733400000001-00000000000000cc.csv': 'userId,age,gender\n5,33,F\n6,old,M\n',
    });
    const r = await runReelgraph(['worker', 'train'], { REELGRAPH_PFS_ROOT: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error: /users/1733400000001-00000000000000cc.csv line 3: field age is "old", expected a whole number 0…150 or nothing',
    );
    expect(fs.readdirSync(path.join(root, 'out'))).toEqual([]);
  });
});
