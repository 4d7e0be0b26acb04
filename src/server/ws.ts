/**
 * GraphQL over WebSocket on the `/graphql` path, two protocols on one port:
 * - graphql-ws (subprotocol `graphql-transport-ws`), `useServer` from `graphql-ws/use/ws`;
 * - the legacy protocol of subscriptions-transport-ws (subprotocol `graphql-ws`), which GraphQL
 *   Playground speaks.
 * The HTTP server's `upgrade` handler routes a client that offers only `graphql-ws` to the legacy
 * server and every other client to graphql-ws (which refuses unknown subprotocols with 4406).
 * Other paths are refused with HTTP 404.
 *
 * Both servers bound the message size (`maxPayload`: a bigger frame closes the socket with 1009)
 * and re-apply what Apollo does over HTTP (limits.ts `prepareOperation`): token limit, depth,
 * complexity, and authorisation from `connectionParams` (a wrong token closes the connection:
 * graphql-ws 4403, legacy `connection_error`; without a token, mutations and subscriptions are
 * refused with UNAUTHENTICATED when tokens are configured).
 *
 * Both protocols close a socket that sent no `connection_init` within
 * `connectionInitWaitTimeoutMs` (3 s) with 4408, and a message nested deeper than
 * `limits.maxJsonDepth` with 1009, before it is parsed.
 *
 * Keep-alive: graphql-ws pings every `keepAliveMs`; legacy sockets get WebSocket pings at the
 * same interval (no legacy `ka` messages) and are cut when a pong is missing.
 *
 * Shutdown: {@link WebSocketGateway.closeAll} sends every close frame (1001 "going away")
 * synchronously, before anything awaits, then {@link WebSocketGateway.dispose} waits for the
 * servers to close.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  subscribe,
} from 'graphql';
import { DEPRECATED_GRAPHQL_WS_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { SubscriptionServer } from 'subscriptions-transport-ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { AuthState, Authenticator } from './auth';
import type { Limits } from './config';
import { jsonNestingDepth } from './json-limits';
import type { Gate } from './gate';
import { gatedExecute, prepareOperation, type OperationPayload } from './limits';
import { requestIdOf, type Logger } from './logging';
import type { WebSocketInstruments } from './metrics';

/** Context facts a transport knows about an operation. */
export interface TransportContext {
  auth: AuthState;
  requestId: string;
  log: Logger;
}

/** Options of {@link attachWebSockets}. */
export interface WebSocketOptions<C> {
  httpServer: HttpServer;
  schema: GraphQLSchema;
  /** The path of the endpoint, `/graphql`. */
  path: string;
  limits: Limits;
  authenticator: Authenticator;
  logger: Logger;
  /** Builds the GraphQL context of one operation. */
  context: (t: TransportContext) => C;
  /** Keep-alive interval, ms (graphql-ws pings, legacy `ka` messages). Default 12 000. */
  keepAliveMs?: number;
  /**
   * How long a client may take to send its `connection_init`, ms, on both protocols (graphql-ws'
   * `connectionInitWaitTimeout`, default 3 000); then the socket is closed with 4408
   * "Connection initialisation timeout".
   */
  connectionInitWaitTimeoutMs?: number;
  /** The gate of operations with costly introspection (limits.ts `gatedExecute`). */
  gate?: Gate;
  /** How often sockets are checked for an expired token, ms (default 1 000). */
  tokenCheckMs?: number;
  /**
   * Refuse upgrades (503) until {@link WebSocketGateway.open} is called, e.g. while the rest of
   * the server starts (default false: accept at once).
   */
  startClosed?: boolean;
  /** Counting and timing per subprotocol (metrics.ts); default: none. */
  instruments?: (protocol: string) => WebSocketInstruments;
}

/** The two WebSocket servers behind the `upgrade` handler. */
export interface WebSocketGateway {
  /** Open connections (both protocols). */
  connections(): number;
  /** Starts accepting upgrades (see `startClosed`); no effect once {@link closeAll} ran. */
  open(): void;
  /** Stops accepting upgrades and sends a close frame to every client NOW (synchronously). */
  closeAll(code?: number, reason?: string): void;
  /**
   * Closes (4403) every socket, on both protocols, whose token is no longer accepted (removed
   * from the token file or expired); returns how many. Runs by itself when the tokens change and
   * every `tokenCheckMs`.
   */
  revokeInvalid(): number;
  /** Closes both servers; resolves when they are closed. Calls {@link closeAll} first. */
  dispose(): Promise<void>;
}

