/**
 * `reelgraph search --algo SVD --grid '{…}'`: hyper-parameter search from the command line, the
 * engine's GridSearchCV (every combination of the grid) or, with `--randomized`, its
 * RandomizedSearchCV (`--n-iter` candidates; besides lists, a parameter may be
 * `{"uniform": [low, high]}` or `{"randint": [low, high]}`), each candidate cross-validated on the
 * same folds (`--cv`, `--seed`; the data options of `reelgraph evaluate`), on `--workers`
 * threads (default `REELGRAPH_WORKERS` or the cores; 1: one after the other, in this thread).
 *
 * `--seed` (drawn and printed when not given) seeds the folds and every candidate's algorithm
 * (its `randomState`, unless the grid sets one), so a run replays. Progress goes to stderr (one
 * line per candidate and fold), the results table (rank by the first
 * measure, the candidate's parameters, mean and std of each measure, mean fit time) to stdout, or
 * with `--json` one object `{algorithm, dataset, seed, nSplits, measures, candidates: [{rank,
 * params, mean, std, fitTime}], best: {measure, params, score}}`. `--apply` then sends the best
 * parameters of the first measure to a running service (`updatePipeline`, through `--api`).
 */
import { Command } from 'commander';
import '../../engine/algorithms';
import { getAlgorithm, listAlgorithms } from '../../engine/algorithms/registry';
import { parseMeasures, type MeasureName } from '../../engine/metrics';
import {
  GridSearchCV,
  RandomizedSearchCV,
  randint,
  uniform,
  type BaseSearchCV,
  type ParamDistributions,
  type ParamGrid,
  type SearchProgress,
} from '../../engine/model-selection/search';
import { addApiOptions, type ApiOptions } from '../api-client';
import { FoldPool } from '../../engine/model-selection/pool';
import { addWorkersOption, planWorkers } from '../workers-option';
import {
  addDataOptions,
  drawSeedIfUnset,
  loadData,
  planData,
  type CommandIo,
  type DataOptions,
} from '../data-options';
import { UsageError, asUsage } from '../errors';
import { formatTable } from '../pach-options';
import { runPipelineUpdate, type PipelineUpdateResult } from './pipelines';

/** The options of `reelgraph search`. */
export interface SearchCliOptions extends DataOptions, ApiOptions {
  algo: string;
  grid: string;
  randomized?: boolean;
  nIter: string;
  measures: string;
  json?: boolean;
  apply?: boolean;
  workers?: string;
}

/** One candidate in the results. */
export interface SearchCandidate {
  rank: number;
  params: Record<string, unknown>;
  mean: Partial<Record<MeasureName, number>>;
  std: Partial<Record<MeasureName, number>>;
  /** Mean fit time per fold, seconds. */
  fitTime: number;
}

/** The `--json` object. */
export interface SearchJson {
  algorithm: string;
  dataset: string;
  seed: number | null;
  nSplits: number;
  measures: MeasureName[];
  candidates: SearchCandidate[];
  best: { measure: MeasureName; params: Record<string, unknown>; score: number };
  applied?: PipelineUpdateResult;
}

/**
 * The `--grid` JSON: an object of parameter → list of values (nested objects for dotted options,
 * e.g. `{"bslOptions": {"method": ["als", "sgd"]}}`); with `randomized`, `{"uniform": [lo, hi]}`
 * and `{"randint": [lo, hi]}` are distributions.
 * @throws UsageError naming the problem
 */
