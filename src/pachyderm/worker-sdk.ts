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
 * Protocol (embedded engine, Node's IPC channel): the worker sends `{type:"nextDatum", error?}`,
 * the engine answers `{type:"datum", datumId, env, pfsRoot}` (files in place, `out` empty) or
 * `{type:"done"}`. In a real Pachyderm cluster batching goes through the worker's gRPC API, which
 * this module does not speak: {@link isBatching} is then false.
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

/** True when this process was started by the embedded engine for datum batching. */
export function isBatching(): boolean {
  return process.env[BATCHING_ENV] === 'true' && typeof process.send === 'function';
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
  if (!isBatching()) {
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
