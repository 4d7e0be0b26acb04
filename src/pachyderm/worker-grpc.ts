/**
 * Pachyderm's worker API for datum batching, `pachyderm.worker.Worker/NextDatum` (2.12
 * src/worker/worker.proto, src/server/worker/pipeline/transform/worker.go
 * `handleDatumSetBatching`), both sides:
 *
 * - the worker's server ({@link startWorkerServer}), which the embedded engine runs for a
 *   datum-batching process when it plays a real cluster (`reelgraph pachd`);
 * - the user code's client ({@link WorkerClient}), used by worker-sdk.ts.
 *
 * Protocol, as a Pachyderm worker runs it: the user process is started without a datum, with
 * `PPS_WORKER_GRPC_PORT` set (the worker's gRPC port on 127.0.0.1). It calls NextDatum{error: ""};
 * the call returns when the worker has laid out the next datum under /pfs, with that datum's
 * environment (`env`: "NAME=value" strings: PACH_DATUM_ID, `<input>`, `<input>_COMMIT`…). After
 * the datum, it calls NextDatum again with `error` = "" (success) or the failure's text, which
 * reports that datum and asks for the next one. There is no "no more datums" answer: when the
 * datum set is done the worker ends the process (pachd cancels it; the stand-in closes its
 * server, so a waiting NextDatum fails, which the client reports as the end).
 */
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The variable holding the worker's gRPC port (pachyderm `client.PPSWorkerPortEnv`). */
export const WORKER_PORT_ENV = 'PPS_WORKER_GRPC_PORT';

let ctor: grpc.ServiceClientConstructor | undefined;

/** The `pachyderm.worker.Worker` service, loaded from proto/worker.proto (once). */
function workerService(): grpc.ServiceClientConstructor {
  if (ctor) return ctor;
  const candidates = [
    process.env.REELGRAPH_PROTO_DIR,
    path.join(__dirname, 'grpc', 'proto'),
    path.resolve(__dirname, '../../src/pachyderm/grpc/proto'),
  ].filter((d): d is string => !!d);
  let lastError: unknown;
  for (const dir of candidates) {
    try {
      const def = protoLoader.loadSync(path.join(dir, 'worker.proto'), {
        keepCase: true,
        defaults: true,
        arrays: true,
      });
      const pkg = grpc.loadPackageDefinition(def) as unknown as {
        pachyderm: { worker: { Worker: grpc.ServiceClientConstructor } };
      };
      ctor = pkg.pachyderm.worker.Worker;
      return ctor;
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(
    `worker.proto not found in ${candidates.join(', ')}: ${(lastError as Error)?.message}`,
  );
}

/** A running worker server; see {@link startWorkerServer}. */
export interface WorkerServer {
  /** The bound port on 127.0.0.1 (the user process's `PPS_WORKER_GRPC_PORT`). */
  readonly port: number;
  /** Stops the server; a NextDatum still waiting fails (CANCELLED), which ends the user code. */
  close(): void;
}

/**
 * Serves NextDatum on 127.0.0.1 (port 0: any free port). Each call hands its `error` to
 * `onNextDatum`, whose answer is the next datum's environment; `null` keeps the call waiting until
 * {@link WorkerServer.close} (the user process is then ended, as by a Pachyderm worker).
 */
export async function startWorkerServer(
  onNextDatum: (error: string) => Promise<Record<string, string> | null>,
): Promise<WorkerServer> {
  const server = new grpc.Server();
  server.addService(workerService().service, {
    NextDatum: (
      call: grpc.ServerUnaryCall<{ error: string }, { env: string[] }>,
      cb: grpc.sendUnaryData<{ env: string[] }>,
    ) => {
      onNextDatum(call.request.error ?? '').then(
        (env) => {
          if (env) cb(null, { env: Object.entries(env).map(([k, v]) => `${k}=${v}`) });
        },
        (e: unknown) =>
          cb({ code: grpc.status.INTERNAL, details: (e as Error)?.message ?? String(e) }),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, close: () => server.forceShutdown() };
}

/** The user code's side of NextDatum (see the module documentation). */
export class WorkerClient {
  private readonly client: grpc.Client & {
    NextDatum: (
      r: { error: string },
      cb: (e: grpc.ServiceError | null, r: { env: string[] }) => void,
    ) => void;
  };
  private calls = 0;

  /** @param port the worker's gRPC port on 127.0.0.1 (`PPS_WORKER_GRPC_PORT`) */
  constructor(readonly port: number) {
    const Worker = workerService();
    this.client = new Worker(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof this.client;
  }

  /**
   * Reports the previous datum (`error` = "" when it succeeded) and waits for the next one.
   * @returns the next datum's environment, or null when the worker has gone (the datum set is
   *   done and the worker ended the batch)
   * @throws Error naming the port when the very first call cannot reach the worker
   */
  nextDatum(error = ''): Promise<Record<string, string> | null> {
    const first = this.calls++ === 0;
    return new Promise((resolve, reject) =>
      this.client.NextDatum({ error }, (e, r) => {
        if (e) {
          // the worker ended the batch (closed, or cancelled the waiting call)
          if (e.code === grpc.status.CANCELLED || (!first && e.code === grpc.status.UNAVAILABLE))
            return resolve(null);
          return reject(
            new Error(`NextDatum on the worker at 127.0.0.1:${this.port} failed: ${e.details}`),
          );
        }
        const env: Record<string, string> = {};
        for (const kv of r.env ?? []) {
          const i = kv.indexOf('=');
          if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
        }
        resolve(env);
      }),
    );
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}
