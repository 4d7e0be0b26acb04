/**
 * Hyper-parameter search with cross-validation: Surprise's `GridSearchCV` and
 * `RandomizedSearchCV` (surprise/model_selection/search.py, Surprise 1.1.x), with the same
 * attributes in camelCase: `bestScore`, `bestParams`, `bestEstimator`, `bestIndex` (one entry per
 * measure) and the `cvResults` table.
 *
 * As in Surprise:
 * - every candidate parameter combination is cross-validated on the **same** splits: the splitter
 *   is run once and its splits are replayed for each candidate (Surprise's `product(params,
 *   cv.split(data))`), so a splitter without a fixed seed still compares candidates fairly;
 * - candidates run in order (parameter-major, then split), one after the other (Surprise's
 *   default `n_jobs=1`);
 * - `rmse`, `mse`, `mae` are minimised, `fcp` maximised;
 * - object parameters (`bslOptions`, `simOptions`) may be given as nested grids,
 *   `{bslOptions: {method: ['als', 'sgd'], reg: [1, 2]}}`, expanded to all their combinations
 *   (Surprise's `_parse_options`). Dotted names, `{'bslOptions.method': ['als', 'sgd']}`, work too.
 *
 * Every combination is checked against the algorithm's `paramSpecs` when the search is
 * constructed, before anything runs: a bad name or value throws a ParamError naming it.
 */
import type { AlgoBase, AlgorithmClass, Prediction } from '../algorithms/base';
import { getAlgorithm } from '../algorithms/registry';
import type { Testset } from '../dataset/raw-ratings';
import { parseMeasures, type MeasureName } from '../metrics';
import { mean } from '../numeric';
import {
  mergeParams,
  ParamError,
  unknownParameterMessage,
  type ParamSpecs,
  type ParamValues,
} from '../params';
import { getRng, type RandomState, type RandomStateLike } from '../random';
import { Trainset } from '../trainset';
import { getCv, type Split, type SplitData, type Splitter } from './split';
import { crossValidate, std, type CrossValidateResult } from './validation';
import type { FoldPool } from './pool';
import { runPooled } from './pooled';

// ---------------------------------------------------------------------------------------------
// Parameter grids and distributions
// ---------------------------------------------------------------------------------------------

/** A distribution to sample a parameter from (RandomizedSearchCV), like scipy.stats' frozen ones. */
export interface Distribution {
  /** What kind of draw, for messages and validation. */
  readonly kind: 'uniform' | 'randint';
  /** Lower bound (inclusive). */
  readonly low: number;
  /** Upper bound (exclusive). */
  readonly high: number;
  /** One draw from `rng` (Surprise's `dist.rvs(random_state=rng)`). */
  sample(rng: RandomState): number;
}

/**
 * A continuous uniform distribution on [low, high): `low + (high − low) · U`, one
 * `RandomState.random()` draw per sample — the draw of `scipy.stats.uniform(loc=low,
 * scale=high − low).rvs(random_state=rng)`.
 * @throws RangeError unless low < high, both finite.
 */
export function uniform(low: number, high: number): Distribution {
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new RangeError(`uniform(low, high) needs finite low < high, got (${low}, ${high})`);
  }
  return { kind: 'uniform', low, high, sample: (rng) => rng.uniform(low, high) };
}

/**
 * A discrete uniform distribution on the whole numbers low … high − 1 — the draw of
 * `scipy.stats.randint(low, high).rvs(random_state=rng)` (NumPy's legacy `randint(low, high)`).
 * @throws RangeError unless low < high, both whole numbers.
 */
export function randint(low: number, high: number): Distribution {
  if (!Number.isInteger(low) || !Number.isInteger(high) || !(low < high)) {
    throw new RangeError(
      `randint(low, high) needs whole numbers low < high, got (${low}, ${high})`,
    );
  }
  return { kind: 'randint', low, high, sample: (rng) => rng.randint(low, high) };
}

function isDistribution(v: unknown): v is Distribution {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Distribution).sample === 'function' &&
    ((v as Distribution).kind === 'uniform' || (v as Distribution).kind === 'randint')
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isDistribution(v);
}

