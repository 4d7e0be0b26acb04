/**
 * Why a job failed, and whether it is retried (issue 11), on the real embedded engine with real
 * child processes: a failed job's reason carries the program's last stderr line (not only "sh
 * exited with code 1"); a datum whose program exits with 78 (PERMANENT_FAILURE_EXIT_CODE: a bad
 * parameter, a refused memory estimate — it would fail the same way again) is not retried, while
 * an ordinary failure is tried `datumTries` times. A job that meets the free-space floor does not
 * fail: it says it waits for storage and ends SUCCESS, nothing lost, once space returns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type JobInfo, JobState } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { PERMANENT_FAILURE_EXIT_CODE } from '../../src/pachyderm/worker-sdk';

jest.setTimeout(60_000);

let dir: string;
let pach: EmbeddedPachyderm;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-jobfail-'));
  pach = await EmbeddedPachyderm.open(path.join(dir, 'data'), { pps: embeddedPps() });
  await pach.createRepo('in');
});
afterEach(async () => {
  await pach.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A pipeline whose program logs one run per try, writes two stderr lines and exits `code`. */
async function failing(name: string, code: number): Promise<{ runs: () => string[] }> {
  const runs = path.join(dir, `${name}.runs`);
  await pach.createPipeline({
    pipeline: { name },
    transform: {
      cmd: [
        'sh',
        '-c',
        `echo try >> "${runs}"; echo "loading the parameters" >&2; echo "error: nFactors must be a whole number ≥ 1, got -1" >&2; exit ${code}`,
      ],
    },
    input: { pfs: { repo: 'in', glob: '/' } },
    datumTries: 3,
  });
  return {
    runs: () =>
      fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean) : [],
  };
}

test('a failed job names the program’s last error line, and an ordinary failure is tried datumTries times', async () => {
  const p = await failing('flaky', 1);
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'A' }]);
  const j = await pach.inspectJob({ pipeline: 'flaky', id: c.id }, { wait: true });
  expect(j.state).toBe(JobState.JOB_FAILURE);
  expect(j.reason).toContain(
    'sh exited with code 1: error: nFactors must be a whole number ≥ 1, got -1',
  );
  expect(p.runs()).toEqual(['try', 'try', 'try']);
});

test(`a datum whose program exits with ${PERMANENT_FAILURE_EXIT_CODE} fails at once, without retries`, async () => {
  const p = await failing('bad-parameter', PERMANENT_FAILURE_EXIT_CODE);
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'A' }]);
  const j = await pach.inspectJob({ pipeline: 'bad-parameter', id: c.id }, { wait: true });
  expect(j.state).toBe(JobState.JOB_FAILURE);
  expect(j.reason).toContain(
    `sh exited with code ${PERMANENT_FAILURE_EXIT_CODE}: error: nFactors must be a whole number ≥ 1, got -1`,
  );
  expect(p.runs()).toEqual(['try']);
});

/**
 * The first event of `pipeline`'s jobs matching `pred`, from a watch started now (call it before
 * what causes the event).
 */
function jobEvent(pipeline: string, pred: (j: JobInfo) => boolean): Promise<JobInfo> {
  const ctl = new AbortController();
  const watch = pach.watchJobs({ pipeline: { name: pipeline }, signal: ctl.signal });
  return (async () => {
    try {
      for await (const j of watch) if (pred(j)) return j;
      throw new Error(`the watch of ${pipeline}'s jobs ended without the event`);
    } finally {
      ctl.abort();
    }
  })();
}

const WAITING = new RegExp(
  '^waiting for storage: insufficient storage: the data directory .* free, below the floor of .* \\(REELGRAPH_MIN_FREE_BYTES\\)',
);

