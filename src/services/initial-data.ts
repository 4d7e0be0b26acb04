/**
 * What the first start commits to the `training` repo, by the data set it was given
 * (`reelgraph init --dataset …` / `reelgraph serve --dataset …` / `REELGRAPH_DATASET`):
 *
 * | dataset | ratings | catalogue | scale |
 * |---|---|---|---|
 * | `ml-100k` (default) | `u.data` verbatim as `/base/ml-100k.txt` | movies (u.item), users (u.user) | 1–5 |
 * | `ml-1m` | `ratings.dat` as `/base/ml-1m.txt` (`user movie rating timestamp` lines) | movies, users | 1–5 |
 * | `ml-latest-small` | `ratings.csv` as `/base/ml-latest-small.txt` | movies (movies.csv) | 0.5–5 |
 * | a ratings file | its ratings as `/base/<file name>.txt` | none | `--rating-scale`, default 1–5 |
 * | `none` | none: requests wait for the first ratings and model | none | `--rating-scale`, default 1–5 |
 *
 * plus `/settings.json` (workers/data-settings.ts) holding the data set's name and scale. A ratings
 * file is read with the engine's `Reader`: fields separated by `,` for a `.csv` file (its first
 * line skipped when its rating field is not a number: a header), else by tabs/spaces or `::` (as
 * the first line shows); `user item rating [timestamp]`; every rating must lie on the scale.
 * A built-in data set's own scale is used unless `--rating-scale` names the same one (another is
 * an error: its ratings would not fit).
 *
 * Size: ratings files are parsed in streamed chunks (`Reader.parseFile`) and the base file is
 * encoded as bytes (batch-encoder.ts), so no whole-file string is ever made (V8's ~512 MiB string
 * limit does not apply); the base file is still one Buffer in memory. For data far larger than
 * MovieLens 1M, start with `--dataset none` and use `reelgraph import ratings`, which streams in
 * chunks of bounded memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  builtinSpec,
  resolveBuiltin,
  verifyBuiltin,
  type BuiltinOptions,
} from '../engine/dataset/builtin';
import { readMovies, readUsers } from '../engine/dataset/metadata';
import type { RawRatings, RatingScale } from '../engine/dataset/raw-ratings';
import { BUILTIN_DATASET_NAMES, Reader, type BuiltinDatasetName } from '../engine/dataset/reader';
import { type DataSettings, SETTINGS_PATH, settingsText } from '../workers/data-settings';
import { ChunkEncoder } from './batch-encoder';
import {
  MOVIES_DIR,
  USERS_DIR,
  moviesCsv,
  newCatalogFileName,
  usersCsv,
  type CatalogMovie,
} from './catalog-files';

/** Path of MovieLens 100K's ratings in the `training` repo. */
export const BASE_TRAINING_FILE = '/base/ml-100k.txt';

/** The data-set names `--dataset` takes besides a file path. */
export const DATASET_CHOICES = [...BUILTIN_DATASET_NAMES, 'none'] as const;

/** The files of the first training commit and what they hold. */
export interface InitialData {
  settings: DataSettings;
  /** Files to put, the settings file included. */
  files: { path: string; data: Buffer }[];
  /** Number of ratings committed (0 for `none`). */
  ratings: number;
  /** The commit's description. */
  description: string;
}

/** Options of {@link initialData}. */
export interface InitialDataOptions {
  /** `ml-100k` (default), `ml-1m`, `ml-latest-small`, `none`, or the path of a ratings file. */
  dataset?: string;
  /** The rating scale; default: the data set's (built-in), else [1, 5]. */
  ratingScale?: RatingScale;
  /** Where to find or fetch the built-in data sets. */
  datasets?: BuiltinOptions;
}

/**
 * The lines `user movie rating [timestamp]` of ratings (training-data.ts format), as bytes
 * (timestamps in whole seconds). @throws RangeError naming the rating whose id holds whitespace.
 */
function ratingLines(raw: RawRatings): Buffer {
  return Buffer.from(new ChunkEncoder().encode(raw, 0));
}

/** A built-in data set's movies as catalogue movies (release date, IMDb URL as extra columns). */
function catalogMovies(name: BuiltinDatasetName, dir: string): CatalogMovie[] {
  return readMovies(name, dir).map((m) => {
    const extra: Record<string, string> = {};
    if (m.releaseDate) extra.releaseDate = m.releaseDate;
    if (m.imdbUrl) extra.imdbUrl = m.imdbUrl;
    return { id: m.id, title: m.title, genres: m.genres, year: m.year ?? null, extra };
  });
}

/** Whether two scales are the same. */
const sameScale = (a: RatingScale, b: RatingScale) => a[0] === b[0] && a[1] === b[1];

