/**
 * The data-set and cross-validation options shared by the commands that cross-validate
 * (`evaluate`, `compare`): `--dataset`, `--datasets-dir`, `--format`, `--sep`, `--skip-lines`,
 * `--rating-scale`, `--cv`, `--folds`, `--seed`; their validation (before any data is read) and
 * the loading of the data set.
 */
import * as fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  BUILTIN_DATASET_NAMES,
  Dataset,
  Reader,
  type BuiltinDatasetName,
  type RatingScale,
} from '../engine/dataset';
import { KFold, PredefinedKFold, type Splitter } from '../engine/model-selection';
import {
  mergeAttributeRows,
  parseCatalogueCsv,
  readBuiltinSideInfo,
  type AttributeRow,
  type CatalogueKind,
  type SideInfo,
} from '../engine/dataset/side-info';
import { resolveBuiltin } from '../engine/dataset/builtin';
import { asUsage, UsageError } from './errors';
import { randomSeed } from '../engine/random';

/** The data options as commander parses them. */
export interface DataOptions {
  dataset: string;
  datasetsDir?: string;
  format?: string;
  sep?: string;
  skipLines?: number;
  ratingScale?: RatingScale;
  cv?: number;
  folds: 'random' | 'predefined';
  seed?: number;
  quiet?: boolean;
  /** Catalogue CSV files of movies / users (side information), in the order given. */
  movies?: string[];
  users?: string[];
}

/** What the data options resolve to, before any data is read. */
export interface DataPlan {
  /** The built-in data set, or null for a ratings file. */
  builtin: BuiltinDatasetName | null;
  /** How to read the ratings file (null for a built-in data set). */
  reader: Reader | null;
  /** KFold (seeded by --seed) or PredefinedKFold. */
  splitter: Splitter;
  /**
   * The seed of the run: KFold's random state (random folds), and the algorithm's `randomState`
   * when it has one and no `--param` sets it. Never null once {@link drawSeedIfUnset} ran: an
   * unseeded run records the seed it drew, so that `--seed <that>` replays it.
   */
  seed: number | null;
}

/**
 * Gives `opts.seed` a value when `--seed` was not given: a seed drawn from the operating
 * system's entropy (engine `randomSeed`), so that every run records the seed it actually used.
 * @returns true when a seed was drawn (the caller says so on stderr), false when one was given
 */
export function drawSeedIfUnset(opts: { seed?: number }): boolean {
  if (opts.seed !== undefined) return false;
  opts.seed = randomSeed();
  return true;
}

