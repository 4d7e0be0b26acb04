/**
 * The pachd stand-in on the wire: authentication by `authn-token`, GetVersion and Health/Check,
 * ModifyFile's stream rules, and shutdown. Raw calls use grpc-js with the .proto subset, as any
 * pachd client would.
 */
import * as grpc from '@grpc/grpc-js';
import { PachCode } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { connectPachd } from '../../../src/pachyderm/grpc/client';
import { commitToWire } from '../../../src/pachyderm/grpc/codec';
import { CHANNEL_OPTIONS, loadProtos } from '../../../src/pachyderm/grpc/protos';
import { startPachdServer, type PachdServer } from '../../../src/pachyderm/grpc/server';
import { expectPachError } from '../contract/pfs.contract';
import { grpcStack, removeTempDirs, tempDir } from './harness';

afterAll(removeTempDirs);

type Raw = grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const repo = { name: 'r', type: 'user', project: { name: 'default' } };
const head = commitToWire({
  repo: { ...repo, type: 'user' },
  id: '',
  branch: { repo: { ...repo, type: 'user' }, name: 'master' },
});

function raw(server: PachdServer, service: 'pfs' | 'pps' | 'version' | 'health'): Raw {
  const Ctor = loadProtos()[service];
  return new Ctor(
    `127.0.0.1:${server.port}`,
    grpc.credentials.createInsecure(),
    CHANNEL_OPTIONS,
  ) as Raw;
}

function md(token?: string): grpc.Metadata {
  const m = new grpc.Metadata();
  if (token !== undefined) m.set('authn-token', token);
  return m;
}

function unary(
  client: Raw,
  method: string,
  req: object,
  meta = md(),
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    client[method](req, meta, (e: grpc.ServiceError | null, r: Record<string, unknown>) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

function modifyFile(client: Raw, msgs: object[], meta = md()): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.ModifyFile(meta, (e: grpc.ServiceError | null) =>
      e ? reject(e) : resolve(),
    ) as grpc.ClientWritableStream<object>;
    for (const m of msgs) call.write(m);
    call.end();
  });
}

async function code(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    const se = e as grpc.ServiceError;
    return [grpc.status[se.code], se.details];
  }
  return ['OK', ''];
}

describe('authentication (authn-token)', () => {
  let engine: EmbeddedPachyderm;
  let server: PachdServer;
  beforeAll(async () => {
    engine = await EmbeddedPachyderm.open(tempDir());
    server = await startPachdServer(engine, { port: 0, token: 's3cret' });
  });
  afterAll(async () => {
    await server.close();
    await engine.close();
  });

  it('refuses unary, server-stream and client-stream calls without the token', async () => {
    const pfs = raw(server, 'pfs');
    expect(await code(unary(pfs, 'CreateRepo', { repo }))).toEqual([
      'UNAUTHENTICATED',
      'no authentication token (try logging in)',
    ]);
    const list = pfs.ListRepo({ type: '' }, md()) as grpc.ClientReadableStream<unknown>;
    const err = await new Promise<grpc.ServiceError>((resolve) => list.on('error', resolve));
    expect(grpc.status[err.code]).toBe('UNAUTHENTICATED');
    expect(await code(modifyFile(pfs, [{ set_commit: head }]))).toEqual([
      'UNAUTHENTICATED',
      'no authentication token (try logging in)',
    ]);
    expect((await code(unary(pfs, 'CreateRepo', { repo }, md('wrong'))))[0]).toBe(
      'UNAUTHENTICATED',
    );
    pfs.close();
  });

  it('the port client reports UNAUTHENTICATED, and works with the token', async () => {
    const anon = connectPachd(`127.0.0.1:${server.port}`);
    await expectPachError(
      anon.createRepo('r'),
      PachCode.UNAUTHENTICATED,
      new RegExp(
        `^pachd at grpc://127\\.0\\.0\\.1:${server.port} refused the call: no authentication token.*REELGRAPH_PACHD_TOKEN`,
      ),
    );
    await anon.close();
    // a pachd that is not there: named, without grpc-js's empty "Resolution note"
    const nowhere = connectPachd('127.0.0.1:1');
    const repos = nowhere.listRepo()[Symbol.asyncIterator]();
    const err = await repos.next().catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^pachd at grpc:\/\/127\.0\.0\.1:1 is not reachable: /);
    expect((err as Error).message).not.toMatch(/Resolution note/);
    await nowhere.close();
    const client = connectPachd(`grpc://127.0.0.1:${server.port}`, { token: 's3cret' });
    await client.createRepo('r');
    await client.modifyFile('r@master', [{ op: 'put', path: '/a', data: 'ok' }]);
    expect((await client.readFile('r@master:/a')).toString()).toBe('ok');
    await client.close();
    await expectPachError(client.inspectRepo('r'), PachCode.UNAVAILABLE, /closed/);
  });

  it('Health/Check needs no token; GetVersion does', async () => {
    const health = raw(server, 'health');
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    const version = raw(server, 'version');
    expect((await code(unary(version, 'GetVersion', {})))[0]).toBe('UNAUTHENTICATED');
    const v = await unary(version, 'GetVersion', {}, md('s3cret'));
    expect([v.major, v.minor]).toEqual([2, 12]);
    expect(v.additional).toMatch(/^-reelgraph\./);
    health.close();
    version.close();
  });
});

