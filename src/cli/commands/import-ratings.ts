/**
 * `reelgraph import ratings FILE`: a ratings file of any size (MovieLens `u.data`, `ratings.dat`
 * with `::`, or `ratings.csv` with its header) streamed into the `training` repo in bounded memory,
 * staged chunk by chunk on a side branch, then made visible on `master` in ONE commit (one train
 * job per import), resumable.
 *
 * - **Streaming.** The file is read in 4 MiB pieces through the engine's byte parser
 *   (engine/dataset/stream-parse.ts); at most one chunk of ratings (default 1 000 000) is held,
 *   plus the table of distinct ids, and each chunk is encoded into one reused byte buffer
 *   ({@link ChunkEncoder}).
 * - **Layout.** Chunk k is published as `/batches/<13-digit epoch ms>-<hash12><k as 4 hex>.txt` —
 *   the services' batch-file layout (services/ratings.ts: lines `user_id movie_id rating
 *   timestamp`; names in commit order, so the train worker's "last rating wins" rule follows the
 *   file's line order across chunks). `hash12` is the first 12 hex digits of the file's SHA-256;
 *   the ms is the time of publishing, the same for every chunk of one import.
 * - **One train job; nothing half-visible.** Each chunk is one commit on the side branch
 *   `import-<hash12>` of the repo, which no pipeline reads; when every chunk is staged, one commit
 *   on `master` copies them all (services/import-staging.ts), so pipelines reading
 *   `training@master` run once, on the whole file, and a reader of master sees all of it or none.
 * - **Resumable.** Before importing, the chunks of this file (same `hash12`) already on master or
 *   staged on the side branch are listed and skipped (parsed, not committed again). A re-run after
 *   a kill therefore stages exactly the missing chunks and publishes: every rating once. Chunk
 *   boundaries depend only on the file and `--chunk`; resuming with another `--chunk` is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  LARGE_DATASETS,
  builtinSpec,
  resolveBuiltin,
  type DownloadableDatasetName,
} from '../../engine/dataset/builtin';
import { fileSha256Hex } from '../../engine/dataset/builtin';
import { Reader } from '../../engine/dataset/reader';
import { RatingColumns, StreamParser, CHUNK_BYTES } from '../../engine/dataset/stream-parse';
import type { RawRatings, RatingScale } from '../../engine/dataset/raw-ratings';
import { Presets, SingleBar } from 'cli-progress';
import type { CommandIo } from '../data-options';
import { UsageError } from '../errors';
import { resolveEngine, type DataDirOptions } from '../pach-options';
import { openEmbeddedEngine, openEngine } from '../../services/bootstrap';
import { PachCode, isPachError } from '../../pachyderm/errors';
import type { Pachyderm } from '../../pachyderm/port';
import { ImportStaging, type PublishCopy } from '../../services/import-staging';
import { ChunkEncoder } from '../../services/batch-encoder';

export { ChunkEncoder };
import { TRAINING_RATING_SCALE } from '../../workers/training-data';
import { SETTINGS_PATH, parseSettings } from '../../workers/data-settings';

/** Ratings per chunk (one commit each) unless `--chunk` says otherwise. */
export const DEFAULT_IMPORT_CHUNK = 1_000_000;
/** Most chunks of one file (the chunk index is 4 hex digits in the batch name). */
export const MAX_IMPORT_CHUNKS = 0x10000;

/** The formats `import ratings` reads. */
export type RatingsFormat = 'udata' | 'dat' | 'csv';

/**
 * The reader of a format: `udata` (user item rating timestamp, tabs or spaces), `dat`
 * (`::`-separated, ml-1m's ratings.dat), `csv` (one header line, `,`, RFC 4180 quoting; ml-20m,
 * ml-25m, ml-latest). Extra fields are refused (MovieLens files have exactly these four).
 */
export function readerOf(format: RatingsFormat, ratingScale: RatingScale): Reader {
  const lineFormat = 'user item rating timestamp';
  if (format === 'csv') {
    return new Reader({ lineFormat, sep: ',', skipLines: 1, ratingScale, extraFields: 'reject' });
  }
  if (format === 'dat')
    return new Reader({ lineFormat, sep: '::', ratingScale, extraFields: 'reject' });
  return new Reader({ lineFormat, ratingScale, extraFields: 'reject' });
}

/**
 * The format of a file from its first line: a line starting `userId,` or holding a comma is
 * `csv`; one holding `::` is `dat`; else `udata`.
 * @throws Error naming the file when it cannot be read or is empty.
 */