test('a datum whose output meets the free-space floor keeps it staged, the job says it waits, and it ends SUCCESS with that output once space returns', async () => {
  const started = path.join(dir, 'started');
  const go = path.join(dir, 'go');
  const runs = path.join(dir, 'copy.runs');
  await pach.createPipeline({
    pipeline: { name: 'copy' },
    transform: {
      cmd: [
        'sh',
        '-c',
        `echo run >> "${runs}"; touch "${started}"; while [ ! -e "${go}" ]; do sleep 0.02; done; cp /pfs/in/* /pfs/out/`,
      ],
    },
    input: { pfs: { repo: 'in', glob: '/*' } },
  });
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'A' }]);
  // once the datum runs, the floor rises above the free space: its output cannot be committed
  for (let i = 0; !fs.existsSync(started); i++) {
    if (i > 3000) throw new Error('the datum never started');
    await new Promise((r) => setTimeout(r, 10));
  }
  pach.storage.minFreeBytes = Number.MAX_SAFE_INTEGER;
  const waiting = jobEvent('copy', (j) => WAITING.test(j.reason));
  fs.writeFileSync(go, '');
  const w = await waiting;
  expect(w.state).toBe(JobState.JOB_RUNNING);
  expect(w.reason).toContain(`the data directory ${pach.dataDir} has `);
  expect((await pach.inspectJob({ pipeline: 'copy', id: c.id })).reason).toBe(w.reason);

  // space returns: the staged output is committed, the datum is not run again
  pach.storage.minFreeBytes = 0;
  const j = await pach.inspectJob({ pipeline: 'copy', id: c.id }, { wait: true });
  expect(j).toMatchObject({ state: JobState.JOB_SUCCESS, reason: '', restart: 0 });
  expect(j.dataProcessed).toBe(1);
  expect(fs.readFileSync(runs, 'utf8')).toBe('run\n');
  expect((await pach.readFile({ commit: { repo: 'copy', id: c.id }, path: '/a' })).toString()).toBe(
    'A',
  );
  const logs: string[] = [];
  for await (const l of pach.getLogs({
    job: { pipeline: { name: 'copy' }, id: c.id },
    master: true,
  })) {
    logs.push(l.message);
  }
  expect(logs).toEqual(
    expect.arrayContaining([w.reason, 'trying the write again after waiting for storage']),
  );
});

test('a job that meets the free-space floor before any datum waits, then runs again and ends SUCCESS, restart 1', async () => {
  const runs = path.join(dir, 'late.runs');
  await pach.createPipeline({
    pipeline: { name: 'late' },
    transform: { cmd: ['sh', '-c', `echo run >> "${runs}"; cp /pfs/in/* /pfs/out/`] },
    input: { pfs: { repo: 'in', glob: '/*' } },
  });
  await pach.stopPipeline({ name: 'late' });
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/b', data: 'B' }]);
  // the floor rises before the job starts: its output commit cannot even be started
  pach.storage.minFreeBytes = Number.MAX_SAFE_INTEGER;
  const waiting = jobEvent('late', (j) => j.job.id === c.id && WAITING.test(j.reason));
  await pach.startPipeline({ name: 'late' });
  const w = await waiting;
  expect(fs.existsSync(runs)).toBe(false);

  pach.storage.minFreeBytes = 0;
  const j = await pach.inspectJob({ pipeline: 'late', id: c.id }, { wait: true });
  expect(j).toMatchObject({ state: JobState.JOB_SUCCESS, reason: '', restart: 1 });
  expect(w.restart).toBe(0);
  expect(fs.readFileSync(runs, 'utf8')).toBe('run\n');
  expect((await pach.readFile({ commit: { repo: 'late', id: c.id }, path: '/b' })).toString()).toBe(
    'B',
  );
});

test('a job waiting for space is stopped by stopJob: KILLED with the stop reason', async () => {
  await pach.createPipeline({
    pipeline: { name: 'stuck' },
    transform: { cmd: ['sh', '-c', 'cp /pfs/in/* /pfs/out/'] },
    input: { pfs: { repo: 'in', glob: '/*' } },
  });
  await pach.stopPipeline({ name: 'stuck' });
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/c', data: 'C' }]);
  pach.storage.minFreeBytes = Number.MAX_SAFE_INTEGER;
  const waiting = jobEvent('stuck', (j) => j.job.id === c.id && WAITING.test(j.reason));
  await pach.startPipeline({ name: 'stuck' });
  await waiting;
  // settling a stopped job starts (if need be) and finishes its output commit: no floor for that
  await pach.stopJob({ pipeline: { name: 'stuck' }, id: c.id }, { reason: 'operator gave up' });
  const j = await pach.inspectJob({ pipeline: 'stuck', id: c.id });
  pach.storage.minFreeBytes = 0;
  expect(j).toMatchObject({ state: JobState.JOB_KILLED, reason: 'operator gave up' });
});
