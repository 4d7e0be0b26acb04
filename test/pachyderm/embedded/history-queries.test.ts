/**
 * The embedded engine's history queries (history-queries.ts, issue 10): every query that runs per
 * request, per job or per listing is served by an index in the order it reads — checked on the
 * plan SQLite chooses for the migrated schema — and the paged listings give exactly what one
 * whole listing gives, across page boundaries (more commits and jobs than one page).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OriginKind, isTerminalJobState } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { HISTORY_PAGE, HISTORY_QUERIES } from '../../../src/pachyderm/embedded/history-queries';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';

/** The index each query must use (`INTEGER PRIMARY KEY` = the rowid, i.e. `seq`). */
const EXPECTED_INDEX: Record<string, string> = {
  COMMITS_DESC_SQL: 'pfs_commits_by_repo_seq',
  COMMITS_ASC_SQL: 'pfs_commits_by_repo_seq',
  PIPELINE_JOBS_DESC_SQL: 'pps_jobs_by_pipeline_seq',
  PIPELINE_JOBS_ASC_SQL: 'pps_jobs_by_pipeline_seq',
  ALL_JOBS_DESC_SQL: 'INTEGER PRIMARY KEY',
  ALL_JOBS_ASC_SQL: 'INTEGER PRIMARY KEY',
  LAST_JOB_SQL: 'pps_jobs_by_pipeline_seq',
  OPEN_JOBS_OF_PIPELINE_SQL: 'pps_jobs_open',
  PREVIOUS_RAN_JOB_SQL: 'pps_jobs_by_pipeline_seq',
  NEWEST_JOB_CREATED_SQL: 'INTEGER PRIMARY KEY',
  QUEUE_HEADS_SQL: 'pps_jobs_open',
};

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-history-'));
  dirs.push(d);
  return d;
}
let pach: EmbeddedPachyderm;
beforeAll(async () => {
  pach = await EmbeddedPachyderm.open(tempDir(), { pps: embeddedPps() });
});
afterAll(async () => {
  await pach?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('history queries: plans', () => {
  it.each(Object.keys(HISTORY_QUERIES))(
    'answers %s through its index, without scanning or sorting the history',
    (name) => {
      const q = HISTORY_QUERIES[name];
      const plan = (
        pach.db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as { detail: string }[]
      ).map((r) => r.detail);
      const reads = plan.filter((d) => /^(SEARCH|SCAN) /.test(d));
      expect(reads.length).toBeGreaterThan(0);
      for (const d of reads) expect(d).toMatch(/^SEARCH /);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
      expect(reads[0]).toContain(EXPECTED_INDEX[name]);
    },
  );

  it('names an expected index for every history query', () => {
    expect(Object.keys(EXPECTED_INDEX).sort()).toEqual(Object.keys(HISTORY_QUERIES).sort());
  });
});

describe('history queries: paged listings', () => {
  const N = 2 * HISTORY_PAGE + 37;
  const ids: string[] = []; // commits of `paged`, oldest first
  const jobIds: string[] = [];

  beforeAll(async () => {
    await pach.createRepo('paged');
    await pach.createRepo('other');
    await pach.createPipeline({
      pipeline: { name: 'pagedpipe' },
      transform: { cmd: ['true'] },
      input: { pfs: { repo: 'paged', glob: '/' } },
    });
    // jobs are created on every commit; a stopped pipeline runs none of them
    await pach.stopPipeline('pagedpipe');
    // the job made when the pipeline was created (on the empty input) comes first
    for await (const j of pach.listJob({ pipeline: 'pagedpipe' })) jobIds.push(j.job.id);
    for (let i = 0; i < N; i++) {
      const c = await pach.modifyFile('paged@master', [{ op: 'put', path: '/x', data: `${i}` }]);
      ids.push(c.id);
      jobIds.push(c.id);
      if (i % 50 === 0)
        await pach.modifyFile('other@master', [{ op: 'put', path: '/y', data: '' }]);
    }
  }, 120_000);

  const list = async (opts: Parameters<EmbeddedPachyderm['listCommit']>[1]) => {
    const out: string[] = [];
    for await (const c of pach.listCommit('paged', opts)) out.push(c.commit.id);
    return out;
  };

  it('lists every commit of the repo, newest first, across pages', async () => {
    expect(await list({})).toEqual([...ids].reverse());
  });

  it('lists the newest N commits with number, and the oldest N with reverse', async () => {
    expect(await list({ number: 7 })).toEqual([...ids].reverse().slice(0, 7));
    expect(await list({ number: HISTORY_PAGE + 3, reverse: true })).toEqual(
      ids.slice(0, HISTORY_PAGE + 3),
    );
    expect(await list({ reverse: true })).toEqual(ids);
  });

  it('lists only the commits after `from`, and the chain from `to` down to `from`', async () => {
    const from = ids[HISTORY_PAGE + 10];
    expect(await list({ from: { repo: 'paged', id: from } })).toEqual(
      ids.slice(HISTORY_PAGE + 11).reverse(),
    );
    expect(
      await list({
        from: { repo: 'paged', id: ids[5] },
        to: { repo: 'paged', id: ids[20] },
        reverse: true,
        number: 4,
      }),
    ).toEqual(ids.slice(6, 10));
  });

  it('filters by origin without losing commits at page boundaries', async () => {
    expect(await list({ originKind: OriginKind.USER })).toHaveLength(N);
    expect(await list({ originKind: OriginKind.AUTO })).toEqual([]);
  });

  it('lists the jobs of a pipeline newest first across pages, and the newest N', async () => {
    const jobs = async (opts: Parameters<EmbeddedPachyderm['listJob']>[0]) => {
      const out: string[] = [];
      for await (const j of pach.listJob(opts)) out.push(`${j.job.pipeline.name}@${j.job.id}`);
      return out;
    };
    const all = jobIds.map((id) => `pagedpipe@${id}`);
    expect(await jobs({ pipeline: 'pagedpipe' })).toEqual([...all].reverse());
    expect(await jobs({ pipeline: 'pagedpipe', number: 5 })).toEqual(
      [...all].reverse().slice(0, 5),
    );
    expect(await jobs({ pipeline: 'pagedpipe', reverse: true, number: HISTORY_PAGE + 1 })).toEqual(
      all.slice(0, HISTORY_PAGE + 1),
    );
    expect(await jobs({ number: 3 })).toEqual([...all].reverse().slice(0, 3));
  });

  it('streams the open jobs of a pipeline, oldest first, to a new SubscribeJob', async () => {
    const open: string[] = [];
    for await (const j of pach.listJob({ pipeline: 'pagedpipe', reverse: true })) {
      if (!isTerminalJobState(j.state)) open.push(j.job.id);
    }
    // the pipeline is stopped: every job made by a commit is still open
    expect(open).toEqual(jobIds.slice(jobIds.length - N));
    const ac = new AbortController();
    const it = pach.subscribeJob('pagedpipe', { signal: ac.signal })[Symbol.asyncIterator]();
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await it.next()).value.job.id);
    ac.abort();
    expect(got).toEqual(open.slice(0, 3));
  });

  // last: it adds a commit (and a job) to `paged`
  it('lists the commits and jobs that existed when the listing began, oldest first too', async () => {
    const commits: string[] = [];
    const jobs: string[] = [];
    const jobIt = pach.listJob({ pipeline: 'pagedpipe', reverse: true })[Symbol.asyncIterator]();
    jobs.push((await jobIt.next()).value.job.id);
    for await (const c of pach.listCommit('paged', { reverse: true })) {
      if (commits.length === 0) {
        await pach.modifyFile('paged@master', [{ op: 'put', path: '/x', data: 'late' }]);
      }
      commits.push(c.commit.id);
    }
    for (let r = await jobIt.next(); !r.done; r = await jobIt.next()) jobs.push(r.value.job.id);
    expect(commits).toEqual(ids);
    expect(jobs).toEqual(jobIds);
  });
});