export function detectFormat(file: string): RatingsFormat {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n === 0) throw new Error(`${file} is empty: expected ratings lines`);
    const first = buf.subarray(0, n).toString('latin1').split('\n')[0];
    if (first.includes('::')) return 'dat';
    if (first.includes(',')) return 'csv';
    return 'udata';
  } finally {
    fs.closeSync(fd);
  }
}

/** The batch name of chunk `index` of a file whose SHA-256 starts with `hash12`, at `ms`. */
export function chunkBatchPath(ms: number, hash12: string, index: number): string {
  return `/batches/${String(ms).padStart(13, '0')}-${hash12}${index.toString(16).padStart(4, '0')}.txt`;
}

/**
 * The chunk indices of a file (by `hash12`) among batch paths, and the chunk size they were made
 * with when recorded. @returns a set of indices.
 */
export function committedChunks(paths: Iterable<string>, hash12: string): Set<number> {
  const re = new RegExp(`^/batches/\\d{13}-${hash12}([0-9a-f]{4})\\.txt$`);
  const out = new Set<number>();
  for (const p of paths) {
    const m = re.exec(p);
    if (m) out.add(parseInt(m[1], 16));
  }
  return out;
}

/** The text of a batch file for ratings: {@link ChunkEncoder.encode} as a string (small chunks, tests). */
export function chunkText(raw: RawRatings, firstRating: number): string {
  return new ChunkEncoder().encode(raw, firstRating).toString('utf8');
}

/**
 * Where chunks go. The importer stages every chunk, then publishes them in one step, so a reader
 * of the visible side never sees part of an import.
 */
export interface ChunkSink {
  /** Batch paths (`/batches/…`) visible to readers (training@master). */
  visible(): Promise<string[]>;
  /** Batch paths staged by earlier runs of this import and not yet published. */
  staged(): Promise<string[]>;
  /** The text of a file (the import manifest), visible or staged, or null when there is none. */
  read(path: string): Promise<string | null>;
  /** Stages files atomically (one commit): a batch file, and with chunk 0 the manifest. */
  stage(files: { path: string; data: Buffer }[]): Promise<void>;
  /** Makes the staged `src` paths visible as `dst`, all in one step (one commit). */
  publish(copies: PublishCopy[]): Promise<void>;
}

/**
 * The manifest of an import, staged with its chunk 0: `/imports/<hash12>.json` =
 * `{sha256, format, chunk}`. A resumed import must use the same chunk size (its boundaries).
 */
export function manifestPath(hash12: string): string {
  return `/imports/${hash12}.json`;
}

/** Options of {@link importRatingsFile}. */
export interface ImportRatingsOptions {
  format: RatingsFormat;
  ratingScale: RatingScale;
  /** Ratings per chunk (1 … 10 000 000). */
  chunk: number;
  /** Called after each chunk (staged or skipped) and after each 4 MiB read. */
  onProgress?: (p: ImportProgress) => void;
  /** The time used in the published batch names, ms since the epoch (default: at publishing). */
  now?: () => number;
}

/** Progress and result of an import. */
export interface ImportProgress {
  bytesRead: number;
  bytesTotal: number;
  /** Ratings parsed so far. */
  ratings: number;
  /** Chunks staged by this run. */
  committed: number;
  /** Chunks skipped because an earlier run staged or published them. */
  skipped: number;
  /** Chunks made visible by this run's publishing commit (0 before the end). */
  published: number;
  /** The batch path just staged or skipped, when the event is a chunk. */
  path?: string;
}

/**
 * Streams `file` into the sink `sinkFor(hash12)` in chunks (see the module documentation): each chunk not already
 * staged or visible is encoded and staged; at the end every staged chunk (and the manifest) is
 * published in one step under `/batches/<publish ms>-<hash12><k>.txt`, so the chunks sort in
 * file order after everything visible before.
 * @returns the final progress (ratings, staged, skipped and published chunks).
 * @throws DatasetFormatError at the first malformed line (chunks before it stay staged, never
 *   published; a re-run after fixing the line is another file — its hash differs); RangeError when
 *   the file needs more than {@link MAX_IMPORT_CHUNKS} chunks, or when an earlier run used another
 *   `--chunk`.
 */
