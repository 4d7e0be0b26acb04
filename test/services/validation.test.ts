/** Input rules, file formats (batch, request, answer) and cursors of the services, by hand. */
import { parseAnswers } from '../../src/services/answers';
import { resolveServiceConfig } from '../../src/services/config';
import { decodeCursor, encodeCursor } from '../../src/services/cursor';
import { ValidationError } from '../../src/services/errors';
import { requestFileText } from '../../src/services/predictions';
import { batchFileText, newBatchId, supersededItems } from '../../src/services/ratings';
import { parseLines } from '../../src/server/rest';
import { parseTrainingFile, type ParsedRatings } from '../../src/workers/training-data';
import { Reader } from '../../src/engine/dataset/reader';
import { Trainset } from '../../src/engine/trainset';
import {
  MAX_TIMESTAMP,
  validateFirst,
  validateId,
  validateName,
  validatePairs,
  validateRatings,
} from '../../src/services/validation';

const limits = resolveServiceConfig({ maxItems: 3, maxIdLength: 8 });

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  throw new Error('no ValidationError');
}

describe('validateRatings', () => {
  test('accepts the bounds of the scale, numeric ids and a missing timestamp (= now)', () => {
    expect(
      validateRatings(
        [
          { userId: 'u1', movieId: 7, rating: 1 },
          { userId: 'a.b:c@d-', movieId: '0', rating: 5, timestamp: 0 },
          { userId: 'x', movieId: 'y', rating: 3.5, timestamp: null },
        ],
        limits,
        1234,
      ),
    ).toEqual([
      { userId: 'u1', movieId: '7', rating: 1, timestamp: 1234 },
      { userId: 'a.b:c@d-', movieId: '0', rating: 5, timestamp: 0 },
      { userId: 'x', movieId: 'y', rating: 3.5, timestamp: 1234 },
    ]);
  });

  test('reports every problem with its index and field', () => {
    expect(
      issuesOf(() =>
        validateRatings(
          [
            { userId: 'u', movieId: 'm', rating: 0.999, timestamp: 1.5 },
            { userId: 'u\tv', movieId: '', rating: Infinity },
            { userId: 'x'.repeat(9), movieId: -1, rating: '4', extra: 1 },
          ],
          limits,
        ),
      ),
    ).toEqual([
      { index: 0, field: 'rating', message: 'rating 0.999 is outside the rating scale [1, 5]' },
      {
        index: 0,
        field: 'timestamp',
        message: `timestamp must be whole seconds since 1970 in [0, ${MAX_TIMESTAMP}], got 1.5`,
      },
      {
        index: 1,
        field: 'userId',
        message: 'userId "u\\tv" has characters other than letters, digits and _ . : @ -',
      },
      { index: 1, field: 'movieId', message: 'movieId is empty' },
      { index: 1, field: 'rating', message: 'rating Infinity is not a finite number' },
      {
        index: 2,
        field: 'extra',
        message: 'unknown field "extra"; expected userId, movieId, rating, timestamp',
      },
      { index: 2, field: 'userId', message: 'userId is 9 characters long, the maximum is 8' },
      {
        index: 2,
        field: 'movieId',
        message: 'movieId must be a string (or a whole number >= 0), got -1',
      },
      { index: 2, field: 'rating', message: 'rating must be a number, got "4"' },
    ]);
  });

  test('list-level problems: not a list, empty, too many (index = first item over the limit)', () => {
    expect(issuesOf(() => validateRatings({}, limits))).toEqual([
      { index: null, field: 'ratings', message: 'ratings must be a list, got an object' },
    ]);
    expect(issuesOf(() => validateRatings([], limits))[0].message).toBe(
      'ratings is empty: give at least one item',
    );
    const four = Array.from({ length: 4 }, () => ({ userId: 'u', movieId: 'm', rating: 3 }));
    expect(issuesOf(() => validateRatings(four, limits))).toEqual([
      { index: 3, field: 'ratings', message: 'too many items: 4, the maximum is 3' },
    ]);
    expect(
      issuesOf(() => validateRatings([null, 'x'], limits)).map((i) => [i.index, i.field]),
    ).toEqual([
      [0, 'item'],
      [1, 'item'],
    ]);
  });

  test('a custom rating scale', () => {
    const half = resolveServiceConfig({ ratingScale: [0.5, 10] });
    expect(validateRatings([{ userId: 'u', movieId: 'm', rating: 0.5 }], half, 0)[0].rating).toBe(
      0.5,
    );
    expect(
      issuesOf(() => validateRatings([{ userId: 'u', movieId: 'm', rating: 10.5 }], half))[0]
        .message,
    ).toBe('rating 10.5 is outside the rating scale [0.5, 10]');
  });
});

