/**
 * The PPS contract of the Pachyderm port (pipelines, jobs, datums, logs), written against the
 * `Pachyderm` interface alone, so that every adapter runs the same suite. Expected values follow
 * Pachyderm's documented semantics (shared/pachyderm-api.md §2.5, §2.6, §4) and are worked out by
 * hand in each test (datum counts from the files committed, outputs from what the scripts do).
 *
 * Worker programs are tiny real scripts (`sh -c …`, `node -e …`) that read `/pfs/<input>` and
 * write `/pfs/out` as in a real cluster (the embedded engine maps `/pfs` to its own directory).
 * A few tests share state with their script through a host directory named in `transform.env`
 * (retries, recovery): they need the workers to run on this machine.
 *
 * Usage: `describePpsContract('embedded', async () => ({ pach, close, reopen }))`; `open` must
 * return an adapter over an EMPTY store; `reopen` (optional) closes the adapter abruptly and opens
 * the same store again (recovery tests are skipped without it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CommitState,
  DatumState,
  JobState,
  PachCode,
  PipelineState,
  type JobInfo,
  type Pachyderm,
} from '../../../src/pachyderm';
import { collect, expectPachError, iter, type ContractTarget } from './pfs.contract';

/** An adapter for the PPS contract; `reopen` simulates a restart of the engine. */
export interface PpsContractTarget extends ContractTarget {
  /** Stop the adapter as a crash would (running jobs unfinished) and open the same store. */
  reopen?: () => Promise<Pachyderm>;
}

const sh = (script: string) => ['sh', '-c', script];

/** Wait for a job to be terminal. */
async function waitJob(pach: Pachyderm, pipeline: string, id: string): Promise<JobInfo> {
  return pach.inspectJob({ pipeline, id }, { wait: true });
}

/** The id of the job that creating/updating a pipeline starts (its spec commit's id). */
async function specJob(pach: Pachyderm, pipeline: string): Promise<JobInfo> {
  const info = await pach.inspectPipeline(pipeline);
  return waitJob(pach, pipeline, info.specCommit!.id);
}

async function files(pach: Pachyderm, commit: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const f of pach.walkFile(`${commit}:/`)) {
    if (f.fileType !== 1) continue;
    out[f.file.path] = (await pach.readFile(`${commit}:${f.file.path}`)).toString();
  }
  return out;
}

/** A host directory for scripts that must keep state between runs (retries, recovery). */
function markerDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pps-contract-'));
}

/** Wait until `predicate` holds for one of the jobs the watch yields. */
async function until(
  feed: AsyncIterator<JobInfo>,
  predicate: (j: JobInfo) => boolean,
): Promise<JobInfo> {
  for (;;) {
    const r = await feed.next();
    if (r.done) throw new Error('feed ended');
    if (predicate(r.value)) return r.value;
  }
}

/** Upper-case each top-level file of `in` into `/pfs/out/<name>` (one datum per file). */
const UPPER = sh('for f in /pfs/in/*; do tr a-z A-Z < "$f" > "/pfs/out/$(basename "$f")"; done');

/** What an adapter cannot show, by the limits of its protocol (each documented by the adapter). */
export interface PpsContractLimits {
  /**
   * `false` when `watchJobs` cannot see every state of a job (the gRPC client against pachd's API,
   * which has no state-change feed, polls): the watchJobs test then checks that the states seen
   * are in order, each once, ending with SUCCESS. Default true: every state, exactly.
   */
  watchJobsSeesEveryState?: boolean;
  /**
   * The transport datum-batching processes get (`ipc`: the embedded engine's channel; `grpc`: the
   * worker's NextDatum, as in a cluster); checked by the datum batching test when set.
   */
  batchTransport?: 'ipc' | 'grpc';
}

/**
 * Register the PPS contract suite.
 * @param name adapter name shown in test titles
 * @param open returns a fresh adapter over an empty store (called before each test)
 * @param limits what the adapter's protocol cannot show (see {@link PpsContractLimits})
 */
