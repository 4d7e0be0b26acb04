/**
 * The PFS contract of the Pachyderm port, written against the `Pachyderm` interface alone, so that
 * every adapter (embedded, gRPC client) runs the same suite. Expected values come from
 * Pachyderm's documented semantics (shared/pachyderm-api.md §2.2–2.4) and are computed here
 * independently (SHA-256 of the bytes written, sums of sizes, parent chains).
 *
 * Usage: `describePfsContract('embedded', async () => ({ pach, close }))` in a `*.test.ts` file;
 * `open` must return an adapter over an EMPTY store (only the `default` project).
 */
import { createHash } from 'node:crypto';
import {
  CommitState,
  FileType,
  OriginKind,
  PachCode,
  PachError,
  type CommitInfo,
  type FileInfo,
  type Pachyderm,
} from '../../../src/pachyderm';

/** What a contract run needs: an adapter over an empty store and a way to dispose of it. */
export interface ContractTarget {
  pach: Pachyderm;
  close(): Promise<void>;
}

/** The iterator of an async iterable. */
export function iter<T>(a: AsyncIterable<T>): AsyncIterator<T> {
  return a[Symbol.asyncIterator]();
}

/** Gather an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Expect `p` to reject with a PachError of `code` whose message matches `message`. */
export async function expectPachError(
  p: Promise<unknown>,
  code: PachCode,
  message?: RegExp | string,
): Promise<PachError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PachError);
  const pe = err as PachError;
  expect(PachCode[pe.code]).toBe(PachCode[code]);
  if (message !== undefined) expect(pe.message).toMatch(message);
  return pe;
}

/** True when the promise is still pending after the event loop has run pending work. */
async function isPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return !settled;
}

/**
 * Register the PFS contract suite.
 * @param name adapter name shown in test titles
 * @param open returns a fresh adapter over an empty store (called before each test)
 */
