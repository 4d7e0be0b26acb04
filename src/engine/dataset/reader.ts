/**
 * How to read a ratings file: Surprise's `Reader` (surprise/reader.py).
 *
 * A reader knows the line format (which fields a line holds, in which order), the separator, how
 * many header lines to skip and the rating scale. `Reader.builtin(name)` gives the reader of a
 * built-in data set. `reader.parse(text, file)` turns a file's text into {@link RawRatings}, or
 * throws a {@link DatasetFormatError} naming the file, the line and the problem.
 *
 * Differences from Surprise, all on the side of safety:
 * - a rating outside the rating scale is an error (Surprise keeps it silently);
 * - a rating or timestamp that is not a plain decimal number is an error (Surprise's `float()`
 *   would accept `nan` or `inf`);
 * - blank lines are skipped (Surprise fails on them with a Python traceback);
 * - with `sep: ','`, double-quoted fields are read as RFC 4180 says.
 * As in Surprise, fields are trimmed and fields beyond those the line format names are ignored
 * (so `'user item rating'` reads a file that also has timestamps), unless `extraFields: 'reject'`:
 * the built-in data sets' readers use it, since their files have exactly the fields they name
 * (a `ratings.dat` line with 5 fields is an error, not a rating).
 */
import { RawRatings, checkRatingScale, type RatingScale } from './raw-ratings';
import { DatasetFormatError } from './errors';
import { splitCsvLine } from './csv';
import { RatingColumns, StreamParser, parseFileStreaming, type FastFormat } from './stream-parse';

/** Names of the built-in data sets. */
export type BuiltinDatasetName = 'ml-100k' | 'ml-1m' | 'ml-latest-small';

/** The built-in data set names, in documentation order. */
export const BUILTIN_DATASET_NAMES: readonly BuiltinDatasetName[] = [
  'ml-100k',
  'ml-1m',
  'ml-latest-small',
];

/** Options of a {@link Reader} (Surprise's `Reader(line_format, sep, rating_scale, skip_lines)`). */
export interface ReaderOptions {
  /**
   * The fields of a line, space-separated, in file order: `user`, `item`, `rating` (required) and
   * optionally `timestamp`, each at most once. Default `'user item rating'`.
   */
  lineFormat?: string;
  /**
   * The field separator: `'\t'`, `','` (CSV with RFC 4180 quoting), `'::'`, any other literal
   * string, or `'whitespace'` / undefined for any run of spaces and tabs (Python's `str.split()`).
   */
  sep?: string;
  /** Number of lines to skip at the start of the file (headers). Default 0. */
  skipLines?: number;
  /** The rating scale `[lowest, highest]`, lowest < highest. Default `[1, 5]`. */
  ratingScale?: RatingScale;
  /** Text encoding of the file. Default `'utf-8'` (a leading BOM is dropped). */
  encoding?: 'utf-8' | 'latin1';
  /**
   * A line with more fields than `lineFormat` names: `'ignore'` them (Surprise's behaviour, the
   * default) or `'reject'` the line with a DatasetFormatError (the built-in data sets' readers).
   */
  extraFields?: 'ignore' | 'reject';
}

const FIELD_NAMES = ['user', 'item', 'rating', 'timestamp'] as const;
type FieldName = (typeof FIELD_NAMES)[number];

/** Readers of the built-in data sets (Surprise's `BUILTIN_DATASETS` reader parameters). */
const BUILTIN_READERS: Record<
  BuiltinDatasetName,
  Required<Omit<ReaderOptions, 'sep'>> & { sep: string }
> = {
  'ml-100k': {
    lineFormat: 'user item rating timestamp',
    sep: '\t',
    skipLines: 0,
    ratingScale: [1, 5],
    encoding: 'utf-8',
    extraFields: 'reject',
  },
  'ml-1m': {
    lineFormat: 'user item rating timestamp',
    sep: '::',
    skipLines: 0,
    ratingScale: [1, 5],
    encoding: 'utf-8',
    extraFields: 'reject',
  },
  'ml-latest-small': {
    lineFormat: 'user item rating timestamp',
    sep: ',',
    skipLines: 1,
    ratingScale: [0.5, 5],
    encoding: 'utf-8',
    extraFields: 'reject',
  },
};

