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
 * (so `'user item rating'` reads a file that also has timestamps).
 */
import { RawRatings, type RatingScale } from './raw-ratings';
import { DatasetFormatError } from './errors';
import { splitCsvLine } from './csv';

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
  },
  'ml-1m': {
    lineFormat: 'user item rating timestamp',
    sep: '::',
    skipLines: 0,
    ratingScale: [1, 5],
    encoding: 'utf-8',
  },
  'ml-latest-small': {
    lineFormat: 'user item rating timestamp',
    sep: ',',
    skipLines: 1,
    ratingScale: [0.5, 5],
    encoding: 'utf-8',
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

  /**
   * @throws RangeError for an unknown or repeated field name, a missing user/item/rating field, an
   *   empty separator, a negative or fractional `skipLines`, or a rating scale that is not two
   *   finite numbers with lowest < highest.
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
    const scale = options.ratingScale ?? [1, 5];
    if (
      !Array.isArray(scale) ||
      scale.length !== 2 ||
      !Number.isFinite(scale[0]) ||
      !Number.isFinite(scale[1]) ||
      !(scale[0] < scale[1])
    ) {
      throw new RangeError(
        `ratingScale must be [lowest, highest] with finite lowest < highest, got ${JSON.stringify(scale)}`,
      );
    }
    const encoding = options.encoding ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'latin1') {
      throw new RangeError(`encoding must be "utf-8" or "latin1", got "${encoding}"`);
    }
    this.lineFormat = tokens.join(' ');
    this.sep = sep === undefined || sep === 'whitespace' ? undefined : sep;
    this.skipLines = skip;
    this.ratingScale = [scale[0], scale[1]];
    this.encoding = encoding;
    this.fieldIndex = idx;
    this.minFields = Math.max(idx.user, idx.item, idx.rating, idx.timestamp) + 1;
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
    const users: string[] = [];
    const items: string[] = [];
    const ratings: number[] = [];
    const hasTs = this.fieldIndex.timestamp >= 0;
    const timestamps: number[] = [];
    const { user: ui, item: ii, rating: ri, timestamp: ti } = this.fieldIndex;
    const [lo, hi] = this.ratingScale;
    const n = text.length;
    let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    let lineNo = 0;
    while (pos < n) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = n;
      let stop = end;
      if (stop > pos && text.charCodeAt(stop - 1) === 13) stop--;
      lineNo++;
      const line = text.slice(pos, stop);
      pos = end + 1;
      if (lineNo <= this.skipLines || isBlank(line)) continue;
      const fields = this.split(line, file, lineNo);
      if (fields.length < this.minFields) {
        throw new DatasetFormatError(
          file,
          lineNo,
          `expected at least ${this.minFields} fields (${this.lineFormat}) separated by ` +
            `${this.describeSep()}, found ${fields.length}: ${JSON.stringify(line)}`,
        );
      }
      const u = fields[ui].trim();
      const i = fields[ii].trim();
      if (u.length === 0) throw new DatasetFormatError(file, lineNo, 'the user id is empty');
      if (i.length === 0) throw new DatasetFormatError(file, lineNo, 'the item id is empty');
      const rText = fields[ri].trim();
      const r = parseDecimal(rText);
      if (Number.isNaN(r)) {
        throw new DatasetFormatError(
          file,
          lineNo,
          `rating ${JSON.stringify(rText)} is not a number`,
        );
      }
      if (r < lo || r > hi) {
        throw new DatasetFormatError(
          file,
          lineNo,
          `rating ${JSON.stringify(rText)} is outside the rating scale [${lo}, ${hi}]`,
        );
      }
      if (hasTs) {
        const tText = fields[ti].trim();
        const t = parseDecimal(tText);
        if (Number.isNaN(t)) {
          throw new DatasetFormatError(
            file,
            lineNo,
            `timestamp ${JSON.stringify(tText)} is not a number (seconds since 1970)`,
          );
        }
        timestamps.push(t);
      }
      users.push(u);
      items.push(i);
      ratings.push(r);
    }
    return new RawRatings(
      users,
      items,
      Float64Array.from(ratings),
      hasTs ? Float64Array.from(timestamps) : null,
    );
  }

  private split(line: string, file: string, lineNo: number): string[] {
    const sep = this.sep;
    if (sep === undefined) return splitWhitespace(line);
    if (sep === ',' && line.indexOf('"') >= 0) {
      const res = splitCsvLine(line, ',');
      if (!Array.isArray(res)) throw new DatasetFormatError(file, lineNo, res.problem);
      return res;
    }
    return line.split(sep);
  }
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12 || c === 0xa0;
}

function isBlank(line: string): boolean {
  for (let k = 0; k < line.length; k++) if (!isWhitespace(line.charCodeAt(k))) return false;
  return true;
}

/** Splits on runs of whitespace, ignoring leading and trailing whitespace (Python's `split()`). */
function splitWhitespace(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let k = 0;
  while (k < n) {
    while (k < n && isWhitespace(line.charCodeAt(k))) k++;
    if (k === n) break;
    const start = k;
    while (k < n && !isWhitespace(line.charCodeAt(k))) k++;
    out.push(line.slice(start, k));
  }
  return out;
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
