/**
 * Data sets: Surprise's `Dataset` (surprise/dataset.py) — ratings loaded from a file, from a
 * pair-of-files folds list, from columns in memory, or from a built-in MovieLens data set — and
 * the step to a {@link Trainset}.
 *
 * Flow, as in Surprise: `Reader` → `Dataset` → `Trainset`.
 *
 * Duplicate (user, item) pairs: the last one wins. The surviving rating keeps the position of the
 * last occurrence; `duplicates` counts the ratings removed and `warnings` says so in words.
 */
import * as path from 'node:path';
import { RawRatings, checkRatingScale, type RatingScale } from './raw-ratings';
import { Reader, type BuiltinDatasetName } from './reader';
import { Trainset } from '../trainset';
import { resolveBuiltin, BUILTIN_DATASETS, type BuiltinOptions } from './builtin';
import { readBuiltinSideInfo, type SideInfo } from './side-info';

/** One predefined fold: a training part and a test part (Surprise's `(train_file, test_file)`). */
export interface Fold {
  /** The fold's name: the training file's name without its extension (e.g. `u1`). */
  name: string;
  /** Ratings of the training file (duplicates removed). */
  train: RawRatings;
  /** Ratings of the test file (duplicates removed). */
  test: RawRatings;
}

/** Result of removing duplicate (user, item) pairs. */
export interface Deduplicated {
  /** The ratings with one rating per (user, item), the last one of each at its position. */
  raw: RawRatings;
  /** Number of ratings removed. */
  duplicates: number;
}

/**
 * Removes duplicate (user, item) pairs: the last occurrence wins and stays where it is; earlier
 * ones are dropped. Returns `raw` itself when there is no duplicate.
 *
 * Without a map of pairs (a `Map` holds at most 2^24 entries, fewer than ml-25m's ratings): the
 * ratings are put in user order by a stable counting sort of their interned user codes, then each
 * user's ratings are walked in file order with a stamp per item (`seenBy[i] = u`, `lastAt[i] = k`),
 * so a repeated item marks the earlier rating dropped. O(n + users + items) time; two `Int32Array`s
 * of n entries and two of the items.
 */
export function removeDuplicates(raw: RawRatings): Deduplicated {
  const n = raw.length;
  const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
  const nU = userIds.length;
  const nI = itemIds.length;
  // Counting sort of positions by user code (stable: file order within a user).
  const start = new Int32Array(nU + 1);
  for (let k = 0; k < n; k++) start[userCodes[k] + 1]++;
  for (let u = 0; u < nU; u++) start[u + 1] += start[u];
  const order = new Int32Array(n);
  const cursor = start.slice(0, nU);
  for (let k = 0; k < n; k++) order[cursor[userCodes[k]]++] = k;
  const seenBy = new Int32Array(nI).fill(-1);
  const lastAt = new Int32Array(nI);
  const dropped = new Uint8Array(n);
  let duplicates = 0;
  for (let u = 0; u < nU; u++) {
    for (let p = start[u]; p < start[u + 1]; p++) {
      const k = order[p];
      const i = itemCodes[k];
      if (seenBy[i] === u) {
        dropped[lastAt[i]] = 1;
        duplicates++;
      } else seenBy[i] = u;
      lastAt[i] = k;
    }
  }
  if (duplicates === 0) return { raw, duplicates: 0 };
  const keep = new Int32Array(n - duplicates);
  let m = 0;
  for (let k = 0; k < n; k++) if (!dropped[k]) keep[m++] = k;
  return { raw: raw.subset(keep), duplicates };
}

function duplicateWarning(source: string, count: number): string {
  return (
    `${source}: ${count} duplicate (user, item) rating${count === 1 ? '' : 's'} removed ` +
    `(the last rating of each pair was kept)`
  );
}

function readRatingsFile(file: string, reader: Reader): RawRatings {
  return reader.parseFile(file);
}

/** Construction fields of a Dataset (internal). */
interface DatasetInit {
  ratings: RawRatings;
  ratingScale: RatingScale;
  duplicates: number;
  warnings: string[];
  folds: Fold[] | null;
  name: string | null;
  files: string[];
  sideInfo?: SideInfo | null;
}

/**
 * A set of ratings on one rating scale, optionally split into predefined folds.
 *
 * Construct with the static loaders; a Dataset is immutable.
 */
export class Dataset {
  /**
   * All ratings in file order, duplicates removed. For a folds dataset (`loadFromFolds`): the
   * first fold's training ratings followed by its test ratings (for MovieLens u1.base + u1.test,
   * that is all of u.data).
   */
  readonly ratings: RawRatings;
  /** The rating scale `[lowest, highest]`. */
  readonly ratingScale: RatingScale;
  /** Number of duplicate (user, item) ratings removed while loading (last one wins). */
  readonly duplicates: number;
  /** Human-readable warnings from loading (e.g. duplicates removed), for the CLI to print. */
  readonly warnings: readonly string[];
  /** Predefined folds (`loadFromFolds`, `predefinedFolds`), else null. */
  readonly folds: readonly Fold[] | null;
  /** The built-in data set's name (e.g. `ml-100k`), else null. */
  readonly name: string | null;
  /** The files the ratings were read from (empty for `loadFromRawRatings`). */
  readonly files: readonly string[];
  /**
   * Attributes of users and items (`withSideInfo`, `loadBuiltinWithSideInfo`), given to every
   * trainset built from this data set; null when there are none.
   */
  readonly sideInfo: SideInfo | null;