test('validatePairs: ids only', () => {
  expect(validatePairs([{ userId: 1, movieId: 'b' }], limits)).toEqual([
    { userId: '1', movieId: 'b' },
  ]);
  expect(
    issuesOf(() =>
      validatePairs([{ userId: 'a' }, { userId: 'a', movieId: 'b', rating: 3 }], limits),
    ),
  ).toEqual([
    { index: 0, field: 'movieId', message: 'movieId is missing' },
    { index: 1, field: 'rating', message: 'unknown field "rating"; expected userId, movieId' },
  ]);
});

test('validateId and validateFirst', () => {
  expect(validateId('42', 'userId', 64)).toBe('42');
  expect(() => validateId('a b', 'userId', 64)).toThrow(
    'arguments.userId: userId "a b" has characters',
  );
  expect(validateFirst(undefined, 100, 20)).toBe(20);
  expect(validateFirst(100, 100, 20)).toBe(100);
  for (const bad of [0, 101, 1.5, '5']) {
    expect(() => validateFirst(bad, 100, 20)).toThrow('first must be a whole number in 1…100');
  }
});

test('the ValidationError message lists at most 20 issues', () => {
  const e = new ValidationError(
    'pairs',
    Array.from({ length: 25 }, (_, i) => ({
      index: i,
      field: 'userId',
      message: 'userId is empty',
    })),
  );
  expect(
    e.message.startsWith('invalid pairs (25 problems): pairs[0].userId: userId is empty; '),
  ).toBe(true);
  expect(e.message.endsWith('pairs[19].userId: userId is empty; and 5 more')).toBe(true);
});

test('config: defaults and refused values', () => {
  expect(resolveServiceConfig()).toMatchObject({
    maxItems: 10_000,
    maxIdLength: 64,
    maxPageSize: 100,
    ratingScale: [1, 5],
  });
  expect(() => resolveServiceConfig({ maxPageSize: 101 })).toThrow('maxPageSize must be <= 100');
  expect(() => resolveServiceConfig({ maxItems: 0 })).toThrow(
    'maxItems must be a whole number >= 1',
  );
  expect(() => resolveServiceConfig({ ratingScale: [5, 1] })).toThrow('ratingScale');
});

test('file formats: batch and request files, ids', () => {
  expect(
    batchFileText([
      { userId: '1', movieId: '2', rating: 3.25, timestamp: 99 },
      { userId: 'a', movieId: 'b', rating: 5, timestamp: 0 },
    ]),
  ).toBe('1 2 3.25 99\na b 5 0\n');
  expect(requestFileText([{ userId: '1', movieId: '2' }])).toBe('1 2\n');
  expect(newBatchId(1_700_000_000_123)).toMatch(/^1700000000123-[0-9a-f]{16}$/);
  expect(newBatchId(5)).toMatch(/^0000000000005-/);
});

test('parseAnswers: estimates read back exactly, impossible flags, error lines', () => {
  const est = 0.1 + 0.2; // 0.30000000000000004: the shortest round-trip text has 17 digits
  const text = `196 242 ${String(est)}\nnobody 1 3.52986 impossible\n# error line 3: expected 2 fields "user_id movie_id" separated by tabs or spaces, found 3: "a b c"\n\n`;
  expect(parseAnswers(text)).toEqual({
    predictions: [
      {
        userId: '196',
        movieId: '242',
        estimate: est,
        wasImpossible: false,
        modelSource: 'TRAINED',
      },
      {
        userId: 'nobody',
        movieId: '1',
        estimate: 3.52986,
        wasImpossible: true,
        modelSource: 'TRAINED',
      },
    ],
    lineErrors: [
      {
        line: 3,
        message:
          'expected 2 fields "user_id movie_id" separated by tabs or spaces, found 3: "a b c"',
      },
    ],
  });
  expect(parseAnswers('a b notanumber\n').lineErrors).toEqual([
    { line: 0, message: 'unreadable answer line "a b notanumber"' },
  ]);
  // a mark the program never writes, or folded-in not last, is unreadable
  expect(parseAnswers('a b 3 folded-in impossible\na b 3 other\n').lineErrors).toHaveLength(2);
});

