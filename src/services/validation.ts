/**
 * Validation of client input, shared by GraphQL and REST: pure functions that either return the
 * validated items or throw ONE {@link ValidationError} listing EVERY problem with its item's index
 * and field. Nothing is written before validation passed, so invalid input commits nothing.
 *
 * Rules (limits from the service config):
 * - a list has 1…maxItems items;
 * - `userId`, `movieId`: a string (or a whole number ≥ 0, taken as its decimal text) of
 *   1…maxIdLength characters from {@link ID_CHARSET} — no whitespace, since ids are written to
 *   space-separated files;
 * - **raw ids are text, compared character by character, on every input path** (GraphQL, REST
 *   lines, training files, the engine's readers, catalogue files): `"0101"` and `"101"` are two
 *   different users (or movies), never normalised; only a JSON number given as an id becomes its
 *   shortest decimal text (`101` → `"101"`, so `0101` cannot be sent as a number);
 * - `rating`: a finite number within the rating scale (default [1, 5]), bounds included;
 * - `timestamp`: absent/null (= the time of the call) or whole seconds since 1970 in
 *   [0, {@link MAX_TIMESTAMP}];
 * - no other fields;
 * - `first` (page sizes): a whole number in 1…maxPageSize.
 */
import type { ResolvedServiceConfig } from './config';
import { type InputIssue, ValidationError } from './errors';
import type { PredictionPair, RatingItem } from './types';

/** Characters allowed in user and movie ids: letters, digits and `_ . : @ -`. */
export const ID_CHARSET = /^[A-Za-z0-9_.:@-]+$/;
/** Largest accepted timestamp: 9999-12-31T23:59:59Z in seconds. */
export const MAX_TIMESTAMP = 253402300799;

type Limits = Pick<ResolvedServiceConfig, 'maxItems' | 'maxIdLength' | 'ratingScale'>;

/**
 * A short description of a client-supplied value for error messages: a string quoted (cut at 40
 * characters), a number as itself, `null`, `an array`, `an object`, else its type.
 */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * Checks one id; returns its text, or pushes an issue and returns undefined.
 * @param index the item's index; @param field `userId` or `movieId`
 */
export function checkId(
  value: unknown,
  index: number | null,
  field: string,
  maxIdLength: number,
  issues: InputIssue[],
): string | undefined {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
    s = String(value);
  else {
    issues.push({
      index,
      field,
      message:
        value === undefined
          ? `${field} is missing`
          : `${field} must be a string (or a whole number >= 0), got ${describe(value)}`,
    });
    return undefined;
  }
  if (s.length === 0) {
    issues.push({ index, field, message: `${field} is empty` });
    return undefined;
  }
  if (s.length > maxIdLength) {
    issues.push({
      index,
      field,
      message: `${field} is ${s.length} characters long, the maximum is ${maxIdLength}`,
    });
    return undefined;
  }
  if (!ID_CHARSET.test(s)) {
    issues.push({
      index,
      field,
      message: `${field} ${describe(s)} has characters other than letters, digits and _ . : @ -`,
    });
    return undefined;
  }
  return s;
}

function checkList(
  items: unknown,
  what: string,
  maxItems: number,
  issues: InputIssue[],
): readonly unknown[] | undefined {
  if (!Array.isArray(items)) {
    issues.push({
      index: null,
      field: what,
      message: `${what} must be a list, got ${describe(items)}`,
    });
    return undefined;
  }
  if (items.length === 0) {
    issues.push({ index: null, field: what, message: `${what} is empty: give at least one item` });
    return undefined;
  }
  if (items.length > maxItems) {
    issues.push({
      index: maxItems,
      field: what,
      message: `too many items: ${items.length}, the maximum is ${maxItems}`,
    });
    return undefined;
  }
  return items;
}

/**
 * Checks that an item is a plain object whose fields are among `allowed` (a field whose value is
 * `undefined` counts as absent: JSON cannot carry it, GraphQL input objects may); pushes one
 * issue per problem and returns the object, or undefined when it is not an object.
 */
export function checkObject(
  item: unknown,
  index: number,
  allowed: readonly string[],
  issues: InputIssue[],
): Record<string, unknown> | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    issues.push({
      index,
      field: 'item',
      message: `expected an object {${allowed.join(', ')}}, got ${describe(item)}`,
    });
    return undefined;
  }
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k) && o[k] !== undefined) {
      issues.push({
        index,
        field: k,
        message: `unknown field ${JSON.stringify(k)}; expected ${allowed.join(', ')}`,
      });
    }
  }
  return o;
}

const RATING_FIELDS = ['userId', 'movieId', 'rating', 'timestamp'] as const;
const PAIR_FIELDS = ['userId', 'movieId'] as const;

/**
 * Validates the items of an `addRatings` call.
 * @param now the timestamp given to items without one (whole seconds).
 * @returns the items, ids as strings, timestamps filled in.
 * @throws ValidationError with every problem (list-level problems have index null, except "too
 *   many items", whose index is the first item over the limit).
 */