  private constructor(init: DatasetInit) {
    this.ratings = init.ratings;
    this.ratingScale = init.ratingScale;
    this.duplicates = init.duplicates;
    this.warnings = init.warnings;
    this.folds = init.folds;
    this.name = init.name;
    this.files = init.files;
    this.sideInfo = init.sideInfo ?? null;
  }

  /**
   * Loads a ratings file (Surprise's `Dataset.load_from_file`).
   *
   * @param file path of the file.
   * @param reader how to read it (line format, separator, header lines, rating scale).
   * @throws Error when the file cannot be read; DatasetFormatError at the first malformed line.
   */
  static loadFromFile(file: string, reader: Reader): Dataset {
    const { raw, duplicates } = removeDuplicates(readRatingsFile(file, reader));
    return new Dataset({
      ratings: raw,
      ratingScale: reader.ratingScale,
      duplicates,
      warnings: duplicates > 0 ? [duplicateWarning(file, duplicates)] : [],
      folds: null,
      name: null,
      files: [file],
    });
  }

  /**
   * Loads predefined folds, one `[trainFile, testFile]` pair per fold (Surprise's
   * `Dataset.load_from_folds`, used with `PredefinedKFold`). Duplicates are removed per file.
   *
   * @throws RangeError when `folds` is empty; Error when a file cannot be read;
   *   DatasetFormatError at the first malformed line.
   */
  static loadFromFolds(folds: ReadonlyArray<readonly [string, string]>, reader: Reader): Dataset {
    if (!Array.isArray(folds) || folds.length === 0) {
      throw new RangeError('loadFromFolds needs at least one [trainFile, testFile] pair');
    }
    const out: Fold[] = [];
    const warnings: string[] = [];
    const files: string[] = [];
    let duplicates = 0;
    for (const pair of folds) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new RangeError(
          `each fold must be [trainFile, testFile], got ${JSON.stringify(pair)}`,
        );
      }
      const [trainFile, testFile] = pair;
      const parts = [trainFile, testFile].map((f) => {
        const d = removeDuplicates(readRatingsFile(f, reader));
        duplicates += d.duplicates;
        if (d.duplicates > 0) warnings.push(duplicateWarning(f, d.duplicates));
        files.push(f);
        return d.raw;
      });
      const base = path.basename(trainFile);
      const dot = base.lastIndexOf('.');
      out.push({ name: dot > 0 ? base.slice(0, dot) : base, train: parts[0], test: parts[1] });
    }
    const first = out[0];
    const all = concatRatings(first.train, first.test);
    return new Dataset({
      ratings: removeDuplicates(all).raw,
      ratingScale: reader.ratingScale,
      duplicates,
      warnings,
      folds: out,
      name: null,
      files,
    });
  }

  /**
   * Wraps ratings already in memory (Surprise's `Dataset.load_from_df`). Duplicates are removed
   * as for files. Ids that are not strings (e.g. numbers from JavaScript callers) are converted
   * with `String()`, so the user 196 and the user "196" are one user.
   *
   * @throws RangeError for an invalid rating scale, or a rating that is not finite or lies outside
   *   the scale (naming its index, user and item).
   */
  static loadFromRawRatings(raw: RawRatings, ratingScale: RatingScale): Dataset {
    const scale = checkRatingScale(ratingScale);
    raw = withStringIds(raw);
    for (let k = 0; k < raw.length; k++) {
      const r = raw.ratings[k];
      if (!Number.isFinite(r) || r < scale[0] || r > scale[1]) {
        // by the interned codes: `raw.users` of interned ratings is one string per rating
        const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
        throw new RangeError(
          `rating ${k} (user ${userIds[userCodes[k]]}, item ${itemIds[itemCodes[k]]}) is ${r}, ` +
            `expected a number in the rating scale [${scale[0]}, ${scale[1]}]`,
        );
      }
    }
    const d = removeDuplicates(raw);
    return new Dataset({
      ratings: d.raw,
      ratingScale: scale,
      duplicates: d.duplicates,
      warnings: d.duplicates > 0 ? [duplicateWarning('ratings', d.duplicates)] : [],
      folds: null,
      name: null,
      files: [],
    });
  }

  /**
   * Loads a built-in MovieLens data set (Surprise's `Dataset.load_builtin`): `ml-100k` (u.data),
   * `ml-1m` (ratings.dat) or `ml-latest-small` (ratings.csv). The files are looked up in
   * `REELGRAPH_DATASETS`, then the cache, else downloaded (see {@link resolveBuiltin}).
   *
   * @throws DatasetNotFoundError when the files are nowhere and cannot be downloaded;
   *   ChecksumError when a download does not match its SHA-256; DatasetFormatError.
   */
  static async loadBuiltin(name: BuiltinDatasetName, opts: BuiltinOptions = {}): Promise<Dataset> {
    const reader = Reader.builtin(name);
    const dir = await resolveBuiltin(name, opts);
    const ds = Dataset.loadFromFile(path.join(dir, BUILTIN_DATASETS[name].ratingsFile), reader);
    return new Dataset({ ...ds.init(), name });
  }

  /**
   * The predefined folds of a built-in data set (see {@link predefinedFolds}).
   * @throws RangeError for a data set without predefined folds; the errors of `loadBuiltin`.
   */
  static async loadPredefinedFolds(
    name: BuiltinDatasetName,
    opts: BuiltinOptions = {},
  ): Promise<Dataset> {
    const spec = BUILTIN_DATASETS[name];
    if (!spec || !spec.folds) {
      throw new RangeError(`data set "${name}" has no predefined folds (only ml-100k has u1…u5)`);
    }
    const dir = await resolveBuiltin(name, opts);
    const ds = Dataset.loadFromFolds(
      spec.folds.map(([a, b]) => [path.join(dir, a), path.join(dir, b)] as const),
      Reader.builtin(name),
    );
    return new Dataset({ ...ds.init(), name });
  }

  private init(): DatasetInit {
    return {
      ratings: this.ratings,
      ratingScale: this.ratingScale,
      duplicates: this.duplicates,
      warnings: [...this.warnings],
      folds: this.folds ? [...this.folds] : null,
      name: this.name,
      files: [...this.files],
      sideInfo: this.sideInfo,
    };
  }

  /** This data set with `sideInfo` as its users' and items' attributes (null removes them). */
  withSideInfo(sideInfo: SideInfo | null): Dataset {
    return new Dataset({ ...this.init(), sideInfo });
  }

  /**
   * A built-in data set (its predefined folds when `folds` is true) with its side information:
   * ml-100k's u.user and u.item, ml-1m's users.dat and movies.dat, ml-latest-small's movies.csv.
   * @throws the errors of `loadBuiltin`/`loadPredefinedFolds` and `readBuiltinSideInfo`.
   */
  static async loadBuiltinWithSideInfo(
    name: BuiltinDatasetName,
    opts: BuiltinOptions & { folds?: boolean } = {},
  ): Promise<Dataset> {
    const ds = opts.folds
      ? await Dataset.loadPredefinedFolds(name, opts)
      : await Dataset.loadBuiltin(name, opts);
    return ds.withSideInfo(readBuiltinSideInfo(name, await resolveBuiltin(name, opts)));
  }

  /** Number of ratings (after duplicates were removed). */
  get nRatings(): number {
    return this.ratings.length;
  }

  /**
   * A trainset of all ratings, in file order (Surprise's `build_full_trainset`).
   * @throws RangeError when the dataset holds no rating.
   */
  buildFullTrainset(): Trainset {
    return Trainset.build(this.ratings, this.ratingScale, undefined, this.sideInfo);
  }
}

