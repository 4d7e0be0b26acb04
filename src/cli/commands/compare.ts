/**
 * `reelgraph compare`: the model-selection study in one command — cross-validate several
 * algorithms on the same folds of a data set, print a table ranked by RMSE (mean RMSE, MAE, fit
 * and test seconds per fold; with `--top-n [k]` also precision@k, recall@k, NDCG@k and hit rate
 * from the same predictions), and optionally write a self-contained HTML report with charts
 * (`--out report.html`) or print JSON (`--json`). Progress goes to stderr.
 *
 * A thin shell over `compareAlgorithms` (src/engine/model-selection/compare.ts) or, with
 * `--workers N` above 1 (the default on a machine with several cores), `compareAlgorithmsPooled`
 * (pooled.ts: every algorithm and fold a task of a pool of N worker threads; the same measures bit
 * for bit); the data-set options are those of `evaluate` (src/cli/data-options.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import '../../engine/algorithms';
import { getAlgorithm, listAlgorithms } from '../../engine/algorithms/registry';
import { parseMeasures, type MeasureName } from '../../engine/metrics';
import {
  FoldPool,
  compareAlgorithms,
  compareAlgorithmsPooled,
  rankResults,
  type CompareEntry,
  type CompareProgress,
  type CrossValidateResult,
} from '../../engine/model-selection';
import type { SplitData, Splitter } from '../../engine/model-selection/split';
import { mergeParams, parseParamAssignment, type ParamValues } from '../../engine/params';
import {
  addDataOptions,
  collect,
  loadData,
  drawSeedIfUnset,
  planData,
  type CommandIo,
  type DataOptions,
} from '../data-options';
import { asUsage, UsageError } from '../errors';
import {
  algorithmParams,
  foldBar,
  foldsLabel,
  foldSummary,
  type FoldFigures,
} from '../cross-validation';
import {
  formatCompareTable,
  renderCompareReport,
  toCompareJson,
  type CompareRunInfo,
  type ComparedResult,
} from '../report/compare-report';
import { renderRankingReport } from '../report/ranking-report';
import {
  addTopNOptions,
  checkThresholdScale,
  planTopN,
  TOP_N_HELP,
  TopNCollector,
  topNSummary,
  type TopNCliOptions,
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
  type RankingPlan,
} from '../ranking-options';
import { getRanker, isRanker, listRankers } from '../../engine/rankers';
import { addWorkersOption, planWorkers } from '../workers-option';

/**
 * The built-in algorithms `compare` runs by default, in Surprise's benchmark order (those that
 * are registered), then BayesianFM (the factorization machine with side information).
 */
export const DEFAULT_COMPARE_ALGORITHMS = [
  'NormalPredictor',
  'BaselineOnly',
  'SVD',
  'SVDpp',
  'NMF',
  'SlopeOne',
  'KNNBasic',
  'KNNWithMeans',
  'KNNWithZScore',
  'KNNBaseline',
  'CoClustering',
  'BayesianFM',
] as const;

/** The options of `reelgraph compare`, as commander parses them. */
export interface CompareOptions extends DataOptions, TopNCliOptions, RankingCliOptions {
  algos?: string;
  param: string[];
  measures: string;
  out?: string;
  json?: boolean;
  workers?: string;
}

/** What `compare --protocol ranking` runs by default: every ranker, then SVD for contrast. */
export function defaultRankingModels(): string[] {
  return [...listRankers(), 'SVD'];
}

/** The default algorithm list: the built-ins of {@link DEFAULT_COMPARE_ALGORITHMS} that exist. */
export function defaultAlgorithms(): string[] {
  const known = new Set(listAlgorithms());
  return DEFAULT_COMPARE_ALGORITHMS.filter((n) => known.has(n));
}

