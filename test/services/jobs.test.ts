/**
 * Job history cursors when several jobs share their creation millisecond (a commit set's jobs
 * are created together). The real engine cannot be made to produce equal timestamps on demand,
 * so `listJob` here is a small in-memory implementation of the port's documented contract
 * (port.ts ListJobOptions: newest first, `paginationMarker` = created strictly before, `state`
 * and `pipeline` filters) over hand-made jobs.
 */
import type { ListJobOptions, Pachyderm } from '../../src/pachyderm/port';
import { toPipeline } from '../../src/pachyderm/refs';
import { type JobInfo, JobState } from '../../src/pachyderm/types';
import { resolveServiceConfig } from '../../src/services/config';
import { Jobs } from '../../src/services/jobs';

const repo = (name: string) => ({ name, type: 'user' as const, project: { name: 'default' } });

function job(pipeline: string, id: string, created: number, state = JobState.JOB_SUCCESS): JobInfo {
  return {
    job: { pipeline: { name: pipeline, project: { name: 'default' } }, id },
    pipelineVersion: 1,
    outputCommit: { repo: repo(pipeline), id },
    restart: 0,
    dataProcessed: 0,
    dataSkipped: 0,
    dataTotal: 0,
    dataFailed: 0,
    dataRecovered: 0,
    state,
    reason: '',
    created: new Date(created),
    started: null,
    finished: null,
    inputCommits: [],
  };
}

// creation order (oldest first); equal milliseconds within commit sets
const JOBS: JobInfo[] = [
  job('train', 'a', 1000),
  job('predict', 'a', 1000),
  job('predict', 'b', 2000, JobState.JOB_FAILURE),
  job('train', 'c', 3000),
  job('predict', 'c', 3000),
  job('predict', 'd', 3000, JobState.JOB_FAILURE),
  job('predict', 'e', 4000),
];

const port = {
  async *listJob(opts: ListJobOptions = {}) {
    const only = opts.pipeline ? toPipeline(opts.pipeline).name : null;
    for (const j of [...JOBS].reverse()) {
      if (only && j.job.pipeline.name !== only) continue;
      if (opts.state && !opts.state.includes(j.state)) continue;
      if (opts.paginationMarker && !(j.created < opts.paginationMarker)) continue;
      yield j;
    }
  },
} as unknown as Pachyderm;

const jobs = new Jobs(port, resolveServiceConfig());
const name = (j: JobInfo) => `${j.job.pipeline.name}@${j.job.id}`;

async function pages(size: number, filter: { pipeline?: string; state?: JobState } = {}) {
  const out: string[][] = [];
  let after: string | null = null;
  for (;;) {
    const p = await jobs.jobHistory({ ...filter, first: size, after });
    out.push(p.items.map((e) => name(e.node)));
    if (!p.hasNextPage) return out;
    after = p.items[p.items.length - 1].cursor;
  }
}

test('every page size gives every job once, newest first, across equal milliseconds', async () => {
  const newestFirst = [...JOBS].reverse().map(name);
  for (let size = 1; size <= 8; size++) {
    const got = await pages(size);
    expect(got.flat()).toEqual(newestFirst);
    expect(got.slice(0, -1).every((p) => p.length === size)).toBe(true);
  }
  expect(await pages(2)).toEqual([
    ['predict@e', 'predict@d'],
    ['predict@c', 'train@c'],
    ['predict@b', 'predict@a'],
    ['train@a'],
  ]);
});

test('filters combine with cursors', async () => {
  expect((await pages(1, { pipeline: 'predict', state: JobState.JOB_FAILURE })).flat()).toEqual([
    'predict@d',
    'predict@b',
  ]);
  expect((await pages(1, { pipeline: 'train' })).flat()).toEqual(['train@c', 'train@a']);
});

test('an empty pipeline name is a bad name, not "every pipeline"', async () => {
  await expect(jobs.jobHistory({ pipeline: '', first: 2 })).rejects.toMatchObject({
    issues: [expect.objectContaining({ field: 'pipeline' })],
  });
  await expect(jobs.job('a', '')).rejects.toMatchObject({
    issues: [expect.objectContaining({ field: 'pipeline' })],
  });
  await expect(jobs.checkPipeline('')).rejects.toMatchObject({
    issues: [expect.objectContaining({ field: 'pipeline' })],
  });
  // null or absent: every pipeline
  expect((await jobs.jobHistory({ pipeline: null, first: 100 })).items).toHaveLength(JOBS.length);
});
