/**
 * The catalogue's files in the `training` repo (the layout agreed between issues 10, 13 and 15):
 *
 * - movies: `/movies/<13-digit epoch ms>-<16 hex>.csv`, RFC 4180 CSV with the header
 *   `movieId,title,genres,year[,extra columns…]`, genres `|`-separated, year a whole number or
 *   empty; every extra column is kept (ml-100k's `releaseDate`, `imdbUrl`);
 * - users: `/users/<13-digit epoch ms>-<16 hex>.csv`, header `userId[,attribute columns…]`
 *   (ml-100k: `userId,age,gender,occupation,zip`);
 * - a later file's row overrides an earlier row with the same id (files ordered by name).
 *
 * This module holds the pure parts: the validation of catalogue items (shared by the mutations
 * `upsertMovies` / `upsertUsers` and `reelgraph import movies|users`), writing a CSV file and
 * reading one back. Values never hold a line break, so one record is one line. Ids follow the
 * raw-id rule of validation.ts (text, `"0101"` ≠ `"101"`).
 */
import { randomBytes } from 'node:crypto';
import { splitCsvLine } from '../engine/dataset/csv';
import { type InputIssue, ValidationError } from './errors';
import { checkId, checkObject, describe } from './validation';

/** Directory of the movie files in the `training` repo. */
export const MOVIES_DIR = '/movies/';
/** Directory of the user files in the `training` repo. */
export const USERS_DIR = '/users/';
/** The fixed columns of a movies file, in order. */
export const MOVIE_COLUMNS = ['movieId', 'title', 'genres', 'year'] as const;
/** A column name of an extra movie column or a user attribute. */
export const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Most extra columns (movies) or attributes (users). */
export const MAX_COLUMNS = 32;
/** Longest title, genre, extra value or attribute value, in characters. */
export const MAX_TITLE = 500;
export const MAX_GENRE = 64;
export const MAX_GENRES = 32;
export const MAX_VALUE = 1000;

/** A catalogue movie: the fixed columns and any extra ones. */
export interface CatalogMovie {
  /** Raw movie id (the raw-id rule). */
  id: string;
  /** 1…500 characters, no line break. */
  title: string;
  /** Genre names, each 1…64 characters without `|` or a line break; at most 32. */
  genres: string[];
  /** Release year, a whole number in [0, 9999], or null. */
  year: number | null;
  /** Extra columns by name (`releaseDate`, `imdbUrl`, …): text without line breaks. */
  extra: Record<string, string>;
}

/** A catalogue user: the id and any attributes (`age`, `gender`, `occupation`, `zip`, …). */
export interface CatalogUser {
  id: string;
  attributes: Record<string, string>;
}

/** A file name `<13-digit epoch ms>-<16 hex>.csv` (the order of names is the order of writes). */
export function newCatalogFileName(nowMs = Date.now()): string {
  return `${String(nowMs).padStart(13, '0')}-${randomBytes(8).toString('hex')}.csv`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Checks one text value; pushes an issue and returns undefined when it is bad. */
function checkText(
  v: unknown,
  index: number,
  field: string,
  max: number,
  issues: InputIssue[],
  opts: { empty?: boolean; forbid?: string } = {},
): string | undefined {
  if (typeof v !== 'string') {
    issues.push({ index, field, message: `${field} must be a string, got ${describe(v)}` });
    return undefined;
  }
  if (!opts.empty && v.trim().length === 0) {
    issues.push({ index, field, message: `${field} is empty` });
    return undefined;
  }
  if (v.length > max) {
    issues.push({
      index,
      field,
      message: `${field} is ${v.length} characters long, the maximum is ${max}`,
    });
    return undefined;
  }
  if (CONTROL.test(v) || (opts.forbid && v.includes(opts.forbid))) {
    issues.push({
      index,
      field,
      message: `${field} ${describe(v)} has a line break or control character${opts.forbid ? ` or "${opts.forbid}"` : ''}`,
    });
    return undefined;
  }
  return v;
}

/** Checks a map of extra columns / attributes; numbers become their decimal text. */
function checkColumns(
  v: unknown,
  index: number,
  field: string,
  reserved: readonly string[],
  issues: InputIssue[],
): Record<string, string> | undefined {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    issues.push({
      index,
      field,
      message: `${field} must be an object of name → text, got ${describe(v)}`,
    });
    return undefined;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_COLUMNS) {
    issues.push({
      index,
      field,
      message: `${field} has ${entries.length} entries, the maximum is ${MAX_COLUMNS}`,
    });
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [k, raw] of entries) {
    if (!COLUMN_NAME.test(k) || reserved.includes(k)) {
      issues.push({
        index,
        field: `${field}.${k}`,
        message: reserved.includes(k)
          ? `${field}.${k}: ${k} is a column of its own, not an extra one`
          : `${field} name ${describe(k)} must be a letter then letters, digits or _ (at most 64)`,
      });
      ok = false;
      continue;
    }
    const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    const s = checkText(text, index, `${field}.${k}`, MAX_VALUE, issues, { empty: true });
    if (s === undefined) ok = false;
    else out[k] = s;
  }
  return ok ? out : undefined;
}

