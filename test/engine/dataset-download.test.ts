/**
 * Downloading built-in data sets from a real HTTP server on 127.0.0.1 (port 0) serving zips made
 * here with fflate: download, progress, SHA-256 check (a mismatch is refused and nothing is
 * cached), atomic install into the cache, and the cache reused on the next call.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import {
  ChecksumError,
  Dataset,
  DatasetNotFoundError,
  loadMovies,
  resolveBuiltin,
  LARGE_DATASETS,
  Reader,
} from '../../src/engine/dataset';
import { generateSynthetic } from '../../src/engine/dataset/synthetic';
import { formatBytes } from '../../src/engine/bytes';

const FIX = path.resolve(__dirname, '../fixtures/datasets/builtin');
const SHARED =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');

/** A zip of `<dir>/<name>` entries. */
function makeZip(dir: string, files: Record<string, Uint8Array>): Uint8Array {
  const tree: Record<string, Uint8Array> = {};
  for (const [name, data] of Object.entries(files)) tree[`${dir}/${name}`] = data;
  return zipSync(tree);
}

function fixtureFiles(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const f of fs.readdirSync(path.join(FIX, dir))) {
    out[f] = fs.readFileSync(path.join(FIX, dir, f));
  }
  return out;
}

/** 1 MB of bytes that do not compress (a fixed linear congruential sequence). */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 1;
  for (let k = 0; k < n; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[k] = x >>> 24;
  }
  return out;
}

/** The MD5 of a served route, as a mirror serving its own archive would record it. */
const md5Of = (route: string) => ({
  md5: createHash('md5').update(routes.get(route)!).digest('hex'),
});