/**
 * Reads ratings files line by line (Surprise's `Reader`).
 *
 * @example
 * new Reader({ lineFormat: 'user item rating timestamp', sep: '\t' })  // u.data
 * new Reader({ sep: ',', skipLines: 1, ratingScale: [0.5, 5] })        // a CSV with a header
 */
export class Reader {
  /** The line format, normalised (single spaces). */
  readonly lineFormat: string;
  /** The separator; undefined means any run of whitespace. */
  readonly sep: string | undefined;
  /** Header lines skipped at the start of a file. */
  readonly skipLines: number;
  /** The rating scale `[lowest, highest]`. */
  readonly ratingScale: RatingScale;
  /** Text encoding of the files. */
  readonly encoding: 'utf-8' | 'latin1';
  /** Position of each field in a split line (−1 for an absent timestamp). */
  readonly fieldIndex: Readonly<Record<FieldName, number>>;
  /** Number of fields a line must have at least. */
  readonly minFields: number;
  /** Whether a line with more fields than the line format names is an error. */
  readonly rejectExtraFields: boolean;

  /**
   * @throws RangeError for an unknown or repeated field name, a missing user/item/rating field, an
   *   empty separator, a negative or fractional `skipLines`, a rating scale that is not two
   *   finite numbers with lowest < highest, or an `extraFields` other than ignore/reject.
   */
  constructor(options: ReaderOptions = {}) {
    const tokens = (options.lineFormat ?? 'user item rating').trim().split(/\s+/);
    const idx: Record<FieldName, number> = { user: -1, item: -1, rating: -1, timestamp: -1 };
    tokens.forEach((t, k) => {
      if (!(FIELD_NAMES as readonly string[]).includes(t)) {
        throw new RangeError(
          `lineFormat "${options.lineFormat}": unknown field "${t}" (expected user, item, rating, timestamp)`,
        );
      }
      if (idx[t as FieldName] !== -1) {
        throw new RangeError(`lineFormat "${options.lineFormat}": field "${t}" appears twice`);
      }
      idx[t as FieldName] = k;
    });
    for (const f of ['user', 'item', 'rating'] as const) {
      if (idx[f] === -1) {
        throw new RangeError(`lineFormat "${options.lineFormat}": the field "${f}" is required`);
      }
    }
    const sep = options.sep;
    if (sep !== undefined && sep.length === 0) {
      throw new RangeError('sep must not be empty (use "whitespace" for any run of whitespace)');
    }
    const skip = options.skipLines ?? 0;
    if (!Number.isInteger(skip) || skip < 0) {
      throw new RangeError(`skipLines must be a non-negative integer, got ${skip}`);
    }
    const scale = checkRatingScale(options.ratingScale ?? [1, 5]);
    const encoding = options.encoding ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'latin1') {
      throw new RangeError(`encoding must be "utf-8" or "latin1", got "${encoding}"`);
    }
    this.lineFormat = tokens.join(' ');
    this.sep = sep === undefined || sep === 'whitespace' ? undefined : sep;
    this.skipLines = skip;
    this.ratingScale = scale;
    this.encoding = encoding;
    this.fieldIndex = idx;
    this.minFields = Math.max(idx.user, idx.item, idx.rating, idx.timestamp) + 1;
    const extra = options.extraFields ?? 'ignore';
    if (extra !== 'ignore' && extra !== 'reject') {
      throw new RangeError(`extraFields must be "ignore" or "reject", got "${String(extra)}"`);
    }
    this.rejectExtraFields = extra === 'reject';
  }

  /**
   * The reader of a built-in data set (Surprise's `Reader(name=...)`):
   * `ml-100k`: `user item rating timestamp`, tab, scale [1, 5];
   * `ml-1m`: same fields, `::`, scale [1, 5];
   * `ml-latest-small`: same fields, CSV with one header line, scale [0.5, 5].
   * @throws RangeError for an unknown name.
   */
  static builtin(name: BuiltinDatasetName): Reader {
    const opts = BUILTIN_READERS[name];
    if (!opts) {
      throw new RangeError(
        `unknown built-in data set "${name}" (expected one of ${BUILTIN_DATASET_NAMES.join(', ')})`,
      );
    }
    return new Reader(opts);
  }

  /** The separator as a person would write it (for messages). */
  describeSep(): string {
    if (this.sep === undefined) return 'whitespace';
    return JSON.stringify(this.sep);
  }

  /**
   * Decodes a file's bytes with this reader's encoding (a UTF-8 byte-order mark is dropped).
   */
  decode(bytes: Uint8Array): string {
    return new TextDecoder(this.encoding === 'latin1' ? 'latin1' : 'utf-8').decode(bytes);
  }

  /**
   * Parses the text of a ratings file, in file order (duplicates are kept; `Dataset` removes them).
   *
   * @param text the whole file (lines end with `\n` or `\r\n`).
   * @param file the file's name or path, used in error messages.
   * @returns the ratings; timestamps are a column when the line format has `timestamp`, else null.
   * @throws DatasetFormatError at the first malformed line: too few fields, an empty user or item
   *   id, a rating that is not a decimal number or lies outside the rating scale, a timestamp that
   *   is not a decimal number, an unterminated quoted field (CSV).
   */
  parse(text: string, file: string): RawRatings {
    const out = new RatingColumns(this.fieldIndex.timestamp >= 0);
    this.parseInto(text, file, out, 1, this.skipLines);
    return out.build();
  }

  /**
   * Reads a ratings file of any size in streamed chunks (never one string for the whole file;
   * see stream-parse.ts): the same ratings, in the same order, and the same errors as
   * `parse(decode(bytes), file)`.
   * @param onProgress called after each chunk read with the bytes read so far.
   * @throws Error when the file cannot be read; DatasetFormatError as `parse`.
   */
  parseFile(file: string, onProgress?: (bytesRead: number) => void): RawRatings {
    const out = new RatingColumns(this.fieldIndex.timestamp >= 0);
    parseFileStreaming(file, this.streamParser(file, out), onProgress);
    return out.build();
  }

  /**
   * A push parser of this reader's format writing into `out` (feed it bytes; see
   * {@link StreamParser}), for consumers that work chunk by chunk (the importer).
   */
  streamParser(file: string, out: RatingColumns): StreamParser {
    const { user, item, rating, timestamp } = this.fieldIndex;
    const format: FastFormat = {
      sep: this.sep === undefined ? 'whitespace' : this.sep,
      user,
      item,
      rating,
      timestamp,
      minFields: this.minFields,
      maxFields: this.rejectExtraFields ? this.minFields : Infinity,
      lo: this.ratingScale[0],
      hi: this.ratingScale[1],
      quotes: this.sep === ',',
      skipLines: this.skipLines,
    };
    return new StreamParser(
      format,
      (line, lineNo, o) => this.parseInto(line, file, o, lineNo, 0),
      out,
      this.encoding,
      file,
    );
  }

  /**
   * Parses `text` (whole lines) into `out`; the first line is line `firstLine` of the file and the
   * first `skip` lines are skipped.
   */
  private parseInto(
    text: string,
    file: string,
    out: RatingColumns,
    firstLine: number,
    skip: number,
  ): void {
    const hasTs = this.fieldIndex.timestamp >= 0;

    const need = this.minFields;
    // Field boundaries of the current line: [starts[k], ends[k]) in `text`, trimmed.
    const starts = new Int32Array(need);
    const ends = new Int32Array(need);
    const sep = this.sep;
    const n = text.length;
    // Lines holding a double quote take the RFC 4180 path (CSV only).
    let nextQuote = sep === ',' ? text.indexOf('"') : -1;
    if (nextQuote < 0) nextQuote = n;
    let pos = firstLine === 1 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
    let lineNo = firstLine - 1;
    while (pos < n) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = n;
      let stop = end;
      if (stop > pos && text.charCodeAt(stop - 1) === 13) stop--;
      lineNo++;
      const lineStart = pos;
      pos = end + 1;
      if (lineNo < firstLine + skip) continue;
      if (nextQuote < stop) {
        nextQuote = text.indexOf('"', end);
        if (nextQuote < 0) nextQuote = n;
        this.parseQuotedLine(text.slice(lineStart, stop), file, lineNo, out);
        continue;
      }
      if (nextQuote < end) {
        nextQuote = text.indexOf('"', end);
        if (nextQuote < 0) nextQuote = n;
      }
      const found =
        sep === undefined
          ? scanWhitespace(text, lineStart, stop, starts, ends)
          : scanSeparated(text, lineStart, stop, sep, starts, ends);
      if (
        found === 0 ||
        (found === 1 && starts[0] === ends[0] && isBlankRange(text, lineStart, stop))
      ) {
        continue;
      }
      if (found < need) {
        this.tooFewFields(
          file,
          lineNo,
          text.slice(lineStart, stop),
          sep === undefined ? found : countFields(text, lineStart, stop, sep),
        );
      }
      if (this.rejectExtraFields && hasMoreFields(text, ends[need - 1], stop, sep)) {
        this.tooManyFields(
          file,
          lineNo,
          text.slice(lineStart, stop),
          sep === undefined
            ? text
                .slice(lineStart, stop)
                .trim()
                .split(/[ \t\v\f\r\u00a0]+/).length
            : countFields(text, lineStart, stop, sep),
        );
      }
      const { user: ui, item: ii, rating: ri, timestamp: ti } = this.fieldIndex;
      this.addRecord(
        out,
        file,
        lineNo,
        text.slice(starts[ui], ends[ui]),
        text.slice(starts[ii], ends[ii]),
        parseDecimalRange(text, starts[ri], ends[ri]),
        text,
        starts[ri],
        ends[ri],
        hasTs ? parseDecimalRange(text, starts[ti], ends[ti]) : 0,
        text,
        hasTs ? starts[ti] : 0,
        hasTs ? ends[ti] : 0,
      );
    }
  }

  /** A line with a double quote, split as RFC 4180 says. */
  private parseQuotedLine(line: string, file: string, lineNo: number, out: RatingColumns): void {
    const res = splitCsvLine(line, ',');
    if (!Array.isArray(res)) throw new DatasetFormatError(file, lineNo, res.problem);
    if (res.length < this.minFields) this.tooFewFields(file, lineNo, line, res.length);
    if (this.rejectExtraFields && res.length > this.minFields) {
      this.tooManyFields(file, lineNo, line, res.length);
    }
    const { user: ui, item: ii, rating: ri, timestamp: ti } = this.fieldIndex;
    const f = res.map((x) => x.trim());
    const ts = ti >= 0 ? f[ti] : '';
    this.addRecord(
      out,
      file,
      lineNo,
      f[ui],
      f[ii],
      parseDecimal(f[ri]),
      f[ri],
      0,
      f[ri].length,
      ti >= 0 ? parseDecimal(ts) : 0,
      ts,
      0,
      ts.length,
    );
  }

  private tooFewFields(file: string, lineNo: number, line: string, found: number): never {
    throw new DatasetFormatError(
      file,
      lineNo,
      `expected at least ${this.minFields} fields (${this.lineFormat}) separated by ` +
        `${this.describeSep()}, found ${found}: ${JSON.stringify(line)}`,
    );
  }

  private tooManyFields(file: string, lineNo: number, line: string, found: number): never {
    throw new DatasetFormatError(
      file,
      lineNo,
      `expected ${this.minFields} fields (${this.lineFormat}) separated by ` +
        `${this.describeSep()}, found ${found}: ${JSON.stringify(line)}`,
    );
  }

  /**
   * Checks one parsed line and appends it. The rating's and timestamp's texts are given as ranges
   * of `rSrc` and `tSrc` (the file text, or the fields themselves on the quoted path), sliced only
   * for error messages.
   */
  private addRecord(
    out: RatingColumns,
    file: string,
    lineNo: number,
    user: string,
    item: string,
    r: number,
    rSrc: string,
    ra: number,
    rb: number,
    t: number,
    tSrc: string,
    ta: number,
    tb: number,
  ): void {
    if (user.length === 0) throw new DatasetFormatError(file, lineNo, 'the user id is empty');
    if (item.length === 0) throw new DatasetFormatError(file, lineNo, 'the item id is empty');
    const [lo, hi] = this.ratingScale;
    if (Number.isNaN(r)) {
      const rText = JSON.stringify(rSrc.slice(ra, rb));
      throw new DatasetFormatError(file, lineNo, `rating ${rText} is not a number`);
    }
    if (r < lo || r > hi) {
      const rText = JSON.stringify(rSrc.slice(ra, rb));
      throw new DatasetFormatError(
        file,
        lineNo,
        `rating ${rText} is outside the rating scale [${lo}, ${hi}]`,
      );
    }
    if (out.hasTimestamps && Number.isNaN(t)) {
      const tText = JSON.stringify(tSrc.slice(ta, tb));
      throw new DatasetFormatError(
        file,
        lineNo,
        `timestamp ${tText} is not a number (seconds since 1970)`,
      );
    }
    out.push(user, item, r, t);
  }
}