export function parseGrid(text: string, randomized: boolean): ParamGrid | ParamDistributions {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--grid is not JSON: ${(e as Error).message}`);
  }
  const walk = (o: unknown, where: string): unknown => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      throw new UsageError(
        `--grid${where ? ` ${where}` : ''} must be an object of parameter → list of values, e.g. '{"nFactors": [50, 100]}'`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
      const name = where ? `${where}.${k}` : k;
      if (Array.isArray(x)) out[k] = x;
      else if (x && typeof x === 'object' && ('uniform' in x || 'randint' in x)) {
        if (!randomized) {
          throw new UsageError(`--grid ${name}: a distribution needs --randomized`);
        }
        const kind = 'uniform' in x ? 'uniform' : 'randint';
        const b = (x as Record<string, unknown>)[kind];
        if (!Array.isArray(b) || b.length !== 2 || !b.every((n) => typeof n === 'number')) {
          throw new UsageError(`--grid ${name}: ${kind} needs [low, high]`);
        }
        out[k] = asUsage(() => (kind === 'uniform' ? uniform(b[0], b[1]) : randint(b[0], b[1])));
      } else out[k] = walk(x, name);
    }
    return out;
  };
  return walk(v, '') as ParamGrid;
}

/** The candidates of a fitted search, ranked by the first measure. */
export function candidatesOf(s: BaseSearchCV): SearchCandidate[] {
  const r = s.cvResults as Record<string, unknown[]>;
  const cap = (m: string) => m[0].toUpperCase() + m.slice(1);
  const first = s.measures[0];
  return s.paramCombinations
    .map((params, k) => ({
      rank: r[`rankTest${cap(first)}`][k] as number,
      params: params as Record<string, unknown>,
      mean: Object.fromEntries(s.measures.map((m) => [m, r[`meanTest${cap(m)}`][k] as number])),
      std: Object.fromEntries(s.measures.map((m) => [m, r[`stdTest${cap(m)}`][k] as number])),
      fitTime: r.meanFitTime[k] as number,
    }))
    .sort((a, b) => a.rank - b.rank);
}

/** Runs `reelgraph search` with parsed options. */
export async function runSearch(opts: SearchCliOptions, io: CommandIo): Promise<void> {
  const drawn = drawSeedIfUnset(opts);
  const cls = getAlgorithm(opts.algo);
  const measures = asUsage(() => parseMeasures(opts.measures.split(',')));
  const grid = parseGrid(opts.grid, !!opts.randomized) as Record<string, unknown>;
  // the seed also seeds every candidate's algorithm (when it has a randomState the grid leaves
  // open), so that the run replays; it is left out of the parameters shown and applied
  const seeded = 'randomState' in cls.paramSpecs && !('randomState' in grid);
  if (seeded) grid.randomState = [opts.seed];
  const shown = (params: Record<string, unknown>) => {
    if (!seeded) return params;
    const { randomState: _seed, ...rest } = params;
    void _seed;
    return rest;
  };
  const nIter = Number(opts.nIter);
  if (opts.randomized && (!Number.isInteger(nIter) || nIter < 1)) {
    throw new UsageError(`--n-iter ${JSON.stringify(opts.nIter)}: expected a whole number >= 1`);
  }
  const workers = planWorkers(opts.workers);
  const p = planData(opts);
  const say = (line: string) => {
    if (!opts.quiet) io.stderr.write(line + '\n');
  };
  const common = {
    measures,
    cv: p.splitter,
    onProgress: (e: SearchProgress) => {
      if (e.phase !== 'done') return;
      const figures = measures
        .map((m) => `${m.toUpperCase()} ${e.measures?.[m]?.toFixed(4) ?? '-'}`)
        .join(', ');
      say(
        `candidate ${e.candidate}/${e.nCandidates} ${JSON.stringify(shown(e.params as Record<string, unknown>))}: fold ${e.fold}/${e.nSplits} ${figures}`,
      );
    },
  };
  // the search objects check the grid against the algorithm's paramSpecs before any data is read
  const search: BaseSearchCV = opts.randomized
    ? new RandomizedSearchCV(cls.algorithmName, grid as ParamDistributions, {
        ...common,
        nIter,
        randomState: opts.seed,
      })
    : new GridSearchCV(cls.algorithmName, grid as ParamGrid, common);
  if (drawn) say(`seed ${opts.seed} (drawn; --seed ${opts.seed} replays this run)`);
  const { data, nRatings } = await loadData(opts, p, io);
  const nSplits = p.splitter.getNSplits(data);
  say(
    `Searching ${search.paramCombinations.length} ${cls.algorithmName} candidates on ${opts.dataset} (${nRatings} ratings), ${nSplits} folds` +
      (workers > 1 ? `, ${workers} workers` : ''),
  );
  if (workers === 1) search.fit(data);
  else {
    // every (candidate, fold) pair on a pool of `workers` threads: the same table, bit for bit
    const pool = new FoldPool(workers);
    try {
      await search.fitPooled(data, { pool });
    } finally {
      await pool.close();
    }
  }
  const candidates = candidatesOf(search).map((c) => ({ ...c, params: shown(c.params) }));
  const measure = measures[0];
  const best = {
    measure,
    params: shown(search.bestParams[measure] as Record<string, unknown>),
    score: search.bestScore[measure]!,
  };
  const out: SearchJson = {
    algorithm: cls.algorithmName,
    dataset: opts.dataset,
    seed: p.seed,
    nSplits,
    measures,
    candidates,
    best,
  };
  if (opts.apply) {
    out.applied = await runPipelineUpdate('train', {
      api: opts.api,
      token: opts.token,
      algo: cls.algorithmName,
      params: JSON.stringify(best.params),
    });
    say(
      `applied: pipeline ${out.applied.pipeline} version ${out.applied.version} (${out.applied.algorithm} ${JSON.stringify(out.applied.params)})`,
    );
  }
  if (opts.json) {
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(4));
  io.stdout.write(
    formatTable(
      ['RANK', 'PARAMS', ...measures.map((m) => m.toUpperCase()), 'STD', 'FIT TIME'],
      candidates.map((c) => [
        String(c.rank),
        JSON.stringify(c.params),
        ...measures.map((m) => fmt(c.mean[m])),
        fmt(c.std[measure]),
        `${c.fitTime.toFixed(3)} s`,
      ]),
    ) + `best by ${measure.toUpperCase()}: ${JSON.stringify(best.params)} (${fmt(best.score)})\n`,
  );
}

/** Build the `search` command. */
export function searchCommand(io: CommandIo = process): Command {
  const cmd = new Command('search').description(
    'Search hyper-parameters by cross-validation (grid, or randomized with --randomized), print the ranked results, and with --apply set the train pipeline of a running service to the best ones.',
  );
  cmd
    .option('--algo <name>', 'the algorithm to tune', 'SVD')
    .requiredOption(
      '--grid <json>',
      'parameter → list of values, e.g. \'{"nFactors": [50, 100], "lrAll": [0.005, 0.01]}\'; with --randomized also {"uniform": [lo, hi]} or {"randint": [lo, hi]}',
    )
    .option('--randomized', 'sample --n-iter candidates instead of trying every combination')
    .option('--n-iter <n>', 'candidates of a randomized search', '10')
    .option(
      '--measures <list>',
      'comma-separated measures among rmse, mse, mae, fcp; the first ranks',
      'rmse,mae',
    )
    .option('--json', 'print one JSON object instead of the table')
    .option(
      '--apply',
      "update the running service's train pipeline with the best parameters (updatePipeline)",
    )
    .option('--quiet', 'no progress on stderr');
  addWorkersOption(cmd);
  addDataOptions(cmd);
  addApiOptions(cmd);
  return cmd
    .addHelpText('after', () => `\nAlgorithms: ${listAlgorithms().join(', ')}\n`)
    .action(async (opts: SearchCliOptions) => runSearch(opts, io));
}