/**
 * A parameter grid: each parameter name maps to the list of values to try. An object parameter
 * maps to a nested grid (`{bslOptions: {method: ['als', 'sgd']}}`, all its combinations), or to a
 * list of whole option objects; dotted names (`'bslOptions.method'`) reach into it.
 */
export type ParamGrid = { [name: string]: readonly unknown[] | ParamGrid };

/** Like a ParamGrid, but a value may also be a {@link Distribution} (`uniform`, `randint`). */
export type ParamDistributions = {
  [name: string]: readonly unknown[] | Distribution | ParamGrid;
};

/** One dimension of the search: a parameter (path) and its values or distribution. */
interface Dimension {
  /** Path into the parameters, e.g. ['nEpochs'] or ['bslOptions', 'method']. */
  path: string[];
  /** The key as given (for Surprise's sorted order and messages). */
  key: string;
  values: unknown[] | Distribution;
}

/** Cartesian product in Python's `itertools.product` order (last dimension fastest). */
function product<T>(lists: readonly (readonly T[])[]): T[][] {
  let out: T[][] = [[]];
  for (const list of lists) {
    const next: T[][] = [];
    for (const prefix of out) for (const v of list) next.push([...prefix, v]);
    out = next;
  }
  return out;
}

function fragment(path: string[], value: unknown): ParamValues {
  let frag: ParamValues = { [path[path.length - 1]]: value };
  for (let d = path.length - 2; d >= 0; d--) frag = { [path[d]]: frag };
  return frag;
}

/**
 * Turns a grid (or distributions) into dimensions, checking names against the specs: a nested
 * object under an object parameter becomes one dimension whose values are all its combinations
 * (Surprise's `_parse_options`).
 */
function dimensionsOf(
  grid: Record<string, unknown>,
  specs: ParamSpecs,
  owner: string,
  allowDistributions: boolean,
  prefix = '',
): Dimension[] {
  if (!isPlainObject(grid)) {
    throw new ParamError('paramGrid', `the parameter grid must be an object, got ${String(grid)}`);
  }
  const dims: Dimension[] = [];
  const seen = new Set<string>();
  for (const [localKey, value] of Object.entries(grid)) {
    const key = prefix + localKey;
    const path = localKey.split('.');
    // Resolve the path through object specs.
    let level: ParamSpecs = specs;
    let spec = undefined as ParamSpecs[string] | undefined;
    for (let d = 0; d < path.length; d++) {
      spec = level[path[d]];
      const dotted = prefix + path.slice(0, d + 1).join('.');
      if (!spec) {
        const parent = (prefix + path.slice(0, d).join('.')).replace(/\.$/, '');
        const message = unknownParameterMessage(dotted, owner, parent, Object.keys(level));
        throw new ParamError(dotted, `param grid: ${message}`);
      }
      if (d < path.length - 1) {
        if (spec.type !== 'object') {
          throw new ParamError(
            dotted,
            `param grid: parameter '${dotted}' of ${owner} has no fields`,
          );
        }
        level = spec.fields;
      }
    }
    // A parameter (or object) given twice, e.g. 'bslOptions' and 'bslOptions.method'.
    for (const other of seen) {
      if (other === key || other.startsWith(key + '.') || key.startsWith(other + '.')) {
        throw new ParamError(
          key,
          `param grid: '${key}' overlaps '${other}'; give each parameter once`,
        );
      }
    }
    seen.add(key);

    let values: unknown[] | Distribution;
    if (isDistribution(value)) {
      if (!allowDistributions) {
        throw new ParamError(
          key,
          prefix
            ? `param grid: '${key}' is a distribution inside a nested grid; give it a dotted name instead ('${key}': ${value.kind}(…))`
            : `param grid: '${key}' is a distribution; GridSearchCV needs a list of values (use RandomizedSearchCV)`,
        );
      }
      checkDistribution(value, spec!, key, owner);
      values = value;
    } else if (spec!.type === 'object' && isPlainObject(value)) {
      // Nested grid → all combinations of the object's fields.
      const inner = dimensionsOf(value, spec!.fields, owner, false, key + '.');
      values = product(inner.map((d) => d.values as unknown[])).map((combo) =>
        mergeParams(...combo.map((v, j) => fragment(inner[j].path, v))),
      );
    } else if (Array.isArray(value)) {
      if (value.length === 0) {
        throw new ParamError(key, `param grid: '${key}' has an empty list of values`);
      }
      values = [...value];
    } else {
      throw new ParamError(
        key,
        `param grid: '${key}' must be a list of values${
          allowDistributions ? ', a distribution (uniform, randint)' : ''
        }${spec!.type === 'object' ? ' or a nested grid object' : ''}, got ${JSON.stringify(value)}`,
      );
    }
    dims.push({ path, key, values });
  }
  return dims;
}

