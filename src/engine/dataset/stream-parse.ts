/**
 * Ratings files decoded in streamed chunks of bytes, at any size.
 *
 * V8 holds at most ~512 MiB in one string and 2^24 entries in one `Map` (STACK.md, "Found since"):
 * MovieLens 25M's `ratings.csv` (~678 MB, 25 M ratings) fits neither as one string nor as a map of
 * ratings. Here a file is read in chunks of bytes ({@link CHUNK_BYTES}); lines are found by their
 * `\n` byte (safe in UTF-8 and Latin-1); the fields of a plain ASCII line are turned into numbers
 * straight from the bytes, without a string per line; and ids are interned into
 * {@link RatingColumns}: one code per rating in an `Int32Array`, one table of the distinct raw ids
 * (a map of distinct ids, at most 2^24 — users or items, never ratings; decimal ids without a
 * leading zero skip even that map through a direct table indexed by their value).
 *
 * A line the fast path does not take (quotes, non-ASCII bytes, a number written another way, a
 * blank or malformed line) is decoded on its own and handed to the format's own line parser (the
 * `slowLine` callback), which gives the exact same result or error as reading the whole text would.
 */
import * as fs from 'node:fs';
import { RawRatings } from './raw-ratings';

/** Bytes read at once (4 MiB). */
export const CHUNK_BYTES = 4 << 20;
/** Longest line accepted (bytes); longer is an error naming the line. */
export const MAX_LINE_BYTES = 16 << 20;
/** Largest id value kept in the direct table (ids above use a map). */
const DIRECT_LIMIT = 1 << 24;

/** One id column's interning state: distinct raw ids and their codes. */
class IdTable {
  /** Distinct raw ids in order of first appearance; the code of an id is its index. */
  readonly ids: string[] = [];
  private readonly byText = new Map<string, number>();
  /** code + 1 per canonical decimal value (0 = not seen). */
  private direct = new Int32Array(1024);
  private readonly bigDirect = new Map<number, number>();

  /** The code of a raw id given as text. */
  ofText(s: string): number {
    let c = this.byText.get(s);
    if (c === undefined) {
      c = this.ids.length;
      if (c >= DIRECT_LIMIT) {
        throw new RangeError(`more than ${DIRECT_LIMIT} distinct ids in one column`);
      }
      this.ids.push(s);
      this.byText.set(s, c);
    }
    return c;
  }

  /** The code of a canonical decimal id (digits, no leading zero unless it is `0`), value v. */
  ofValue(v: number): number {
    if (v < DIRECT_LIMIT) {
      if (v >= this.direct.length) {
        let size = this.direct.length;
        while (size <= v) size *= 2;
        const next = new Int32Array(Math.min(size, DIRECT_LIMIT));
        next.set(this.direct);
        this.direct = next;
      }
      const c = this.direct[v];
      if (c !== 0) return c - 1;
      const code = this.ofText(String(v));
      this.direct[v] = code + 1;
      return code;
    }
    let c = this.bigDirect.get(v);
    if (c === undefined) {
      c = this.ofText(String(v));
      this.bigDirect.set(v, c);
    }
    return c;
  }
}

/**
 * Growable columns of ratings with interned ids: the output of the streaming parsers. `take()`
 * hands out the rows so far as {@link RawRatings} (sharing the id tables) and starts again, for
 * consumers that work chunk by chunk (the importer).
 */
export class RatingColumns {
  private readonly users = new IdTable();
  private readonly items = new IdTable();
  private uc = new Int32Array(1 << 16);
  private ic = new Int32Array(1 << 16);
  private r = new Float64Array(1 << 16);
  private t: Float64Array;
  private n = 0;

  /** @param hasTimestamps whether a timestamp column is kept (NaN where a line has none). */
  constructor(readonly hasTimestamps: boolean) {
    this.t = new Float64Array(hasTimestamps ? 1 << 16 : 0);
  }

  /** Number of rows held. */
  get length(): number {
    return this.n;
  }

