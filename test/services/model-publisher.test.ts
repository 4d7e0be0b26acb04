/**
 * The `models` repo publisher on a real embedded engine (no pipelines: `train` is a plain repo
 * here whose commits hold model files, which the publisher copies byte for byte):
 * idempotent publishing (no commit when the head already serves the version), only forward for
 * automatic publishing, pins (kept by automatic publishing, lifted by an unpinned publish), and
 * refusals that commit nothing; a publish refused by a full data store is done once space returns.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { PachCode } from '../../src/pachyderm/errors';
import { NotFoundError } from '../../src/services/errors';
import { ModelPublisher, followTrainCommits } from '../../src/services/model-publisher';
import { createEventBus } from '../../src/services/pubsub';
import { openEmbeddedEngine } from '../../src/services/bootstrap';

let dir: string;
let pach: EmbeddedPachyderm;
const versions: string[] = [];

async function commits(repo: string): Promise<number> {
  let n = 0;
  for await (const c of pach.listCommit(repo)) {
    void c;
    n++;
  }
  return n;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-publisher-'));
  pach = await openEmbeddedEngine(dir);
  await pach.createRepo('train');
  await pach.createRepo('models');
  for (let k = 0; k < 3; k++) {
    const c = await pach.modifyFile('train@master', [
      { op: 'put', path: '/model.rgm', data: `model bytes ${k}` },
    ]);
    versions.push(c.id);
  }
  // a train commit without a model (e.g. the output of a job that wrote nothing)
  const empty = await pach.modifyFile('train@master', [
    { op: 'delete', path: '/model.rgm' },
    { op: 'put', path: '/other', data: 'x' },
  ]);
  versions.push(empty.id);
});

afterAll(async () => {
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const head = async () => ({
  serving: JSON.parse(
    (await pach.readFile({ commit: 'models@master', path: '/serving.json' })).toString(),
  ),
  model: (await pach.readFile({ commit: 'models@master', path: '/model.rgm' })).toString(),
});

test('publishes once per version; automatic publishing only moves forward', async () => {
  const p = new ModelPublisher(pach);
  expect(await p.record()).toBeNull();
  expect(await p.publish(versions[1], { onlyIfNewer: true })).toBe(true);
  expect(await head()).toEqual({
    serving: { version: versions[1], pinned: false, reason: null },
    model: 'model bytes 1',
  });
  const n = await commits('models');
  // the same version again (another replica, a restart): no commit
  expect(await new ModelPublisher(pach).publish(versions[1], { onlyIfNewer: true })).toBe(false);
  // an older train commit does not replace a newer one
  expect(await p.publish(versions[0], { onlyIfNewer: true })).toBe(false);
  expect(await commits('models')).toBe(n);
  // the start-up catch-up publishes the newest train commit WITH a model
  expect(await p.catchUp()).toBe(versions[2]);
  expect((await head()).model).toBe('model bytes 2');
  expect(await commits('models')).toBe(n + 1);
});

test('a pin holds against automatic publishing; an unpinned publish lifts it', async () => {
  const p = new ModelPublisher(pach);
  expect(await p.publish(versions[0], { pin: true, description: 'rollback by ops' })).toBe(true);
  expect((await head()).serving).toEqual({
    version: versions[0],
    pinned: true,
    reason: 'rollback by ops',
  });
  expect((await pach.inspectCommit('models@master')).description).toBe(
    `reelgraph: serve model train@${versions[0]}: rollback by ops`,
  );
  expect(await p.publish(versions[2], { onlyIfNewer: true })).toBe(false);
  expect(await p.catchUp()).toBe(versions[0]);
  expect(await p.publish(versions[2])).toBe(true);
  expect((await head()).serving).toEqual({ version: versions[2], pinned: false, reason: null });
});

test('a bad version or a commit without a model is refused and commits nothing', async () => {
  const p = new ModelPublisher(pach);
  const n = await commits('models');
  await expect(p.publish('../train')).rejects.toBeInstanceOf(NotFoundError);
  await expect(p.publish(versions[3])).rejects.toMatchObject({ code: PachCode.NOT_FOUND });
  await expect(p.publish('0'.repeat(32))).rejects.toMatchObject({ code: PachCode.NOT_FOUND });
  expect(await commits('models')).toBe(n);
  expect((await head()).serving.version).toBe(versions[2]);
});

test('a model whose publish meets a full data store is published once space returns, without a restart', async () => {
  const c = await pach.modifyFile('train@master', [
    { op: 'put', path: '/model.rgm', data: 'model bytes after a full disk' },
  ]);
  const ci = await pach.inspectCommit(c);
  const floor = pach.storage.minFreeBytes;
  const bus = createEventBus();
  const lines: string[] = [];
  pach.storage.minFreeBytes = Number.MAX_SAFE_INTEGER;
  const stop = followTrainCommits(bus, new ModelPublisher(pach), (l) => lines.push(l));
  try {
    // the event again until the follower says it waits (its listener attaches asynchronously)
    for (let i = 0; !lines.some((l) => /trying again in \d+ ms$/.test(l)); i++) {
      if (i > 1500) throw new Error(`the follower never waited; it logged ${lines.join(' | ')}`);
      bus.publish('TRAIN_COMMIT_FINISHED', ci);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(lines[0]).toMatch(
      new RegExp(
        `^cannot publish the model of train@${c.id}: insufficient storage: the data directory .* below the floor .*; trying again in 250 ms$`,
      ),
    );
    expect((await head()).serving.version).toBe(versions[2]);
    pach.storage.minFreeBytes = floor;
    for (let i = 0; (await head()).serving.version !== c.id; i++) {
      if (i > 3000) throw new Error(`not published after space returned: ${lines.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await head()).model).toBe('model bytes after a full disk');
  } finally {
    pach.storage.minFreeBytes = floor;
    stop();
  }
});
