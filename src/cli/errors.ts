/**
 * How the `reelgraph` commands report failure: a command throws, the program (main.ts) prints one
 * line `error: <message>` on stderr (no stack trace; set `REELGRAPH_DEBUG=1` to see one) and exits
 * with the code below.
 *
 * Exit codes: 0 success; 1 a failure while running (data not found, a malformed file, a job that
 * failed…); 2 a usage error (unknown option or command, a bad option value, an unknown algorithm
 * or parameter, a plugin that cannot be found or loaded).
 */
import { PluginError } from '../engine/algorithms/plugins';
import { ParamError } from '../engine/params';

/** Exit code of a usage error. */
export const EXIT_USAGE = 2;
/** Exit code of a failure while running. */
export const EXIT_FAILURE = 1;

/** A command line that cannot be run as given: names the option and what was expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The exit code for an error a command threw: 2 for usage errors (incl. ParamError and the
 * PluginError of a plugin named by `--plugin` or REELGRAPH_PLUGINS), else 1.
 */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError || err instanceof ParamError || err instanceof PluginError
    ? EXIT_USAGE
    : EXIT_FAILURE;
}

/**
 * Runs `fn`, turning any error it throws into a {@link UsageError} with the same message: for
 * validating option values with engine constructors (Reader, KFold…) that throw plain errors.
 */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
