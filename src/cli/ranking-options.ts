/**
 * The ranking protocol as a mode of `reelgraph evaluate` and `reelgraph compare`
 * (`--protocol ranking`): the options `--protocol`, `--test-size` and `--k`, their validation, the
 * run (one per-user stratified split, every model fitted on its training part, top k over all the
 * movies each user did not rate in training, src/engine/ranking-protocol.ts), and its table and
 * JSON. The FAQ-recipe figures of `--top-n` (src/cli/top-n-options.ts) are another protocol and
 * do not combine with this one.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import type { Dataset } from '../engine/dataset';
import { stratifiedSplit } from '../engine/model-selection/stratified-split';
import { formatFixed } from '../engine/model-selection';
import { getRanker, isRanker } from '../engine/rankers';
import {
  compareRanking,
  type RankingEntry,
  type RankingProgress,
  type RankingResult,
} from '../engine/ranking-protocol';
import { Trainset } from '../engine/trainset';
import { parseParamAssignment, mergeParams, type ParamValues } from '../engine/params';
import { getAlgorithm } from '../engine/algorithms/registry';
import { algorithmParams, foldBar } from './cross-validation';
import type { CommandIo, DataOptions } from './data-options';
import { intArg } from './data-options';
import { UsageError } from './errors';

/** Microsoft Recommenders' defaults: 25 % of each user's ratings in test, top 10, seed 42. */
export const DEFAULT_TEST_SIZE = 0.25;
export const DEFAULT_RANKING_K = 10;
export const DEFAULT_RANKING_SEED = 42;

/** The options as commander parses them. */
export interface RankingCliOptions {
  protocol?: 'cv' | 'ranking';
  testSize?: number;
  k?: number;
}

/** The other options `planRanking` checks: the data options' seed (the split's seed here), cv. */
type SharedOptions = RankingCliOptions &
  Pick<DataOptions, 'seed' | 'cv'> & { folds?: string; topN?: number | true };

/** What the options resolve to in ranking mode. */
export interface RankingPlan {
  testSize: number;
  k: number;
  seed: number;
}

function testSizeArg(text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !(x > 0 && x < 1)) {
    throw new InvalidArgumentError('--test-size must be a fraction in (0, 1), e.g. 0.25.');
  }
  return x;
}

/** Adds `--protocol`, `--test-size` and `--k` to `cmd`. */
export function addRankingOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--protocol <name>',
        "cv: Surprise's cross-validation of rating accuracy (default); ranking: the top-N " +
          'ranking protocol of Microsoft Recommenders (see below)',
      )
        .choices(['cv', 'ranking'])
        .default('cv'),
    )
    .option(
      '--test-size <fraction>',
      `with --protocol ranking: share of each user's ratings held out (default ${DEFAULT_TEST_SIZE})`,
      testSizeArg,
    )
    .option(
      '--k <n>',
      `with --protocol ranking: length of each user's list (default ${DEFAULT_RANKING_K})`,
      intArg('--k', 1, 10000),
    );
}

/**
 * Validates the options before any data is read.
 * @returns the plan in ranking mode, null otherwise.
 * @throws UsageError for ranking options without `--protocol ranking`, or cross-validation options
 *   (`--cv`, `--folds predefined`, `--top-n`) with it.
 */
export function planRanking(opts: SharedOptions): RankingPlan | null {
  if (opts.protocol !== 'ranking') {
    if (opts.testSize !== undefined || opts.k !== undefined) {
      throw new UsageError('--test-size and --k apply only with --protocol ranking');
    }
    return null;
  }
  if (opts.topN !== undefined) {
    throw new UsageError(
      "--top-n is Surprise's FAQ protocol (test items only); it does not combine with " +
        '--protocol ranking, which ranks every unrated movie (use --k)',
    );
  }
  if (opts.cv !== undefined || opts.folds === 'predefined') {
    throw new UsageError(
      '--cv and --folds apply to cross-validation; --protocol ranking makes one per-user ' +
        'stratified split (--test-size, --seed)',
    );
  }
  return {
    testSize: opts.testSize ?? DEFAULT_TEST_SIZE,
    k: opts.k ?? DEFAULT_RANKING_K,
    seed: opts.seed ?? DEFAULT_RANKING_SEED,
  };
}

/**
 * The parameters of a model named on the command line: a ranker's (`--param name=value`,
 * validated against its specs) or a rating algorithm's (as cross-validation does). The seed seeds
 * a model with a `randomState` parameter that was not given.
 * @throws ParamError for an unknown model or a bad parameter.
 */
export function modelParams(
  name: string,
  assignments: readonly string[],
  seed: number,
  params: ParamValues = {},
): { name: string; params: ParamValues } {
  if (!isRanker(name)) {
    const cls = getAlgorithm(name);
    return { name: cls.algorithmName, params: algorithmParams(cls, assignments, seed, params) };
  }
  const cls = getRanker(name);
  for (const a of assignments) {
    params = mergeParams(params, parseParamAssignment(cls.paramSpecs, a, cls.rankerName));
  }
  if ('randomState' in cls.paramSpecs && !('randomState' in params)) {
    params = { ...params, randomState: seed };
  }
  new cls(params);
  return { name: cls.rankerName, params };
}

/** The split and every model's figures. */
export interface RankingRun {
  nTrain: number;
  nTest: number;
  results: RankingResult[];
}

/**
 * Splits the data set (per-user stratified, `plan.seed`), fits each entry on the training part and
 * measures it on the test part; progress on stderr (a bar on a terminal, lines otherwise).
 */
