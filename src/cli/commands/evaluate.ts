/**
 * `reelgraph evaluate`: cross-validates an algorithm on a data set and prints the table Surprise's
 * verbose `cross_validate` prints (or, with `--json`, one object with the per-fold and mean
 * figures). With `--top-n [k]`, also precision@k, recall@k, NDCG@k and hit rate of each fold,
 * from the same test predictions (src/cli/top-n-options.ts). Progress goes to stderr while folds
 * run: a bar on a terminal, plain lines otherwise.
 *
 * A thin shell over `crossValidate` (src/engine/model-selection): it validates every option before
 * loading any data, loads the data set, picks the splitter, and prints.
 */
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import '../../engine/algorithms';
import { createAlgorithm, getAlgorithm, listAlgorithms } from '../../engine/algorithms/registry';
import { writeModelFile } from '../../engine/model-file';
import { parseMeasures, type MeasureName } from '../../engine/metrics';
import {
  crossValidate,
  formatSummary,
  type CrossValidateProgress,
  type CrossValidateResult,
} from '../../engine/model-selection';
import type { ParamValues } from '../../engine/params';
import { asUsage, UsageError } from '../errors';
import {
  algorithmParams,
  figuresJson,
  foldBar,
  foldRowsJson,
  foldsLabel,
  foldSummary,
  type FiguresJson,
  type FoldFigures,
} from '../cross-validation';
import {
  addDataOptions,
  collect,
  drawSeedIfUnset,
  loadData,
  planData,
  type CommandIo,
  type DataOptions,
  type DataPlan,
} from '../data-options';
import {
  addTopNOptions,
  checkThresholdScale,
  planTopN,
  TOP_N_HELP,
  TopNCollector,
  topNSummary,
  withTopNRows,
  type TopNCliOptions,
  type TopNFigures,
  type TopNFold,
  type TopNPlan,
} from '../top-n-options';
import {
  addRankingOptions,
  formatRankingTable,
  modelParams,
  planRanking,
  RANKING_HELP,
  rankingJson,
  runRanking,
  type RankingCliOptions,
} from '../ranking-options';
import { listRankers } from '../../engine/rankers';

/** The options of `reelgraph evaluate`, as commander parses them. */
export interface EvaluateOptions extends DataOptions, TopNCliOptions, RankingCliOptions {
  algo: string;
  param: string[];
  measures: string;
  json?: boolean;
  quiet?: boolean;
  /** `--save FILE`: after the folds, fit on the whole data set and write the model file. */
  save?: string;
}

/** Where `runEvaluate` writes: the table or JSON to `stdout`, progress and notes to `stderr`. */
export type EvaluateIo = CommandIo;

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
  /**
   * The seed of the run: KFold's random state (random folds) and the algorithm's `randomState`
   * unless `--param` set it; the one drawn from entropy when `--seed` was not given, so that
   * `--seed <seed>` replays the run.
   */
  seed: number | null;
  measures: MeasureName[];
  perFold: Array<
    { fold: number; nTrain: number; nTest: number; fitTime: number; testTime: number } & Partial<
      Record<MeasureName, number>
    >
  >;
  /** Means and standard deviations over the folds (see `figuresJson`). */
  mean: FiguresJson;
  std: FiguresJson;
  /**
   * With `--top-n` only: k, the threshold, per fold `{fold, nUsers, precision, recall, ndcg,
   * hitRate}` (means over the fold's test users, in [0, 1]) and their mean and std over folds.
   */
  topN?: TopNPlan & TopNFigures;
}