/** Where commands write: results to `stdout`, progress and notes to `stderr`. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A commander argument parser for a whole number in [min, max]. */
export const intArg =
  (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number in [${min}, ${max}].`);
    }
    return n;
  };

/** Parses "lowest,highest" into a rating scale. */
export function ratingScaleArg(text: string): RatingScale {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
    throw new InvalidArgumentError('expected two numbers "lowest,highest", e.g. 1,5 or 0.5,5.');
  }
  return [parts[0], parts[1]];
}

/** `'\t'` typed in a shell is a backslash and a t: turn escapes and names into the separator. */
export function separatorArg(text: string): string {
  const named: Record<string, string> = { tab: '\t', comma: ',', space: ' ', '\\t': '\t' };
  return named[text] ?? text;
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the data-set and cross-validation options to `cmd`. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option(
      '--dataset <name|path>',
      `built-in data set (${BUILTIN_DATASET_NAMES.join(', ')}) or path to a ratings file`,
      'ml-100k',
    )
    .option(
      '--datasets-dir <dir>',
      'directory holding built-in data sets as sub-directories (default: $REELGRAPH_DATASETS, then the cache, then a download)',
    )
    .option(
      '--format <fields>',
      "ratings file: fields of a line, e.g. 'user item rating timestamp' (default 'user item rating')",
    )
    .option(
      '--sep <sep>',
      "ratings file: field separator, e.g. '\\t', ',', '::' (default: any run of whitespace)",
      separatorArg,
    )
    .option(
      '--skip-lines <n>',
      'ratings file: header lines to skip (default 0)',
      intArg('--skip-lines', 0),
    )
    .option('--rating-scale <lo,hi>', 'ratings file: rating scale (default 1,5)', ratingScaleArg)
    .option('--cv <k>', 'number of folds (default 5)', intArg('--cv', 2))
    .addOption(
      new Option('--folds <kind>', 'random KFold folds, or the predefined u1…u5 files (ml-100k)')
        .choices(['random', 'predefined'])
        .default('random'),
    )
    .option(
      '--seed <n>',
      'random state of the KFold shuffle, and of the algorithm when it has one and no --param sets it',
      intArg('--seed', 0, 0xffffffff),
    )
    .option(
      '--movies <csv>',
      'movie attributes (side information): a CSV "movieId,title,genres,year[,…]"; repeatable, a later file overrides (built-in data sets bring their own)',
      collect,
      [],
    )
    .option(
      '--users <csv>',
      'user attributes (side information): a CSV "userId[,attribute…]" e.g. userId,age,gender,occupation,zip; repeatable',
      collect,
      [],
    );
}

/**
 * The side information of a data set: the built-in data set's own (u.item/u.user, movies.csv…,
 * when its files are there), then the `--movies`/`--users` files in order, a later row replacing
 * an earlier one with the same id.
 * @throws UsageError for a catalogue file that does not exist; DatasetFormatError (file, line,
 *   field) for a malformed one.
 */
export async function loadSideInfo(opts: DataOptions, p: DataPlan): Promise<SideInfo> {
  const parts: Record<CatalogueKind, Map<string, AttributeRow>[]> = { movies: [], users: [] };
  if (p.builtin) {
    const dir = await resolveBuiltin(p.builtin, { datasetsDir: opts.datasetsDir, progress: false });
    try {
      const side = readBuiltinSideInfo(p.builtin, dir);
      parts.movies.push(new Map(side.items));
      parts.users.push(new Map(side.users));
    } catch (e) {
      if (!/ENOENT|cannot read/.test((e as Error).message)) throw e;
    }
  }
  for (const kind of ['movies', 'users'] as const) {
    for (const file of opts[kind] ?? []) {
      if (!fs.existsSync(file)) throw new UsageError(`--${kind} ${file}: no such file`);
      parts[kind].push(parseCatalogueCsv(fs.readFileSync(file, 'utf8'), file, kind));
    }
  }
  return { items: mergeAttributeRows(parts.movies), users: mergeAttributeRows(parts.users) };
}

/**
 * Validates the data options (usage errors) without reading data.
 * @throws UsageError for file options given with a built-in data set, a missing file, a bad
 *   reader option, predefined folds of anything but ml-100k, or --cv other than 5 with them.
 */
export function planData(opts: DataOptions): DataPlan {
  const builtin = (BUILTIN_DATASET_NAMES as readonly string[]).includes(opts.dataset)
    ? (opts.dataset as BuiltinDatasetName)
    : null;
  let reader: Reader | null = null;
  const fileOptions = (['format', 'sep', 'skipLines', 'ratingScale'] as const).filter(
    (k) => opts[k] !== undefined,
  );
  if (builtin) {
    if (fileOptions.length > 0) {
      const flags = fileOptions.map(
        (k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()),
      );
      throw new UsageError(
        `${flags.join(', ')} ${flags.length > 1 ? 'apply' : 'applies'} only to a ratings file; ${builtin} is read with its own format`,
      );
    }
  } else {
    if (!fs.existsSync(opts.dataset) || !fs.statSync(opts.dataset).isFile()) {
      throw new UsageError(
        `--dataset '${opts.dataset}' is neither a built-in data set (${BUILTIN_DATASET_NAMES.join(
          ', ',
        )}) nor a file`,
      );
    }
    reader = asUsage(
      () =>
        new Reader({
          lineFormat: opts.format,
          sep: opts.sep,
          skipLines: opts.skipLines,
          ratingScale: opts.ratingScale,
        }),
    );
  }

  let splitter: Splitter;
  if (opts.folds === 'predefined') {
    if (builtin !== 'ml-100k') {
      throw new UsageError(
        `--folds predefined needs --dataset ml-100k (its u1…u5 base/test files); got '${opts.dataset}'`,
      );
    }
    if (opts.cv !== undefined && opts.cv !== 5) {
      throw new UsageError(`--cv ${opts.cv} conflicts with --folds predefined (u1…u5 are 5 folds)`);
    }
    splitter = new PredefinedKFold();
  } else {
    splitter = new KFold({ nSplits: opts.cv ?? 5, randomState: opts.seed ?? null });
  }
  return {
    builtin,
    reader,
    splitter,
    seed: opts.seed ?? null,
  };
}

/**
 * Loads the data set a plan names (a built-in one through its resolution and download, with
 * download progress on stderr unless quiet), and prints its warnings to stderr.
 * @returns the data set and its number of ratings (for predefined folds: the test ratings of all
 *   folds, i.e. every rating once for ml-100k's u1…u5).
 * @throws UsageError for a `--cv` above the number of ratings (KFold needs at least one rating per
 *   fold: a usage error, found once the data is loaded); the data set's errors
 *   (DatasetNotFoundError, DatasetFormatError, ChecksumError).
 */
export async function loadData(
  opts: DataOptions,
  p: DataPlan,
  io: CommandIo,
): Promise<{ data: Dataset; nRatings: number }> {
  let data: Dataset;
  if (p.builtin) {
    const loadOpts = {
      datasetsDir: opts.datasetsDir,
      progress: opts.quiet ? (false as const) : io.stderr,
    };
    data =
      opts.folds === 'predefined'
        ? await Dataset.loadPredefinedFolds(p.builtin, loadOpts)
        : await Dataset.loadBuiltin(p.builtin, loadOpts);
  } else {
    data = Dataset.loadFromFile(opts.dataset, p.reader!);
  }
  data = data.withSideInfo(await loadSideInfo(opts, p));
  if (!opts.quiet) for (const w of data.warnings) io.stderr.write(`warning: ${w}\n`);
  const nRatings = data.folds
    ? data.folds.reduce((s, f) => s + f.test.length, 0)
    : data.ratings.length;
  if (opts.folds !== 'predefined' && p.splitter.getNSplits(data) > nRatings) {
    throw new UsageError(
      `--cv ${p.splitter.getNSplits(data)} is more than the number of ratings in ${opts.dataset} (${nRatings}): expected a whole number in [2, ${nRatings}]`,
    );
  }
  return { data, nRatings };
}
