/**
 * Logs: pino JSON lines on stdout, one line per HTTP request (method, path, status, duration)
 * and per WebSocket connection, each carrying a request id. The id is the client's
 * `X-Request-Id` when it is a short token (1…64 of `[A-Za-z0-9._:-]`), else a new UUID; it is
 * sent back in the `X-Request-Id` response header and is the GraphQL context's `requestId`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * A pino logger writing JSON lines to stdout at `level`. Lines are buffered (up to 4 KiB, written
 * asynchronously): one write per batch instead of per request; pino flushes the buffer
 * synchronously when the process exits, and {@link RunningServer.close} flushes it too.
 */
export function createLogger(level: string = 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'reelgraph', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

/**
 * The name of the API token a request presented (token-file.ts `name=`), set by the
 * authentication step and written in the request's log line as `token` (never the token).
 */
export const tokenNames = new WeakMap<IncomingMessage, string>();

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request id of an incoming request: its valid `X-Request-Id` header, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && REQUEST_ID.test(v) ? v : randomUUID();
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id (see logging.ts). */
    id: string;
    /** The request's child logger, bound to its id. */
    log: Logger;
  }
}

/**
 * Gives a request an id and a child logger, echoes the id in `X-Request-Id`, and logs one line
 * when the response is finished (or the client went away). Used by the express middleware and
 * by the GraphQL fast path (graphql-http.ts).
 */
export function logRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): { id: string; log: Logger } {
  const started = process.hrtime.bigint();
  const id = requestIdOf(req.headers['x-request-id']);
  // the child logger is made on first use: most requests only log their one line
  let child: Logger | undefined;
  const ids = {
    id,
    get log(): Logger {
      return (child ??= logger.child({ reqId: id }));
    },
  };
  res.setHeader('X-Request-Id', id);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const line = {
      reqId: id,
      method: req.method,
      path,
      status: res.statusCode,
      ...(tokenNames.has(req) ? { token: tokenNames.get(req) } : {}),
      durationMs: Math.round(ms * 100) / 100,
      ...(!res.writableFinished ? { aborted: true } : {}),
    };
    if (res.statusCode >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  };
  res.once('finish', finish);
  res.once('close', finish);
  return ids;
}

/** Express middleware: {@link logRequest}, with `req.id` and `req.log` set. */
export function requestLogging(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const ids = logRequest(logger, req, res, req.path);
    req.id = ids.id;
    Object.defineProperty(req, 'log', { get: () => ids.log, configurable: true });
    next();
  };
}
