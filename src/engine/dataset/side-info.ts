/**
 * Side information: attributes of users and of movies beside the ratings (demographics, genres,
 * release year, anything a catalogue file adds), read from the built-in MovieLens files or from
 * catalogue CSV files, and validated like ratings (an error names the file, the line and the field).
 *
 * Catalogue files (the layout agreed for the `training` repo): RFC 4180 CSV with one header line,
 * - movies: `movieId,title,genres,year[,extra columns…]`, genres `|`-separated (`(no genres
 *   listed)` or empty for none), year empty or a whole number;
 * - users: `userId[,attribute columns…]`, e.g. `userId,age,gender,occupation,zip`; `age`, when
 *   present, is empty or a whole number 0…150.
 * A later file's row replaces an earlier row with the same id (files are given in name order).
 * Columns nobody knows are kept as they are: a model decides what to make of them
 * (see `encodeAttributes`). A user or a movie with no row simply has no attributes.
 *
 * Ids are strings, as in the ratings.
 */
import { DatasetFormatError } from './errors';
import { splitCsvLine } from './csv';
import { readMovies, readUsers } from './metadata';
import { builtinSpec } from './builtin';
import type { BuiltinDatasetName } from './reader';

/** Attribute values of one user or movie by column name (raw text; a column may be empty). */
export type AttributeRow = Readonly<Record<string, string>>;

/** The attributes of every user or every movie that has some, keyed by raw id. */
export type AttributeRows = ReadonlyMap<string, AttributeRow>;

/** Attributes of users and of items (movies). Either map may be empty. */
export interface SideInfo {
  /** Per raw user id, e.g. `{age: '24', gender: 'M', occupation: 'technician', zip: '85711'}`. */
  users: AttributeRows;
  /** Per raw item id, e.g. `{title: 'Toy Story (1995)', genres: 'Animation|Comedy', year: '1995'}`. */
  items: AttributeRows;
}

/** Which catalogue file a CSV is: its id column and its required leading header. */
export type CatalogueKind = 'movies' | 'users';

/** The leading header columns each kind of catalogue file must start with, in order. */
export const CATALOGUE_HEADERS: Readonly<Record<CatalogueKind, readonly string[]>> = {
  movies: ['movieId', 'title', 'genres', 'year'],
  users: ['userId'],
};

/** Most columns a catalogue file may have (bounded: every column becomes model features). */
export const MAX_CATALOGUE_COLUMNS = 64;
/** Longest field accepted in a catalogue file, in characters. */
export const MAX_CATALOGUE_FIELD = 1000;

/** An empty SideInfo (no attributes at all). */
export function emptySideInfo(): SideInfo {
  return { users: new Map(), items: new Map() };
}

/**
 * Parses one catalogue CSV file (see the module comment for the layout).
 *
 * @param text the file's text (UTF-8 decoded; a leading BOM is ignored).
 * @param file the file's name, used in error messages.
 * @param kind `movies` or `users`.
 * @returns the rows by id, in file order; a later row replaces an earlier one with the same id.
 * @throws DatasetFormatError naming file, line and field: a missing or wrong header, a row with
 *   another number of fields than the header, an empty id, a year or age that is not a whole
 *   number, a field longer than MAX_CATALOGUE_FIELD, more than MAX_CATALOGUE_COLUMNS columns.
 */
