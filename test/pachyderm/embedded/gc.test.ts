/**
 * `reelgraph gc` (log retention, src/pachyderm/embedded/gc.ts) on a real embedded data directory
 * whose engine stays open (as a running server's would): the logs of the jobs outside the
 * retention go, every answer (output file at its job's commit), every job and the kept jobs' logs
 * stay, and a bad retention changes nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { gcCommand } from '../../../src/cli/commands/gc';
import { JobState, type LogMessage } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { dropJobLogs } from '../../../src/pachyderm/embedded/gc';
import { openDatabase } from '../../../src/pachyderm/embedded/db';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';

async function gc(args: string[]): Promise<{ lines: number; jobs: number }> {
  let text = '';
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const cmd = gcCommand({ stdout, stderr: new Writable({ write: (_c, _e, cb) => cb() }) });
  cmd.exitOverride();
  await cmd.parseAsync([...args, '--json'], { from: 'user' });
  return JSON.parse(text) as { lines: number; jobs: number };
}

describe('reelgraph gc (job log retention)', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  /** Request-like inputs, oldest first: [commit id, file name, content]. */
  const made: [string, string, string][] = [];

  /** The user-code lines of a job (they reach the store up to 50 ms after the job ends). */
  async function userLines(id: string, follow = false): Promise<string[]> {
    const ac = new AbortController();
    const out: string[] = [];
    const it = pach.getLogs({ job: { pipeline: 'answer', id }, follow, signal: ac.signal });
    try {
      for await (const m of it as AsyncIterable<LogMessage>) {
        if (!m.user) continue;
        out.push(m.message);
        if (follow) break; // the first line is what a waiter needs
      }
    } finally {
      ac.abort();
    }
    return out;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-gc-'));
    pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
    await pach.createRepo('requests');
    await pach.createPipeline({
      pipeline: { name: 'answer' },
      transform: {
        cmd: [
          'sh',
          '-c',
          'for f in /pfs/requests/*; do echo "answering $(basename $f)"; tr a-z A-Z < $f > /pfs/out/$(basename $f); done',
        ],
      },
      input: { pfs: { repo: 'requests', glob: '/*' } },
    });
    for (let k = 0; k < 5; k++) {
      const name = `r${k}`;
      const c = await pach.modifyFile('requests@master', [
        { op: 'put', path: `/${name}`, data: `request ${k}` },
      ]);
      const j = await pach.inspectJob({ pipeline: 'answer', id: c.id }, { wait: true });
      expect(j.state).toBe(JobState.JOB_SUCCESS);
      made.push([c.id, name, `REQUEST ${k}`]);
      // each job answered its new request and logged it
      expect(await userLines(c.id, true)).toEqual([`answering ${name}`]);
    }
  }, 60_000);

  afterAll(async () => {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a retention without a bound or with a negative count, and changes nothing', async () => {
    await expect(gc(['--data-dir', dir])).rejects.toThrow(/--log-days DAYS and\/or --keep-jobs N/);
    await expect(gc(['--data-dir', dir, '--keep-jobs', '-1'])).rejects.toThrow(
      /non-negative integer, got "-1"/,
    );
    const db = openDatabase(path.join(dir, 'meta.sqlite'), { readonly: true });
    try {
      expect(() => dropJobLogs(db, { keepJobs: 1.5 })).toThrow(
        /keepJobs must be a non-negative integer/,
      );
    } finally {
      db.close();
    }
    for (const [id, name] of made) expect(await userLines(id)).toEqual([`answering ${name}`]);
  });

  it('answers and jobs stay readable when the logs of all but the newest 2 jobs are dropped', async () => {
    // what the 4 oldest of the 6 jobs (the pipeline's first, on its spec commit, and the 5
    // requests') hold, user and engine lines, counted in the store before
    const db = openDatabase(path.join(dir, 'meta.sqlite'), { readonly: true });
    const perJob = db
      .prepare(
        `SELECT j.id, (SELECT COUNT(*) FROM pps_logs l WHERE l.pipeline = j.pipeline AND l.job_id = j.id) AS n
           FROM pps_jobs j WHERE j.pipeline = 'answer' ORDER BY j.seq`,
      )
      .all() as { id: string; n: number }[];
    db.close();
    expect(perJob.length).toBe(6);
    const old = perJob.slice(0, 4);
    const r = await gc(['--data-dir', dir, '--keep-jobs', '2']);
    expect(r).toMatchObject({
      lines: old.reduce((a, j) => a + j.n, 0),
      jobs: old.filter((j) => j.n > 0).length,
    });
    expect(r.jobs).toBeGreaterThanOrEqual(3); // at least the 3 old request jobs had user lines
    for (const [k, [id, name, answer]] of made.entries()) {
      expect(await userLines(id)).toEqual(k < 3 ? [] : [`answering ${name}`]);
      // the answer at the job's own commit, as `predict@<request id>` is read
      const text = (
        await pach.readFile({ commit: { repo: 'answer', id }, path: `/${name}` })
      ).toString('utf8');
      expect(text).toBe(answer);
      const j = await pach.inspectJob({ pipeline: 'answer', id });
      expect(j.state).toBe(JobState.JOB_SUCCESS);
    }
    // again: nothing more to drop
    expect(await gc(['--data-dir', dir, '--keep-jobs', '2'])).toMatchObject({ lines: 0, jobs: 0 });
  });

  it('drops by age: --log-days 0 takes every finished job, a later job logs again', async () => {
    const r = await gc(['--data-dir', dir, '--log-days', '0']);
    expect(r.jobs).toBeGreaterThanOrEqual(2);
    for (const [id, name, answer] of made) {
      expect(await userLines(id)).toEqual([]);
      expect(
        (await pach.readFile({ commit: { repo: 'answer', id }, path: `/${name}` })).toString(),
      ).toBe(answer);
    }
    // the engine keeps running and logging after a gc next to it
    const c = await pach.modifyFile('requests@master', [{ op: 'put', path: '/r5', data: 'x' }]);
    expect((await pach.inspectJob({ pipeline: 'answer', id: c.id }, { wait: true })).state).toBe(
      JobState.JOB_SUCCESS,
    );
    expect(await userLines(c.id, true)).toEqual(['answering r5']);
  });
});