export function runRanking(
  entries: readonly RankingEntry[],
  data: Dataset,
  plan: RankingPlan,
  io: CommandIo,
  quiet: boolean,
): RankingRun {
  const split = stratifiedSplit(data.ratings, { testSize: plan.testSize, seed: plan.seed });
  const trainset = Trainset.build(data.ratings.subset(split.train), data.ratingScale);
  const testset = data.ratings.subset(split.test).toTestset();
  let bar: SingleBar | null = null;
  const onProgress = (p: RankingProgress) => {
    if (quiet) return;
    const where = `[${p.index}/${p.nModels}] ${p.algorithm}`;
    const line =
      p.phase === 'fit'
        ? `${where}: fitting on ${split.train.length} ratings…`
        : `${where}: ${rankingSummary(p.result)}`;
    if (!io.stderr.isTTY) {
      if (p.phase === 'done') io.stderr.write(line + '\n');
      return;
    }
    bar ??= foldBar(io.stderr, p.nModels);
    bar.update(p.phase === 'fit' ? p.index - 1 : p.index, { status: line });
  };
  try {
    const results = compareRanking(entries, trainset, testset, plan.k, onProgress);
    return { nTrain: split.train.length, nTest: split.test.length, results };
  } finally {
    (bar as SingleBar | null)?.stop();
  }
}

/** `nDCG@10 0.4841, MAP 0.1476, P@10 0.4284, R@10 0.2220 (fit 9.0 s, test 0.5 s)`. */
export function rankingSummary(r: RankingResult): string {
  return (
    `nDCG@${r.k} ${formatFixed(r.ndcg, 4)}, MAP ${formatFixed(r.map, 4)}, ` +
    `P@${r.k} ${formatFixed(r.precision, 4)}, R@${r.k} ${formatFixed(r.recall, 4)} ` +
    `(fit ${formatFixed(r.fitTime, 2)} s, test ${formatFixed(r.testTime, 2)} s)`
  );
}

/**
 * The table, best nDCG first:
 *
 * ```
 * Algorithm      nDCG@10  MAP     Prec@10  Recall@10  Hit@10  Coverage  Fit (s)  Test (s)
 * EASE           0.4841   0.1476  0.4284   0.2220     0.9470  0.1870    9.0      0.5
 * ```
 */
export function formatRankingTable(results: readonly RankingResult[]): string {
  const k = results[0]?.k ?? DEFAULT_RANKING_K;
  const head = [
    'Algorithm',
    `nDCG@${k}`,
    'MAP',
    `Prec@${k}`,
    `Recall@${k}`,
    `Hit@${k}`,
    'Coverage',
    'Fit (s)',
    'Test (s)',
  ];
  const rows = [...results]
    .sort((a, b) => b.ndcg - a.ndcg)
    .map((r) => [
      r.algorithm,
      ...[r.ndcg, r.map, r.precision, r.recall, r.hitRate, r.coverage].map((v) =>
        formatFixed(v, 4),
      ),
      formatFixed(r.fitTime, 2),
      formatFixed(r.testTime, 2),
    ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)) + 2);
  return [head, ...rows]
    .map((cells) =>
      cells
        .map((s, c) => s.padEnd(widths[c]))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

/** The JSON object of one model's result (`--json`): the means at the top level. */
export function rankingJson(
  r: RankingResult,
  run: { dataset: string; nRatings: number; nTrain: number; nTest: number; plan: RankingPlan },
): Record<string, unknown> {
  return {
    algorithm: r.algorithm,
    ndcg: r.ndcg,
    map: r.map,
    precision: r.precision,
    recall: r.recall,
    hitRate: r.hitRate,
    coverage: r.coverage,
    mapAtK: r.mapAtK,
    k: r.k,
    nUsers: r.nUsers,
    fitTime: r.fitTime,
    testTime: r.testTime,
    params: r.params,
    protocol: 'ranking',
    dataset: run.dataset,
    nRatings: run.nRatings,
    nTrain: run.nTrain,
    nTest: run.nTest,
    testSize: run.plan.testSize,
    seed: run.plan.seed,
  };
}

/** The paragraph `--help` shows about `--protocol ranking`. */
export const RANKING_HELP =
  "--protocol ranking (Microsoft Recommenders' MovieLens benchmark; --test-size 0.25, --k 10,\n" +
  '--seed 42 by default):\n' +
  "  split: per user, each rating draws a uniform number (NumPy's RandomState(seed)); a user's\n" +
  '  ratings in order of their draws go to training while position/count <= 1 - test size\n' +
  '  (python_stratified_split). Every model is fitted on the training part; rating models rank\n' +
  '  by estimate, rankers (EASE, iALS, BPR, ItemKNN, MostPopular) by their scores. For each user\n' +
  '  of the test part known to training: the top k of ALL the movies of the training part the\n' +
  '  user did not rate there; relevant: every test movie of the user. Per user, hits = the\n' +
  '  positions p (1..k) holding a relevant movie:\n' +
  '    precision@k = hits / k;  recall@k = hits / relevant;\n' +
  '    nDCG@k = sum over hits of 1/log(1+p) / sum for p = 1..min(k, relevant) of 1/log(1+p);\n' +
  "    MAP = sum over hits of (hits up to p / p) / relevant (Recommenders' map; their\n" +
  '      published table); MAP@k (JSON mapAtK) divides by min(k, relevant) instead;\n' +
  '    hit rate = 1 when at least one hit.\n' +
  '  Each is the mean over the users; coverage = distinct movies recommended / movies in training.\n';
