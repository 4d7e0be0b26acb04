/**
 * The built-in MovieLens data sets: where their files are, and how they are fetched.
 *
 * Resolution order for a data set `<name>` (e.g. `ml-100k`):
 * 1. `<datasetsDir>/<name>/`, where `datasetsDir` is the option or the `REELGRAPH_DATASETS`
 *    environment variable (read only: nothing is ever written there);
 * 2. `<cacheDir>/<name>/`, where `cacheDir` is the option or `$XDG_CACHE_HOME/reelgraph/datasets`
 *    or `~/.cache/reelgraph/datasets`;
 * 3. download `<baseUrl>/<name>.zip` (baseUrl: option, `REELGRAPH_DATASETS_URL`, or GroupLens'
 *    https://files.grouplens.org/datasets/movielens), with a progress bar on stderr, streamed into
 *    a temporary file in the cache while its MD5 and SHA-256 are computed; check the zip's
 *    checksum, then unzip it entry by entry, streamed (zip-stream.ts: Node's raw inflate, bounded
 *    memory at any size), into a temporary directory inside the cache, checking the SHA-256 of the
 *    files whose hash is recorded below on the way, and rename it into place (atomic: a
 *    half-written data set is never seen). The zip file is removed afterwards.
 * A directory counts as holding the data set when its ratings file exists.
 *
 * When all three fail: one {@link DatasetNotFoundError} naming the data set, the directories
 * searched, why the download failed, and where to put the files.
 *
 * MovieLens data may not be redistributed (GroupLens' licence): it is downloaded from GroupLens by
 * each user, never bundled. Data: F. Maxwell Harper and Joseph A. Konstan, "The MovieLens
 * Datasets: History and Context", ACM TiiS 5(4), 2015.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { listZipEntries, extractZipEntry, ZipFormatError } from './zip-stream';
import { SingleBar } from 'cli-progress';
import { formatBytes } from '../bytes';
import { ChecksumError, DatasetNotFoundError } from './errors';
import type { BuiltinDatasetName } from './reader';

/** What is known about a built-in data set's files. */
export interface BuiltinDatasetSpec {
  /** Directory name, both inside the zip and under the data set directories. */
  dir: string;
  /** The zip's file name under the base URL. */
  zip: string;
  /** The ratings file, relative to `dir`. */
  ratingsFile: string;
  /** The movies file (titles, genres), relative to `dir`. */
  moviesFile: string;
  /** The users file (demographics), relative to `dir`, when the data set has one. */
  usersFile?: string;
  /**
   * SHA-256 (hex) of files inside `dir`, checked after a download. Empty when no hash is known
   * (the download is then used unchecked, with a note on the progress stream).
   */
  sha256: Readonly<Record<string, string>>;
  /**
   * MD5 (hex) of the zip as GroupLens publishes it beside the archive (`<zip>.md5`), checked on
   * the downloaded bytes before anything is unzipped. GroupLens publishes MD5 only (no SHA-256).
   */
  zipMd5?: string;
  /** Where `zipMd5` comes from (the publisher's URL). */
  zipMd5Source?: string;
  /** Predefined `[train, test]` file pairs, relative to `dir`. */
  folds?: ReadonlyArray<readonly [string, string]>;
  /** Counts of the known release (for documentation and checks). */
  counts: { ratings: number; users: number; items: number };
}

/** The default download location (GroupLens). */
export const GROUPLENS_BASE_URL = 'https://files.grouplens.org/datasets/movielens';
const GROUPLENS_MD5_BASE = GROUPLENS_BASE_URL;

/**
 * The large MovieLens releases: downloadable and importable (`reelgraph import ratings ml-25m`),
 * not loaded whole as built-in data sets. Each zip is checked against the MD5 GroupLens publishes
 * beside it (`https://files.grouplens.org/datasets/movielens/<zip>.md5`; values as recorded by
 * several independent projects that verified their downloads).
 */