/** Builds the `evaluate` command (not yet attached to a program). */
export function evaluateCommand(): Command {
  const cmd = new Command('evaluate')
    .description(
      'Cross-validate an algorithm on a data set and print RMSE, MAE (and FCP) per fold, ' +
        "as Surprise's cross_validate(verbose=True).",
    )
    .option(
      '--algo <name>',
      'algorithm to evaluate (see the list below; with --protocol ranking also a ranker)',
      'SVD',
    );
  addDataOptions(cmd)
    .option(
      '--param <name=value>',
      'algorithm parameter, repeatable; dotted names reach into options (bslOptions.method=sgd)',
      collect,
      [],
    )
    .option('--measures <list>', 'comma-separated measures among rmse, mse, mae, fcp', 'rmse,mae');
  return addRankingOptions(addTopNOptions(cmd))
    .option('--json', 'print one JSON object with per-fold and mean figures instead of the table')
    .option(
      '--save <file>',
      'after the folds, fit the same algorithm and parameters on the whole data set and write the model file (engine loadModel/readModelFile read it back)',
    )
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      () =>
        `\nAlgorithms: ${listAlgorithms().join(', ')}\n` +
        `Rankers (--protocol ranking only): ${listRankers().join(', ')}\n\n` +
        TOP_N_HELP +
        '\n' +
        RANKING_HELP +
        '\nExamples:\n' +
        '  reelgraph evaluate --algo SVD --dataset ml-100k --cv 5\n' +
        '  reelgraph evaluate --algo SVD --folds predefined --param nFactors=50 --json\n' +
        '  reelgraph evaluate --algo BaselineOnly --param bslOptions.method=sgd --seed 0\n' +
        '  reelgraph evaluate --algo SVD --top-n 10 --threshold 4\n' +
        '  reelgraph evaluate --protocol ranking --algo EASE --param lambda=400 --json\n' +
        '  reelgraph evaluate --dataset ratings.csv --sep , --skip-lines 1 --rating-scale 0.5,5\n',
    )
    .action(async (opts: EvaluateOptions) => {
      await runEvaluate(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

/** What the options resolve to, before any data is read. */
interface Plan extends DataPlan {
  algo: string;
  params: ParamValues;
  measures: MeasureName[];
  topN: TopNPlan | null;
}

/** Validates every option (usage errors), without reading data. */
function plan(opts: EvaluateOptions): Plan {
  const cls = getAlgorithm(opts.algo); // ParamError listing the algorithms → exit 2
  const params = algorithmParams(cls, opts.param, opts.seed); // checked before loading the data
  const measures = asUsage(() => parseMeasures(opts.measures.split(',')));
  const topN = planTopN(opts);
  return { algo: cls.algorithmName, params, measures, topN, ...planData(opts) };
}

/**
 * Progress on stderr: a bar on a terminal, one line per event otherwise; with `--top-n`, a
 * finished fold's line ends with its top-N figures (`lastTopN`, computed before its done event).
 */
function progressReporter(
  stderr: EvaluateIo['stderr'],
  measures: MeasureName[],
  topN: TopNPlan | null,
  lastTopN: () => TopNFold | undefined,
): { onProgress: (p: CrossValidateProgress) => void; stop: () => void } {
  const summary = (p: FoldFigures) => {
    const f = topN ? lastTopN() : undefined;
    return foldSummary(measures, p) + (f && topN ? `; ${topNSummary(f, topN.k)}` : '');
  };
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
      bar ??= foldBar(stderr, p.nSplits);
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
  const perFold: EvaluateJson['perFold'] = foldRowsJson(r, (k) => ({
    nTrain: r.nTrain[k],
    nTest: r.nTest[k],
  }));
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
    mean: figuresJson(r, r.mean),
    std: figuresJson(r, r.std),
  };
}

/**
 * Runs `reelgraph evaluate` with parsed options.
 * @throws UsageError / ParamError for bad options (before reading data), and UsageError for a
 *   `--cv` above the number of ratings (after reading it, in loadData); the data set's errors
 *   (DatasetNotFoundError, DatasetFormatError); the algorithm's.
 */
export async function runEvaluate(opts: EvaluateOptions, io: EvaluateIo): Promise<void> {
  const ranking = planRanking(opts);
  if (ranking) {
    // Ranking protocol: one stratified split, top k over every unrated movie.
    const entry = modelParams(opts.algo, opts.param, ranking.seed);
    const p = planData(opts);
    const { data, nRatings } = await loadData(opts, p, io);
    if (!opts.quiet) {
      io.stderr.write(
        `Evaluating ${entry.name} on ${opts.dataset} (${nRatings} ratings), ranking protocol: ` +
          `test size ${ranking.testSize}, seed ${ranking.seed}, top ${ranking.k}\n`,
      );
    }
    const run = runRanking([entry], data, ranking, io, opts.quiet === true);
    const r = run.results[0];
    if (opts.json) {
      const json = rankingJson(r, { dataset: opts.dataset, nRatings, ...run, plan: ranking });
      io.stdout.write(JSON.stringify(json, null, 2) + '\n');
    } else {
      io.stdout.write(formatRankingTable(run.results) + '\n');
    }
    return;
  }
  const drawn = drawSeedIfUnset(opts); // an unseeded run records the seed it drew
  const p = plan(opts);
  if (opts.save !== undefined && opts.folds === 'predefined') {
    throw new UsageError('--save fits on the whole data set: not with --folds predefined');
  }
  const say = (line: string) => {
    if (!opts.quiet) io.stderr.write(line + '\n');
  };
  if (drawn) say(`seed ${opts.seed} (drawn; --seed ${opts.seed} replays this run)`);
  const { data, nRatings } = await loadData(opts, p, io);
  checkThresholdScale(p.topN, data.ratingScale);
  say(
    `Evaluating ${p.algo} on ${opts.dataset} (${nRatings} ratings), ${foldsLabel(
      opts,
      p.splitter.getNSplits(data),
    )}`,
  );
  const collector = p.topN ? new TopNCollector(p.topN) : null;
  const progress = opts.quiet
    ? null
    : progressReporter(io.stderr, p.measures, p.topN, () => collector?.last);
  let result: CrossValidateResult;
  try {
    result = crossValidate({ name: p.algo, params: p.params }, data, {
      measures: p.measures,
      cv: p.splitter,
      onProgress: progress?.onProgress,
      // Top-N figures from each fold's test predictions, the ones RMSE/MAE come from.
      onPredictions: collector?.onPredictions,
    });
  } finally {
    progress?.stop();
  }
  const topN = collector ? collector.figures(result.algorithmName) : null;
  if (opts.save !== undefined) {
    const trainset = data.buildFullTrainset();
    const algo = createAlgorithm(p.algo, p.params).fit(trainset);
    writeModelFile(opts.save, algo, { dataset: opts.dataset, seed: p.seed });
    say(
      `saved ${p.algo} fitted on all ${trainset.nRatings} ratings to ${opts.save} (load it with engine readModelFile)`,
    );
  }
  if (opts.json) {
    const out = toJson(result, {
      dataset: opts.dataset,
      nRatings,
      folds: opts.folds,
      seed: p.seed,
    });
    if (topN && p.topN) out.topN = { ...p.topN, ...topN };
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    const summary = formatSummary(result);
    io.stdout.write((topN && p.topN ? withTopNRows(summary, topN, p.topN.k) : summary) + '\n');
  }
}
