/**
 * Side information: catalogue CSV files (validation naming file, line and field; later rows
 * override), the built-in MovieLens attributes, their encoding as FM features, and trainsets
 * carrying them through every split.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  formatCatalogueCsv,
  mergeAttributeRows,
  parseCatalogueCsv,
  readBuiltinSideInfo,
  type AttributeRow,
} from '../../src/engine/dataset/side-info';
import { DatasetFormatError } from '../../src/engine/dataset/errors';
import { Dataset } from '../../src/engine/dataset/dataset';
import { encodeAttributes } from '../../src/engine/algorithms/fm-features';
import { KFold, PredefinedKFold, stableSplit } from '../../src/engine/model-selection/split';
import { ML100K_DIR, DATASETS } from './helpers';

describe('catalogue CSV files', () => {
  it('reads movies with quoted titles, extra columns, and a later row replacing an earlier one', () => {
    const rows = parseCatalogueCsv(
      '\ufeffmovieId,title,genres,year,director\r\n' +
        '1,"Heat, The (1995)",Action|Crime,1995,Mann\r\n' +
        '2,Babe (1995),Comedy,,\r\n\r\n' +
        '1,Heat (1995),Action,1995,Michael Mann\n',
      'movies.csv',
      'movies',
    );
    expect([...rows.keys()]).toEqual(['2', '1']);
    expect(rows.get('1')).toEqual({
      title: 'Heat (1995)',
      genres: 'Action',
      year: '1995',
      director: 'Michael Mann',
    });
    expect(rows.get('2')).toEqual({
      title: 'Babe (1995)',
      genres: 'Comedy',
      year: '',
      director: '',
    });
  });

  it.each([
    [
      'userId,age\n1,24\n2,x\n',
      'users',
      'u.csv:3: field age is "x", expected a whole number 0…150 or nothing',
    ],
    ['userId,age\n1,24,M\n', 'users', 'u.csv:2: expected 2 fields (userId,age), found 3'],
    ['id,age\n1,24\n', 'users', 'u.csv:1: header must start with "userId", found "id,age"'],
    [
      'movieId,title,genres\n1,a,b\n',
      'movies',
      'u.csv:1: header must start with "movieId,title,genres,year"',
    ],
    ['movieId,title,genres,year\n1,a,b,95x\n', 'movies', 'u.csv:2: field year is "95x"'],
    ['userId,age\n,24\n', 'users', 'u.csv:2: field userId (the id) is empty'],
    ['userId,age,age\n1,2,3\n', 'users', 'u.csv:1: column name "age" is repeated'],
    ['userId,note\n1,"open\n', 'users', 'u.csv:2: unterminated quoted field'],
    ['', 'users', 'u.csv:1: empty file'],
  ] as const)('refuses %j naming the file, line and field', (text, kind, message) => {
    expect(() => parseCatalogueCsv(text, 'u.csv', kind)).toThrow(DatasetFormatError);
    expect(() => parseCatalogueCsv(text, 'u.csv', kind)).toThrow(message);
  });

  it('writes files that read back to the same rows', () => {
    const rows = new Map([
      ['7', { title: 'A "quoted", title', genres: 'Drama|War', year: '1957' }],
      ['8', { title: 'Plain', genres: '', year: '' }],
    ]);
    const text = formatCatalogueCsv('movies', ['title', 'genres', 'year'], rows);
    expect(parseCatalogueCsv(text, 'm.csv', 'movies')).toEqual(rows);
    expect(mergeAttributeRows([rows, new Map([['8', { title: 'New' }]])]).get('8')).toEqual({
      title: 'New',
    });
  });
});

describe('attributes as factorization-machine features', () => {
  it('encodes age groups, decades, zip areas, genre sets (1/n) and other columns one-hot', () => {
    const enc = encodeAttributes(
      new Map<string, AttributeRow>([
        [
          'a',
          {
            age: '17',
            gender: 'F',
            zip: '94110',
            genres: 'Comedy|Drama',
            year: '1999',
            title: 'x',
          },
        ],
        ['b', { age: '56', gender: 'M', zip: 'T8H1N', genres: '(no genres listed)', year: '2001' }],
        ['c', { age: '', gender: '' }],
      ]),
    );
    expect(enc.featureNames).toEqual([
      'age=56+',
      'age=<18',
      'gender=F',
      'gender=M',
      'genres=Comedy',
      'genres=Drama',
      'year=1990s',
      'year=2000s',
      'zip=9',
      'zip=T',
    ]);
    expect(enc.ids).toEqual(['a', 'b']); // c has no feature
    const row = (r: number) =>
      Object.fromEntries(
        [...enc.features.subarray(enc.offsets[r], enc.offsets[r + 1])].map((j, q) => [
          enc.featureNames[j],
          enc.values[enc.offsets[r] + q],
        ]),
      );
    expect(row(0)).toEqual({
      'age=<18': 1,
      'gender=F': 1,
      'genres=Comedy': 0.5,
      'genres=Drama': 0.5,
      'year=1990s': 1,
      'zip=9': 1,
    });
    expect(row(1)).toEqual({ 'age=56+': 1, 'gender=M': 1, 'year=2000s': 1, 'zip=T': 1 });
  });

  it('leaves out a column that looks like free text (over 100 values, more than half distinct)', () => {
    const rows = new Map(
      Array.from({ length: 300 }, (_, k) => [
        String(k),
        { note: `text ${k}`, kind: k % 2 ? 'x' : 'y' },
      ]),
    );
    expect(encodeAttributes(rows).featureNames).toEqual(['kind=x', 'kind=y']);
  });
});

const describeIfMl100k = fs.existsSync(path.join(ML100K_DIR, 'u.item')) ? describe : describe.skip;

describeIfMl100k('the built-in side information (ml-100k)', () => {
  it('reads u.user and u.item: 943 users, 1682 movies, with their attributes', () => {
    const side = readBuiltinSideInfo('ml-100k', ML100K_DIR);
    expect(side.users.size).toBe(943);
    expect(side.items.size).toBe(1682);
    expect(side.users.get('1')).toEqual({
      age: '24',
      gender: 'M',
      occupation: 'technician',
      zip: '85711',
    });
    expect(side.items.get('1')).toEqual({
      title: 'Toy Story (1995)',
      genres: "Animation|Children's|Comedy",
      year: '1995',
    });
  });

  it('gives the side information to the trainsets of every split', async () => {
    const opts = { datasetsDir: DATASETS, download: false };
    const folds = await Dataset.loadBuiltinWithSideInfo('ml-100k', { ...opts, folds: true });
    const [ts] = new PredefinedKFold().split(folds).next().value!;
    expect(ts.sideInfo).toBe(folds.sideInfo);
    expect(ts.urTimestamps).toHaveLength(ts.nRatings);
    const data = await Dataset.loadBuiltinWithSideInfo('ml-100k', opts);
    expect(data.buildFullTrainset().sideInfo!.users.size).toBe(943);
    const [kts] = new KFold({ nSplits: 5, randomState: 0 }).split(data).next().value!;
    expect(kts.sideInfo).toBe(data.sideInfo);
    expect(stableSplit(data)[0].sideInfo).toBe(data.sideInfo);
    // the timestamps follow the ratings into the trainset's user order
    const u = ts.findUser('1');
    const p = ts.urOffsets[u];
    const first = folds.folds![0].train;
    const k = first.users.findIndex(
      (x, j) => x === '1' && first.items[j] === ts.toRawIid(ts.urItems[p]),
    );
    expect(ts.urTimestamps![p]).toBe(first.timestamps![k]);
  });
});
