/**
 * The `training` repo's ratings as the train pipeline reads them: the files under
 * `/pfs/training/base/` and `/pfs/training/batches/` ({@link RATING_DIRS}; the repo's other files —
 * `/settings.json`, the catalogue's `/movies/` and `/users/` — are not ratings), lines
 * `user_id movie_id rating [timestamp]`, and the rule that keeps one rating per (user, movie).
 *
 * File format (one batch file per commit; the first commit holds the data set the service was
 * started with, e.g. MovieLens 100K's `u.data` verbatim at `/base/ml-100k.txt`, later ones
 * `/batches/<13-digit epoch ms>-<hex>.txt`):
 * - one rating per line: `user_id movie_id rating` and optionally `timestamp`, separated by tabs
 *   and/or spaces; `\r\n` line ends are accepted; blank lines are ignored;
 * - ids are opaque strings (MovieLens uses decimal numbers); `rating` is a decimal number on the
 *   rating scale (default [1, 5]); `timestamp` is a decimal number of seconds since 1970.
 *
 * Which rating of a (user, movie) pair counts — ONE policy everywhere (the engine's readers
 * `removeDuplicates`, this program, and the services' answers): **the last rating wins**. The
 * files are taken in lexical order of their repo paths (byte order of the UTF-8 path = commit
 * order for the names above), each file line by line; of the ratings of one pair, the last line
 * in that order is kept, whatever the timestamps say (a timestamp is a fact about the rating, not
 * a priority: a rating a user sends now replaces the one it rated before, even when that one
 * carries a later timestamp). The survivor keeps the position of its own line, so the trainset —
 * and the model — is a pure function of the files; the number of ratings dropped is
 * `duplicatesReplaced` in the model's metrics.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type RawRatings, type RatingScale } from '../engine/dataset/raw-ratings';
import { removeDuplicates } from '../engine/dataset/dataset';
import { parseDecimal } from '../engine/dataset/reader';
import {
  RatingColumns,
  StreamParser,
  parseFileStreaming,
  type FastFormat,
} from '../engine/dataset/stream-parse';

/** The repo folders holding catalogue files (catalogue-data.ts), not ratings, by kind. */
export const CATALOGUE_DIRS: Readonly<Record<'movies' | 'users', string>> = {
  movies: '/movies/',
  users: '/users/',
};

/** True when a repo path (`/movies/….csv`, `/users/….csv`) is a catalogue file, not ratings. */
export function isCatalogueFile(repoPath: string): boolean {
  return repoPath.startsWith(CATALOGUE_DIRS.movies) || repoPath.startsWith(CATALOGUE_DIRS.users);
}

/** The rating scale of a `training` repo without settings (MovieLens's stars). */
export const TRAINING_RATING_SCALE: RatingScale = [1, 5];

/** The directories of the `training` repo that hold rating files. */
export const RATING_DIRS = ['/base/', '/batches/'] as const;

/** Whether a repo path (`/batches/x.txt`) is a rating file: under one of {@link RATING_DIRS}. */
export function isRatingFile(repoPath: string): boolean {
  return RATING_DIRS.some((d) => repoPath.startsWith(d));
}

/** A line of a training file that cannot be read: names the file, the line and the problem. */
export class TrainingDataError extends Error {
  constructor(
    /** The file's repo path (e.g. `/batches/1732900000000-ab12.txt`). */
    readonly file: string,
    /** 1-based line number. */
    readonly line: number,
    problem: string,
  ) {
    super(`${file} line ${line}: ${problem}`);
    this.name = 'TrainingDataError';
  }
}

/** Ratings read from files, in file order, before duplicates are resolved. */
export interface ParsedRatings {
  users: string[];
  items: string[];
  ratings: number[];
  /** Seconds since 1970, NaN where the line has no timestamp. */
  timestamps: number[];
}

/** The merged ratings of a set of training files. */
export interface MergedRatings {
  /** One rating per (user, movie), in the order of their lines; timestamps NaN where absent. */
  raw: RawRatings;
  /** Number of files read. */
  files: number;
  /** Number of rating lines read (all files). */
  lines: number;
  /** Ratings dropped because a later rating of the same (user, movie) won (`lines − raw.length`). */
  duplicatesReplaced: number;
}

const FIELD_SEP = /[ \t]+/;

/**
 * Parses one training file and appends its ratings to `out`.
 *
 * @param text the file's content (UTF-8 decoded).
 * @param file its repo path, for messages.
 * @param scale the accepted rating range `[lowest, highest]`.
 * @throws TrainingDataError at the first line that does not have 3 or 4 fields, has a rating that
 *   is not a decimal number or is outside the scale, or a timestamp that is not a decimal number.
 */
