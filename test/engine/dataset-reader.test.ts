/**
 * Reader: line formats, separators, header lines, rating scales, and malformed lines reported
 * with file and line number. Expected values are read off the hand-written fixtures.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Reader, parseDecimal, DatasetFormatError, splitCsvLine } from '../../src/engine/dataset';

const FIX = path.resolve(__dirname, '../fixtures/datasets');

function parseFixture(rel: string, reader: Reader) {
  const file = path.join(FIX, rel);
  return reader.parse(reader.decode(fs.readFileSync(file)), file);
}

function formatError(rel: string, reader: Reader): DatasetFormatError {
  try {
    parseFixture(rel, reader);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetFormatError);
    return e as DatasetFormatError;
  }
  throw new Error(`${rel} parsed without error`);
}

describe('Reader options', () => {
  test('defaults follow Surprise: user item rating, whitespace, no header, [1, 5]', () => {
    const r = new Reader();
    expect(r.lineFormat).toBe('user item rating');
    expect(r.sep).toBeUndefined();
    expect(r.skipLines).toBe(0);
    expect(r.ratingScale).toEqual([1, 5]);
    expect(r.fieldIndex).toEqual({ user: 0, item: 1, rating: 2, timestamp: -1 });
  });

  test('builtin readers', () => {
    const a = Reader.builtin('ml-100k');
    expect([a.lineFormat, a.sep, a.skipLines, a.ratingScale]).toEqual([
      'user item rating timestamp',
      '\t',
      0,
      [1, 5],
    ]);
    const b = Reader.builtin('ml-1m');
    expect([b.sep, b.ratingScale]).toEqual(['::', [1, 5]]);
    const c = Reader.builtin('ml-latest-small');
    expect([c.sep, c.skipLines, c.ratingScale]).toEqual([',', 1, [0.5, 5]]);
    expect(() => Reader.builtin('jester' as never)).toThrow(/unknown built-in data set "jester"/);
  });

  test('bad options are refused with the reason', () => {
    expect(() => new Reader({ lineFormat: 'user item score' })).toThrow(/unknown field "score"/);
    expect(() => new Reader({ lineFormat: 'user user rating' })).toThrow(/"user" appears twice/);
    expect(() => new Reader({ lineFormat: 'user rating' })).toThrow(/"item" is required/);
    expect(() => new Reader({ sep: '' })).toThrow(/sep must not be empty/);
    expect(() => new Reader({ skipLines: -1 })).toThrow(/skipLines/);
    expect(() => new Reader({ skipLines: 1.5 })).toThrow(/skipLines/);
    expect(() => new Reader({ ratingScale: [5, 1] })).toThrow(/lowest < highest/);
    expect(() => new Reader({ ratingScale: [1, NaN] })).toThrow(/ratingScale/);
  });
});

describe('Reader.parse formats', () => {
  test('tab-separated with timestamps (u.data layout)', () => {
    const raw = parseFixture('reader/tab.tsv', Reader.builtin('ml-100k'));
    expect(raw.users).toEqual(['7', '8', '9', '7']);
    expect(raw.items).toEqual(['42', '43', '44', '44']);
    expect(Array.from(raw.ratings)).toEqual([3, 3, 1, 5]);
    expect(Array.from(raw.timestamps!)).toEqual([900000001, 900000002, 900000003, 900000004]);
  });

  test('CSV with a header, half stars, quoted fields (a quoted "2" is the user 2)', () => {
    const raw = parseFixture('reader/comma-header.csv', Reader.builtin('ml-latest-small'));
    expect(raw.users).toEqual(['1', '1', '2', '2', '3']);
    expect(raw.items).toEqual(['10', '20', '10', '30', 'x,y']);
    expect(Array.from(raw.ratings)).toEqual([4.5, 0.5, 5, 3.5, 2]);
    expect(raw.timestamps![4]).toBe(964982931);
  });

  test('"::"-separated (ml-1m layout)', () => {
    const raw = parseFixture('reader/colons.dat', Reader.builtin('ml-1m'));
    expect(raw.users).toEqual(['1', '1', '2']);
    expect(raw.items).toEqual(['1193', '661', '1193']);
    expect(Array.from(raw.ratings)).toEqual([5, 3, 4]);
  });

  test('any run of whitespace; blank lines skipped; no timestamps → null column', () => {
    for (const sep of [undefined, 'whitespace']) {
      const raw = parseFixture('reader/whitespace.txt', new Reader({ sep }));
      expect(raw.users).toEqual(['u1', 'u1', 'u2']);
      expect(raw.items).toEqual(['i1', 'i2', 'i1']);
      expect(Array.from(raw.ratings)).toEqual([4, 2, 1]);
      expect(raw.timestamps).toBeNull();
    }
  });

  test('fields in any order, any literal separator, a header line skipped', () => {
    const reader = new Reader({
      lineFormat: 'rating item user',
      sep: ';',
      skipLines: 1,
      ratingScale: [0.5, 5],
    });
    const raw = parseFixture('reader/reordered.txt', reader);
    expect(raw.users).toEqual(['alice', 'bob']);
    expect(raw.items).toEqual(['i9', 'i7']);
    expect(Array.from(raw.ratings)).toEqual([4, 2.5]);
  });

  test('CRLF line ends are read like LF', () => {
    const raw = parseFixture('reader/crlf.tsv', new Reader({ sep: '\t' }));
    expect(raw.items).toEqual(['i1', 'i1']);
    expect(Array.from(raw.ratings)).toEqual([4, 2]);
  });

  test('fields beyond the line format are ignored (as Surprise)', () => {
    const raw = parseFixture('reader/tab.tsv', new Reader({ sep: '\t' }));
    expect(raw.timestamps).toBeNull();
    expect(Array.from(raw.ratings)).toEqual([3, 3, 1, 5]);
  });

  test('latin-1 decoding', () => {
    const r = new Reader({ encoding: 'latin1' });
    expect(r.decode(Uint8Array.from([0xc1, 0x20, 0x6b, 0xf6]))).toBe('Á kö');
    expect(new Reader().decode(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('a');
  });
});

describe('malformed lines: file, line number and problem', () => {
  const tab = new Reader({ sep: '\t' });
  const cases: [string, Reader, number, RegExp][] = [
    ['malformed/too-few-fields.tsv', tab, 3, /expected at least 3 fields .* found 2/],
    ['malformed/rating-not-number.tsv', tab, 2, /rating "abc" is not a number/],
    ['malformed/rating-nan.tsv', tab, 1, /rating "nan" is not a number/],
    [
      'malformed/rating-out-of-scale.tsv',
      tab,
      4,
      /rating "6" is outside the rating scale \[1, 5\]/,
    ],
    [
      'malformed/rating-empty.csv',
      Reader.builtin('ml-latest-small'),
      3,
      /rating "" is not a number/,
    ],
    [
      'malformed/timestamp-bad.tsv',
      new Reader({ sep: '\t', lineFormat: 'user item rating timestamp' }),
      2,
      /timestamp "12x" is not a number/,
    ],
    ['malformed/empty-user.csv', new Reader({ sep: ',', skipLines: 1 }), 3, /user id is empty/],
    [
      'malformed/unterminated-quote.csv',
      new Reader({ sep: ',', skipLines: 1 }),
      3,
      /unterminated quoted field/,
    ],
  ];
  test.each(cases)('%s', (rel, reader, line, problem) => {
    const e = formatError(rel, reader);
    const file = path.join(FIX, rel);
    expect(e.file).toBe(file);
    expect(e.line).toBe(line);
    expect(e.problem).toMatch(problem);
    expect(e.message.startsWith(`${file}:${line}: `)).toBe(true);
  });

  test('half stars outside [0.5, 5] are refused, inside accepted', () => {
    const r = new Reader({ sep: ',', ratingScale: [0.5, 5] });
    expect(Array.from(r.parse('a,b,0.5\na,c,5\n', 'x').ratings)).toEqual([0.5, 5]);
    expect(() => r.parse('a,b,0.5\na,c,5.5\n', 'x')).toThrow('x:2: rating "5.5" is outside');
    expect(() => r.parse('a,b,0\n', 'x')).toThrow('x:1: rating "0" is outside');
  });

  test('field counts in messages count every field of the line', () => {
    const r = new Reader({ sep: '::', lineFormat: 'user item rating timestamp' });
    expect(() => r.parse('1::2::3::4\n1::2::3\n', 'f.dat')).toThrow(
      'f.dat:2: expected at least 4 fields (user item rating timestamp) separated by "::", found 3',
    );
  });

  test.each([
    ['ml-1m', 'ratings.dat', '1::2::3::978300760\n1::3::4::978300761::9\n', '"::"'],
    ['ml-100k', 'u.data', '1\t2\t3\t881250949\n1\t3\t4\t881250949\textra\n', '"\\t"'],
    ['ml-latest-small', 'ratings.csv', 'h\n1,2,3,964982703\n1,3,4,964982703,x\n', '","'],
    ['ml-latest-small', 'ratings.csv', 'h\n1,2,3,964982703\n"1",3,4,964982703,x\n', '","'],
  ] as const)(
    'refuses a %s line with 5 fields (%s): the built-in formats name every field',
    (name, file, text, sep) => {
      const line = name === 'ml-latest-small' ? 3 : 2;
      expect(() => Reader.builtin(name).parse(text, file)).toThrow(
        `${file}:${line}: expected 4 fields (user item rating timestamp) separated by ${sep}, found 5`,
      );
    },
  );

  test('a reader of its own ignores extra fields (Surprise) unless extraFields is reject', () => {
    const text = '1::2::3::978300760::extra\n';
    const lax = new Reader({ sep: '::', lineFormat: 'user item rating timestamp' });
    expect(Array.from(lax.parse(text, 'f').ratings)).toEqual([3]);
    const strict = new Reader({ sep: '::', lineFormat: 'user item rating', extraFields: 'reject' });
    expect(() => strict.parse('1::2::3\n1::2::3::4\n', 'f')).toThrow('f:2: expected 3 fields');
    const ws = new Reader({ extraFields: 'reject' });
    expect(Array.from(ws.parse('a b 3  \n\n', 'f').ratings)).toEqual([3]);
    expect(() => ws.parse('a b 3 4\n', 'f')).toThrow('f:1: expected 3 fields');
  });

  test('a bad timestamp inside a quoted CSV line is named', () => {
    const r = new Reader({ sep: ',', lineFormat: 'user item rating timestamp' });
    expect(() => r.parse('"a",b,3,1x\n', 'q.csv')).toThrow(
      'q.csv:1: timestamp "1x" is not a number',
    );
    expect(() => r.parse('"a",b,x,1\n', 'q.csv')).toThrow('q.csv:1: rating "x" is not a number');
  });

  test('the header line counts in the line numbers', () => {
    const r = new Reader({ sep: ',', skipLines: 2 });
    expect(() => r.parse('h1\nh2\na,b,3\na,c,x\n', 'f.csv')).toThrow('f.csv:4: rating "x"');
  });
});

describe('parseDecimal', () => {
  test.each([
    ['3', 3],
    ['4.5', 4.5],
    ['-1', -1],
    ['+2.', 2],
    ['.5', 0.5],
    ['1e3', 1000],
    ['2.5E-1', 0.25],
  ])('%s → %d', (s, v) => expect(parseDecimal(s)).toBe(v));
  test.each(['', 'nan', 'inf', 'Infinity', '0x10', '1.2.3', '1e', '.', '-', '3 4', '5a'])(
    '%j is not a number',
    (s) => expect(parseDecimal(s)).toBeNaN(),
  );
});

describe('rating values equal Number() of their text', () => {
  test('short decimals (fast path) and long ones (fallback) parse to the same double', () => {
    // Deterministic spread of decimal texts: 1–20 digits, 0–8 after the point, signs, exponents.
    const texts: string[] = [];
    let x = 12345;
    const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
    for (let k = 0; k < 3000; k++) {
      const len = 1 + (next() % 20);
      let d = '';
      for (let j = 0; j < len; j++) d += String(next() % 10);
      const p = next() % 9;
      let t = p > 0 && p < d.length ? `${d.slice(0, d.length - p)}.${d.slice(d.length - p)}` : d;
      if (k % 7 === 0) t = `-${t}`;
      if (k % 11 === 0) t = `${t}e-3`;
      texts.push(t);
    }
    const reader = new Reader({ sep: ',', ratingScale: [-1e30, 1e30] });
    const parsed = reader.parse(texts.map((t, k) => `u${k},i,${t}`).join('\n'), 'gen');
    for (let k = 0; k < texts.length; k++) expect(parsed.ratings[k]).toBe(Number(texts[k]));
  });
});

describe('splitCsvLine (RFC 4180)', () => {
  test('quoted fields, escaped quotes, empty fields', () => {
    expect(splitCsvLine('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(splitCsvLine(`7789,"11'09""01 - September 11 (2002)",Drama`)).toEqual([
      '7789',
      `11'09"01 - September 11 (2002)`,
      'Drama',
    ]);
    expect(splitCsvLine(',,')).toEqual(['', '', '']);
    expect(splitCsvLine('""')).toEqual(['']);
    expect(splitCsvLine('a,""')).toEqual(['a', '']);
  });
  test('problems', () => {
    expect(splitCsvLine('"abc')).toEqual({ problem: expect.stringMatching(/unterminated/) });
    expect(splitCsvLine('"a"b,c')).toEqual({ problem: expect.stringMatching(/after the closing/) });
  });
});