/**
 * The first training commit's files for `opts.dataset` (see the module documentation).
 * @throws RangeError for a `--rating-scale` that contradicts a built-in data set's, or a dataset
 *   that is neither a name nor a file; DatasetFormatError for a malformed ratings file (a rating
 *   off the scale included); the errors of finding or downloading a built-in data set; Error on
 *   a checksum mismatch
 */
export async function initialData(opts: InitialDataOptions = {}): Promise<InitialData> {
  const dataset = opts.dataset ?? 'ml-100k';
  const nowMs = Date.now();
  const files: { path: string; data: Buffer }[] = [];
  let settings: DataSettings;
  let ratings = 0;
  let description: string;
  if ((BUILTIN_DATASET_NAMES as readonly string[]).includes(dataset)) {
    const name = dataset as BuiltinDatasetName;
    const reader = Reader.builtin(name);
    if (opts.ratingScale && !sameScale(opts.ratingScale, reader.ratingScale)) {
      throw new RangeError(
        `--rating-scale ${opts.ratingScale.join(',')} does not fit ${name}, whose ratings are on ${reader.ratingScale.join(',')}`,
      );
    }
    const dir = await resolveBuiltin(name, { progress: false, ...opts.datasets });
    const bad = verifyBuiltin(name, dir).find((c) => !c.ok);
    if (bad) {
      throw new Error(
        `${path.join(dir, bad.file)} is not ${name}'s ${bad.file}: SHA-256 ${bad.actual ?? '(missing)'}, expected ${bad.expected}`,
      );
    }
    const ratingsFile = path.join(dir, builtinSpec(name).ratingsFile);
    if (name === 'ml-100k') {
      files.push({ path: BASE_TRAINING_FILE, data: fs.readFileSync(ratingsFile) });
      ratings = reader.parseFile(ratingsFile).length;
    } else {
      const raw = reader.parseFile(ratingsFile);
      files.push({ path: `/base/${name}.txt`, data: ratingLines(raw) });
      ratings = raw.length;
    }
    files.push({
      path: MOVIES_DIR + newCatalogFileName(nowMs),
      data: Buffer.from(moviesCsv(catalogMovies(name, dir))),
    });
    if (name !== 'ml-latest-small') {
      const users = readUsers(name, dir).map((u) => ({
        id: u.id,
        attributes: { age: String(u.age), gender: u.gender, occupation: u.occupation, zip: u.zip },
      }));
      files.push({
        path: USERS_DIR + newCatalogFileName(nowMs),
        data: Buffer.from(usersCsv(users)),
      });
    }
    settings = { dataset: name, ratingScale: reader.ratingScale };
    description = `${name} ratings and catalogue`;
  } else if (dataset === 'none') {
    settings = { dataset: 'none', ratingScale: opts.ratingScale ?? [1, 5] };
    description = 'no data set: settings only';
  } else {
    if (!fs.existsSync(dataset) || !fs.statSync(dataset).isFile()) {
      throw new RangeError(
        `--dataset '${dataset}' is neither a data set name (${DATASET_CHOICES.join(', ')}) nor a file`,
      );
    }
    const scale = opts.ratingScale ?? [1, 5];
    const raw = readRatingsFile(dataset, scale);
    const base = path.basename(dataset).replace(/[^A-Za-z0-9_.-]/g, '_');
    files.push({ path: `/base/${base}.txt`, data: ratingLines(raw) });
    ratings = raw.length;
    settings = { dataset: `file:${base}`, ratingScale: scale };
    description = `ratings of ${base}`;
  }
  files.push({ path: SETTINGS_PATH, data: Buffer.from(settingsText(settings)) });
  return { settings, files, ratings, description };
}

/**
 * Reads a ratings file of unknown layout (see the module documentation), streamed: the layout is
 * told from the first line (read from the first 64 KiB), then the file is parsed in chunks.
 * @throws DatasetFormatError at a malformed line or a rating off `scale`; Error naming the file
 *   when it cannot be read.
 */
export function readRatingsFile(file: string, scale: RatingScale): RawRatings {
  const fd = fs.openSync(file, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(64 << 10);
    head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
  } finally {
    fs.closeSync(fd);
  }
  const first = new TextDecoder('utf-8')
    .decode(head)
    .replace(/^\uFEFF/, '')
    .split('\n', 1)[0]
    .trim();
  const csv = file.toLowerCase().endsWith('.csv');
  const sep = csv ? ',' : first.includes('::') ? '::' : undefined;
  const fields = sep ? first.split(sep) : first.split(/\s+/);
  const header = fields.length >= 3 && !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(fields[2].trim());
  const reader = new Reader({
    lineFormat: fields.length >= 4 ? 'user item rating timestamp' : 'user item rating',
    sep,
    skipLines: header ? 1 : 0,
    ratingScale: scale,
  });
  return reader.parseFile(file);
}
