/**
 * Cross-validation and algorithm comparison on all cores: a persistent pool of worker threads
 * (node:worker_threads) that run fold tasks (fold-task.ts), so that the folds of one algorithm,
 * and the folds of several algorithms, fit at the same time.
 *
 * - Size: `REELGRAPH_WORKERS` (a whole number ≥ 1) or else the number of cores
 *   (`os.availableParallelism()`). Threads start on first use and are reused by every later call;
 *   they are unref'd (an idle pool never keeps the process alive); `closeFoldPool()` ends them.
 * - Same results as a sequential run: the splits are drawn in the calling thread exactly as
 *   `crossValidate` draws them; each fold's trainset goes to a worker as its arrays
 *   (`Trainset.state()` with its timestamps), where the algorithm is created from its registry
 *   name and parameters, fitted and measured as `crossValidate` does. The results are put back in
 *   fold order. Measures are therefore the same bits; only the times differ.
 * - What cannot cross a thread runs in the calling thread instead (still correct, just not
 *   parallel): an algorithm given as a factory function or as an instance of an unregistered
 *   class, and trainsets with side information (attribute objects). Worker threads know the
 *   built-in algorithms and the plugins named in REELGRAPH_PLUGINS.
 *
 * Each task copies its trainset and testset to the worker (structured clone): on ml-100k about
 * 3 MB and a few milliseconds per fold.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AlgoBase, AlgorithmClass } from '../algorithms/base';
import { createAlgorithm, getAlgorithm } from '../algorithms/registry';
import { mean } from '../numeric';
import { parseMeasures, type MeasureName } from '../metrics';
import type { Testset } from '../dataset/raw-ratings';
import type { Trainset } from '../trainset';
import { getCv, type SplitData, type Splitter } from './split';
import { fixedSplits } from './search';
import { fitAndMeasure, type FoldOutcome, type FoldTask } from './fold-task';
import {
  algoFactory,
  std,
  type AlgoSource,
  type CrossValidateOptions,
  type CrossValidateResult,
  type FigureName,
} from './validation';
import type { CompareEntry } from './compare';

/** The environment variable that sets the pool size. */
export const WORKERS_ENV = 'REELGRAPH_WORKERS';

/**
 * The pool size: `REELGRAPH_WORKERS` when set, else the number of cores.
 * @throws RangeError naming the variable when it is not a whole number in [1, 256].
 */
export function poolSize(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[WORKERS_ENV];
  if (v === undefined || v === '') return Math.max(1, os.availableParallelism());
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new RangeError(`${WORKERS_ENV} must be a whole number in [1, 256], got '${v}'`);
  }
  return n;
}

type Pending = { resolve: (o: FoldOutcome) => void; reject: (e: Error) => void };

/** One worker thread and the task it runs (at most one at a time). */
interface Slot {
  worker: Worker;
  busy: Pending | null;
}

