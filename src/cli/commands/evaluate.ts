/**
 * `reelgraph evaluate`: cross-validates an algorithm on a data set and prints the table Surprise's
 * verbose `cross_validate` prints (or, with `--json`, one object with the per-fold and mean
 * figures). Progress goes to stderr while folds run: a bar on a terminal, plain lines otherwise.
 *
 * A thin shell over `crossValidate` (src/engine/model-selection): it validates every option before
 * loading any data, loads the data set, picks the splitter, and prints.
 */
import * as fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import '../../engine/algorithms';
import { getAlgorithm, listAlgorithms } from '../../engine/algorithms/registry';
import {
  BUILTIN_DATASET_NAMES,
  Dataset,
  Reader,
  type BuiltinDatasetName,
  type RatingScale,
} from '../../engine/dataset';
import { parseMeasures, type MeasureName } from '../../engine/metrics';
import {
  crossValidate,
  formatFixed,
  formatSummary,
  KFold,
  PredefinedKFold,
  type CrossValidateProgress,
  type CrossValidateResult,
  type Splitter,
} from '../../engine/model-selection';
import { mergeParams, parseParamAssignment, type ParamValues } from '../../engine/params';
import { asUsage, UsageError } from '../errors';

/** The options of `reelgraph evaluate`, as commander parses them. */
export interface EvaluateOptions {
  algo: string;
  dataset: string;
  datasetsDir?: string;
  format?: string;
  sep?: string;
  skipLines?: number;
  ratingScale?: RatingScale;
  cv?: number;
  folds: 'random' | 'predefined';
  seed?: number;
  param: string[];
  measures: string;
  json?: boolean;
  quiet?: boolean;
}

/** Where `runEvaluate` writes: the table or JSON to `stdout`, progress and notes to `stderr`. */
export interface EvaluateIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The object `--json` prints. Times in seconds; measures in rating units (FCP in [0, 1]). */
export interface EvaluateJson {
  algorithm: string;
  /** Every parameter of the algorithm, defaults included. */
  params: Record<string, unknown>;
  /** The built-in name or the file path given to `--dataset`. */
  dataset: string;
  nRatings: number;
  folds: 'random' | 'predefined';
  nSplits: number;
  /** KFold's random state (null: drawn from entropy); null for predefined folds. */
  seed: number | null;
  measures: MeasureName[];
  perFold: Array<
    { fold: number; nTrain: number; nTest: number; fitTime: number; testTime: number } & Partial<
      Record<MeasureName, number>
    >
  >;
  mean: Partial<Record<MeasureName | 'fitTime' | 'testTime', number>>;
  std: Partial<Record<MeasureName | 'fitTime' | 'testTime', number>>;
}