test('cursors are opaque, tagged by list, and refused by another list', () => {
  const c = encodeCursor('job', [1, 'train', 'x']);
  expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(decodeCursor('job', c)).toEqual([1, 'train', 'x']);
  expect(() => decodeCursor('movie', c)).toThrow(ValidationError);
  expect(() => decodeCursor('job', '!!')).toThrow('is not a cursor of this list');
});

test('pipeline and repo names: plain [A-Za-z0-9_-]{1,51}, no prefix or path', () => {
  expect(validateName('train', 'pipeline')).toBe('train');
  expect(validateName('my_repo-2', 'repo')).toBe('my_repo-2');
  expect(validateName('a'.repeat(51), 'repo')).toBe('a'.repeat(51));
  for (const bad of ['x/train', '../train', '..', 'default/training', '', 'a'.repeat(52), 'a.b']) {
    const issues = issuesOf(() => validateName(bad, 'repo'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ index: null, field: 'repo' });
    expect(issues[0].message).toContain('[A-Za-z0-9_-]{1,51}');
  }
  expect(issuesOf(() => validateName(7, 'pipeline'))[0].field).toBe('pipeline');
});

test('a problem of the list itself names the list once in the message', () => {
  expect(
    new ValidationError('ratings', [
      { index: null, field: 'ratings', message: 'ratings is empty: give at least one item' },
    ]).message,
  ).toBe('invalid ratings (1 problem): ratings: ratings is empty: give at least one item');
  expect(
    new ValidationError('ratings', [
      { index: 2, field: 'ratings', message: 'too many items: 3, the maximum is 2' },
      { index: 0, field: 'rating', message: 'rating 9 is outside the rating scale [1, 5]' },
    ]).message,
  ).toBe(
    'invalid ratings (2 problems): ratings[2]: too many items: 3, the maximum is 2; ratings[0].rating: rating 9 is outside the rating scale [1, 5]',
  );
});

test('raw ids are text on every input path: "0101" and "101" stay two ids, 101 (a number) is "101"', () => {
  // GraphQL / JSON items
  const items = validateRatings(
    [
      { userId: '0101', movieId: '007', rating: 1 },
      { userId: 101, movieId: 7, rating: 2 },
    ],
    limits,
    5,
  );
  expect(items.map((r) => [r.userId, r.movieId])).toEqual([
    ['0101', '007'],
    ['101', '7'],
  ]);
  expect(validatePairs([{ userId: '0101', movieId: '1.0' }], limits)).toEqual([
    { userId: '0101', movieId: '1.0' },
  ]);
  expect(validateId('0101', 'userId', 8)).toBe('0101');
  // REST lines
  const lines = parseLines(['0101 007 1', '101 7 2', ''], ['userId', 'movieId', 'rating'], 0, 9);
  expect(lines.items).toEqual([
    { userId: '0101', movieId: '007', rating: 1 },
    { userId: '101', movieId: '7', rating: 2 },
  ]);
  expect(lines.lineOf).toEqual([0, 1]);
  // batch files and the train program's reader
  const out: ParsedRatings = { users: [], items: [], ratings: [], timestamps: [] };
  parseTrainingFile(batchFileText(items), '/b.txt', out);
  expect([out.users, out.items]).toEqual([
    ['0101', '101'],
    ['007', '7'],
  ]);
  // the engine's reader and trainset
  const raw = new Reader({ sep: ',' }).parse('0101,007,1\n101,7,2\n', 'r.csv');
  const ts = Trainset.build(raw, [1, 5]);
  expect([ts.nUsers, ts.nItems]).toEqual([2, 2]);
  expect(ts.findUser('0101')).not.toBe(ts.findUser('101'));
  expect(ts.findUser('00101')).toBe(-1);
});

test('supersededItems: an item is superseded by a later one of the same (user, movie)', () => {
  const r = (userId: string, movieId: string) => ({ userId, movieId, rating: 3, timestamp: 0 });
  expect(
    supersededItems([r('1', '2'), r('1', '3'), r('1', '2'), r('01', '2'), r('1', '2')]),
  ).toEqual([0, 2]);
  expect(supersededItems([r('1', '2')])).toEqual([]);
});
