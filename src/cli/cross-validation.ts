/**
 * Pieces `reelgraph evaluate` and `reelgraph compare` share around cross-validation: an
 * algorithm's parameters from `--param` and `--seed`, the one-line summary of a finished fold,
 * the progress bar of the folds on a terminal, the description of the folds, and the JSON form
 * of a result's per-fold and mean / std figures.
 */
import { SingleBar } from 'cli-progress';
import type { AlgorithmClass } from '../engine/algorithms/base';
import type { MeasureName } from '../engine/metrics';
import { formatFixed, testKey, type CrossValidateResult } from '../engine/model-selection';
import { mergeParams, parseParamAssignment, type ParamValues } from '../engine/params';
import type { CommandIo, DataOptions } from './data-options';

/**
 * `params` with the `--param name=value` `assignments` merged in, then `randomState: seed` when
 * the algorithm has that parameter, a seed is given and no assignment set it; checked by
 * constructing the algorithm, so that every error comes before any data is read.
 * @throws ParamError for an unknown name or a bad value.
 */
export function algorithmParams(
  cls: AlgorithmClass,
  assignments: readonly string[],
  seed: number | undefined,
  params: ParamValues = {},
): ParamValues {
  for (const a of assignments) {
    params = mergeParams(params, parseParamAssignment(cls.paramSpecs, a, cls.algorithmName));
  }
  if (seed !== undefined && 'randomState' in cls.paramSpecs && !('randomState' in params)) {
    params = { ...params, randomState: seed };
  }
  new cls(params);
  return params;
}

/** A finished fold's figures, as progress events carry them (measures, seconds). */
export interface FoldFigures {
  measures: Partial<Record<MeasureName, number>>;
  fitTime: number;
  testTime: number;
}

/** `RMSE 0.9400, MAE 0.7400 (fit 1.23 s, test 0.12 s)`: 4 decimals, seconds with 2. */
export function foldSummary(measures: readonly MeasureName[], p: FoldFigures): string {
  return (
    measures.map((m) => `${m.toUpperCase()} ${formatFixed(p.measures[m]!, 4)}`).join(', ') +
    ` (fit ${formatFixed(p.fitTime, 2)} s, test ${formatFixed(p.testTime, 2)} s)`
  );
}

/** A progress bar of `total` folds on `stderr`, started at 0 with an empty status. */
export function foldBar(stderr: CommandIo['stderr'], total: number): SingleBar {
  const bar = new SingleBar({
    stream: stderr,
    format: 'folds |{bar}| {value}/{total} {status}',
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0, { status: '' });
  return bar;
}

/** `predefined folds` or `5-fold KFold`, for the line announcing a run. */
export function foldsLabel(opts: DataOptions, nSplits: number): string {
  return opts.folds === 'predefined' ? 'predefined folds' : `${nSplits}-fold KFold`;
}

/** The mean or std of every measure, then of the fit and test seconds. */
export type FiguresJson = Partial<Record<MeasureName | 'fitTime' | 'testTime', number>>;

/** `r.mean` or `r.std` as JSON: each measure of `r` (in order), then `fitTime`, `testTime`. */
export function figuresJson(r: CrossValidateResult, src: CrossValidateResult['mean']): FiguresJson {
  const out: FiguresJson = {};
  for (const m of r.measures) out[m] = src[testKey(m)];
  out.fitTime = src.fitTime;
  out.testTime = src.testTime;
  return out;
}

/**
 * One JSON row per fold: `fold` (from 1), the fields of `extra(k)`, `fitTime`, `testTime`
 * (seconds), then each measure of `r`, in that key order.
 */
export function foldRowsJson<E extends object>(
  r: CrossValidateResult,
  extra: (k: number) => E,
): Array<
  { fold: number; fitTime: number; testTime: number } & E & Partial<Record<MeasureName, number>>
> {
  return r.fitTime.map((fit, k) => {
    const row = { fold: k + 1, ...extra(k), fitTime: fit, testTime: r.testTime[k] } as {
      fold: number;
      fitTime: number;
      testTime: number;
    } & E &
      Partial<Record<MeasureName, number>>;
    for (const m of r.measures) row[m] = r[testKey(m)]![k];
    return row;
  });
}
