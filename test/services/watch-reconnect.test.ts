/**
 * The services' job watch across a pachd restart, over real gRPC: the pachd stand-in on
 * 127.0.0.1 serving an embedded engine is closed while a job runs and started again on the same
 * port after the job ended; `JOB_UPDATED` still delivers that job's final state.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { connectPachd } from '../../src/pachyderm/grpc/client';
import { startPachdServer } from '../../src/pachyderm/grpc/server';
import { type JobInfo, JobState } from '../../src/pachyderm/types';
import { resolveServiceConfig } from '../../src/services/config';
import { createEventBus } from '../../src/services/pubsub';
import { UpstreamWatch } from '../../src/services/watch';

jest.setTimeout(60_000);

const until = async (cond: () => boolean, what: string, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('a job that ends while pachd is down still reaches JOB_UPDATED with its final state', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-watch-'));
  const engine = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
  let server = await startPachdServer(engine, { port: 0 });
  const port = server.port;
  const client = connectPachd(`grpc://127.0.0.1:${port}`, { watchPollMs: 50 });
  const events = createEventBus();
  const watch = new UpstreamWatch(client, resolveServiceConfig(), events, () => undefined, 100);
  const seen: JobInfo[] = [];
  const listening = (async () => {
    for await (const j of events.subscribe('JOB_UPDATED')) seen.push(j);
  })();
  try {
    await engine.createRepo('in');
    await engine.createPipeline({
      pipeline: { name: 'slow' },
      transform: { cmd: ['sh', '-c', 'sleep 1; cp -r "$in" /pfs/out/'] },
      input: { pfs: { repo: 'in', glob: '/*' } },
    });
    watch.start();
    // the watch is subscribed once it reports a job: a first commit's job, seen through it
    const w = await engine.modifyFile('in@master', [{ op: 'put', path: '/warm-up', data: 'W' }]);
    await until(() => seen.some((j) => j.job.id === w.id), 'the watch to report a job');
    await engine.inspectJob({ pipeline: 'slow', id: w.id }, { wait: true });
    const c = await engine.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'A' }]);
    const states = () => seen.filter((j) => j.job.id === c.id).map((j) => j.state);
    await until(() => states().includes(JobState.JOB_RUNNING), 'the job to run');

    await server.close(0); // pachd goes away while the job runs …
    const done = await engine.inspectJob({ pipeline: 'slow', id: c.id }, { wait: true });
    expect(done.state).toBe(JobState.JOB_SUCCESS); // … and the job ends meanwhile
    expect(states()).not.toContain(JobState.JOB_SUCCESS);

    server = await startPachdServer(engine, { port }); // pachd is back
    await until(() => states().includes(JobState.JOB_SUCCESS), 'the final state after the restart');
    // each state once, in order, ending with the final one
    const got = states();
    expect(new Set(got).size).toBe(got.length);
    expect(got[got.length - 1]).toBe(JobState.JOB_SUCCESS);
    expect(got.indexOf(JobState.JOB_RUNNING)).toBeLessThan(got.indexOf(JobState.JOB_SUCCESS));
  } finally {
    await watch.close();
    void listening;
    await client.close();
    await server.close(0);
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