const intArg =
  (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be a whole number in [${min}, ${max}].`);
    }
    return n;
  };

function ratingScaleArg(text: string): RatingScale {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1])) {
    throw new InvalidArgumentError('expected two numbers "lowest,highest", e.g. 1,5 or 0.5,5.');
  }
  return [parts[0], parts[1]];
}

/** `'\t'` typed in a shell is a backslash and a t: turn escapes and names into the separator. */
function separatorArg(text: string): string {
  const named: Record<string, string> = { tab: '\t', comma: ',', space: ' ', '\\t': '\t' };
  return named[text] ?? text;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Builds the `evaluate` command (not yet attached to a program). */
export function evaluateCommand(): Command {
  return new Command('evaluate')
    .description(
      'Cross-validate an algorithm on a data set and print RMSE, MAE (and FCP) per fold, ' +
        "as Surprise's cross_validate(verbose=True).",
    )
    .option('--algo <name>', 'algorithm to evaluate (see the list below)', 'SVD')
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
      '--param <name=value>',
      'algorithm parameter, repeatable; dotted names reach into options (bslOptions.method=sgd)',
      collect,
      [],
    )
    .option('--measures <list>', 'comma-separated measures among rmse, mse, mae, fcp', 'rmse,mae')
    .option('--json', 'print one JSON object with per-fold and mean figures instead of the table')
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      () =>
        `\nAlgorithms: ${listAlgorithms().join(', ')}\n\nExamples:\n` +
        '  reelgraph evaluate --algo SVD --dataset ml-100k --cv 5\n' +
        '  reelgraph evaluate --algo SVD --folds predefined --param nFactors=50 --json\n' +
        '  reelgraph evaluate --algo BaselineOnly --param bslOptions.method=sgd --seed 0\n' +
        '  reelgraph evaluate --dataset ratings.csv --sep , --skip-lines 1 --rating-scale 0.5,5\n',
    )
    .action(async (opts: EvaluateOptions) => {
      await runEvaluate(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

/** What the options resolve to, before any data is read. */
interface Plan {
  algo: string;
  params: ParamValues;
  measures: MeasureName[];
  builtin: BuiltinDatasetName | null;
  reader: Reader | null;
  splitter: Splitter;
  seed: number | null;
}

/** Validates every option (usage errors), without reading data. */
function plan(opts: EvaluateOptions): Plan {
  const cls = getAlgorithm(opts.algo); // ParamError listing the algorithms → exit 2
  let params: ParamValues = {};
  for (const a of opts.param) {
    params = mergeParams(params, parseParamAssignment(cls.paramSpecs, a, cls.algorithmName));
  }
  if (opts.seed !== undefined && 'randomState' in cls.paramSpecs && !('randomState' in params)) {
    params = { ...params, randomState: opts.seed };
  }
  new cls(params); // every parameter checked now, not after loading the data
  const measures = asUsage(() => parseMeasures(opts.measures.split(',')));

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
    algo: cls.algorithmName,
    params,
    measures,
    builtin,
    reader,
    splitter,
    seed: opts.folds === 'predefined' ? null : (opts.seed ?? null),
  };
}

/** Progress on stderr: a bar on a terminal, one line per event otherwise. */
function progressReporter(
  stderr: EvaluateIo['stderr'],
  measures: MeasureName[],
): { onProgress: (p: CrossValidateProgress) => void; stop: () => void } {
  const summary = (p: Extract<CrossValidateProgress, { phase: 'done' }>) =>
    measures.map((m) => `${m.toUpperCase()} ${formatFixed(p.measures[m]!, 4)}`).join(', ') +
    ` (fit ${formatFixed(p.fitTime, 2)} s, test ${formatFixed(p.testTime, 2)} s)`;
  if (!stderr.isTTY) {
    return {
      onProgress: (p) => {
        stderr.write(
          p.phase === 'fit'
            ? `fold ${p.fold}/${p.nSplits}: fitting on ${p.nTrain} ratings, testing on ${p.nTest}\n`
            : `fold ${p.fold}/${p.nSplits}: ${summary(p)}\n`,
        );
      },
      stop: () => {},
    };
  }
  let bar: SingleBar | null = null;
  return {
    onProgress: (p) => {
      if (!bar) {
        bar = new SingleBar({
          stream: stderr,
          format: 'folds |{bar}| {value}/{total} {status}',
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(p.nSplits, 0, { status: '' });
      }
      if (p.phase === 'fit') bar.update(p.fold - 1, { status: `fitting fold ${p.fold}…` });
      else bar.update(p.fold, { status: `fold ${p.fold}: ${summary(p)}` });
    },
    stop: () => {
      (bar as SingleBar | null)?.stop();
    },
  };
}

/** The `--json` object of a result. */
export function toJson(
  r: CrossValidateResult,
  extra: Pick<EvaluateJson, 'dataset' | 'nRatings' | 'folds' | 'seed'>,
): EvaluateJson {
  const cap = (m: MeasureName) =>
    `test${m[0].toUpperCase()}${m.slice(1)}` as `test${Capitalize<MeasureName>}`;
  const perFold: EvaluateJson['perFold'] = [];
  for (let k = 0; k < r.nSplits; k++) {
    const row: EvaluateJson['perFold'][number] = {
      fold: k + 1,
      nTrain: r.nTrain[k],
      nTest: r.nTest[k],
      fitTime: r.fitTime[k],
      testTime: r.testTime[k],
    };
    for (const m of r.measures) row[m] = r[cap(m)]![k];
    perFold.push(row);
  }
  const pick = (src: CrossValidateResult['mean']) => {
    const out: EvaluateJson['mean'] = {};
    for (const m of r.measures) out[m] = src[cap(m)];
    out.fitTime = src.fitTime;
    out.testTime = src.testTime;
    return out;
  };
  return {
    algorithm: r.algorithmName,
    params: r.params,
    dataset: extra.dataset,
    nRatings: extra.nRatings,
    folds: extra.folds,
    nSplits: r.nSplits,
    seed: extra.seed,
    measures: r.measures,
    perFold,
    mean: pick(r.mean),
    std: pick(r.std),
  };
}

/**
 * Runs `reelgraph evaluate` with parsed options.
 * @throws UsageError / ParamError for bad options (before reading data); the data set's errors
 *   (DatasetNotFoundError, DatasetFormatError); the algorithm's.
 */
export async function runEvaluate(opts: EvaluateOptions, io: EvaluateIo): Promise<void> {
  const p = plan(opts);
  const say = (line: string) => {
    if (!opts.quiet) io.stderr.write(line + '\n');
  };
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
  for (const w of data.warnings) say(`warning: ${w}`);
  const nRatings = data.folds
    ? data.folds.reduce((s, f) => s + f.test.length, 0)
    : data.ratings.length;
  say(
    `Evaluating ${p.algo} on ${opts.dataset} (${nRatings} ratings), ${
      opts.folds === 'predefined' ? 'predefined folds' : `${p.splitter.getNSplits(data)}-fold KFold`
    }`,
  );
  const progress = opts.quiet ? null : progressReporter(io.stderr, p.measures);
  let result: CrossValidateResult;
  try {
    result = crossValidate({ name: p.algo, params: p.params }, data, {
      measures: p.measures,
      cv: p.splitter,
      onProgress: progress?.onProgress,
    });
  } finally {
    progress?.stop();
  }
  if (opts.json) {
    const out = toJson(result, {
      dataset: opts.dataset,
      nRatings,
      folds: opts.folds,
      seed: p.seed,
    });
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    io.stdout.write(formatSummary(result) + '\n');
  }
}
