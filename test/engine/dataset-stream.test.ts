/**
 * The streaming byte parser (stream-parse.ts) against the reference — `Reader.parse` on the whole
 * decoded text, which runs the line-by-line string parser — on seeded random files holding every
 * kind of line (plain, quoted CSV, CRLF, BOM, blank, non-ASCII ids, leading zeros, exponents,
 * extra fields, bad lines), fed in random chunk sizes; and the counting-sort duplicate removal
 * against a map of pairs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Reader, RawRatings, removeDuplicates } from '../../src/engine/dataset';
import { RatingColumns } from '../../src/engine/dataset/stream-parse';
import {
  parseTrainingFile,
  readTrainingRatings,
  trainingStreamParser,
  type ParsedRatings,
} from '../../src/workers/training-data';
import { RandomState } from '../../src/engine/random';

const SEED = 20261206;

function columns(raw: RawRatings) {
  return {
    users: [...raw.users],
    items: [...raw.items],
    ratings: [...raw.ratings],
    timestamps: raw.timestamps ? [...raw.timestamps] : null,
  };
}

/** Result or error message of a parse. */
function outcome(fn: () => RawRatings): unknown {
  try {
    return columns(fn());
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Feeds `bytes` to a fresh stream parser of `reader` in random pieces. */
function streamed(reader: Reader, bytes: Buffer, rng: RandomState): RawRatings {
  const out = new RatingColumns(reader.fieldIndex.timestamp >= 0);
  const p = reader.streamParser('f.txt', out);
  for (let at = 0; at < bytes.length;) {
    const len = 1 + Math.floor(rng.random() * 40);
    p.push(bytes.subarray(at, at + len));
    at += len;
  }
  p.end();
  return out.build();
}

const ID_POOL = ['1', '2', '007', '7', '196', 'é', 'u-x', '0', '1234567890', ' 3', '東京'];

function randomLine(rng: RandomState, sep: string, bad: boolean): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.random() * xs.length)];
  const r = pick(['1', '2.5', '5', '4.0', '3e0', '+2', ' 3 ', '0.5']);
  const t = pick(['881250949', '1.5e9', '978300760', '12']);
  const fields = [pick(ID_POOL), pick(ID_POOL), r, t];
  if (bad) {
    const kind = Math.floor(rng.random() * 5);
    if (kind === 0) fields[2] = 'x';
    else if (kind === 1) fields[2] = '9';
    else if (kind === 2) fields.pop();
    else if (kind === 3) fields.push('extra');
    else fields[0] = '';
  } else if (sep === ',' && rng.random() < 0.1) fields[1] = '"a, ""b"""';
  return fields.join(sep === 'ws' ? pick([' ', '\t', '  \t']) : sep);
}

function randomFile(rng: RandomState, sep: string, nLines: number, badAt: number): Buffer {
  const lines: string[] = [];
  for (let k = 0; k < nLines; k++) {
    const x = rng.random();
    if (x < 0.03) lines.push('');
    else if (x < 0.05) lines.push('   ');
    else lines.push(randomLine(rng, sep, k === badAt));
  }
  const eol = rng.random() < 0.5 ? '\n' : '\r\n';
  const bom = rng.random() < 0.3 ? '\ufeff' : '';
  const final = rng.random() < 0.5 ? eol : '';
  return Buffer.from(bom + lines.join(eol) + final, 'utf8');
}

