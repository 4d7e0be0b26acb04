/**
 * Movie and user metadata of the built-in MovieLens data sets: titles, years, release dates,
 * genres, IMDb links; user demographics where the data set has them.
 *
 * Formats (GroupLens' READMEs):
 * - ml-100k `u.item` (ISO-8859-1): `id|title|release date|video release date|IMDb URL|` then 19
 *   genre flags in the order of `u.genre` (`name|index`); `u.user`: `id|age|gender|occupation|zip`.
 * - ml-1m `movies.dat` (ISO-8859-1): `id::title::Genre|Genre`; `users.dat`:
 *   `id::gender::age::occupation::zip`, where age is the lower bound of an age group
 *   (1 = under 18, 18, 25, 35, 45, 50, 56 = 56+) and occupation a code (named here).
 * - ml-latest-small `movies.csv` (UTF-8, RFC 4180 quoting, one header line):
 *   `movieId,title,genres` with genres `A|B` or `(no genres listed)`. It has no user file.
 *
 * Ids are strings, as in the ratings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetFormatError } from './errors';
import { splitCsvLine } from './csv';
import { builtinSpec, resolveBuiltin, type BuiltinOptions } from './builtin';
import type { BuiltinDatasetName } from './reader';

/** A movie of a built-in data set. */
export interface Movie {
  /** Raw item id, as in the ratings (e.g. `"1"`). */
  id: string;
  /** Title as given, year included (e.g. `"Toy Story (1995)"`). */
  title: string;
  /** Year from the title's trailing `(YYYY)`, else from the release date; absent if neither. */
  year?: number;
  /** Theatrical release date `YYYY-MM-DD` (ml-100k only; absent when unknown). */
  releaseDate?: string;
  /** Genre names (e.g. `["Animation", "Children's", "Comedy"]`); empty when none is listed. */
  genres: string[];
  /** IMDb URL (ml-100k only; absent when empty). */
  imdbUrl?: string;
}

/** A user of a built-in data set with demographics (ml-100k, ml-1m). */
export interface User {
  /** Raw user id, as in the ratings. */
  id: string;
  /** Age in years (ml-100k); for ml-1m the lower bound of the age group (1 means under 18). */
  age: number;
  /** `"M"` or `"F"`. */
  gender: string;
  /** Occupation (e.g. `"technician"`; ml-1m codes are given their README names). */
  occupation: string;
  /** Zip code as written (may contain letters or a dash). */
  zip: string;
}

/** ml-1m occupation codes (ml-1m README). */
const ML1M_OCCUPATIONS = [
  'other',
  'academic/educator',
  'artist',
  'clerical/admin',
  'college/grad student',
  'customer service',
  'doctor/health care',
  'executive/managerial',
  'farmer',
  'homemaker',
  'K-12 student',
  'lawyer',
  'programmer',
  'retired',
  'sales/marketing',
  'scientist',
  'self-employed',
  'technician/engineer',
  'tradesman/craftsman',
  'unemployed',
  'writer',
];

const MONTHS: Record<string, string> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

/** Lines of a file with their 1-based numbers, blank lines left out. */
function lines(file: string, encoding: 'latin1' | 'utf-8'): [number, string][] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let text = new TextDecoder(encoding).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: [number, string][] = [];
  text.split('\n').forEach((raw, k) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length > 0) out.push([k + 1, line]);
  });
  return out;
}

/** Year at the end of a title: `"Heat (1995)"` → 1995, `"Show (2006–2007)"` → 2006. */
export function yearFromTitle(title: string): number | undefined {
  const m = /\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : undefined;
}

/** `"01-Jan-1995"` → `"1995-01-01"`; undefined for an empty date. @throws Error when malformed. */
function isoDate(text: string): string | undefined {
  if (text === '') return undefined;
  const m = /^(\d{1,2})-([A-Z][a-z]{2})-(\d{4})$/.exec(text);
  if (!m || !MONTHS[m[2]])
    throw new Error(`release date ${JSON.stringify(text)} is not DD-Mon-YYYY`);
  return `${m[3]}-${MONTHS[m[2]]}-${m[1].padStart(2, '0')}`;
}

function withYear(movie: Movie): Movie {
  const year =
    yearFromTitle(movie.title) ??
    (movie.releaseDate ? Number(movie.releaseDate.slice(0, 4)) : undefined);
  if (year !== undefined) movie.year = year;
  return movie;
}

function readMl100kMovies(dir: string): Movie[] {
  const genreFile = path.join(dir, 'u.genre');
  const genres: string[] = [];
  for (const [no, line] of lines(genreFile, 'latin1')) {
    const [name, index] = line.split('|');
    const k = Number(index);
    if (!name || !Number.isInteger(k) || k < 0) {
      throw new DatasetFormatError(genreFile, no, 'expected "name|index"');
    }
    genres[k] = name;
  }
  const file = path.join(dir, 'u.item');
  return lines(file, 'latin1').map(([no, line]) => {
    const f = line.split('|');
    if (f.length !== 5 + genres.length) {
      throw new DatasetFormatError(
        file,
        no,
        `expected ${5 + genres.length} fields separated by "|" (id, title, release date, video ` +
          `release date, IMDb URL, ${genres.length} genre flags), found ${f.length}`,
      );
    }
    if (f[0].trim() === '') throw new DatasetFormatError(file, no, 'the movie id is empty');
    const movie: Movie = { id: f[0].trim(), title: f[1], genres: [] };
    try {
      const date = isoDate(f[2].trim());
      if (date) movie.releaseDate = date;
    } catch (e) {
      throw new DatasetFormatError(file, no, (e as Error).message);
    }
    if (f[4].trim() !== '') movie.imdbUrl = f[4].trim();
    for (let g = 0; g < genres.length; g++) {
      const flag = f[5 + g];
      if (flag === '1') movie.genres.push(genres[g]);
      else if (flag !== '0') {
        throw new DatasetFormatError(
          file,
          no,
          `genre flag ${g + 1} (${genres[g]}) is ${JSON.stringify(flag)}, expected 0 or 1`,
        );
      }
    }
    return withYear(movie);
  });
}

