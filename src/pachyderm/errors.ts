/**
 * Error codes and errors of the Pachyderm port.
 *
 * Every failure of a {@link Pachyderm} method is a {@link PachError} whose `code` is one of
 * {@link PachCode}, an enum whose numeric values are exactly gRPC's status codes
 * (grpc/grpc `doc/statuscodes.md`, `google.rpc.Code`), so that a gRPC adapter maps them one to one.
 * Messages follow pachd's own wording (pachyderm/pachyderm `src/internal/errors`, `src/server/pfs/`
 * `pfsserver/errors.go`, `src/server/pps/`), because clients still match on messages.
 *
 * Note on codes: pachd answers a few failures with gRPC `UNKNOWN` plus a message (e.g. "commit X has
 * already finished", "parent commit X has not been finished"); this port gives them the more precise
 * `FAILED_PRECONDITION`. {@link codeFromPachydermMessage} recovers that code from a pachd message, so
 * a gRPC client adapter reports the same code as the embedded engine.
 */

/** gRPC status codes (same names and numbers as `google.rpc.Code`). */
export enum PachCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/**
 * An error of the Pachyderm port: a gRPC-style `code` and a pachd-style `message`.
 *
 * @example
 * try { await pach.inspectRepo('nope') } catch (e) { if (isPachError(e, PachCode.NOT_FOUND)) … }
 */
export class PachError extends Error {
  /** The status code (gRPC numbering). */
  readonly code: PachCode;

  /**
   * @param code status code, see {@link PachCode}
   * @param message human-readable message in pachd's wording, naming the offending object
   * @param options standard `cause`
   */
  constructor(code: PachCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PachError';
    this.code = code;
  }

  /** The code's name, e.g. `"NOT_FOUND"`. */
  get codeName(): string {
    return PachCode[this.code] ?? String(this.code);
  }

  override toString(): string {
    return `PachError ${this.codeName}: ${this.message}`;
  }
}

/** True when `e` is a {@link PachError} (optionally with the given code). */
export function isPachError(e: unknown, code?: PachCode): e is PachError {
  return e instanceof PachError && (code === undefined || e.code === code);
}

/** `NOT_FOUND` "<kind> <name> not found" (pachd: "repo X not found", "commit X not found"). */
export function notFound(kind: string, name: string): PachError {
  return new PachError(PachCode.NOT_FOUND, `${kind} ${name} not found`);
}

/** `ALREADY_EXISTS` "<kind> <name> already exists" (pachd: "repo X already exists"). */
export function alreadyExists(kind: string, name: string): PachError {
  return new PachError(PachCode.ALREADY_EXISTS, `${kind} ${name} already exists`);
}

/** `INVALID_ARGUMENT` with the given message (it should name the field and what was expected). */
export function invalidArgument(message: string): PachError {
  return new PachError(PachCode.INVALID_ARGUMENT, message);
}

/** `FAILED_PRECONDITION` with the given message. */
export function failedPrecondition(message: string): PachError {
  return new PachError(PachCode.FAILED_PRECONDITION, message);
}

/** `UNIMPLEMENTED` "<what> is not implemented". */
export function unimplemented(what: string): PachError {
  return new PachError(PachCode.UNIMPLEMENTED, `${what} is not implemented`);
}

/** `UNAVAILABLE` with the given message (e.g. the engine is closed). */
export function unavailable(message: string): PachError {
  return new PachError(PachCode.UNAVAILABLE, message);
}

/** `NOT_FOUND` "project X not found". */
export function projectNotFound(project: string): PachError {
  return notFound('project', project);
}

/** `NOT_FOUND` "repo X not found" (X is `project/name`, as pachd prints a repo). */
export function repoNotFound(repo: string): PachError {
  return notFound('repo', repo);
}

/** `NOT_FOUND` "branch X not found". */
export function branchNotFound(branch: string): PachError {
  return notFound('branch', branch);
}

/** `NOT_FOUND` "commit X not found" (X is `repo@id` or `repo@branch`). */
export function commitNotFound(commit: string): PachError {
  return notFound('commit', commit);
}

/** `NOT_FOUND` "commit set X not found". */
export function commitSetNotFound(id: string): PachError {
  return notFound('commit set', id);
}

/** `NOT_FOUND` "file P not found in repo R at commit C" (pachd's wording). */
export function fileNotFound(path: string, repo: string, commit: string): PachError {
  return new PachError(
    PachCode.NOT_FOUND,
    `file ${path} not found in repo ${repo} at commit ${commit}`,
  );
}

/** `NOT_FOUND` `pipeline "X" not found`. */
export function pipelineNotFound(pipeline: string): PachError {
  return new PachError(PachCode.NOT_FOUND, `pipeline "${pipeline}" not found`);
}

/** `NOT_FOUND` "job X not found". */
export function jobNotFound(job: string): PachError {
  return notFound('job', job);
}

/** `NOT_FOUND` "datum X not found". */
export function datumNotFound(datum: string): PachError {
  return notFound('datum', datum);
}

/** `FAILED_PRECONDITION` "parent commit X has not been finished" (StartCommit on an open head). */
export function parentNotFinished(commit: string): PachError {
  return failedPrecondition(`parent commit ${commit} has not been finished`);
}

/** `FAILED_PRECONDITION` "commit X has already finished" (second FinishCommit, write to it). */
export function commitAlreadyFinished(commit: string): PachError {
  return failedPrecondition(`commit ${commit} has already finished`);
}

/** `FAILED_PRECONDITION` "cannot start a commit on an output branch" (a pipeline's branch). */
export function outputBranchCommit(): PachError {
  return failedPrecondition('cannot start a commit on an output branch');
}

/** `UNAVAILABLE` "commit X not finished" (pachd's code for reading an unfinished commit). */
export function commitNotFinished(commit: string): PachError {
  return new PachError(PachCode.UNAVAILABLE, `commit ${commit} not finished`);
}

/**
 * Best code for a pachd error message that pachd sent as `UNKNOWN` (for the gRPC adapter), so that
 * both adapters report the same code. Returns `fallback` when no rule matches.
 */
export function codeFromPachydermMessage(message: string, fallback = PachCode.UNKNOWN): PachCode {
  if (/ not found/.test(message)) return PachCode.NOT_FOUND;
  if (/ already exists/.test(message)) return PachCode.ALREADY_EXISTS;
  if (
    /has already finished|has not been finished|cannot start a commit on an output branch/.test(
      message,
    )
  ) {
    return PachCode.FAILED_PRECONDITION;
  }
  return fallback;
}
