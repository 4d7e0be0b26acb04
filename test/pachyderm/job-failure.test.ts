/**
 * Why a job failed, and whether it is retried (issue 11), on the real embedded engine with real
 * child processes: a failed job's reason carries the program's last stderr line (not only "sh
 * exited with code 1"); a datum whose program exits with 78 (PERMANENT_FAILURE_EXIT_CODE: a bad
 * parameter, a refused memory estimate — it would fail the same way again) is not retried, while
 * an ordinary failure is tried `datumTries` times.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobState } from '../../src/pachyderm';
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

test('a job whose output meets the free-space floor fails with that reason, naming the data directory', async () => {
  const started = path.join(dir, 'started');
  await pach.createPipeline({
    pipeline: { name: 'copy' },
    transform: { cmd: ['sh', '-c', `touch "${started}"; sleep 1; cp /pfs/in/* /pfs/out/`] },
    input: { pfs: { repo: 'in', glob: '/*' } },
  });
  const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'A' }]);
  // once the datum runs, the floor rises above the free space: its output cannot be committed
  for (let i = 0; !fs.existsSync(started); i++) {
    if (i > 3000) throw new Error('the datum never started');
    await new Promise((r) => setTimeout(r, 10));
  }
  pach.storage.minFreeBytes = Number.MAX_SAFE_INTEGER;
  const j = await pach.inspectJob({ pipeline: 'copy', id: c.id }, { wait: true });
  pach.storage.minFreeBytes = 0;
  expect(j.state).toBe(JobState.JOB_FAILURE);
  expect(j.reason).toMatch(
    new RegExp(
      `insufficient storage: the data directory ${pach.dataDir} has .* free, below the floor of .* \\(REELGRAPH_MIN_FREE_BYTES\\)`,
    ),
  );
});
