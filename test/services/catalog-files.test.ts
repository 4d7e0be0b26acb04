/**
 * The catalogue's CSV files and their validation (catalog-files.ts), by hand: what a movie or
 * user item may hold, every problem named by index and field, and the CSV round trip (quotes,
 * commas, extra columns, blank lines, a BOM).
 */
import {
  moviesCsv,
  movieItemsOfCsv,
  userItemsOfCsv,
  usersCsv,
  validateMovies,
  validateUsers,
} from '../../src/services/catalog-files';
import { ValidationError } from '../../src/services/errors';

const limits = { maxItems: 3, maxIdLength: 8 };

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => [i.index, i.field, i.message]);
  }
  throw new Error('no ValidationError');
}

test('validateMovies keeps ids as text and fills defaults', () => {
  expect(
    validateMovies(
      [
        { id: '0101', title: 'A, "quoted" title' },
        { id: 101, title: 'B', genres: ['Drama', 'Film-Noir'], year: 1950, extra: { n: 3 } },
      ],
      limits,
    ),
  ).toEqual([
    { id: '0101', title: 'A, "quoted" title', genres: [], year: null, extra: {} },
    { id: '101', title: 'B', genres: ['Drama', 'Film-Noir'], year: 1950, extra: { n: '3' } },
  ]);
});

test('validateMovies names every bad item and field', () => {
  expect(
    issuesOf(() =>
      validateMovies(
        [
          { id: 'a b', title: '' },
          { id: 'x', title: 'line\nbreak', genres: ['A|B'], year: 1e5, extra: { title: 'x' } },
          { id: 'x', title: 'dup', colour: 'red' },
        ],
        limits,
      ),
    ),
  ).toEqual([
    [0, 'id', 'id "a b" has characters other than letters, digits and _ . : @ -'],
    [0, 'title', 'title is empty'],
    [1, 'title', 'title "line\\nbreak" has a line break or control character'],
    [1, 'genres', 'genres "A|B" has a line break or control character or "|"'],
    [1, 'year', 'year must be a whole number in [0, 9999] or null, got 100000'],
    [1, 'extra.title', 'extra.title: title is a column of its own, not an extra one'],
    [2, 'colour', 'unknown field "colour"; expected id, title, genres, year, extra'],
    [2, 'id', 'id "x" is also item 1: give each movie once'],
  ]);
  expect(issuesOf(() => validateMovies([], limits))).toEqual([
    [null, 'movies', 'movies is empty: give at least one item'],
  ]);
  expect(issuesOf(() => validateMovies([1, 2, 3, 4], limits))).toEqual([
    [3, 'movies', 'too many items: 4, the maximum is 3'],
  ]);
});

test('validateUsers: attributes as text, reserved and malformed names refused', () => {
  expect(validateUsers([{ id: 'u1', attributes: { age: 24, zip: '0101' } }], limits)).toEqual([
    { id: 'u1', attributes: { age: '24', zip: '0101' } },
  ]);
  expect(
    issuesOf(() =>
      validateUsers([{ id: 'u1', attributes: { userId: 'x', '9lives': 'y' } }], limits),
    ),
  ).toEqual([
    [0, 'attributes.userId', 'attributes.userId: userId is a column of its own, not an extra one'],
    [
      0,
      'attributes.9lives',
      'attributes name "9lives" must be a letter then letters, digits or _ (at most 64)',
    ],
  ]);
});

test('movies and users CSV: written and read back, extra columns kept', () => {
  const movies = validateMovies(
    [
      { id: '1', title: 'Toy Story (1995)', genres: ['Animation', "Children's"], year: 1995 },
      { id: '2', title: 'American President, The (1995)', extra: { imdbUrl: 'http://x/?a="b"' } },
    ],
    limits,
  );
  const text = moviesCsv(movies);
  expect(text).toBe(
    'movieId,title,genres,year,imdbUrl\n' +
      "1,Toy Story (1995),Animation|Children's,1995,\n" +
      '2,"American President, The (1995)",,,"http://x/?a=""b"""\n',
  );
  expect(validateMovies(movieItemsOfCsv('\uFEFF' + text + '\n\n', 'm.csv'), limits)).toEqual(
    movies,
  );
  const users = validateUsers([{ id: '7', attributes: { age: '30', city: ' Oslo' } }], limits);
  expect(usersCsv(users)).toBe('userId,age,city\n7,30," Oslo"\n');
  expect(validateUsers(userItemsOfCsv(usersCsv(users), 'u.csv'), limits)).toEqual(users);
});

test('a CSV with a bad header or a short line is refused naming the file and line', () => {
  expect(issuesOf(() => movieItemsOfCsv('id,title\n1,x\n', 'm.csv'))).toEqual([
    [
      null,
      'file',
      'm.csv line 1: the header must start with movieId,title,genres,year, got id,title',
    ],
  ]);
  expect(
    issuesOf(() => movieItemsOfCsv('movieId,title,genres,year\n1,x,,\n2,y\n', 'm.csv')),
  ).toEqual([
    [null, 'file', 'm.csv line 3: expected 4 fields (movieId,title,genres,year), found 2'],
  ]);
  expect(issuesOf(() => userItemsOfCsv('user,age\n', 'u.csv'))).toEqual([
    [null, 'file', 'u.csv line 1: the header must start with userId, got "user"'],
  ]);
  // a year that is not a number is named by the validation, as an item's field
  expect(
    issuesOf(() =>
      validateMovies(movieItemsOfCsv('movieId,title,genres,year\n1,x,,19x5\n', 'm'), limits),
    ),
  ).toEqual([[0, 'year', 'year must be a whole number in [0, 9999] or null, got "19x5"']]);
});