export function describePpsContract(
  name: string,
  open: () => Promise<PpsContractTarget>,
  limits: PpsContractLimits = {},
): void {
  describe(`Pachyderm PPS contract: ${name}`, () => {
    let target: PpsContractTarget;
    let pach: Pachyderm;
    const markers: string[] = [];

    beforeEach(async () => {
      target = await open();
      pach = target.pach;
    });
    afterEach(async () => {
      await target.close();
      for (const m of markers.splice(0)) fs.rmSync(m, { recursive: true, force: true });
    });

    const put = (commit: string, entries: Record<string, string>) =>
      pach.modifyFile(
        commit,
        Object.entries(entries).map(([p, data]) => ({ op: 'put' as const, path: p, data })),
      );

    const upper = async (extra: object = {}) => {
      await pach.createRepo('in');
      await pach.createPipeline({
        pipeline: { name: 'up' },
        transform: { cmd: UPPER },
        input: { pfs: { repo: 'in', glob: '/*' } },
        ...extra,
      });
      return specJob(pach, 'up');
    };

    // -----------------------------------------------------------------------------------------
    describe('pipelines', () => {
      it('creates output, spec and meta repos and applies Pachyderm defaults', async () => {
        await pach.createRepo('in');
        const res = await pach.createPipeline(
          JSON.stringify({
            pipeline: { name: 'up' },
            transform: { cmd: UPPER },
            input: { pfs: { repo: 'in', glob: '*' } },
          }),
        );
        const eff = JSON.parse(res.effectiveCreatePipelineRequestJson);
        expect(eff.transform.image).toBe('ubuntu:20.04');
        expect(eff.datumTries).toBe(3);
        expect(eff.outputBranch).toBe('master');
        expect(eff.input.pfs).toMatchObject({ glob: '/*', branch: 'master', name: 'in' });
        const repos = await collect(pach.listRepo({ type: '' }));
        expect(
          repos
            .filter((r) => r.repo.name === 'up')
            .map((r) => r.repo.type)
            .sort(),
        ).toEqual(['meta', 'spec', 'user']);
        const info = await pach.inspectPipeline('up');
        expect(info.pipeline).toEqual({ project: { name: 'default' }, name: 'up' });
        expect(info.version).toBe(1);
        expect(info.details.datumTries).toBe(3);
        expect(info.details.input.pfs?.glob).toBe('/*');
        expect(info.stopped).toBe(false);
        expect((await collect(pach.listPipeline())).map((p) => p.pipeline.name)).toEqual(['up']);
      });

      it('accepts snake_case, refuses invalid specs naming the field, and duplicates', async () => {
        await pach.createRepo('in');
        await expectPachError(
          pach.createPipeline({
            pipeline: { name: 'p' },
            transform: { cmd: ['true'] },
            input: {
              cross: [{ pfs: { repo: 'in', glob: '/' } }, { pfs: { repo: 'in', name: 'b' } }],
            },
          }),
          PachCode.INVALID_ARGUMENT,
          /input\.cross\[1\]\.pfs\.glob: required/,
        );
        await expectPachError(
          pach.createPipeline({ pipeline: { name: 'p' }, transform: { cmd: ['true'] } }),
          PachCode.INVALID_ARGUMENT,
          /input: required/,
        );
        await expectPachError(
          pach.createPipeline({
            pipeline: { name: 'p' },
            transform: { cmd: ['true'] },
            input: { pfs: { repo: 'missing', glob: '/' } },
          }),
          PachCode.NOT_FOUND,
          /missing/,
        );
        await pach.createPipeline({
          pipeline: { name: 'p' },
          transform: { cmd: ['true'] },
          input: { pfs: { repo: 'in', glob: '/*' } },
          datum_tries: 5,
          parallelism_spec: { constant: 2 },
        });
        const info = await pach.inspectPipeline('p');
        expect(info.details.datumTries).toBe(5);
        expect(info.parallelism).toBe(2);
        await expectPachError(
          pach.createPipeline({
            pipeline: { name: 'p' },
            transform: { cmd: ['true'] },
            input: { pfs: { repo: 'in', glob: '/*' } },
          }),
          PachCode.ALREADY_EXISTS,
          /pipeline p already exists/,
        );
        await expectPachError(pach.inspectPipeline('nope'), PachCode.NOT_FOUND, /"nope" not found/);
      });

      it('runs a zero-datum job right away when the inputs are empty', async () => {
        const job = await upper();
        expect(job.state).toBe(JobState.JOB_SUCCESS);
        expect(job.dataTotal).toBe(0);
        expect(job.outputCommit.id).toBe(job.job.id);
        // FINISHED once the adapter's finishing window has passed (the stand-in's, as pachd's)
        const out = await pach.inspectCommit(`up@${job.job.id}`, { wait: CommitState.FINISHED });
        expect(out.finished).not.toBeNull();
        expect(await files(pach, `up@${job.job.id}`)).toEqual({});
      });

      it('updates a pipeline (new version, new job) and reprocesses on request', async () => {
        await upper();
        await put('in@master', { '/a': 'x' });
        await pach.createPipeline(
          {
            pipeline: { name: 'up' },
            transform: {
              cmd: sh('for f in /pfs/in/*; do echo v2 > /pfs/out/$(basename $f); done'),
            },
            input: { pfs: { repo: 'in', glob: '/*' } },
          },
          { update: true },
        );
        const info = await pach.inspectPipeline('up');
        expect(info.version).toBe(2);
        const j = await specJob(pach, 'up');
        // same datum, same salt: skipped, the old output stays
        expect([j.dataTotal, j.dataSkipped, j.dataProcessed]).toEqual([1, 1, 0]);
        expect(await files(pach, `up@${j.job.id}`)).toEqual({ '/a': 'X' });
        await pach.createPipeline(
          {
            pipeline: { name: 'up' },
            transform: {
              cmd: sh('for f in /pfs/in/*; do echo v3 > /pfs/out/$(basename $f); done'),
            },
            input: { pfs: { repo: 'in', glob: '/*' } },
          },
          { update: true, reprocess: true },
        );
        const j3 = await specJob(pach, 'up');
        expect([j3.dataTotal, j3.dataSkipped, j3.dataProcessed]).toEqual([1, 0, 1]);
        expect(await files(pach, `up@${j3.job.id}`)).toEqual({ '/a': 'v3\n' });
        const versions = await collect(pach.listPipeline({ history: -1 }));
        expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
      });

      it('stops and starts: a stopped pipeline runs no job', async () => {
        await upper();
        // a witness pipeline on the same input, not stopped: once its job for the commit has
        // finished, the engine had its chance to run the stopped one's too
        await pach.createPipeline({
          pipeline: { name: 'witness' },
          transform: { cmd: UPPER },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        await specJob(pach, 'witness');
        await pach.stopPipeline('up');
        expect((await pach.inspectPipeline('up')).state).toBe(PipelineState.PIPELINE_PAUSED);
        const c = await put('in@master', { '/a': 'abc' });
        expect((await waitJob(pach, 'witness', c.id)).state).toBe(JobState.JOB_SUCCESS);
        expect((await pach.inspectJob({ pipeline: 'up', id: c.id })).state).toBe(
          JobState.JOB_CREATED,
        );
        await pach.startPipeline('up');
        expect((await pach.inspectPipeline('up')).stopped).toBe(false);
        const j = await waitJob(pach, 'up', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect(await files(pach, `up@${c.id}`)).toEqual({ '/a': 'ABC' });
      });

      it('deletes a pipeline with its repos; refuses while another pipeline reads it', async () => {
        await upper();
        await pach.createPipeline({
          pipeline: { name: 'down' },
          transform: { cmd: ['true'] },
          input: { pfs: { repo: 'up', glob: '/' } },
        });
        await expectPachError(pach.deletePipeline('up'), PachCode.FAILED_PRECONDITION, /down/);
        await specJob(pach, 'down');
        await pach.deletePipeline('down');
        await pach.deletePipeline('up');
        await expectPachError(pach.inspectPipeline('up'), PachCode.NOT_FOUND);
        const left = (await collect(pach.listRepo({ type: '' }))).map((r) => r.repo.name);
        expect(left).toEqual(['in']);
        await expectPachError(pach.deletePipeline('up', { mustExist: true }), PachCode.NOT_FOUND);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('jobs', () => {
      it('makes one job per input commit: job id = output commit id, provenance = inputs', async () => {
        await upper();
        const c = await put('in@master', { '/a': 'abc', '/b': 'xyz' });
        const j = await waitJob(pach, 'up', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect(j.job.id).toBe(c.id);
        expect(j.outputCommit.id).toBe(c.id);
        expect(j.outputCommit.repo.name).toBe('up');
        expect(j.inputCommits.map((i) => `${i.repo.name}@${i.id}`)).toEqual([`in@${c.id}`]);
        const out = await pach.inspectCommit(`up@${c.id}`);
        expect(out.origin.kind).toBe(2); // AUTO
        expect(out.directProvenance.map((p) => `${p.repo.name}@${p.id}`)).toEqual([`in@${c.id}`]);
        expect(await files(pach, `up@${c.id}`)).toEqual({ '/a': 'ABC', '/b': 'XYZ' });
        expect((await pach.inspectCommit('up@master')).commit.id).toBe(c.id);
        expect([j.dataTotal, j.dataProcessed, j.dataSkipped, j.dataFailed]).toEqual([2, 2, 0, 0]);
        expect(j.started!.getTime()).toBeGreaterThanOrEqual(j.created.getTime());
        expect(j.finished!.getTime()).toBeGreaterThanOrEqual(j.started!.getTime());
      });

      it('skips unchanged datums, reruns changed ones, deletes outputs of removed ones', async () => {
        await upper();
        const c1 = await put('in@master', { '/a': 'abc', '/b': 'xyz' });
        await waitJob(pach, 'up', c1.id);
        const c2 = await put('in@master', { '/c': 'new' });
        const j2 = await waitJob(pach, 'up', c2.id);
        expect([j2.dataTotal, j2.dataProcessed, j2.dataSkipped]).toEqual([3, 1, 2]);
        expect(await files(pach, `up@${c2.id}`)).toEqual({ '/a': 'ABC', '/b': 'XYZ', '/c': 'NEW' });
        const skipped = await collect(
          pach.listDatum(
            { pipeline: 'up', id: c2.id },
            { filter: { state: [DatumState.SKIPPED] } },
          ),
        );
        expect(skipped.map((d) => d.data.map((f) => f.file.path)).sort()).toEqual([['/a'], ['/b']]);
        // change /a, delete /b
        const c3 = await pach.modifyFile('in@master', [
          { op: 'put', path: '/a', data: 'changed' },
          { op: 'delete', path: '/b' },
        ]);
        const j3 = await waitJob(pach, 'up', c3.id);
        expect([j3.dataTotal, j3.dataProcessed, j3.dataSkipped]).toEqual([2, 1, 1]);
        expect(await files(pach, `up@${c3.id}`)).toEqual({ '/a': 'CHANGED', '/c': 'NEW' });
        // earlier output commits are untouched
        expect(await files(pach, `up@${c1.id}`)).toEqual({ '/a': 'ABC', '/b': 'XYZ' });
      });

      it('reprocessSpec every_job reprocesses everything', async () => {
        await upper({ reprocessSpec: 'every_job' });
        const c1 = await put('in@master', { '/a': 'abc' });
        await waitJob(pach, 'up', c1.id);
        const c2 = await put('in@master', { '/b': 'b' });
        const j = await waitJob(pach, 'up', c2.id);
        expect([j.dataTotal, j.dataProcessed, j.dataSkipped]).toEqual([2, 2, 0]);
      });

      it('fails a job when two datums write the same path', async () => {
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'dup' },
          transform: { cmd: sh('echo "$PACH_DATUM_ID" > /pfs/out/result') },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        const c = await put('in@master', { '/a': '1', '/b': '2' });
        const j = await waitJob(pach, 'dup', c.id);
        expect(j.state).toBe(JobState.JOB_FAILURE);
        expect(j.reason).toContain('duplicate path output by different datums: /result');
        expect((await pach.inspectCommit(`dup@${c.id}`)).error).toContain('/result');
      });

      it('retries a failing datum datumTries times', async () => {
        const dir = markerDir();
        markers.push(dir);
        await pach.createRepo('in');
        // fails the first time it sees a datum, succeeds the second time
        const script =
          'm="$MARKERS/$(basename $in)"; if [ ! -e "$m" ]; then touch "$m"; echo first try fails >&2; exit 1; fi; cp "$in" /pfs/out/';
        await pach.createPipeline({
          pipeline: { name: 'flaky' },
          transform: { cmd: sh(script), env: { MARKERS: dir } },
          input: { pfs: { repo: 'in', glob: '/*' } },
          datumTries: 2,
        });
        const c = await put('in@master', { '/a': 'A' });
        const j = await waitJob(pach, 'flaky', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect([j.dataProcessed, j.dataFailed]).toEqual([1, 0]);
        expect(await files(pach, `flaky@${c.id}`)).toEqual({ '/a': 'A' });
        const logs = await collect(pach.getLogs({ job: { pipeline: 'flaky', id: c.id } }));
        expect(logs.map((l) => l.message)).toEqual(['first try fails']);

        fs.mkdirSync(path.join(dir, 'x'));
        await pach.createPipeline({
          pipeline: { name: 'once' },
          transform: { cmd: sh(script), env: { MARKERS: path.join(dir, 'x') } },
          input: { pfs: { repo: 'in', glob: '/*' } },
          datumTries: 1,
        });
        const j2 = await specJob(pach, 'once');
        expect(j2.state).toBe(JobState.JOB_FAILURE);
        expect([j2.dataTotal, j2.dataFailed]).toEqual([1, 1]);
        expect(j2.reason).toMatch(/datum [0-9a-f]{64} failed/);
        const failed = await collect(pach.listDatum({ pipeline: 'once', id: j2.job.id }));
        expect(failed.map((d) => d.state)).toEqual([DatumState.FAILED]);
      });

      it('a job downstream of a failed job is UNRUNNABLE; the commit set spans both', async () => {
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'bad' },
          transform: { cmd: sh('test ! -e /pfs/in/poison && cp /pfs/in/* /pfs/out/') },
          input: { pfs: { repo: 'in', glob: '/' } },
          datumTries: 1,
        });
        await pach.createPipeline({
          pipeline: { name: 'after' },
          transform: { cmd: sh('cp -r /pfs/bad/. /pfs/out/') },
          input: { pfs: { repo: 'bad', glob: '/' } },
        });
        const ok = await put('in@master', { '/x': '1' });
        expect((await waitJob(pach, 'after', ok.id)).state).toBe(JobState.JOB_SUCCESS);
        expect(await files(pach, `after@${ok.id}`)).toEqual({ '/x': '1' });
        const c = await put('in@master', { '/poison': '!' });
        const up = await waitJob(pach, 'bad', c.id);
        expect(up.state).toBe(JobState.JOB_FAILURE);
        const down = await waitJob(pach, 'after', c.id);
        expect(down.state).toBe(JobState.JOB_UNRUNNABLE);
        expect(down.reason).toContain('bad');
        expect(down.inputCommits.map((i) => `${i.repo.name}@${i.id}`)).toEqual([`bad@${c.id}`]);
        const set = (await collect(pach.inspectCommitSet(c.id))).map((ci) => ci.commit.repo.name);
        expect(set).toEqual(['in', 'bad', 'after']);
      });

      it('StopJob kills a running job (KILLED) and later jobs still run', async () => {
        const dir = markerDir();
        markers.push(dir);
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'slow' },
          transform: {
            cmd: sh(
              'if [ -e /pfs/in/slow ]; then touch "$MARKERS/running"; sleep 30; fi; cp /pfs/in/* /pfs/out/',
            ),
            env: { MARKERS: dir },
          },
          input: { pfs: { repo: 'in', glob: '/' } },
        });
        await specJob(pach, 'slow');
        const ctl = new AbortController();
        const feed = iter(pach.watchJobs({ pipeline: 'slow', signal: ctl.signal }));
        const c = await put('in@master', { '/slow': 's' });
        await until(feed, (j) => j.job.id === c.id && j.state === JobState.JOB_RUNNING);
        ctl.abort();
        // the datum's process is running: it left its marker
        for (let i = 0; !fs.existsSync(path.join(dir, 'running')); i++) {
          if (i > 3000) throw new Error('the datum never started');
          await new Promise((r) => setTimeout(r, 10));
        }
        await pach.stopJob({ pipeline: 'slow', id: c.id }, { reason: 'enough' });
        const j = await pach.inspectJob({ pipeline: 'slow', id: c.id });
        expect(j.state).toBe(JobState.JOB_KILLED);
        expect(j.reason).toBe('enough');
        expect((await pach.inspectCommit(`slow@${c.id}`)).error).toBe('enough');
        await expectPachError(
          pach.stopJob({ pipeline: 'slow', id: c.id }),
          PachCode.FAILED_PRECONDITION,
          /already finished/,
        );
        const c2 = await pach.modifyFile('in@master', [
          { op: 'delete', path: '/slow' },
          { op: 'put', path: '/fast', data: 'f' },
        ]);
        const j2 = await waitJob(pach, 'slow', c2.id);
        expect(j2.state).toBe(JobState.JOB_SUCCESS);
        expect(await files(pach, `slow@${c2.id}`)).toEqual({ '/fast': 'f' });
      });

      it('errCmd recovers a failing datum (RECOVERED, job SUCCESS); jobTimeout kills a job', async () => {
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'rec' },
          transform: {
            cmd: sh('if [ "$(basename $in)" = bad ]; then exit 3; fi; cp "$in" /pfs/out/'),
            errCmd: ['true'],
          },
          input: { pfs: { repo: 'in', glob: '/*' } },
          datumTries: 1,
        });
        const c = await put('in@master', { '/bad': 'b', '/good': 'g' });
        const j = await waitJob(pach, 'rec', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect([j.dataTotal, j.dataProcessed, j.dataRecovered, j.dataFailed]).toEqual([2, 1, 1, 0]);
        expect(await files(pach, `rec@${c.id}`)).toEqual({ '/good': 'g' });
        const states = (await collect(pach.listDatum({ pipeline: 'rec', id: c.id }))).map(
          (d) => d.state,
        );
        expect(states.sort()).toEqual([DatumState.SUCCESS, DatumState.RECOVERED].sort());

        await pach.createPipeline({
          pipeline: { name: 'late' },
          transform: { cmd: sh('sleep 30') },
          input: { pfs: { repo: 'in', glob: '/' } },
          jobTimeout: '1s',
        });
        const late = await specJob(pach, 'late');
        expect(late.state).toBe(JobState.JOB_KILLED);
        expect(late.reason).toMatch(/timed out/);
      });

      it('runs the jobs of one pipeline in input-commit order', async () => {
        await upper();
        const ids: string[] = [];
        for (const name of ['a', 'b', 'c', 'd'])
          ids.push((await put('in@master', { [`/${name}`]: name })).id);
        const jobs = await Promise.all(ids.map((id) => waitJob(pach, 'up', id)));
        for (let i = 1; i < jobs.length; i++) {
          expect(jobs[i].started!.getTime()).toBeGreaterThanOrEqual(
            jobs[i - 1].finished!.getTime(),
          );
        }
        expect(jobs.map((j) => j.dataTotal)).toEqual([1, 2, 3, 4]);
        expect(jobs.map((j) => j.dataProcessed)).toEqual([1, 1, 1, 1]);
        const commits = await collect(pach.listCommit('up'));
        expect(commits.map((c) => c.commit.id).slice(0, 4)).toEqual([...ids].reverse());
      });

      it('lists jobs newest first with filters and paging', async () => {
        const first = await upper();
        const ids = [first.job.id];
        for (const n of ['a', 'b', 'c']) {
          const c = await put('in@master', { [`/${n}`]: n });
          await waitJob(pach, 'up', c.id);
          ids.push(c.id);
        }
        const all = await collect(pach.listJob({ pipeline: 'up' }));
        expect(all.map((j) => j.job.id)).toEqual([...ids].reverse());
        const rev = await collect(pach.listJob({ pipeline: 'up', reverse: true }));
        expect(rev.map((j) => j.job.id)).toEqual(ids);
        const page1 = await collect(pach.listJob({ pipeline: 'up', number: 2 }));
        expect(page1.map((j) => j.job.id)).toEqual([ids[3], ids[2]]);
        const page2 = await collect(
          pach.listJob({ pipeline: 'up', number: 2, paginationMarker: page1[1].created }),
        );
        expect(page2.map((j) => j.job.id)).toEqual([ids[1], ids[0]]);
        const byInput = await collect(pach.listJob({ inputCommit: [`in@${ids[2]}`] }));
        expect(byInput.map((j) => j.job.id)).toEqual([ids[2]]);
        expect(
          (await collect(pach.listJob({ state: [JobState.JOB_FAILURE] }))).map((j) => j.job.id),
        ).toEqual([]);
        expect((await collect(pach.listJob({ state: [JobState.JOB_SUCCESS] }))).length).toBe(4);
        await expectPachError(collect(pach.listJob({ pipeline: 'nope' })), PachCode.NOT_FOUND);
        await expectPachError(
          pach.inspectJob({ pipeline: 'up', id: '0'.repeat(32) }),
          PachCode.NOT_FOUND,
          /not found/,
        );
      });

      it('goes CREATED → STARTING → RUNNING → FINISHING → SUCCESS (watchJobs)', async () => {
        await upper();
        const ctl = new AbortController();
        const it = iter(pach.watchJobs({ pipeline: 'up', signal: ctl.signal }));
        const c = await put('in@master', { '/a': 'a' });
        const states: JobState[] = [];
        while (!states.includes(JobState.JOB_SUCCESS)) {
          const r = await it.next();
          if (r.value.job.id === c.id) states.push(r.value.state);
        }
        ctl.abort();
        const every = [
          JobState.JOB_CREATED,
          JobState.JOB_STARTING,
          JobState.JOB_RUNNING,
          JobState.JOB_FINISHING,
          JobState.JOB_SUCCESS,
        ];
        if (limits.watchJobsSeesEveryState === false) {
          // a subsequence of `every`, ending with SUCCESS
          expect(states).toEqual(every.filter((s) => states.includes(s)));
          expect(states[states.length - 1]).toBe(JobState.JOB_SUCCESS);
        } else {
          expect(states).toEqual(every);
        }
        expect((await it.next()).done).toBe(true);
      });

      it('SubscribeJob sends each job once, open jobs first', async () => {
        await upper();
        await pach.stopPipeline('up');
        const open = await put('in@master', { '/a': 'a' });
        const ctl = new AbortController();
        const it = iter(pach.subscribeJob('up', { signal: ctl.signal }));
        expect((await it.next()).value.job.id).toBe(open.id);
        const later = await put('in@master', { '/b': 'b' });
        expect((await it.next()).value.job.id).toBe(later.id);
        await pach.startPipeline('up');
        await waitJob(pach, 'up', later.id);
        const third = await put('in@master', { '/c': 'c' });
        expect((await it.next()).value.job.id).toBe(third.id);
        ctl.abort();
        expect((await it.next()).done).toBe(true);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('datums and inputs', () => {
      it('what a worker sees: layout, environment, one datum per glob match', async () => {
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'env' },
          transform: {
            cmd: sh(
              'n=$(basename "$in"); echo "$PACH_JOB_ID $PACH_OUTPUT_COMMIT_ID $PPS_PIPELINE_NAME $in_COMMIT $in" | sed "s#${REELGRAPH_PFS_ROOT:-/pfs}#/pfs#g" > "/pfs/out/$n.env"; echo "$PACH_DATUM_ID" > "/pfs/out/$n.id"; c=$(ls -A /pfs/out | wc -l | tr -d " "); echo "$c" > "/pfs/out/$n.count"; if [ -d "$in" ]; then cat "$in"/* > /pfs/out/dir.cat; fi',
            ),
          },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        const c = await put('in@master', { '/dir/x': '1', '/dir/y': '2', '/top': 't' });
        const j = await waitJob(pach, 'env', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect(j.dataTotal).toBe(2); // "/dir" and "/top"
        const out = await files(pach, `env@${c.id}`);
        expect(out['/dir.env']).toBe(`${c.id} ${c.id} env ${c.id} /pfs/in/dir\n`);
        expect(out['/top.env']).toBe(`${c.id} ${c.id} env ${c.id} /pfs/in/top\n`);
        expect(out['/dir.cat']).toBe('12');
        expect(out['/dir.count']).toBe('2\n'); // out was empty: only the .env and .id files
        const datums = await collect(pach.listDatum({ pipeline: 'env', id: c.id }));
        expect(datums.map((d) => d.datum.id).sort()).toEqual(
          [out['/dir.id'].trim(), out['/top.id'].trim()].sort(),
        );
        expect(datums.map((d) => d.data.map((f) => f.file.path)).sort()).toEqual([
          ['/dir/x', '/dir/y'],
          ['/top'],
        ]);
        const one = await pach.inspectDatum({
          job: { pipeline: 'env', id: c.id },
          id: datums[0].datum.id,
        });
        expect(one.state).toBe(DatumState.SUCCESS);
        await expectPachError(
          pach.inspectDatum({ job: { pipeline: 'env', id: c.id }, id: 'f'.repeat(64) }),
          PachCode.NOT_FOUND,
        );
      });

      it('cross of a request repo with a model pipeline: only new requests run, a new model reruns all', async () => {
        await pach.createRepo('training');
        await pach.createRepo('streaming');
        await pach.createPipeline({
          pipeline: { name: 'train' },
          transform: { cmd: sh('cat /pfs/training/* | wc -l | tr -d " " > /pfs/out/model') },
          input: { pfs: { repo: 'training', glob: '/' } },
        });
        await pach.createPipeline({
          pipeline: { name: 'predict' },
          transform: {
            cmd: sh(
              'n=$(basename "$streaming"); echo "$(cat $streaming) $(cat /pfs/train/model)" > "/pfs/out/$n"',
            ),
          },
          input: {
            cross: [
              { pfs: { repo: 'streaming', glob: '/*' } },
              { pfs: { repo: 'train', glob: '/' } },
            ],
          },
        });
        // empty model: the cross has no datum
        const r1 = await put('streaming@master', { '/req1': 'q1' });
        const p1 = await waitJob(pach, 'predict', r1.id);
        expect([p1.state, p1.dataTotal]).toEqual([JobState.JOB_SUCCESS, 0]);
        // one training commit: one commit set through train and predict
        const t = await put('training@master', { '/batch1': 'a\nb\n' });
        const tj = await waitJob(pach, 'train', t.id);
        expect(tj.state).toBe(JobState.JOB_SUCCESS);
        const pj = await waitJob(pach, 'predict', t.id);
        expect([pj.dataTotal, pj.dataProcessed]).toEqual([1, 1]);
        expect(pj.inputCommits.map((c) => `${c.repo.name}@${c.id}`).sort()).toEqual(
          [`streaming@${r1.id}`, `train@${t.id}`].sort(),
        );
        expect(await files(pach, `predict@${t.id}`)).toEqual({ '/req1': 'q1 2\n' });
        // a new request: only its datum runs
        const r2 = await put('streaming@master', { '/req2': 'q2' });
        const p2 = await waitJob(pach, 'predict', r2.id);
        expect([p2.dataTotal, p2.dataProcessed, p2.dataSkipped]).toEqual([2, 1, 1]);
        // a new model: every datum's hash changes
        const t2 = await put('training@master', { '/batch2': 'c\n' });
        const p3 = await waitJob(pach, 'predict', t2.id);
        expect([p3.dataTotal, p3.dataProcessed, p3.dataSkipped]).toEqual([2, 2, 0]);
        expect(await files(pach, `predict@${t2.id}`)).toEqual({
          '/req1': 'q1 3\n',
          '/req2': 'q2 3\n',
        });
      });

      it('a job waits until its input commits are finished (READY)', async () => {
        await pach.createRepo('a');
        await pach.createRepo('b');
        await pach.createPipeline({
          pipeline: { name: 'both' },
          transform: { cmd: sh('cat /pfs/a/* /pfs/b/* > /pfs/out/joined') },
          input: { cross: [{ pfs: { repo: 'a', glob: '/' } }, { pfs: { repo: 'b', glob: '/' } }] },
        });
        await specJob(pach, 'both');
        // a witness pipeline reading only `a`: once its job for the commit has finished, the
        // engine had its chance to start `both` too
        await pach.createPipeline({
          pipeline: { name: 'witness' },
          transform: { cmd: sh('cat /pfs/a/* > /pfs/out/a') },
          input: { pfs: { repo: 'a', glob: '/' } },
        });
        await specJob(pach, 'witness');
        const open = await pach.startCommit('b@master');
        await put(`b@${open.id}`, { '/b': 'B' });
        const c = await put('a@master', { '/a': 'A' });
        expect((await waitJob(pach, 'witness', c.id)).state).toBe(JobState.JOB_SUCCESS);
        const waiting = await pach.inspectJob({ pipeline: 'both', id: c.id });
        expect(waiting.state).toBe(JobState.JOB_CREATED);
        expect(waiting.inputCommits.map((i) => `${i.repo.name}@${i.id}`).sort()).toEqual(
          [`a@${c.id}`, `b@${open.id}`].sort(),
        );
        await pach.finishCommit(open);
        const j = await waitJob(pach, 'both', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect(await files(pach, `both@${c.id}`)).toEqual({ '/joined': 'AB' });
        // finishing b's commit made its own job, after the first one
        const jb = await waitJob(pach, 'both', open.id);
        expect(jb.state).toBe(JobState.JOB_SUCCESS);
        expect(jb.created.getTime()).toBeGreaterThan(j.created.getTime());
      });

      it('a union runs the datums of each input with its own name', async () => {
        await pach.createRepo('left');
        await pach.createRepo('right');
        await put('left@master', { '/l1': 'L' });
        await put('right@master', { '/r1': 'R', '/r2': 'S' });
        await pach.createPipeline({
          pipeline: { name: 'u' },
          transform: {
            cmd: sh('if [ -n "$left" ]; then cp "$left" /pfs/out/; else cp "$right" /pfs/out/; fi'),
          },
          input: {
            union: [{ pfs: { repo: 'left', glob: '/*' } }, { pfs: { repo: 'right', glob: '/*' } }],
          },
        });
        const j = await specJob(pach, 'u');
        expect([j.state, j.dataTotal]).toEqual([JobState.JOB_SUCCESS, 3]);
        expect(await files(pach, `u@${j.job.id}`)).toEqual({ '/l1': 'L', '/r1': 'R', '/r2': 'S' });
      });

      it('datum batching: one process serves many datums (NextDatum)', async () => {
        await pach.createRepo('in');
        // the real worker SDK: NextDatum over the adapter's transport (the embedded engine's IPC
        // channel, or the worker's gRPC API on the stand-in, as in a cluster)
        const repoRoot = path.resolve(__dirname, '../../..');
        const sdk = path.join(repoRoot, 'src/pachyderm/worker-sdk.ts');
        const worker = `
          const fs = require('fs');
          const { nextDatum, isBatching } = require(${JSON.stringify(sdk)});
          (async () => {
            if (!isBatching()) process.exit(9);
            for (let d = await nextDatum(); d; d = await nextDatum()) {
              const f = d.env.in;
              fs.writeFileSync(d.pfsRoot + '/out/' + require('path').basename(f), process.pid + ':' + fs.readFileSync(f, 'utf8'));
              console.log('datum', d.datumId, process.env.PPS_WORKER_GRPC_PORT ? 'grpc' : 'ipc');
            }
          })();`;
        await pach.createPipeline({
          pipeline: { name: 'batch' },
          transform: {
            cmd: ['node', '-r', path.join(repoRoot, 'scripts/ts-register.js'), '-e', worker],
            datumBatching: true,
          },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        await specJob(pach, 'batch');
        const c = await put('in@master', { '/a': '1', '/b': '2', '/c': '3' });
        const j = await waitJob(pach, 'batch', c.id);
        expect([j.state, j.dataProcessed]).toEqual([JobState.JOB_SUCCESS, 3]);
        const out = await files(pach, `batch@${c.id}`);
        expect(Object.keys(out)).toEqual(['/a', '/b', '/c']);
        const pids = new Set(Object.values(out).map((v) => v.split(':')[0]));
        expect(pids.size).toBe(1);
        expect(Object.values(out).map((v) => v.split(':')[1])).toEqual(['1', '2', '3']);
        const logs = await collect(pach.getLogs({ job: { pipeline: 'batch', id: c.id } }));
        // each adapter says which transport it gives batching processes (see its test file)
        const transport = logs[0].message.split(' ')[2];
        expect(logs.every((l) => l.message.endsWith(` ${transport}`))).toBe(true);
        if (limits.batchTransport) expect(transport).toBe(limits.batchTransport);
        expect(logs.map((l) => l.datumId).sort()).toEqual(
          (await collect(pach.listDatum({ pipeline: 'batch', id: c.id })))
            .map((d) => d.datum.id)
            .sort(),
        );
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('logs', () => {
      it('keeps stdout and stderr lines of a job, a datum, a pipeline; follow streams new lines', async () => {
        await pach.createRepo('in');
        await pach.createPipeline({
          pipeline: { name: 'talk' },
          transform: { cmd: sh('echo "out $(basename $in)"; echo "err $(basename $in)" >&2') },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        const c = await put('in@master', { '/a': '1', '/b': '2' });
        await waitJob(pach, 'talk', c.id);
        const logs = await collect(pach.getLogs({ job: { pipeline: 'talk', id: c.id } }));
        expect(logs.map((l) => l.message).sort()).toEqual(['err a', 'err b', 'out a', 'out b']);
        expect(logs.every((l) => l.user && l.jobId === c.id && l.pipelineName === 'talk')).toBe(
          true,
        );
        const datumA = logs.find((l) => l.message === 'out a')!.datumId;
        const forA = await collect(
          pach.getLogs({ datum: { job: { pipeline: 'talk', id: c.id }, id: datumA } }),
        );
        expect(forA.map((l) => l.message).sort()).toEqual(['err a', 'out a']);
        expect(forA[0].data.map((f) => f.path)).toEqual(['/a']);
        const filtered = await collect(pach.getLogs({ pipeline: 'talk', dataFilters: ['/b'] }));
        expect(filtered.map((l) => l.message).sort()).toEqual(['err b', 'out b']);
        expect((await collect(pach.getLogs({ pipeline: 'talk', tail: 1 }))).length).toBe(1);

        const ctl = new AbortController();
        const it = iter(pach.getLogs({ pipeline: 'talk', follow: true, signal: ctl.signal }));
        for (let i = 0; i < 4; i++) await it.next();
        await put('in@master', { '/c': '3' });
        const fresh = [(await it.next()).value.message, (await it.next()).value.message].sort();
        expect(fresh).toEqual(['err c', 'out c']);
        ctl.abort();
        expect((await it.next()).done).toBe(true);
        await expectPachError(collect(pach.getLogs({})), PachCode.INVALID_ARGUMENT);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('recovery', () => {
      it('re-runs a job interrupted by a restart; nothing is half committed', async () => {
        if (!target.reopen) return;
        const dir = markerDir();
        markers.push(dir);
        await pach.createRepo('in');
        // each run appends to a host log; "/slow" hangs until the marker "release" exists
        const script =
          'n=$(basename "$in"); echo "$n" >> "$MARKERS/runs"; if [ "$n" = slow ] && [ ! -e "$MARKERS/release" ]; then sleep 30; fi; cp "$in" /pfs/out/';
        await pach.createPipeline({
          pipeline: { name: 'rec' },
          transform: { cmd: sh(script), env: { MARKERS: dir } },
          input: { pfs: { repo: 'in', glob: '/*' } },
        });
        await specJob(pach, 'rec');
        const c = await put('in@master', { '/fast': 'F', '/slow': 'S' });
        const runs = path.join(dir, 'runs');
        // wait for the event itself (both datums started, "/fast" recorded), never a fixed time
        for (let i = 0; ; i++) {
          const seen = fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n') : [];
          const j = await pach.inspectJob({ pipeline: 'rec', id: c.id });
          if (seen.includes('slow') && seen.includes('fast') && j.dataProcessed === 1) break;
          if (i > 1200) throw new Error(`"/fast" was not recorded in 60 s: ${JSON.stringify(j)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect((await pach.inspectCommit(`rec@${c.id}`)).finished).toBeNull();
        fs.writeFileSync(path.join(dir, 'release'), '');
        pach = await target.reopen();
        const j = await waitJob(pach, 'rec', c.id);
        expect(j.state).toBe(JobState.JOB_SUCCESS);
        expect(j.restart).toBe(1);
        expect([j.dataTotal, j.dataProcessed]).toEqual([2, 2]);
        expect(await files(pach, `rec@${c.id}`)).toEqual({ '/fast': 'F', '/slow': 'S' });
        expect(fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
          'fast',
          'fast',
          'slow',
          'slow',
        ]);
      });
    });
  });
}