export async function importRatingsFile(
  file: string,
  sinkFor: (hash12: string) => ChunkSink,
  opts: ImportRatingsOptions,
): Promise<ImportProgress & { sha256: string }> {
  const sha256 = fileSha256Hex(file);
  const hash12 = sha256.slice(0, 12);
  const sink = sinkFor(hash12);
  const visible = committedChunks(await sink.visible(), hash12);
  const stagedPaths = await sink.staged();
  const staged = committedChunks(stagedPaths, hash12);
  const manifestText = await sink.read(manifestPath(hash12));
  if (manifestText !== null) {
    const m = JSON.parse(manifestText) as { chunk?: unknown; sha256?: unknown };
    if (m.sha256 === sha256 && m.chunk !== opts.chunk) {
      throw new RangeError(
        `${file}: an earlier import of this file (${manifestPath(hash12)}) used --chunk ${String(m.chunk)}; ` +
          `resume it with --chunk ${String(m.chunk)} (chunk boundaries must not move)`,
      );
    }
  }
  const manifest = Buffer.from(
    JSON.stringify({ sha256, format: opts.format, chunk: opts.chunk }) + '\n',
  );
  const reader = readerOf(opts.format, opts.ratingScale);
  const out = new RatingColumns(true);
  const parser: StreamParser = reader.streamParser(file, out);
  const encoder = new ChunkEncoder();
  const bytesTotal = fs.statSync(file).size;
  const progress: ImportProgress = {
    bytesRead: 0,
    bytesTotal,
    ratings: 0,
    committed: 0,
    skipped: 0,
    published: 0,
  };
  /** Staged path of each chunk index (from earlier runs and this one). */
  const stagedAt = new Map<number, string>();
  for (const p of stagedPaths) {
    const k = committedChunks([p], hash12);
    for (const index of k) stagedAt.set(index, p);
  }
  let index = 0;
  const emit = async (raw: RawRatings) => {
    if (index >= MAX_IMPORT_CHUNKS) {
      throw new RangeError(
        `${file} needs more than ${MAX_IMPORT_CHUNKS} chunks of ${opts.chunk} ratings; use a larger --chunk`,
      );
    }
    const first = progress.ratings;
    progress.ratings += raw.length;
    if (visible.has(index) || staged.has(index)) {
      progress.skipped++;
      progress.path = `chunk ${index} (${visible.has(index) ? 'committed' : 'staged'} earlier)`;
    } else {
      // staged names carry no time: the published name gets the time of publishing
      const p = chunkBatchPath(0, hash12, index);
      const files = [{ path: p, data: encoder.encode(raw, first) }];
      if (index === 0) files.push({ path: manifestPath(hash12), data: manifest });
      await sink.stage(files);
      stagedAt.set(index, p);
      progress.committed++;
      progress.path = p;
    }
    index++;
    opts.onProgress?.({ ...progress });
    progress.path = undefined;
  };
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      progress.bytesRead += n;
      parser.push(buf.subarray(0, n));
      while (out.length >= opts.chunk) await emit(out.take(opts.chunk));
      opts.onProgress?.({ ...progress });
    }
    parser.end();
    while (out.length >= opts.chunk) await emit(out.take(opts.chunk));
    if (out.length > 0) await emit(out.take(out.length));
  } finally {
    fs.closeSync(fd);
  }
  // a chunk recorded beyond the end: another --chunk was used by the earlier run
  const beyond = [...visible, ...staged].filter((k) => k >= index);
  if (beyond.length > 0) {
    throw new RangeError(
      `${file}: the training repo holds chunk ${beyond[0]} of this file, beyond its ${index} chunks of ` +
        `${opts.chunk}: an earlier import used another --chunk; re-run with that --chunk`,
    );
  }
  const ms = (opts.now ?? Date.now)();
  const copies: PublishCopy[] = [];
  for (let k = 0; k < index; k++) {
    if (visible.has(k)) continue;
    const src = stagedAt.get(k);
    if (src === undefined) throw new Error(`chunk ${k} of ${file} was neither staged nor visible`);
    copies.push({ src, dst: chunkBatchPath(ms, hash12, k) });
  }
  if (copies.length > 0 && !visible.has(0)) {
    copies.push({ src: manifestPath(hash12), dst: manifestPath(hash12) });
  }
  await sink.publish(copies);
  progress.published = copies.filter((c) => c.src !== manifestPath(hash12)).length;
  opts.onProgress?.({ ...progress });
  return { ...progress, sha256 };
}

/** Options of `reelgraph import ratings`. */
export interface ImportRatingsCliOptions extends DataDirOptions {
  repo: string;
  chunk: string;
  format: string;
  json?: boolean;
  progress?: boolean;
}

/**
 * A sink staging chunks on the side branch `import-<hash12>` of `repo` and publishing them to
 * `repo@master` in one commit (services/import-staging.ts).
 */