export type LargeDatasetName = 'ml-10m' | 'ml-20m' | 'ml-25m' | 'ml-32m';

/** Every data set that can be downloaded: the built-in ones and the large releases. */
export type DownloadableDatasetName = BuiltinDatasetName | LargeDatasetName;

/** The large releases (see {@link LargeDatasetName}). */
export const LARGE_DATASETS: Readonly<Record<LargeDatasetName, BuiltinDatasetSpec>> = {
  'ml-10m': {
    dir: 'ml-10M100K', // the zip's folder is named after the release, not the zip
    zip: 'ml-10m.zip',
    ratingsFile: 'ratings.dat', // user::movie::rating::timestamp, half stars 0.5…5
    moviesFile: 'movies.dat',
    sha256: {},
    zipMd5: 'ce571fd55effeba0271552578f2648bd',
    zipMd5Source: `${GROUPLENS_MD5_BASE}/ml-10m.zip.md5`,
    counts: { ratings: 10000054, users: 69878, items: 10677 },
  },
  'ml-20m': {
    dir: 'ml-20m',
    zip: 'ml-20m.zip',
    ratingsFile: 'ratings.csv', // userId,movieId,rating,timestamp with a header
    moviesFile: 'movies.csv',
    sha256: {},
    zipMd5: 'cd245b17a1ae2cc31bb14903e1204af3',
    zipMd5Source: `${GROUPLENS_MD5_BASE}/ml-20m.zip.md5`,
    counts: { ratings: 20000263, users: 138493, items: 26744 },
  },
  'ml-25m': {
    dir: 'ml-25m',
    zip: 'ml-25m.zip',
    ratingsFile: 'ratings.csv',
    moviesFile: 'movies.csv',
    sha256: {},
    zipMd5: '6b51fb2759a8657d3bfcbfc42b592ada',
    zipMd5Source: `${GROUPLENS_MD5_BASE}/ml-25m.zip.md5`,
    counts: { ratings: 25000095, users: 162541, items: 59047 },
  },
  'ml-32m': {
    dir: 'ml-32m',
    zip: 'ml-32m.zip',
    ratingsFile: 'ratings.csv',
    moviesFile: 'movies.csv',
    sha256: {},
    zipMd5: 'd472be332d4daa821edc399621853b57',
    zipMd5Source: `${GROUPLENS_MD5_BASE}/ml-32m.zip.md5`,
    counts: { ratings: 32000204, users: 200948, items: 84432 },
  },
};

/** The names of the large releases, in size order. */
export const LARGE_DATASET_NAMES: readonly LargeDatasetName[] = [
  'ml-10m',
  'ml-20m',
  'ml-25m',
  'ml-32m',
];

/** The built-in data sets. */
export const BUILTIN_DATASETS: Readonly<Record<BuiltinDatasetName, BuiltinDatasetSpec>> = {
  'ml-100k': {
    dir: 'ml-100k',
    zip: 'ml-100k.zip',
    ratingsFile: 'u.data',
    moviesFile: 'u.item',
    usersFile: 'u.user',
    // Given by the project (DESIGN.md), checked against the team's copy.
    sha256: { 'u.data': '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490' },
    folds: [1, 2, 3, 4, 5].map((k) => [`u${k}.base`, `u${k}.test`] as const),
    counts: { ratings: 100000, users: 943, items: 1682 },
  },
  'ml-1m': {
    dir: 'ml-1m',
    zip: 'ml-1m.zip',
    ratingsFile: 'ratings.dat',
    moviesFile: 'movies.dat',
    usersFile: 'users.dat',
    // No copy was available to hash the files; the zip is checked against GroupLens' MD5.
    sha256: {},
    zipMd5: 'c4d9eecfca2ab87c1945afe126590906',
    zipMd5Source: `${GROUPLENS_MD5_BASE}/ml-1m.zip.md5`,
    counts: { ratings: 1000209, users: 6040, items: 3706 },
  },
  'ml-latest-small': {
    dir: 'ml-latest-small',
    zip: 'ml-latest-small.zip',
    ratingsFile: 'ratings.csv',
    moviesFile: 'movies.csv',
    // The September 2018 release (100836 ratings), hashed from the team's copy. GroupLens
    // refreshes "latest" data sets occasionally; a new release fails this check on purpose.
    sha256: { 'ratings.csv': 'aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646' },
    counts: { ratings: 100836, users: 610, items: 9724 },
  },
};

