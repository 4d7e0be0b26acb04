/**
 * Cross-validation, algorithm comparison and grid search on all cores: every (algorithm or
 * candidate, fold) pair is one task of the fold pool (pool.ts), all queued at once, longest first
 * (schedule.ts), so that the pool stays busy across algorithms and its workers end together.
 *
 * Same results as a sequential run, bit for bit except the times:
 * - the splits are drawn once, in the calling thread, exactly as the splitter draws them for
 *   `crossValidate` (one `splitIndices` call for KFold and ShuffleSplit; PredefinedKFold's folds
 *   as they are);
 * - the data set goes to each worker once, as typed arrays on shared memory (interned user and
 *   item codes, ratings, timestamps; the id tables and side information copied), and a task
 *   carries only the positions of its fold's training and test ratings (on shared memory too),
 *   the algorithm's registry name and parameters: the worker builds the trainset and testset as
 *   the splitter does (`Trainset.build(ratings, scale, positions, sideInfo)`, `subset(positions)
 *   .toTestset()`), keeps it for the next algorithm on the same fold (as `compareAlgorithms`
 *   shares one trainset per fold), and fits and measures as `crossValidate` does;
 * - results are put back in the order given and in fold order. When the call ends the workers
 *   forget the data (nothing is kept between calls but the threads).
 *
 * What cannot cross a thread runs in the calling thread (still correct, just not parallel): an
 * algorithm given as a factory function or as an instance of an unregistered class, and folds of
 * a custom splitter (one that is neither KFold, ShuffleSplit nor PredefinedKFold) when the data
 * has side information. A custom splitter's folds otherwise travel as their trainset's arrays.
 * Worker threads know the built-in algorithms and the plugins named in REELGRAPH_PLUGINS.
 */
import type { AlgoBase, AlgorithmClass, Prediction } from '../algorithms/base';
import { createAlgorithm, getAlgorithm } from '../algorithms/registry';
import { mean } from '../numeric';
import { parseMeasures, type MeasureName } from '../metrics';
import type { RawRatings, Testset } from '../dataset/raw-ratings';
import { Trainset } from '../trainset';
import { KFold, PredefinedKFold, ShuffleSplit, getCv, type SplitData } from './split';
import { fitAndMeasure, type FoldOutcome, type RatingsRef } from './fold-task';
import { FoldPool, foldPool, type DataMessage, type TaskMessage } from './pool';
import { foldCost, longestFirst } from './schedule';
import {
  algoFactory,
  std,
  type AlgoSource,
  type CrossValidateOptions,
  type CrossValidateResult,
  type FigureName,
} from './validation';
import type { CompareEntry } from './compare';

/** A finished fold of a pooled run, as {@link PooledOptions.onFold} receives it. */
export interface PooledFold {
  /** 0-based position of the algorithm (or candidate) in the list given. */
  index: number;
  /** 1-based fold number, and the number of folds. */
  fold: number;
  nSplits: number;
  /** The fold's measures and times. */
  outcome: FoldOutcome;
  /**
   * With `returnPredictions`: the fold's test predictions, in testset order (`uid`, `iid`, `rUi`
   * from the testset; `est` and `details.wasImpossible` from the worker; no `reason`, no
   * algorithm details such as `actualK`).
   */
  predictions?: Prediction[];
}

/** Options of the pooled runs: `crossValidate`'s measures, cv and train measures, and more. */
export type PooledOptions = Pick<
  CrossValidateOptions,
  'measures' | 'cv' | 'returnTrainMeasures'
> & {
  /** The pool to use. Default: the process's (`foldPool()`). */
  pool?: FoldPool;
  /** Called as each fold finishes (in the order they finish, not fold order). */
  onFold?: (f: PooledFold) => void;
  /** Give `onFold` each fold's test predictions (for top-N figures). Default false. */
  returnPredictions?: boolean;
};

