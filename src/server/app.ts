/**
 * The API server: one HTTP server (express 5) carrying
 * - `POST|GET /graphql`: GraphQL over HTTP (@apollo/server 5 through @as-integrations/express5;
 *   `express.json({limit})` runs first, CSRF prevention on, batching off, no landing page);
 * - WebSocket upgrades on `/graphql`: graphql-ws and the legacy protocol (ws.ts);
 * - the Flask-era REST routes `/train`, `/predict`, `/result` (rest.ts);
 * - `/playground` and `/graphiql` from local files (ide.ts);
 * - the web console at `/` and `/assets/*` (console.ts);
 * - `/healthz`, `/readyz` (health.ts);
 * - `/metrics` in the Prometheus text format (metrics.ts);
 * - a browser's `GET /graphql`: a page linking the tools (landing.ts);
 * - `GET /models/<version>/model.rgm`: a model version's file (model-download.ts);
 * with the limits of config.ts on every transport (limits.ts), bearer tokens (auth.ts) and one
 * JSON log line per request (logging.ts).
 *
 * Shutdown ({@link RunningServer.close}): readiness turns 503, every WebSocket gets a close frame
 * (1001) synchronously, new connections are refused, requests in flight finish (connections
 * still busy after `drainTimeoutMs` are cut), then the WebSocket servers close. The services and
 * the engine are NOT closed here: their owner (main.ts) closes them afterwards.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { StorageStatus } from '../pachyderm/embedded/storage';
import type { Services } from '../services';
import { type AuthState, Authenticator } from './auth';
import { readTokenFile, TokenFileWatcher } from './token-file';
import type { ServerConfig } from './config';
import { healthRouter } from './health';
import { consoleRouter } from './console';
import { ideRouter } from './ide';
import { landingRouter } from './landing';
import { METRICS_CONTENT_TYPE, ServerMetrics } from './metrics';
import { Gate } from './gate';
import { graphqlFastPath, httpSubscriptionPlugin } from './graphql-http';
import { depthRule, limitsPlugin } from './limits';
import { createLogger, type Logger, requestLogging, tokenNames } from './logging';
import { depthVerifier, queryParamDepth } from './json-limits-express';
import { restError, restRouter } from './rest';
import { modelDownloadRouter } from './model-download';
import { answerWhileStarting } from './starting';
import { attachWebSockets, type WebSocketGateway } from './ws';

/** The GraphQL endpoint's path (HTTP and WebSocket). */
export const GRAPHQL_PATH = '/graphql';

/** The context of every GraphQL operation, on every transport. */
export interface AppContext {
  /** The process's services (what the resolvers use). */
  services: Services;
  /** The caller's authentication. */
  auth: AuthState;
  /** The request id (HTTP request or WebSocket connection). */
  requestId: string;
  /** A logger bound to the request id. */
  log: Logger;
}

/** Options of {@link createServer}. */
export interface CreateServerOptions {
  /** The executable schema (buildSchema() from src/resolvers). */
  schema: GraphQLSchema;
  /** The services the resolvers and the REST routes call. */
  services: Services;
  /** Host, port, tokens and limits (config.ts `loadConfig`). */
  config: Pick<ServerConfig, 'host' | 'port' | 'tokens' | 'limits' | 'tokensFile'>;
  /** Default: a pino logger at `info` on stdout. */
  logger?: Logger;
  /** How long in-flight HTTP requests may take to finish on shutdown, ms (default 10 000). */
  drainTimeoutMs?: number;
  /** WebSocket keep-alive interval, ms (default 12 000). */
  keepAliveMs?: number;
  /** The data directory's storage, reported by /readyz (embedded engine only; health.ts). */
  storage?: () => StorageStatus | undefined;
  /** The token file's stat fallback interval, ms (token-file.ts; default 2 000). */
  tokenFilePollMs?: number;
  /**
   * Run operations with costly introspection one at a time (limits.ts `COSTLY_INTROSPECTION`),
   * default true; false only for the reference measurement of
   * bench/introspection-health.bench.ts.
   */
  gateCostlyIntrospection?: boolean;
  /**
   * An HTTP server already listening (the one that answered while the process was starting,
   * starting.ts) to serve on instead of binding `config.host:config.port`; it must have no
   * `request` or `upgrade` listener left.
   */
  httpServer?: http.Server;
  /**
   * The metrics `/metrics` exposes; pass the one whose `instrumentEngine` wrapped the services'
   * engine (start.ts) to get the engine commit latencies. Default: a new one.
   */
  metrics?: ServerMetrics;
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port` (IPv6 hosts in brackets). */
  url: string;
  /** `http://host:port/graphql`. */
  graphqlUrl: string;
  /** `ws://host:port/graphql`. */
  wsUrl: string;
  /** The bound port (useful with port 0). */
  port: number;
  httpServer: http.Server;
  /** The WebSocket servers (open connection count, close). */
  websockets: WebSocketGateway;
  /** The metrics of `/metrics`. */
  metrics: ServerMetrics;
  /**
   * Re-reads the token file now (SIGHUP; start.ts): removed tokens are refused from then on and
   * their WebSockets closed with 4403.
   * @returns false when no token file is configured or it could not be read (the last good set
   *   stays)
   */
  reloadTokens(): boolean;
  /** Graceful shutdown (see the module documentation); idempotent. */
  close(): Promise<void>;
}