const routes = new Map<string, Uint8Array>();
const hits = new Map<string, number>();
let server: http.Server;
let base: string;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-download-'));
  // ml-1m: no SHA-256 is recorded; padded with 1 MB so that progress has several steps.
  routes.set('/ok/ml-1m.zip', makeZip('ml-1m', { ...fixtureFiles('ml-1m'), PADDING: noise(1e6) }));
  // ml-100k with a synthetic u.data: its SHA-256 cannot match the recorded one.
  routes.set('/bad/ml-100k.zip', makeZip('ml-100k', fixtureFiles('ml-100k')));
  // ml-100k with the real u.data (when the shared copy exists): the hash matches.
  const real = path.join(SHARED, 'ml-100k', 'u.data');
  if (fs.existsSync(real)) {
    routes.set(
      '/ok/ml-100k.zip',
      makeZip('ml-100k', { ...fixtureFiles('ml-100k'), 'u.data': fs.readFileSync(real) }),
    );
  }
  routes.set('/junk/ml-1m.zip', new TextEncoder().encode('<html>not a zip</html>'));
  routes.set(
    '/slip/ml-1m.zip',
    zipSync({
      'ml-1m/ratings.dat': fs.readFileSync(path.join(FIX, 'ml-1m/ratings.dat')),
      'ml-1m/../../evil.txt': new Uint8Array([1]),
    }),
  );
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url.startsWith('/moved/')) {
      res.writeHead(302, { Location: url.replace('/moved/', '/ok/') });
      res.end();
      return;
    }
    const body = routes.get(url);
    if (!body) {
      res.writeHead(404, 'Not Found');
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': body.length });
    // Several chunks, so that the client sees the download progress.
    const step = 64 * 1024;
    for (let k = 0; k < body.length; k += step) res.write(body.subarray(k, k + step));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function capture(isTTY = false): PassThrough & { text(): string } {
  const s = new PassThrough() as PassThrough & { text(): string; isTTY?: boolean };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.isTTY = isTTY;
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

test('download, unzip into the cache, progress lines, then the cache is reused', async () => {
  const cacheDir = path.join(tmp, 'cache1');
  const progress = capture();
  const opts = {
    cacheDir,
    baseUrl: `${base}/ok`,
    progress,
    env: {},
    zipChecksum: md5Of('/ok/ml-1m.zip'),
  };
  const ds = await Dataset.loadBuiltin('ml-1m', opts);
  expect(ds.ratings.toTestset()).toEqual([
    ['1', '1', 5],
    ['1', '2', 3],
    ['2', '1', 4],
    ['2', '3', 2],
  ]);
  const dir = path.join(cacheDir, 'ml-1m');
  expect(fs.readdirSync(dir).sort()).toEqual(['PADDING', 'movies.dat', 'ratings.dat', 'users.dat']);
  // Nothing but the data set is left in the cache (no temporary directory).
  expect(fs.readdirSync(cacheDir)).toEqual(['ml-1m']);
  expect(hits.get('/ok/ml-1m.zip')).toBe(1);

  const size = routes.get('/ok/ml-1m.zip')!.length;
  const lines = progress.text().trim().split('\n');
  expect(size).toBeGreaterThan(1e6);
  expect(lines[0]).toBe(`Downloading ml-1m.zip (${formatBytes(size)})`);
  const pcts = lines.filter((l) => /: \d+%$/.test(l)).map((l) => Number(/(\d+)%$/.exec(l)![1]));
  expect(pcts.length).toBeGreaterThanOrEqual(3);
  for (let k = 1; k < pcts.length; k++) expect(pcts[k]).toBeGreaterThan(pcts[k - 1]);
  expect(pcts.every((p) => p % 10 === 0 && p > 0 && p < 100)).toBe(true);
  expect(lines).toContain(`Downloading ml-1m.zip: done, ${formatBytes(size)}`);
  expect(lines.filter((l) => l.startsWith('Note:'))).toEqual([]); // verified: no note

  // Second time: from the cache, no request, no output.
  const quiet = capture();
  const again = await Dataset.loadBuiltin('ml-1m', { ...opts, progress: quiet });
  expect(again.nRatings).toBe(4);
  expect(hits.get('/ok/ml-1m.zip')).toBe(1);
  expect(quiet.text()).toBe('');
  // Metadata comes from the same cached copy.
  expect((await loadMovies('ml-1m', opts))[1].title).toBe('Á köldum klaka (Cold Fever) (1994)');
});

test('formatBytes', () => {
  expect(formatBytes(1234567)).toBe('1.2 MB');
  expect(formatBytes(2048)).toBe('2.0 kB');
});

test('a SHA-256 mismatch is refused and nothing is cached', async () => {
  const cacheDir = path.join(tmp, 'cache2');
  const err = await resolveBuiltin('ml-100k', {
    cacheDir,
    baseUrl: `${base}/bad`,
    progress: false,
    env: {},
  }).catch((e) => e);
  expect(err).toBeInstanceOf(ChecksumError);
  expect(err.expected).toBe('06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490');
  expect(err.file).toBe('ml-100k/u.data');
  expect(err.message).toContain('nothing was cached');
  expect(fs.existsSync(path.join(cacheDir, 'ml-100k'))).toBe(false);
  expect(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []).toEqual([]);
});

test('a matching SHA-256 is accepted (real u.data); REELGRAPH_DATASETS_URL and redirects', async () => {
  if (!routes.has('/ok/ml-100k.zip')) throw new Error(`MovieLens 100K not found in ${SHARED}`);
  const cacheDir = path.join(tmp, 'cache3');
  const ds = await Dataset.loadBuiltin('ml-100k', {
    cacheDir,
    progress: false,
    env: { REELGRAPH_DATASETS_URL: `${base}/moved` },
  });
  expect(ds.nRatings).toBe(100000);
  expect(hits.get('/moved/ml-100k.zip')).toBe(1);
  expect(hits.get('/ok/ml-100k.zip')).toBe(1);
  expect(fs.existsSync(path.join(cacheDir, 'ml-100k', 'u.item'))).toBe(true);
});

test('a progress bar is drawn on a TTY', async () => {
  const cacheDir = path.join(tmp, 'cache4');
  const tty = capture(true);
  await resolveBuiltin('ml-1m', {
    cacheDir,
    baseUrl: `${base}/ok`,
    progress: tty,
    env: {},
    zipChecksum: md5Of('/ok/ml-1m.zip'),
  });
  const out = tty.text();
  expect(out).toContain('Downloading ml-1m.zip [');
  expect(out).toContain('100%');
});

test('HTTP errors give the not-found error with the status', async () => {
  const cacheDir = path.join(tmp, 'cache5');
  const err = await resolveBuiltin('ml-latest-small', {
    cacheDir,
    baseUrl: `${base}/ok`,
    progress: false,
    env: {},
  }).catch((e) => e);
  expect(err).toBeInstanceOf(DatasetNotFoundError);
  expect(err.message).toContain(`HTTP 404 Not Found from ${base}/ok/ml-latest-small.zip`);
  expect(err.message).toContain(
    `Download it from ${base}/ok/ml-latest-small.zip and unzip it into ${cacheDir}`,
  );
  expect(fs.existsSync(path.join(cacheDir, 'ml-latest-small'))).toBe(false);
});

test('a body that is not a zip, or a zip with an escaping path, is refused; nothing is cached', async () => {
  const cacheDir = path.join(tmp, 'cache6');
  const opts = { cacheDir, progress: false as const, env: {} };
  await expect(
    resolveBuiltin('ml-1m', {
      ...opts,
      baseUrl: `${base}/junk`,
      zipChecksum: md5Of('/junk/ml-1m.zip'),
    }),
  ).rejects.toThrow(`${base}/junk/ml-1m.zip is not a readable zip archive`);
  await expect(
    resolveBuiltin('ml-1m', {
      ...opts,
      baseUrl: `${base}/slip`,
      zipChecksum: md5Of('/slip/ml-1m.zip'),
    }),
  ).rejects.toThrow(`${base}/slip/ml-1m.zip: unsafe path "ml-1m/../../evil.txt" in the archive`);
  expect(fs.existsSync(path.join(cacheDir, 'ml-1m'))).toBe(false);
  expect(fs.existsSync(path.join(tmp, 'evil.txt'))).toBe(false);
});

test('a zip that is not the one GroupLens published is refused by its recorded MD5; nothing is cached', async () => {
  const cacheDir = path.join(tmp, 'cache-md5');
  const err = await resolveBuiltin('ml-1m', {
    cacheDir,
    baseUrl: `${base}/ok`,
    progress: false,
    env: {},
  }).catch((e) => e);
  expect(err).toBeInstanceOf(ChecksumError);
  expect(err.algorithm).toBe('MD5');
  expect(err.file).toBe('ml-1m.zip');
  // GroupLens' published https://files.grouplens.org/datasets/movielens/ml-1m.zip.md5
  expect(err.expected).toBe('c4d9eecfca2ab87c1945afe126590906');
  expect(err.actual).toBe(md5Of('/ok/ml-1m.zip').md5);
  expect(err.message).toContain(`MD5 of ml-1m.zip (downloaded from ${base}/ok/ml-1m.zip)`);
  expect(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []).toEqual([]);
});

test('ml-25m from a mirror: its zip is checked against the SHA-256 given, installed, and its ratings.csv reads; a wrong SHA-256 is refused', async () => {
  const seed = 25;
  process.stdout.write(`seed ${seed}\n`);
  const csv = path.join(tmp, 'r25.csv');
  generateSynthetic(csv, { ratings: 5_000, movies: 500, seed });
  const zip = makeZip('ml-25m', {
    'ratings.csv': fs.readFileSync(csv),
    'movies.csv': new Uint8Array(),
  });
  routes.set('/mirror/ml-25m.zip', zip);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  const opts = { baseUrl: `${base}/mirror`, progress: false as const, env: {} };

  const bad = await resolveBuiltin('ml-25m', {
    ...opts,
    cacheDir: path.join(tmp, 'cache-25m-bad'),
    zipChecksum: { sha256: '0'.repeat(64) },
  }).catch((e) => e);
  expect(bad).toBeInstanceOf(ChecksumError);
  expect(bad.algorithm).toBe('SHA-256');
  expect(bad.actual).toBe(sha256);
  expect(fs.existsSync(path.join(tmp, 'cache-25m-bad', 'ml-25m'))).toBe(false);

  // without an override, GroupLens' recorded MD5 applies (and this synthetic zip fails it)
  const recorded = await resolveBuiltin('ml-25m', {
    ...opts,
    cacheDir: path.join(tmp, 'cache-25m-rec'),
  }).catch((e) => e);
  expect(recorded).toBeInstanceOf(ChecksumError);
  expect(recorded.expected).toBe(LARGE_DATASETS['ml-25m'].zipMd5);

  const cacheDir = path.join(tmp, 'cache-25m');
  const dir = await resolveBuiltin('ml-25m', { ...opts, cacheDir, zipChecksum: { sha256 } });
  expect(dir).toBe(path.join(cacheDir, 'ml-25m'));
  const raw = new Reader({
    lineFormat: 'user item rating timestamp',
    sep: ',',
    skipLines: 1,
    ratingScale: [0.5, 5],
  }).parseFile(path.join(dir, LARGE_DATASETS['ml-25m'].ratingsFile));
  expect(raw.length).toBe(5_000);
});
