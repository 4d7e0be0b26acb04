/**
 * `reelgraph init [--data-dir DIR] [--dataset NAME|FILE] [--rating-scale LO,HI]`: the first start
 * of the engine — repos `training` and `streaming`, the data set and the settings (rating scale)
 * as the first training commit (services/initial-data.ts: MovieLens 100K by default, another
 * built-in one, a ratings file, or `none`), the pipelines `train` and `predict` — then waits for
 * the first model (none with `--dataset none`) and prints its metrics. Idempotent: a second run
 * creates nothing and runs no job (see src/services/bootstrap.ts).
 *
 * Built-in data sets are read from `--datasets DIR` / `REELGRAPH_DATASETS` (a directory holding
 * `ml-100k/` …), else the download cache, else downloaded from GroupLens and verified.
 */
import { Command, Option } from 'commander';
import { ratingScaleArg, type CommandIo } from '../data-options';
import type { RatingScale } from '../../engine/dataset/raw-ratings';
import { UsageError } from '../errors';
import { addDataDirOption, resolveEngine, type DataDirOptions } from '../pach-options';
import { jobJson } from './jobs';
import { bootstrap, openEngine, type BootstrapResult } from '../../services/bootstrap';

/** The options of `reelgraph init`. */
export interface InitOptions extends DataDirOptions {
  dataset?: string;
  ratingScale?: RatingScale;
  datasets?: string;
  download?: boolean;
  timeout?: string;
  json?: boolean;
}

/** The summary `init` prints (also its `--json` output). */
export function formatInit(r: BootstrapResult): string {
  const lines: string[] = [];
  if (r.createdRepos.length) lines.push(`created repos: ${r.createdRepos.join(', ')}`);
  if (r.baseCommit) {
    lines.push(
      `committed ${r.baseDescription ?? 'the data set'} (${r.baseFiles.join(', ')}) as training@${r.baseCommit}`,
    );
  }
  if (r.createdPipelines.length) lines.push(`created pipelines: ${r.createdPipelines.join(', ')}`);
  if (r.updatedPipelines.length) {
    lines.push(`updated pipelines (new inputs): ${r.updatedPipelines.join(', ')}`);
  }
  if (
    !r.createdRepos.length &&
    !r.baseCommit &&
    !r.createdPipelines.length &&
    !r.updatedPipelines.length
  ) {
    lines.push('already initialised: nothing to do');
  }
  if (!r.model && r.baseCommit)
    lines.push('model: none yet (no ratings): add ratings to train one');
  if (r.model) {
    const m = r.model.metrics;
    lines.push(
      `model: train@${r.model.commit} (training commit ${r.model.manifest.trainingCommit ?? '?'})`,
      `  algorithm   ${m.algorithm}`,
      `  ratings     ${m.ratings} (${m.users} users, ${m.items} movies; ${m.duplicatesReplaced} replaced)`,
      `  fit         ${m.fitSeconds.toFixed(3)} s`,
      m.holdout
        ? `  holdout     RMSE ${m.holdout.rmse.toFixed(4)}  MAE ${m.holdout.mae.toFixed(4)}  (${m.holdout.testSize} ratings, seed ${m.holdout.seed})`
        : '  holdout     none (fewer than 2 ratings)',
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The `--json` output of `init`: the {@link BootstrapResult} with the model's job rendered by
 * {@link jobJson} (JobState by name, e.g. `"JOB_SUCCESS"`, as the other `--json` outputs).
 */
export function initJson(r: BootstrapResult): object {
  return { ...r, model: r.model ? { ...r.model, job: jobJson(r.model.job) } : null };
}

/** Build the `init` command; `io` defaults to the process's stdout/stderr. */
export function initCommand(io: CommandIo = process): Command {
  const cmd = new Command('init').description(
    'Create the repos and pipelines (embedded engine, or the pachd of --pachd-address), commit the data set (MovieLens 100K by default) and the rating scale as the first training commit, wait for the first model and print its metrics (idempotent).',
  );
  return addDataDirOption(cmd)
    .option(
      '--dataset <name|file>',
      'the data set of the first commit: ml-100k (default), ml-1m, ml-latest-small, none (no ratings yet), or a ratings file (.csv with or without header, or user item rating [timestamp] lines)',
    )
    .option(
      '--rating-scale <lo,hi>',
      "the service's rating scale, e.g. 0.5,5 (default: the data set's; 1,5 for a file or none); every input path enforces it",
      ratingScaleArg,
    )
    .option(
      '--datasets <dir>',
      'directory holding ml-100k/ (default: $REELGRAPH_DATASETS, else the download cache)',
    )
    .option('--no-download', 'fail instead of downloading a built-in data set when it is not found')
    .addOption(
      new Option(
        '--timeout <seconds>',
        'give up waiting for the first model after this long',
      ).default('600'),
    )
    .option(
      '--json',
      'print {createdRepos, baseCommit, createdPipelines, updatedPipelines, model} as JSON',
    )
    .action(async (opts: InitOptions) => {
      const timeout = Number(opts.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) {
        throw new UsageError(
          `--timeout ${JSON.stringify(opts.timeout)} is invalid: expected seconds > 0`,
        );
      }
      const pach = await openEngine(resolveEngine(opts));
      try {
        const result = await bootstrap(pach, {
          dataset: opts.dataset,
          ratingScale: opts.ratingScale,
          datasets: {
            ...(opts.datasets ? { datasetsDir: opts.datasets } : {}),
            download: opts.download !== false,
          },
          timeoutMs: timeout * 1000,
          log: opts.json ? undefined : (line) => io.stderr.write(line + '\n'),
        });
        io.stdout.write(
          opts.json ? JSON.stringify(initJson(result), null, 2) + '\n' : formatInit(result),
        );
      } finally {
        await pach.close();
      }
    });
}