export function describePfsContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`Pachyderm PFS contract: ${name}`, () => {
    let target: ContractTarget;
    let pach: Pachyderm;

    beforeEach(async () => {
      target = await open();
      pach = target.pach;
    });
    afterEach(async () => {
      await target.close();
    });

    const put = (commit: string, path: string, data: string | Buffer) =>
      pach.modifyFile(commit, [{ op: 'put', path, data }]);
    const read = async (file: string) => (await pach.readFile(file)).toString('utf8');

    // -----------------------------------------------------------------------------------------
    describe('projects', () => {
      it('has the default project and creates, inspects, lists others', async () => {
        const before = await collect(pach.listProject());
        expect(before.map((p) => p.project.name)).toEqual(['default']);
        await pach.createProject('zeta', { description: 'z' });
        await pach.createProject({ name: 'alpha' });
        const names = (await collect(pach.listProject())).map((p) => p.project.name);
        expect(names).toEqual(['alpha', 'default', 'zeta']);
        const info = await pach.inspectProject('zeta');
        expect(info.description).toBe('z');
        expect(info.createdAt).toBeInstanceOf(Date);
      });

      it('refuses duplicates, unknown projects and bad names with codes', async () => {
        await pach.createProject('p1');
        await expectPachError(
          pach.createProject('p1'),
          PachCode.ALREADY_EXISTS,
          /p1 already exists/,
        );
        await pach.createProject('p1', { update: true, description: 'new' });
        expect((await pach.inspectProject('p1')).description).toBe('new');
        await expectPachError(
          pach.inspectProject('nope'),
          PachCode.NOT_FOUND,
          /project nope not found/,
        );
        await expectPachError(
          pach.createProject('bad name!'),
          PachCode.INVALID_ARGUMENT,
          /bad name!/,
        );
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('repos', () => {
      it('creates a user repo in the default project with no branch', async () => {
        await pach.createRepo('training', { description: 'ratings' });
        const info = await pach.inspectRepo('training');
        expect(info.repo).toEqual({ name: 'training', type: 'user', project: { name: 'default' } });
        expect(info.description).toBe('ratings');
        expect(info.branches).toEqual([]);
        expect(info.sizeBytesUpperBound).toBe(0);
        // The proto form is accepted too.
        const same = await pach.inspectRepo({
          name: 'training',
          type: 'user',
          project: { name: 'default' },
        });
        expect(same.repo.name).toBe('training');
      });

      it('lists repos sorted by name, user type by default', async () => {
        await pach.createRepo('b');
        await pach.createRepo('a');
        await pach.createRepo({ name: 'a', type: 'spec' });
        expect((await collect(pach.listRepo())).map((r) => r.repo.name)).toEqual(['a', 'b']);
        const all = await collect(pach.listRepo({ type: '' }));
        expect(all.map((r) => `${r.repo.name}.${r.repo.type}`)).toEqual([
          'a.spec',
          'a.user',
          'b.user',
        ]);
      });

      it('refuses duplicates (unless update), missing projects and bad names', async () => {
        await pach.createRepo('r');
        await expectPachError(
          pach.createRepo('r'),
          PachCode.ALREADY_EXISTS,
          /repo .*r already exists/,
        );
        await pach.createRepo('r', { update: true, description: 'd2' });
        expect((await pach.inspectRepo('r')).description).toBe('d2');
        await expectPachError(pach.createRepo('ghost/r'), PachCode.NOT_FOUND, /ghost/);
        await expectPachError(pach.createRepo('no spaces'), PachCode.INVALID_ARGUMENT, /no spaces/);
        await expectPachError(
          pach.inspectRepo('missing'),
          PachCode.NOT_FOUND,
          /repo .*missing not found/,
        );
      });

      it('deletes a repo with its commits and reports whether it existed', async () => {
        await pach.createRepo('r');
        await put('r@master', '/a', 'x');
        expect(await pach.deleteRepo('r')).toEqual({ deleted: true });
        await expectPachError(pach.inspectRepo('r'), PachCode.NOT_FOUND);
        expect(await pach.deleteRepo('r')).toEqual({ deleted: false });
        // A new repo of the same name starts empty.
        await pach.createRepo('r');
        expect(await collect(pach.listCommit('r'))).toEqual([]);
      });

      it('repos in another project are separate', async () => {
        await pach.createProject('p');
        await pach.createRepo('p/r');
        await pach.createRepo('r');
        await put('p/r@master', '/f', 'in p');
        await put('r@master', '/f', 'in default');
        expect(await read('p/r@master:/f')).toBe('in p');
        expect(await read('r@master:/f')).toBe('in default');
        const inP = await collect(pach.listRepo({ projects: ['p'] }));
        expect(inP.map((r) => r.repo.project.name)).toEqual(['p']);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('commits', () => {
      beforeEach(async () => {
        await pach.createRepo('data');
      });

      it('starts a commit on a new branch with a 32-hex id, origin USER, open', async () => {
        const c = await pach.startCommit('data@master');
        expect(c.id).toMatch(/^[0-9a-f]{32}$/);
        expect(c.repo.name).toBe('data');
        expect(c.branch?.name).toBe('master');
        const info = await pach.inspectCommit(c);
        expect(info.origin.kind).toBe(OriginKind.USER);
        expect(info.finished).toBeNull();
        expect(info.finishing).toBeNull();
        expect(info.parentCommit).toBeNull();
        expect(info.started).toBeInstanceOf(Date);
        const branch = await pach.inspectBranch('data@master');
        expect(branch.head?.id).toBe(c.id);
      });

      it('refuses a second start while the head is open, and a second finish', async () => {
        const c = await pach.startCommit('data@master');
        await expectPachError(
          pach.startCommit('data@master'),
          PachCode.FAILED_PRECONDITION,
          new RegExp(`parent commit .*${c.id} has not been finished`),
        );
        await pach.finishCommit(c);
        await expectPachError(
          pach.finishCommit(c),
          PachCode.FAILED_PRECONDITION,
          new RegExp(`commit .*${c.id} has already finished`),
        );
      });

      it('chains parents per branch and records children, times and description', async () => {
        const c1 = await pach.startCommit('data@master', { description: 'first' });
        await pach.finishCommit(c1);
        const c2 = await pach.startCommit('data@master');
        await pach.finishCommit(c2, { description: 'second' });
        // FINISHED may come a finishing window after FinishCommit (a real pachd's compaction)
        const i1 = await pach.inspectCommit(c1, { wait: CommitState.FINISHED });
        const i2 = await pach.inspectCommit(c2, { wait: CommitState.FINISHED });
        expect(i2.parentCommit?.id).toBe(c1.id);
        expect(i1.childCommits.map((c) => c.id)).toEqual([c2.id]);
        expect(i1.description).toBe('first');
        expect(i2.description).toBe('second');
        expect(i2.finishing).not.toBeNull();
        expect(i2.finished!.getTime()).toBeGreaterThanOrEqual(i2.finishing!.getTime());
        expect(i2.finishing!.getTime()).toBeGreaterThanOrEqual(i2.started.getTime());
        // A branch head reference and ancestry resolve along the chain.
        expect((await pach.inspectCommit('data@master')).commit.id).toBe(c2.id);
        expect((await pach.inspectCommit('data@master^')).commit.id).toBe(c1.id);
        await expectPachError(pach.inspectCommit('data@master^2'), PachCode.NOT_FOUND);
      });

      it('branches of one repo have separate chains', async () => {
        const m = await pach.modifyFile('data@master', [{ op: 'put', path: '/m', data: 'm' }]);
        const d = await pach.modifyFile('data@dev', [{ op: 'put', path: '/d', data: 'd' }]);
        expect((await pach.inspectCommit(d)).parentCommit).toBeNull();
        expect((await pach.inspectCommit(m)).commit.branch?.name).toBe('master');
        const branches = await collect(pach.listBranch('data'));
        expect(branches.map((b) => b.branch.name)).toEqual(['dev', 'master']);
        expect((await pach.inspectRepo('data')).branches.map((b) => b.name)).toEqual([
          'dev',
          'master',
        ]);
      });

      it('starts a commit from an explicit finished parent', async () => {
        const c1 = await put('data@master', '/a', '1');
        await put('data@master', '/a', '2');
        const c3 = await pach.startCommit('data@master', { parent: c1 });
        await pach.finishCommit(c3);
        expect((await pach.inspectCommit(c3)).parentCommit?.id).toBe(c1.id);
        expect(await read(`data@${c3.id}:/a`)).toBe('1');
      });

      it('finishes with an error', async () => {
        const c = await pach.startCommit('data@master');
        await pach.finishCommit(c, { error: 'validation failed' });
        const info = await pach.inspectCommit(c, { wait: CommitState.FINISHED });
        expect(info.error).toBe('validation failed');
        expect(info.finished).not.toBeNull();
      });

      it('reports NOT_FOUND for unknown commits, branches and repos', async () => {
        await expectPachError(
          pach.inspectCommit({ repo: 'data', id: '0123456789abcdef0123456789abcdef' }),
          PachCode.NOT_FOUND,
          /commit .*0123456789abcdef0123456789abcdef not found/,
        );
        await expectPachError(pach.inspectCommit('data@nobranch'), PachCode.NOT_FOUND);
        await expectPachError(
          pach.inspectCommit('ghost@master'),
          PachCode.NOT_FOUND,
          /repo .*ghost not found/,
        );
        await expectPachError(pach.startCommit('ghost@master'), PachCode.NOT_FOUND);
      });

      it('lists commits newest first, reverse, number, from/to', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await put('data@master', '/f', String(i))).id);
        const newest = (await collect(pach.listCommit('data'))).map((c) => c.commit.id);
        expect(newest).toEqual([...ids].reverse());
        const oldest = (await collect(pach.listCommit('data', { reverse: true }))).map(
          (c) => c.commit.id,
        );
        expect(oldest).toEqual(ids);
        const two = (await collect(pach.listCommit('data', { number: 2 }))).map((c) => c.commit.id);
        expect(two).toEqual([ids[4], ids[3]]);
        const first = await collect(pach.listCommit('data', { number: 1, reverse: true }));
        expect(first.map((c) => c.commit.id)).toEqual([ids[0]]);
        const range = await collect(
          pach.listCommit('data', {
            from: { repo: 'data', id: ids[1] },
            to: { repo: 'data', id: ids[3] },
          }),
        );
        expect(range.map((c) => c.commit.id)).toEqual([ids[3], ids[2]]);
        // pages: `number` with `to` (newest first from a commit) and with `from` (oldest after it)
        const page = (o: Parameters<Pachyderm['listCommit']>[1]) =>
          collect(pach.listCommit('data', o)).then((l) => l.map((c) => c.commit.id));
        expect(await page({ to: { repo: 'data', id: ids[3] }, number: 2 })).toEqual([
          ids[3],
          ids[2],
        ]);
        expect(await page({ to: { repo: 'data', id: ids[3] }, number: 2, reverse: true })).toEqual([
          ids[0],
          ids[1],
        ]);
        expect(
          await page({ from: { repo: 'data', id: ids[1] }, number: 2, reverse: true }),
        ).toEqual([ids[2], ids[3]]);
        expect(await page({ from: { repo: 'data', id: ids[1] }, number: 2 })).toEqual([
          ids[4],
          ids[3],
        ]);
        expect(await collect(pach.listCommit('data', { originKind: OriginKind.AUTO }))).toEqual([]);
        await expectPachError(collect(pach.listCommit('ghost')), PachCode.NOT_FOUND);
      });

      it('inspectCommit waits for FINISHED and returns at once for STARTED', async () => {
        const c = await pach.startCommit('data@master');
        const started = await pach.inspectCommit(c, { wait: CommitState.STARTED });
        expect(started.finished).toBeNull();
        const waiting = pach.inspectCommit(c, { wait: CommitState.FINISHED });
        expect(await isPending(waiting)).toBe(true);
        await pach.modifyFile(c, [{ op: 'put', path: '/x', data: 'abc' }]);
        expect(await isPending(waiting)).toBe(true);
        await pach.finishCommit(c);
        const done = await waiting;
        expect(done.commit.id).toBe(c.id);
        expect(done.finished).not.toBeNull();
        expect(done.sizeBytes).toBe(3);
        // A commit without provenance is READY as soon as it starts.
        const c2 = await pach.startCommit('data@master');
        const ready = await pach.inspectCommit(c2, { wait: CommitState.READY });
        expect(ready.finished).toBeNull();
      });

      it('a wait can be cancelled with a signal', async () => {
        const c = await pach.startCommit('data@master');
        const ctl = new AbortController();
        const waiting = pach.inspectCommit(c, { wait: CommitState.FINISHED, signal: ctl.signal });
        ctl.abort();
        await expectPachError(waiting, PachCode.CANCELLED);
      });

      it('inspectCommitSet returns the commit of that id', async () => {
        const c = await put('data@master', '/a', 'x');
        const set = await collect(pach.inspectCommitSet(c.id));
        expect(set.map((i) => [i.commit.repo.name, i.commit.id])).toEqual([['data', c.id]]);
        await expectPachError(
          collect(pach.inspectCommitSet('0123456789abcdef0123456789abcdef')),
          PachCode.NOT_FOUND,
        );
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('branches and provenance', () => {
      beforeEach(async () => {
        await pach.createRepo('in1');
        await pach.createRepo('in2');
        await pach.createRepo('mid');
        await pach.createRepo('out');
      });

      it('records direct and transitive provenance and subvenance', async () => {
        await pach.createBranch('mid@master', { provenance: ['in1@master'] });
        await pach.createBranch('out@master', { provenance: ['mid@master', 'in2@master'] });
        const out = await pach.inspectBranch('out@master');
        const names = (bs: { repo: { name: string }; name: string }[]) =>
          bs.map((b) => `${b.repo.name}@${b.name}`).sort();
        expect(names(out.directProvenance)).toEqual(['in2@master', 'mid@master']);
        expect(names(out.provenance)).toEqual(['in1@master', 'in2@master', 'mid@master']);
        const in1 = await pach.inspectBranch('in1@master');
        expect(names(in1.subvenance)).toEqual(['mid@master', 'out@master']);
        expect(in1.head).toBeNull();
      });

      it('refuses provenance cycles and user commits on output branches', async () => {
        await pach.createBranch('mid@master', { provenance: ['in1@master'] });
        await expectPachError(
          pach.createBranch('in1@master', { provenance: ['mid@master'] }),
          PachCode.INVALID_ARGUMENT,
          /cycle/,
        );
        await expectPachError(
          pach.startCommit('mid@master'),
          PachCode.FAILED_PRECONDITION,
          /cannot start a commit on an output branch/,
        );
        await expectPachError(
          pach.modifyFile('mid@master', [{ op: 'put', path: '/x', data: 'y' }]),
          PachCode.FAILED_PRECONDITION,
          /output branch/,
        );
      });

      it('moves a branch head to a given commit, and deletes branches', async () => {
        const c1 = await put('in1@master', '/a', '1');
        await put('in1@master', '/a', '2');
        await pach.createBranch('in1@stable', { head: c1 });
        expect((await pach.inspectBranch('in1@stable')).head?.id).toBe(c1.id);
        expect(await read('in1@stable:/a')).toBe('1');
        await pach.deleteBranch('in1@stable');
        await expectPachError(
          pach.inspectBranch('in1@stable'),
          PachCode.NOT_FOUND,
          /branch .*stable not found/,
        );
        // The commit survives its branch.
        expect(await read(`in1@${c1.id}:/a`)).toBe('1');
      });

      it('refuses to delete a branch or repo others depend on, unless forced', async () => {
        await pach.createBranch('mid@master', { provenance: ['in1@master'] });
        await expectPachError(pach.deleteBranch('in1@master'), PachCode.FAILED_PRECONDITION);
        await expectPachError(pach.deleteRepo('in1'), PachCode.FAILED_PRECONDITION);
        await expectPachError(
          pach.deleteRepo('mid'),
          PachCode.FAILED_PRECONDITION,
          /output branch/,
        );
        expect(await pach.deleteRepo('mid', { force: true })).toEqual({ deleted: true });
        await pach.deleteBranch('in1@master');
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('files', () => {
      beforeEach(async () => {
        await pach.createRepo('r');
      });

      it('put overwrites, append appends, get returns the bytes', async () => {
        const c = await pach.startCommit('r@master');
        await pach.modifyFile(c, [
          { op: 'put', path: '/a.txt', data: 'hello' },
          { op: 'append', path: '/a.txt', data: ' world' },
          { op: 'put', path: 'b.txt', data: Buffer.from([0, 1, 2, 255]) },
          { op: 'append', path: '/new.txt', data: 'created by append' },
        ]);
        await pach.modifyFile(c, [{ op: 'put', path: '/b.txt', data: 'replaced' }]);
        await pach.finishCommit(c);
        expect(await read('r@master:/a.txt')).toBe('hello world');
        expect(await read('r@master:/b.txt')).toBe('replaced');
        expect(await read('r@master:/new.txt')).toBe('created by append');
        const info = await pach.inspectFile('r@master:/a.txt');
        expect(info.fileType).toBe(FileType.FILE);
        expect(info.sizeBytes).toBe(11);
        expect(info.hash).toBe(sha256('hello world'));
        expect(info.file.path).toBe('/a.txt');
        expect(info.file.commit.id).toBe(c.id);
        expect((await pach.inspectCommit(c)).sizeBytes).toBe(11 + 8 + 17);
      });

      it('empty files exist and read as empty', async () => {
        await put('r@master', '/empty', '');
        expect((await pach.readFile('r@master:/empty')).length).toBe(0);
        const info = await pach.inspectFile('r@master:/empty');
        expect(info.sizeBytes).toBe(0);
        expect(info.hash).toBe(sha256(''));
      });

      it('streams a large file in chunks and honours offset', async () => {
        const big = Buffer.alloc(3 * 1024 * 1024 + 17);
        for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
        await put('r@master', '/big.bin', big);
        const chunks = await collect(pach.getFile('r@master:/big.bin'));
        expect(chunks.length).toBeGreaterThan(1);
        const all = Buffer.concat(chunks);
        expect(all.equals(big)).toBe(true);
        const tail = Buffer.concat(
          await collect(pach.getFile('r@master:/big.bin', { offset: big.length - 100 })),
        );
        expect(tail.equals(big.subarray(big.length - 100))).toBe(true);
        expect((await pach.inspectFile('r@master:/big.bin')).hash).toBe(sha256(big));
      });

      it('lists the children of a directory with types, sizes and trailing slashes', async () => {
        await pach.modifyFile('r@master', [
          { op: 'put', path: '/dir/x', data: '12' },
          { op: 'put', path: '/dir/sub/y', data: '345' },
          { op: 'put', path: '/top', data: '6789' },
        ]);
        const root = await collect(pach.listFile('r@master:/'));
        expect(root.map((f) => [f.file.path, f.fileType, f.sizeBytes])).toEqual([
          ['/dir/', FileType.DIR, 5],
          ['/top', FileType.FILE, 4],
        ]);
        const dir = await collect(pach.listFile('r@master:/dir'));
        expect(dir.map((f) => [f.file.path, f.fileType, f.sizeBytes])).toEqual([
          ['/dir/sub/', FileType.DIR, 3],
          ['/dir/x', FileType.FILE, 2],
        ]);
        const d = await pach.inspectFile('r@master:/dir');
        expect(d.fileType).toBe(FileType.DIR);
        expect(d.sizeBytes).toBe(5);
        const paged = await collect(
          pach.listFile('r@master:/', { paginationMarker: '/dir', number: 5 }),
        );
        expect(paged.map((f) => f.file.path)).toEqual(['/top']);
        await expectPachError(collect(pach.listFile('r@master:/nope')), PachCode.NOT_FOUND);
      });

      it('globs and walks like Pachyderm', async () => {
        await pach.modifyFile('r@master', [
          { op: 'put', path: '/a/1.csv', data: '1' },
          { op: 'put', path: '/a/2.txt', data: '2' },
          { op: 'put', path: '/b.csv', data: '3' },
        ]);
        const paths = async (pattern: string) =>
          (await collect(pach.globFile('r@master', pattern))).map((f: FileInfo) => f.file.path);
        expect(await paths('/*')).toEqual(['/a/', '/b.csv']);
        expect(await paths('/**.csv')).toEqual(['/a/1.csv', '/b.csv']);
        expect(await paths('/a/*')).toEqual(['/a/1.csv', '/a/2.txt']);
        expect(await paths('/nothing*')).toEqual([]);
        const walked = (await collect(pach.walkFile('r@master:/'))).map((f) => f.file.path);
        expect(walked).toEqual(['/', '/a/', '/a/1.csv', '/a/2.txt', '/b.csv']);
      });

      it('deletes files and whole directories', async () => {
        await pach.modifyFile('r@master', [
          { op: 'put', path: '/d/1', data: '1' },
          { op: 'put', path: '/d/2', data: '2' },
          { op: 'put', path: '/keep', data: 'k' },
          { op: 'put', path: '/gone', data: 'g' },
        ]);
        await pach.modifyFile('r@master', [
          { op: 'delete', path: '/d' },
          { op: 'delete', path: '/gone' },
        ]);
        const root = (await collect(pach.listFile('r@master:/'))).map((f) => f.file.path);
        expect(root).toEqual(['/keep']);
        await expectPachError(
          pach.readFile('r@master:/gone'),
          PachCode.NOT_FOUND,
          /file \/gone not found in repo .*r at commit/,
        );
        // The parent commit still has them.
        expect(await read('r@master^:/d/2')).toBe('2');
      });

      it('copies files and directories, within and across repos', async () => {
        await pach.createRepo('other');
        const src = await pach.modifyFile('other@master', [
          { op: 'put', path: '/models/m1', data: 'weights' },
          { op: 'put', path: '/models/cfg/c', data: 'config' },
        ]);
        await pach.modifyFile('r@master', [
          { op: 'put', path: '/x', data: 'head-' },
          { op: 'copy', src: { commit: src, path: '/models' }, dst: '/imported' },
          { op: 'copy', src: `other@${src.id}:/models/m1`, dst: '/x', append: true },
        ]);
        expect(await read('r@master:/imported/m1')).toBe('weights');
        expect(await read('r@master:/imported/cfg/c')).toBe('config');
        expect(await read('r@master:/x')).toBe('head-weights');
        expect((await pach.inspectFile('r@master:/x')).hash).toBe(sha256('head-weights'));
      });

      it('refuses reading a directory as a file and bad paths', async () => {
        await put('r@master', '/d/f', 'x');
        await expectPachError(pach.readFile('r@master:/d'), PachCode.INVALID_ARGUMENT, /directory/);
        await expectPachError(
          pach.modifyFile('r@master', [{ op: 'put', path: '/../etc', data: 'x' }]),
          PachCode.INVALID_ARGUMENT,
          /\.\./,
        );
        await expectPachError(
          pach.modifyFile('r@master', [{ op: 'put', path: '/', data: 'x' }]),
          PachCode.INVALID_ARGUMENT,
        );
      });

      it('a commit is a snapshot: later commits do not change it, and inherit its files', async () => {
        const c1 = await pach.modifyFile('r@master', [
          { op: 'put', path: '/a', data: 'a1' },
          { op: 'put', path: '/b', data: 'b1' },
        ]);
        const c2 = await pach.modifyFile('r@master', [
          { op: 'put', path: '/a', data: 'a2' },
          { op: 'delete', path: '/b' },
          { op: 'put', path: '/c', data: 'c2' },
        ]);
        expect(await read(`r@${c1.id}:/a`)).toBe('a1');
        expect(await read(`r@${c1.id}:/b`)).toBe('b1');
        await expectPachError(pach.readFile(`r@${c1.id}:/c`), PachCode.NOT_FOUND);
        expect((await collect(pach.listFile(`r@${c2.id}:/`))).map((f) => f.file.path)).toEqual([
          '/a',
          '/c',
        ]);
        expect((await pach.inspectCommit(c1)).sizeBytes).toBe(4);
        expect((await pach.inspectCommit(c2)).sizeBytes).toBe(4);
      });

      it('keeps every historical commit exact over a long chain (model check)', async () => {
        // Model: path → content, per commit; 40 commits, each changing a few files.
        const models: Map<string, string>[] = [];
        const ids: string[] = [];
        const model = new Map<string, string>();
        for (let i = 0; i < 40; i++) {
          const ops: Parameters<Pachyderm['modifyFile']>[1] = [];
          const p = `/f${i % 7}`;
          const content = `v${i}`;
          if (i % 5 === 4 && model.has(`/f${(i + 3) % 7}`)) {
            ops.push({ op: 'delete', path: `/f${(i + 3) % 7}` });
            model.delete(`/f${(i + 3) % 7}`);
          }
          if (i % 3 === 2 && model.has(p)) {
            ops.push({ op: 'append', path: p, data: content });
            model.set(p, model.get(p)! + content);
          } else {
            ops.push({ op: 'put', path: p, data: content });
            model.set(p, content);
          }
          ids.push((await pach.modifyFile('r@master', ops)).id);
          models.push(new Map(model));
        }
        for (let i = 0; i < 40; i++) {
          const files = await collect(pach.listFile(`r@${ids[i]}:/`));
          const expected = [...models[i].keys()].sort();
          expect(files.map((f) => f.file.path)).toEqual(expected);
          for (const f of files) {
            const want = models[i].get(f.file.path)!;
            expect(f.sizeBytes).toBe(Buffer.byteLength(want));
            expect(f.hash).toBe(sha256(want));
            expect(await read(`r@${ids[i]}:${f.file.path}`)).toBe(want);
          }
          const total = [...models[i].values()].reduce((s, v) => s + Buffer.byteLength(v), 0);
          expect((await pach.inspectCommit({ repo: 'r', id: ids[i] })).sizeBytes).toBe(total);
        }
      });

      it('matches a model over random puts, appends, deletes and copies on two branches', async () => {
        // A seeded generator (LCG), so that a failure is reproducible.
        let seed = 12345;
        const rnd = (n: number) => {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          return (seed >>> 8) % n;
        };
        type Model = Map<string, string>;
        const heads: Record<string, Model> = { master: new Map(), dev: new Map() };
        const commits: { id: string; files: Model }[] = [];
        const filePath = () => `/d${rnd(3)}/f${rnd(4)}`;
        for (let step = 0; step < 120; step++) {
          const branch = rnd(3) === 0 ? 'dev' : 'master';
          const model = new Map(heads[branch]);
          const batches: Parameters<Pachyderm['modifyFile']>[1][] = [];
          const nBatches = rnd(4) === 0 ? 2 : 1;
          for (let b = 0; b < nBatches; b++) {
            const ops: Parameters<Pachyderm['modifyFile']>[1] = [];
            for (let k = 1 + rnd(3); k > 0; k--) {
              const kind = rnd(10);
              if (kind < 4) {
                const p = filePath();
                const data = `s${step}k${k}:${'z'.repeat(rnd(20))}`;
                ops.push({ op: 'put', path: p, data });
                model.set(p, data);
              } else if (kind < 6) {
                const p = filePath();
                const data = `+${step}`;
                ops.push({ op: 'append', path: p, data });
                model.set(p, (model.get(p) ?? '') + data);
              } else if (kind === 6) {
                const p = filePath();
                ops.push({ op: 'delete', path: p });
                model.delete(p);
              } else if (kind === 7) {
                const d = `/d${rnd(3)}`;
                ops.push({ op: 'delete', path: d });
                for (const p of [...model.keys()]) if (p.startsWith(d + '/')) model.delete(p);
              } else if (commits.length > 0) {
                const src = commits[rnd(commits.length)];
                const srcFiles = [...src.files.keys()];
                if (srcFiles.length === 0) continue;
                if (kind === 8) {
                  const from = srcFiles[rnd(srcFiles.length)];
                  const to = filePath();
                  const append = rnd(2) === 0;
                  ops.push({
                    op: 'copy',
                    src: { commit: { repo: 'r', id: src.id }, path: from },
                    dst: to,
                    append,
                  });
                  model.set(to, (append ? (model.get(to) ?? '') : '') + src.files.get(from)!);
                } else {
                  const fromDir = srcFiles[rnd(srcFiles.length)].slice(0, 3);
                  const toDir = `/d${rnd(3)}`;
                  ops.push({
                    op: 'copy',
                    src: { commit: { repo: 'r', id: src.id }, path: fromDir },
                    dst: toDir,
                  });
                  for (const [p, c] of src.files) {
                    if (p.startsWith(fromDir + '/')) model.set(toDir + p.slice(fromDir.length), c);
                  }
                }
              }
            }
            batches.push(ops);
          }
          let id: string;
          if (nBatches === 1) {
            id = (await pach.modifyFile(`r@${branch}`, batches[0])).id;
          } else {
            const c = await pach.startCommit(`r@${branch}`);
            for (const ops of batches) await pach.modifyFile(c, ops);
            await pach.finishCommit(c);
            id = c.id;
          }
          heads[branch] = model;
          commits.push({ id, files: model });
        }
        for (const c of commits) {
          const files = (await collect(pach.globFile({ repo: 'r', id: c.id }, '/**')))
            .filter((f) => f.fileType === FileType.FILE)
            .map((f) => f.file.path);
          expect(files).toEqual([...c.files.keys()].sort());
          for (const [p, content] of c.files) {
            expect({ p, content: await read(`r@${c.id}:${p}`) }).toEqual({ p, content });
          }
        }
      });

      it('handles a commit of many files', async () => {
        const ops = Array.from({ length: 2000 }, (_, i) => ({
          op: 'put' as const,
          path: `/many/${String(i).padStart(5, '0')}.txt`,
          data: `line ${i}\n`,
        }));
        await pach.modifyFile('r@master', ops);
        const listed = await collect(pach.listFile('r@master:/many'));
        expect(listed.length).toBe(2000);
        expect(listed[1234].file.path).toBe('/many/01234.txt');
        expect(await read('r@master:/many/01999.txt')).toBe('line 1999\n');
        const total = ops.reduce((s, o) => s + Buffer.byteLength(o.data), 0);
        expect((await pach.inspectFile('r@master:/many')).sizeBytes).toBe(total);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('ModifyFile commit semantics', () => {
      beforeEach(async () => {
        await pach.createRepo('r');
      });

      it('auto-commits on a missing branch and on a finished head, with the head as parent', async () => {
        const c1 = await put('r@master', '/a', '1');
        const i1 = await pach.inspectCommit(c1, { wait: CommitState.FINISHED });
        expect(i1.finished).not.toBeNull();
        expect(i1.parentCommit).toBeNull();
        expect(i1.origin.kind).toBe(OriginKind.USER);
        const c2 = await put('r@master', '/b', '2');
        const i2 = await pach.inspectCommit(c2, { wait: CommitState.FINISHED });
        expect(c2.id).not.toBe(c1.id);
        expect(i2.parentCommit?.id).toBe(c1.id);
        expect(i2.finished).not.toBeNull();
        expect((await collect(pach.listCommit('r'))).length).toBe(2);
      });

      it('writes into an open head without making a commit', async () => {
        const open = await pach.startCommit('r@master');
        const written = await put('r@master', '/a', 'x');
        expect(written.id).toBe(open.id);
        await put('r@master', '/b', 'y');
        expect((await collect(pach.listCommit('r'))).length).toBe(1);
        await pach.finishCommit('r@master');
        expect(await read('r@master:/a')).toBe('x');
        expect(await read('r@master:/b')).toBe('y');
      });

      it('refuses writing to a finished commit by id', async () => {
        const c = await put('r@master', '/a', 'x');
        await expectPachError(
          pach.modifyFile({ repo: 'r', id: c.id }, [{ op: 'put', path: '/b', data: 'y' }]),
          PachCode.FAILED_PRECONDITION,
          /has already finished/,
        );
      });

      it('applies nothing when one operation fails (atomic)', async () => {
        await put('r@master', '/a', 'original');
        const before = (await collect(pach.listCommit('r'))).length;
        await expectPachError(
          pach.modifyFile('r@master', [
            { op: 'put', path: '/a', data: 'changed' },
            { op: 'copy', src: 'r@master:/does-not-exist', dst: '/z' },
          ]),
          PachCode.NOT_FOUND,
        );
        expect((await collect(pach.listCommit('r'))).length).toBe(before);
        expect(await read('r@master:/a')).toBe('original');
        const open = await pach.startCommit('r@master');
        await expectPachError(
          pach.modifyFile(open, [
            { op: 'put', path: '/b', data: 'b' },
            { op: 'copy', src: 'r@master^:/nope', dst: '/z' },
          ]),
          PachCode.NOT_FOUND,
        );
        await pach.finishCommit(open);
        await expectPachError(pach.readFile('r@master:/b'), PachCode.NOT_FOUND);
      });
    });

    // -----------------------------------------------------------------------------------------
    describe('SubscribeCommit', () => {
      beforeEach(async () => {
        await pach.createRepo('r');
      });

      it('replays existing commits oldest first, then streams new ones, each once', async () => {
        const c1 = await put('r@master', '/a', '1');
        const c2 = await put('r@master', '/a', '2');
        const it = iter(pach.subscribeCommit('r', { state: CommitState.FINISHED }));
        const got: CommitInfo[] = [];
        got.push((await it.next()).value);
        got.push((await it.next()).value);
        expect(got.map((c) => c.commit.id)).toEqual([c1.id, c2.id]);
        const pending = it.next();
        expect(await isPending(pending)).toBe(true);
        const c3 = await put('r@master', '/a', '3');
        const r3 = await pending;
        expect(r3.value.commit.id).toBe(c3.id);
        expect(r3.value.finished).not.toBeNull();
        const c4 = await put('r@dev', '/a', '4');
        expect(((await it.next()).value as CommitInfo).commit.id).toBe(c4.id);
        // each once: the next commit delivered is the next one made (c4 does not come again)
        const c5 = await put('r@master', '/a', '5');
        expect(((await it.next()).value as CommitInfo).commit.id).toBe(c5.id);
        await it.return!();
      });

      it('delivers a commit only once it reaches the requested state, in order', async () => {
        const open = await pach.startCommit('r@master');
        const seenStarted: string[] = [];
        const itStarted = iter(pach.subscribeCommit('r'));
        seenStarted.push(((await itStarted.next()).value as CommitInfo).commit.id);
        expect(seenStarted).toEqual([open.id]);
        const itFinished = iter(pach.subscribeCommit('r', { state: CommitState.FINISHED }));
        const next = itFinished.next();
        expect(await isPending(next)).toBe(true);
        await pach.finishCommit(open);
        const r = await next;
        expect(r.value.commit.id).toBe(open.id);
        expect(r.value.finished).not.toBeNull();
        await itStarted.return!();
        await itFinished.return!();
      });

      it('filters by branch and origin, and skips `from`', async () => {
        const m1 = await put('r@master', '/a', '1');
        await put('r@dev', '/a', 'd');
        const m2 = await put('r@master', '/a', '2');
        const it = iter(pach.subscribeCommit('r', { branch: 'master', from: m1 }));
        expect(((await it.next()).value as CommitInfo).commit.id).toBe(m2.id);
        // a commit on dev then one on master: the next delivered is the master one
        await put('r@dev', '/a', 'd2');
        const m3 = await put('r@master', '/a', '3');
        expect(((await it.next()).value as CommitInfo).commit.id).toBe(m3.id);
        await it.return!();
        // only USER commits here: an AUTO subscription yields none of them, neither the replayed
        // ones nor a new one, while an unfiltered subscription opened after it gets the new one
        const auto = iter(pach.subscribeCommit('r', { originKind: OriginKind.AUTO }));
        const autoNext = auto.next();
        const all = iter(pach.subscribeCommit('r', { branch: 'master' }));
        const m4 = await put('r@master', '/a', '4');
        const delivered: string[] = [];
        while (delivered[delivered.length - 1] !== m4.id) {
          delivered.push(((await all.next()).value as CommitInfo).commit.id);
        }
        expect(delivered).toEqual([m1.id, m2.id, m3.id, m4.id]);
        expect(await isPending(autoNext)).toBe(true);
        await all.return!();
        await auto.return!();
      });

      it('ends on break, on abort and on return()', async () => {
        await put('r@master', '/a', '1');
        let n = 0;
        for await (const _ of pach.subscribeCommit('r')) {
          n++;
          break;
        }
        expect(n).toBe(1);
        const ctl = new AbortController();
        const it = iter(pach.subscribeCommit('r', { signal: ctl.signal }));
        await it.next();
        const waiting = it.next();
        ctl.abort();
        expect((await waiting).done).toBe(true);
        // An iterator blocked in next() is released by return().
        const it2 = iter(pach.subscribeCommit('r'));
        await it2.next();
        const blocked = it2.next();
        await it2.return!();
        expect((await blocked).done).toBe(true);
      });

      it('reports an unknown repo as NOT_FOUND from the stream', async () => {
        const it = iter(pach.subscribeCommit('ghost'));
        await expectPachError(it.next(), PachCode.NOT_FOUND, /ghost not found/);
      });
    });
  });
}
