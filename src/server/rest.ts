/**
 * The REST routes of the Flask version, unchanged for its clients (JSON in, JSON out):
 *
 * - `POST /train {"data": ["244 346 2 880606923", …]}` → `{"filename": "<batchId>", "count",
 *   "replaced", "superseded"}`: each line is `user_id movie_id rating [timestamp]`
 *   (whitespace-separated, as MovieLens' u.data; blank lines are skipped); the lines become ONE
 *   rating batch (one `training` commit, hence one train job). The last rating of a (user, movie)
 *   wins, whatever the timestamps: `replaced` counts the lines that replace a rating the serving
 *   model holds, `superseded` lists the indexes of lines a later line of the same body overrides.
 * - `POST /predict {"data": ["233 346", …]}` → `{"filename": "<requestId>"}`: each line is
 *   `user_id movie_id`; the lines become ONE prediction request (one `streaming` commit). Before
 *   the first model is served: 503, nothing committed (the Flask contract).
 * - `POST /result {"filename": "<requestId>"}` → `{"data": "233 346 4.32…\n…", "ready": true}`
 *   once the predict job finished (`ready: false`, `data: ""` while it runs; `ready: true` with
 *   an `error` when its predict job failed). An answer is kept forever: an old request gives the
 *   answer first given, whatever the models since. `data` is the predict job's answer file as
 *   the worker wrote it (src/workers/predict.ts): one line `user_id movie_id estimate` per
 *   pair, the estimate as the shortest decimal that reads back to the model's double, plus a
 *   4th field `impossible` when the user or the movie is unknown to the model (Surprise's
 *   `was_impossible`), and `# error line n: …` for a line the predict program rejected.
 *
 * The filename is an opaque id: only a request id (32 lowercase hex digits) is accepted, and it
 * is only ever looked up as a request in the `predict`/`streaming` repos, never used as a path.
 * Errors: invalid input → 400 `{"error", "details": [{index, field, problem}]}` (nothing is
 * committed; a body that is JSON but not an object, such as `null`, is named so); a body over the
 * limit → 413 `request body too large: more than <N> bytes`; nested deeper than
 * REELGRAPH_MAX_JSON_DEPTH → 400;
 * unknown filename → 404; no model yet → 503; the data directory full (or below its free-space
 * floor) → 507 naming it and its free space (nothing is committed); a missing or wrong token (when tokens
 * are configured) → 401; anything else → 500 `{"error": "internal error", "requestId"}`.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { Services } from '../services';
import {
  type InputIssue,
  MAX_ISSUES_IN_MESSAGE,
  ModelNotReadyError,
  ServiceError,
  ValidationError,
} from '../services/errors';
import type { StorageStatus } from '../pachyderm/embedded/storage';
import { StorageFullError } from '../pachyderm/storage-error';
import { validatePairs } from '../services/validation';
import type { Authenticator } from './auth';
import { depthVerifier } from './json-limits-express';
import { tokenNames } from './logging';

/** What the REST routes need from the services. */
export type RestServices = Pick<Services, 'config' | 'ratings' | 'predictions' | 'models'>;

/** A request id as the predictions service issues it. */
export const REQUEST_ID_PATTERN = /^[0-9a-f]{32}$/;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A numeric text as a number; anything else unchanged (the services then name the problem). */
function numeric(s: string | undefined): unknown {
  return s !== undefined && NUMBER.test(s) ? Number(s) : s;
}

/** The `data` lines split into items, and the problems of the lines that could not be split. */
export interface ParsedLines {
  /**
   * One item per line that is not blank; `{}` (which the services always refuse) for a line
   * with a problem. Blank lines (empty or whitespace only, e.g. a trailing one) give no item.
   */
  items: Record<string, unknown>[];
  /** The index in `data` of each item (blank lines skipped). */
  lineOf: number[];
  /** Wrong types and field counts, field `line`, in line order. */
  issues: InputIssue[];
}

/**
 * Splits the `data` lines into items: `fields` are the names of the whitespace-separated fields,
 * `optional` how many trailing ones may be left out; ids stay strings, other numeric texts
 * become numbers (anything else is kept for the services to name).
 * @param maxItems the most lines accepted (the services' `maxItems`)
 * @throws ValidationError (list `data`, index null) for a non-list, an empty list or more than
 *   `maxItems` lines; the problems of single lines are returned, not thrown (see {@link submit})
 */