/** Where to look for, and how to fetch, built-in data sets. Every field is optional. */
export interface BuiltinOptions {
  /**
   * A directory holding data sets as sub-directories (`ml-100k/`, …), read only.
   * Default: the `REELGRAPH_DATASETS` environment variable.
   */
  datasetsDir?: string;
  /**
   * The cache directory (data sets as sub-directories; downloads are written here).
   * Default: `$XDG_CACHE_HOME/reelgraph/datasets`, else `~/.cache/reelgraph/datasets`.
   */
  cacheDir?: string;
  /**
   * Base URL of the zips (`<baseUrl>/<name>.zip`). Default: `REELGRAPH_DATASETS_URL`, else
   * https://files.grouplens.org/datasets/movielens. `http:` and `https:` are supported.
   */
  baseUrl?: string;
  /** Allow downloading when the files are not found locally. Default true. */
  download?: boolean;
  /**
   * Where download progress goes: a bar (cli-progress) when the stream is a TTY, else a plain
   * line at every 10 %. `false` for silence. Default `process.stderr`.
   */
  progress?: NodeJS.WritableStream | false;
  /** Environment to read `REELGRAPH_DATASETS`, `REELGRAPH_DATASETS_URL`, `XDG_CACHE_HOME` from. */
  env?: NodeJS.ProcessEnv;
  /**
   * The checksum the downloaded zip must have, instead of the recorded GroupLens MD5: for a mirror
   * (`baseUrl`) serving its own archive. Default: the recorded one.
   */
  zipChecksum?: ZipChecksum;
}

/** A zip's expected hash: SHA-256 or MD5, hex. */
export type ZipChecksum = { sha256: string } | { md5: string };

/** Digests of a downloaded zip (hex), computed while it streamed to disk. */
export interface ZipDigests {
  md5: string;
  sha256: string;
}

/**
 * Checks a downloaded zip's bytes against `expected`, else the MD5 recorded for the data set.
 * @throws ChecksumError naming the zip, the algorithm, both hashes and the URL; nothing is
 *   unzipped or cached then.
 */
export function verifyZip(
  spec: BuiltinDatasetSpec,
  zip: Uint8Array,
  url: string,
  expected: ZipChecksum | null,
): void {
  verifyZipDigests(
    spec,
    {
      md5: createHash('md5').update(zip).digest('hex'),
      sha256: createHash('sha256').update(zip).digest('hex'),
    },
    url,
    expected,
  );
}

/**
 * {@link verifyZip} on digests computed while streaming (the zip is never held in memory).
 * @throws ChecksumError as {@link verifyZip}.
 */
export function verifyZipDigests(
  spec: BuiltinDatasetSpec,
  digests: ZipDigests,
  url: string,
  expected: ZipChecksum | null,
): void {
  const want: ZipChecksum | null = expected ?? (spec.zipMd5 ? { md5: spec.zipMd5 } : null);
  if (!want) return;
  const [algorithm, hash] = 'sha256' in want ? ['sha256', want.sha256] : ['md5', want.md5];
  const actual = algorithm === 'sha256' ? digests.sha256 : digests.md5;
  if (actual !== hash.toLowerCase()) {
    throw new ChecksumError(spec.zip, hash, actual, url, algorithm === 'md5' ? 'MD5' : 'SHA-256');
  }
}

