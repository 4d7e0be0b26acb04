/**
 * The embedded adapter: the shared PFS contract over a fresh temporary data directory, plus what
 * only the embedded engine can show (its store directory, its internal API for the PPS half,
 * reopening the same directory).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitState, OriginKind, PachCode } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { collect, describePfsContract, expectPachError } from './contract/pfs.contract';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pfs-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describePfsContract('embedded', async () => {
  const pach = await EmbeddedPachyderm.open(tempDir());
  return { pach, close: () => pach.close() };
});

/** Every pack file of a store, with its size. */
function packs(dataDir: string): { name: string; size: number }[] {
  const root = path.join(dataDir, 'objects');
  const out: { name: string; size: number }[] = [];
  for (const shard of fs.readdirSync(root)) {
    if (shard === 'tmp') continue;
    for (const f of fs.readdirSync(path.join(root, shard))) {
      out.push({ name: f, size: fs.statSync(path.join(root, shard, f)).size });
    }
  }
  return out;
}

describe('embedded engine specifics', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  beforeEach(async () => {
    dir = tempDir();
    pach = await EmbeddedPachyderm.open(dir);
    await pach.createRepo('r');
  });
  afterEach(async () => {
    await pach.close();
  });

  it('lays out meta.sqlite and content-addressed packs named by their SHA-256', async () => {
    await pach.modifyFile('r@master', [{ op: 'put', path: '/a', data: 'alpha' }]);
    expect(fs.existsSync(path.join(dir, 'meta.sqlite'))).toBe(true);
    const ps = packs(dir);
    expect(ps.length).toBe(1);
    const file = path.join(dir, 'objects', ps[0].name.slice(0, 2), ps[0].name);
    const bytes = fs.readFileSync(file);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(ps[0].name);
    expect(bytes.toString()).toBe('alpha');
    expect(fs.readdirSync(path.join(dir, 'objects', 'tmp'))).toEqual([]);
  });

  it('stores identical content once', async () => {
    const content = 'x'.repeat(10_000);
    await pach.modifyFile('r@master', [
      { op: 'put', path: '/a', data: content },
      { op: 'put', path: '/b', data: content },
    ]);
    const after1 = packs(dir);
    expect(after1.reduce((s, p) => s + p.size, 0)).toBe(10_000);
    await pach.createRepo('other');
    await pach.modifyFile('other@master', [{ op: 'put', path: '/c', data: content }]);
    await pach.modifyFile('r@master', [{ op: 'put', path: '/d', data: content }]);
    expect(packs(dir)).toEqual(after1);
    // Only new content is written: one new pack of exactly its bytes.
    await pach.modifyFile('r@master', [
      { op: 'put', path: '/e', data: content },
      { op: 'put', path: '/f', data: 'new!' },
    ]);
    const after2 = packs(dir);
    expect(after2.length).toBe(2);
    expect(after2.reduce((s, p) => s + p.size, 0)).toBe(10_004);
    expect((await pach.readFile('other@master:/c')).toString()).toBe(content);
  });

  it('removes on reopen the pack of a modification that failed', async () => {
    await pach.modifyFile('r@master', [{ op: 'put', path: '/kept', data: 'kept content' }]);
    const before = packs(dir);
    await expectPachError(
      pach.modifyFile('r@master', [
        { op: 'put', path: '/lost', data: 'never committed' },
        { op: 'copy', src: 'r@master:/missing', dst: '/x' },
      ]),
      PachCode.NOT_FOUND,
    );
    expect(packs(dir).length).toBe(before.length + 1);
    await pach.close();
    pach = await EmbeddedPachyderm.open(dir);
    expect(packs(dir)).toEqual(before);
    expect((await pach.readFile('r@master:/kept')).toString()).toBe('kept content');
  });

  it('keeps everything across close and reopen', async () => {
    const c = await pach.modifyFile('r@master', [{ op: 'put', path: '/a', data: 'persisted' }]);
    const open = await pach.startCommit('r@master');
    await pach.close();
    pach = await EmbeddedPachyderm.open(dir);
    expect((await pach.readFile(`r@${c.id}:/a`)).toString()).toBe('persisted');
    const info = await pach.inspectCommit(open);
    expect(info.finished).toBeNull();
    await pach.finishCommit(open);
    expect((await pach.inspectCommit('r@master')).commit.id).toBe(open.id);
  });

  it('ends subscriptions and fails calls once closed', async () => {
    await pach.modifyFile('r@master', [{ op: 'put', path: '/a', data: '1' }]);
    const it = pach.subscribeCommit('r')[Symbol.asyncIterator]();
    await it.next();
    const blocked = it.next();
    const other = await EmbeddedPachyderm.open(tempDir());
    await pach.close();
    expect((await blocked).done).toBe(true);
    await expectPachError(pach.inspectRepo('r'), PachCode.UNAVAILABLE, /closed/);
    pach = other;
  });

  it('PPS methods are UNIMPLEMENTED without a PPS half', async () => {
    await expectPachError(pach.inspectPipeline('train'), PachCode.UNIMPLEMENTED);
    await expectPachError(collect(pach.listJob()), PachCode.UNIMPLEMENTED);
  });

  describe('internal API for the PPS half', () => {
    beforeEach(async () => {
      await pach.createRepo('train');
      await pach.createBranch('train@master', { provenance: ['r@master'] });
    });

    it('makes AUTO output commits with a given id and provenance; READY waits for inputs', async () => {
      const input = await pach.startCommit('r@master');
      const finished: string[] = [];
      const off = pach.onCommitFinished((ev) => finished.push(`${ev.repo.name}@${ev.id}`));
      const out = await pach.startOutputCommit('train@master', {
        id: input.id,
        provenance: [input],
      });
      expect(out.id).toBe(input.id);
      const info = await pach.inspectCommit(out);
      expect(info.origin.kind).toBe(OriginKind.AUTO);
      expect(info.directProvenance.map((c) => `${c.repo.name}@${c.id}`)).toEqual([`r@${input.id}`]);
      expect((await pach.inspectCommit(input)).directSubvenance.map((c) => c.repo.name)).toEqual([
        'train',
      ]);
      let ready = false;
      const readyP = pach.inspectCommit(out, { wait: CommitState.READY }).then((i) => {
        ready = true;
        return i;
      });
      // a write into the open input wakes the waiter (a positive signal that it had its chance
      // to look again); once the event loop has run what that woke, it still waits
      await pach.modifyFile('r@master', [{ op: 'put', path: '/ratings', data: '1 2 3' }]);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(ready).toBe(false);
      await pach.finishCommit(input);
      expect((await readyP).finished).toBeNull();
      // The commit set holds both commits, upstream first.
      const set = await collect(pach.inspectCommitSet(input.id));
      expect(set.map((c) => c.commit.repo.name)).toEqual(['r', 'train']);
      // Users cannot write into it; the runner can.
      await expectPachError(
        pach.modifyFile(out, [{ op: 'put', path: '/x', data: 'y' }]),
        PachCode.FAILED_PRECONDITION,
      );
      await pach.modifyFileInternal(out, [
        { op: 'put', path: '/model', data: 'm', datum: 'd1' },
        { op: 'put', path: '/metrics.json', data: '{}', datum: 'd2' },
      ]);
      const done = await pach.finishCommitInternal(out, { validateDatums: true });
      expect(done.error).toBe('');
      expect(finished).toEqual([`r@${input.id}`, `train@${input.id}`]);
      off();
      expect((await pach.commitFiles(out)).map((f) => [f.path, f.datum])).toEqual([
        ['/metrics.json', 'd2'],
        ['/model', 'd1'],
      ]);
    });

    it('deletes a datum’s outputs, streams from local files, flags duplicate paths', async () => {
      const input = await pach.modifyFile('r@master', [{ op: 'put', path: '/a', data: '1' }]);
      const o1 = await pach.startOutputCommit('train@master', {
        id: input.id,
        provenance: [input],
      });
      const local = path.join(tempDir(), 'out.bin');
      fs.writeFileSync(local, Buffer.alloc(5000, 7));
      await pach.modifyFileInternal(o1, [
        { op: 'put', path: '/from-disk', fromPath: local, datum: 'd1' },
        { op: 'put', path: '/d2-file', data: 'two', datum: 'd2' },
      ]);
      await pach.finishCommitInternal(o1, { validateDatums: true });
      const input2 = await pach.modifyFile('r@master', [{ op: 'put', path: '/b', data: '2' }]);
      const o2 = await pach.startOutputCommit('train@master', {
        id: input2.id,
        provenance: [input2],
      });
      expect((await pach.inspectCommit(o2)).parentCommit?.id).toBe(o1.id);
      await pach.modifyFileInternal(o2, [
        { op: 'deleteDatum', datum: 'd2' },
        { op: 'put', path: '/from-disk', data: 'clash', datum: 'd3' },
      ]);
      const bad = await pach.finishCommitInternal(o2, { validateDatums: true });
      expect(bad.error).toBe('duplicate path output by different datums: /from-disk');
      expect((await pach.commitFiles(o2)).map((f) => [f.path, f.datum, f.size])).toEqual([
        ['/from-disk', 'd1', 5000],
        ['/from-disk', 'd3', 5],
      ]);
      // o1 is unchanged.
      expect((await pach.readFile(`train@${o1.id}:/from-disk`)).equals(Buffer.alloc(5000, 7))).toBe(
        true,
      );
      expect((await pach.readFile(`train@${o1.id}:/d2-file`)).toString()).toBe('two');
    });

    it('refuses a second output commit while the head is open, and duplicate ids', async () => {
      const input = await pach.modifyFile('r@master', [{ op: 'put', path: '/a', data: '1' }]);
      await pach.startOutputCommit('train@master', { id: input.id, provenance: [input] });
      await expectPachError(
        pach.startOutputCommit('train@master', { provenance: [input] }),
        PachCode.FAILED_PRECONDITION,
        /has not been finished/,
      );
      await pach.finishCommitInternal(`train@${input.id}`);
      await expectPachError(
        pach.startOutputCommit('train@master', { id: input.id }),
        PachCode.ALREADY_EXISTS,
      );
    });
  });
});
