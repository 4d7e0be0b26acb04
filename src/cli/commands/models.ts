/**
 * `reelgraph models`: the model versions of a running service (its API) and what serves.
 * - `models` lists them (VERSION, ALGORITHM, PIPELINE, RATINGS, HOLDOUT RMSE, SERVING);
 * - `models serve <version> [--reason TEXT]` pins the serving model (a rollback), `models unpin`
 *   lets the newest serve again (the pin is stored in the repos: every replica and restart agree);
 * - `models download <version> [--out FILE]` saves a version's model file (engine/model-file.ts
 *   format: `loadModel(fs.readFileSync(FILE))` gives the fitted algorithm back in code).
 */
import * as fs from 'node:fs';
import { Command } from 'commander';
import type { CommandIo } from '../data-options';
import { addApiOptions, getBytes, graphql, type ApiOptions } from '../api-client';
import { formatTable } from '../pach-options';

const FIELDS =
  'version algorithm ranker { name } pipelineVersion ratingsCount holdoutRmse serving servingReason createdAt';

interface ModelRow {
  version: string;
  algorithm: string;
  ranker: { name: string } | null;
  pipelineVersion: number | null;
  ratingsCount: number;
  holdoutRmse: number | null;
  serving: boolean;
  servingReason: string | null;
}

/** Build the `models` command. */
export function modelsCommand(io: CommandIo = process): Command {
  const cmd = new Command('models').description(
    'List the model versions of a running service; pin, unpin or download one (through its API).',
  );
  addApiOptions(cmd)
    .option('--first <n>', 'how many, newest first (1…100)', '20')
    .option('--json', 'print the versions as JSON')
    .action(async (opts: ApiOptions & { first: string; json?: boolean }) => {
      const data = await graphql<{ models: ModelRow[] }>(
        opts,
        `query($first: Int) { models(first: $first) { ${FIELDS} } }`,
        { first: Number(opts.first) },
      );
      io.stdout.write(
        opts.json
          ? JSON.stringify(data.models, null, 2) + '\n'
          : formatTable(
              ['VERSION', 'ALGORITHM', 'RANKER', 'PIPELINE', 'RATINGS', 'HOLDOUT RMSE', 'SERVING'],
              data.models.map((m) => [
                m.version,
                m.algorithm,
                m.ranker?.name ?? '-',
                m.pipelineVersion === null ? '-' : `v${m.pipelineVersion}`,
                String(m.ratingsCount),
                m.holdoutRmse === null ? '-' : m.holdoutRmse.toFixed(4),
                m.serving ? `yes (${m.servingReason ?? ''})` : '',
              ]),
            ),
      );
    });

  const serve = new Command('serve')
    .description('Pin the serving model to a version (e.g. roll back to an older model).')
    .argument('<version>', 'the model version (train commit id)');
  addApiOptions(serve)
    .option('--reason <text>', 'why (kept with the pin)')
    .action(async (version: string, _o: unknown, self: Command) => {
      // --api/--token may be given before or after the sub-command (the parent has them too)
      const opts = self.optsWithGlobals<ApiOptions & { reason?: string }>();
      const data = await graphql<{ serveModel: ModelRow | null }>(
        opts,
        `mutation($v: ID, $r: String) { serveModel(version: $v, reason: $r) { ${FIELDS} } }`,
        { v: version, r: opts.reason ?? null },
      );
      io.stdout.write(
        `serving ${data.serveModel?.version} (${data.serveModel?.algorithm}): ${data.serveModel?.servingReason}\n`,
      );
    });
  cmd.addCommand(serve);

  const unpin = new Command('unpin').description('Let the newest model serve again.');
  addApiOptions(unpin).action(async (_o: unknown, self: Command) => {
    const opts = self.optsWithGlobals<ApiOptions>();
    const data = await graphql<{ serveModel: ModelRow | null }>(
      opts,
      `mutation { serveModel(version: null) { ${FIELDS} } }`,
    );
    io.stdout.write(
      data.serveModel
        ? `serving ${data.serveModel.version} (${data.serveModel.algorithm}): ${data.serveModel.servingReason}\n`
        : 'unpinned; no model yet\n',
    );
  });
  cmd.addCommand(unpin);

  const download = new Command('download')
    .description("Save a model version's file (model.rgm; engine loadModel reads it back).")
    .argument('<version>', 'the model version (train commit id)');
  addApiOptions(download)
    .option('--out <file>', 'where to write it (default: model-<version>.rgm)')
    .action(async (version: string, _o: unknown, self: Command) => {
      const opts = self.optsWithGlobals<ApiOptions & { out?: string }>();
      const { bytes, headers } = await getBytes(
        opts,
        `/models/${encodeURIComponent(version)}/model.rgm`,
      );
      const out = opts.out ?? `model-${version}.rgm`;
      fs.writeFileSync(out, bytes);
      io.stdout.write(
        `wrote ${out} (${bytes.length} bytes, sha256 ${headers.get('x-model-sha256') ?? '?'})\n`,
      );
    });
  cmd.addCommand(download);
  return cmd;
}
