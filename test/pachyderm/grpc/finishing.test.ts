/**
 * A real pachd's finishing window, on the stand-in: after FinishCommit (or an auto-commit) a commit
 * is FINISHING — writes into it by id refused ("has already finished") — and only later FINISHED
 * (2.12 `server_commit.go` finishCommit sets `finishing`; the PFS master sets `finished` after
 * compaction). Writers must cope: the client writes through the branch when the head is
 * FINISHING, and `commitFiles` writes into a commit of its own, with exact ids for any number of
 * writer processes (API replicas).
 */
import { CommitState, JobState, PachCode, type CommitInfo } from '../../../src/pachyderm';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';
import { PachError } from '../../../src/pachyderm/errors';
import { commitFiles, retryWithBackoff } from '../../../src/pachyderm/own-commit';
import { connectPachd } from '../../../src/pachyderm/grpc/client';
import { collect, expectPachError } from '../contract/pfs.contract';
import { grpcStack, removeTempDirs, type GrpcStack } from './harness';

afterAll(removeTempDirs);

describe('the stand-in with a finishing window', () => {
  let stack: GrpcStack;
  beforeEach(async () => {
    // a long window: every write below lands while the previous commit is still FINISHING
    stack = await grpcStack({ engine: { finishingWindowMs: 400 } });
    await stack.client.createRepo('r');
  });
  afterEach(() => stack.close());

  it('keeps a finished commit FINISHING, refusing writes by id, until the window ends', async () => {
    const c = await stack.client.startCommit('r@master');
    await stack.client.finishCommit(c);
    const now = await stack.client.inspectCommit(c);
    expect(now.finishing).not.toBeNull();
    expect(now.finished).toBeNull();
    await expectPachError(
      stack.client.modifyFile({ repo: 'r', id: c.id }, [{ op: 'put', path: '/x', data: 'x' }]),
      PachCode.FAILED_PRECONDITION,
      /has already finished/,
    );
    // a FINISHING head is a valid parent (pachd: only an open head blocks StartCommit)
    const child = await stack.client.startCommit('r@master');
    expect((await stack.client.inspectCommit(child)).parentCommit?.id).toBe(c.id);
    const done = await stack.client.inspectCommit(c, { wait: CommitState.FINISHED });
    expect(done.finished!.getTime() - done.finishing!.getTime()).toBeGreaterThanOrEqual(390);
  });

  it('answers back-to-back writes to a branch head, each in its own new commit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await stack.client.modifyFile('r@master', [
        { op: 'put', path: `/f${i}`, data: String(i) },
      ]);
      ids.push(c.id);
    }
    expect(new Set(ids).size).toBe(4);
    for (let i = 0; i < 4; i++) {
      const info = await stack.client.inspectCommit({ repo: 'r', id: ids[i] });
      expect(info.parentCommit?.id ?? null).toBe(i === 0 ? null : ids[i - 1]);
      expect((await stack.client.readFile(`r@${ids[i]}:/f${i}`)).toString()).toBe(String(i));
    }
  });

  it('gives each of two writer processes the exact commit of each of its writes', async () => {
    // two clients = two API replicas, on separate channels, writing concurrently
    const other = connectPachd(`grpc://127.0.0.1:${stack.server.port}`);
    try {
      const write = (pach: typeof other, who: string, n: number) =>
        Promise.all(
          Array.from({ length: n }, (_, i) =>
            commitFiles(pach, 'r@master', [{ op: 'put', path: `/${who}-${i}`, data: who }], {
              attempts: 40,
              baseDelayMs: 5,
              maxDelayMs: 100,
            }).then((c) => ({ c, path: `/${who}-${i}` })),
          ),
        );
      const [a, b] = await Promise.all([write(stack.client, 'a', 5), write(other, 'b', 5)]);
      const all = [...a, ...b];
      expect(new Set(all.map((w) => w.c.id)).size).toBe(10);
      // every returned commit is the one that added the writer's file: it has it, its parent not
      for (const { c, path } of all) {
        const info = await stack.client.inspectCommit({ repo: 'r', id: c.id });
        expect((await stack.client.readFile(`r@${c.id}:${path}`)).toString()).toBe(path[1]);
        if (info.parentCommit) {
          await expectPachError(
            stack.client.readFile(`r@${info.parentCommit.id}:${path}`),
            PachCode.NOT_FOUND,
          );
        }
      }
      expect((await collect(stack.client.listCommit('r'))).length).toBe(10);
    } finally {
      await other.close();
    }
  });

  it('finishes its own commit with the error when the write fails, leaving the branch usable', async () => {
    await expectPachError(
      commitFiles(stack.client, 'r@master', [{ op: 'copy', src: 'r@master:/nope', dst: '/z' }]),
      PachCode.NOT_FOUND,
    );
    const head = await stack.client.inspectCommit('r@master');
    expect(head.error).toMatch(/^write failed: .*nope/);
    const next = await commitFiles(stack.client, 'r@master', [
      { op: 'put', path: '/a', data: 'a' },
    ]);
    expect((await stack.client.readFile(`r@${next.id}:/a`)).toString()).toBe('a');
  });
});

