/**
 * The fold pool: a persistent pool of worker threads (node:worker_threads) that run the fold
 * tasks of fold-task.ts, so that the folds of one algorithm, and the folds of several algorithms
 * or grid candidates, fit at the same time. What runs on it, and how results stay identical to a
 * sequential run, is in pooled.ts.
 *
 * - Size: `REELGRAPH_WORKERS` (a whole number in [1, 256]) or else the number of cores
 *   (`os.availableParallelism()`). Threads start on first use and are reused by every later call;
 *   they are unref'd (an idle pool never keeps the process alive); `closeFoldPool()` ends them.
 * - Data once per worker: a task may name data sets it needs (`DataMessage`s: ratings as typed
 *   arrays on shared memory). A worker is sent each one before its first task that needs it, and
 *   never again until `release` makes it forget them, so a task itself carries only positions,
 *   the algorithm's name and parameters.
 * - Tasks run in submission order (the caller orders them: longest first), each on the next
 *   idle worker.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FoldOutcome, PoolMessage } from './fold-task';

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

/** A data set as a worker is sent it (fold-task.ts's `data` message). */
export type DataMessage = Extract<PoolMessage, { kind: 'data' }>;

/** A task message (answered with a `FoldOutcome`). */
export type TaskMessage = Extract<PoolMessage, { kind: 'split' | 'fold' }>;

/** One worker thread, the task it runs (at most one at a time) and the data sets it holds. */
interface Slot {
  worker: Worker;
  busy: Pending | null;
  has: Set<number>;
}

const EXT = path.extname(__filename);
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.register) require(workerData.register);
const { handlePoolMessage } = require(workerData.entry);
parentPort.on('message', (m) => {
  let reply;
  try {
    const outcome = handlePoolMessage(m);
    if (outcome === null) return; // data and drop messages are not answered
    reply = { outcome };
  } catch (e) {
    reply = { error: { name: e && e.name, message: String(e && e.message || e), stack: e && e.stack } };
  }
  const moved = reply.outcome && reply.outcome.estimates
    ? [reply.outcome.estimates.buffer, reply.outcome.impossible.buffer] : [];
  parentPort.postMessage(reply, moved);
});
`;

/**
 * A persistent pool of fold workers. Tasks queue in submission order and each idle worker takes
 * the next one.
 */
export class FoldPool {
  private readonly slots: Slot[] = [];
  /** Number of data-set messages posted to workers so far (each worker gets a data set once). */
  dataSent = 0;
  private readonly queue: Array<{ task: TaskMessage; needs: DataMessage[]; pending: Pending }> = [];

  /** @param size number of worker threads (≥ 1). */
  constructor(readonly size: number) {}

  private start(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // this thread's environment as it is now (REELGRAPH_PLUGINS names the plugins to load)
      env: { ...process.env },
      workerData: {
        entry: path.join(__dirname, `fold-task${EXT}`),
        // from TypeScript sources (tests, benches): compile in the worker as in this process
        register: EXT === '.ts' ? path.resolve(__dirname, '../../../scripts/ts-register.js') : null,
      },
    });
    const slot: Slot = { worker, busy: null, has: new Set() };
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
    // A worker that fails or ends (an uncaught error, process.exit in a plugin, running out of
    // memory) rejects its task and leaves the pool; the next task starts a new one.
    const leave = (e: Error) => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return; // already gone (closed, or 'error' then 'exit')
      this.slots.splice(at, 1);
      const p = slot.busy;
      slot.busy = null;
      p?.reject(e);
      this.pump();
    };
    worker.on('error', leave);
    worker.on('exit', (code) =>
      leave(new Error(`a fold worker exited (code ${code}) before answering its task`)),
    );
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
      const { task, needs, pending } = this.queue.shift()!;
      slot.busy = pending;
      slot.worker.ref(); // a running task keeps the process alive until it answers
      for (const d of needs) {
        if (slot.has.has(d.id)) continue;
        slot.worker.postMessage(d); // typed arrays on shared memory: not copied
        slot.has.add(d.id);
        this.dataSent++;
      }
      slot.worker.postMessage(task);
    }
  }

  /**
   * Runs one task on the next idle worker, first sending it the data sets in `needs` it does not
   * hold yet.
   * @returns the task's outcome. @throws (rejects with) the task's error, or when the pool closes.
   */
  run(task: TaskMessage, needs: DataMessage[] = []): Promise<FoldOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task, needs, pending: { resolve, reject } });
      this.pump();
    });
  }

  /** Makes every worker forget the data sets `ids` and the folds built from them. */
  release(ids: readonly number[]): void {
    for (const slot of this.slots) {
      const held = ids.filter((id) => slot.has.has(id));
      if (held.length === 0) continue;
      for (const id of held) slot.has.delete(id);
      slot.worker.postMessage({ kind: 'drop', ids: held } satisfies PoolMessage);
    }
  }

  /** Number of worker threads started so far (≤ size). */
  get started(): number {
    return this.slots.length;
  }

  /** Ends every worker thread (tasks still queued are rejected). */
  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) q.pending.reject(new Error('fold pool closed'));
    const all = this.slots.splice(0);
    for (const s of all) s.busy?.reject(new Error('fold pool closed'));
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