/**
 * Finds the first `starts.length` whitespace-separated fields of `text[a, b)`.
 * @returns the number of fields found (at most `starts.length`, or the number the line has).
 */
function scanWhitespace(
  text: string,
  a: number,
  b: number,
  starts: Int32Array,
  ends: Int32Array,
): number {
  const need = starts.length;
  let k = a;
  let found = 0;
  while (k < b && found < need) {
    while (k < b && isWhitespace(text.charCodeAt(k))) k++;
    if (k === b) break;
    starts[found] = k;
    while (k < b && !isWhitespace(text.charCodeAt(k))) k++;
    ends[found++] = k;
  }
  return found;
}

/**
 * Finds the first `starts.length` fields of `text[a, b)` separated by `sep`, each trimmed of
 * surrounding whitespace. @returns the number of fields found (at most `starts.length`).
 */
function scanSeparated(
  text: string,
  a: number,
  b: number,
  sep: string,
  starts: Int32Array,
  ends: Int32Array,
): number {
  const need = starts.length;
  let k = a;
  let found = 0;
  for (;;) {
    let e = text.indexOf(sep, k);
    if (e < 0 || e > b) e = b;
    let s = k;
    let t = e;
    while (s < t && isWhitespace(text.charCodeAt(s))) s++;
    while (t > s && isWhitespace(text.charCodeAt(t - 1))) t--;
    starts[found] = s;
    ends[found++] = t;
    if (e === b || found === need) return found;
    k = e + sep.length;
  }
}

