/**
 * watchJobs over gRPC without a pipeline: the client lists the pipelines (again every second) and
 * subscribes to each, so a pipeline created after the watch started is watched too; each job's
 * states arrive in order, once each, ending with its terminal state.
 */
import { JobState, type JobInfo } from '../../../src/pachyderm';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';
import { grpcStack, removeTempDirs } from './harness';

afterAll(removeTempDirs);

it('follows the jobs of every pipeline, including one created later', async () => {
  const stack = await grpcStack({ engine: { pps: embeddedPps() } });
  const pach = stack.client;
  const ctl = new AbortController();
  try {
    await pach.createRepo('in');
    await pach.createPipeline({
      pipeline: { name: 'first' },
      transform: { cmd: ['sh', '-c', 'cp -r /pfs/in/. /pfs/out/'] },
      input: { pfs: { repo: 'in', glob: '/' } },
    });
    const it = pach.watchJobs({ signal: ctl.signal })[Symbol.asyncIterator]();
    await pach.createPipeline({
      pipeline: { name: 'later' },
      transform: { cmd: ['sh', '-c', 'cp -r /pfs/in/. /pfs/out/'] },
      input: { pfs: { repo: 'in', glob: '/' } },
    });
    const c = await pach.modifyFile('in@master', [{ op: 'put', path: '/a', data: 'x' }]);
    const seen = new Map<string, JobState[]>();
    const done = (p: string) => seen.get(p)?.includes(JobState.JOB_SUCCESS);
    while (!done('first') || !done('later')) {
      const r = await it.next();
      const j = r.value as JobInfo;
      if (j.job.id !== c.id) continue;
      seen.set(j.job.pipeline.name, [...(seen.get(j.job.pipeline.name) ?? []), j.state]);
    }
    const order = [
      JobState.JOB_CREATED,
      JobState.JOB_STARTING,
      JobState.JOB_RUNNING,
      JobState.JOB_FINISHING,
      JobState.JOB_SUCCESS,
    ];
    for (const states of seen.values()) {
      expect(states).toEqual(order.filter((s) => states.includes(s)));
      expect(states[states.length - 1]).toBe(JobState.JOB_SUCCESS);
    }
    ctl.abort();
    expect((await it.next()).done).toBe(true);
  } finally {
    ctl.abort();
    await stack.close();
  }
});