/** The spec of a built-in data set. @throws RangeError for an unknown name. */
export function builtinSpec(name: string): BuiltinDatasetSpec {
  const all = { ...BUILTIN_DATASETS, ...LARGE_DATASETS } as Record<string, BuiltinDatasetSpec>;
  if (!Object.prototype.hasOwnProperty.call(all, name)) {
    throw new RangeError(
      `unknown built-in data set "${name}" (expected one of ${Object.keys(all).join(', ')})`,
    );
  }
  return all[name];
}

/** The cache directory that `opts` selects (see {@link BuiltinOptions.cacheDir}). */
export function defaultCacheDir(opts: BuiltinOptions = {}): string {
  if (opts.cacheDir) return path.resolve(opts.cacheDir);
  const env = opts.env ?? process.env;
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.resolve(base, 'reelgraph', 'datasets');
}

/** The download URL of a data set's zip under the base URL `opts` selects. */
export function builtinUrl(name: DownloadableDatasetName, opts: BuiltinOptions = {}): string {
  const env = opts.env ?? process.env;
  const base = (opts.baseUrl ?? env.REELGRAPH_DATASETS_URL ?? GROUPLENS_BASE_URL).replace(
    /\/+$/,
    '',
  );
  return `${base}/${builtinSpec(name).zip}`;
}

/**
 * The directory holding a built-in data set's files, found or downloaded as the module
 * documentation describes.
 *
 * @returns an absolute directory path containing at least the ratings file.
 * @throws RangeError for an unknown name; DatasetNotFoundError when the data set is nowhere and
 *   cannot be downloaded; ChecksumError when a download does not match its recorded SHA-256
 *   (nothing is cached then).
 */
