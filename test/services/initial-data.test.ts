/**
 * What a first start commits for a built-in data set other than ml-100k (initial-data.ts), read
 * from $REELGRAPH_DATASETS (default ../shared/datasets; the test fails when it is missing):
 * ml-latest-small's 100 836 ratings (its README) as training lines on its 0.5–5 scale, and its
 * 9 742 movies as a catalogue file with quoted titles kept; and a ratings file given by path,
 * streamed and written back as training lines byte for byte.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { movieItemsOfCsv, validateMovies } from '../../src/services/catalog-files';
import { initialData } from '../../src/services/initial-data';
import { parseTrainingFile, type ParsedRatings } from '../../src/workers/training-data';

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');

jest.setTimeout(60_000);

test('ml-latest-small: ratings as training lines on 0.5–5, movies as a catalogue file, settings', async () => {
  expect(fs.existsSync(path.join(DATASETS, 'ml-latest-small', 'ratings.csv'))).toBe(true);
  const d = await initialData({
    dataset: 'ml-latest-small',
    datasets: { datasetsDir: DATASETS, download: false },
  });
  expect(d.settings).toEqual({ dataset: 'ml-latest-small', ratingScale: [0.5, 5] });
  expect(d.ratings).toBe(100836);
  expect(d.files.map((f) => f.path.replace(/\d{13}-[0-9a-f]{16}/, 'X'))).toEqual([
    '/base/ml-latest-small.txt',
    '/movies/X.csv',
    '/settings.json',
  ]);
  const out: ParsedRatings = { users: [], items: [], ratings: [], timestamps: [] };
  parseTrainingFile(d.files[0].data.toString('utf8'), d.files[0].path, out, [0.5, 5]);
  expect(out.users).toHaveLength(100836);
  // the first line of ratings.csv: 1,1,4.0,964982703
  expect([out.users[0], out.items[0], out.ratings[0], out.timestamps[0]]).toEqual([
    '1',
    '1',
    4,
    964982703,
  ]);
  expect(Math.min(...out.ratings)).toBe(0.5);
  const movies = validateMovies(movieItemsOfCsv(d.files[1].data.toString('utf8'), 'm.csv'), {
    maxItems: 1e6,
    maxIdLength: 64,
  });
  expect(movies).toHaveLength(9742);
  expect(movies.find((m) => m.id === '11')).toMatchObject({
    title: 'American President, The (1995)',
    year: 1995,
    genres: ['Comedy', 'Drama', 'Romance'],
  });
  expect(JSON.parse(d.files[2].data.toString())).toEqual(d.settings);
});

test('ml-latest-small refuses another scale: its half stars would not fit', async () => {
  await expect(
    initialData({
      dataset: 'ml-latest-small',
      ratingScale: [1, 5],
      datasets: { datasetsDir: DATASETS, download: false },
    }),
  ).rejects.toThrow('--rating-scale 1,5 does not fit ml-latest-small, whose ratings are on 0.5,5');
});

test('a ratings file: its layout told by its first line, each rating as a training line, byte for byte', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-initial-'));
  try {
    const csv = path.join(tmp, 'my ratings.csv');
    // a BOM, a header, a CRLF line, a quoted id (the slow path), half stars
    fs.writeFileSync(
      csv,
      '\uFEFFuserId,movieId,rating,timestamp\r\n7,31,2.5,1260759144\r\n"7",1029,3.0,1260759179\n8,é1,5,1\n',
    );
    const d = await initialData({ dataset: csv, ratingScale: [0.5, 5] });
    expect(d.ratings).toBe(3);
    expect(d.settings).toEqual({ dataset: 'file:my_ratings.csv', ratingScale: [0.5, 5] });
    expect(d.files[0].path).toBe('/base/my_ratings.csv.txt');
    expect(d.files[0].data.toString('utf8')).toBe(
      '7 31 2.5 1260759144\n7 1029 3 1260759179\n8 é1 5 1\n',
    );
    // `::` without timestamps
    const dat = path.join(tmp, 'r.dat');
    fs.writeFileSync(dat, '1::10::4\n2::10::1\n');
    const e = await initialData({ dataset: dat });
    expect(e.files[0].data.toString('utf8')).toBe('1 10 4\n2 10 1\n');
    // a rating off the scale is named with its line
    fs.writeFileSync(dat, '1::10::4\n2::10::9\n');
    await expect(initialData({ dataset: dat })).rejects.toThrow(`${dat}:2: rating "9"`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
