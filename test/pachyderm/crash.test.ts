/**
 * Crash safety of the embedded engine: a real child process (fixtures/crash-writer.ts) writes
 * commits in a loop and is killed with SIGKILL at a random instant, 20 times on the same data
 * directory. The kill delays are drawn from a seeded generator: the seed is printed, and
 * `REELGRAPH_CRASH_SEED=<seed>` replays the same delays. After each kill the directory is reopened and checked:
 * - every acknowledged commit is present, finished, and holds exactly the files announced for it,
 *   byte for byte (SHA-256 of the content read back);
 * - no partial commit: every finished commit without error holds exactly the complete file set
 *   announced before its modification started (identified by its `/_op` marker file);
 * - the SQLite database passes `PRAGMA integrity_check`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PachCode, PachError } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { RandomState, randomSeed } from '../../src/engine/random';

const ROOT = path.resolve(__dirname, '../..');
const WRITER = path.join(__dirname, 'fixtures/crash-writer.ts');
const TRIALS = 20;
/** The seed of the kill delays: `REELGRAPH_CRASH_SEED`, else drawn (and printed). */
const SEED = process.env.REELGRAPH_CRASH_SEED
  ? Number(process.env.REELGRAPH_CRASH_SEED)
  : randomSeed();

interface TrialOutput {
  intents: Map<string, Record<string, string>>;
  acks: Map<string, string>;
  ready: boolean;
  stderr: string;
}

/**
 * Run the writer and SIGKILL it `delayMs` after it reports ready (or, with `whileRunning`, after
 * that function's promise settles).
 */
