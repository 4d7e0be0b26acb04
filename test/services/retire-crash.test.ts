/**
 * A crash (SIGKILL of a real child process, fixtures/answering-service.ts) between answering and
 * retiring loses no answer and leaves nothing pending forever:
 * - deterministic window: the child runs with retiring off, makes 4 requests and waits for their
 *   answers, then is killed. The data directory then holds the answers in `predict` and the 4
 *   requests still at the head of `streaming` (checked: the crash window is really there). The
 *   services started again retire them at start-up; each request still gives the answer, model
 *   version and answer commit the child saw; the next retrain's predict job has no datum.
 * - random instants: the child makes requests in a loop (retiring on) and is killed 0.3–2.5 s
 *   after it is ready, 3 times on the same directory (seeded delays, seed printed). After each
 *   kill the services start again on the directory: every acknowledged request gets answered,
 *   every answer the child saw is unchanged, and the head of `streaming` ends empty.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { FileType, JobState } from '../../src/pachyderm/types';
import { type Services, createServices } from '../../src/services';
import { openEmbeddedEngine } from '../../src/services/bootstrap';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const CHILD = path.join(__dirname, 'fixtures/answering-service.ts');

interface Seen {
  acks: string[];
  answers: Map<string, { text: string; modelVersion: string; answerCommit: string }>;
  stderr: string;
}

/** Runs the child until it reports ready, waits `afterReadyMs`, SIGKILLs it. */
function runAndKill(dir: string, args: string[], afterReadyMs: number): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', path.join(ROOT, 'scripts/ts-register.js'), CHILD, dir, ...args],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const seen: Seen = { acks: [], answers: new Map(), stderr: '' };
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (msg.ready) setTimeout(() => child.kill('SIGKILL'), afterReadyMs);
        else if (msg.ack) seen.acks.push(msg.ack);
        else if (msg.answered) seen.answers.set(msg.answered, msg);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (seen.stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(seen);
      else reject(new Error(`child exited with ${code}/${signal}: ${seen.stderr}`));
    });
  });
}

async function pendingFiles(pach: EmbeddedPachyderm): Promise<string[]> {
  const out: string[] = [];
  for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
    if (f.fileType === FileType.FILE) out.push(f.file.path.slice(1));
  }
  return out.sort();
}

async function waitUntil(pred: () => Promise<boolean>, what: string, ms = 90_000) {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Opens the directory again with normal services; returns both (close them). */
async function restart(dir: string): Promise<{ pach: EmbeddedPachyderm; services: Services }> {
  const pach = await openEmbeddedEngine(dir);
  const services = await createServices(pach, { dataset: { datasetsDir: dir, download: false } });
  return { pach, services };
}

test('SIGKILL between answering and retiring: the answers stay, start-up retires the requests', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-retire-crash-'));
  try {
    const seen = await runAndKill(dir, ['no-retire', '4'], 0);
    expect(seen.acks).toHaveLength(4);
    expect([...seen.answers.keys()]).toEqual(seen.acks);

    // the crash window: the answers exist, the requests are still pending at the head
    const check = await openEmbeddedEngine(dir);
    try {
      expect(await pendingFiles(check)).toEqual([...seen.acks].sort());
    } finally {
      await check.close();
    }

    const { pach, services } = await restart(dir);
    try {
      await waitUntil(async () => (await pendingFiles(pach)).length === 0, 'the start-up retire');
      for (const id of seen.acks) {
        const r = await services.predictions.getResult(id);
        const was = seen.answers.get(id)!;
        expect(r).toMatchObject({
          ready: true,
          error: null,
          text: was.text,
          modelVersion: was.modelVersion,
          answerCommit: was.answerCommit,
        });
        expect(r.answerCommit).toBe(id); // answered by its own job
      }
      // nothing left for a retrain to re-answer
      const batch = await services.ratings.addRatings([{ userId: 'b', movieId: 'y', rating: 1 }]);
      const train = await pach.inspectJob({ pipeline: 'train', id: batch.commit }, { wait: true });
      expect(train.state).toBe(JobState.JOB_SUCCESS);
      await waitUntil(
        async () =>
          (await pach.readFile({ commit: 'models@master', path: '/serving.json' }))
            .toString()
            .includes(train.outputCommit.id),
        'the new model published',
      );
      const models = await pach.inspectCommit('models@master');
      const job = await pach.inspectJob(
        { pipeline: 'predict', id: models.commit.id },
        { wait: true },
      );
      expect(job.dataTotal).toBe(0);
      for (const id of seen.acks) {
        expect((await services.predictions.getResult(id)).text).toBe(seen.answers.get(id)!.text);
      }
    } finally {
      await services.close();
      await pach.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGKILL at random instants while requests flow: every acknowledged request is answered, nothing stays pending', async () => {
  const seed = Number(process.env.REELGRAPH_TEST_SEED ?? Date.now() % 100_000);
  console.log(`retire-crash seed ${seed} (REELGRAPH_TEST_SEED to replay)`);
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-retire-random-'));
  const answers = new Map<string, string>();
  const acks: string[] = [];
  try {
    for (let trial = 0; trial < 3; trial++) {
      const seen = await runAndKill(dir, ['loop'], 300 + Math.floor(rand() * 2200));
      acks.push(...seen.acks);
      for (const [id, a] of seen.answers) answers.set(id, a.text);
      const { pach, services } = await restart(dir);
      try {
        // every acknowledged request gets answered (jobs cut by the kill run again on open)
        for (const id of acks) {
          const it = await services.predictions.watchResult(id);
          const r = await it.next();
          expect(r.done).toBe(false);
          expect(r.value).toMatchObject({ ready: true, error: null });
          if (answers.has(id)) expect(r.value!.text).toBe(answers.get(id));
          else answers.set(id, r.value!.text!);
        }
        // and retired: an abandoned open request commit is finished by the next write, so
        // make one (it is answered and retired too)
        const extra = await services.predictions.requestPredictions([
          { userId: 'a', movieId: 'y' },
        ]);
        acks.push(extra.requestId);
        await (await services.predictions.watchResult(extra.requestId)).next();
        await waitUntil(async () => (await pendingFiles(pach)).length === 0, 'no pending request');
      } finally {
        await services.close();
        await pach.close();
      }
    }
    expect(acks.length).toBeGreaterThan(3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
