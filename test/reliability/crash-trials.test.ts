/**
 * Crash trials of the whole service (issue 11): the real API process (src/main.ts, embedded
 * engine) and its pipeline workers are killed with SIGKILL — the whole process group, at a
 * seeded random instant while a client commits ratings (train jobs) and prediction requests
 * (predict jobs) — then restarted on the same data directory, 20 times. After each kill the data
 * directory is checked offline: every ACKNOWLEDGED write (a mutation that answered) is there,
 * finished, with exactly the lines sent (else it is counted lost or partial), and SQLite passes
 * `PRAGMA integrity_check`. Prints `crash trials: run N, acknowledged A, lost L, partial P` with
 * the seed (`REELGRAPH_CRASH_SEED=<seed>` replays the kill instants). Needs MovieLens 100K for
 * the first start ($REELGRAPH_DATASETS; fails naming it when missing).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RandomState, randomSeed } from '../../src/engine/random';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { DATASETS, requireDataset } from '../helpers/datasets';

const ROOT = path.resolve(__dirname, '../..');
const TRIALS = Number(process.env.REELGRAPH_CRASH_TRIALS ?? 20);
const SEED = process.env.REELGRAPH_CRASH_SEED
  ? Number(process.env.REELGRAPH_CRASH_SEED)
  : randomSeed();

jest.setTimeout(600_000);

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

/** Starts `src/main.ts` in its own process group; resolves once it prints its URL. */
function startServer(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'scripts/ts-register.js'), path.join(ROOT, 'src/main.ts')],
    {
      cwd: ROOT,
      detached: true, // its own process group: the kill takes its workers too
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        REELGRAPH_DATA_DIR: dataDir,
        REELGRAPH_DATASETS: DATASETS,
        REELGRAPH_MIN_FREE_BYTES: '0',
        LOG_LEVEL: 'silent',
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const m = /reelgraph API listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve({ child, url: m[1], exited });
    });
    child.once('close', (code) => reject(new Error(`the server exited with ${code}: ${err}`)));
  });
}

function killGroup(s: Server): Promise<void> {
  try {
    process.kill(-s.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  return s.exited;
}

interface Ack {
  repo: 'training' | 'streaming';
  commit: string;
  path: string;
  lines: string[];
}

/** The `data` of a GraphQL answer (fields of the one mutation), or undefined. */
type Answer = { data?: Record<string, Record<string, string> | undefined> };

async function gql(url: string, query: string, variables: unknown): Promise<Answer> {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await r.json()) as Answer;
}

/**
 * Writes until the process dies, pushing each acknowledged write to `acks` and calling `onAck`
 * after each one; returns how many writes were sent.
 */
async function clientLoop(
  url: string,
  trial: number,
  acks: Ack[],
  onAck: () => void,
): Promise<number> {
  let sent = 0;
  for (let k = 0; ; k++) {
    const user = String(5000 + trial * 1000 + k);
    try {
      sent++;
      if (k % 2 === 0) {
        const ratings = [
          { userId: user, movieId: '1', rating: 4 },
          { userId: user, movieId: '50', rating: 5 },
        ];
        const r = await gql(
          url,
          'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit path } }',
          { r: ratings },
        );
        const a = r.data?.addRatings;
        if (a) {
          acks.push({
            repo: 'training',
            commit: a.commit,
            path: a.path,
            lines: ratings.map((x) => `${x.userId} ${x.movieId} ${x.rating}`),
          });
          onAck();
        }
      } else {
        const pairs = [
          { userId: user, movieId: '1' },
          { userId: '1', movieId: '2' },
        ];
        const r = await gql(
          url,
          'mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { commit requestId } }',
          { p: pairs },
        );
        const a = r.data?.requestPredictions;
        if (a) {
          acks.push({
            repo: 'streaming',
            commit: a.commit,
            path: `/${a.requestId}`,
            lines: pairs.map((x) => `${x.userId} ${x.movieId}`),
          });
          onAck();
        }
      }
    } catch {
      return sent; // the server is gone
    }
  }
}

test(`keeps every acknowledged write over ${TRIALS} SIGKILLs of the server and its workers`, async () => {
  requireDataset('ml-100k', 'u.data');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-crash-trials-'));
  const rng = new RandomState(SEED);
  const delays = Array.from({ length: TRIALS }, () => 50 + Math.floor(rng.random() * 1200));
  process.stdout.write(
    `crash trials: REELGRAPH_CRASH_SEED=${SEED}, kill delays (ms after the first acknowledged write): ${delays.join(' ')}\n`,
  );
  const acks: Ack[] = [];
  const result = { run: 0, acknowledged: 0, lost: 0, partial: 0 };
  const problems: string[] = [];
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const server = await startServer(dir);
      const mine: Ack[] = [];
      let firstAck!: () => void;
      const acknowledged = new Promise<void>((r) => (firstAck = r));
      const loop = clientLoop(server.url, trial, mine, () => firstAck());
      // the kill lands while writes are being made: the seeded instant counts from the trial's
      // first acknowledged write (a start-up that trains first never eats the whole delay)
      await acknowledged;
      await new Promise((r) => setTimeout(r, delays[trial])); // the seeded kill instant
      await killGroup(server);
      await loop;
      acks.push(...mine);
      result.run++;
      // offline check of everything acknowledged so far
      const pach = await EmbeddedPachyderm.open(dir, { readonly: true });
      try {
        expect(pach.db.pragma('integrity_check', { simple: true })).toBe('ok');
        for (const a of mine) {
          let info;
          try {
            info = await pach.inspectCommit(`${a.repo}@${a.commit}`);
          } catch {
            result.lost++;
            problems.push(`lost: ${a.repo}@${a.commit}${a.path}`);
            continue;
          }
          let text = '';
          try {
            text = (await pach.readFile(`${a.repo}@${a.commit}:${a.path}`)).toString();
          } catch {
            text = '';
          }
          const got = text.split('\n').filter(Boolean);
          const same = a.lines.every((l, i) => (got[i] ?? '').startsWith(l));
          if (info.finished === null || got.length !== a.lines.length || !same) {
            result.partial++;
            problems.push(`partial: ${a.repo}@${a.commit}${a.path}: ${JSON.stringify(got)}`);
          }
        }
      } finally {
        await pach.close();
      }
    }
    result.acknowledged = acks.length;
    process.stdout.write(
      `crash trials: run ${result.run}, acknowledged ${result.acknowledged}, lost ${result.lost}, partial ${result.partial} (REELGRAPH_CRASH_SEED=${SEED})\n`,
    );
    expect(problems).toEqual([]);
    expect(result.run).toBe(TRIALS);
    // every trial waited for its first acknowledged write before the kill
    expect(result.acknowledged).toBeGreaterThanOrEqual(TRIALS);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