function checkList(items: unknown, what: string, maxItems: number): readonly unknown[] {
  const fail = (message: string, index: number | null = null) => {
    throw new ValidationError(what, [{ index, field: what, message }]);
  };
  if (!Array.isArray(items)) return fail(`${what} must be a list, got ${describe(items)}`);
  if (items.length === 0) return fail(`${what} is empty: give at least one item`);
  if (items.length > maxItems) {
    return fail(`too many items: ${items.length}, the maximum is ${maxItems}`, maxItems);
  }
  return items;
}

/** Limits of the catalogue validation (from the service config). */
export interface CatalogLimits {
  maxItems: number;
  maxIdLength: number;
}

const MOVIE_FIELDS = ['id', 'title', 'genres', 'year', 'extra'] as const;
const USER_FIELDS = ['id', 'attributes'] as const;

/**
 * Validates movies `{id, title, genres?, year?, extra?}` (the `upsertMovies` input, or the rows of
 * a movies CSV): 1…maxItems items; `id` by the raw-id rule; `title` 1…500 characters; `genres` at
 * most 32 names of 1…64 characters without `|`; `year` a whole number in [0, 9999] or null;
 * `extra` at most 32 columns named `[A-Za-z][A-Za-z0-9_]{0,63}` (not a fixed column) with text of
 * at most 1000 characters; no line breaks anywhere; an id at most once.
 * @throws ValidationError (list `movies`) with every problem, by item index and field
 */
export function validateMovies(items: unknown, limits: CatalogLimits): CatalogMovie[] {
  const list = checkList(items, 'movies', limits.maxItems);
  const issues: InputIssue[] = [];
  const out: CatalogMovie[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const o = checkObject(item, index, MOVIE_FIELDS, issues);
    if (!o) return;
    const id = checkId(o.id, index, 'id', limits.maxIdLength, issues);
    const title = checkText(o.title, index, 'title', MAX_TITLE, issues);
    let genres: string[] | undefined = [];
    if (o.genres !== undefined && o.genres !== null) {
      if (!Array.isArray(o.genres) || o.genres.length > MAX_GENRES) {
        issues.push({
          index,
          field: 'genres',
          message: `genres must be a list of at most ${MAX_GENRES} names, got ${describe(o.genres)}${Array.isArray(o.genres) ? ` of ${o.genres.length}` : ''}`,
        });
        genres = undefined;
      } else {
        const gs = o.genres.map((g) =>
          checkText(g, index, 'genres', MAX_GENRE, issues, { forbid: '|' }),
        );
        genres = gs.every((g) => g !== undefined) ? (gs as string[]) : undefined;
      }
    }
    let year: number | null | undefined = null;
    if (o.year !== undefined && o.year !== null) {
      if (typeof o.year !== 'number' || !Number.isInteger(o.year) || o.year < 0 || o.year > 9999) {
        issues.push({
          index,
          field: 'year',
          message: `year must be a whole number in [0, 9999] or null, got ${describe(o.year)}`,
        });
        year = undefined;
      } else year = o.year;
    }
    const extra = checkColumns(o.extra, index, 'extra', MOVIE_COLUMNS, issues);
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        issues.push({
          index,
          field: 'id',
          message: `id ${describe(id)} is also item ${first}: give each movie once`,
        });
        return;
      }
      seen.set(id, index);
    }
    if (
      id !== undefined &&
      title !== undefined &&
      genres !== undefined &&
      year !== undefined &&
      extra
    ) {
      out.push({ id, title, genres, year, extra });
    }
  });
  if (issues.length) throw new ValidationError('movies', issues);
  return out;
}

/**
 * Validates users `{id, attributes?}` (the `upsertUsers` input, or the rows of a users CSV):
 * 1…maxItems items; `id` by the raw-id rule, each at most once; `attributes` at most 32 entries
 * named `[A-Za-z][A-Za-z0-9_]{0,63}` (not `userId`) whose values are text (or numbers, kept as
 * their decimal text) of at most 1000 characters without line breaks.
 * @throws ValidationError (list `users`) with every problem, by item index and field
 */
export function validateUsers(items: unknown, limits: CatalogLimits): CatalogUser[] {
  const list = checkList(items, 'users', limits.maxItems);
  const issues: InputIssue[] = [];
  const out: CatalogUser[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const o = checkObject(item, index, USER_FIELDS, issues);
    if (!o) return;
    const id = checkId(o.id, index, 'id', limits.maxIdLength, issues);
    const attributes = checkColumns(o.attributes, index, 'attributes', ['userId', 'id'], issues);
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        issues.push({
          index,
          field: 'id',
          message: `id ${describe(id)} is also item ${first}: give each user once`,
        });
        return;
      }
      seen.set(id, index);
    }
    if (id !== undefined && attributes) out.push({ id, attributes });
  });
  if (issues.length) throw new ValidationError('users', issues);
  return out;
}

