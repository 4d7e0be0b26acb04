/**
 * `--workers <n>`, shared by `reelgraph compare` and `reelgraph search`: how many folds (or grid
 * candidates' folds) are fitted at the same time on the fold pool's worker threads
 * (src/engine/model-selection/pooled.ts). 1 runs them one after the other in the command's own
 * thread; the figures are the same bit for bit either way, only the times differ.
 */
import type { Command } from 'commander';
import { poolSize, WORKERS_ENV } from '../engine/model-selection/pool';
import { asUsage, UsageError } from './errors';

/** The default: `REELGRAPH_WORKERS`, else the number of cores (1 when the variable is bad). */
function defaultWorkers(): number {
  try {
    return poolSize();
  } catch {
    return 1;
  }
}

/** Adds `--workers <n>` to a command. */
export function addWorkersOption(cmd: Command): Command {
  return cmd.option(
    '--workers <n>',
    'folds fitted at the same time, on worker threads (1 = one after the other in this ' +
      'process; same figures either way, only the times differ; default: ' +
      `${WORKERS_ENV}, else the number of cores: ${defaultWorkers()} here)`,
  );
}

/**
 * `--workers`: a whole number in [1, 256]; absent: `REELGRAPH_WORKERS`, else the number of cores.
 * @throws UsageError naming the option (or the variable) and what is expected.
 */
export function planWorkers(value: string | undefined): number {
  if (value === undefined) return asUsage(() => poolSize());
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 256) {
    throw new UsageError(`--workers must be a whole number in [1, 256], got '${value}'`);
  }
  return n;
}