export function parseCatalogueCsv(
  text: string,
  file: string,
  kind: CatalogueKind,
): Map<string, AttributeRow> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  const required = CATALOGUE_HEADERS[kind];
  let header: string[] | null = null;
  const out = new Map<string, AttributeRow>();
  for (let k = 0; k < lines.length; k++) {
    const no = k + 1;
    const line = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line);
    if (!Array.isArray(fields)) throw new DatasetFormatError(file, no, fields.problem);
    if (header === null) {
      header = fields.map((f) => f.trim());
      const lead = header.slice(0, required.length);
      if (lead.join(',') !== required.join(',')) {
        throw new DatasetFormatError(
          file,
          no,
          `header must start with "${required.join(',')}", found "${header.join(',')}"`,
        );
      }
      if (header.length > MAX_CATALOGUE_COLUMNS) {
        throw new DatasetFormatError(
          file,
          no,
          `${header.length} columns; at most ${MAX_CATALOGUE_COLUMNS} are accepted`,
        );
      }
      const seen = new Set<string>();
      for (const h of header) {
        if (h === '' || seen.has(h)) {
          throw new DatasetFormatError(
            file,
            no,
            `column name ${JSON.stringify(h)} is ${h === '' ? 'empty' : 'repeated'}`,
          );
        }
        seen.add(h);
      }
      continue;
    }
    if (fields.length !== header.length) {
      throw new DatasetFormatError(
        file,
        no,
        `expected ${header.length} fields (${header.join(',')}), found ${fields.length}`,
      );
    }
    const row: Record<string, string> = {};
    for (let c = 0; c < header.length; c++) {
      const v = c === 1 && kind === 'movies' ? fields[c] : fields[c].trim();
      if (v.length > MAX_CATALOGUE_FIELD) {
        throw new DatasetFormatError(
          file,
          no,
          `field ${header[c]} is ${v.length} characters long; at most ${MAX_CATALOGUE_FIELD} are accepted`,
        );
      }
      row[header[c]] = v;
    }
    const id = row[header[0]];
    if (id === '') throw new DatasetFormatError(file, no, `field ${header[0]} (the id) is empty`);
    checkWhole(row, 'year', 0, 9999, file, no);
    checkWhole(row, 'age', 0, 150, file, no);
    delete row[header[0]];
    out.delete(id); // a later row takes the later position too
    out.set(id, Object.freeze(row));
  }
  if (header === null) {
    throw new DatasetFormatError(
      file,
      1,
      `empty file; expected the header "${required.join(',')}"`,
    );
  }
  return out;
}

function checkWhole(
  row: Record<string, string>,
  field: string,
  lo: number,
  hi: number,
  file: string,
  no: number,
): void {
  const v = row[field];
  if (v === undefined || v === '') return;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < lo || n > hi) {
    throw new DatasetFormatError(
      file,
      no,
      `field ${field} is ${JSON.stringify(v)}, expected a whole number ${lo}…${hi} or nothing`,
    );
  }
}

/**
 * Merges catalogue rows: each map in order replaces the rows of the same id of the maps before it
 * (the agreed rule: files ordered by name, a later file's row overrides an earlier one).
 */
export function mergeAttributeRows(
  parts: ReadonlyArray<ReadonlyMap<string, AttributeRow>>,
): Map<string, AttributeRow> {
  const out = new Map<string, AttributeRow>();
  for (const p of parts) for (const [id, row] of p) out.set(id, row);
  return out;
}

/**
 * The side information of a built-in data set read from its directory: ml-100k's `u.user`
 * (age, gender, occupation, zip) and `u.item` (title, genres, year); ml-1m's `users.dat` and
 * `movies.dat`; ml-latest-small's `movies.csv` (genres, year from the title; no users).
 *
 * @throws RangeError for an unknown data set; DatasetFormatError at a malformed line.
 */
export function readBuiltinSideInfo(name: BuiltinDatasetName, dir: string): SideInfo {
  const items = new Map<string, AttributeRow>();
  for (const m of readMovies(name, dir)) {
    items.set(
      m.id,
      Object.freeze({
        title: m.title,
        genres: m.genres.join('|'),
        year: m.year === undefined ? '' : String(m.year),
      }),
    );
  }
  const users = new Map<string, AttributeRow>();
  if (builtinSpec(name).usersFile) {
    for (const u of readUsers(name, dir)) {
      users.set(
        u.id,
        Object.freeze({
          age: String(u.age),
          gender: u.gender,
          occupation: u.occupation,
          zip: u.zip,
        }),
      );
    }
  }
  return { users, items };
}

/**
 * A catalogue CSV text of `rows` in the agreed layout (header first; fields quoted when they hold
 * a comma, a quote or a line break). `columns` are the attribute columns after the id (for movies
 * they must start with `title,genres,year`). The inverse of `parseCatalogueCsv`.
 */
export function formatCatalogueCsv(
  kind: CatalogueKind,
  columns: readonly string[],
  rows: AttributeRows,
): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const idCol = CATALOGUE_HEADERS[kind][0];
  const out = [[idCol, ...columns].map(q).join(',')];
  for (const [id, row] of rows)
    out.push([id, ...columns.map((c) => row[c] ?? '')].map(q).join(','));
  return out.join('\n') + '\n';
}
