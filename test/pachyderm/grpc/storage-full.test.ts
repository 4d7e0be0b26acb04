/**
 * A full data store over gRPC (issue 11): the pachd stand-in on 127.0.0.1 (port 0) whose engine
 * is below its free-space floor answers RESOURCE_EXHAUSTED with its StorageFullError's fields in a
 * trailer, and reelgraph's gRPC client turns it back into the same StorageFullError (message,
 * data directory, free bytes, floor), so that the API in cluster mode answers 507 /
 * INSUFFICIENT_STORAGE as in embedded mode (REST and GraphQL over real HTTP). A real pachd's
 * storage-full texts (it passes its stores' errors on as UNKNOWN) map to StorageFullError too;
 * other errors keep their codes.
 */
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import { PachCode, PachError } from '../../../src/pachyderm/errors';
import { fromGrpcError } from '../../../src/pachyderm/grpc/status';
import { StorageFullError } from '../../../src/pachyderm/storage-error';
import { buildSchema } from '../../../src/resolvers/schema';
import { createServer } from '../../../src/server/app';
import { loadConfig } from '../../../src/server/config';
import { createLogger } from '../../../src/server/logging';
import { createServices } from '../../../src/services';
import { postGraphQL } from '../../server/clients';
import { grpcStack, removeTempDirs, tempDir } from './harness';

jest.setTimeout(60_000);
afterAll(removeTempDirs);

/** `m` with its free space, which moves between two calls, left out. */
const norm = (m: string) => m.replace(/ has .* free/, ' has N free');

/** The error `p` rejects with. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

test('answers a write below the stand-in’s free-space floor with the same StorageFullError at the client, and the API in cluster mode with 507 / INSUFFICIENT_STORAGE', async () => {
  const stack = await grpcStack({ engine: { minFreeBytes: 0 } });
  try {
    await stack.client.createRepo('training');
    await stack.client.createRepo('streaming');
    const floor = Number.MAX_SAFE_INTEGER;
    stack.engine.storage.minFreeBytes = floor;

    // the engine's own error, in-process
    const local = await rejection(
      stack.engine.modifyFile('training@master', [{ op: 'put', path: '/a', data: '1 2 3\n' }]),
    );
    expect(local).toBeInstanceOf(StorageFullError);
    // the same over the socket
    const remote = await rejection(
      stack.client.modifyFile('training@master', [{ op: 'put', path: '/a', data: '1 2 3\n' }]),
    );
    expect(remote).toBeInstanceOf(StorageFullError);
    const l = local as StorageFullError;
    const r = remote as StorageFullError;
    expect(r.code).toBe(PachCode.RESOURCE_EXHAUSTED);
    expect(r.dataDir).toBe(stack.engine.dataDir);
    expect(r.minFreeBytes).toBe(floor);
    expect(r.belowFloor).toBe(true);
    expect(typeof r.free).toBe('number');
    // the free space moves between the two calls only by what other processes write meanwhile
    expect(norm(r.message)).toBe(norm(l.message));
    expect(r.message).toMatch(
      new RegExp(
        `^insufficient storage: the data directory ${stack.engine.dataDir} has .* free, below the floor of 8192 TiB \\(REELGRAPH_MIN_FREE_BYTES\\)`,
      ),
    );
    const startCommit = await rejection(stack.client.startCommit('streaming@master'));
    expect(startCommit).toBeInstanceOf(StorageFullError);

    // the API on the gRPC client: cluster mode
    const services = await createServices(stack.client, {
      dataset: { datasetsDir: tempDir(), download: false },
    });
    const server = await createServer({
      schema: await buildSchema(),
      services,
      config: loadConfig({ PORT: '0' }),
      logger: createLogger('silent'),
    });
    try {
      const train = await fetch(`${server.url}/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: ['1 2 3'] }),
      });
      expect(train.status).toBe(507);
      expect(norm(((await train.json()) as { error: string }).error)).toBe(norm(r.message));
      const add = await postGraphQL(
        server.graphqlUrl,
        'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id } }',
        { variables: { r: [{ userId: '1', movieId: '2', rating: 3 }] } },
      );
      expect(add.status).toBe(507);
      expect(add.body.errors?.[0].extensions).toMatchObject({
        code: 'INSUFFICIENT_STORAGE',
        dataDir: stack.engine.dataDir,
      });
      expect(add.body.errors?.[0].message).toMatch(/^insufficient storage: the data directory /);
    } finally {
      await server.close();
      await services.close();
    }
    // nothing was committed
    let commits = 0;
    for await (const c of stack.client.listCommit('training')) if (c) commits++;
    expect(commits).toBe(0);
  } finally {
    await stack.close();
  }
});

test.each([
  ['the chunk cache (Go ENOSPC)', 'write /pach/cache/chunk-1234: no space left on device'],
  ['a volume quota (Go EDQUOT)', 'open /pach/storage/x: disk quota exceeded'],
  [
    'PostgreSQL (disk_full)',
    'ERROR: could not extend file "base/16384/2619": No space left on device (SQLSTATE 53100)',
  ],
  [
    'MinIO (XMinioStorageFull)',
    'XMinioStorageFull: Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.',
  ],
])(
  'maps a real pachd’s storage-full message from %s to StorageFullError naming the pachd',
  (_what, details) => {
    const e = fromGrpcError(
      Object.assign(new Error(`2 UNKNOWN: ${details}`), {
        code: grpc.status.UNKNOWN,
        details,
        metadata: new grpc.Metadata(),
      }),
      'pachd.example:30650',
    );
    expect(e).toBeInstanceOf(StorageFullError);
    expect(e.code).toBe(PachCode.RESOURCE_EXHAUSTED);
    expect((e as StorageFullError).dataDir).toBe('pachd at pachd.example:30650');
    expect(e.message).toBe(
      `insufficient storage: pachd at pachd.example:30650 refused a write because its storage is full: ${details}`,
    );
  },
);

test('keeps other errors as they are: a RESOURCE_EXHAUSTED without the trailer, and a forged trailer on another code', () => {
  const quota = fromGrpcError({
    code: grpc.status.RESOURCE_EXHAUSTED,
    details: 'received message larger than max (5000000 vs. 4194304)',
    metadata: new grpc.Metadata(),
  });
  expect(quota).not.toBeInstanceOf(StorageFullError);
  expect(quota).toBeInstanceOf(PachError);
  expect(quota.code).toBe(PachCode.RESOURCE_EXHAUSTED);
  const md = new grpc.Metadata();
  md.set('reelgraph-storage-full', JSON.stringify({ dataDir: '/x', free: 0 }));
  const other = fromGrpcError({
    code: grpc.status.NOT_FOUND,
    details: 'repo x not found',
    metadata: md,
  });
  expect(other).not.toBeInstanceOf(StorageFullError);
  expect(other.code).toBe(PachCode.NOT_FOUND);
});
