/**
 * `reelgraph pachd [--data-dir DIR] [--host 127.0.0.1] [--port 1650] [--auth]
 * [--finishing-window-ms 50]`: serves the embedded engine
 * of a data directory over Pachyderm 2.x's gRPC protocol (`pfs_v2.API`, the `pps_v2.API` subset,
 * `versionpb_v2.API/GetVersion`, `grpc.health.v1.Health/Check`; src/pachyderm/grpc/server.ts), a
 * pachd stand-in for local clusters-in-a-box and tests. Jobs run in this process, as with
 * `reelgraph serve`. `REELGRAPH_PACHD_TOKEN`, when set, is required from every caller as metadata
 * `authn-token`; `--auth` instead turns on Pachyderm auth as a 2.12 pachd has it by default (root
 * token `REELGRAPH_PACHD_ROOT_TOKEN`, robot tokens, role checks; grpc/auth.ts). Like a real pachd,
 * a finished commit stays FINISHING for `--finishing-window-ms` (default 50). The bound address is printed on stderr (`--port 0` picks a free port);
 * SIGTERM/SIGINT stop it gracefully (open streams cancelled, calls in flight finished, engine
 * closed, exit code 0). SIGUSR2 writes its memory (RSS, V8 heap in use after a full GC when Node
 * runs with `--expose-gc`) as one line to stderr (src/cli/pachd-memory.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { StandInAuth } from '../../pachyderm/grpc/auth';
import { DEFAULT_PACHD_PORT, startPachdServer } from '../../pachyderm/grpc/server';
import { openEmbeddedEngine } from '../../services/bootstrap';
import { UsageError } from '../errors';
import { MEMORY_SIGNAL, reportMemoryOnSignal } from '../pachd-memory';
import { DEFAULT_DATA_DIR, resolveDataDir, type DataDirOptions } from '../pach-options';

/** The options of `reelgraph pachd`. */
export interface PachdOptions extends Pick<DataDirOptions, 'dataDir'> {
  host: string;
  port: string;
  auth?: boolean;
  finishingWindowMs: string;
}

/** The default finishing window of `reelgraph pachd`, in ms (see `--finishing-window-ms`). */
export const DEFAULT_FINISHING_WINDOW_MS = 50;

/**
 * Parses `--port`: a whole number 0–65535.
 * @throws UsageError naming the value
 */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) {
    throw new UsageError(`--port ${JSON.stringify(value)} is invalid: expected 0-65535`);
  }
  return Number(value);
}

/** Build the `pachd` command; `io.stderr` receives the banner (default: the process's). */
export function pachdCommand(io: { stderr: NodeJS.WritableStream } = process): Command {
  return new Command('pachd')
    .description(
      "Serve the embedded engine over Pachyderm's gRPC API as a 2.12 pachd does (a pachd stand-in): pfs_v2, pps_v2, versionpb_v2 GetVersion, grpc.health.v1 Check, auth_v2 with --auth, the worker's NextDatum for datum batching. Point reelgraph at it with REELGRAPH_PACHD_ADDRESS.",
    )
    .option(
      '--data-dir <dir>',
      `the embedded engine's data directory (default: $REELGRAPH_DATA_DIR or ${DEFAULT_DATA_DIR})`,
    )
    .option('--host <host>', 'interface to bind (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <port>', 'TCP port, 0 for any free port', String(DEFAULT_PACHD_PORT))
    .option(
      '--auth',
      'Pachyderm auth as a 2.12 pachd with auth on: the root token is $REELGRAPH_PACHD_ROOT_TOKEN (16+ characters); robot tokens and role bindings are kept in DATA_DIR/auth.json',
    )
    .option(
      '--finishing-window-ms <ms>',
      'how long a finished commit stays FINISHING (writes refused) before FINISHED, as on a real pachd; 0 = at once',
      String(DEFAULT_FINISHING_WINDOW_MS),
    )
    .addHelpText(
      'after',
      `
Signals:
  SIGTERM, SIGINT  stop gracefully (open streams cancelled, calls in flight finished)
  ${MEMORY_SIGNAL}          write one line to stderr: "reelgraph pachd: memory gc=yes rss=… heapUsed=…
                   heapTotal=… external=… arrayBuffers=… rssAnon=… rssFile=… rssShmem=…" (MiB;
                   the heap after a full GC when Node runs with --expose-gc, e.g.
                   NODE_OPTIONS=--expose-gc; gc=no otherwise)`,
    )
    .action(async (opts: PachdOptions) => {
      const port = parsePort(opts.port);
      if (!/^\d{1,6}$/.test(opts.finishingWindowMs.trim()))
        throw new UsageError(
          `--finishing-window-ms ${JSON.stringify(opts.finishingWindowMs)} is invalid: expected 0-999999 ms`,
        );
      const finishingWindowMs = Number(opts.finishingWindowMs);
      const rootToken = process.env.REELGRAPH_PACHD_ROOT_TOKEN?.trim() ?? '';
      if (opts.auth && rootToken.length < 16)
        throw new UsageError(
          '--auth needs the root token in REELGRAPH_PACHD_ROOT_TOKEN (at least 16 characters)',
        );
      const host = opts.host.trim();
      if (!host) throw new UsageError('--host must not be empty');
      const dataDir = resolveDataDir(opts);
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      // as a cluster: datum batching through the worker's gRPC NextDatum (PPS_WORKER_GRPC_PORT)
      const engine = await openEmbeddedEngine(dataDir, {
        finishingWindowMs,
        pps: { batchTransport: 'grpc' },
      });
      const auth = opts.auth
        ? new StandInAuth({ rootToken, stateFile: path.join(dataDir, 'auth.json') })
        : undefined;
      const token = auth ? undefined : process.env.REELGRAPH_PACHD_TOKEN?.trim() || undefined;
      let server;
      try {
        server = await startPachdServer(engine, { host, port, token, auth });
      } catch (e) {
        await engine.close();
        throw e;
      }
      // every signal handler before the banner: whoever reads it may signal at once
      const stopReporting = reportMemoryOnSignal(io.stderr);
      const running = server;
      const stopped = new Promise<void>((resolve, reject) => {
        let signalled = false;
        const onSignal = () => {
          if (signalled) process.exit(1); // a second signal: stop now
          signalled = true;
          running
            .close()
            .then(() => engine.close())
            .then(() => {
              process.off('SIGTERM', onSignal);
              process.off('SIGINT', onSignal);
              stopReporting();
              io.stderr.write('reelgraph pachd: stopped\n');
              resolve();
            }, reject);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      io.stderr.write(
        `reelgraph pachd: serving pachd's gRPC API on ${server.address} (data: ${dataDir}${token ? ', authn-token required' : ''}${auth ? ', auth on' : ''})\n` +
          `  use it with REELGRAPH_PACHD_ADDRESS=grpc://${server.address}\n`,
      );
      await stopped;
    });
}