/** How big a worker's cache of built folds may grow, in (estimated) bytes. */
const FOLD_CACHE_BYTES = 256 * 2 ** 20;

let nextDataId = 1;

/**
 * The registry name and parameters of an algorithm source, or null when a worker could not
 * rebuild it (a factory function, or an instance of a class not registered under its name).
 * @throws ParamError for an unknown name or parameter (before any fold runs).
 */
function nameAndParams(algo: AlgoSource): { name: string; params: Record<string, unknown> } | null {
  if (typeof algo === 'function') return null;
  if ('estimate' in algo && typeof algo.estimate === 'function') {
    const inst = algo as AlgoBase;
    let registered: AlgorithmClass | null = null;
    try {
      registered = getAlgorithm(inst.name);
    } catch {
      registered = null;
    }
    return registered === inst.constructor ? { name: inst.name, params: inst.params } : null;
  }
  const { name, params } = algo as { name: string; params?: Record<string, unknown> };
  createAlgorithm(name, params);
  return { name, params: params ?? {} };
}

/** A copy of a typed array on shared memory (posted to workers without a copy). */
function shared<T extends Int32Array | Float64Array>(a: T): T {
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/** The `data` message of some raw ratings, under a new id. */
function dataMessage(raw: RawRatings, data: SplitData): DataMessage {
  const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
  return {
    kind: 'data',
    id: nextDataId++,
    ratings: {
      userCodes: shared(userCodes),
      userIds,
      itemCodes: shared(itemCodes),
      itemIds,
      ratings: shared(raw.ratings),
      timestamps: raw.timestamps ? shared(raw.timestamps) : null,
    },
    ratingScale: [data.ratingScale[0], data.ratingScale[1]],
    sideInfo: data.sideInfo ?? null,
  };
}

/** One fold of a plan: how a worker builds it, and how this thread would. */
interface PlannedFold {
  nTrain: number;
  /** Positions form: the worker builds it from registered data (null: `state` form). */
  train: RatingsRef | null;
  test: RatingsRef | null;
  /** Built in this thread (lazily, once): the trainset and testset. */
  local: () => [Trainset, Testset];
  /** The testset only (for predictions handed back), lazily. */
  testset: () => Testset;
}

/** The folds of a run and the data messages they need. */
interface Plan {
  folds: PlannedFold[];
  data: DataMessage[];
}

function once<T>(make: () => T): () => T {
  let v: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      v = make();
      done = true;
    }
    return v as T;
  };
}

/** Draws the splits once (see the module comment) and says how each fold reaches a worker. */
function plan(cv: CrossValidateOptions['cv'], data: SplitData): Plan {
  const splitter = getCv(cv);
  if (splitter instanceof KFold || splitter instanceof ShuffleSplit) {
    const msg = dataMessage(data.ratings, data);
    const folds = [...splitter.splitIndices(data.ratings.length)].map(([tr, te]): PlannedFold => {
      const test = once(() => data.ratings.subset(te).toTestset());
      return {
        nTrain: tr.length,
        train: { data: msg.id, positions: shared(tr) },
        test: { data: msg.id, positions: shared(te) },
        local: once(() => [
          Trainset.build(data.ratings, data.ratingScale, tr, data.sideInfo),
          test(),
        ]),
        testset: test,
      };
    });
    if (folds.length === 0) throw new Error('the splitter yielded no split');
    return { folds, data: [msg] };
  }
  if (splitter instanceof PredefinedKFold) {
    splitter.getNSplits(data); // throws when the data set has no folds
    const msgs: DataMessage[] = [];
    const folds = data.folds!.map((f): PlannedFold => {
      const trainMsg = dataMessage(f.train, data);
      const testMsg = dataMessage(f.test, data);
      msgs.push(trainMsg, testMsg);
      const test = once(() => f.test.toTestset());
      return {
        nTrain: f.train.length,
        train: { data: trainMsg.id, positions: null },
        test: { data: testMsg.id, positions: null },
        local: once(() => [
          Trainset.build(f.train, data.ratingScale, undefined, data.sideInfo),
          test(),
        ]),
        testset: test,
      };
    });
    return { folds, data: msgs };
  }
  // A custom splitter: its folds as it yields them.
  const splits = [...splitter.split(data)];
  if (splits.length === 0) throw new Error('the splitter yielded no split');
  return {
    folds: splits.map(([trainset, testset]) => ({
      nTrain: trainset.nRatings,
      train: null,
      test: null,
      local: () => [trainset, testset],
      testset: () => testset,
    })),
    data: [],
  };
}