export function parseLines(
  data: unknown,
  fields: readonly string[],
  optional: number,
  maxItems: number,
): ParsedLines {
  const expected = `"${fields.join(' ')}"`;
  if (!Array.isArray(data)) {
    throw new ValidationError('data', [
      {
        index: null,
        field: 'data',
        message: `data must be a list of lines ${expected}, got ${data === undefined ? 'nothing' : typeof data}`,
      },
    ]);
  }
  if (data.length < 1 || data.length > maxItems) {
    throw new ValidationError('data', [
      {
        index: null,
        field: 'data',
        message: `expected 1 to ${maxItems} lines, got ${data.length}`,
      },
    ]);
  }
  const issues: InputIssue[] = [];
  const min = fields.length - optional;
  const items: Record<string, unknown>[] = [];
  const lineOf: number[] = [];
  data.forEach((line: unknown, index) => {
    if (typeof line === 'string' && line.trim() === '') return; // a blank line: no item
    lineOf.push(index);
    items.push(splitLine(line, index));
  });
  return { items, lineOf, issues };

  function splitLine(line: unknown, index: number): Record<string, unknown> {
    if (typeof line !== 'string') {
      issues.push({
        index,
        field: 'line',
        message: `expected a string ${expected}, got ${line === null ? 'null' : typeof line}`,
      });
      return {};
    }
    const parts = line.trim().split(/\s+/).filter(Boolean);
    if (parts.length < min || parts.length > fields.length) {
      issues.push({
        index,
        field: 'line',
        message: `expected ${min === fields.length ? min : `${min} to ${fields.length}`} fields ${expected}, got ${parts.length}`,
      });
      return {};
    }
    const item: Record<string, unknown> = {};
    parts.forEach((p, k) => {
      item[fields[k]] = k < 2 ? p : numeric(p);
    });
    return item;
  }
}

/**
 * Hands the parsed lines to a service call and reports every invalid line in ONE error: the
 * call validates all items before writing anything, and a line with a problem is the item `{}`,
 * which it always refuses, so nothing is written while any line is wrong. The service's issues
 * of the other lines join the line problems, in line order.
 * @throws ValidationError (list `data`, so items read `data[i].field`) naming every bad line
 */
export async function submit<T>(
  parsed: ParsedLines,
  call: (items: Record<string, unknown>[]) => Promise<T>,
): Promise<T> {
  try {
    return await call(parsed.items);
  } catch (err) {
    if (!(err instanceof ValidationError)) {
      if (parsed.issues.length) throw new ValidationError('data', parsed.issues);
      throw err;
    }
    const bad = new Set(parsed.issues.map((i) => i.index));
    // the services number the items; the answer numbers the lines of `data`
    const line = (i: number) => parsed.lineOf[i] ?? i + (parsed.lineOf.at(-1) ?? -1) + 1;
    const issues = [
      ...parsed.issues,
      ...err.issues
        .map((i) => (i.index === null ? { ...i, field: 'data' } : { ...i, index: line(i.index) }))
        .filter((i) => i.index === null || !bad.has(i.index)),
    ].sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
    throw new ValidationError('data', issues);
  }
}

/** The body of an error answer. */
export interface RestError {
  error: string;
  details?: { index: number | null; field: string; problem: string }[];
  requestId?: string;
}

/**
 * The message of a REST 400, naming items by the body's own fields: `data[i].<field>: …` for a
 * line, `<field>: …` for the body as a whole (`data`, `filename`, `body`); at most
 * MAX_ISSUES_IN_MESSAGE are spelled out.
 */
export function restMessage(issues: readonly InputIssue[]): string {
  const shown = issues
    .slice(0, MAX_ISSUES_IN_MESSAGE)
    .map((i) => `${i.index === null ? i.field : `data[${i.index}].${i.field}`}: ${i.message}`);
  const more =
    issues.length > MAX_ISSUES_IN_MESSAGE
      ? `; and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`
      : '';
  return `invalid request (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${shown.join('; ')}${more}`;
}