describe('wire behaviour', () => {
  it('ModifyFile: first message must be set_commit; Go-client put = delete + chunks; applied at the end', async () => {
    const stack = await grpcStack();
    try {
      await stack.client.createRepo('r');
      const pfs = raw(stack.server, 'pfs');
      expect(
        await code(
          modifyFile(pfs, [{ add_file: { path: '/a', raw: { value: Buffer.from('x') } } }]),
        ),
      ).toEqual(['INVALID_ARGUMENT', 'first message must be a commit (set_commit)']);
      expect(
        (await code(modifyFile(pfs, [{ set_commit: head }, { set_commit: head }])))[1],
      ).toMatch(/cannot set commit/);
      expect(await stack.engine.listCommit('r')[Symbol.asyncIterator]().next()).toEqual({
        done: true,
        value: undefined,
      });
      await modifyFile(pfs, [
        { set_commit: head },
        { add_file: { path: '/a', raw: { value: Buffer.from('old') } } },
      ]);
      await modifyFile(pfs, [
        { set_commit: head },
        { delete_file: { path: '/a' } },
        { add_file: { path: '/a', raw: { value: Buffer.from('new-') } } },
        { add_file: { path: '/a', raw: { value: Buffer.from('content') } } },
        { add_file: { path: '/empty' } },
      ]);
      expect((await stack.engine.readFile('r@master:/a')).toString()).toBe('new-content');
      expect((await stack.engine.readFile('r@master:/empty')).length).toBe(0);
      // two auto-commits, the second a child of the first
      const commits = [];
      for await (const c of stack.engine.listCommit('r')) commits.push(c);
      expect(commits.length).toBe(2);
      expect(commits[0].parentCommit?.id).toBe(commits[1].commit.id);
      pfs.close();
    } finally {
      await stack.close();
    }
  });

  it('errors carry the code and pachd’s message', async () => {
    const stack = await grpcStack();
    try {
      const pfs = raw(stack.server, 'pfs');
      expect(
        await code(
          unary(pfs, 'InspectRepo', {
            repo: { name: 'ghost', type: 'user', project: { name: 'default' } },
          }),
        ),
      ).toEqual(['NOT_FOUND', 'repo default/ghost not found']);
      await unary(pfs, 'CreateRepo', { repo });
      expect(await code(unary(pfs, 'CreateRepo', { repo }))).toEqual([
        'ALREADY_EXISTS',
        'repo default/r already exists',
      ]);
      pfs.close();
    } finally {
      await stack.close();
    }
  });

  it('closing the server ends open subscriptions and waits', async () => {
    const stack = await grpcStack();
    await stack.client.createRepo('r');
    const it = stack.client.subscribeCommit('r')[Symbol.asyncIterator]();
    const pending = it.next();
    const c = await stack.client.startCommit('r@master');
    expect((await pending).value.commit.id).toBe(c.id);
    const blocked = it.next();
    // close once the wait is in flight at the stand-in: its engine was asked
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    const inspect = stack.engine.inspectCommit.bind(stack.engine);
    stack.engine.inspectCommit = (...a: Parameters<typeof inspect>) => {
      if (a[1]?.wait) arrived();
      return inspect(...a);
    };
    const wait = stack.client.inspectCommit(c, { wait: 4 }).then(
      () => 'resolved',
      (e: { code: number }) => PachCode[e.code],
    );
    await inFlight;
    await stack.server.close(1000);
    const ended = await blocked.then(
      (r) => (r.done ? 'done' : 'value'),
      (e: { code: number }) => PachCode[e.code],
    );
    expect(['done', 'CANCELLED', 'UNAVAILABLE']).toContain(ended);
    // the stand-in cancels the waits in flight (CANCELLED); on a loaded machine the connection
    // may already be gone when the cancellation would arrive (UNAVAILABLE): never an endless wait
    expect(['CANCELLED', 'UNAVAILABLE']).toContain(await wait);
    await stack.client.close();
    await stack.engine.close();
  });
});