/** Assembles per-fold outcomes (in fold order) into `crossValidate`'s result. */
function assemble(
  outcomes: FoldOutcome[],
  measures: MeasureName[],
  returnTrainMeasures: boolean,
): CrossValidateResult {
  const fitTime = outcomes.map((o) => o.fitTime);
  const testTime = outcomes.map((o) => o.testTime);
  const result: CrossValidateResult = {
    algorithmName: outcomes[0].algorithmName,
    params: outcomes[0].params,
    measures,
    nSplits: outcomes.length,
    fitTime,
    testTime,
    nTrain: outcomes.map((o) => o.nTrain),
    nTest: outcomes.map((o) => o.nTest),
    mean: {},
    std: {},
  };
  const put = (key: FigureName, values: number[]) => {
    (result as unknown as Record<string, unknown>)[key] = values;
    result.mean[key] = mean(values);
    result.std[key] = std(values);
  };
  const cap = (m: MeasureName) => (m[0].toUpperCase() + m.slice(1)) as Capitalize<MeasureName>;
  for (const m of measures)
    put(
      `test${cap(m)}`,
      outcomes.map((o) => o.test[m]!),
    );
  if (returnTrainMeasures)
    for (const m of measures)
      put(
        `train${cap(m)}`,
        outcomes.map((o) => o.train[m]!),
      );
  result.mean.fitTime = mean(fitTime);
  result.std.fitTime = std(fitTime);
  result.mean.testTime = mean(testTime);
  result.std.testTime = std(testTime);
  return result;
}

/** The predictions of a fold from its testset and the estimates a worker answered. */
function predictionsOf(testset: Testset, o: FoldOutcome): Prediction[] {
  const est = o.estimates!;
  const imp = o.impossible!;
  return testset.map(([uid, iid, rUi], k) => ({
    uid,
    iid,
    rUi,
    est: est[k],
    details: { wasImpossible: imp[k] === 1 },
  }));
}

/**
 * Cross-validates every algorithm source on the same splits, every (source, fold) pair one task
 * of the pool, longest first.
 * @returns one result per source, in the order given (each as `crossValidate` on those splits).
 * @throws ParamError for an unknown algorithm or parameter; Error for an empty list or an unknown
 *   measure; the splitter's and the algorithms' errors.
 */
