/**
 * `reelgraph pipelines`: the pipelines of the engine (embedded, or the pachd of --pachd-address), as `pachctl list
 * pipeline` prints them (NAME, VERSION, INPUT, CREATED, STATE / LAST JOB, DESCRIPTION);
 * `pipelines inspect <name>` one pipeline with its effective spec; `pipelines validate <file>`
 * parses a Pachyderm 2.x JSON spec and prints the effective spec (defaults applied) or the
 * field-named error, without touching any data; `pipelines apply [--reprocess] [--dry-run]`
 * creates reelgraph's pipelines or updates those whose spec (or worker image) changed
 * (services/pipeline-specs.ts); `pipelines update train --algo A --params JSON` changes the train
 * pipeline of a running service through its API (Pachyderm's UpdatePipeline). `--json` prints
 * PipelineInfo objects with enum names (protojson style).
 *
 * The data directory is opened read-only (but by `apply`): safe next to a running server.
 */
import * as fs from 'node:fs';
import { Command } from 'commander';
import type { CommandIo } from '../data-options';
import { addApiOptions, graphql, type ApiOptions } from '../api-client';
import { UsageError } from '../errors';
import {
  addDataDirOption,
  ago,
  formatTable,
  resolveEngine,
  withEngine,
  type DataDirOptions,
} from '../pach-options';
import {
  JobState,
  PipelineState,
  PipelineType,
  type Input,
  type PipelineInfo,
} from '../../pachyderm';
import { effectiveSpecJson, parsePipelineSpec } from '../../pachyderm/spec';
import { PIPELINES, openEngine, pipelineSpecFor } from '../../services/bootstrap';
import { applyPipelines, workerImageFromEnv } from '../../services/pipeline-specs';

/**
 * An input tree in pachctl's short form (`ShorthandInput`): `repo:glob` (with `@branch` when not
 * master), `(a ⨯ b)` for cross, `(a ∪ b)` for union, `(a ⋈ b)` for join, `(a, b)` grouped.
 */
export function shorthandInput(input: Input | undefined): string {
  if (!input) return 'none';
  if (input.pfs) {
    const p = input.pfs;
    const branch = p.branch && p.branch !== 'master' ? `@${p.branch}` : '';
    const project = p.project && p.project !== 'default' ? `${p.project}/` : '';
    return `${project}${p.repo}${branch}:${p.glob}`;
  }
  if (input.cron) return `${input.cron.name}:${input.cron.spec}`;
  const join = (xs: Input[], sep: string) => `(${xs.map(shorthandInput).join(sep)})`;
  if (input.cross) return join(input.cross, ' ⨯ ');
  if (input.union) return join(input.union, ' ∪ ');
  if (input.join) return join(input.join, ' ⋈ ');
  if (input.group) return `group${join(input.group, ', ')}`;
  return 'none';
}

/** pachctl's `STATE / LAST JOB` cell, e.g. `running / success`. */
export function stateCell(p: PipelineInfo): string {
  const state = (PipelineState[p.state] ?? String(p.state)).replace(/^PIPELINE_/, '').toLowerCase();
  const last = (JobState[p.lastJobState] ?? '').replace(/^JOB_/, '').toLowerCase();
  return `${state} / ${last === 'state_unknown' ? '-' : last}`;
}

/** A PipelineInfo as JSON: enum values by name (protojson style). */
export function pipelineJson(p: PipelineInfo): object {
  return {
    ...p,
    state: PipelineState[p.state],
    lastJobState: JobState[p.lastJobState],
    type: PipelineType[p.type],
  };
}

