/**
 * Built-in data sets: resolution (configured directory, cache), the not-found error, metadata
 * parsing on synthetic latin-1 fixtures, and the real MovieLens files of the team's shared copy
 * (REELGRAPH_DATASETS or ../shared/datasets; never committed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import {
  BUILTIN_DATASETS,
  Dataset,
  DatasetNotFoundError,
  defaultCacheDir,
  loadMovies,
  loadUsers,
  predefinedFolds,
  resolveBuiltin,
  verifyBuiltin,
  yearFromTitle,
} from '../../src/engine/dataset';

const FIX = path.resolve(__dirname, '../fixtures/datasets/builtin');
const SHARED =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const shared = { datasetsDir: SHARED, download: false, env: {} };

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-builtin-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('resolution', () => {
  test('the configured directory first (option or REELGRAPH_DATASETS), then the cache', async () => {
    const cache = path.join(tmp, 'cache');
    fs.mkdirSync(path.join(cache, 'ml-1m'), { recursive: true });
    fs.copyFileSync(path.join(FIX, 'ml-1m/ratings.dat'), path.join(cache, 'ml-1m/ratings.dat'));
    const base = { cacheDir: cache, download: false };
    expect(await resolveBuiltin('ml-1m', { ...base, datasetsDir: FIX, env: {} })).toBe(
      path.join(FIX, 'ml-1m'),
    );
    expect(await resolveBuiltin('ml-1m', { ...base, env: { REELGRAPH_DATASETS: FIX } })).toBe(
      path.join(FIX, 'ml-1m'),
    );
    // A configured directory without the data set falls through to the cache.
    expect(await resolveBuiltin('ml-1m', { ...base, datasetsDir: tmp, env: {} })).toBe(
      path.join(cache, 'ml-1m'),
    );
  });

  test('default cache directory: XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ env: { XDG_CACHE_HOME: '/x/cache' } })).toBe(
      '/x/cache/reelgraph/datasets',
    );
    expect(defaultCacheDir({ env: {} })).toBe(
      path.join(os.homedir(), '.cache', 'reelgraph', 'datasets'),
    );
    expect(defaultCacheDir({ cacheDir: '/c', env: { XDG_CACHE_HOME: '/x' } })).toBe('/c');
  });

  test('nowhere and no download: one error naming the data set, the directories and the fix', async () => {
    const empty = path.join(tmp, 'empty');
    const cache = path.join(tmp, 'empty-cache');
    const err = await resolveBuiltin('ml-100k', {
      datasetsDir: empty,
      cacheDir: cache,
      download: false,
      env: {},
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect(err.message).toBe(
      `Data set ml-100k was not found. Searched: ${empty}/ml-100k, ${cache}/ml-100k. ` +
        `Downloading it failed: downloading is disabled. ` +
        `Download it from https://files.grouplens.org/datasets/movielens/ml-100k.zip and unzip ` +
        `it into ${cache}, or set REELGRAPH_DATASETS to a directory that contains ml-100k/.`,
    );
    expect(fs.existsSync(cache)).toBe(false);
  });

  test('offline (connection refused): the same error with the network cause', async () => {
    const cache = path.join(tmp, 'offline-cache');
    const err = await resolveBuiltin('ml-100k', {
      cacheDir: cache,
      baseUrl: 'http://127.0.0.1:1',
      progress: false,
      env: {},
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    expect(err.message).toContain('cannot download http://127.0.0.1:1/ml-100k.zip');
    expect(err.message).toContain(`unzip it into ${cache}`);
    expect(fs.existsSync(path.join(cache, 'ml-100k'))).toBe(false);
  });

  test('unknown names are refused', async () => {
    await expect(resolveBuiltin('jester' as never, { download: false })).rejects.toThrow(
      /unknown built-in data set "jester"/,
    );
    await expect(predefinedFolds('ml-1m', shared)).rejects.toThrow(/no predefined folds/);
    await expect(loadUsers('ml-latest-small', shared)).rejects.toThrow(/no user demographics/);
  });
});

describe('synthetic ml-1m (latin-1 files)', () => {
  const opts = { datasetsDir: FIX, download: false, env: {} };
  test('ratings', async () => {
    const ds = await Dataset.loadBuiltin('ml-1m', opts);
    expect(ds.name).toBe('ml-1m');
    expect(ds.ratings.toTestset()).toEqual([
      ['1', '1', 5],
      ['1', '2', 3],
      ['2', '1', 4],
      ['2', '3', 2],
    ]);
    expect(ds.ratings.timestamps![3]).toBe(977000004);
  });
  test('movies decoded as latin-1', async () => {
    const movies = await loadMovies('ml-1m', opts);
    expect(movies).toEqual([
      {
        id: '1',
        title: 'Toy Story (1995)',
        year: 1995,
        genres: ['Animation', "Children's", 'Comedy'],
      },
      {
        id: '2',
        title: 'Á köldum klaka (Cold Fever) (1994)',
        year: 1994,
        genres: ['Comedy', 'Drama'],
      },
      {
        id: '3',
        title: 'Cité des enfants perdus, La (1995)',
        year: 1995,
        genres: ['Adventure', 'Sci-Fi'],
      },
    ]);
  });
  test('users: age groups and occupation codes named', async () => {
    expect(await loadUsers('ml-1m', opts)).toEqual([
      { id: '1', age: 1, gender: 'F', occupation: 'K-12 student', zip: '00101' },
      { id: '2', age: 56, gender: 'M', occupation: 'self-employed', zip: '00102' },
    ]);
  });
});

describe('synthetic ml-100k metadata (latin-1 u.item, 3-genre u.genre)', () => {
  const opts = { datasetsDir: FIX, download: false, env: {} };
  test('movies: titles, dates, genres from flags, IMDb URLs', async () => {
    const movies = await loadMovies('ml-100k', opts);
    expect(movies).toEqual([
      {
        id: '1',
        title: 'Toy Story (1995)',
        year: 1995,
        releaseDate: '1995-01-01',
        imdbUrl: 'http://example.org/movie/1',
        genres: ['Comedy'],
      },
      { id: '267', title: 'unknown', genres: ['unknown'] },
      {
        id: '1633',
        title: 'Á köldum klaka (Cold Fever) (1994)',
        year: 1994,
        releaseDate: '1996-03-08',
        imdbUrl: 'http://example.org/movie/1633',
        genres: ['Comedy', 'Drama'],
      },
    ]);
  });
  test('users', async () => {
    expect(await loadUsers('ml-100k', opts)).toEqual([
      { id: '1', age: 31, gender: 'M', occupation: 'technician', zip: '00201' },
      { id: '2', age: 47, gender: 'F', occupation: 'other', zip: '00202' },
    ]);
  });
  test('a malformed u.item line is named', async () => {
    const dir = path.join(tmp, 'bad100k', 'ml-100k');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['u.data', 'u.genre'])
      fs.copyFileSync(path.join(FIX, 'ml-100k', f), path.join(dir, f));
    fs.writeFileSync(
      path.join(dir, 'u.item'),
      '1|A (1990)|01-Jan-1990||u|0|1|0\n2|B (1991)||||0|2|0\n',
    );
    await expect(
      loadMovies('ml-100k', { datasetsDir: path.dirname(dir), download: false, env: {} }),
    ).rejects.toThrow(
      `${path.join(dir, 'u.item')}:2: genre flag 2 (Comedy) is "2", expected 0 or 1`,
    );
  });
});

test('yearFromTitle', () => {
  expect(yearFromTitle('Heat (1995)')).toBe(1995);
  expect(yearFromTitle('Babylon 5')).toBeUndefined();
  expect(yearFromTitle('Fawlty Towers (1975-1979)')).toBe(1975);
  expect(yearFromTitle('Stranger Things (2016–)')).toBe(2016);
  expect(yearFromTitle('Ready Player One (2018) ')).toBe(2018);
});

describe('MovieLens 100K (shared copy)', () => {
  test('u.data has the published SHA-256', () => {
    const bytes = fs.readFileSync(path.join(SHARED, 'ml-100k', 'u.data'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(sha).toBe('06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490');
    expect(BUILTIN_DATASETS['ml-100k'].sha256['u.data']).toBe(sha);
    expect(verifyBuiltin('ml-100k', path.join(SHARED, 'ml-100k'))).toEqual([
      { file: 'u.data', expected: sha, actual: sha, ok: true },
    ]);
  });

  test('verifyBuiltin flags a changed or missing file; no hash recorded → nothing to check', () => {
    const changed = verifyBuiltin('ml-100k', path.join(FIX, 'ml-100k'));
    expect(changed).toHaveLength(1);
    expect(changed[0].ok).toBe(false);
    expect(changed[0].actual).toBe(
      createHash('sha256')
        .update(fs.readFileSync(path.join(FIX, 'ml-100k/u.data')))
        .digest('hex'),
    );
    expect(verifyBuiltin('ml-100k', tmp)[0]).toMatchObject({ actual: null, ok: false });
    expect(verifyBuiltin('ml-1m', path.join(FIX, 'ml-1m'))).toEqual([]);
  });

  test('100000 ratings, 943 users, 1682 items (u.info)', async () => {
    const ds = await Dataset.loadBuiltin('ml-100k', shared);
    expect(ds.name).toBe('ml-100k');
    expect(ds.nRatings).toBe(100000);
    expect(ds.duplicates).toBe(0);
    const ts = ds.buildFullTrainset();
    expect([ts.nUsers, ts.nItems, ts.nRatings]).toEqual([943, 1682, 100000]);
    // first line of u.data: 196 242 3 881250949
    expect(ds.ratings.toTestset()[0]).toEqual(['196', '242', 3]);
    expect(ds.ratings.timestamps![0]).toBe(881250949);
  });

  test('movie 1633 is "Á köldum klaka" (latin-1), Toy Story has its genres', async () => {
    const movies = await loadMovies('ml-100k', shared);
    expect(movies).toHaveLength(1682);
    const m = movies.find((x) => x.id === '1633')!;
    expect(m.title.startsWith('Á köldum klaka')).toBe(true);
    expect(movies[0]).toMatchObject({
      id: '1',
      title: 'Toy Story (1995)',
      year: 1995,
      releaseDate: '1995-01-01',
      genres: ['Animation', "Children's", 'Comedy'],
    });
    const users = await loadUsers('ml-100k', shared);
    expect(users).toHaveLength(943);
  });

  test('predefined folds u1…u5: 80000 / 20000 each, together all of u.data', async () => {
    const ds = await predefinedFolds('ml-100k', shared);
    expect(ds.folds!.map((f) => [f.name, f.train.length, f.test.length])).toEqual([
      ['u1', 80000, 20000],
      ['u2', 80000, 20000],
      ['u3', 80000, 20000],
      ['u4', 80000, 20000],
      ['u5', 80000, 20000],
    ]);
    expect(ds.nRatings).toBe(100000);
    expect(ds.duplicates).toBe(0);
  });
});

describe('MovieLens latest-small (shared copy)', () => {
  test('100836 ratings on [0.5, 5] with half stars', async () => {
    const ds = await Dataset.loadBuiltin('ml-latest-small', shared);
    expect(ds.nRatings).toBe(100836);
    expect(ds.ratingScale).toEqual([0.5, 5]);
    const r = ds.ratings.ratings;
    let half = 0;
    let min = Infinity;
    for (const x of r) {
      if (x !== Math.floor(x)) half++;
      min = Math.min(min, x);
    }
    expect(half).toBeGreaterThan(0);
    expect(min).toBe(0.5);
    const ts = ds.buildFullTrainset();
    expect([ts.nUsers, ts.nItems]).toEqual([610, 9724]);
  });

  test('movies.csv: quoted titles with commas and escaped quotes', async () => {
    const movies = await loadMovies('ml-latest-small', shared);
    expect(movies).toHaveLength(9742);
    expect(movies.find((m) => m.id === '11')).toEqual({
      id: '11',
      title: 'American President, The (1995)',
      year: 1995,
      genres: ['Comedy', 'Drama', 'Romance'],
    });
    expect(movies.find((m) => m.id === '7789')!.title).toBe(`11'09"01 - September 11 (2002)`);
    expect(movies.find((m) => m.id === '114335')!.genres).toEqual([]);
  });
});