/**
 * The {@link AppContext} of one HTTP request. `log` is a getter on the prototype: the request's
 * child logger is made only when a resolver logs, and Apollo's copy of the context (an
 * `Object.assign` onto the same prototype) neither calls it nor loses it.
 */
class RequestContext implements AppContext {
  readonly requestId: string;
  constructor(
    readonly services: Services,
    readonly auth: AuthState,
    private readonly ids: { id: string; log: Logger },
  ) {
    this.requestId = ids.id;
  }
  get log(): Logger {
    return this.ids.log;
  }
}

/**
 * The base URL clients use for a server bound to `host:port`: `http://host:port`, with a wildcard
 * host shown as the loopback address and IPv6 hosts in brackets.
 */
export function baseUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/**
 * Builds the app and starts listening on `config.host:config.port` (or serves on
 * `opts.httpServer`, already listening).
 * @throws the listen error (e.g. EADDRINUSE) after releasing what was started
 */
export async function createServer(opts: CreateServerOptions): Promise<RunningServer> {
  const { schema, services, config } = opts;
  const limits = config.limits;
  const logger = opts.logger ?? createLogger('info');
  // tokens: the inline ones, plus the token file's (names, expiry), re-read on change
  const fileEntries = config.tokensFile ? readTokenFile(config.tokensFile) : [];
  const inline = config.tokens.filter((t) => !fileEntries.some((e) => e.token === t));
  const authenticator = new Authenticator([...inline, ...fileEntries], {
    required: config.tokensFile !== undefined,
  });
  const tokenFile = config.tokensFile
    ? new TokenFileWatcher({
        file: config.tokensFile,
        pollMs: opts.tokenFilePollMs,
        onChange: (entries) => {
          authenticator.setTokens([...inline, ...entries]);
          logger.info(
            { file: config.tokensFile, tokens: entries.map((e) => e.name) },
            'API tokens reloaded',
          );
        },
        onError: (err) =>
          logger.error({ err: err.message }, 'API token file not reloaded: keeping the last set'),
      })
    : undefined;
  // operations with costly introspection, one at a time (limits.ts)
  const gate = opts.gateCostlyIntrospection === false ? undefined : new Gate(1);
  let draining = false;
  const metrics = opts.metrics ?? new ServerMetrics();

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('etag', false);
  // POST /graphql with JSON takes the fast path (graphql-http.ts), everything else express
  let fastPath: (req: http.IncomingMessage, res: http.ServerResponse) => boolean = () => false;
  const httpServer = opts.httpServer ?? http.createServer();
  let started = false; // until Apollo has started, requests get the starting answers
  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!started) return answerWhileStarting(req, res, 'starting the GraphQL server');
    metrics.observeHttp(req, res);
    if (!fastPath(req, res)) app(req, res);
  });

  const websockets = attachWebSockets<AppContext>({
    httpServer,
    schema,
    path: GRAPHQL_PATH,
    limits,
    authenticator,
    logger,
    keepAliveMs: opts.keepAliveMs,
    gate,
    startClosed: true, // opened with the HTTP routes, once Apollo has started
    instruments: (protocol) => metrics.websocket(protocol),
    context: (t) => ({ services, auth: t.auth, requestId: t.requestId, log: t.log }),
  });

  const apollo = new ApolloServer<AppContext>({
    schema,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [depthRule(limits)],
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // no cache hints in this schema; Apollo's default cache-control plugin would instrument
      // every field resolver (willResolveField) for nothing
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({
        httpServer,
        stopGracePeriodMillis: opts.drainTimeoutMs ?? 10_000,
      }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              websockets.closeAll(); // close frames go out before anything awaits
              await websockets.dispose();
            },
          };
        },
      },
      httpSubscriptionPlugin<AppContext>(GRAPHQL_PATH),
      limitsPlugin<AppContext>(limits, authenticator, gate),
    ],
    logger: {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  await apollo.start();
  const contextOf = (req: http.IncomingMessage, ids: { id: string; log: Logger }): AppContext => {
    const auth = authenticator.fromHeader(req.headers.authorization);
    if (auth.tokenName) tokenNames.set(req, auth.tokenName);
    return new RequestContext(services, auth, ids);
  };
  fastPath = graphqlFastPath(apollo, {
    path: GRAPHQL_PATH,
    maxBodyBytes: limits.maxBodyBytes,
    maxJsonDepth: limits.maxJsonDepth,
    logger,
    context: contextOf,
  });

  metrics.attach({
    connections: () => websockets.connections(),
    servingVersion: () => services.models.currentVersion(),
  });
  metrics.follow(services);

  app.use(requestLogging(logger));
  app.use(landingRouter(GRAPHQL_PATH));
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: limits.maxBodyBytes, verify: depthVerifier(limits.maxJsonDepth) }),
    queryParamDepth(limits.maxJsonDepth),
    expressMiddleware<AppContext>(apollo, {
      context: async ({ req }) =>
        contextOf(req, {
          id: req.id,
          get log() {
            return req.log;
          },
        }),
    }),
  );
  // after /graphql: the hot path traverses as few layers as possible
  app.use(healthRouter(services, { draining: () => draining, storage: opts.storage }));
  app.use(ideRouter(GRAPHQL_PATH));
  app.use(consoleRouter(GRAPHQL_PATH));
  app.get('/metrics', (_req: Request, res: Response, next: NextFunction) => {
    metrics
      .text()
      .then(
        (text) => res.status(200).setHeader('Content-Type', METRICS_CONTENT_TYPE).send(text),
        next,
      );
  });
  app.use(
    restRouter(services, {
      maxBodyBytes: limits.maxBodyBytes,
      maxItems: limits.maxItems,
      maxJsonDepth: limits.maxJsonDepth,
      authenticator,
      storage: opts.storage,
    }),
  );
  app.use(modelDownloadRouter(services, authenticator));
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    void next;
    const { status, body } = restError(err, req.id);
    if (status >= 500) req.log?.error({ err }, 'request failed');
    if (!res.headersSent) res.status(status).json(body);
  });

  started = true;
  websockets.open();
  try {
    await new Promise<void>((resolve, reject) => {
      if (httpServer.listening) return resolve();
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await apollo.stop().catch(() => undefined);
    tokenFile?.close();
    throw e;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const url = baseUrl(config.host, port);

  let closing: Promise<void> | undefined;
  return {
    url,
    graphqlUrl: `${url}${GRAPHQL_PATH}`,
    wsUrl: `${url.replace(/^http/, 'ws')}${GRAPHQL_PATH}`,
    port,
    httpServer,
    websockets,
    metrics,
    reloadTokens: () => tokenFile?.reload() ?? false,
    close() {
      closing ??= (async () => {
        draining = true;
        tokenFile?.close();
        websockets.closeAll(); // synchronously, before the first await
        await apollo.stop(); // drains HTTP (in-flight requests finish), then the WebSockets
        metrics.close();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })();
      return closing;
    },
  };
}