/** The table `reelgraph pipelines` prints. */
export function pipelinesTable(pipelines: PipelineInfo[], now = new Date()): string {
  return formatTable(
    ['NAME', 'VERSION', 'INPUT', 'CREATED', 'STATE / LAST JOB', 'DESCRIPTION'],
    pipelines.map((p) => [
      p.pipeline.project.name === 'default'
        ? p.pipeline.name
        : `${p.pipeline.project.name}/${p.pipeline.name}`,
      String(p.version),
      shorthandInput(p.details.input),
      ago(p.details.createdAt, now),
      stateCell(p),
      p.details.description,
    ]),
  );
}

/** What `reelgraph pipelines inspect` prints without `--json`. */
export function pipelineText(p: PipelineInfo): string {
  return (
    [
      `Name: ${p.pipeline.project.name}/${p.pipeline.name}`,
      `Version: ${p.version}`,
      `State: ${stateCell(p)}${p.stopped ? ' (stopped)' : ''}`,
      `Created: ${p.details.createdAt.toISOString()}`,
      `Input: ${shorthandInput(p.details.input)}`,
      `Transform: ${JSON.stringify(p.details.transform.cmd)}${p.details.transform.datumBatching ? ' (datum batching)' : ''}`,
      `Datum tries: ${p.details.datumTries}`,
      `Spec commit: ${p.specCommit ? `${p.specCommit.repo.name}@${p.specCommit.id}` : '-'}`,
      'Effective spec:',
      JSON.stringify(JSON.parse(p.effectiveSpecJson), null, 2),
    ].join('\n') + '\n'
  );
}

/** Options of `pipelines update`. */
export interface UpdateOptions extends ApiOptions {
  algo: string;
  params: string;
  seed?: string;
  json?: boolean;
}

/** What `pipelines update` (and `search --apply`) gets back. */
export interface PipelineUpdateResult {
  pipeline: string;
  version: number;
  algorithm: string;
  params: Record<string, unknown>;
  seed: number;
}

/**
 * Sends an updatePipeline to the API.
 * @throws UsageError for --params that is not a JSON object or a bad --seed; the API's
 *   BAD_USER_INPUT naming the parameter
 */
export async function runPipelineUpdate(
  pipeline: string,
  opts: UpdateOptions,
): Promise<PipelineUpdateResult> {
  let params: unknown;
  try {
    params = JSON.parse(opts.params);
  } catch (e) {
    throw new UsageError(
      `--params ${JSON.stringify(opts.params)} is not JSON: ${(e as Error).message}`,
    );
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new UsageError(`--params must be a JSON object, e.g. '{"nFactors": 50}'`);
  }
  let seed: number | null = null;
  if (opts.seed !== undefined) {
    seed = Number(opts.seed);
    if (!/^\d+$/.test(opts.seed) || seed > 2147483647) {
      throw new UsageError(
        `--seed ${JSON.stringify(opts.seed)}: expected a whole number in 0…2147483647`,
      );
    }
  }
  const data = await graphql<{ updatePipeline: PipelineUpdateResult }>(
    opts,
    'mutation($p: String!, $a: String!, $params: JSONObject, $seed: Int) { updatePipeline(pipeline: $p, algorithm: $a, params: $params, seed: $seed) { pipeline version algorithm params seed } }',
    { p: pipeline, a: opts.algo, params, seed },
  );
  return data.updatePipeline;
}