/** The subprotocols a client offers (`Sec-WebSocket-Protocol`). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  return (Array.isArray(h) ? h.join(',') : (h ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

const ANONYMOUS: AuthState = { authenticated: false, presented: false };

/**
 * Attaches both WebSocket servers to `httpServer` (see the module documentation).
 */
export function attachWebSockets<C>(opts: WebSocketOptions<C>): WebSocketGateway {
  const { httpServer, schema, limits, authenticator, logger } = opts;
  const keepAlive = opts.keepAliveMs ?? 12_000;
  const initWait = opts.connectionInitWaitTimeoutMs ?? 3_000;
  /** Legacy sockets whose connection_init was accepted. */
  const initialised = new WeakSet<WebSocket>();
  const modern = new WebSocketServer({ noServer: true, maxPayload: limits.maxWsPayload });
  const legacy = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxWsPayload,
    handleProtocols: (protocols) =>
      protocols.has(DEPRECATED_GRAPHQL_WS_PROTOCOL) ? DEPRECATED_GRAPHQL_WS_PROTOCOL : false,
  });
  /** Per socket: its request id, logger and authentication. */
  const sockets = new WeakMap<WebSocket, TransportContext>();
  let accepting = !opts.startClosed;
  const instruments = {
    [GRAPHQL_TRANSPORT_WS_PROTOCOL]: opts.instruments?.(GRAPHQL_TRANSPORT_WS_PROTOCOL),
    [DEPRECATED_GRAPHQL_WS_PROTOCOL]: opts.instruments?.(DEPRECATED_GRAPHQL_WS_PROTOCOL),
  };
  /** graphql's execute, timed by the metrics when given, gated for costly introspection. */
  const gated = (
    inner: ((args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>) | undefined,
  ) => (opts.gate ? gatedExecute(opts.gate, inner ?? execute) : inner);
  let closed = false;

  const track = (ws: WebSocket, req: IncomingMessage, protocol: string) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    const log = logger.child({ reqId: requestId });
    sockets.set(ws, { auth: ANONYMOUS, requestId, log });
    const opened = Date.now();
    log.info({ protocol, path: opts.path }, 'websocket open');
    ws.once('close', (code) => {
      log.info({ protocol, code, durationMs: Date.now() - opened }, 'websocket closed');
    });
    // ws reports a client's protocol error (a frame over maxPayload, invalid UTF-8…: code
    // WS_ERR_*) as an 'error' event after closing the socket itself (1009, 1007…); graphql-ws
    // would print it with a stack trace on stderr. One JSON log line instead.
    // A message nested deeper than maxJsonDepth closes the socket with 1009 (message too big)
    // before either protocol's JSON.parse sees it (json-limits.ts).
    const emit = ws.emit.bind(ws);
    ws.emit = ((event: string | symbol, ...args: unknown[]) => {
      const code = (args[0] as { code?: unknown } | undefined)?.code;
      if (event === 'error' && typeof code === 'string' && code.startsWith('WS_ERR_')) {
        log.warn({ protocol, code, message: (args[0] as Error).message }, 'websocket client error');
        return true;
      }
      if (event === 'message' && tooDeep(args[0])) {
        log.warn({ protocol, maxJsonDepth: limits.maxJsonDepth }, 'websocket message too deep');
        ws.close(1009, `message nests JSON deeper than ${limits.maxJsonDepth} levels`);
        return true;
      }
      return emit(event, ...args);
    }) as typeof ws.emit;
  };
  const tooDeep = (data: unknown): boolean => {
    const max = limits.maxJsonDepth;
    if (typeof data === 'string' || data instanceof Uint8Array) {
      return jsonNestingDepth(data, max) > max;
    }
    if (Array.isArray(data)) return jsonNestingDepth(Buffer.concat(data as Buffer[]), max) > max;
    if (data instanceof ArrayBuffer) return jsonNestingDepth(new Uint8Array(data), max) > max;
    return false;
  };

  // graphql-ws ---------------------------------------------------------------------------
  const modernServer = useServer<Record<string, unknown> | undefined, { ws?: WebSocket }>(
    {
      schema,
      execute: gated(instruments[GRAPHQL_TRANSPORT_WS_PROTOCOL]?.execute),
      subscribe: instruments[GRAPHQL_TRANSPORT_WS_PROTOCOL]?.subscribe,
      connectionInitWaitTimeout: initWait,
      onConnect: (ctx) => {
        const t = sockets.get(ctx.extra.socket);
        const auth = authenticator.fromConnectionParams(ctx.connectionParams);
        if (auth.presented && !auth.authenticated) return false; // 4403 Forbidden
        if (t) t.auth = auth;
        if (auth.tokenName) t?.log.info({ token: auth.tokenName }, 'websocket authenticated');
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        const t = sockets.get(ctx.extra.socket) ?? {
          auth: ANONYMOUS,
          requestId: requestIdOf(undefined),
          log: logger,
        };
        const prepared = prepareOperation(schema, payload as OperationPayload, limits, {
          authenticator,
          state: t.auth,
        });
        if (Array.isArray(prepared)) return prepared;
        return {
          schema,
          document: prepared.document,
          operationName: payload.operationName ?? undefined,
          variableValues: payload.variables ?? undefined,
          contextValue: opts.context(t),
        };
      },
      onError: (ctx, _id, _payload, errors) => {
        sockets.get(ctx.extra.socket)?.log.debug({ errors }, 'graphql-ws operation error');
      },
    },
    modern,
    keepAlive,
  );

  // the legacy protocol (subscriptions-transport-ws) ------------------------------------------
  const legacyServer = new SubscriptionServer(
    {
      schema,
      execute: gated(instruments[DEPRECATED_GRAPHQL_WS_PROTOCOL]?.execute) ?? execute,
      subscribe: instruments[DEPRECATED_GRAPHQL_WS_PROTOCOL]?.subscribe ?? subscribe,
      // no `ka` messages: its timer outlives closed sockets by up to one interval; the
      // WebSocket-level pings below keep connections alive and find dead peers instead
      onConnect: (params: unknown, ws: WebSocket) => {
        const auth = authenticator.fromConnectionParams(params);
        if (auth.presented && !auth.authenticated) {
          throw new Error('the API token is not valid');
        }
        const t = sockets.get(ws);
        if (t) t.auth = auth;
        if (auth.tokenName) t?.log.info({ token: auth.tokenName }, 'websocket authenticated');
        initialised.add(ws);
        return { authenticated: auth.authenticated };
      },
      onOperation: (
        message: { payload?: OperationPayload },
        params: { query: unknown; context: unknown; schema?: GraphQLSchema },
        ws: WebSocket,
      ) => {
        // a client may start operations without connection_init: then it is anonymous
        const t = sockets.get(ws) ?? {
          auth: ANONYMOUS,
          requestId: requestIdOf(undefined),
          log: logger,
        };
        const prepared = prepareOperation(schema, message.payload ?? {}, limits, {
          authenticator,
          state: t.auth,
        });
        if (Array.isArray(prepared)) {
          // rejected → the legacy server sends {type: "data", payload: {errors}} for this id and
          // forgets it without a "complete"; send that once the data message is out, so that the
          // client (GraphQL Playground) ends the operation
          const id = (message as { id?: unknown }).id;
          if (typeof id === 'string' || typeof id === 'number') {
            setImmediate(() => {
              if (ws.readyState === WebSocket.OPEN)
                ws.send(JSON.stringify({ id, type: 'complete' }));
            });
          }
          return Promise.reject({ errors: prepared.map((e) => e.toJSON()) });
        }
        // the legacy server parses `query` unless it is a document already: pass ours
        params.query = prepared.document;
        params.context = opts.context(t);
        params.schema = schema;
        return params;
      },
    },
    legacy,
  );

  // keep-alive of the legacy sockets: a ping every `keepAlive` ms; no pong since the previous
  // ping → the peer is gone: terminate
  const alive = new WeakSet<WebSocket>();
  legacy.on('connection', (ws: WebSocket) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    // the same connection-init timeout as graphql-ws: no accepted connection_init within
    // `initWait` ms → 4408, as graphql-ws closes its own sockets
    if (Number.isFinite(initWait) && initWait > 0) {
      const timer = setTimeout(() => {
        if (!initialised.has(ws) && ws.readyState === WebSocket.OPEN) {
          sockets.get(ws)?.log.info({ initWaitMs: initWait }, 'no connection_init: closing');
          ws.close(4408, 'Connection initialisation timeout');
        }
      }, initWait);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  });
  const legacyPing =
    keepAlive > 0 && Number.isFinite(keepAlive)
      ? setInterval(() => {
          for (const ws of legacy.clients) {
            if (!alive.has(ws)) {
              ws.terminate();
              continue;
            }
            alive.delete(ws);
            ws.ping();
          }
        }, keepAlive)
      : undefined;
  legacyPing?.unref();

  // routing upgrades -------------------------------------------------------------------------
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      pathname = '';
    }
    if (!accepting || pathname !== opts.path) {
      const status = accepting ? '404 Not Found' : '503 Service Unavailable';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const offered = offeredProtocols(req);
    const useLegacy =
      offered.includes(DEPRECATED_GRAPHQL_WS_PROTOCOL) &&
      !offered.includes(GRAPHQL_TRANSPORT_WS_PROTOCOL);
    const server = useLegacy ? legacy : modern;
    server.handleUpgrade(req, socket, head, (ws) => {
      instruments[
        useLegacy ? DEPRECATED_GRAPHQL_WS_PROTOCOL : GRAPHQL_TRANSPORT_WS_PROTOCOL
      ]?.opened();
      track(ws, req, useLegacy ? DEPRECATED_GRAPHQL_WS_PROTOCOL : ws.protocol || '(none)');
      server.emit('connection', ws, req);
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const closeAll = (code = 1001, reason = 'server shutting down') => {
    accepting = false;
    closed = true;
    for (const server of [modern, legacy]) {
      for (const ws of server.clients) {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          ws.close(code, reason);
        }
      }
    }
  };

  // revocation: a token removed from the file (or expired) closes its sockets with 4403
  const revokeInvalid = (): number => {
    let n = 0;
    for (const server of [modern, legacy]) {
      for (const ws of server.clients) {
        const t = sockets.get(ws);
        if (!t?.auth.authenticated || authenticator.stillValid(t.auth)) continue;
        if (ws.readyState !== WebSocket.OPEN) continue;
        const why = authenticator.whyInvalid(t.auth);
        t.log.info({ token: t.auth.tokenName, why }, 'websocket token no longer accepted');
        ws.close(4403, `Forbidden: the API token was ${why}`);
        n++;
      }
    }
    return n;
  };
  const unsubscribeTokens = authenticator.onChange(() => revokeInvalid());
  const tokenCheck = setInterval(() => revokeInvalid(), opts.tokenCheckMs ?? 1_000);
  tokenCheck.unref();

  return {
    connections: () => modern.clients.size + legacy.clients.size,
    revokeInvalid,
    open() {
      if (!closed) accepting = true;
    },
    closeAll,
    async dispose() {
      closeAll();
      if (legacyPing) clearInterval(legacyPing);
      clearInterval(tokenCheck);
      unsubscribeTokens();
      httpServer.off('upgrade', onUpgrade);
      legacyServer.close();
      await modernServer.dispose();
      // sockets that did not answer the close handshake within 2 s are cut
      const left = [...legacy.clients];
      if (left.length) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            for (const ws of left) ws.terminate();
            resolve();
          }, 2000);
          timer.unref();
          let open = left.length;
          for (const ws of left) {
            if (ws.readyState === WebSocket.CLOSED) open--;
            else
              ws.once('close', () => {
                if (--open === 0) {
                  clearTimeout(timer);
                  resolve();
                }
              });
          }
          if (open === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
      await new Promise<void>((resolve) => legacy.close(() => resolve()));
    },
  };
}

export { GraphQLError };