function runAndKill(
  dataDir: string,
  delayMs: number,
  whileRunning?: (progress: TrialOutput) => Promise<void>,
): Promise<TrialOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', path.join(ROOT, 'scripts/ts-register.js'), WRITER, dataDir],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const res: TrialOutput = { intents: new Map(), acks: new Map(), ready: false, stderr: '' };
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.ready) {
          res.ready = true;
          if (whileRunning) {
            whileRunning(res)
              .catch((e) => (res.stderr += `whileRunning: ${e}`))
              .finally(() => child.kill('SIGKILL'));
          } else {
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        } else if (msg.intent) res.intents.set(msg.intent, msg.files);
        else if (msg.ack) res.acks.set(msg.ack, msg.id);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (res.stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer exited with ${code}/${signal}: ${res.stderr}`));
      } else {
        resolve(res);
      }
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Reopen `dir` and check it (see the file's doc). Commits whose content was checked are added to
 * `verified` and not read again.
 */
async function verify(
  dir: string,
  intents: Map<string, Record<string, string>>,
  acks: Map<string, string>,
  verified: Set<string>,
): Promise<void> {
  const pach = await EmbeddedPachyderm.open(dir);
  try {
    expect(pach.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Packs left by interrupted modifications were removed on open: every pack is referenced.
    const referenced = (
      pach.db.prepare("SELECT DISTINCT pack FROM pfs_blobs WHERE pack != ''").all() as {
        pack: string;
      }[]
    )
      .map((r) => r.pack)
      .sort();
    const onDisk = fs
      .readdirSync(path.join(dir, 'objects'))
      .filter((d) => d !== 'tmp')
      .flatMap((d) => fs.readdirSync(path.join(dir, 'objects', d)))
      .sort();
    expect(onDisk).toEqual(referenced);
    const commits: { id: string; error: string; finished: Date | null }[] = [];
    for await (const c of pach.listCommit('crash')) {
      commits.push({ id: c.commit.id, error: c.error, finished: c.finished });
    }
    const byId = new Map(commits.map((c) => [c.id, c]));
    // Every acknowledged commit is there, finished, without error.
    for (const [key, id] of acks) {
      const c = byId.get(id);
      expect({ key, present: !!c }).toEqual({ key, present: true });
      expect(c!.finished).not.toBeNull();
      expect(c!.error).toBe('');
    }
    // Every finished commit without error is complete and byte-identical to its intent.
    for (const c of commits) {
      if (c.finished === null || c.error || verified.has(c.id)) continue;
      const key = (await pach.readFile(`crash@${c.id}:/_op`)).toString();
      const expected = intents.get(key);
      expect({ key, known: !!expected }).toEqual({ key, known: true });
      if (acks.has(key)) expect(acks.get(key)).toBe(c.id);
      const files = await pach.commitFiles({ repo: 'crash', id: c.id });
      const actual: Record<string, string> = {};
      for (const f of files) {
        const bytes = await pach.readFile({ commit: { repo: 'crash', id: c.id }, path: f.path });
        actual[f.path] = sha(bytes);
        expect(f.hash).toBe(actual[f.path]);
      }
      expect(actual).toEqual(expected);
      verified.add(c.id);
    }
  } finally {
    await pach.close();
  }
}

describe('embedded engine crash safety (SIGKILL)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-crash-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`keeps every acknowledged commit and no partial one over ${TRIALS} kills`, async () => {
    const intents = new Map<string, Record<string, string>>();
    const acks = new Map<string, string>();
    const verified = new Set<string>();
    const rng = new RandomState(SEED);
    const delays = Array.from({ length: TRIALS }, () => 20 + Math.floor(rng.random() * 400));
    process.stdout.write(
      `crash trials: REELGRAPH_CRASH_SEED=${SEED}, kill delays (ms after ready): ${delays.join(' ')}\n`,
    );
    for (let trial = 0; trial < TRIALS; trial++) {
      const delay = delays[trial];
      const out = await runAndKill(dir, delay);
      expect(out.ready).toBe(true);
      for (const [k, v] of out.intents) intents.set(k, v);
      for (const [k, v] of out.acks) acks.set(k, v);

      await verify(dir, intents, acks, verified);
    }
    // Finally, everything once more (earlier commits after all later crashes).
    verified.clear();
    await verify(dir, intents, acks, verified);
    // The kills did land while commits were being written, and commits were verified.
    expect(acks.size).toBeGreaterThan(TRIALS);
    expect(intents.size).toBeGreaterThan(acks.size - 1);
    expect(verified.size).toBeGreaterThan(TRIALS);
    // No temporary file survives a reopen once its writer is gone.
    const again = await EmbeddedPachyderm.open(dir);
    await again.close();
    expect(fs.readdirSync(path.join(dir, 'objects', 'tmp'))).toEqual([]);
  }, 300_000);

  it('allows one writer process per data directory; readers and a successor after a kill', async () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-lock-'));
    let refused: unknown;
    let readerSaw = -1;
    await runAndKill(own, 0, async (progress) => {
      // the writer has acknowledged a few commits (it holds the lock and writes)
      const t0 = Date.now();
      while (progress.acks.size < 3) {
        if (Date.now() - t0 > 30_000) throw new Error('the writer acknowledged no commit in 30 s');
        await new Promise((r) => setImmediate(r));
      }
      try {
        await (await EmbeddedPachyderm.open(own)).close();
      } catch (e) {
        refused = e;
      }
      const reader = await EmbeddedPachyderm.open(own, { readonly: true });
      readerSaw = (await reader.inspectRepo('crash')).repo.name === 'crash' ? 1 : 0;
      await reader.close();
    });
    expect(refused).toBeInstanceOf(PachError);
    expect((refused as PachError).code).toBe(PachCode.FAILED_PRECONDITION);
    expect((refused as PachError).message).toMatch(/is in use by process \d+/);
    expect(readerSaw).toBe(1);
    // The writer was killed: its stale lock is taken over.
    const next = await EmbeddedPachyderm.open(own);
    expect(fs.readFileSync(path.join(own, 'writer.pid'), 'utf8')).toBe(String(process.pid));
    await next.close();
    expect(fs.existsSync(path.join(own, 'writer.pid'))).toBe(false);
    fs.rmSync(own, { recursive: true, force: true });
  }, 60_000);
});
