/**
 * Starting and stopping the whole API process: the embedded engine on the data directory (first
 * start: the idempotent bootstrap of `reelgraph init` — repos, MovieLens 100K, pipelines, first
 * model), the services, the schema, the server; and the graceful stop on SIGTERM/SIGINT
 * (readiness 503, WebSockets closed with 1001, requests in flight finished, services stopped,
 * engine closed, exit code 0). Used by `npm start` (src/main.ts) and `reelgraph serve`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { DB_FILE, EmbeddedPachyderm } from '../pachyderm/embedded';
import type { StorageStatus } from '../pachyderm/embedded/storage';
import type { Pachyderm } from '../pachyderm/port';
import { buildSchema } from '../resolvers/schema';
import { createServices, type Services } from '../services';
import { bootstrap, openEngine } from '../services/bootstrap';
import { baseUrl, createServer, type RunningServer } from './app';
import type { ServerConfig } from './config';
import { createLogger, type Logger } from './logging';
import { ServerMetrics } from './metrics';
import { listenWhileStarting } from './starting';

/** A running API process. */
export interface ApiProcess {
  server: RunningServer;
  services: Services;
  pach: Pachyderm;
  schema: GraphQLSchema;
  logger: Logger;
  /** Graceful stop: server (drain), services, engine; idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startApi}. */
export interface StartOptions {
  logger?: Logger;
  /** Progress lines of the first start and the URL banner (default: stderr). */
  print?: (line: string) => void;
}

/** True when `dir` does not exist or holds no engine database. */
export function isEmptyDataDir(dir: string): boolean {
  return !fs.existsSync(path.join(dir, DB_FILE));
}

/** The storage status of an embedded engine, for /readyz (undefined for a remote pachd). */
function storageOf(pach: Pachyderm): (() => StorageStatus) | undefined {
  return pach instanceof EmbeddedPachyderm ? () => pach.storage.status() : undefined;
}

/** The human-readable banner with the server's URLs. */
export function urlBanner(server: RunningServer): string[] {
  return [
    `reelgraph API listening on ${server.url}`,
    `  console     ${server.url}/`,
    `  GraphQL     ${server.graphqlUrl}  (WebSocket ${server.wsUrl})`,
    `  Playground  ${server.url}/playground`,
    `  GraphiQL    ${server.url}/graphiql`,
    `  REST        POST ${server.url}/train  /predict  /result`,
    `  health      ${server.url}/healthz  ${server.url}/readyz`,
    `  metrics     ${server.url}/metrics  (Prometheus)`,
  ];
}

/**
 * Binds the HTTP port at once (answering /healthz 200 and /readyz 503 while starting, see
 * starting.ts), opens the engine on `config.dataDir` (created with mode 0700 if missing),
 * bootstraps it when it is empty (waiting for the first model) or completes an interrupted
 * bootstrap, then starts the services and the server on the same port.
 * @throws the listen error (EADDRINUSE…) before anything else is touched; then the errors of the
 *   parts: the engine's lock (another process writes the directory), MovieLens 100K not found, a
 *   failed first train job (the port is released)
 */
export async function startApi(config: ServerConfig, opts: StartOptions = {}): Promise<ApiProcess> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const print = opts.print ?? ((line: string) => process.stderr.write(line + '\n'));
  // the port first: probes get answers while the engine opens and the first start bootstraps,
  // and a port already in use fails the start before anything else is touched
  const starting = await listenWhileStarting(config.host, config.port);
  let services: Services | undefined;
  let pach: Pachyderm | undefined;
  try {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // a pachd address: the gRPC adapter (the cluster keeps the data); else the data directory
    const remote = config.pachd !== undefined;
    const empty = !remote && isEmptyDataDir(config.dataDir);
    pach = await openEngine({
      dataDir: config.dataDir,
      pachdAddress: config.pachd?.address,
      pachdToken: config.pachd?.token,
      pachdCaFile: config.pachd?.caFile,
    });
    if (empty) {
      print(
        `first start: initialising ${config.dataDir} (${config.dataset ?? 'ml-100k'}, pipelines, first model)`,
      );
      print(
        `  meanwhile ${baseUrl(config.host, starting.port)}/healthz answers 200 and /readyz 503`,
      );
    }
    starting.setStep('bootstrapping the data directory');
    const boot = await bootstrap(pach, {
      dataset: config.dataset,
      ratingScale: config.ratingScale,
      waitForModel: empty || remote,
      log: (line) => {
        print(`  ${line}`);
        starting.setStep(line);
        logger.info({ step: line }, 'bootstrap');
      },
    });
    if (boot.model) {
      print(`  first model: train@${boot.model.commit} (${boot.model.metrics.algorithm})`);
    }
    starting.setStep('loading the serving model');
    const metrics = new ServerMetrics();
    // the services' commits are timed (reelgraph_engine_commit_duration_seconds)
    services = await createServices(metrics.instrumentEngine(pach), {
      maxItems: config.limits.maxItems,
    });
    const schema = await buildSchema();
    const server = await createServer({
      schema,
      services,
      config: { ...config, port: starting.port },
      logger,
      httpServer: starting.handOver(),
      metrics,
      storage: storageOf(pach),
    });
    logger.info(
      {
        url: server.url,
        graphql: server.graphqlUrl,
        ws: server.wsUrl,
        dataDir: config.dataDir,
        auth: config.tokens.length > 0 || config.tokensFile !== undefined,
      },
      'listening',
    );
    for (const line of urlBanner(server)) print(line);
    let stopping: Promise<void> | undefined;
    const svc = services;
    const engine = pach;
    return {
      server,
      services: svc,
      pach: engine,
      schema,
      logger,
      stop() {
        stopping ??= (async () => {
          logger.info('shutting down: draining connections');
          await server.close();
          await svc.close();
          await engine.close();
          logger.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    await starting.close();
    await services?.close().catch(() => undefined);
    await pach?.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Runs the API until SIGTERM or SIGINT, then stops gracefully. A second signal during the stop
 * exits at once with code 1. SIGHUP re-reads the API token file.
 * @returns when stopped (the caller then exits with code 0)
 */
export async function serveUntilSignal(
  config: ServerConfig,
  opts: StartOptions = {},
): Promise<void> {
  const api = await startApi(config, opts);
  await new Promise<void>((resolve, reject) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        api.logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      api.logger.info({ signal }, 'signal received');
      api.stop().then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGHUP', onHangup);
        resolve();
      }, reject);
    };
    // SIGHUP: re-read the API token file (removed tokens refused, their WebSockets closed)
    const onHangup = () => {
      const ok = api.server.reloadTokens();
      api.logger.info({ signal: 'SIGHUP', reloaded: ok }, 'signal received');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onHangup);
  });
}