/** Number of `sep`-separated fields in `text[a, b)` (for messages). */
function countFields(text: string, a: number, b: number, sep: string): number {
  let count = 1;
  for (
    let k = text.indexOf(sep, a);
    k >= 0 && k + sep.length <= b;
    k = text.indexOf(sep, k + sep.length)
  ) {
    count++;
  }
  return count;
}

/**
 * Whether `text[from, stop)` (what follows the last field a line format names) holds another
 * field: anything but whitespace (any-whitespace separator), or a separator (a literal one).
 */
function hasMoreFields(text: string, from: number, stop: number, sep: string | undefined): boolean {
  if (sep === undefined) return !isBlankRange(text, from, stop);
  const k = text.indexOf(sep, from);
  return k >= 0 && k + sep.length <= stop;
}

function isBlankRange(text: string, a: number, b: number): boolean {
  for (let k = a; k < b; k++) if (!isWhitespace(text.charCodeAt(k))) return false;
  return true;
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `parseDecimal(text.slice(a, b))` without the slice for the common case: an optional sign and at
 * most 15 digits with at most one point. Then the digits form an integer m < 2^53 and the value
 * is m / 10^f, both exact, so the one rounding of the division gives the same double as
 * `Number()` (Clinger's fast path). Anything else goes to `parseDecimal`.
 */
function parseDecimalRange(text: string, a: number, b: number): number {
  let k = a;
  let c = text.charCodeAt(k);
  let neg = false;
  if (c === 45 || c === 43) {
    neg = c === 45;
    k++;
  }
  let m = 0;
  let digits = 0;
  let frac = 0;
  let point = false;
  for (; k < b; k++) {
    c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      if (point) frac++;
    } else if (c === 46 && !point) point = true;
    else break;
  }
  if (k === b && digits > 0 && digits <= 15) {
    const v = frac > 0 ? m / POW10[frac] : m;
    return neg ? -v : v;
  }
  return parseDecimal(text.slice(a, b));
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0xa0;
}

/**
 * Parses a plain decimal number: optional sign, digits with at most one point (at least one
 * digit), optional exponent (`e`/`E`, optional sign, digits). Returns NaN for anything else
 * (empty text, `nan`, `inf`, hexadecimal, stray characters), so that no such value is accepted.
 */
export function parseDecimal(s: string): number {
  const n = s.length;
  let k = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) k++;
  let digits = 0;
  let point = false;
  for (; k < n; k++) {
    c = s.charCodeAt(k);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46 && !point) point = true;
    else break;
  }
  if (digits === 0) return NaN;
  if (k < n) {
    if (c !== 101 && c !== 69) return NaN;
    k++;
    c = s.charCodeAt(k);
    if (c === 43 || c === 45) k++;
    const start = k;
    for (; k < n; k++) {
      c = s.charCodeAt(k);
      if (c < 48 || c > 57) return NaN;
    }
    if (k === start) return NaN;
  }
  return Number(s);
}
