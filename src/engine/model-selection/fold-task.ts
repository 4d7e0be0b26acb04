/**
 * One cross-validation fold as a self-contained task: fit a registered algorithm on a trainset
 * and measure it on a testset. The worker threads of pool.ts run it; `crossValidate` does the
 * same steps in its own thread, so a fold gives the same measures wherever it runs (the fit sees
 * the same trainset arrays, in the same order, and the same parameters).
 *
 * The worker side of the pool's protocol ({@link handlePoolMessage}):
 * - `data`: a data set's ratings (interned codes, values, timestamps: typed arrays on shared
 *   memory, so N workers hold one copy), its rating scale and side information, sent once per
 *   worker and kept under its id until `drop`;
 * - `split`: a fold given by the data ids and positions of its training and test ratings
 *   (`Trainset.build(ratings, scale, trainPositions, sideInfo)` and
 *   `ratings.subset(testPositions).toTestset()`, exactly as the splitters build them), the
 *   algorithm's name and parameters and the measures. The trainset and testset of a fold are
 *   kept (the last `cacheSplits` folds) and reused by the next algorithm on the same fold, as
 *   `compareAlgorithms` reuses them;
 * - `fold`: a fold given by its trainset's arrays and testset (what cannot be named by positions);
 * - `drop`: forget data sets and the folds built from them.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import '../algorithms';
import type { AlgoBase } from '../algorithms/base';
import { createAlgorithm } from '../algorithms/registry';
import { loadAlgorithmPlugins, pluginsFromEnv } from '../algorithms/plugins';
import { measureFunctions, type MeasureName } from '../metrics';
import { Trainset, type TrainsetState } from '../trainset';
import { RawRatings, type Testset } from '../dataset/raw-ratings';
import type { SideInfo } from '../dataset/side-info';

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

/** A data set's ratings as the pool shares them (see {@link RawRatings.fromCodes}). */
export interface SharedRatings {
  userCodes: Int32Array;
  userIds: readonly string[];
  itemCodes: Int32Array;
  itemIds: readonly string[];
  ratings: Float64Array;
  timestamps: Float64Array | null;
}

/** Some ratings of a registered data set: all of them (`positions` null) or those positions. */
export interface RatingsRef {
  data: number;
  positions: Int32Array | null;
}

/** A fold named by positions in registered data sets (see the module comment). */
export interface SplitTask {
  /** Identifies the fold for the worker's cache (same key: same trainset and testset). */
  key: string;
  train: RatingsRef;
  test: RatingsRef;
  /** How many folds a worker keeps built (≥ 1). */
  cacheSplits: number;
  name: string;
  params: Record<string, unknown>;
  measures: MeasureName[];
  returnTrainMeasures: boolean;
  /** Also answer each test prediction's estimate and `wasImpossible` flag (`FoldOutcome.estimates`). */
  returnEstimates: boolean;
}

/** The messages a pool worker takes. Only `split` and `fold` are answered. */
export type PoolMessage =
  | {
      kind: 'data';
      id: number;
      ratings: SharedRatings;
      ratingScale: [number, number];
      sideInfo: SideInfo | null;
    }
  | { kind: 'drop'; ids: number[] }
  | { kind: 'split'; task: SplitTask }
  | { kind: 'fold'; task: FoldTask };

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
  /** With `returnEstimates`: each test prediction's estimate, in testset order. */
  estimates?: Float64Array;
  /** With `returnEstimates`: 1 where the prediction was impossible (`details.wasImpossible`). */
  impossible?: Uint8Array;
}

interface Registered {
  raw: RawRatings;
  ratingScale: [number, number];
  sideInfo: SideInfo | null;
}

/** The data sets this thread holds, by id. */
const registered = new Map<number, Registered>();
/** Folds built, most recently used last: key → trainset, testset and the data ids they use. */
const built = new Map<string, { trainset: Trainset; testset: Testset; uses: number[] }>();

function registeredData(id: number): Registered {
  const d = registered.get(id);
  if (!d) throw new Error(`pool worker: data set ${id} was not sent to this worker`);
  return d;
}

