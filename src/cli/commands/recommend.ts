/**
 * `reelgraph recommend --all-users`: the top N of every user, streamed, in bounded memory — the
 * job that exhausts memory in Surprise when done as `build_anti_testset()` + `test()` (every
 * (user, unrated item) pair materialised at once: 10k users × 100k items is a billion predictions).
 *
 * The ranker is either loaded from a ranker file (`--ranker-file ranker.rgr`, the one a `train`
 * commit holds) or fitted on a data set (`--ranker NAME` with the data options of `evaluate`).
 * Then, user by user (inner id order), one score array of the catalogue's size and a heap of N:
 * memory is O(items + N), whatever the number of users; output goes through a write stream that
 * is waited on when full (backpressure), so a slow disk cannot make it buffer without bound.
 *
 * Output lines (TSV): `user_id<TAB>rank<TAB>movie_id<TAB>score`, N lines per user, users in the
 * order the trainset first saw them. Progress (a bar on a terminal, a line every 10 % otherwise)
 * goes to stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { once } from 'node:events';
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { Trainset } from '../../engine/trainset';
import { getRanker, listRankers, loadRanker, type RankerBase } from '../../engine/rankers';
import { parseParamAssignment, mergeParams, type ParamValues } from '../../engine/params';
import {
  addDataOptions,
  collect,
  intArg,
  loadData,
  planData,
  type CommandIo,
  type DataOptions,
} from '../data-options';
import { UsageError } from '../errors';

/** The options of `reelgraph recommend`. */
export interface RecommendOptions extends DataOptions {
  allUsers?: boolean;
  first: number;
  out?: string;
  ranker: string;
  rankerFile?: string;
  param: string[];
  includeRated?: boolean;
  quiet?: boolean;
}

/** Builds the `recommend` command. */
export function recommendCommand(): Command {
  const cmd = new Command('recommend')
    .description(
      "Write every user's top N movies by a ranker, streamed in bounded memory (TSV: user, rank, movie, score).",
    )
    .option('--all-users', 'recommend for every user of the trainset (required)')
    .option('--first <n>', 'movies per user, 1…1000', intArg('--first', 1, 1000), 10)
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--ranker-file <file>',
      'a ranker file (ranker.rgr of a train commit) instead of fitting one',
    )
    .option(
      '--ranker <name>',
      `ranker to fit on the data set (${listRankers().join(', ')})`,
      'EASE',
    )
    .option('--param <name=value>', 'ranker parameter, repeatable', collect, [])
    .option('--include-rated', 'also rank the movies each user rated (default: left out)');
  return addDataOptions(cmd)
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      '\nOutput: one line per recommended movie, user_id<TAB>rank<TAB>movie_id<TAB>score, users in\n' +
        'trainset order. Memory: one score per movie and a heap of N at a time, whatever the\n' +
        'number of users; writes wait when the output is full.\n\n' +
        'Examples:\n' +
        '  reelgraph recommend --all-users --first 10 --out top10.tsv\n' +
        '  reelgraph recommend --all-users --ranker iALS --param nFactors=32 --dataset ml-latest-small\n' +
        '  reelgraph recommend --all-users --ranker-file ranker.rgr --first 20 > top20.tsv\n',
    )
    .action(async (opts: RecommendOptions) => {
      await runRecommend(opts, { stdout: process.stdout, stderr: process.stderr });
    });
}

/**
 * Runs `reelgraph recommend` with parsed options.
 * @throws UsageError without `--all-users`, for an `--out` in a missing directory, or
 *   `--ranker-file` combined with `--ranker`/`--param`; ParamError for a bad ranker or
 *   parameter; RankerFileError; the data set's errors.
 */
export async function runRecommend(opts: RecommendOptions, io: CommandIo): Promise<void> {
  if (!opts.allUsers) {
    throw new UsageError('recommend needs --all-users (one user at a time: the GraphQL API)');
  }
  if (opts.out !== undefined) {
    const dir = path.dirname(path.resolve(opts.out));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new UsageError(`--out '${opts.out}': directory ${dir} does not exist`);
    }
  }
  let ranker: RankerBase;
  if (opts.rankerFile !== undefined) {
    if (opts.param.length > 0)
      throw new UsageError('--param applies to a fitted --ranker, not --ranker-file');
    if (!fs.existsSync(opts.rankerFile)) {
      throw new UsageError(`--ranker-file '${opts.rankerFile}' does not exist`);
    }
    ranker = loadRanker(fs.readFileSync(opts.rankerFile));
  } else {
    const cls = getRanker(opts.ranker);
    let params: ParamValues = {};
    for (const a of opts.param) {
      params = mergeParams(params, parseParamAssignment(cls.paramSpecs, a, cls.rankerName));
    }
    ranker = new cls(params); // parameters checked before the data is read
    const p = planData(opts);
    const { data } = await loadData(opts, p, io);
    if (!opts.quiet) io.stderr.write(`fitting ${ranker.name} on ${data.ratings.length} ratings…\n`);
    ranker.fit(Trainset.build(data.ratings, data.ratingScale));
  }
  const out = opts.out !== undefined ? fs.createWriteStream(opts.out) : io.stdout;
  try {
    await streamAll(ranker, opts.first, !opts.includeRated, out, io, opts.quiet === true);
  } finally {
    if (opts.out !== undefined) {
      (out as fs.WriteStream).end();
      await once(out, 'close');
    }
  }
}

/** Writes every user's top `k`, one user at a time, waiting on `out` when it is full. */
async function streamAll(
  ranker: RankerBase,
  k: number,
  excludeRated: boolean,
  out: NodeJS.WritableStream,
  io: CommandIo,
  quiet: boolean,
): Promise<void> {
  const ts = ranker.trainset;
  const n = ts.nUsers;
  const mask = new Uint8Array(ts.nItems);
  let bar: SingleBar | null = null;
  if (!quiet && io.stderr.isTTY) {
    bar = new SingleBar({
      stream: io.stderr,
      format: 'users |{bar}| {value}/{total}',
      hideCursor: true,
      clearOnComplete: true,
    });
    bar.start(n, 0);
  }
  let nextNote = 0.1;
  try {
    for (let u = 0; u < n; u++) {
      const rated = ts.ur(u).items;
      if (excludeRated) for (const i of rated) mask[i] = 1;
      const top = ranker.topK(u, k, excludeRated ? mask : null);
      if (excludeRated) for (const i of rated) mask[i] = 0;
      const uid = ts.toRawUid(u);
      let text = '';
      for (let p = 0; p < top.ids.length; p++) {
        text += `${uid}\t${p + 1}\t${ts.toRawIid(top.ids[p])}\t${top.scores[p]}\n`;
      }
      if (!out.write(text)) await once(out, 'drain');
      if (bar) bar.update(u + 1);
      else if (!quiet && (u + 1) / n >= nextNote) {
        io.stderr.write(`${u + 1}/${n} users\n`);
        nextNote += 0.1;
      }
    }
  } finally {
    bar?.stop();
  }
}
