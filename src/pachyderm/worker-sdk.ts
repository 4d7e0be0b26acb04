/**
 * For pipeline programs (workers): where the datum's files are, and Pachyderm's `NextDatum` for
 * datum batching.
 *
 * In real Pachyderm a worker reads its inputs under `/pfs/<input name>/…` and writes its output
 * under `/pfs/out`. The embedded engine gives the same layout under a temporary directory named by
 * the environment variable `REELGRAPH_PFS_ROOT` ({@link pfsRoot} returns it, or `/pfs` when unset,
 * i.e. in a real cluster).
 *
 * With `transform.datumBatching: true`, one process serves many datums: it calls
 * {@link nextDatum} to receive each datum (Pachyderm's `NextDatum`, python-sdk
 * `pachyderm_sdk.batch_all_datums`); the call also reports the previous datum as done. The datums
 * may belong to successive jobs of the pipeline (the embedded engine keeps an idle process
 * waiting in `nextDatum` for the next job for a while): read `PACH_JOB_ID` and the inputs from
 * each datum's `env`, and key anything cached on what it was loaded from. Without
 * batching, the first call returns the process's own datum and the second returns `null`, so one
 * loop serves both modes:
 *
 * ```ts
 * import { nextDatum } from '../src/pachyderm/worker-sdk';
 * for (let d = await nextDatum(); d; d = await nextDatum()) {
 *   // read `${d.pfsRoot}/<input>/…`, write `${d.pfsRoot}/out/…`; d.env has PACH_DATUM_ID etc.
 * }
 * ```
 *
 * Two transports, chosen from the environment:
 * - a Pachyderm worker (a real cluster, or `reelgraph pachd`): `PPS_WORKER_GRPC_PORT` is set and
 *   the process has no datum of its own (`PACH_DATUM_ID` unset): each call is the worker's gRPC
 *   `NextDatum` (worker-grpc.ts); the datum's files are under `/pfs` (or `REELGRAPH_PFS_ROOT`
 *   when the worker's environment names one), and the batch ends when the worker ends it;
 * - the embedded engine (Node's IPC channel, `REELGRAPH_DATUM_BATCHING=true`): the worker sends
 *   `{type:"nextDatum", error?}`, the engine answers `{type:"datum", datumId, env, pfsRoot}` (files
 *   in place, `out` empty) or `{type:"done"}`.
 */

/**
 * The exit code by which a pipeline program says its failure will repeat on a retry (sysexits.h'
 * `EX_CONFIG`, 78: a bad parameter, a refused memory estimate): the embedded engine fails its
 * datum at once, without the `datumTries` retries (embedded/runner.ts).
 */
export const PERMANENT_FAILURE_EXIT_CODE = 78;

/** Name of the variable holding the pfs root in the embedded engine. */
export const PFS_ROOT_ENV = 'REELGRAPH_PFS_ROOT';
/** Name of the variable set to `"true"` in a datum-batching process of the embedded engine. */
export const BATCHING_ENV = 'REELGRAPH_DATUM_BATCHING';
/** The worker's gRPC port (pachyderm `client.PPSWorkerPortEnv`; worker-grpc.ts). */
export const WORKER_PORT_ENV = 'PPS_WORKER_GRPC_PORT';

/** What {@link nextDatum} returns for one datum. */
export interface NextDatum {
  /** The datum id (`PACH_DATUM_ID`). */
  datumId: string;
  /** The datum's environment: PACH_JOB_ID, PACH_DATUM_ID, `<input>`, `<input>_COMMIT`, … */
  env: Record<string, string>;
  /** The directory playing `/pfs`: inputs in `<pfsRoot>/<input name>`, output in `<pfsRoot>/out`. */
  pfsRoot: string;
}

/** The directory playing `/pfs`: `$REELGRAPH_PFS_ROOT`, or `/pfs` in a real Pachyderm worker. */
export function pfsRoot(): string {
  return process.env[PFS_ROOT_ENV] || '/pfs';
}

/** True when this process serves datums through the embedded engine's IPC channel. */
function isIpcBatching(): boolean {
  return process.env[BATCHING_ENV] === 'true' && typeof process.send === 'function';
}

/**
 * True when this process was started by a Pachyderm worker for datum batching: the worker's gRPC
 * port is set and no datum was given to the process itself.
 */
function isGrpcBatching(): boolean {
  // decided once: each datum's environment (PACH_DATUM_ID…) is copied into process.env
  grpcMode ??= !!process.env[WORKER_PORT_ENV] && !process.env.PACH_DATUM_ID && !isIpcBatching();
  return grpcMode;
}
let grpcMode: boolean | undefined;

/** True when this process serves many datums (embedded engine's IPC, or a worker's NextDatum). */
export function isBatching(): boolean {
  return isIpcBatching() || isGrpcBatching();
}

let worker:
  { nextDatum(error?: string): Promise<Record<string, string> | null>; close(): void } | undefined;

/** NextDatum through the worker's gRPC API (loaded only in that mode). */
async function nextDatumGrpc(error: string | undefined): Promise<NextDatum | null> {
  if (!worker) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { WorkerClient } = require('./worker-grpc') as typeof import('./worker-grpc');
    worker = new WorkerClient(Number(process.env[WORKER_PORT_ENV]));
  }
  const env = await worker.nextDatum(error ?? '');
  if (!env) {
    finished = true;
    worker.close();
    return null;
  }
  Object.assign(process.env, env);
  return { datumId: env.PACH_DATUM_ID ?? '', env, pfsRoot: env[PFS_ROOT_ENV] || '/pfs' };
}

let servedSingle = false;
let finished = false;

type Reply =
  | { type: 'datum'; datumId: string; env: Record<string, string>; pfsRoot: string }
  | { type: 'done' };

/**
 * Ask for the next datum, reporting the previous one as done (failed when `opts.error` is set).
 *
 * Batching: the datum's files are in place and its variables are copied into `process.env` before
 * this resolves. Not batching: returns this process's datum once, then `null`.
 *
 * @returns the datum, or `null` when there are no more (the IPC channel is then closed, so the
 *   process can exit).
 */
export async function nextDatum(opts: { error?: string } = {}): Promise<NextDatum | null> {
  if (finished) return null;
  if (isGrpcBatching()) return nextDatumGrpc(opts.error);
  if (!isIpcBatching()) {
    if (servedSingle) {
      finished = true;
      return null;
    }
    servedSingle = true;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return { datumId: env.PACH_DATUM_ID ?? '', env, pfsRoot: pfsRoot() };
  }
  const reply = await new Promise<Reply>((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const r = m as Reply;
      if (r && (r.type === 'datum' || r.type === 'done')) {
        process.off('message', onMessage);
        process.off('disconnect', onDisconnect);
        resolve(r);
      }
    };
    const onDisconnect = () => {
      process.off('message', onMessage);
      reject(new Error('the engine closed the datum channel'));
    };
    process.on('message', onMessage);
    process.once('disconnect', onDisconnect);
    process.send!({ type: 'nextDatum', ...(opts.error ? { error: opts.error } : {}) });
  });
  if (reply.type === 'done') {
    finished = true;
    process.disconnect?.();
    return null;
  }
  Object.assign(process.env, reply.env);
  return { datumId: reply.datumId, env: reply.env, pfsRoot: reply.pfsRoot };
}