/** The trainset and testset of a split task, from the cache or built (then cached). */
function foldOf(task: SplitTask): { trainset: Trainset; testset: Testset } {
  const hit = built.get(task.key);
  if (hit) {
    built.delete(task.key); // re-insert: most recently used last
    built.set(task.key, hit);
    return hit;
  }
  const tr = registeredData(task.train.data);
  const te = registeredData(task.test.data);
  const trainset = Trainset.build(
    tr.raw,
    tr.ratingScale,
    task.train.positions ?? undefined,
    tr.sideInfo,
  );
  const testset = (task.test.positions ? te.raw.subset(task.test.positions) : te.raw).toTestset();
  const entry = { trainset, testset, uses: [task.train.data, task.test.data] };
  built.set(task.key, entry);
  while (built.size > Math.max(1, task.cacheSplits)) {
    built.delete(built.keys().next().value as string);
  }
  return entry;
}

/**
 * Handles one message of the pool protocol (see the module comment).
 * @returns the outcome of a `split` or `fold` task; null for `data` and `drop`.
 * @throws ParamError for an unknown algorithm or parameter; Error for a data set not sent; the
 *   algorithm's own errors.
 */
export function handlePoolMessage(m: PoolMessage): FoldOutcome | null {
  switch (m.kind) {
    case 'data': {
      const r = m.ratings;
      registered.set(m.id, {
        raw: RawRatings.fromCodes(
          r.userCodes,
          r.userIds,
          r.itemCodes,
          r.itemIds,
          r.ratings,
          r.timestamps,
        ),
        ratingScale: m.ratingScale,
        sideInfo: m.sideInfo,
      });
      return null;
    }
    case 'drop': {
      for (const id of m.ids) registered.delete(id);
      for (const [key, e] of built) if (e.uses.some((id) => m.ids.includes(id))) built.delete(key);
      return null;
    }
    case 'split':
      return runSplitTask(m.task);
    case 'fold':
      return runFoldTask(m.task);
  }
}

/**
 * Fits and measures one fold named by positions in registered data sets.
 * @throws as {@link handlePoolMessage}.
 */
export function runSplitTask(task: SplitTask): FoldOutcome {
  loadPluginsOnce();
  const { trainset, testset } = foldOf(task);
  const a = createAlgorithm(task.name, task.params);
  return fitAndMeasure(
    a,
    trainset,
    testset,
    task.measures,
    task.returnTrainMeasures,
    task.returnEstimates,
  );
}

function loadPluginsOnce(): void {
  if (!pluginsLoaded) {
    // a worker thread knows the plugins named in REELGRAPH_PLUGINS, as its process does
    loadAlgorithmPlugins(pluginsFromEnv());
    pluginsLoaded = true;
  }
}

let pluginsLoaded = false;

/**
 * Fits and measures one fold.
 * @throws ParamError for an unknown algorithm or parameter; the algorithm's own errors.
 */
export function runFoldTask(task: FoldTask): FoldOutcome {
  loadPluginsOnce();
  const trainset = Trainset.fromState(task.trainset);
  const a = createAlgorithm(task.name, task.params);
  return fitAndMeasure(a, trainset, task.testset, task.measures, task.returnTrainMeasures);
}

/**
 * `crossValidate`'s steps for one fold: fit `a` on `trainset` (timed), predict `testset` (timed),
 * compute each measure (and on the trainset's own ratings when `returnTrainMeasures`); with
 * `returnEstimates` also each test prediction's estimate and impossibility flag.
 */
export function fitAndMeasure(
  a: AlgoBase,
  trainset: Trainset,
  testset: Testset,
  measures: readonly MeasureName[],
  returnTrainMeasures: boolean,
  returnEstimates = false,
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
  const outcome: FoldOutcome = {
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
  if (returnEstimates) {
    outcome.estimates = Float64Array.from(predictions, (p) => p.est);
    outcome.impossible = Uint8Array.from(predictions, (p) => (p.details.wasImpossible ? 1 : 0));
  }
  return outcome;
}