export function pachSink(pach: Pachyderm, repo: string, hash12: string): ChunkSink {
  const staging = new ImportStaging(pach, repo, hash12);
  return {
    visible: () => staging.visible('/batches/'),
    staged: () => staging.staged('/batches/'),
    read: (p) => staging.read(p),
    stage: (files) => staging.stage(files),
    async publish(copies) {
      await staging.publish(copies);
    },
  };
}

/**
 * Runs `reelgraph import ratings <file>`: opens the engine (embedded in the data directory, its
 * jobs not run by this process; or `--pachd-address`), reads the repo's rating scale from its
 * `/settings.json` (MovieLens's [1, 5] without one), and imports (see the module documentation),
 * with a progress bar on a terminal and one line per chunk otherwise.
 * @throws UsageError for a bad --chunk/--format or a missing file; the errors of
 *   {@link importRatingsFile}; NOT_FOUND when the repo does not exist.
 */
export async function runImportRatings(
  file: string,
  opts: ImportRatingsCliOptions,
  io: CommandIo,
): Promise<void> {
  const chunk = Number(opts.chunk);
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 10_000_000) {
    throw new UsageError(
      `--chunk ${JSON.stringify(opts.chunk)}: expected a whole number of ratings in 1…10000000`,
    );
  }
  if (!['auto', 'udata', 'dat', 'csv'].includes(opts.format)) {
    throw new UsageError(
      `--format ${JSON.stringify(opts.format)}: expected auto, udata, dat or csv`,
    );
  }
  if (!fs.existsSync(file) && Object.keys(LARGE_DATASETS).concat(['ml-1m']).includes(file)) {
    // a MovieLens release by name: found locally or downloaded, its zip checked (builtin.ts)
    const name = file as DownloadableDatasetName;
    const dir = await resolveBuiltin(name, { progress: opts.json ? false : io.stderr });
    file = path.join(dir, builtinSpec(name).ratingsFile);
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new UsageError(`${file}: no such file (nor ml-1m, ml-10m, ml-20m, ml-25m, ml-32m)`);
  }
  const format = opts.format === 'auto' ? detectFormat(file) : (opts.format as RatingsFormat);
  const sel = resolveEngine(opts);
  const pach = sel.pachdAddress
    ? await openEngine(sel)
    : await openEmbeddedEngine(sel.dataDir, { pps: { runJobs: false } });
  const bar =
    opts.progress !== false && !opts.json && (io.stderr as NodeJS.WriteStream).isTTY
      ? new SingleBar(
          {
            stream: io.stderr as NodeJS.WriteStream,
            format:
              'import [{bar}] {percentage}% | {ratings} ratings | {committed} chunks committed, {skipped} skipped',
          },
          Presets.shades_classic,
        )
      : null;
  try {
    await pach.inspectRepo(opts.repo);
    let scale: RatingScale = TRAINING_RATING_SCALE;
    try {
      const text = (
        await pach.readFile({ commit: `${opts.repo}@master`, path: SETTINGS_PATH })
      ).toString('utf8');
      scale = parseSettings(text).ratingScale;
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    bar?.start(fs.statSync(file).size, 0, { ratings: 0, committed: 0, skipped: 0 });
    const t0 = Date.now();
    const res = await importRatingsFile(file, (h) => pachSink(pach, opts.repo, h), {
      format,
      ratingScale: scale,
      chunk,
      onProgress: (p) => {
        bar?.update(p.bytesRead, {
          ratings: p.ratings,
          committed: p.committed,
          skipped: p.skipped,
        });
        if (!bar && !opts.json && p.path) {
          io.stderr.write(`chunk of ${p.ratings} ratings so far: ${p.path} (staged)\n`);
        }
      },
    });
    bar?.stop();
    const seconds = (Date.now() - t0) / 1000;
    io.stdout.write(
      opts.json
        ? JSON.stringify(
            {
              file,
              format,
              sha256: res.sha256,
              ratings: res.ratings,
              committed: res.committed,
              skipped: res.skipped,
              published: res.published,
              seconds,
            },
            null,
            2,
          ) + '\n'
        : `imported ${res.ratings} ratings from ${file} (${format}, sha256 ${res.sha256.slice(0, 12)}…) into ${opts.repo}: ` +
            `${res.committed} chunk${res.committed === 1 ? '' : 's'} committed, ${res.skipped} already there, ` +
            `${res.published} published to ${opts.repo}@master in one commit, in ${seconds.toFixed(1)} s\n`,
    );
  } finally {
    bar?.stop();
    await pach.close();
  }
}
