/**
 * Errors of the application services, independent of the transport: GraphQL maps them in
 * `src/resolvers/errors.ts` (BAD_USER_INPUT, NOT_FOUND, MODEL_NOT_READY), REST in `src/server/`
 * (HTTP 400, 404, 503). Errors of the Pachyderm port pass through as `PachError`s.
 */

/** One problem of one input item: which item (0-based index, `null` for the list as a whole),
 * which field, and what was expected. */
export interface InputIssue {
  /** 0-based position of the item in the submitted list; `null` when the list itself is wrong. */
  index: number | null;
  /** The field's name as the client sent it (`userId`, `movieId`, `rating`, `timestamp`), or
   * the list's name (`ratings`, `pairs`) for list-level problems. */
  field: string;
  /** What is wrong and what was expected, e.g. `rating 7 is outside the rating scale [1, 5]`. */
  message: string;
}

/** Base class of the service errors; `kind` says which one without `instanceof`. */
export abstract class ServiceError extends Error {
  /** `INVALID_INPUT` → HTTP 400, `NOT_FOUND` → 404, `MODEL_NOT_READY` → 503. */
  abstract readonly kind: 'INVALID_INPUT' | 'NOT_FOUND' | 'MODEL_NOT_READY';
}

/** At most this many issues are spelled out in a {@link ValidationError}'s message. */
export const MAX_ISSUES_IN_MESSAGE = 20;

/**
 * Invalid input: every problem found, each naming its item's index and field. Thrown BEFORE
 * anything is written: a request with a ValidationError committed nothing.
 */
export class ValidationError extends ServiceError {
  readonly kind = 'INVALID_INPUT' as const;
  /** Every problem found, in input order (never empty). */
  readonly issues: InputIssue[];

  /**
   * @param what the list's name (e.g. `ratings`), used as the prefix of each issue in the message
   * @param issues at least one issue
   */
  constructor(what: string, issues: InputIssue[]) {
    const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => {
      const item = i.index === null ? what : `${what}[${i.index}]`;
      // a problem of the list itself (field = the list's name) is not "ratings.ratings"
      return `${i.field === what ? item : `${item}.${i.field}`}: ${i.message}`;
    });
    const more =
      issues.length > MAX_ISSUES_IN_MESSAGE
        ? `; and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`
        : '';
    super(
      `invalid ${what} (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${shown.join('; ')}${more}`,
    );
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** Something the client named does not exist (a request id, a model version, a job, a movie). */
export class NotFoundError extends ServiceError {
  readonly kind = 'NOT_FOUND' as const;
  /** @param what kind of object, e.g. `prediction request`; @param id the id the client gave */
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${JSON.stringify(id)} not found`);
    this.name = 'NotFoundError';
  }
}

/** No model can answer yet: the `train` repo has no finished commit with a model. */
export class ModelNotReadyError extends ServiceError {
  readonly kind = 'MODEL_NOT_READY' as const;
  constructor(message = 'no model is available yet: the train pipeline has not produced one') {
    super(message);
    this.name = 'ModelNotReadyError';
  }
}
