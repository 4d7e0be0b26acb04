/**
 * The REST routes of the Flask version, unchanged for its clients (JSON in, JSON out):
 *
 * - `POST /train {"data": ["244 346 2 880606923", …]}` → `{"filename": "<batchId>"}`: each line
 *   is `user_id movie_id rating [timestamp]` (whitespace-separated, as MovieLens' u.data); the
 *   lines become ONE rating batch (one `training` commit, hence one train job).
 * - `POST /predict {"data": ["233 346", …]}` → `{"filename": "<requestId>"}`: each line is
 *   `user_id movie_id`; the lines become ONE prediction request (one `streaming` commit).
 * - `POST /result {"filename": "<requestId>"}` → `{"data": "233 346 4.32…\n…", "ready": true}`
 *   once the predict job finished (`ready: false`, `data: ""` while it runs; `ready: true` with
 *   an `error` when it failed). `data` is the predict job's answer file as the worker wrote it
 *   (src/workers/predict.ts): one line `user_id movie_id estimate` per pair, the estimate as the
 *   shortest decimal that reads back to the model's double, plus a 4th field `impossible` when the
 *   user or the movie is unknown to the model (Surprise's `was_impossible`), and
 *   `# error line n: …` for a line the predict program rejected.
 *
 * The filename is an opaque id: only a request id (32 lowercase hex digits) is accepted, and it
 * is only ever looked up as a request in the `predict`/`streaming` repos, never used as a path.
 * Errors: invalid input → 400 `{"error", "details": [{index, field, problem}]}` (nothing is
 * committed); unknown filename → 404; no model yet → 503; a missing or wrong token (when tokens
 * are configured) → 401; anything else → 500 `{"error": "internal error", "requestId"}`.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { Services } from '../services';
import { type InputIssue, ServiceError, ValidationError } from '../services/errors';
import type { Authenticator } from './auth';

/** What the REST routes need from the services. */
export type RestServices = Pick<Services, 'ratings' | 'predictions'>;

/** A request id as the predictions service issues it. */
export const REQUEST_ID_PATTERN = /^[0-9a-f]{32}$/;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A numeric text as a number; anything else unchanged (the services then name the problem). */
function numeric(s: string | undefined): unknown {
  return s !== undefined && NUMBER.test(s) ? Number(s) : s;
}

/**
 * Splits the `data` lines into items: `fields` are the names of the whitespace-separated fields,
 * `optional` how many trailing ones may be left out.
 * @throws ValidationError (list `data`) for a non-list, a non-string line or a wrong field count
 */
export function parseLines(
  data: unknown,
  fields: readonly string[],
  optional: number,
): Record<string, unknown>[] {
  if (!Array.isArray(data)) {
    throw new ValidationError('data', [
      {
        index: null,
        field: 'data',
        message: `data must be a list of lines "${fields.join(' ')}", got ${data === undefined ? 'nothing' : typeof data}`,
      },
    ]);
  }
  const issues: InputIssue[] = [];
  const items = data.map((line, index) => {
    if (typeof line !== 'string') {
      issues.push({
        index,
        field: 'line',
        message: `expected a string "${fields.join(' ')}", got ${line === null ? 'null' : typeof line}`,
      });
      return {};
    }
    const parts = line.trim().split(/\s+/).filter(Boolean);
    const min = fields.length - optional;
    if (parts.length < min || parts.length > fields.length) {
      issues.push({
        index,
        field: 'line',
        message: `expected ${min === fields.length ? min : `${min} to ${fields.length}`} fields "${fields.join(' ')}", got ${parts.length}`,
      });
      return {};
    }
    const item: Record<string, unknown> = {};
    parts.forEach((p, k) => {
      item[fields[k]] = k < 2 ? p : numeric(p);
    });
    return item;
  });
  if (issues.length) throw new ValidationError('data', issues);
  return items;
}

/** The body of an error answer. */
export interface RestError {
  error: string;
  details?: { index: number | null; field: string; problem: string }[];
  requestId?: string;
}

/** The HTTP status and JSON body for an error thrown by a route. */
export function restError(err: unknown, requestId: string): { status: number; body: RestError } {
  if (err instanceof ValidationError) {
    return {
      status: 400,
      body: {
        error: err.message,
        details: err.issues.map((i) => ({ index: i.index, field: i.field, problem: i.message })),
      },
    };
  }
  if (err instanceof ServiceError) {
    const status = err.kind === 'NOT_FOUND' ? 404 : err.kind === 'MODEL_NOT_READY' ? 503 : 400;
    return { status, body: { error: err.message } };
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') {
    return { status: 413, body: { error: `request body too large: ${e.message ?? ''}`.trim() } };
  }
  if (e?.type === 'entity.parse.failed') {
    return { status: 400, body: { error: 'request body is not valid JSON' } };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, body: { error: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { error: 'internal error', requestId } };
}

/**
 * The router of `/train`, `/predict` and `/result`.
 * @param opts.maxBodyBytes the JSON body limit; @param opts.authenticator token checks
 */
export function restRouter(
  services: RestServices,
  opts: { maxBodyBytes: number; authenticator: Authenticator },
): Router {
  const router = Router();
  const json = express.json({ limit: opts.maxBodyBytes, strict: true });
  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    if (!opts.authenticator.enabled) return next();
    const state = opts.authenticator.fromHeader(req.headers.authorization);
    if (state.authenticated) return next();
    res
      .status(401)
      .setHeader('WWW-Authenticate', 'Bearer realm="reelgraph"')
      .json({
        error: state.presented
          ? 'the API token is not valid'
          : 'this endpoint needs an API token: send "Authorization: Bearer <token>"',
      });
  };
  const body = (req: Request): Record<string, unknown> => {
    const b: unknown = req.body;
    if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) {
      throw new ValidationError('body', [
        {
          index: null,
          field: 'body',
          message: 'expected a JSON object (Content-Type: application/json)',
        },
      ]);
    }
    return b as Record<string, unknown>;
  };
  const route =
    (fn: (req: Request) => Promise<unknown>) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        res.json(await fn(req));
      } catch (err) {
        next(err);
      }
    };

  router.post(
    '/train',
    requireToken,
    json,
    route(async (req) => {
      const items = parseLines(body(req).data, ['userId', 'movieId', 'rating', 'timestamp'], 1);
      const receipt = await services.ratings.addRatings(items);
      return { filename: receipt.batchId };
    }),
  );
  router.post(
    '/predict',
    requireToken,
    json,
    route(async (req) => {
      const pairs = parseLines(body(req).data, ['userId', 'movieId'], 0);
      const receipt = await services.predictions.requestPredictions(pairs);
      return { filename: receipt.requestId };
    }),
  );
  router.post(
    '/result',
    requireToken,
    json,
    route(async (req) => {
      const filename = body(req).filename;
      if (typeof filename !== 'string' || !REQUEST_ID_PATTERN.test(filename)) {
        throw new ValidationError('body', [
          {
            index: null,
            field: 'filename',
            message: `filename must be a request id returned by /predict (32 hexadecimal digits), got ${typeof filename === 'string' ? JSON.stringify(filename.slice(0, 80)) : typeof filename}`,
          },
        ]);
      }
      const r = await services.predictions.getResult(filename);
      const data = r.text ?? '';
      return r.error ? { data, ready: r.ready, error: r.error } : { data, ready: r.ready };
    }),
  );
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    void next;
    const { status, body: answer } = restError(err, req.id);
    if (status >= 500) req.log?.error({ err }, 'REST route failed');
    res.status(status).json(answer);
  });
  return router;
}
