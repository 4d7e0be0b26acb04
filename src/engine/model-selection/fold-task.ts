/**
 * One cross-validation fold as a self-contained task: fit a registered algorithm on a trainset
 * and measure it on a testset. The worker threads of pool.ts run it; `crossValidate` does the
 * same steps in its own thread, so a fold gives the same measures wherever it runs (the fit sees
 * the same trainset arrays, in the same order, and the same parameters).
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import '../algorithms';
import type { AlgoBase } from '../algorithms/base';
import { createAlgorithm } from '../algorithms/registry';
import { loadAlgorithmPlugins, pluginsFromEnv } from '../algorithms/plugins';
import { measureFunctions, type MeasureName } from '../metrics';
import { Trainset, type TrainsetState } from '../trainset';
import type { Testset } from '../dataset/raw-ratings';

/** What a fold task needs: the algorithm, the trainset's state, the testset, the measures. */
export interface FoldTask {
  /** Registry name and parameters (as `createAlgorithm` takes them). */
  name: string;
  params: Record<string, unknown>;
  /** `trainset.state()` plus its `urTimestamps`. */
  trainset: TrainsetState;
  testset: Testset;
  measures: MeasureName[];
  /** Also measure on the trainset (Surprise's `return_train_measures`). */
  returnTrainMeasures: boolean;
}

/** What a fold task answers. Times are wall-clock seconds in the thread that ran it. */
export interface FoldOutcome {
  /** The algorithm's registry name and resolved parameters. */
  algorithmName: string;
  params: Record<string, unknown>;
  test: Partial<Record<MeasureName, number>>;
  train: Partial<Record<MeasureName, number>>;
  fitTime: number;
  testTime: number;
  nTrain: number;
  nTest: number;
  /** The `threadId` of the thread that ran the fold (0: the main thread). */
  threadId: number;
}

let pluginsLoaded = false;

/**
 * Fits and measures one fold.
 * @throws ParamError for an unknown algorithm or parameter; the algorithm's own errors.
 */
export function runFoldTask(task: FoldTask): FoldOutcome {
  if (!pluginsLoaded) {
    // a worker thread knows the plugins named in REELGRAPH_PLUGINS, as its process does
    loadAlgorithmPlugins(pluginsFromEnv());
    pluginsLoaded = true;
  }
  const trainset = Trainset.fromState(task.trainset);
  const a = createAlgorithm(task.name, task.params);
  return fitAndMeasure(a, trainset, task.testset, task.measures, task.returnTrainMeasures);
}

/**
 * `crossValidate`'s steps for one fold: fit `a` on `trainset` (timed), predict `testset` (timed),
 * compute each measure (and on the trainset's own ratings when `returnTrainMeasures`).
 */
export function fitAndMeasure(
  a: AlgoBase,
  trainset: Trainset,
  testset: Testset,
  measures: readonly MeasureName[],
  returnTrainMeasures: boolean,
): FoldOutcome {
  const t0 = performance.now();
  a.fit(trainset);
  const t1 = performance.now();
  const predictions = a.test(testset);
  const t2 = performance.now();
  const test: Partial<Record<MeasureName, number>> = {};
  const train: Partial<Record<MeasureName, number>> = {};
  const trainPredictions = returnTrainMeasures ? a.test(trainset.buildTestset()) : null;
  for (const m of measures) {
    test[m] = measureFunctions[m](predictions);
    if (trainPredictions) train[m] = measureFunctions[m](trainPredictions);
  }
  return {
    algorithmName: a.name,
    params: a.params,
    test,
    train,
    fitTime: (t1 - t0) / 1000,
    testTime: (t2 - t1) / 1000,
    nTrain: trainset.nRatings,
    nTest: testset.length,
    threadId,
  };
}
