/**
 * Cross-validation: Surprise's `cross_validate`, `fit_and_score` and `print_summary`
 * (surprise/model_selection/validation.py).
 *
 * Each split gets a fresh algorithm instance (same class, same parameters), is fitted on the
 * trainset and measured on the testset; fit and test times are wall-clock seconds. Folds run one
 * after the other in this thread (Surprise's default `n_jobs=1`).
 */
import { performance } from 'node:perf_hooks';
import type { AlgoBase, AlgorithmClass, Prediction } from '../algorithms/base';
import { createAlgorithm } from '../algorithms/registry';
import { mean } from '../numeric';
import { measureFunctions, parseMeasures, type MeasureName } from '../metrics';
import { getCv, type SplitData, type Splitter } from './split';

/**
 * The algorithm to cross-validate: an instance (each fold gets a new one of its class with its
 * parameters, as Surprise refits the same object), a factory returning a new instance per call,
 * or a registered algorithm's name with parameters.
 */
export type AlgoSource =
  AlgoBase | (() => AlgoBase) | { name: string; params?: Record<string, unknown> };

/** Progress of a cross-validation, reported before and after each fold. */
export type CrossValidateProgress =
  | { phase: 'fit'; fold: number; nSplits: number; nTrain: number; nTest: number }
  | {
      phase: 'done';
      fold: number;
      nSplits: number;
      /** This fold's test measures by name. */
      measures: Partial<Record<MeasureName, number>>;
      fitTime: number;
      testTime: number;
    };

/** A fold's test predictions, handed to {@link CrossValidateOptions.onPredictions}. */
export interface FoldPredictions {
  /** 1-based fold number, and the number of folds. */
  fold: number;
  nSplits: number;
  /** `algo.test(testset)` of this fold: the very predictions the measures are computed from. */
  predictions: Prediction[];
  /** The algorithm fitted on this fold's trainset. */
  algo: AlgoBase;
}

/** Options of {@link crossValidate}. */
export interface CrossValidateOptions {
  /** Measure names, case-insensitive, among rmse, mse, mae, fcp. Default `['rmse', 'mae']`. */
  measures?: readonly string[];
  /** Number of KFold folds, or a splitter (KFold, PredefinedKFold, ShuffleSplit…). Default 5. */
  cv?: number | Splitter;
  /** Also measure on each trainset (Surprise's `return_train_measures`). Default false. */
  returnTrainMeasures?: boolean;
  /** Print Surprise's summary table to `log` at the end. Default false. */
  verbose?: boolean;
  /** Where the verbose table goes. Default `console.log`. */
  log?: (text: string) => void;
  /** Called when a fold starts fitting (`phase: 'fit'`, fold 1-based) and when it is measured. */
  onProgress?: (p: CrossValidateProgress) => void;
  /**
   * Called with each fold's test predictions once they are timed and measured, before the fold's
   * `done` progress event: for figures computed from the same predictions (e.g. top-N ranking
   * measures) without a second fit or predict. Its time counts in neither fitTime nor testTime.
   */
  onPredictions?: (p: FoldPredictions) => void;
}

/** Per-measure figures: `testRmse`, `testMae`, …, `trainRmse` …, `fitTime`, `testTime`. */
export type FigureName =
  `test${Capitalize<MeasureName>}` | `train${Capitalize<MeasureName>}` | 'fitTime' | 'testTime';

/**
 * What {@link crossValidate} returns (Surprise's dict `test_rmse`, `fit_time`, …, in camelCase),
 * plus means and population standard deviations (`numpy.mean`, `numpy.std`) of every figure.
 */
export interface CrossValidateResult {
  /** Registry name of the algorithm (e.g. "SVD"). */
  algorithmName: string;
  /** The algorithm's resolved parameters. */
  params: Record<string, unknown>;
  /** The measures computed, lower case, in order. */
  measures: MeasureName[];
  /** Number of splits. */
  nSplits: number;
  /** RMSE per fold on the testset, when measured; likewise testMse, testMae, testFcp. */
  testRmse?: number[];
  testMse?: number[];
  testMae?: number[];
  testFcp?: number[];
  /** Measures on the trainsets, when `returnTrainMeasures`. */
  trainRmse?: number[];
  trainMse?: number[];
  trainMae?: number[];
  trainFcp?: number[];
  /** Seconds to fit, per fold. */
  fitTime: number[];
  /** Seconds to predict the testset, per fold. */
  testTime: number[];
  /** Number of ratings in each fold's trainset and testset. */
  nTrain: number[];
  nTest: number[];
  /** Mean of each per-fold figure. */
  mean: Partial<Record<FigureName, number>>;
  /** Population standard deviation of each per-fold figure (`numpy.std`, ddof 0). */
  std: Partial<Record<FigureName, number>>;
}

