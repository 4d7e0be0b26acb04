/**
 * Comparing algorithms by cross-validation — the model-selection study of Surprise's README
 * benchmark table ("5-fold cross-validation on MovieLens 100K, RMSE, MAE, time"): every algorithm
 * is cross-validated on the same splits, and the results are ranked.
 */
import { createAlgorithm } from '../algorithms/registry';
import { parseMeasures, type MeasureName } from '../metrics';
import { getCv, type SplitData, type Splitter } from './split';
import { fixedSplits } from './search';
import {
  crossValidate,
  testKey,
  type CrossValidateProgress,
  type FoldPredictions,
  type CrossValidateResult,
} from './validation';

/** One algorithm to compare: a registered name and its parameters. */
export interface CompareEntry {
  name: string;
  params?: Record<string, unknown>;
}

/** Progress of a comparison: a cross-validation progress event, with the algorithm it is about. */
export type CompareProgress = CrossValidateProgress & {
  /** Registry name of the algorithm. */
  algorithm: string;
  /** 1-based position of the algorithm and the number of algorithms. */
  index: number;
  nAlgorithms: number;
};

/** Options of {@link compareAlgorithms}. */
export interface CompareOptions {
  /** Measure names (rmse, mse, mae, fcp). Default `['rmse', 'mae']`. */
  measures?: readonly string[];
  /** Number of KFold folds or a splitter. Default 5 folds. */
  cv?: number | Splitter;
  /** Progress callback. */
  onProgress?: (p: CompareProgress) => void;
  /** Each fold's test predictions, with the algorithm they are about (see `crossValidate`). */
  onPredictions?: (p: FoldPredictions & { algorithm: string; index: number }) => void;
}

/**
 * Cross-validates each algorithm on the same splits (the splitter runs once, see `fixedSplits`).
 *
 * Every algorithm and parameter is validated before the first split is built.
 *
 * @returns one cross-validation result per algorithm, in the order given.
 * @throws ParamError for an unknown algorithm or parameter; Error for an unknown measure or an
 *   empty list; the splitter's and the algorithms' errors.
 */
export function compareAlgorithms(
  algos: readonly CompareEntry[],
  data: SplitData,
  opts: CompareOptions = {},
): CrossValidateResult[] {
  if (algos.length === 0) throw new Error('no algorithm to compare');
  const measures = parseMeasures(opts.measures ?? ['rmse', 'mae']);
  for (const a of algos) createAlgorithm(a.name, a.params); // validate everything first
  const cv = fixedSplits(getCv(opts.cv), data);
  return algos.map((a, k) =>
    crossValidate({ name: a.name, params: a.params }, data, {
      measures,
      cv,
      onProgress: opts.onProgress
        ? (p) =>
            opts.onProgress!({ ...p, algorithm: a.name, index: k + 1, nAlgorithms: algos.length })
        : undefined,
      onPredictions: opts.onPredictions
        ? (p) => opts.onPredictions!({ ...p, algorithm: a.name, index: k + 1 })
        : undefined,
    }),
  );
}

/**
 * Orders results best first by a measure's mean (ascending for errors, descending for fcp); ties
 * keep the given order.
 * @param by the measure to rank by (default: rmse when measured, else the first measure).
 */
export function rankResults(
  results: readonly CrossValidateResult[],
  by?: MeasureName,
): CrossValidateResult[] {
  if (results.length === 0) return [];
  const m = by ?? (results[0].measures.includes('rmse') ? 'rmse' : results[0].measures[0]);
  const key = testKey(m);
  const sign = m === 'fcp' ? -1 : 1;
  const score = (r: CrossValidateResult) => {
    const v = r.mean[key];
    return v === undefined || Number.isNaN(v) ? Infinity : sign * v;
  };
  return [...results].sort((a, b) => score(a) - score(b));
}
