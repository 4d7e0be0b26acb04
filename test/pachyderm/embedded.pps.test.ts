/**
 * The embedded adapter's PPS: the shared PPS contract over a fresh temporary data directory,
 * with `reopen` closing the engine (running jobs unfinished, as a crash leaves them) and opening
 * the same directory again.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobState } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { describePpsContract, type PpsContractTarget } from './contract/pps.contract';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pps-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describePpsContract(
  'embedded',
  async () => {
    const dir = tempDir();
    const open = () => EmbeddedPachyderm.open(dir, { pps: embeddedPps({ maxDatums: 4 }) });
    let pach = await open();
    const target: PpsContractTarget = {
      pach,
      close: () => pach.close(),
      reopen: async () => {
        await pach.close();
        pach = await open();
        target.pach = pach;
        return pach;
      },
    };
    return target;
  },
  { batchTransport: 'ipc' },
);

describe('embedded PPS: recovery after kill -9', () => {
  it('re-runs the interrupted job from scratch; its output commit was never finished', async () => {
    const dir = tempDir();
    const markers = tempDir();
    const root = path.resolve(__dirname, '../..');
    const child = spawn(
      process.execPath,
      [
        '-r',
        path.join(root, 'scripts/ts-register.js'),
        path.join(root, 'test/fixtures/pps/crash-engine.ts'),
        dir,
        markers,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const runs = path.join(markers, 'runs');
    const seen = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n') : []);
    // wait until both datums started and "/fast" is recorded as processed (the child says so)
    for (let i = 0; !(seen().includes('slow') && /PROCESSED 1/.test(out)); i++) {
      if (i > 1200) throw new Error(`the child did not get there in 60 s; it printed: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const id = /COMMIT ([0-9a-f]{32})/.exec(out)![1];
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));

    // what the crash left: a job not terminal, its output commit open
    const ro = await EmbeddedPachyderm.open(dir, {
      readonly: true,
      pps: embeddedPps({ runJobs: false }),
    });
    const left = await ro.inspectJob({ pipeline: 'rec', id });
    expect([JobState.JOB_STARTING, JobState.JOB_RUNNING]).toContain(left.state);
    expect((await ro.inspectCommit(`rec@${id}`)).finished).toBeNull();
    await ro.close();

    fs.writeFileSync(path.join(markers, 'release'), '');
    const pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
    try {
      const j = await pach.inspectJob({ pipeline: 'rec', id }, { wait: true });
      expect(j.state).toBe(JobState.JOB_SUCCESS);
      expect(j.restart).toBe(1);
      expect([j.dataTotal, j.dataProcessed, j.dataSkipped]).toEqual([2, 2, 0]);
      expect((await pach.readFile(`rec@${id}:/fast`)).toString()).toBe('F');
      expect((await pach.readFile(`rec@${id}:/slow`)).toString()).toBe('S');
      const files = [];
      for await (const f of pach.walkFile(`rec@${id}:/`)) files.push(f.file.path);
      expect(files).toEqual(['/', '/fast', '/slow']);
      // both datums ran twice: once before the crash, once after
      expect(seen().filter(Boolean).sort()).toEqual(['fast', 'fast', 'slow', 'slow']);
    } finally {
      await pach.close();
    }
  });
});

describe('embedded PPS: datum-batching processes kept between jobs', () => {
  // the program answers each datum with its pid and exits when told `done`, leaving a marker
  const worker = (marker: string) => `
    const fs = require('fs');
    const path = require('path');
    const next = () => new Promise((resolve) => {
      process.once('message', resolve);
      process.send({ type: 'nextDatum' });
    });
    (async () => {
      for (;;) {
        const m = await next();
        if (m.type !== 'datum') {
          fs.appendFileSync(${JSON.stringify(marker)}, process.pid + ' done\\n');
          process.disconnect();
          return;
        }
        fs.writeFileSync(m.pfsRoot + '/out/' + path.basename(m.env.in), process.pid + ' ' + m.env.PACH_JOB_ID);
      }
    })();`;

  async function setUp(batchIdleMs: number) {
    const dir = tempDir();
    const marker = path.join(tempDir(), 'exits');
    const pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps({ batchIdleMs }) });
    await pach.createRepo('in');
    const spec = (version: string) => ({
      pipeline: { name: 'warm' },
      transform: {
        cmd: ['node', '-e', worker(marker)],
        datumBatching: true,
        env: { VERSION: version },
      },
      input: { pfs: { repo: 'in', glob: '/*' } },
    });
    await pach.createPipeline(spec('1'));
    /** Commits one file, waits for its job, returns `[pid, job id]` of its answer. */
    const job = async (name: string): Promise<[string, string, string]> => {
      const c = await pach.modifyFile('in@master', [{ op: 'put', path: `/${name}`, data: name }]);
      const j = await pach.inspectJob({ pipeline: 'warm', id: c.id }, { wait: true });
      expect(j.state).toBe(JobState.JOB_SUCCESS);
      const [pid, jobId] = (await pach.readFile(`warm@${c.id}:/${name}`)).toString().split(' ');
      return [pid, jobId, c.id];
    };
    const exits = () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '');
    return { pach, spec, job, exits };
  }

  it('the next job of the pipeline is served by the same process, with its own job id', async () => {
    const { pach, job, exits } = await setUp(60_000);
    try {
      const [pid1, job1, c1] = await job('a');
      const [pid2, job2, c2] = await job('b');
      expect([job1, job2]).toEqual([c1, c2]);
      expect(pid2).toBe(pid1);
      expect(exits()).toBe('');
    } finally {
      await pach.close();
    }
    // closing the engine retires it: the process was told `done` and exited on its own
    const [pid] = exits().trim().split(' ');
    expect(exits()).toBe(`${pid} done\n`);
  });

  it('an idle process is retired after batchIdleMs; the next job starts a new one', async () => {
    const { pach, job, exits } = await setUp(200);
    try {
      const [pid1] = await job('a');
      for (let i = 0; !exits(); i++) {
        if (i > 1200) throw new Error('the idle process was not retired in 60 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(exits()).toBe(`${pid1} done\n`);
      const [pid2] = await job('b');
      expect(pid2).not.toBe(pid1);
    } finally {
      await pach.close();
    }
  });

  it('a pipeline update retires the old version’s process', async () => {
    const { pach, spec, job, exits } = await setUp(60_000);
    try {
      const [pid1] = await job('a');
      await pach.createPipeline(spec('2'), { update: true });
      const [pid2] = await job('b');
      expect(pid2).not.toBe(pid1);
      expect(exits()).toBe(`${pid1} done\n`);
    } finally {
      await pach.close();
    }
  });

  it('with batchIdleMs 0 every job gets its own process', async () => {
    const { pach, job } = await setUp(0);
    try {
      const [pid1] = await job('a');
      const [pid2] = await job('b');
      expect(pid2).not.toBe(pid1);
    } finally {
      await pach.close();
    }
  });
});