/** A distribution must fit the parameter's type and range (checked at both ends). */
function checkDistribution(
  dist: Distribution,
  spec: ParamSpecs[string],
  key: string,
  owner: string,
) {
  const numeric = spec.type === 'int' || spec.type === 'float' || spec.type === 'seed';
  if (!numeric) {
    throw new ParamError(
      key,
      `param grid: '${key}' of ${owner} is a ${spec.type} parameter; a ${dist.kind} distribution cannot sample it`,
    );
  }
  if (spec.type !== 'float' && dist.kind === 'uniform') {
    throw new ParamError(
      key,
      `param grid: '${key}' of ${owner} takes whole numbers; uniform(${dist.low}, ${dist.high}) draws fractions (use randint)`,
    );
  }
  if (spec.type === 'int' || spec.type === 'float') {
    const top = dist.kind === 'randint' ? dist.high - 1 : dist.high;
    if (
      (spec.min !== undefined && dist.low < spec.min) ||
      (spec.max !== undefined && top > spec.max)
    ) {
      throw new ParamError(
        key,
        `param grid: ${dist.kind}(${dist.low}, ${dist.high}) for '${key}' of ${owner} leaves its range [${
          spec.min ?? '-∞'
        }, ${spec.max ?? '∞'}]`,
      );
    }
  }
}

function combination(dims: readonly Dimension[], values: readonly unknown[]): ParamValues {
  return mergeParams(...values.map((v, j) => fragment(dims[j].path, v)));
}

// ---------------------------------------------------------------------------------------------
// The search
// ---------------------------------------------------------------------------------------------

/**
 * Runs `splitter` on `data` once and returns a splitter that replays those splits, so that
 * several algorithms or candidates are measured on exactly the same trainsets and testsets
 * (Surprise materialises `cv.split(data)` once in `product(params, cv.split(data))`). All the
 * splits' trainsets stay in memory while the returned splitter is in use.
 * @throws the splitter's errors; Error when it yields no split.
 */
export function fixedSplits(splitter: Splitter, data: SplitData): Splitter {
  const splits: Split[] = [...splitter.split(data)];
  if (splits.length === 0) throw new Error('the splitter yielded no split');
  return {
    *split() {
      yield* splits;
    },
    getNSplits: () => splits.length,
  };
}

/** Progress of a search: one event before and after each candidate's fold. */
export interface SearchProgress {
  /** 'fit' when a fold starts, 'done' when it has been measured. */
  phase: 'fit' | 'done';
  /** 1-based candidate number and the number of candidates. */
  candidate: number;
  nCandidates: number;
  /** The candidate's parameters (as given in the grid, not with defaults). */
  params: ParamValues;
  /** 1-based fold number and the number of folds. */
  fold: number;
  nSplits: number;
  /** The fold's test measures, on 'done'. */
  measures?: Partial<Record<MeasureName, number>>;
}

/** Options shared by GridSearchCV and RandomizedSearchCV (Surprise's arguments, camelCase). */
export interface SearchOptions {
  /** Measure names (rmse, mse, mae, fcp), case-insensitive. Default `['rmse', 'mae']`. */
  measures?: readonly string[];
  /** Number of KFold folds or a splitter; default 5 folds (Surprise's `get_cv(None)`). */
  cv?: number | Splitter;
  /**
   * After the search, fit the best estimator of a measure on all of the data (`data.ratings`):
   * `true` = the first measure, a name = that measure, `false` (default) = no refit. Then `test`
   * and `predict` can be used. (Unlike Surprise, a folds data set can be refitted: its `ratings`
   * are used.)
   */
  refit?: boolean | string;
  /** Also measure each candidate on its trainsets (`splitKTrainRmse`, … columns). Default false. */
  returnTrainMeasures?: boolean;
  /** Progress callback (e.g. for a progress bar). */
  onProgress?: (p: SearchProgress) => void;
}