function splitGenres(text: string): string[] {
  const t = text.trim();
  if (t === '' || t === '(no genres listed)') return [];
  return t.split('|');
}

function readMl1mMovies(dir: string): Movie[] {
  const file = path.join(dir, 'movies.dat');
  return lines(file, 'latin1').map(([no, line]) => {
    const f = line.split('::');
    if (f.length !== 3 || f[0].trim() === '') {
      throw new DatasetFormatError(
        file,
        no,
        `expected "id::title::genres", found ${f.length} fields`,
      );
    }
    return withYear({ id: f[0].trim(), title: f[1], genres: splitGenres(f[2]) });
  });
}

function readMlLatestMovies(dir: string): Movie[] {
  const file = path.join(dir, 'movies.csv');
  return lines(file, 'utf-8')
    .slice(1)
    .map(([no, line]) => {
      const f = splitCsvLine(line);
      if (!Array.isArray(f)) throw new DatasetFormatError(file, no, f.problem);
      if (f.length !== 3 || f[0].trim() === '') {
        throw new DatasetFormatError(
          file,
          no,
          `expected 3 fields "movieId,title,genres", found ${f.length}`,
        );
      }
      return withYear({ id: f[0].trim(), title: f[1], genres: splitGenres(f[2]) });
    });
}

/**
 * Reads the movies of a built-in data set from its directory (synchronous).
 * @throws RangeError for an unknown name; DatasetFormatError at a malformed line.
 */
export function readMovies(name: BuiltinDatasetName, dir: string): Movie[] {
  builtinSpec(name);
  if (name === 'ml-100k') return readMl100kMovies(dir);
  if (name === 'ml-1m') return readMl1mMovies(dir);
  return readMlLatestMovies(dir);
}

/**
 * Reads the users of a built-in data set from its directory (synchronous).
 * @throws RangeError for an unknown name or a data set without users (ml-latest-small);
 *   DatasetFormatError at a malformed line.
 */
export function readUsers(name: BuiltinDatasetName, dir: string): User[] {
  const spec = builtinSpec(name);
  if (!spec.usersFile) throw new RangeError(`data set "${name}" has no user demographics`);
  const file = path.join(dir, spec.usersFile);
  const ml1m = name === 'ml-1m';
  return lines(file, 'latin1').map(([no, line]) => {
    const f = line.split(ml1m ? '::' : '|');
    if (f.length !== 5) {
      throw new DatasetFormatError(
        file,
        no,
        ml1m
          ? `expected "id::gender::age::occupation::zip", found ${f.length} fields`
          : `expected "id|age|gender|occupation|zip", found ${f.length} fields`,
      );
    }
    const [id, a, b, c, zip] = f.map((s) => s.trim());
    const [ageText, gender, occText] = ml1m ? [b, a, c] : [a, b, c];
    const age = Number(ageText);
    if (ageText === '' || !Number.isInteger(age) || age < 0) {
      throw new DatasetFormatError(
        file,
        no,
        `age ${JSON.stringify(ageText)} is not a whole number`,
      );
    }
    let occupation = occText;
    if (ml1m) {
      const code = Number(occText);
      if (occText === '' || !Number.isInteger(code) || !ML1M_OCCUPATIONS[code]) {
        throw new DatasetFormatError(
          file,
          no,
          `occupation ${JSON.stringify(occText)} is not a code 0…${ML1M_OCCUPATIONS.length - 1}`,
        );
      }
      occupation = ML1M_OCCUPATIONS[code];
    }
    if (id === '') throw new DatasetFormatError(file, no, 'the user id is empty');
    return { id, age, gender, occupation, zip };
  });
}

/**
 * The movies of a built-in data set, found or downloaded as `Dataset.loadBuiltin` does.
 * @throws the errors of `resolveBuiltin` and `readMovies`.
 */
export async function loadMovies(
  name: BuiltinDatasetName,
  opts: BuiltinOptions = {},
): Promise<Movie[]> {
  return readMovies(name, await resolveBuiltin(name, opts));
}

/**
 * The users of a built-in data set (ml-100k, ml-1m), found or downloaded as `Dataset.loadBuiltin`
 * does.
 * @throws RangeError for ml-latest-small (no user file); the errors of `resolveBuiltin`.
 */
export async function loadUsers(
  name: BuiltinDatasetName,
  opts: BuiltinOptions = {},
): Promise<User[]> {
  if (!builtinSpec(name).usersFile) {
    throw new RangeError(`data set "${name}" has no user demographics`);
  }
  return readUsers(name, await resolveBuiltin(name, opts));
}
