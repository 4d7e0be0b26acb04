/**
 * `reelgraph worker <train|predict>`: the pipeline programs, as a pipeline spec's `transform.cmd`
 * runs them (in the worker image, and on the embedded engine through `bin/reelgraph`, which
 * sends `worker …` straight to `src/workers/main.ts` for a faster start). Both paths call
 * {@link runWorker}; see src/workers/ for inputs, outputs and file formats.
 */
import { Command } from 'commander';
import { runWorker, WORKERS } from '../../workers/main';

/** Build the `worker` command with one sub-command per pipeline program. */
export function workerCommand(): Command {
  const cmd = new Command('worker').description(
    'Run a pipeline program on the datum(s) under $REELGRAPH_PFS_ROOT (default /pfs), as a Pachyderm worker does.',
  );
  const describe: Record<(typeof WORKERS)[number], string> = {
    train:
      'fit $REELGRAPH_ALGO (default SVD) with $REELGRAPH_PARAMS on every rating under /pfs/training; write model.rgm, metrics.json, manifest.json to /pfs/out',
    predict:
      'answer the request file(s) under /pfs/streaming with /pfs/train/model.rgm; write /pfs/out/<same name>',
  };
  for (const name of WORKERS) {
    cmd
      .command(name)
      .description(describe[name])
      .action(async () => {
        const code = await runWorker(name);
        // the datum's own error is already on stderr; main adds one line and exits 1
        if (code !== 0) throw new Error(`worker ${name} failed (a datum failed, see above)`);
      });
  }
  return cmd;
}
