/**
 * The batch-file encoder (ChunkEncoder, src/services/batch-encoder.ts) against
 * hand-written expected bytes: the training layout `user movie rating [timestamp]`, ratings as
 * `String(number)`, timestamps floored to whole seconds, ids kept across chunks by code.
 */
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { chunkText } from '../../src/cli/commands/import-ratings';
import { ChunkEncoder } from '../../src/services/batch-encoder';

describe('ChunkEncoder', () => {
  it('writes the training layout, byte for byte, for ids, half stars, missing and fractional timestamps', () => {
    const users = ['196', 'é-user', '196'];
    const raw = RawRatings.fromCodes(
      new Int32Array([0, 1, 0]),
      ['196', 'é-user'],
      new Int32Array([0, 1, 1]),
      ['242', 'm/2'],
      new Float64Array([3, 4.5, 0.5]),
      new Float64Array([881250949, NaN, 1234.9]),
    );
    expect(raw.users).toEqual(users);
    const want = '196 242 3 881250949\né-user m/2 4.5\n196 m/2 0.5 1234\n';
    expect(chunkText(raw, 0)).toBe(want);
    // a second chunk sharing the id tables, through the same encoder: same bytes per id
    const enc = new ChunkEncoder();
    expect(enc.encode(raw, 0).toString('utf8')).toBe(want);
    const next = RawRatings.fromCodes(
      new Int32Array([1]),
      ['196', 'é-user'],
      new Int32Array([0]),
      ['242', 'm/2'],
      new Float64Array([5]),
      new Float64Array([0]),
    );
    expect(enc.encode(next, 3).toString('utf8')).toBe('é-user 242 5 0\n');
    // other id tables through the same encoder: code 0 is another id now
    const other = RawRatings.fromCodes(
      new Int32Array([0, 1]),
      ['u9', 'u10'],
      new Int32Array([1, 0]),
      ['m7', 'm8'],
      new Float64Array([1, 2]),
      null,
    );
    expect(enc.encode(other, 0).toString('utf8')).toBe('u9 m8 1\nu10 m7 2\n');
  });

  it('names the rating in the file when an id holds whitespace', () => {
    const raw = RawRatings.fromCodes(
      new Int32Array([0, 1]),
      ['1', 'a b'],
      new Int32Array([0, 0]),
      ['10'],
      new Float64Array([1, 2]),
      null,
    );
    expect(() => new ChunkEncoder().encode(raw, 40)).toThrow(
      'rating 42: user id "a b" or movie id "10" holds whitespace',
    );
  });

  it('writes timestamps as String() does across magnitudes (seeded)', () => {
    const seed = 1717;
    process.stdout.write(`seed ${seed}\n`);
    let s = seed;
    const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const n = 2000;
    const ts = new Float64Array(n);
    for (let k = 0; k < n; k++) ts[k] = Math.floor(rand() * 10 ** Math.floor(rand() * 16));
    ts[0] = -5;
    ts[1] = 9007199254740991;
    const raw = RawRatings.fromCodes(
      new Int32Array(n),
      ['u'],
      new Int32Array(n),
      ['i'],
      new Float64Array(n).fill(2),
      ts,
    );
    const lines = chunkText(raw, 0).split('\n').slice(0, n);
    expect(lines).toEqual(Array.from(ts, (t) => `u i 2 ${String(t)}`));
  });
});