  private grow(): void {
    const size = this.uc.length * 2;
    const g = <T extends Int32Array | Float64Array>(a: T, make: (k: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.uc = g(this.uc, (k) => new Int32Array(k));
    this.ic = g(this.ic, (k) => new Int32Array(k));
    this.r = g(this.r, (k) => new Float64Array(k));
    if (this.hasTimestamps) this.t = g(this.t, (k) => new Float64Array(k));
  }

  /** Appends a rating with codes already interned (see `userOf*`/`itemOf*`). */
  pushCodes(u: number, i: number, r: number, t: number): void {
    if (this.n === this.uc.length) this.grow();
    this.uc[this.n] = u;
    this.ic[this.n] = i;
    this.r[this.n] = r;
    if (this.hasTimestamps) this.t[this.n] = t;
    this.n++;
  }

  /** Appends a rating with raw ids as text. */
  push(user: string, item: string, r: number, t: number): void {
    this.pushCodes(this.users.ofText(user), this.items.ofText(item), r, t);
  }

  /** Code of a user id given as a canonical decimal value. */
  userOfValue(v: number): number {
    return this.users.ofValue(v);
  }

  /** Code of an item id given as a canonical decimal value. */
  itemOfValue(v: number): number {
    return this.items.ofValue(v);
  }

  /** Code of a user id given as text. */
  userOfText(s: string): number {
    return this.users.ofText(s);
  }

  /** Code of an item id given as text. */
  itemOfText(s: string): number {
    return this.items.ofText(s);
  }

  /** The rows held, as RawRatings (copies of the columns; the id tables are shared). */
  build(): RawRatings {
    return RawRatings.fromCodes(
      this.uc.slice(0, this.n),
      this.users.ids,
      this.ic.slice(0, this.n),
      this.items.ids,
      this.r.slice(0, this.n),
      this.hasTimestamps ? this.t.slice(0, this.n) : null,
    );
  }

  /**
   * The first `count` rows (default all) as RawRatings; the rows after them move to the front.
   * The id tables stay, so codes stay stable across takes.
   */
  take(count: number = this.n): RawRatings {
    const k = Math.min(count, this.n);
    const out = RawRatings.fromCodes(
      this.uc.slice(0, k),
      this.users.ids,
      this.ic.slice(0, k),
      this.items.ids,
      this.r.slice(0, k),
      this.hasTimestamps ? this.t.slice(0, k) : null,
    );
    this.uc.copyWithin(0, k, this.n);
    this.ic.copyWithin(0, k, this.n);
    this.r.copyWithin(0, k, this.n);
    if (this.hasTimestamps) this.t.copyWithin(0, k, this.n);
    this.n -= k;
    return out;
  }
}

/** The fields of a line format, for the fast byte path. */
export interface FastFormat {
  /**
   * Field separator: `'whitespace'` (runs of space, tab, CR, VT, FF), `'spaceTab'` (runs of space
   * and tab; the line trimmed first), or a literal ASCII separator (`'\t'`, `','`, `'::'`), each
   * field trimmed of whitespace.
   */
  sep: 'whitespace' | 'spaceTab' | string;
  /** Field positions (0-based); `timestamp` −1 when the format has none. */
  user: number;
  item: number;
  rating: number;
  timestamp: number;
  /** A line must have at least this many fields… */
  minFields: number;
  /** …and at most this many (Infinity: extra fields ignored). */
  maxFields: number;
  /** Ratings outside `[lo, hi]` go to the slow path (which reports them). */
  lo: number;
  hi: number;
  /** Lines holding a double quote go to the slow path (CSV with RFC 4180 quoting). */
  quotes: boolean;
  /** Header lines skipped at the start. */
  skipLines: number;
}

/** Parses one line the fast path did not take; appends to `out` or throws. */
export type SlowLine = (line: string, lineNo: number, out: RatingColumns) => void;

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A push parser: feed it the file's bytes in any pieces with `push`, then `end()`. Complete lines
 * are parsed as they arrive; a partial last line waits for the next piece. Line numbers count
 * from 1 over all lines, as in the file.
 */
export class StreamParser {
  private tail: Uint8Array = new Uint8Array(0);
  private lineNo = 0;
  private first = true;
  private readonly sepBytes: Uint8Array | null;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly decoder: TextDecoder;
  /** Bytes of complete lines consumed so far (for progress). */
  bytesDone = 0;

  /**
   * @param format the fast path's line format.
   * @param slowLine the format's own parser for any other line.
   * @param out where ratings go.
   * @param encoding the file's text encoding (for slow lines).
   * @param file the file's name, for the line-length error.
   */
  constructor(
    private readonly format: FastFormat,
    private readonly slowLine: SlowLine,
    readonly out: RatingColumns,
    encoding: 'utf-8' | 'latin1',
    private readonly file: string,
  ) {
    const s = format.sep;
    this.sepBytes =
      s === 'whitespace' || s === 'spaceTab'
        ? null
        : [...s].every((ch) => ch.charCodeAt(0) < 0x80)
          ? Buffer.from(s, 'latin1')
          : null;
    const n = Math.min(format.maxFields === Infinity ? format.minFields : format.maxFields, 64);
    this.starts = new Int32Array(n + 1);
    this.ends = new Int32Array(n + 1);
    this.decoder = new TextDecoder(encoding === 'latin1' ? 'latin1' : 'utf-8');
  }

  /** Number of lines seen so far (complete ones). */
  get lines(): number {
    return this.lineNo;
  }

  /** Parses the complete lines of `tail + bytes`; keeps the partial last line. */
  push(bytes: Uint8Array): void {
    let buf: Uint8Array;
    if (this.tail.length > 0) {
      buf = new Uint8Array(this.tail.length + bytes.length);
      buf.set(this.tail, 0);
      buf.set(bytes, this.tail.length);
    } else buf = bytes;
    let pos = 0;
    if (this.first && buf.length >= 3) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    const n = buf.length;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      this.line(buf, pos, nl);
      this.bytesDone += nl + 1 - pos;
      pos = nl + 1;
    }
    if (n - pos > MAX_LINE_BYTES) {
      throw new RangeError(
        `${this.file} line ${this.lineNo + 1}: longer than ${MAX_LINE_BYTES} bytes, not a ratings line`,
      );
    }
    this.tail = Uint8Array.prototype.slice.call(buf, pos); // a copy (Buffer#slice is a view)
  }

  /** Parses the last line (one without a final newline). */
  end(): void {
    if (this.tail.length > 0) {
      const t = this.tail;
      let pos = 0;
      if (this.first && t.length >= 3 && t[0] === 0xef && t[1] === 0xbb && t[2] === 0xbf) pos = 3;
      this.line(t, pos, t.length);
      this.bytesDone += t.length;
      this.tail = new Uint8Array(0);
    }
  }

  private line(buf: Uint8Array, a: number, e: number): void {
    this.lineNo++;
    if (this.lineNo <= this.format.skipLines) return;
    let b = e;
    if (b > a && buf[b - 1] === 13) b--;
    if (!this.fast(buf, a, b)) {
      this.slowLine(this.decoder.decode(buf.subarray(a, b)), this.lineNo, this.out);
    }
  }

  /** The fast path: @returns false when the line needs the slow path. */
  private fast(buf: Uint8Array, a: number, b: number): boolean {
    const f = this.format;
    const starts = this.starts;
    const ends = this.ends;
    const cap = starts.length; // fields we look for (one more than needed, to see extras)
    let found = 0;
    if (f.sep === 'whitespace' || f.sep === 'spaceTab') {
      const ws = f.sep === 'whitespace';
      let k = a;
      while (k < b) {
        const c = buf[k];
        if (c >= 0x80) return false;
        if (c === 32 || c === 9 || (ws && (c === 13 || c === 11 || c === 12))) {
          k++;
          continue;
        }
        if (c === 13 || c === 11 || c === 12) return false; // spaceTab: let trim() decide
        if (found === cap) return false;
        if (found === f.minFields && f.maxFields === Infinity) break;
        starts[found] = k;
        while (k < b) {
          const d = buf[k];
          if (d === 32 || d === 9 || d === 13 || d === 11 || d === 12) break;
          if (d >= 0x80) return false;
          k++;
        }
        ends[found++] = k;
      }
    } else {
      const sep = this.sepBytes;
      if (sep === null) return false;
      const s0 = sep[0];
      const sl = sep.length;
      const quote = f.quotes ? 34 : -1;
      const stopAt = f.maxFields === Infinity ? f.minFields : -1;
      let fs = a;
      for (;;) {
        // find the next separator or the end, checking bytes on the way
        let e = fs;
        for (; e < b; e++) {
          const c = buf[e];
          if (c === s0) {
            if (sl === 1 || (e + sl <= b && matches(buf, e, sep))) break;
          } else if (c >= 0x80 || c === quote) return false;
        }
        if (found === cap) return false;
        let s = fs;
        let t = e;
        if (s < t && buf[s] <= 32) while (s < t && isWs(buf[s])) s++;
        if (t > s && buf[t - 1] <= 32) while (t > s && isWs(buf[t - 1])) t--;
        starts[found] = s;
        ends[found++] = t;
        if (e >= b || found === stopAt) break;
        fs = e + sl;
      }
    }
    if (found < f.minFields || found > f.maxFields) return false;
    // ids
    const uv = decimalId(buf, starts[f.user], ends[f.user]);
    const iv = decimalId(buf, starts[f.item], ends[f.item]);
    if (uv === -2 || iv === -2) return false; // empty id: the slow path reports it
    const r = decimal(buf, starts[f.rating], ends[f.rating]);
    if (Number.isNaN(r) || r < f.lo || r > f.hi) return false;
    let t = NaN;
    if (f.timestamp >= 0 && f.timestamp < found) {
      t = decimal(buf, starts[f.timestamp], ends[f.timestamp]);
      if (Number.isNaN(t)) return false;
    }
    const out = this.out;
    const u =
      uv >= 0 ? out.userOfValue(uv) : out.userOfText(latin1(buf, starts[f.user], ends[f.user]));
    const i =
      iv >= 0 ? out.itemOfValue(iv) : out.itemOfText(latin1(buf, starts[f.item], ends[f.item]));
    out.pushCodes(u, i, r, t);
    return true;
  }
}

function matches(buf: Uint8Array, at: number, sep: Uint8Array): boolean {
  for (let k = 1; k < sep.length; k++) if (buf[at + k] !== sep[k]) return false;
  return true;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}

/** An ASCII range as a string. */
function latin1(buf: Uint8Array, a: number, b: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('latin1');
}

/**
 * The value of a canonical decimal id (1…9 digits, no leading zero unless it is `0`);
 * −1 for any other non-empty id (kept as text), −2 for an empty one.
 */
function decimalId(buf: Uint8Array, a: number, b: number): number {
  const len = b - a;
  if (len === 0) return -2;
  if (len > 9 || (len > 1 && buf[a] === 48)) return -1;
  let v = 0;
  for (let k = a; k < b; k++) {
    const c = buf[k] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * A plain decimal number from bytes: optional sign, at most 15 digits with at most one point, at
 * least one digit — the value `Number()` gives (exact integer over an exact power of ten, one
 * rounding). NaN for anything else (the slow path then decides).
 */
function decimal(buf: Uint8Array, a: number, b: number): number {
  let k = a;
  let neg = false;
  const c0 = buf[k];
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    k++;
  }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let point = false;
  for (; k < b; k++) {
    const c = buf[k];
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (point) frac++;
    } else if (c === 46 && !point) point = true;
    else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = frac > 0 ? m / POW10[frac] : m;
  return neg ? -v : v;
}

/**
 * Reads a whole file through a {@link StreamParser} in chunks of {@link CHUNK_BYTES}.
 * @param onChunk called after each chunk with the bytes consumed so far (progress).
 * @throws Error naming the file when it cannot be read; the parser's errors.
 */
export function parseFileStreaming(
  file: string,
  parser: StreamParser,
  onChunk?: (bytesRead: number) => void,
): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `ratings file ${file} does not exist`
        : `cannot read ratings file ${file}: ${(e as Error).message}`,
    );
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let total = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (got === 0) break;
      total += got;
      parser.push(buf.subarray(0, got));
      onChunk?.(total);
    }
    parser.end();
  } finally {
    fs.closeSync(fd);
  }
}