/** Makes the "new instance per fold" function of an algorithm source. @throws ParamError */
export function algoFactory(algo: AlgoSource): () => AlgoBase {
  if (typeof algo === 'function') return algo;
  if ('estimate' in algo && typeof algo.estimate === 'function') {
    const inst = algo as AlgoBase;
    const Cls = inst.constructor as AlgorithmClass;
    const params = inst.params;
    return () => new Cls(params);
  }
  const { name, params } = algo as { name: string; params?: Record<string, unknown> };
  createAlgorithm(name, params); // validates name and parameters before any fold runs
  return () => createAlgorithm(name, params);
}

const cap = (m: MeasureName) => (m[0].toUpperCase() + m.slice(1)) as Capitalize<MeasureName>;

/**
 * The key of a measure's test figures in a `CrossValidateResult` (and its `mean`, `std`):
 * `'rmse'` → `'testRmse'` (Surprise's `test_rmse`).
 */
export const testKey = (m: MeasureName): `test${Capitalize<MeasureName>}` => `test${cap(m)}`;

/** Population standard deviation as `numpy.std` (ddof 0). */
export function std(values: ArrayLike<number>): number {
  const mu = mean(values);
  const sq = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) sq[k] = (values[k] - mu) * (values[k] - mu);
  return Math.sqrt(mean(sq));
}

/**
 * Runs a cross-validation (Surprise's `cross_validate`).
 *
 * @param algo the algorithm (see {@link AlgoSource}); a new instance is fitted per fold.
 * @param data the data set to split.
 * @returns per-fold measures and times with their means and standard deviations.
 * @throws Error for an unknown measure; ParamError for an unknown algorithm or parameter;
 *   the splitter's errors (e.g. more folds than ratings, no predefined folds); the algorithm's.
 */
export function crossValidate(
  algo: AlgoSource,
  data: SplitData,
  opts: CrossValidateOptions = {},
): CrossValidateResult {
  const measures = parseMeasures(opts.measures ?? ['rmse', 'mae']);
  const splitter = getCv(opts.cv);
  const nSplits = splitter.getNSplits(data);
  const make = algoFactory(algo);
  const test: Record<string, number[]> = {};
  const train: Record<string, number[]> = {};
  for (const m of measures) {
    test[m] = [];
    train[m] = [];
  }
  const fitTime: number[] = [];
  const testTime: number[] = [];
  const nTrain: number[] = [];
  const nTest: number[] = [];
  let first: AlgoBase | undefined;
  let fold = 0;
  for (const [trainset, testset] of splitter.split(data)) {
    fold++;
    opts.onProgress?.({
      phase: 'fit',
      fold,
      nSplits,
      nTrain: trainset.nRatings,
      nTest: testset.length,
    });
    const a = make();
    first ??= a;
    const t0 = performance.now();
    a.fit(trainset);
    const t1 = performance.now();
    const predictions = a.test(testset);
    const t2 = performance.now();
    const trainPredictions = opts.returnTrainMeasures ? a.test(trainset.buildTestset()) : null;
    const foldMeasures: Partial<Record<MeasureName, number>> = {};
    for (const m of measures) {
      const v = measureFunctions[m](predictions);
      test[m].push(v);
      foldMeasures[m] = v;
      if (trainPredictions) train[m].push(measureFunctions[m](trainPredictions));
    }
    fitTime.push((t1 - t0) / 1000);
    testTime.push((t2 - t1) / 1000);
    nTrain.push(trainset.nRatings);
    nTest.push(testset.length);
    opts.onPredictions?.({ fold, nSplits, predictions, algo: a });
    opts.onProgress?.({
      phase: 'done',
      fold,
      nSplits,
      measures: foldMeasures,
      fitTime: fitTime[fold - 1],
      testTime: testTime[fold - 1],
    });
  }
  if (!first) throw new Error('the splitter yielded no split');

  const result: CrossValidateResult = {
    algorithmName: first.name,
    params: first.params,
    measures,
    nSplits: fold,
    fitTime,
    testTime,
    nTrain,
    nTest,
    mean: {},
    std: {},
  };
  const put = (key: FigureName, values: number[]) => {
    (result as unknown as Record<string, unknown>)[key] = values;
    result.mean[key] = mean(values);
    result.std[key] = std(values);
  };
  for (const m of measures) put(`test${cap(m)}`, test[m]);
  if (opts.returnTrainMeasures) for (const m of measures) put(`train${cap(m)}`, train[m]);
  result.mean.fitTime = mean(fitTime);
  result.std.fitTime = std(fitTime);
  result.mean.testTime = mean(testTime);
  result.std.testTime = std(testTime);
  if (opts.verbose) (opts.log ?? console.log)(formatSummary(result));
  return result;
}

