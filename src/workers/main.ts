/**
 * The pipeline programs' entry point: `reelgraph worker train` and `reelgraph worker predict`.
 *
 * `bin/reelgraph` sends `worker …` straight here (a lean start: the engine and the worker SDK
 * only, no CLI framework), and `src/cli/commands/worker.ts` calls {@link runWorker} too, so both
 * paths run the same code. It serves datums with {@link nextDatum}: one datum per process, or,
 * with `transform.datumBatching`, every datum of a job in one process (the predict model is then
 * loaded once).
 *
 * Datum outcome: a datum that fails (bad configuration, malformed training data, missing model…)
 * prints `error: <message>` on stderr (its logs) and is reported failed — the process exits 1
 * without batching, or tells the engine through `nextDatum({error})` with batching and goes on
 * with the next datum. Exit codes: 0 every datum succeeded, 1 a datum failed, 78 a datum failed
 * in a way a retry would repeat (a bad parameter, a refused memory estimate: the engine then does
 * not retry it), 2 usage error.
 */
import * as path from 'node:path';
import { loadAlgorithmPlugins, pluginsFromEnv } from '../engine/algorithms/plugins';
import { ParamError } from '../engine/params';
import { SimilarityBudgetError } from '../engine/similarities';
import { isBatching, nextDatum, PERMANENT_FAILURE_EXIT_CODE } from '../pachyderm/worker-sdk';
import type * as PredictModule from './predict';
import type * as TrainModule from './train';
import type * as RankerModule from './train-ranker';

/** A failure that a retry would repeat: a bad parameter, a refused memory estimate. */
function isPermanent(e: unknown): boolean {
  return e instanceof ParamError || e instanceof SimilarityBudgetError;
}

/** The worker programs by name. */
export const WORKERS = ['train', 'predict'] as const;
/** One of {@link WORKERS}. */
export type WorkerName = (typeof WORKERS)[number];

/** Where a worker's log lines go (the datum's logs in Pachyderm). */
export interface WorkerIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

/** Runs one datum of worker `name` in the layout rooted at `pfsRoot`. @throws on failure. */
function runDatum(name: WorkerName, pfsRoot: string, env: NodeJS.ProcessEnv, io: WorkerIo): void {
  const log = (line: string) => io.stdout.write(line + '\n');
  // each program loads only its own modules: a predict process starts faster without the
  // training code (split, metrics, file merging)
  if (name === 'train') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { trainConfigFromEnv, trainModel } = require('./train') as typeof TrainModule;
    const config = trainConfigFromEnv(env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { rankerConfigFromEnv, trainRanker } = require('./train-ranker') as typeof RankerModule;
    const ranker = rankerConfigFromEnv(env, config.seed); // checked before any fit
    const trained = trainModel(
      path.join(pfsRoot, 'training'),
      path.join(pfsRoot, 'out'),
      config,
      env.training_COMMIT || null,
      log,
    );
    // no rating yet (--dataset none): no model, no ranker
    if (ranker && trained) trainRanker(trained.trainset, path.join(pfsRoot, 'out'), ranker, log);
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { predictDatum } = require('./predict') as typeof PredictModule;
    predictDatum(pfsRoot, env, log);
  }
}

/**
 * Serves every datum this process is given (see the module documentation).
 * @returns the exit code: 0 when every datum succeeded, 1 when one failed, 2 for an unknown worker.
 */
export async function runWorker(name: string, io: WorkerIo = process): Promise<number> {
  if (!(WORKERS as readonly string[]).includes(name)) {
    io.stderr.write(`error: unknown worker '${name}'; expected one of: ${WORKERS.join(', ')}\n`);
    return 2;
  }
  let failed = false;
  let permanent = false;
  let error: string | undefined;
  try {
    loadAlgorithmPlugins(pluginsFromEnv());
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  for (let d = await nextDatum(); d; d = await nextDatum(error ? { error } : {})) {
    error = undefined;
    try {
      runDatum(name as WorkerName, d.pfsRoot, { ...process.env, ...d.env }, io);
    } catch (e) {
      error = (e as Error).message.replace(/\s*\n\s*/g, ' ');
      permanent ||= isPermanent(e);
      io.stderr.write(`error: ${error}\n`);
      if (process.env.REELGRAPH_DEBUG && (e as Error).stack)
        io.stderr.write(`${(e as Error).stack}\n`);
      failed = true;
      if (!isBatching()) break;
    }
  }
  if (failed && !isBatching()) return permanent ? PERMANENT_FAILURE_EXIT_CODE : 1;
  return 0;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] !== 'worker' || args.length !== 2) {
    process.stderr.write(`usage: reelgraph worker <${WORKERS.join('|')}>\n`);
    process.exitCode = 2;
  } else {
    void runWorker(args[1]).then((code) => {
      process.exitCode = code;
    });
  }
}