export function parseTrainingFile(
  text: string,
  file: string,
  out: ParsedRatings,
  scale: RatingScale = TRAINING_RATING_SCALE,
): void {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  const push = (u: string, i: string, r: number, t: number) => {
    out.users.push(u);
    out.items.push(i);
    out.ratings.push(r);
    out.timestamps.push(t);
  };
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    parseTrainingLine(line, file, lineNo, scale, push);
  }
}

/**
 * Parses one line of a training file (see the module documentation) and hands its rating to
 * `push`; a blank line gives nothing.
 * @throws TrainingDataError as {@link parseTrainingFile}.
 */
function parseTrainingLine(
  raw: string,
  file: string,
  lineNo: number,
  [lo, hi]: RatingScale,
  push: (user: string, item: string, r: number, t: number) => void,
): void {
  const line = raw.trim();
  if (line.length === 0) return;
  const f = line.split(FIELD_SEP);
  if (f.length < 3 || f.length > 4) {
    throw new TrainingDataError(
      file,
      lineNo,
      `expected 3 or 4 fields (user_id movie_id rating [timestamp]) separated by tabs or spaces, ` +
        `found ${f.length}: ${JSON.stringify(line)}`,
    );
  }
  const r = parseDecimal(f[2]);
  if (Number.isNaN(r)) {
    throw new TrainingDataError(file, lineNo, `rating ${JSON.stringify(f[2])} is not a number`);
  }
  if (r < lo || r > hi) {
    throw new TrainingDataError(
      file,
      lineNo,
      `rating ${JSON.stringify(f[2])} is outside the rating scale [${lo}, ${hi}]`,
    );
  }
  let t = NaN;
  if (f.length === 4) {
    t = parseDecimal(f[3]);
    if (Number.isNaN(t)) {
      throw new TrainingDataError(
        file,
        lineNo,
        `timestamp ${JSON.stringify(f[3])} is not a number (seconds since 1970)`,
      );
    }
  }
  push(f[0], f[1], r, t);
}

/**
 * A push parser of the training file format writing into `out` (its fast byte path takes plain
 * ASCII lines; any other line goes through the same line parser as {@link parseTrainingFile},
 * so results and errors are identical).
 */
export function trainingStreamParser(
  file: string,
  out: RatingColumns,
  scale: RatingScale = TRAINING_RATING_SCALE,
): StreamParser {
  const format: FastFormat = {
    sep: 'spaceTab',
    user: 0,
    item: 1,
    rating: 2,
    timestamp: 3,
    minFields: 3,
    maxFields: 4,
    lo: scale[0],
    hi: scale[1],
    quotes: false,
    skipLines: 0,
  };
  return new StreamParser(
    format,
    (line, lineNo, o) =>
      parseTrainingLine(line, file, lineNo, scale, (u, i, r, t) => o.push(u, i, r, t)),
    out,
    'utf-8',
    file,
  );
}

/**
 * The files under `dir`, recursively, as repo paths (`/a/b.txt`) sorted in byte order of their
 * UTF-8 encoding (PFS's path order). Hidden files are included; directories are not listed.
 */
export function listTrainingFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const childAbs = path.join(abs, e.name);
      const childRel = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(childAbs, childRel);
      else if (e.isFile() || e.isSymbolicLink()) out.push(childRel);
    }
  };
  walk(dir, '');
  return out.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/**
 * Reads every rating file under `dir` (the `training` input, e.g. `/pfs/training`; only the
 * files {@link isRatingFile} names) and merges their ratings (see the module documentation).
 * No rating at all (a service started with `--dataset none`) gives an empty `raw`.
 *
 * @throws TrainingDataError for a malformed line.
 */
export function readTrainingRatings(
  dir: string,
  scale: RatingScale = TRAINING_RATING_SCALE,
): MergedRatings {
  const out = new RatingColumns(true);
  const files = fs.existsSync(dir) ? listTrainingFiles(dir).filter(isRatingFile) : [];
  for (const rel of files) {
    const abs = path.join(dir, ...rel.split('/').filter(Boolean));
    parseFileStreaming(abs, trainingStreamParser(rel, out, scale));
  }
  const lines = out.length;
  const { raw, duplicates } = removeDuplicates(out.build());
  return { raw, files: files.length, lines, duplicatesReplaced: duplicates };
}
