/**
 * The commit watch across a pachd restart, over real gRPC (the stand-in on 127.0.0.1): after the
 * reconnect it resumes after the last commit it saw (`from`) — every finished `train` commit
 * reaches TRAIN_COMMIT_FINISHED exactly once, including the one made while pachd was down, and
 * none of the history is published again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommitInfo } from '../../src/pachyderm';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { connectPachd } from '../../src/pachyderm/grpc/client';
import { startPachdServer } from '../../src/pachyderm/grpc/server';
import { resolveServiceConfig } from '../../src/services/config';
import { createEventBus } from '../../src/services/pubsub';
import { UpstreamWatch } from '../../src/services/watch';

jest.setTimeout(60_000);

const until = async (cond: () => boolean, what: string, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('after pachd restarts, each finished commit is published once: the watch resumes after the last one seen', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-resume-'));
  const engine = await EmbeddedPachyderm.open(dir);
  let server = await startPachdServer(engine, { port: 0 });
  const port = server.port;
  const client = connectPachd(`grpc://127.0.0.1:${port}`);
  const events = createEventBus();
  const watch = new UpstreamWatch(client, resolveServiceConfig(), events, () => undefined, 100);
  const seen: string[] = [];
  const listening = (async () => {
    for await (const ci of events.subscribe('TRAIN_COMMIT_FINISHED'))
      seen.push((ci as CommitInfo).commit.id);
  })();
  try {
    await engine.createRepo('train');
    const put = async (v: string) =>
      (await engine.modifyFile('train@master', [{ op: 'put', path: '/m', data: v }])).id;
    const before = [await put('1'), await put('2')];
    watch.start();
    await until(() => seen.length === 2, 'the replay of the two commits');
    expect(seen).toEqual(before);

    await server.close(0); // pachd goes away …
    const meanwhile = await put('3'); // … a commit finishes meanwhile …
    server = await startPachdServer(engine, { port }); // … and pachd is back
    await until(() => seen.includes(meanwhile), 'the commit made while pachd was down');
    const after = await put('4');
    await until(() => seen.includes(after), 'a commit after the reconnect');
    // the positive signal above came after any replay would have: nothing was published twice
    expect(seen).toEqual([...before, meanwhile, after]);
  } finally {
    await watch.close();
    void listening;
    await client.close();
    await server.close(0);
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