/**
 * The table of a search, one entry per candidate in each column (Surprise's `cv_results`, names
 * in camelCase): `split0TestRmse` … `split{k-1}TestRmse`, `meanTestRmse`, `stdTestRmse`,
 * `rankTestRmse` for each measure (and `split0TrainRmse`, `meanTrainRmse`, `stdTrainRmse` with
 * `returnTrainMeasures`), `meanFitTime`, `stdFitTime`, `meanTestTime`, `stdTestTime` (seconds),
 * `params` (each candidate's parameters) and one `param<Name>` column per parameter of the grid
 * (e.g. `paramNEpochs`, `paramBslOptions`).
 */
export type CvResults = { params: ParamValues[] } & Record<string, unknown[]>;

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** What both searches share (Surprise's `BaseSearchCV`). Use GridSearchCV or RandomizedSearchCV. */
export abstract class BaseSearchCV {
  /** The algorithm class searched. */
  readonly algoClass: AlgorithmClass;
  /** Measures, lower case, in order. */
  readonly measures: MeasureName[];
  /** The measure whose best estimator is refitted, or false. */
  readonly refit: MeasureName | false;
  /** The candidate parameter combinations, in the order they are evaluated. */
  readonly paramCombinations: ParamValues[];

  /** Per measure: index in `cvResults` of the best candidate (after `fit`). */
  bestIndex: Partial<Record<MeasureName, number>> = {};
  /** Per measure: the best candidate's parameters. */
  bestParams: Partial<Record<MeasureName, ParamValues>> = {};
  /** Per measure: the best mean test score. */
  bestScore: Partial<Record<MeasureName, number>> = {};
  /**
   * Per measure: a new instance with the best parameters; unfitted, except the `refit` measure's,
   * which is fitted on all of the data.
   */
  bestEstimator: Partial<Record<MeasureName, AlgoBase>> = {};
  /** The results table (see {@link CvResults}); empty before `fit`. */
  cvResults: CvResults = { params: [] } as unknown as CvResults;
  /** The full cross-validation result of each candidate, in order (after `fit`). */
  candidateResults: CrossValidateResult[] = [];

  protected readonly cv: number | Splitter | undefined;
  protected readonly returnTrainMeasures: boolean;
  protected readonly onProgress?: (p: SearchProgress) => void;

  protected constructor(algo: string | AlgorithmClass, opts: SearchOptions) {
    this.algoClass = typeof algo === 'string' ? getAlgorithm(algo) : algo;
    this.measures = parseMeasures(opts.measures ?? ['rmse', 'mae']);
    const refit = opts.refit ?? false;
    if (typeof refit === 'string') {
      const m = refit.toLowerCase() as MeasureName;
      if (!this.measures.includes(m)) {
        throw new Error(
          `refit measure '${refit}' is not among the measures (${this.measures.join(', ')})`,
        );
      }
      this.refit = m;
    } else this.refit = refit ? this.measures[0] : false;
    this.cv = opts.cv;
    this.returnTrainMeasures = opts.returnTrainMeasures ?? false;
    this.onProgress = opts.onProgress;
    this.paramCombinations = [];
  }

  /** Checks every combination against the specs by constructing it. @throws ParamError */
  protected validate(): void {
    const Cls = this.algoClass;
    this.paramCombinations.forEach((params, c) => {
      try {
        new Cls(params);
      } catch (err) {
        if (err instanceof ParamError) {
          throw new ParamError(err.param, `param grid, candidate ${c + 1}: ${err.message}`);
        }
        throw err;
      }
    });
  }

  /**
   * Cross-validates every candidate on the same splits and fills `bestIndex`, `bestParams`,
   * `bestScore`, `bestEstimator`, `cvResults` (Surprise's `fit`).
   *
   * The splits are all built once and kept in memory (one trainset per fold) for the whole search.
   *
   * @param data the data set (a `Dataset`, or anything with `ratings` and `ratingScale`).
   * @returns this search.
   * @throws the splitter's and the algorithm's errors.
   */
  fit(data: SplitData): this {
    const replay = fixedSplits(getCv(this.cv), data);
    const nSplits = replay.getNSplits(data);
    const Cls = this.algoClass;
    const nCandidates = this.paramCombinations.length;
    const results: CrossValidateResult[] = [];
    this.paramCombinations.forEach((params, c) => {
      results.push(
        crossValidate(() => new Cls(params), data, {
          measures: this.measures,
          cv: replay,
          returnTrainMeasures: this.returnTrainMeasures,
          onProgress: this.onProgress
            ? (p) =>
                this.onProgress!({
                  phase: p.phase,
                  candidate: c + 1,
                  nCandidates,
                  params,
                  fold: p.fold,
                  nSplits: p.nSplits,
                  ...(p.phase === 'done' ? { measures: p.measures } : {}),
                })
            : undefined,
        }),
      );
    });
    return this.adopt(results, data, nSplits);
  }

  /**
   * `fit` with every (candidate, fold) pair run on the worker pool (pooled.ts; `REELGRAPH_WORKERS`,
   * else the cores), longest first, the data set sent once per worker: the same splits, the same
   * measures bit for bit and so the same `cvResults`, `bestIndex`, `bestParams`, `bestScore` and
   * `bestEstimator` as `fit` (only the times differ). Progress: one `done` event per finished
   * fold, in the order they finish. The refit of the best estimator runs in this thread.
   *
   * @param opts.pool the pool to use (default: the process's).
   * @param opts.onProgress called as each fold finishes (default: the search's `onProgress`).
   * @returns this search.
   * @throws what `fit` throws.
   */
  async fitPooled(
    data: SplitData,
    opts: { pool?: FoldPool; onProgress?: (p: SearchProgress) => void } = {},
  ): Promise<this> {
    const Cls = this.algoClass;
    const nCandidates = this.paramCombinations.length;
    const onProgress = opts.onProgress ?? this.onProgress;
    const results = await runPooled(
      this.paramCombinations.map((params) => new Cls(params)),
      data,
      {
        measures: this.measures,
        cv: this.cv,
        returnTrainMeasures: this.returnTrainMeasures,
        pool: opts.pool,
        onFold: onProgress
          ? (f) =>
              onProgress({
                phase: 'done',
                candidate: f.index + 1,
                nCandidates,
                params: this.paramCombinations[f.index],
                fold: f.fold,
                nSplits: f.nSplits,
                measures: f.outcome.test,
              })
          : undefined,
      },
    );
    return this.adopt(results, data, results[0].nSplits);
  }

  /** Fills the results table and the best candidates from each candidate's cross-validation. */
  private adopt(results: CrossValidateResult[], data: SplitData, nSplits: number): this {
    const Cls = this.algoClass;
    const nCandidates = this.paramCombinations.length;
    this.candidateResults = results;
    const table: Record<string, unknown[]> = {};
    for (const m of this.measures) {
      const key = cap(m) as Capitalize<MeasureName>;
      const test = results.map((r) => r[`test${key}`]!);
      for (let s = 0; s < nSplits; s++) table[`split${s}Test${key}`] = test.map((t) => t[s]);
      if (this.returnTrainMeasures) {
        const train = results.map((r) => r[`train${key}`]!);
        for (let s = 0; s < nSplits; s++) table[`split${s}Train${key}`] = train.map((t) => t[s]);
      }
      const means = test.map((t) => mean(t));
      table[`meanTest${key}`] = means;
      table[`stdTest${key}`] = test.map((t) => std(t));
      if (this.returnTrainMeasures) {
        const train = results.map((r) => r[`train${key}`]!);
        table[`meanTrain${key}`] = train.map((t) => mean(t));
        table[`stdTrain${key}`] = train.map((t) => std(t));
      }
      // Ranks as Surprise: argsort of the means (stable), ranks 1… for errors, …1 for fcp.
      const order = means.map((_, c) => c).sort((a, b) => compareNumbers(means[a], means[b]));
      const rank = new Array<number>(nCandidates);
      const higherIsBetter = m === 'fcp';
      order.forEach((c, pos) => (rank[c] = higherIsBetter ? nCandidates - pos : pos + 1));
      table[`rankTest${key}`] = rank;
      const best = higherIsBetter ? argmax(means) : argmin(means);
      this.bestIndex[m] = best;
      this.bestParams[m] = this.paramCombinations[best];
      this.bestScore[m] = means[best];
      this.bestEstimator[m] = new Cls(this.paramCombinations[best]);
    }
    for (const [what, pick] of [
      ['Fit', (r: CrossValidateResult) => r.fitTime],
      ['Test', (r: CrossValidateResult) => r.testTime],
    ] as const) {
      table[`mean${what}Time`] = results.map((r) => mean(pick(r)));
      table[`std${what}Time`] = results.map((r) => std(pick(r)));
    }
    table.params = this.paramCombinations;
    for (const name of Object.keys(this.paramCombinations[0] ?? {})) {
      table[`param${cap(name)}`] = this.paramCombinations.map((p) => p[name]);
    }
    this.cvResults = table as CvResults;
    if (this.refit) {
      this.bestEstimator[this.refit]!.fit(
        Trainset.build(data.ratings, data.ratingScale, undefined, data.sideInfo),
      );
    }
    return this;
  }

  /** The refitted best estimator. @throws Error when `refit` is false or before `fit`. */
  protected refitted(): AlgoBase {
    if (!this.refit) throw new Error('refit is false, cannot use test() or predict()');
    const est = this.bestEstimator[this.refit];
    if (!est || !est.isFitted) throw new Error('the search has not been fitted: call fit(data)');
    return est;
  }

  /** `test` on the refitted best estimator (Surprise's `BaseSearchCV.test`). @throws Error without refit. */
  test(testset: Testset): Prediction[] {
    return this.refitted().test(testset);
  }

  /** `predict` on the refitted best estimator (Surprise's `BaseSearchCV.predict`). @throws Error without refit. */
  predict(uid: string | number, iid: string | number, rUi: number | null = null): Prediction {
    return this.refitted().predict(uid, iid, rUi);
  }

  /**
   * The results as rows, one per candidate (for printing or JSON): the candidate's `params` and
   * every other column's value.
   */
  resultRows(): Record<string, unknown>[] {
    const cols = Object.keys(this.cvResults).filter((k) => k !== 'params');
    return this.cvResults.params.map((params, c) => {
      const row: Record<string, unknown> = { params };
      for (const k of cols) row[k] = this.cvResults[k][c];
      return row;
    });
  }
}

/** Numbers ascending, NaN last (numpy's argsort order). */
function compareNumbers(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a - b;
}

/** Index of the first smallest value (numpy's argmin; a NaN wins, as in numpy). */
function argmin(v: number[]): number {
  let best = 0;
  for (let c = 0; c < v.length; c++) {
    if (Number.isNaN(v[c])) return c;
    if (v[c] < v[best]) best = c;
  }
  return best;
}

/** Index of the first largest value (numpy's argmax; a NaN wins, as in numpy). */
function argmax(v: number[]): number {
  let best = 0;
  for (let c = 0; c < v.length; c++) {
    if (Number.isNaN(v[c])) return c;
    if (v[c] > v[best]) best = c;
  }
  return best;
}

/**
 * Exhaustive search over a grid (Surprise's `GridSearchCV`): every combination of the listed
 * values, in `itertools.product` order (the last parameter varies fastest).
 *
 * @example
 * const gs = new GridSearchCV('SVD', { nEpochs: [5, 10], lrAll: [0.002, 0.005] },
 *   { measures: ['rmse', 'mae'], cv: 3 });
 * gs.fit(data);
 * gs.bestScore.rmse; gs.bestParams.rmse; // e.g. { nEpochs: 10, lrAll: 0.005 }
 */
export class GridSearchCV extends BaseSearchCV {
  /** The grid as given. */
  readonly paramGrid: ParamGrid;

  /**
   * @param algo a registered algorithm's name or an algorithm class.
   * @param paramGrid parameter name → list of values (see {@link ParamGrid}).
   * @throws ParamError for an unknown algorithm, an unknown parameter, an empty or malformed list,
   *   or a value its spec refuses (naming the parameter); Error for an unknown measure or refit.
   */
  constructor(algo: string | AlgorithmClass, paramGrid: ParamGrid, opts: SearchOptions = {}) {
    super(algo, opts);
    this.paramGrid = paramGrid;
    const dims = dimensionsOf(
      paramGrid,
      this.algoClass.paramSpecs,
      this.algoClass.algorithmName,
      false,
    );
    for (const combo of product(dims.map((d) => d.values as unknown[]))) {
      this.paramCombinations.push(combination(dims, combo));
    }
    this.validate();
  }
}

/** Options of RandomizedSearchCV. */
export interface RandomizedSearchOptions extends SearchOptions {
  /** Number of candidates sampled, a whole number ≥ 1. Default 10. */
  nIter?: number;
  /** Seed or generator of the sampling (Surprise's `random_state`); default null (entropy). */
  randomState?: RandomStateLike;
}

/**
 * Random search (Surprise's `RandomizedSearchCV`): `nIter` candidates sampled from the given
 * lists and distributions, drawn from `RandomState` in Surprise's order:
 *
 * - all values lists: the full grid is built (product order) and `nIter` distinct combinations are
 *   picked, `permutation(gridSize)[:nIter]` — NumPy's `choice(grid, nIter, replace=False)`.
 *   (Surprise draws these from NumPy's global generator, ignoring `random_state` — a bug; here the
 *   seeded generator is used, so results are reproducible.)
 * - otherwise, for each candidate, the parameters in sorted name order: a distribution draws one
 *   value (`uniform`, `randint`), a list picks `list[randint(0, length)]` (with replacement).
 *   Nested object grids count as one list of all their combinations, as in Surprise.
 *
 * @example
 * const rs = new RandomizedSearchCV('SVD', { lrAll: uniform(0.002, 0.01), nEpochs: randint(5, 30) },
 *   { nIter: 20, randomState: 0, cv: 3 });
 */
export class RandomizedSearchCV extends BaseSearchCV {
  /** The distributions as given. */
  readonly paramDistributions: ParamDistributions;
  /** Number of candidates. */
  readonly nIter: number;

  /**
   * @param algo a registered algorithm's name or an algorithm class.
   * @param paramDistributions parameter name → list of values or distribution.
   * @throws ParamError as GridSearchCV, and for a distribution that does not fit its parameter
   *   (wrong type, leaves the range); RangeError for a bad nIter, or, with lists only, an nIter
   *   larger than the grid.
   */
  constructor(
    algo: string | AlgorithmClass,
    paramDistributions: ParamDistributions,
    opts: RandomizedSearchOptions = {},
  ) {
    super(algo, opts);
    this.paramDistributions = paramDistributions;
    this.nIter = opts.nIter ?? 10;
    if (!Number.isInteger(this.nIter) || this.nIter < 1) {
      throw new RangeError(`nIter must be a whole number ≥ 1, got ${this.nIter}`);
    }
    const dims = dimensionsOf(
      paramDistributions,
      this.algoClass.paramSpecs,
      this.algoClass.algorithmName,
      true,
    );
    const rng = getRng(opts.randomState);
    if (dims.every((d) => Array.isArray(d.values))) {
      const grid = product(dims.map((d) => d.values as unknown[]));
      if (this.nIter > grid.length) {
        throw new RangeError(
          `nIter=${this.nIter} is larger than the ${grid.length} combinations of the lists; ` +
            `lower nIter or give a distribution`,
        );
      }
      const picks = rng.permutation(grid.length).subarray(0, this.nIter);
      for (const p of picks) this.paramCombinations.push(combination(dims, grid[p]));
    } else {
      const sorted = [...dims].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (let n = 0; n < this.nIter; n++) {
        const values = sorted.map((d) =>
          Array.isArray(d.values)
            ? d.values[rng.randint(0, d.values.length)]
            : (d.values as Distribution).sample(rng),
        );
        this.paramCombinations.push(combination(sorted, values));
      }
    }
    this.validate();
  }
}
