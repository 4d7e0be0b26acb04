/**
 * Answered requests ride along in the next request commit (streaming.ts `StreamingWriter.retire`):
 * under a flow of requests no retire-only commit is made, so no retire job sits between two
 * requests' predict jobs (on a pachd each job of a pipeline waits for the one before it, its
 * finishing window included). With no request coming, they are retired alone after `carryMs`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { PachCode } from '../../src/pachyderm';
import {
  REQUEST_DESCRIPTION,
  REQUEST_RETIRE_DESCRIPTION,
  RETIRE_DESCRIPTION,
  StreamingWriter,
} from '../../src/services/streaming';
import { collect, expectPachError } from '../pachyderm/contract/pfs.contract';

let dir: string;
let pach: EmbeddedPachyderm;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-retire-carry-'));
  pach = await EmbeddedPachyderm.open(dir, { finishingWindowMs: 20 });
  await pach.createRepo('streaming');
});
afterEach(async () => {
  await pach.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const request = (w: StreamingWriter, name: string) =>
  w.commit(
    REQUEST_DESCRIPTION,
    async (c) => {
      await pach.modifyFile(c, [{ op: 'put', path: `/${name}`, data: '1 2\n' }]);
    },
    { carry: true },
  );

describe('retiring answered requests', () => {
  it('deletes them in the next request commit, making no commit of their own', async () => {
    // a long carry: only a request commit can take them within the test
    const w = new StreamingWriter(pach, 'streaming', 60_000);
    const a = await request(w, 'a');
    await request(w, 'b');
    let retired = false;
    const done = w.retire(['a', 'b']).then(() => (retired = true));
    const c = await request(w, 'c');
    await done;
    expect(retired).toBe(true);
    const info = await pach.inspectCommit({ repo: 'streaming', id: c.id });
    expect(info.description).toBe(REQUEST_RETIRE_DESCRIPTION);
    expect((await pach.readFile(`streaming@${c.id}:/c`)).toString()).toBe('1 2\n');
    await expectPachError(pach.readFile(`streaming@${c.id}:/a`), PachCode.NOT_FOUND);
    await expectPachError(pach.readFile(`streaming@${c.id}:/b`), PachCode.NOT_FOUND);
    // the history keeps them, and three requests made three commits
    expect((await pach.readFile(`streaming@${a.id}:/a`)).toString()).toBe('1 2\n');
    const commits = await collect(pach.listCommit('streaming'));
    expect(commits.map((ci) => ci.description)).toEqual([
      REQUEST_RETIRE_DESCRIPTION,
      REQUEST_DESCRIPTION,
      REQUEST_DESCRIPTION,
    ]);
    w.close();
  });

  it('retires them in a commit of their own when no request comes within carryMs', async () => {
    const w = new StreamingWriter(pach, 'streaming', 30);
    await request(w, 'a');
    await request(w, 'b');
    await w.retire(['a']);
    const head = await pach.inspectCommit('streaming@master');
    expect(head.description).toBe(RETIRE_DESCRIPTION);
    await expectPachError(pach.readFile(`streaming@${head.commit.id}:/a`), PachCode.NOT_FOUND);
    expect((await pach.readFile(`streaming@${head.commit.id}:/b`)).toString()).toBe('1 2\n');
    w.close();
  });

  it('keeps them for the next commit when the request write fails, and the request fails alone', async () => {
    const w = new StreamingWriter(pach, 'streaming', 60_000);
    await request(w, 'a');
    const done = w.retire(['a']);
    await expect(
      w.commit(
        REQUEST_DESCRIPTION,
        async () => {
          throw new Error('disk full');
        },
        { carry: true },
      ),
    ).rejects.toThrow('disk full');
    // the failed request's commit holds nothing of it, and /a is still there
    expect((await pach.readFile('streaming@master:/a')).toString()).toBe('1 2\n');
    const next = await request(w, 'b');
    await done;
    await expectPachError(pach.readFile(`streaming@${next.id}:/a`), PachCode.NOT_FOUND);
    w.close();
  });
});