const EXT = path.extname(__filename);
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.register) require(workerData.register);
const { runFoldTask } = require(workerData.entry);
parentPort.on('message', (task) => {
  let reply;
  try {
    reply = { outcome: runFoldTask(task) };
  } catch (e) {
    reply = { error: { name: e && e.name, message: String(e && e.message || e), stack: e && e.stack } };
  }
  parentPort.postMessage(reply);
});
`;

/**
 * A persistent pool of fold workers. Tasks queue in submission order and each idle worker takes
 * the next one.
 */
export class FoldPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Array<{ task: FoldTask; pending: Pending }> = [];

  /** @param size number of worker threads (≥ 1). */
  constructor(readonly size: number) {}

  private start(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        entry: path.join(__dirname, `fold-task${EXT}`),
        // from TypeScript sources (tests, benches): compile in the worker as in this process
        register: EXT === '.ts' ? path.resolve(__dirname, '../../../scripts/ts-register.js') : null,
      },
    });
    const slot: Slot = { worker, busy: null };
    worker.on(
      'message',
      (m: { outcome?: FoldOutcome; error?: { name: string; message: string; stack?: string } }) => {
        const p = slot.busy!;
        slot.busy = null;
        worker.unref(); // idle again: it must not keep the process alive (pump refs it for a task)
        if (m.error) {
          const e = new Error(m.error.message);
          e.name = m.error.name || 'Error';
          if (m.error.stack) e.stack = m.error.stack;
          p.reject(e);
        } else p.resolve(m.outcome!);
        this.pump();
      },
    );
    worker.on('error', (e) => {
      const p = slot.busy;
      slot.busy = null;
      this.slots.splice(this.slots.indexOf(slot), 1);
      p?.reject(e);
      this.pump();
    });
    // after the listeners: adding a 'message' listener refs the worker's port again
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.start();
      if (!slot) return;
      const { task, pending } = this.queue.shift()!;
      slot.busy = pending;
      slot.worker.ref(); // a running task keeps the process alive until it answers
      slot.worker.postMessage(task);
    }
  }

  /** Runs one fold task on the next idle worker. */
  run(task: FoldTask): Promise<FoldOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, pending: { resolve, reject } });
      this.pump();
    });
  }

  /** Ends every worker thread (tasks still queued are rejected). */
  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) q.pending.reject(new Error('fold pool closed'));
    const all = this.slots.splice(0);
    await Promise.all(all.map((s) => s.worker.terminate()));
  }
}

let shared: FoldPool | null = null;

/** The process's fold pool (created on first use, sized by `poolSize()`). */
export function foldPool(): FoldPool {
  shared ??= new FoldPool(poolSize());
  return shared;
}

/** Ends the process's fold pool, if any; the next call starts a new one. */
export async function closeFoldPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}

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

/** Runs one fold on the pool, or in this thread when it cannot cross (see the module comment). */
async function runFold(
  pool: FoldPool,
  algo: AlgoSource,
  named: { name: string; params: Record<string, unknown> } | null,
  trainset: Trainset,
  testset: Testset,
  measures: MeasureName[],
  returnTrainMeasures: boolean,
): Promise<FoldOutcome> {
  if (!named || trainset.sideInfo) {
    const a = algoFactory(algo)();
    return fitAndMeasure(a, trainset, testset, measures, returnTrainMeasures);
  }
  return pool.run({
    name: named.name,
    params: named.params,
    trainset: { ...trainset.state(), urTimestamps: trainset.urTimestamps },
    testset,
    measures,
    returnTrainMeasures,
  });
}

/** Assembles per-fold outcomes (in fold order) into `crossValidate`'s result. */
function assemble(
  outcomes: FoldOutcome[],
  measures: MeasureName[],
  returnTrainMeasures: boolean,
): CrossValidateResult {
  if (outcomes.length === 0) throw new Error('the splitter yielded no split');
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

/** Options of the pooled runs: `crossValidate`'s measures, cv and train measures. */
export type PooledOptions = Pick<
  CrossValidateOptions,
  'measures' | 'cv' | 'returnTrainMeasures'
> & {
  /** The pool to use. Default: the process's (`foldPool()`). */
  pool?: FoldPool;
};

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
  const [r] = await compareWith([algo], data, opts);
  return r;
}

/**
 * `compareAlgorithms` on the worker pool: every (algorithm, fold) pair is one task, all queued at
 * once, so the pool stays busy across algorithms. Results in the order given, each the same as
 * `crossValidate` on the same splits (except the times).
 * @throws ParamError for an unknown algorithm or parameter; Error for an empty list or an unknown
 *   measure; the splitter's and the algorithms' errors.
 */
export async function compareAlgorithmsPooled(
  algos: readonly CompareEntry[],
  data: SplitData,
  opts: PooledOptions = {},
): Promise<CrossValidateResult[]> {
  if (algos.length === 0) throw new Error('no algorithm to compare');
  return compareWith(
    algos.map((a) => ({ name: a.name, params: a.params })),
    data,
    { ...opts, cv: fixedSplits(getCv(opts.cv), data) },
  );
}

async function compareWith(
  algos: readonly AlgoSource[],
  data: SplitData,
  opts: PooledOptions,
): Promise<CrossValidateResult[]> {
  const measures = parseMeasures(opts.measures ?? ['rmse', 'mae']);
  const named = algos.map(nameAndParams); // validates every algorithm first
  const splitter: Splitter = getCv(opts.cv);
  const pool = opts.pool ?? foldPool();
  const train = opts.returnTrainMeasures ?? false;
  const splits = [...splitter.split(data)];
  const runs = algos.map((algo, k) =>
    Promise.all(
      splits.map(([trainset, testset]) =>
        runFold(pool, algo, named[k], trainset, testset, measures, train),
      ),
    ),
  );
  const outcomes = await Promise.all(runs);
  return outcomes.map((o) => assemble(o, measures, train));
}