/** One CSV field, quoted when it holds a comma, a quote or leading/trailing spaces (RFC 4180). */
export function csvField(s: string): string {
  return /[",]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The union of the extra column names of `rows`, in order of first appearance. */
function columnsOf(rows: readonly Record<string, string>[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) names.add(k);
  return [...names];
}

/** The text of a movies file (header `movieId,title,genres,year[,extra…]`, lines end with `\n`). */
export function moviesCsv(movies: readonly CatalogMovie[]): string {
  const extra = columnsOf(movies.map((m) => m.extra));
  let s = [...MOVIE_COLUMNS, ...extra].join(',') + '\n';
  for (const m of movies) {
    const cells = [m.id, m.title, m.genres.join('|'), m.year === null ? '' : String(m.year)];
    for (const k of extra) cells.push(m.extra[k] ?? '');
    s += cells.map(csvField).join(',') + '\n';
  }
  return s;
}

/** The text of a users file (header `userId[,attribute…]`, lines end with `\n`). */
export function usersCsv(users: readonly CatalogUser[]): string {
  const cols = columnsOf(users.map((u) => u.attributes));
  let s = ['userId', ...cols].join(',') + '\n';
  for (const u of users) {
    s += [u.id, ...cols.map((k) => u.attributes[k] ?? '')].map(csvField).join(',') + '\n';
  }
  return s;
}

/**
 * The rows of a CSV text: the header's names and one record per non-blank line, each with as
 * many fields as the header. A leading BOM and `\r\n` line ends are accepted.
 * @throws ValidationError (list `file`) naming the file, the line and the problem
 */
export function parseCsv(text: string, file: string): { header: string[]; rows: string[][] } {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const fail = (line: number, message: string): never => {
    throw new ValidationError('file', [
      { index: null, field: 'file', message: `${file} line ${line}: ${message}` },
    ]);
  };
  const split = (line: string, no: number): string[] => {
    const r = splitCsvLine(line.replace(/\r$/, ''), ',');
    return Array.isArray(r) ? r : fail(no, r.problem);
  };
  if (lines[0] === undefined || lines[0].trim() === '') return fail(1, 'the header is missing');
  const header = split(lines[0], 1).map((h) => h.trim());
  const rows: string[][] = [];
  for (let k = 1; k < lines.length; k++) {
    if (lines[k].trim() === '') continue;
    const f = split(lines[k], k + 1);
    if (f.length !== header.length) {
      fail(k + 1, `expected ${header.length} fields (${header.join(',')}), found ${f.length}`);
    }
    rows.push(f);
  }
  return { header, rows };
}

/**
 * The movie items of a movies CSV (header `movieId,title,genres,year[,extra…]`), for
 * {@link validateMovies}: genres split on `|`, year a number (empty: null; other text is kept
 * for the validation to name).
 * @throws ValidationError (list `file`) for a bad header or a malformed line
 */
export function movieItemsOfCsv(text: string, file: string): Record<string, unknown>[] {
  const { header, rows } = parseCsv(text, file);
  if (MOVIE_COLUMNS.some((c, k) => header[k] !== c)) {
    throw new ValidationError('file', [
      {
        index: null,
        field: 'file',
        message: `${file} line 1: the header must start with ${MOVIE_COLUMNS.join(',')}, got ${header.slice(0, 4).join(',')}`,
      },
    ]);
  }
  const extraNames = header.slice(MOVIE_COLUMNS.length);
  return rows.map((f) => {
    const yearText = f[3].trim();
    const extra: Record<string, string> = {};
    extraNames.forEach((name, k) => {
      if (f[4 + k] !== '') extra[name] = f[4 + k];
    });
    return {
      id: f[0].trim(),
      title: f[1],
      genres: f[2].trim() === '' ? [] : f[2].split('|'),
      year: yearText === '' ? null : /^\d+$/.test(yearText) ? Number(yearText) : yearText,
      extra,
    };
  });
}

/**
 * The user items of a users CSV (header `userId[,attribute…]`), for {@link validateUsers}; an
 * empty cell is an absent attribute.
 * @throws ValidationError (list `file`) for a bad header or a malformed line
 */
export function userItemsOfCsv(text: string, file: string): Record<string, unknown>[] {
  const { header, rows } = parseCsv(text, file);
  if (header[0] !== 'userId') {
    throw new ValidationError('file', [
      {
        index: null,
        field: 'file',
        message: `${file} line 1: the header must start with userId, got ${JSON.stringify(header[0])}`,
      },
    ]);
  }
  return rows.map((f) => {
    const attributes: Record<string, string> = {};
    header.slice(1).forEach((name, k) => {
      if (f[1 + k] !== '') attributes[name] = f[1 + k];
    });
    return { id: f[0].trim(), attributes };
  });
}
