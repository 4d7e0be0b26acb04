/**
 * `reelgraph gc`: log retention for an embedded data directory (src/pachyderm/embedded/gc.ts).
 * Drops the log lines of finished jobs older than `--log-days` days and/or beyond the newest
 * `--keep-jobs` jobs of each pipeline; commits, files (every answer and model), jobs and datums
 * stay. Safe next to a running server (`--vacuum` is best with it stopped). Prints what it
 * dropped and the database's size before and after, or `--json`.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { CommandIo } from '../data-options';
import { humanSize, resolveDataDir } from '../pach-options';
import { gcDataDir } from '../../pachyderm/embedded/gc';
import { UsageError } from '../errors';

/** The options of `reelgraph gc`. */
export interface GcOptions {
  dataDir?: string;
  logDays?: number;
  keepJobs?: number;
  vacuum?: boolean;
  json?: boolean;
}

/** A non-negative number of days (fractions allowed) or jobs (integer) given on the command line. */
function nonNegative(integer: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `expected a non-negative ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`,
      );
    }
    return n;
  };
}

/** Build the `gc` command; `io` defaults to the process's stdout/stderr. */
export function gcCommand(io: CommandIo = process): Command {
  return new Command('gc')
    .description(
      'Drop the logs of old finished jobs of an embedded data directory (log retention); every commit, answer, model and job stays.',
    )
    .option(
      '--data-dir <dir>',
      "the embedded engine's data directory (default: $REELGRAPH_DATA_DIR or ~/.reelgraph)",
    )
    .option(
      '--log-days <days>',
      'drop the logs of jobs finished more than this many days ago',
      nonNegative(false),
    )
    .option(
      '--keep-jobs <n>',
      'keep the logs of the newest n jobs of each pipeline, drop older ones',
      nonNegative(true),
    )
    .option(
      '--vacuum',
      'then give the freed pages back to the file system (SQLite VACUUM; best with the service stopped)',
    )
    .option('--json', 'print {lines, jobs, bytesBefore, bytesAfter} as JSON')
    .action((opts: GcOptions) => {
      if (opts.logDays === undefined && opts.keepJobs === undefined) {
        throw new UsageError('gc: give --log-days DAYS and/or --keep-jobs N (what to keep)');
      }
      const dir = resolveDataDir(opts);
      const r = gcDataDir(dir, {
        olderThanMs: opts.logDays !== undefined ? Math.round(opts.logDays * 86_400_000) : undefined,
        keepJobs: opts.keepJobs,
        vacuum: !!opts.vacuum,
      });
      io.stdout.write(
        opts.json
          ? JSON.stringify(r) + '\n'
          : `dropped ${r.lines} log lines of ${r.jobs} jobs; database ${humanSize(r.bytesBefore)} → ${humanSize(r.bytesAfter)}\n`,
      );
    });
}
