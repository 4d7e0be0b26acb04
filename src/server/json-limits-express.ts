/**
 * The JSON nesting limit (json-limits.ts) on express' paths: a `verify` hook for
 * `express.json()` (the body is checked as raw bytes before it is parsed) and a middleware for
 * the GraphQL GET parameters `variables` and `extensions` (JSON texts in the query string).
 * Both fail with {@link JsonTooDeepError} (HTTP 400), which the error handlers answer as
 * `{"error": "<what> nests JSON deeper than N levels (REELGRAPH_MAX_JSON_DEPTH)"}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { assertJsonDepth } from './json-limits';

/**
 * The `verify` option of `express.json()` refusing a body nested deeper than `max` levels.
 * @throws JsonTooDeepError (body-parser passes it on with status 400)
 */
export function depthVerifier(
  max: number,
): (req: IncomingMessage, res: ServerResponse, buf: Buffer) => void {
  return (_req, _res, buf) => assertJsonDepth(buf, max, 'request body');
}

/**
 * Middleware refusing GET/POST query parameters `variables` and `extensions` nested deeper than
 * `max` levels (Apollo parses them as JSON for GET requests).
 */
export function queryParamDepth(max: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    try {
      const q = req.query as Record<string, unknown>;
      for (const name of ['variables', 'extensions']) {
        const v = q[name];
        const texts = Array.isArray(v) ? v : [v];
        for (const t of texts) if (typeof t === 'string') assertJsonDepth(t, max, name);
      }
      next();
    } catch (e) {
      next(e);
    }
  };
}