describe('embedded PPS: datum outputs uploaded in groups', () => {
  it('a job of 300 datums (more than one upload group) has every datum’s output', async () => {
    const dir = tempDir();
    const pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps({ batchIdleMs: 0 }) });
    try {
      await pach.createRepo('in');
      const worker = `
        const fs = require('fs');
        const next = () => new Promise((r) => { process.once('message', r); process.send({ type: 'nextDatum' }); });
        (async () => {
          for (;;) {
            const m = await next();
            if (m.type !== 'datum') { process.disconnect(); return; }
            const name = require('path').basename(m.env.in);
            fs.writeFileSync(m.pfsRoot + '/out/' + name, String(Number(fs.readFileSync(m.env.in, 'utf8')) * 2));
          }
        })();`;
      await pach.createPipeline({
        pipeline: { name: 'double' },
        transform: { cmd: ['node', '-e', worker], datumBatching: true },
        input: { pfs: { repo: 'in', glob: '/*' } },
      });
      const n = 300;
      const c = await pach.modifyFile(
        'in@master',
        Array.from({ length: n }, (_, i) => ({
          op: 'put' as const,
          path: `/f${String(i).padStart(3, '0')}`,
          data: String(i),
        })),
      );
      const j = await pach.inspectJob({ pipeline: 'double', id: c.id }, { wait: true });
      expect([j.state, j.dataTotal, j.dataProcessed]).toEqual([JobState.JOB_SUCCESS, n, n]);
      let count = 0;
      for await (const f of pach.listFile(`double@${c.id}:/`)) {
        const i = Number(f.file.path.slice(2));
        expect((await pach.readFile(`double@${c.id}:${f.file.path}`)).toString()).toBe(
          String(2 * i),
        );
        count++;
      }
      expect(count).toBe(n);
    } finally {
      await pach.close();
    }
  });
});