/** Builds the `compare` command (not yet attached to a program). */
export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description(
      'Cross-validate several algorithms on the same folds, print a table ranked by RMSE ' +
        '(RMSE, MAE, with --top-n precision@k, recall@k, NDCG@k and hit rate, fit and test ' +
        'seconds per fold) and write an HTML report with charts.',
    )
    .option(
      '--algos <list>',
      'comma-separated algorithms to compare (default: every built-in, see below)',
    );
  addDataOptions(cmd)
    .option(
      '--param <Algo.name=value>',
      'parameter of one algorithm, repeatable (SVD.nFactors=50, BaselineOnly.bslOptions.method=sgd)',
      collect,
      [],
    )
    .option('--measures <list>', 'comma-separated measures among rmse, mse, mae, fcp', 'rmse,mae');
  return addWorkersOption(
    addRankingOptions(addTopNOptions(cmd))
      .option('--out <file>', 'write a self-contained HTML report (table, charts, run details)')
      .option(
        '--json',
        'print one JSON object (run details, per-fold and mean figures) instead of the table',
      ),
  )
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      () =>
        `\nAlgorithms: ${listAlgorithms().join(', ')}\nDefault: ${defaultAlgorithms().join(', ')}\n` +
        `Rankers (--protocol ranking only): ${listRankers().join(', ')}\n` +
        `Default with --protocol ranking: ${defaultRankingModels().join(', ')}\n\n` +
        TOP_N_HELP +
        '\n' +
        RANKING_HELP +
        '\n' +
        'Examples:\n' +
        '  reelgraph compare --dataset ml-100k --cv 5 --out report.html\n' +
        '  reelgraph compare --folds predefined --algos SVD,KNNBaseline,BaselineOnly\n' +
        '  reelgraph compare --algos SVD,SVDpp --param SVD.nFactors=50 --seed 0 --json\n' +
        '  reelgraph compare --workers 1 --algos SVD,KNNBaseline   # sequential, in this process\n' +
        '  reelgraph compare --algos SVD,BaselineOnly --top-n 10 --threshold 4 --out report.html\n' +
        '  reelgraph compare --protocol ranking --algos EASE,iALS,BPR,SVD --param EASE.lambda=400\n' +
        '  reelgraph --plugin ./my-algo.js compare --algos MyAlgo,SVD\n',
    )
    .action(async (opts: CompareOptions) => {
      await runCompare(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

/**
 * Cross-validates the entries: in this thread with one worker, else on a pool of `workers`
 * threads (closed at the end). Progress and top-N collection per finished fold either way.
 */
async function crossValidateAll(
  entries: CompareEntry[],
  data: SplitData,
  splitter: Splitter,
  measures: MeasureName[],
  workers: number,
  onProgress: ((p: CompareProgress) => void) | undefined,
  collector: TopNCollector | null,
): Promise<CrossValidateResult[]> {
  if (workers === 1) {
    return compareAlgorithms(entries, data, {
      measures,
      cv: splitter,
      onProgress,
      // Top-N figures from each fold's test predictions, the ones RMSE/MAE come from.
      onPredictions: collector?.onPredictions,
    });
  }
  const pool = new FoldPool(workers);
  try {
    return await compareAlgorithmsPooled(entries, data, {
      measures,
      cv: splitter,
      pool,
      returnPredictions: collector !== null,
      onFold: (f) => {
        const algorithm = entries[f.index].name;
        if (collector) {
          collector.onPredictions({ fold: f.fold, predictions: f.predictions!, algorithm });
        }
        onProgress?.({
          phase: 'done',
          fold: f.fold,
          nSplits: f.nSplits,
          measures: f.outcome.test,
          fitTime: f.outcome.fitTime,
          testTime: f.outcome.testTime,
          algorithm,
          index: f.index + 1,
          nAlgorithms: entries.length,
        });
      },
    });
  } finally {
    await pool.close();
  }
}

/** Resolves `--algos` and `--param` into entries, validating every name and value. */
function planAlgorithms(opts: CompareOptions): CompareEntry[] {
  const names =
    opts.algos === undefined
      ? defaultAlgorithms()
      : opts.algos
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--algos names no algorithm');
  const seen = new Set<string>();
  const entries = names.map((name) => {
    const cls = getAlgorithm(name); // ParamError listing the algorithms → exit 2
    if (seen.has(cls.algorithmName)) throw new UsageError(`--algos lists ${name} twice`);
    seen.add(cls.algorithmName);
    return { name: cls.algorithmName, params: {} as ParamValues };
  });
  for (const assignment of opts.param) {
    const dot = assignment.indexOf('.');
    const eq = assignment.indexOf('=');
    if (dot <= 0 || (eq >= 0 && eq < dot)) {
      throw new UsageError(
        `--param '${assignment}' must name its algorithm: Algo.name=value (e.g. SVD.nFactors=50)`,
      );
    }
    const algo = assignment.slice(0, dot);
    const entry = entries.find((e) => e.name === algo);
    if (!entry) {
      throw new UsageError(
        `--param '${assignment}' is for ${algo}, which is not compared (${entries
          .map((e) => e.name)
          .join(', ')})`,
      );
    }
    const cls = getAlgorithm(algo);
    entry.params = mergeParams(
      entry.params,
      parseParamAssignment(cls.paramSpecs, assignment.slice(dot + 1), cls.algorithmName),
    );
  }
  for (const entry of entries) {
    // The seed, and every parameter checked before any data is read.
    entry.params = algorithmParams(getAlgorithm(entry.name), [], opts.seed, entry.params);
  }
  return entries;
}

/**
 * Progress on stderr: a bar on a terminal, one line per fold otherwise. `lastTopN` gives the
 * top-N figures of the fold just measured (they are computed before its `done` event).
 */
function progressReporter(
  stderr: CommandIo['stderr'],
  measures: MeasureName[],
  total: number,
  lastTopN: (() => TopNFold | undefined) | null,
  topN: TopNPlan | null,
): { onProgress: (p: CompareProgress) => void; stop: () => void } {
  const summary = (p: FoldFigures) => {
    const f = topN ? lastTopN?.() : undefined;
    return foldSummary(measures, p) + (f && topN ? `; ${topNSummary(f, topN.k)}` : '');
  };
  const where = (p: CompareProgress) =>
    `[${p.index}/${p.nAlgorithms}] ${p.algorithm} fold ${p.fold}/${p.nSplits}`;
  if (!stderr.isTTY) {
    return {
      onProgress: (p) => {
        if (p.phase === 'done') stderr.write(`${where(p)}: ${summary(p)}\n`);
      },
      stop: () => {},
    };
  }
  let bar: SingleBar | null = null;
  let done = 0;
  return {
    onProgress: (p) => {
      bar ??= foldBar(stderr, total);
      if (p.phase === 'fit') bar.update(done, { status: `${where(p)}: fitting…` });
      else bar.update(++done, { status: `${where(p)}: ${summary(p)}` });
    },
    stop: () => {
      (bar as SingleBar | null)?.stop();
    },
  };
}

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The machine the run happens on, for the report. */
function machineInfo(): CompareRunInfo['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || os.arch(),
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
  };
}

/**
 * Runs `reelgraph compare` with parsed options.
 * @throws UsageError / ParamError for bad options (before any data is read); the data set's
 *   errors; the algorithms' errors; file-system errors writing `--out`.
 */
export async function runCompare(
  opts: CompareOptions,
  io: CommandIo,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  const ranking = planRanking(opts);
  if (ranking) {
    await runCompareRanking(opts, ranking, io, argv);
    return;
  }
  const drawn = drawSeedIfUnset(opts); // an unseeded run records the seed it drew
  const entries = planAlgorithms(opts);
  const measures = asUsage(() => parseMeasures(opts.measures.split(',')));
  const topN = planTopN(opts);
  const workers = planWorkers(opts.workers);
  const p = planData(opts);
  checkOutDir(opts.out);
  const say = (line: string) => {
    if (!opts.quiet) io.stderr.write(line + '\n');
  };
  const date = new Date().toISOString();
  if (drawn) say(`seed ${opts.seed} (drawn; --seed ${opts.seed} replays this run)`);
  const { data, nRatings } = await loadData(opts, p, io);
  checkThresholdScale(topN, data.ratingScale);
  const nSplits = p.splitter.getNSplits(data);
  say(
    `Comparing ${entries.map((e) => e.name).join(', ')} on ${opts.dataset} (${nRatings} ratings), ${foldsLabel(opts, nSplits)}` +
      (workers > 1 ? `, ${workers} workers` : ''),
  );
  const collector = topN ? new TopNCollector(topN) : null;
  const progress = opts.quiet
    ? null
    : progressReporter(io.stderr, measures, entries.length * nSplits, () => collector?.last, topN);
  let results: ComparedResult[];
  try {
    results = await crossValidateAll(
      entries,
      data,
      p.splitter,
      measures,
      workers,
      progress?.onProgress,
      collector,
    );
  } finally {
    progress?.stop();
  }
  if (collector) {
    results = results.map((r) => ({ ...r, topN: collector.figures(r.algorithmName) }));
  }
  const ranked = rankResults(results);
  const run: CompareRunInfo = {
    dataset: opts.dataset,
    nRatings,
    folds: opts.folds,
    nSplits,
    seed: p.seed,
    measures,
    topN,
    date,
    machine: machineInfo(),
    workers,
    version: packageVersion(),
    command: ['reelgraph', ...argv].join(' '),
  };
  if (opts.out !== undefined) {
    const html = await renderCompareReport(ranked, run);
    fs.writeFileSync(opts.out, html);
    say(`report written to ${opts.out}`);
  }
  if (opts.json) {
    io.stdout.write(JSON.stringify(toCompareJson(ranked, run), null, 2) + '\n');
  } else {
    io.stdout.write(formatCompareTable(ranked, measures, topN) + '\n');
    io.stdout.write(
      `\nMeans over ${nSplits} folds; times in seconds per fold; ranked by ${
        measures.includes('rmse') ? 'RMSE' : measures[0].toUpperCase()
      }.\n`,
    );
    if (topN) {
      io.stdout.write(
        `Top-${topN.k}: each user's test items ranked by estimate; relevant when the true ` +
          `rating is ≥ ${topN.threshold}, recommended when in the top ${topN.k} with estimate ` +
          `≥ ${topN.threshold} (Surprise's FAQ); Hit = share of users with a relevant recommended item.\n`,
      );
    }
  }
}

/**
 * Resolves `--algos` and `--param` in ranking mode: rankers and rating algorithms alike.
 * @throws UsageError / ParamError naming the model or parameter.
 */
function planRankingModels(
  opts: CompareOptions,
  seed: number,
): Array<{ name: string; params: ParamValues }> {
  const names =
    opts.algos === undefined
      ? defaultRankingModels()
      : opts.algos
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--algos names no algorithm');
  const canonical = names.map((n) =>
    isRanker(n) ? getRanker(n).rankerName : getAlgorithm(n).algorithmName,
  );
  canonical.forEach((n, i) => {
    if (canonical.indexOf(n) !== i) throw new UsageError(`--algos lists ${n} twice`);
  });
  const assignments = new Map<string, string[]>(canonical.map((n) => [n, []]));
  for (const assignment of opts.param) {
    const dot = assignment.indexOf('.');
    const eq = assignment.indexOf('=');
    if (dot <= 0 || (eq >= 0 && eq < dot)) {
      throw new UsageError(
        `--param '${assignment}' must name its model: Model.name=value (e.g. EASE.lambda=400)`,
      );
    }
    const list = assignments.get(assignment.slice(0, dot));
    if (!list) {
      throw new UsageError(
        `--param '${assignment}' is for ${assignment.slice(0, dot)}, which is not compared (${canonical.join(', ')})`,
      );
    }
    list.push(assignment.slice(dot + 1));
  }
  return canonical.map((n) => modelParams(n, assignments.get(n)!, seed));
}

/** Refuses an `--out` file whose directory does not exist (before any work is done). */
function checkOutDir(out: string | undefined): void {
  if (out === undefined) return;
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UsageError(`--out '${out}': directory ${dir} does not exist`);
  }
}

/**
 * `compare --protocol ranking`: every model on one stratified split; table, JSON, and with
 * `--out` the HTML report (report/ranking-report.ts).
 */
async function runCompareRanking(
  opts: CompareOptions,
  ranking: RankingPlan,
  io: CommandIo,
  argv: readonly string[],
): Promise<void> {
  const entries = planRankingModels(opts, ranking.seed);
  checkOutDir(opts.out);
  const date = new Date().toISOString();
  const p = planData(opts);
  const { data, nRatings } = await loadData(opts, p, io);
  if (!opts.quiet) {
    io.stderr.write(
      `Comparing ${entries.map((e) => e.name).join(', ')} on ${opts.dataset} (${nRatings} ratings), ` +
        `ranking protocol: test size ${ranking.testSize}, seed ${ranking.seed}, top ${ranking.k}\n`,
    );
  }
  const run = runRanking(entries, data, ranking, io, opts.quiet === true);
  if (opts.out !== undefined) {
    const html = await renderRankingReport(run.results, {
      dataset: opts.dataset,
      nRatings,
      nTrain: run.nTrain,
      nTest: run.nTest,
      testSize: ranking.testSize,
      seed: ranking.seed,
      k: ranking.k,
      date,
      machine: machineInfo(),
      version: packageVersion(),
      command: ['reelgraph', ...argv].join(' '),
    });
    fs.writeFileSync(opts.out, html);
    if (!opts.quiet) io.stderr.write(`report written to ${opts.out}\n`);
  }
  if (opts.json) {
    const info = { dataset: opts.dataset, nRatings, ...run, plan: ranking };
    const results = run.results.map((r) => rankingJson(r, info));
    io.stdout.write(
      JSON.stringify(
        {
          protocol: 'ranking',
          dataset: opts.dataset,
          nRatings,
          nTrain: run.nTrain,
          nTest: run.nTest,
          testSize: ranking.testSize,
          seed: ranking.seed,
          k: ranking.k,
          results,
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    io.stdout.write(formatRankingTable(run.results) + '\n');
    io.stdout.write(
      `\nOne per-user stratified split (test size ${ranking.testSize}, seed ${ranking.seed}); ` +
        `top ${ranking.k} over every movie of the training part the user did not rate; ` +
        "ranked by nDCG (Microsoft Recommenders' definitions, see --help).\n",
    );
  }
}
