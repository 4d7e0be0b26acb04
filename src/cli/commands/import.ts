/**
 * `reelgraph import movies|users FILE`: a movie catalogue or users' attributes from a CSV file into
 * a running service (the layout of services/catalog-files.ts: movies `movieId,title,genres,year[,
 * extra…]`, genres `|`-separated; users `userId[,attribute…]`). The whole file is validated here
 * first — every problem is named by its line, and nothing is sent while any is wrong — then sent
 * through the API's `upsertMovies` / `upsertUsers` in chunks of `--chunk` rows (default 2000),
 * each one catalogue file and one `training` commit. A later row (or file) overrides an earlier
 * one with the same id.
 */
import * as fs from 'node:fs';
import { Command } from 'commander';
import type { CommandIo } from '../data-options';
import { UsageError } from '../errors';
import { addApiOptions, graphql, type ApiOptions } from '../api-client';
import {
  movieItemsOfCsv,
  userItemsOfCsv,
  validateMovies,
  validateUsers,
} from '../../services/catalog-files';
import { ValidationError } from '../../services/errors';
import { addDataDirOption } from '../pach-options';
import { runImportRatings, type ImportRatingsCliOptions } from './import-ratings';

/** Options of `reelgraph import`. */
export interface ImportOptions extends ApiOptions {
  chunk: string;
  json?: boolean;
}

const MUTATIONS = {
  movies:
    'mutation($items: [MovieInput!]!) { result: upsertMovies(movies: $items) { path commit count replaced } }',
  users:
    'mutation($items: [UserInput!]!) { result: upsertUsers(users: $items) { path commit count replaced } }',
} as const;

/** Names a validation problem by its CSV line (header = line 1; blank lines are not counted). */
function byLine(e: ValidationError, file: string, lineOf: number[]): Error {
  const lines = e.issues
    .slice(0, 20)
    .map((i) =>
      i.index === null ? i.message : `${file} line ${lineOf[i.index]}: ${i.field}: ${i.message}`,
    );
  const more = e.issues.length > 20 ? `; and ${e.issues.length - 20} more` : '';
  return new Error(`${e.issues.length} problem(s), nothing imported: ${lines.join('; ')}${more}`);
}

/**
 * Runs `reelgraph import <kind> <file>`.
 * @throws UsageError for a bad --chunk or a missing file; Error naming every bad line (nothing
 *   sent), or the API's error
 */
export async function runImport(
  kind: 'movies' | 'users',
  file: string,
  opts: ImportOptions,
  io: CommandIo,
): Promise<void> {
  const chunk = Number(opts.chunk);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 10_000) {
    throw new UsageError(
      `--chunk ${JSON.stringify(opts.chunk)}: expected a whole number in 1…10000`,
    );
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new UsageError(`${file}: no such file`);
  }
  const text = fs.readFileSync(file, 'utf8');
  // line numbers of the rows (header is line 1; blank lines are skipped by the parser)
  const lineOf: number[] = [];
  text.split('\n').forEach((l, k) => k > 0 && l.trim() !== '' && lineOf.push(k + 1));
  let items: Record<string, unknown>[];
  try {
    items = kind === 'movies' ? movieItemsOfCsv(text, file) : userItemsOfCsv(text, file);
    const limits = { maxItems: Number.MAX_SAFE_INTEGER, maxIdLength: 64 };
    if (kind === 'movies') validateMovies(items, limits);
    else validateUsers(items, limits);
  } catch (e) {
    if (e instanceof ValidationError) throw byLine(e, file, lineOf);
    throw e;
  }
  const results: { path: string; commit: string; count: number; replaced: number }[] = [];
  for (let k = 0; k < items.length; k += chunk) {
    const part = items.slice(k, k + chunk);
    const data = await graphql<{ result: (typeof results)[number] }>(opts, MUTATIONS[kind], {
      items: part,
    });
    results.push(data.result);
    if (!opts.json) {
      io.stderr.write(
        `${kind} ${k + 1}–${k + part.length} of ${items.length}: ${data.result.path} (training@${data.result.commit})\n`,
      );
    }
  }
  const total = results.reduce((s, r) => s + r.count, 0);
  const replaced = results.reduce((s, r) => s + r.replaced, 0);
  io.stdout.write(
    opts.json
      ? JSON.stringify({ kind, file, count: total, replaced, files: results }, null, 2) + '\n'
      : `imported ${total} ${kind} (${replaced} replaced) from ${file} in ${results.length} file${results.length === 1 ? '' : 's'}\n`,
  );
}

/** Build the `import` command. */
export function importCommand(io: CommandIo = process): Command {
  const cmd = new Command('import').description(
    "Import a movie catalogue or users' attributes from a CSV file into a running service (its API): validated whole first, then committed to the training repo as catalogue files; or a ratings file of any size straight into the training repo (import ratings).",
  );
  for (const kind of ['movies', 'users'] as const) {
    const sub = new Command(kind)
      .description(
        kind === 'movies'
          ? 'movies from a CSV with the header movieId,title,genres,year[,extra columns…] (genres separated by |; extra columns kept)'
          : 'users from a CSV with the header userId[,attribute columns…] (e.g. userId,age,gender,occupation,zip)',
      )
      .argument('<file>', 'the CSV file (RFC 4180, UTF-8)');
    addApiOptions(sub)
      .option('--chunk <n>', 'rows per upsert call (one catalogue file and commit each)', '2000')
      .option('--json', 'print {kind, file, count, replaced, files} as JSON')
      .action(async (file: string, opts: ImportOptions) => runImport(kind, file, opts, io));
    cmd.addCommand(sub);
  }
  const ratings = new Command('ratings')
    .description(
      'ratings from a MovieLens-style file of any size (u.data, ratings.dat with ::, ratings.csv with its header) streamed into the training repo in bounded memory: staged chunk by chunk on the side branch import-<hash> (no pipeline reads it), then made visible on master in one commit, so the train pipeline runs once; resumable: a re-run after an interruption stages only the missing chunks, then publishes',
    )
    .argument(
      '<file>',
      'the ratings file (user, movie, rating, timestamp per line), or ml-1m, ml-10m, ml-20m, ml-25m, ml-32m (found in $REELGRAPH_DATASETS or the cache, else downloaded from GroupLens and checked against its published MD5)',
    );
  addDataDirOption(ratings)
    .option('--repo <name>', 'the repo the batches go to', 'training')
    .option(
      '--chunk <n>',
      'ratings per chunk (one /batches/ file and one staging commit each)',
      '1000000',
    )
    .option('--format <format>', 'auto (from the first line), udata, dat or csv', 'auto')
    .option('--no-progress', 'no progress bar (one line per chunk is printed instead)')
    .option(
      '--json',
      'print {file, format, sha256, ratings, committed, skipped, published, seconds} as JSON (committed = chunks staged by this run)',
    )
    .action(async (file: string, opts: ImportRatingsCliOptions) =>
      runImportRatings(file, opts, io),
    );
  cmd.addCommand(ratings);
  return cmd;
}