export function validateRatings(
  items: unknown,
  limits: Limits,
  now = Math.floor(Date.now() / 1000),
): RatingItem[] {
  const issues: InputIssue[] = [];
  const list = checkList(items, 'ratings', limits.maxItems, issues);
  const out: RatingItem[] = [];
  const [lo, hi] = limits.ratingScale;
  list?.forEach((item, index) => {
    const o = checkObject(item, index, RATING_FIELDS, issues);
    if (!o) return;
    const userId = checkId(o.userId, index, 'userId', limits.maxIdLength, issues);
    const movieId = checkId(o.movieId, index, 'movieId', limits.maxIdLength, issues);
    const r = o.rating;
    let rating: number | undefined;
    if (typeof r !== 'number') {
      issues.push({
        index,
        field: 'rating',
        message:
          r === undefined ? 'rating is missing' : `rating must be a number, got ${describe(r)}`,
      });
    } else if (!Number.isFinite(r)) {
      issues.push({
        index,
        field: 'rating',
        message: `rating ${String(r)} is not a finite number`,
      });
    } else if (r < lo || r > hi) {
      issues.push({
        index,
        field: 'rating',
        message: `rating ${r} is outside the rating scale [${lo}, ${hi}]`,
      });
    } else rating = r;
    const t = o.timestamp;
    let timestamp: number | undefined = now;
    if (t !== undefined && t !== null) {
      if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > MAX_TIMESTAMP) {
        issues.push({
          index,
          field: 'timestamp',
          message: `timestamp must be whole seconds since 1970 in [0, ${MAX_TIMESTAMP}], got ${describe(t)}`,
        });
        timestamp = undefined;
      } else timestamp = t;
    }
    if (
      userId !== undefined &&
      movieId !== undefined &&
      rating !== undefined &&
      timestamp !== undefined
    ) {
      out.push({ userId, movieId, rating, timestamp });
    }
  });
  if (issues.length) throw new ValidationError('ratings', issues);
  return out;
}

/**
 * Validates the pairs of a `requestPredictions` call.
 * @throws ValidationError with every problem.
 */
export function validatePairs(items: unknown, limits: Limits): PredictionPair[] {
  const issues: InputIssue[] = [];
  const list = checkList(items, 'pairs', limits.maxItems, issues);
  const out: PredictionPair[] = [];
  list?.forEach((item, index) => {
    const o = checkObject(item, index, PAIR_FIELDS, issues);
    if (!o) return;
    const userId = checkId(o.userId, index, 'userId', limits.maxIdLength, issues);
    const movieId = checkId(o.movieId, index, 'movieId', limits.maxIdLength, issues);
    if (userId !== undefined && movieId !== undefined) out.push({ userId, movieId });
  });
  if (issues.length) throw new ValidationError('pairs', issues);
  return out;
}

/**
 * Validates one id argument (e.g. `predict(userId)`).
 * @throws ValidationError (index null) naming the argument.
 */
export function validateId(value: unknown, field: string, maxIdLength: number): string {
  const issues: InputIssue[] = [];
  const s = checkId(value, null, field, maxIdLength, issues);
  if (s === undefined) throw new ValidationError('arguments', issues);
  return s;
}

/** Pipeline and repo names: plain names (no `project/` prefix, no `/` or `..`), 1…51 characters. */
export const NAME_RULE = /^[A-Za-z0-9_-]{1,51}$/;

/**
 * Validates a pipeline or repo argument: a plain name matching {@link NAME_RULE}
 * (`[A-Za-z0-9_-]{1,51}`). Project prefixes (`default/train`) and paths (`../train`) are refused.
 * @param field the argument's name (`pipeline`, `repo`)
 * @returns the name
 * @throws ValidationError naming the argument and the rule.
 */
export function validateName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME_RULE.test(value)) {
    throw new ValidationError('arguments', [
      {
        index: null,
        field,
        message: `${field} ${describe(value)} must be a plain name of 1…51 letters, digits, _ or - ([A-Za-z0-9_-]{1,51}; no project/ prefix)`,
      },
    ]);
  }
  return value;
}

/**
 * Validates a page size: absent/null → `fallback`, else a whole number in 1…max.
 * @throws ValidationError (field `first`).
 */
export function validateFirst(value: unknown, max: number, fallback: number): number {
  if (value === undefined || value === null) return Math.min(fallback, max);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError('arguments', [
      {
        index: null,
        field: 'first',
        message: `first must be a whole number in 1…${max}, got ${describe(value)}`,
      },
    ]);
  }
  return value;
}

/** Commit and job ids: 32 lowercase hexadecimal digits (Pachyderm's UUIDs without dashes). */
export const HEX_ID_RULE = /^[0-9a-f]{32}$/;

/**
 * Validates a commit or job id argument (e.g. `jobUpdated(after)`): 32 lowercase hex digits.
 * @param field the argument's name (`after`)
 * @returns the id
 * @throws ValidationError naming the argument and the rule.
 */
export function validateHexId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !HEX_ID_RULE.test(value)) {
    throw new ValidationError('arguments', [
      {
        index: null,
        field,
        message: `${field} ${describe(value)} must be a commit or job id of 32 hex digits`,
      },
    ]);
  }
  return value;
}