export async function runPooled(
  algos: readonly AlgoSource[],
  data: SplitData,
  opts: PooledOptions = {},
): Promise<CrossValidateResult[]> {
  if (algos.length === 0) throw new Error('no algorithm to compare');
  const measures = parseMeasures(opts.measures ?? ['rmse', 'mae']);
  const named = algos.map(nameAndParams); // validates every algorithm first
  const local = algos.map((a, k) => (named[k] ? null : algoFactory(a)));
  const { folds, data: messages } = plan(opts.cv, data);
  const pool = opts.pool ?? foldPool();
  const train = opts.returnTrainMeasures ?? false;
  const withPredictions = (opts.returnPredictions ?? false) && opts.onFold !== undefined;
  const nSplits = folds.length;
  const foldBytes = Math.max(...folds.map((f) => f.nTrain * 40 + (f.nTrain / 4) * 100));
  const cacheSplits = Math.max(1, Math.min(nSplits, Math.floor(FOLD_CACHE_BYTES / foldBytes)));
  const outcomes: FoldOutcome[][] = algos.map(() => new Array<FoldOutcome>(nSplits));
  const finished = (index: number, f: number, o: FoldOutcome) => {
    outcomes[index][f] = o;
    opts.onFold?.({
      index,
      fold: f + 1,
      nSplits,
      outcome: o,
      ...(withPredictions ? { predictions: predictionsOf(folds[f].testset(), o) } : {}),
    });
  };

  // Every pair the pool can take, longest first; the rest in this thread meanwhile.
  const pairs: Array<[index: number, fold: number]> = [];
  const inThread: Array<[index: number, fold: number]> = [];
  algos.forEach((_, k) =>
    folds.forEach((f, j) => {
      const crosses = named[k] && (f.train || !data.sideInfo);
      (crosses ? pairs : inThread).push([k, j]);
    }),
  );
  const order = longestFirst(
    pairs.map(([k, j]) => foldCost(named[k]!.name, named[k]!.params, folds[j].nTrain)),
  );
  const ids = messages.map((m) => m.id);
  try {
    const running = order.map((p) => {
      const [k, j] = pairs[p];
      const f = folds[j];
      const common = {
        name: named[k]!.name,
        params: named[k]!.params,
        measures,
        returnTrainMeasures: train,
      };
      let task: TaskMessage;
      let needs: DataMessage[] = [];
      if (f.train && f.test) {
        task = {
          kind: 'split',
          task: {
            ...common,
            key: `${f.train.data}:${f.test.data}:${j}`,
            train: f.train,
            test: f.test,
            cacheSplits,
            returnEstimates: withPredictions,
          },
        };
        needs = messages.filter((m) => m.id === f.train!.data || m.id === f.test!.data);
      } else {
        const [trainset, testset] = f.local();
        task = {
          kind: 'fold',
          task: {
            ...common,
            trainset: { ...trainset.state(), urTimestamps: trainset.urTimestamps },
            testset,
          },
        };
      }
      return pool.run(task, needs).then((o) => finished(k, j, o));
    });
    const all = Promise.all(running);
    all.catch(() => {}); // awaited below; an error of this thread's own share must not orphan it
    // the event loop lets the pool start before this thread works on its own share
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const [k, j] of inThread) {
      const [trainset, testset] = folds[j].local();
      const a = local[k] ? local[k]!() : createAlgorithm(named[k]!.name, named[k]!.params);
      finished(k, j, fitAndMeasure(a, trainset, testset, measures, train, withPredictions));
    }
    await all;
  } finally {
    pool.release(ids);
  }
  return outcomes.map((o) => assemble(o, measures, train));
}

/**
 * `crossValidate` with the folds fitted at the same time on the worker pool: the same result
 * (measures bit for bit, in fold order, same means and stds) except the times.
 * @throws what `crossValidate` throws (validation happens before any fold runs).
 */
export async function crossValidatePooled(
  algo: AlgoSource,
  data: SplitData,
  opts: PooledOptions = {},
): Promise<CrossValidateResult> {
  const [r] = await runPooled([algo], data, opts);
  return r;
}

/**
 * `compareAlgorithms` on the worker pool: every (algorithm, fold) pair is one task, all queued at
 * once, longest first, so the pool stays busy across algorithms. Results in the order given, each
 * the same as `crossValidate` on the same splits (except the times).
 * @throws ParamError for an unknown algorithm or parameter; Error for an empty list or an unknown
 *   measure; the splitter's and the algorithms' errors.
 */
export async function compareAlgorithmsPooled(
  algos: readonly CompareEntry[],
  data: SplitData,
  opts: PooledOptions = {},
): Promise<CrossValidateResult[]> {
  return runPooled(
    algos.map((a) => ({ name: a.name, params: a.params })),
    data,
    opts,
  );
}
