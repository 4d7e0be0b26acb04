/**
 * Every service write goes into a commit of the writer's own (`commitFiles`): a rating batch's
 * removal, a catalogue upsert and the serving pin. Each test plays a second API replica that holds
 * the branch head open (StartCommit, a write, no FinishCommit yet) while this replica writes, on
 * the pachd stand-in with its finishing window. A writer that wrote into "the branch" would put
 * its change into the other replica's commit and report that commit's id; a writer of its own
 * commits waits (StartCommit refused: "parent commit … has not been finished"), then commits on
 * top of the other one, and reports a commit that holds exactly its change.
 */
import { CommitState, PachCode } from '../../src/pachyderm';
import { isPachError } from '../../src/pachyderm/errors';
import { commitFiles } from '../../src/pachyderm/own-commit';
import type { Pachyderm } from '../../src/pachyderm/port';
import type { Commit } from '../../src/pachyderm/types';
import { Catalog } from '../../src/services/catalog';
import { resolveServiceConfig } from '../../src/services/config';
import { Ratings } from '../../src/services/ratings';
import { SERVING_REPO, readPin, writePin } from '../../src/services/serving-pin';
import { expectPachError } from '../pachyderm/contract/pfs.contract';
import { grpcStack, removeTempDirs, type GrpcStack } from '../pachyderm/grpc/harness';

afterAll(removeTempDirs);

/**
 * `pach` seen through a window: `refused` resolves the first time a StartCommit is refused
 * because the head is open (the positive signal that the writer had its chance and waited).
 */
function watched(pach: Pachyderm): { pach: Pachyderm; refused: Promise<void> } {
  let signal!: () => void;
  const refused = new Promise<void>((r) => (signal = r));
  const proxy = new Proxy(pach, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'startCommit' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        try {
          return (await (v as (...a: unknown[]) => Promise<Commit>).apply(target, args)) as Commit;
        } catch (e) {
          if (isPachError(e, PachCode.FAILED_PRECONDITION)) signal();
          throw e;
        }
      };
    },
  });
  return { pach: proxy, refused };
}

describe('service writes while another replica holds the branch head open', () => {
  let stack: GrpcStack;
  beforeEach(async () => {
    stack = await grpcStack({ engine: { finishingWindowMs: 50 } });
    await stack.client.createRepo('training');
  });
  afterEach(() => stack.close());

  /**
   * Opens the other replica's commit on `branch` with one file in it, runs `write` (through a
   * watched port), waits until the write either ended or was refused a StartCommit, then
   * finishes the other commit and returns the write's result with the other commit.
   */
  async function besideOpenCommit<T>(
    branch: string,
    write: (pach: Pachyderm) => Promise<T>,
  ): Promise<{ result: T; other: Commit }> {
    const other = await stack.client.startCommit(branch);
    await stack.client.modifyFile({ repo: other.repo, id: other.id }, [
      { op: 'put', path: '/other-replica.txt', data: 'theirs' },
    ]);
    const w = watched(stack.client);
    const p = write(w.pach);
    await Promise.race([
      p.then(
        () => undefined,
        () => undefined,
      ),
      w.refused,
    ]);
    await stack.client.finishCommit(other);
    return { result: await p, other };
  }

  /** `id`'s parent is `other`, `id` holds `path` and `other` does not (or the reverse for a delete). */
  async function expectOwnCommitAfter(id: string, other: Commit, check: () => Promise<void>) {
    expect(id).not.toBe(other.id);
    const info = await stack.client.inspectCommit({ repo: other.repo, id });
    expect(info.parentCommit?.id).toBe(other.id);
    // the other replica's commit holds only its own file
    expect(
      (await stack.client.readFile(`${other.repo.name}@${other.id}:/other-replica.txt`)).toString(),
    ).toBe('theirs');
    await check();
  }

  it('answers removeBatch with its own commit, in which the batch is gone and before which it was there', async () => {
    const batchId = '1700000000000-0123456789abcdef';
    const path = `/batches/${batchId}.txt`;
    await commitFiles(stack.client, 'training@master', [
      { op: 'put', path, data: '1 2 3 881250949\n4 5 4.5 881250950\n' },
    ]);
    const { result, other } = await besideOpenCommit('training@master', (pach) =>
      new Ratings(pach, resolveServiceConfig()).removeBatch(batchId),
    );
    expect(result.count).toBe(2);
    await expectOwnCommitAfter(result.commit, other, async () => {
      await expectPachError(
        stack.client.readFile(`training@${result.commit}:${path}`),
        PachCode.NOT_FOUND,
      );
      expect((await stack.client.readFile(`training@${other.id}:${path}`)).toString()).toMatch(
        /^1 2 3/,
      );
    });
  });

  it('answers upsertMovies and upsertUsers with their own commits, each holding its new file only', async () => {
    const movies = await besideOpenCommit('training@master', (pach) =>
      new Catalog({}, pach).upsertMovies([{ id: 'm1', title: 'Heat (1995)', genres: ['Action'] }]),
    );
    await expectOwnCommitAfter(movies.result.commit, movies.other, async () => {
      expect(
        (
          await stack.client.readFile(`training@${movies.result.commit}:${movies.result.path}`)
        ).toString(),
      ).toMatch(/Heat \(1995\)/);
      await expectPachError(
        stack.client.readFile(`training@${movies.other.id}:${movies.result.path}`),
        PachCode.NOT_FOUND,
      );
    });
    const users = await besideOpenCommit('training@master', (pach) =>
      new Catalog({}, pach).upsertUsers([{ id: 'u1', attributes: { age: '30' } }]),
    );
    await expectOwnCommitAfter(users.result.commit, users.other, async () => {
      expect(
        (
          await stack.client.readFile(`training@${users.result.commit}:${users.result.path}`)
        ).toString(),
      ).toMatch(/u1/);
      await expectPachError(
        stack.client.readFile(`training@${users.other.id}:${users.result.path}`),
        PachCode.NOT_FOUND,
      );
    });
  });

  it('answers writePin with its own serving commit, and the pin reads back from it', async () => {
    await writePin(stack.client, {
      version: null,
      reason: 'first',
      at: '2026-01-01T00:00:00.000Z',
    });
    const pin = { version: 'abc123', reason: 'rollback', at: '2026-01-02T00:00:00.000Z' };
    const { result, other } = await besideOpenCommit(`${SERVING_REPO}@master`, (pach) =>
      writePin(pach, pin),
    );
    await expectOwnCommitAfter(result, other, async () => {
      const text = (await stack.client.readFile(`${SERVING_REPO}@${result}:/pin.json`)).toString();
      expect(JSON.parse(text)).toEqual(pin);
      const theirs = JSON.parse(
        (await stack.client.readFile(`${SERVING_REPO}@${other.id}:/pin.json`)).toString(),
      );
      expect(theirs.reason).toBe('first');
    });
    await stack.client.inspectCommit(`${SERVING_REPO}@master`, { wait: CommitState.FINISHED });
    expect(await readPin(stack.client)).toEqual(pin);
  });
});