/**
 * The predefined folds of a built-in data set, as a folds Dataset (Surprise's
 * `Dataset.load_from_folds` over `u1.base/u1.test … u5.base/u5.test`, for `PredefinedKFold`).
 * Only `ml-100k` ships such folds. Same as `Dataset.loadPredefinedFolds`.
 *
 * @throws RangeError for a data set without predefined folds; the errors of `loadBuiltin`.
 */
export function predefinedFolds(
  name: BuiltinDatasetName,
  opts: BuiltinOptions = {},
): Promise<Dataset> {
  return Dataset.loadPredefinedFolds(name, opts);
}

/** `raw` with every user and item id a string (`raw` itself when they all are). */
function withStringIds(raw: RawRatings): RawRatings {
  if (raw.isInterned) return raw;
  const ok = (ids: readonly unknown[]) => ids.every((x) => typeof x === 'string');
  if (ok(raw.users) && ok(raw.items)) return raw;
  return new RawRatings(raw.users.map(String), raw.items.map(String), raw.ratings, raw.timestamps);
}

function concatRatings(a: RawRatings, b: RawRatings): RawRatings {
  const ratings = new Float64Array(a.length + b.length);
  ratings.set(a.ratings, 0);
  ratings.set(b.ratings, a.length);
  let timestamps: Float64Array | null = null;
  if (a.timestamps && b.timestamps) {
    timestamps = new Float64Array(a.length + b.length);
    timestamps.set(a.timestamps, 0);
    timestamps.set(b.timestamps, a.length);
  }
  return new RawRatings([...a.users, ...b.users], [...a.items, ...b.items], ratings, timestamps);
}