/** The HTTP status and JSON body for an error thrown by a route. */
export function restError(err: unknown, requestId: string): { status: number; body: RestError } {
  if (err instanceof ValidationError) {
    return {
      status: 400,
      body: {
        error: restMessage(err.issues),
        details: err.issues.map((i) => ({ index: i.index, field: i.field, problem: i.message })),
      },
    };
  }
  if (err instanceof StorageFullError) {
    return { status: 507, body: { error: err.message } };
  }
  if (err instanceof ServiceError) {
    const status = err.kind === 'NOT_FOUND' ? 404 : err.kind === 'MODEL_NOT_READY' ? 503 : 400;
    return { status, body: { error: err.message } };
  }
  const e = err as { type?: string; status?: number; message?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? `: more than ${e.limit} bytes` : '';
    return { status: 413, body: { error: `request body too large${limit}` } };
  }
  if (e?.type === 'entity.parse.failed') {
    return {
      status: 400,
      body: { error: `request body is not valid JSON${e.message ? `: ${e.message}` : ''}` },
    };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, body: { error: e.message ?? 'bad request' } };
  }
  return { status: 500, body: { error: 'internal error', requestId } };
}

/**
 * The router of `/train`, `/predict` and `/result`.
 * @param opts.maxBodyBytes the JSON body limit; @param opts.maxItems the most lines of one
 *   `data` list (the services' `maxItems`); @param opts.authenticator token checks
 */
export function restRouter(
  services: RestServices,
  opts: {
    maxBodyBytes: number;
    maxItems: number;
    maxJsonDepth: number;
    authenticator: Authenticator;
    /** The data directory's storage (embedded engine only): a full one is 507 before 503. */
    storage?: () => StorageStatus | undefined;
  },
): Router {
  const router = Router();
  // strict: false, so that a body that is JSON but not an object (`null`, `3`, `"x"`) is parsed
  // and named as such by `body()` below, rather than called "not valid JSON"
  const json = express.json({
    limit: opts.maxBodyBytes,
    strict: false,
    verify: depthVerifier(opts.maxJsonDepth),
  });
  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    if (!opts.authenticator.enabled) return next();
    const state = opts.authenticator.fromHeader(req.headers.authorization);
    if (state.tokenName) tokenNames.set(req, state.tokenName);
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
      const got = b === null ? 'null' : Array.isArray(b) ? 'a list' : typeof b;
      throw new ValidationError('body', [
        {
          index: null,
          field: 'body',
          message:
            b === undefined
              ? 'expected a JSON object (Content-Type: application/json), got no JSON body'
              : `the body is JSON, but not an object: expected a JSON object, got ${got}`,
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
      const lines = parseLines(
        body(req).data,
        ['userId', 'movieId', 'rating', 'timestamp'],
        1,
        opts.maxItems,
      );
      const receipt = await submit(lines, (items) => services.ratings.addRatings(items));
      return {
        filename: receipt.batchId,
        count: receipt.count,
        replaced: receipt.replaced,
        superseded: receipt.superseded.map((k) => lines.lineOf[k]),
      };
    }),
  );
  router.post(
    '/predict',
    requireToken,
    json,
    route(async (req) => {
      const lines = parseLines(body(req).data, ['userId', 'movieId'], 0, opts.maxItems);
      // the Flask contract: no model yet → 503 at once (GraphQL's requestPredictions waits),
      // after the checks that would refuse the request anyway: bad lines (400), then a data
      // directory below its free-space floor or full (507)
      if (services.models.currentVersion() === null) {
        await submit(lines, async (pairs) => validatePairs(pairs, services.config));
        const storage = opts.storage?.();
        if (storage?.full) {
          throw new StorageFullError(
            storage.dataDir,
            storage.freeBytes,
            storage.minFreeBytes,
            storage.freeBytes !== null && storage.freeBytes < storage.minFreeBytes,
          );
        }
        throw new ModelNotReadyError(
          'no model is available yet: the first train job has not finished; retry when GET /readyz answers 200',
        );
      }
      const receipt = await submit(lines, (pairs) =>
        services.predictions.requestPredictions(pairs),
      );
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