/** Build the `pipelines` command (with `inspect`, `update` and `validate`). */
export function pipelinesCommand(io: CommandIo = process): Command {
  const cmd = new Command('pipelines').description(
    'List the pipelines of the engine (embedded, or the pachd of --pachd-address) (like `pachctl list pipeline`).',
  );
  addDataDirOption(cmd)
    .option('--json', 'print a JSON array of PipelineInfo instead of a table')
    .action(async (opts: DataDirOptions & { json?: boolean }) => {
      const list = await withEngine(opts, async (pach) => {
        const out: PipelineInfo[] = [];
        for await (const p of pach.listPipeline()) out.push(p);
        return out;
      });
      io.stdout.write(
        opts.json ? JSON.stringify(list.map(pipelineJson), null, 2) + '\n' : pipelinesTable(list),
      );
    });

  const inspect = new Command('inspect')
    .description('Show one pipeline and its effective spec.')
    .argument('<pipeline>', 'the pipeline, as [project/]name');
  addDataDirOption(inspect)
    .option('--json', 'print the PipelineInfo as JSON')
    .action(async (name: string, _o: unknown, self: Command) => {
      const opts = self.optsWithGlobals<DataDirOptions & { json?: boolean }>();
      const info = await withEngine(opts, (pach) => pach.inspectPipeline(name));
      io.stdout.write(
        opts.json ? JSON.stringify(pipelineJson(info), null, 2) + '\n' : pipelineText(info),
      );
    });
  cmd.addCommand(inspect);

  const apply = new Command('apply')
    .description(
      "Create reelgraph's pipelines (train, predict) or update the ones whose spec differs, with the worker image of REELGRAPH_WORKER_IMAGE / REELGRAPH_WORKER_PULL_SECRETS; --reprocess reruns every datum.",
    )
    .option('--reprocess', 'update even unchanged pipelines and reprocess every datum')
    .option('--dry-run', 'only print what would be done');
  addDataDirOption(apply)
    .option('--json', 'print a JSON array of {name, action, version}')
    .action(async (_o: unknown, self: Command) => {
      const opts = self.optsWithGlobals<
        DataDirOptions & { json?: boolean; reprocess?: boolean; dryRun?: boolean }
      >();
      const pach = await openEngine(resolveEngine(opts));
      try {
        const image = workerImageFromEnv();
        const done = await applyPipelines(
          pach,
          PIPELINES.map((n) => pipelineSpecFor(n, pach, image)),
          { reprocess: opts.reprocess, dryRun: opts.dryRun },
        );
        io.stdout.write(
          opts.json
            ? JSON.stringify(done, null, 2) + '\n'
            : done
                .map(
                  (d) =>
                    `${d.name}: ${opts.dryRun && d.action !== 'unchanged' ? `would be ${d.action}` : d.action} (version ${d.version})`,
                )
                .join('\n') + '\n',
        );
      } finally {
        await pach.close();
      }
    });
  cmd.addCommand(apply);
  const update = new Command('update')
    .description(
      "Change the train pipeline's algorithm and parameters on a running service (its API's updatePipeline: a new pipeline version, reprocess, a new model). The parameters are checked against the algorithm's parameter specs first; nothing changes on error.",
    )
    .argument('<pipeline>', 'the pipeline: train');
  addApiOptions(update)
    .requiredOption('--algo <name>', 'the algorithm, e.g. SVD, SVDpp, NMF, KNNBaseline')
    .option('--params <json>', 'hyper-parameters as a JSON object, e.g. \'{"nFactors": 50}\'', '{}')
    .option('--seed <n>', 'the random seed (REELGRAPH_SEED), 0…2147483647')
    .option('--json', 'print the update as JSON')
    .action(async (pipeline: string, opts: UpdateOptions) => {
      const r = await runPipelineUpdate(pipeline, opts);
      io.stdout.write(
        opts.json
          ? JSON.stringify(r, null, 2) + '\n'
          : `updated pipeline ${r.pipeline} to version ${r.version}: ${r.algorithm} ${JSON.stringify(r.params)}, seed ${r.seed}; a train job refits the model\n`,
      );
    });
  cmd.addCommand(update);

  cmd.addCommand(
    new Command('validate')
      .description(
        'Check a Pachyderm 2.x JSON pipeline spec (camelCase or snake_case) and print the effective spec with defaults.',
      )
      .argument('<file>', 'the spec file ("-" for standard input)')
      .action((file: string) => {
        const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
        const spec = parsePipelineSpec(text);
        io.stdout.write(JSON.stringify(JSON.parse(effectiveSpecJson(spec)), null, 2) + '\n');
      }),
  );
  return cmd;
}