export async function resolveBuiltin(
  name: DownloadableDatasetName,
  opts: BuiltinOptions = {},
): Promise<string> {
  const spec = builtinSpec(name);
  const env = opts.env ?? process.env;
  const candidates: string[] = [];
  const configured = opts.datasetsDir ?? env.REELGRAPH_DATASETS;
  if (configured) candidates.push(path.resolve(configured, spec.dir));
  const cacheRoot = defaultCacheDir(opts);
  const cached = path.join(cacheRoot, spec.dir);
  candidates.push(cached);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, spec.ratingsFile))) return dir;
  }
  const url = builtinUrl(name, opts);
  if (opts.download === false) {
    throw new DatasetNotFoundError(name, candidates, url, cacheRoot, 'downloading is disabled');
  }
  const progress = opts.progress === undefined ? process.stderr : opts.progress;
  fs.mkdirSync(cacheRoot, { recursive: true });
  const zipFile = path.join(
    cacheRoot,
    `.tmp-${spec.zip}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    let digests: ZipDigests;
    try {
      digests = await downloadToFile(url, zipFile, `Downloading ${spec.zip}`, progress || null);
    } catch (e) {
      throw new DatasetNotFoundError(name, candidates, url, cacheRoot, (e as Error).message);
    }
    await installZipFile(
      name,
      zipFile,
      digests,
      url,
      cacheRoot,
      progress || null,
      opts.zipChecksum ?? null,
    );
  } finally {
    fs.rmSync(zipFile, { force: true });
  }
  return cached;
}

/** The result of checking one file against its recorded SHA-256. */
export interface ChecksumResult {
  /** The file, relative to the data set directory (e.g. `u.data`). */
  file: string;
  /** The recorded SHA-256 (hex). */
  expected: string;
  /** The file's SHA-256 (hex), or null when the file is missing. */
  actual: string | null;
  /** True when the hashes are equal. */
  ok: boolean;
}

/**
 * Checks the files of a data set directory against the recorded SHA-256 sums (e.g. a copy in
 * `REELGRAPH_DATASETS`, which is otherwise read as it is). Returns an empty list when no hash is
 * recorded for the data set.
 * @throws RangeError for an unknown name.
 */
export function verifyBuiltin(name: DownloadableDatasetName, dir: string): ChecksumResult[] {
  return Object.entries(builtinSpec(name).sha256).map(([file, expected]) => {
    const p = path.join(dir, file);
    const actual = fs.existsSync(p) ? fileSha256Hex(p) : null;
    return { file, expected, actual, ok: actual === expected };
  });
}

/** SHA-256 of a file, hex, read in 1 MiB pieces (bounded memory whatever the size). */
export function fileSha256Hex(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Installs a data set from its downloaded archive `zipFile` into `cacheRoot` atomically: checks
 * the zip's checksum (`digests` against `zipChecksum`, else the recorded MD5), then extracts the
 * entries under `<dir>/` one by one, streamed, into a temporary directory, checking the recorded
 * SHA-256 of each hashed file as it is written, and renames the directory into place.
 *
 * @returns the installed directory.
 * @throws ChecksumError on a hash mismatch; Error when the archive is not a zip, lacks the
 *   ratings file, holds an unsafe path (absolute or with `..`) or a corrupt entry. Nothing is
 *   cached on error.
 */
export async function installZipFile(
  name: DownloadableDatasetName,
  zipFile: string,
  digests: ZipDigests,
  url: string,
  cacheRoot: string,
  progress: NodeJS.WritableStream | null = null,
  zipChecksum: ZipChecksum | null = null,
): Promise<string> {
  const spec = builtinSpec(name);
  verifyZipDigests(spec, digests, url, zipChecksum);
  let entries;
  try {
    entries = listZipEntries(zipFile, url);
  } catch (e) {
    throw new Error(`${url} is not a readable zip archive: ${(e as Error).message}`);
  }
  const prefix = `${spec.dir}/`;
  const files: { rel: string; entry: (typeof entries)[number] }[] = [];
  for (const entry of entries) {
    if (!entry.name.startsWith(prefix) || entry.name.endsWith('/')) continue; // __MACOSX/, folders
    const rel = entry.name.slice(prefix.length);
    if (
      rel.split(/[/\\]/).some((p) => p === '..' || p === '') ||
      path.isAbsolute(rel) ||
      rel.includes('\0')
    ) {
      throw new Error(`${url}: unsafe path "${entry.name}" in the archive`);
    }
    files.push({ rel, entry });
  }
  const names = new Set(files.map((f) => f.rel));
  if (!names.has(spec.ratingsFile)) {
    throw new Error(`${url}: the archive does not contain ${prefix}${spec.ratingsFile}`);
  }
  const hashed = Object.entries(spec.sha256);
  for (const [rel] of hashed) {
    if (!names.has(rel)) throw new Error(`${url}: the archive does not contain ${prefix}${rel}`);
  }
  if (hashed.length === 0 && !spec.zipMd5 && !zipChecksum && progress) {
    progress.write(`Note: no checksum is recorded for ${name}; the download is not verified.\n`);
  }
  fs.mkdirSync(cacheRoot, { recursive: true });
  const tmp = path.join(
    cacheRoot,
    `.tmp-${spec.dir}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const target = path.join(cacheRoot, spec.dir);
  try {
    for (const { rel, entry } of files) {
      const out = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      let got;
      try {
        got = await extractZipEntry(zipFile, entry, out, url);
      } catch (e) {
        if (e instanceof ZipFormatError) throw e;
        throw new Error(
          `${url}: entry "${entry.name}" cannot be extracted: ${(e as Error).message}`,
        );
      }
      const expected = spec.sha256[rel];
      if (expected !== undefined && got.sha256 !== expected) {
        throw new ChecksumError(`${prefix}${rel}`, expected, got.sha256, url);
      }
    }
    try {
      fs.renameSync(tmp, target);
    } catch (e) {
      // Another process installed it first: keep theirs.
      if (!fs.existsSync(path.join(target, spec.ratingsFile))) throw e;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

const MAX_REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 30_000;

/**
 * Downloads `url` into the file `dest` (created or overwritten), streamed, following up to 5
 * redirects, reporting progress on `progress`, computing the MD5 and SHA-256 of the bytes on the
 * way (memory: the stream's buffers, whatever the size).
 * @returns the digests of the bytes written.
 * @throws Error naming the URL and the cause (network error, HTTP status, a body shorter than its
 *   Content-Length, idle timeout of 30 s, a write error); `dest` may then hold partial bytes.
 */
export function downloadToFile(
  url: string,
  dest: string,
  label: string,
  progress: NodeJS.WritableStream | null,
  redirects = 0,
): Promise<ZipDigests> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new Error(`invalid URL ${url}`));
      return;
    }
    const mod = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : null;
    if (!mod) {
      reject(new Error(`unsupported protocol in ${url} (expected http: or https:)`));
      return;
    }
    const req = mod.get(parsed, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`too many redirects from ${url}`));
          return;
        }
        const next = new URL(res.headers.location, parsed).toString();
        downloadToFile(next, dest, label, progress, redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`HTTP ${status} ${res.statusMessage ?? ''} from ${url}`.trim()));
        return;
      }
      const total = Number(res.headers['content-length']) || 0;
      const report = createProgress(label, total, progress);
      const md5 = createHash('md5');
      const sha256 = createHash('sha256');
      let received = 0;
      const out = fs.createWriteStream(dest);
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        report.stop(received);
        res.destroy();
        out.destroy();
        reject(e);
      };
      out.on('error', (e) => fail(new Error(`cannot write the download of ${url}: ${e.message}`)));
      res.on('data', (chunk: Buffer) => {
        md5.update(chunk);
        sha256.update(chunk);
        received += chunk.length;
        report.update(received);
        // back-pressure: the socket waits while the disk catches up
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('end', () => {
        if (failed) return;
        report.stop(received);
        out.end(() => {
          if (failed) return;
          if (total > 0 && received !== total) {
            failed = true;
            reject(new Error(`download of ${url} ended after ${received} of ${total} bytes`));
            return;
          }
          resolve({ md5: md5.digest('hex'), sha256: sha256.digest('hex') });
        });
      });
      res.on('error', (e) => fail(new Error(`download of ${url} failed: ${e.message}`)));
    });
    req.setTimeout(IDLE_TIMEOUT_MS, () => {
      req.destroy(new Error(`no data from ${url} for ${IDLE_TIMEOUT_MS / 1000} s`));
    });
    req.on('error', (e) => reject(new Error(`cannot download ${url}: ${e.message}`)));
  });
}