describe('streamed parsing', () => {
  const readers: Array<[string, string, Reader]> = [
    [
      'tab',
      '\t',
      new Reader({ lineFormat: 'user item rating timestamp', sep: '\t', ratingScale: [0.5, 5] }),
    ],
    [
      'csv, header, reject extras',
      ',',
      new Reader({
        lineFormat: 'user item rating timestamp',
        sep: ',',
        skipLines: 1,
        ratingScale: [0.5, 5],
        extraFields: 'reject',
      }),
    ],
    [
      '::',
      '::',
      new Reader({ lineFormat: 'user item rating timestamp', sep: '::', ratingScale: [0.5, 5] }),
    ],
    [
      'whitespace, no timestamp',
      'ws',
      new Reader({ lineFormat: 'user item rating', ratingScale: [0.5, 5] }),
    ],
  ];

  it.each(readers)(
    'answers the same ratings and errors as parse(text) when a %s file arrives in random pieces',
    (_name, sep, reader) => {
      const rng = new RandomState(SEED);
      process.stdout.write(`seed ${SEED}\n`);
      let errors = 0;
      let ok = 0;
      for (let trial = 0; trial < 60; trial++) {
        const badAt = trial % 3 === 0 ? Math.floor(rng.random() * 40) : -1;
        const bytes = randomFile(rng, sep, 40, badAt);
        const want = outcome(() => reader.parse(reader.decode(bytes), 'f.txt'));
        const got = outcome(() => streamed(reader, bytes, rng));
        expect(got).toEqual(want);
        if ((want as { error?: string }).error) errors++;
        else ok++;
      }
      // both outcomes were exercised
      expect(errors).toBeGreaterThan(5);
      expect(ok).toBeGreaterThan(20);
    },
  );

  it('answers the same as parse(text) for a file read from disk in 4 MiB chunks, ids interned', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-'));
    const file = path.join(dir, 'r.csv');
    // > 4 MiB so that lines straddle chunk boundaries
    const lines = ['userId,movieId,rating,timestamp'];
    const rng = new RandomState(SEED);
    for (let k = 0; k < 300_000; k++) {
      lines.push(
        `${1 + Math.floor(rng.random() * 5000)},${1 + Math.floor(rng.random() * 3000)},${(1 + Math.floor(rng.random() * 10)) / 2},${900000000 + k}`,
      );
    }
    fs.writeFileSync(file, lines.join('\n') + '\n');
    expect(fs.statSync(file).size).toBeGreaterThan(4 << 20);
    const reader = Reader.builtin('ml-latest-small');
    const got = reader.parseFile(file);
    const want = reader.parse(fs.readFileSync(file, 'utf8'), file);
    expect(got.isInterned).toBe(true);
    expect(got.length).toBe(300_000);
    let mismatches = 0;
    const [gu, gi, wu, wi] = [got.users, got.items, want.users, want.items];
    for (let k = 0; k < 300_000; k++) {
      if (
        gu[k] !== wu[k] ||
        gi[k] !== wi[k] ||
        got.ratings[k] !== want.ratings[k] ||
        got.timestamps![k] !== want.timestamps![k]
      ) {
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
    expect(gu[299_999]).toBe(lines[300_000].split(',')[0]);
    fs.rmSync(dir, { recursive: true });
  });

  it('answers the same as parseTrainingFile for training files in random pieces (errors included)', () => {
    const rng = new RandomState(SEED + 1);
    let errors = 0;
    for (let trial = 0; trial < 60; trial++) {
      const badAt = trial % 3 === 0 ? Math.floor(rng.random() * 40) : -1;
      const text = randomFile(rng, 'ws', 40, badAt).toString('utf8');
      let want: unknown;
      try {
        const p: ParsedRatings = { users: [], items: [], ratings: [], timestamps: [] };
        parseTrainingFile(text, '/b.txt', p, [0.5, 5]);
        want = p;
      } catch (e) {
        want = { error: (e as Error).message };
        errors++;
      }
      let got: unknown;
      try {
        const out = new RatingColumns(true);
        const parser = trainingStreamParser('/b.txt', out, [0.5, 5]);
        const bytes = Buffer.from(text, 'utf8');
        for (let at = 0; at < bytes.length; at += 7) parser.push(bytes.subarray(at, at + 7));
        parser.end();
        const raw = out.build();
        got = {
          users: [...raw.users],
          items: [...raw.items],
          ratings: [...raw.ratings],
          timestamps: [...raw.timestamps!],
        };
      } catch (e) {
        got = { error: (e as Error).message };
      }
      expect(got).toEqual(want);
    }
    expect(errors).toBeGreaterThan(5);
  });

  it('reads training files of several commits with the last rating of a pair winning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'training-'));
    fs.mkdirSync(path.join(dir, 'base'));
    fs.mkdirSync(path.join(dir, 'batches'));
    fs.writeFileSync(path.join(dir, 'base', 'a.txt'), '1 10 4\n2 10 3 100\n1 11 2\n');
    fs.writeFileSync(path.join(dir, 'batches', '1-x.txt'), '1 10 5\r\n\n3 12 1\n');
    const m = readTrainingRatings(dir);
    expect(m.lines).toBe(5);
    expect(m.duplicatesReplaced).toBe(1);
    expect([...m.raw.users]).toEqual(['2', '1', '1', '3']);
    expect([...m.raw.items]).toEqual(['10', '11', '10', '12']);
    expect([...m.raw.ratings]).toEqual([3, 2, 5, 1]);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('removeDuplicates (counting sort by user, stamps per item)', () => {
  /** The rule by a map of pairs: the last rating of each pair, at its own position. */
  function reference(users: string[], items: string[]): number[] {
    const last = new Map<string, number>();
    users.forEach((u, k) => last.set(`${u}\u0000${items[k]}`, k));
    return users.map((u, k) => k).filter((k) => last.get(`${users[k]}\u0000${items[k]}`) === k);
  }

  it('keeps the last rating of each (user, item), in file order, as a map of pairs would', () => {
    const rng = new RandomState(SEED);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(rng.random() * 3000);
      const nU = 1 + Math.floor(rng.random() * 50);
      const nI = 1 + Math.floor(rng.random() * 80);
      const users = Array.from({ length: n }, () => `u${Math.floor(rng.random() * nU)}`);
      const items = Array.from({ length: n }, () => `i${Math.floor(rng.random() * nI)}`);
      const ratings = Float64Array.from({ length: n }, (_, k) => k);
      const { raw, duplicates } = removeDuplicates(new RawRatings(users, items, ratings));
      const keep = reference(users, items);
      expect(duplicates).toBe(n - keep.length);
      expect([...raw.ratings]).toEqual(keep);
      expect([...raw.users]).toEqual(keep.map((k) => users[k]));
    }
  });
});