describe('retryWithBackoff', () => {
  it('waits base·2^k scaled by the jitter between attempts, and stops at a non-retryable error', async () => {
    const seed = 7;
    console.log(`retryWithBackoff jitter seed ${seed}`);
    let x = seed;
    const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const calls: number[] = [];
    const result = await retryWithBackoff(
      async (k) => {
        calls.push(Date.now());
        if (k < 3)
          throw new PachError(
            PachCode.FAILED_PRECONDITION,
            'parent commit r@abc has not been finished',
          );
        return 'ok';
      },
      { baseDelayMs: 40, maxDelayMs: 1000, random },
    );
    expect(result).toBe('ok');
    expect(calls.length).toBe(4);
    // delays ≥ 0.5·40, 0.5·80, 0.5·160 ms (jitter in [0.5, 1))
    expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(19);
    expect(calls[2] - calls[1]).toBeGreaterThanOrEqual(39);
    expect(calls[3] - calls[2]).toBeGreaterThanOrEqual(79);
    let n = 0;
    await expect(
      retryWithBackoff(async () => {
        n++;
        throw new PachError(PachCode.NOT_FOUND, 'repo r not found');
      }),
    ).rejects.toThrow(/repo r not found/);
    expect(n).toBe(1);
  });
});

describe("a job's end in pachd's order, with a finishing window", () => {
  let stack: GrpcStack;
  beforeEach(async () => {
    // a long window, so that the job is looked at while its output commit is FINISHING
    stack = await grpcStack({ engine: { finishingWindowMs: 700, pps: embeddedPps() } });
    await stack.client.createRepo('in');
    await stack.client.createPipeline({
      pipeline: { name: 'copy' },
      transform: { cmd: ['sh', '-c', 'cp /pfs/in/* /pfs/out/'] },
      input: { pfs: { repo: 'in', glob: '/*' } },
    });
  });
  afterEach(() => stack.close());

  it('keeps the job FINISHING while its output commit is FINISHING, and SUCCESS only once it is FINISHED', async () => {
    const c = await commitFiles(stack.client, 'in@master', [{ op: 'put', path: '/a', data: 'a' }]);
    const out = { repo: 'copy', id: c.id };
    // the worker's FinishCommit: the output commit is FINISHING (pachd: `finishing` set)
    const ctl = new AbortController();
    let finishing: CommitInfo | undefined;
    for await (const ci of stack.client.subscribeCommit('copy', {
      state: CommitState.FINISHING,
      signal: ctl.signal,
    })) {
      if (ci.commit.id === c.id) {
        finishing = ci;
        break;
      }
    }
    ctl.abort();
    const job = await stack.client.inspectJob({ pipeline: 'copy', id: c.id });
    const again = await stack.client.inspectCommit(out);
    expect(finishing!.finishing).not.toBeNull();
    // both looks fell inside the 700 ms window (else this test proves nothing)
    expect(again.finished).toBeNull();
    expect(JobState[job.state]).toBe('JOB_FINISHING');
    const done = await stack.client.inspectJob({ pipeline: 'copy', id: c.id }, { wait: true });
    expect(JobState[done.state]).toBe('JOB_SUCCESS');
    const commit = await stack.client.inspectCommit(out);
    expect(commit.finished).not.toBeNull();
    // the job ended in the transaction that finished its commit, at the end of the window
    expect(commit.finished!.getTime() - commit.finishing!.getTime()).toBeGreaterThanOrEqual(690);
    expect(done.finished!.getTime()).toBeGreaterThanOrEqual(commit.finished!.getTime());
    expect((await stack.client.readFile(`copy@${c.id}:/a`)).toString()).toBe('a');
  });

  it('ends a job whose datum failed FAILURE at once, its output commit still FINISHING (pachd failJob)', async () => {
    await stack.client.createPipeline(
      {
        pipeline: { name: 'copy' },
        transform: { cmd: ['sh', '-c', 'exit 3'] },
        input: { pfs: { repo: 'in', glob: '/*' } },
      },
      { update: true },
    );
    const c = await commitFiles(stack.client, 'in@master', [{ op: 'put', path: '/a', data: 'a' }]);
    const done = await stack.client.inspectJob({ pipeline: 'copy', id: c.id }, { wait: true });
    expect(JobState[done.state]).toBe('JOB_FAILURE');
    const commit = await stack.client.inspectCommit({ repo: 'copy', id: c.id });
    expect(commit.error).toMatch(/failed/);
    expect(commit.finishing).not.toBeNull();
  });
});