interface ProgressReport {
  update(received: number): void;
  stop(received: number): void;
}

/**
 * A progress reporter: a cli-progress bar on a TTY, else plain lines at each 10 % (or each
 * 10 MB when the size is unknown), and a final line with the byte count.
 */
function createProgress(
  label: string,
  total: number,
  stream: NodeJS.WritableStream | null,
): ProgressReport {
  if (!stream) return { update() {}, stop() {} };
  if ((stream as NodeJS.WriteStream).isTTY && total > 0) {
    const bar = new SingleBar({
      stream: stream as NodeJS.WriteStream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} bytes`,
      hideCursor: true,
      clearOnComplete: false,
    });
    bar.start(total, 0);
    return {
      update: (r) => bar.update(r),
      stop: (r) => {
        bar.update(r);
        bar.stop();
      },
    };
  }
  let nextMark = 0;
  stream.write(`${label}${total > 0 ? ` (${formatBytes(total)})` : ''}\n`);
  return {
    update(received) {
      if (total > 0) {
        const pct = Math.floor((received / total) * 100);
        if (pct >= nextMark + 10) {
          nextMark = pct - (pct % 10);
          if (nextMark < 100) stream.write(`${label}: ${nextMark}%\n`);
        }
      } else if (received >= nextMark + 10e6) {
        nextMark = received - (received % 10e6);
        stream.write(`${label}: ${formatBytes(received)}\n`);
      }
    },
    stop(received) {
      stream.write(`${label}: done, ${formatBytes(received)}\n`);
    },
  };
}