/**
 * Python's `format(x, '.{digits}f')`: like `toFixed`, but an exact tie rounds to even (Python
 * rounds the exact binary value half-to-even, JavaScript half-up), and NaN/∞ print as
 * `nan`/`inf`.
 */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return s;
  // A tie (x exactly halfway between two outputs) is a short exact decimal ending in 5.
  // toFixed(100) is x's exact decimal expansion (to 100 places): a tie has exactly a 5 and then
  // only zeros after the kept digits (0.025 is 0.025000000000000001387… in binary: no tie).
  const exact = x.toFixed(100);
  if (!/^50*$/.test(exact.slice(exact.indexOf('.') + 1 + digits))) return s;
  const longer = x.toFixed(digits + 1);
  const kept = longer.slice(0, -1).replace(/\.$/, '');
  const lastKept = Number(kept[kept.length - 1]);
  // Even last digit: round towards zero (truncate); odd: toFixed already rounded away from zero.
  return lastKept % 2 === 0 ? kept : s;
}

const pad = (s: string, width: number) =>
  s.length >= width ? s : s + ' '.repeat(width - s.length);

/**
 * The table Surprise's `print_summary` prints after a verbose `cross_validate`:
 *
 * ```
 * Evaluating RMSE, MAE of algorithm SVD on 5 split(s).
 *
 *                   Fold 1  Fold 2  …  Mean    Std
 * RMSE (testset)    0.9380  …
 * MAE (testset)     …
 * Fit time          0.71    …
 * Test time         0.09    …
 * ```
 *
 * Columns exactly as Python's `"{:<18}" + "{:<8}" * (k + 2)` (left-aligned, trailing spaces
 * kept); measures with 4 decimals, times with 2; Std is the population standard deviation.
 */
export function formatSummary(r: CrossValidateResult): string {
  const k = r.nSplits;
  const row = (label: string, cells: string[]) =>
    pad(label, 18) + cells.map((c) => pad(c, 8)).join('');
  const figures = (values: number[], digits: number) => [
    ...values.map((v) => formatFixed(v, digits)),
    formatFixed(mean(values), digits),
    formatFixed(std(values), digits),
  ];
  const lines = [row('', [...Array.from({ length: k }, (_, i) => `Fold ${i + 1}`), 'Mean', 'Std'])];
  for (const m of r.measures) {
    lines.push(row(`${m.toUpperCase()} (testset)`, figures(r[`test${cap(m)}`]!, 4)));
  }
  if (r.trainRmse || r.trainMae || r.trainMse || r.trainFcp) {
    for (const m of r.measures) {
      lines.push(row(`${m.toUpperCase()} (trainset)`, figures(r[`train${cap(m)}`]!, 4)));
    }
  }
  lines.push(row('Fit time', figures(r.fitTime, 2)));
  lines.push(row('Test time', figures(r.testTime, 2)));
  const head = `Evaluating ${r.measures.map((m) => m.toUpperCase()).join(', ')} of algorithm ${
    r.algorithmName
  } on ${k} split(s).`;
  return `${head}\n\n${lines.join('\n')}`;
}
