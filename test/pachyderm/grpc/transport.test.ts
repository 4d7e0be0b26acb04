/**
 * Transports of the gRPC adapter: TLS (`grpcs://` with an extra root certificate, as
 * REELGRAPH_PACHD_CA gives) and Unix sockets (`unix:///path`), against the pachd stand-in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PachCode } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { connectPachd } from '../../../src/pachyderm/grpc/client';
import { startPachdServer } from '../../../src/pachyderm/grpc/server';
import { collect, expectPachError } from '../contract/pfs.contract';
import { removeTempDirs, tempDir } from './harness';

afterAll(removeTempDirs);

const TLS = path.resolve(__dirname, '../../fixtures/tls');

describe('TLS (grpcs://)', () => {
  it('talks TLS with the extra root certificate, and refuses an unknown server certificate', async () => {
    const engine = await EmbeddedPachyderm.open(tempDir());
    const server = await startPachdServer(engine, {
      port: 0,
      credentials: grpc.ServerCredentials.createSsl(null, [
        {
          private_key: fs.readFileSync(path.join(TLS, 'localhost.key')),
          cert_chain: fs.readFileSync(path.join(TLS, 'localhost.crt')),
        },
      ]),
    });
    const trusted = connectPachd(`grpcs://localhost:${server.port}`, {
      caFile: path.join(TLS, 'localhost.crt'),
    });
    const untrusted = connectPachd(`https://localhost:${server.port}`);
    const plaintext = connectPachd(`grpc://localhost:${server.port}`);
    try {
      await trusted.createRepo('secure');
      expect((await collect(trusted.listRepo())).map((r) => r.repo.name)).toEqual(['secure']);
      await expectPachError(untrusted.inspectRepo('secure'), PachCode.UNAVAILABLE);
      await expectPachError(plaintext.inspectRepo('secure'), PachCode.UNAVAILABLE);
    } finally {
      await trusted.close();
      await untrusted.close();
      await plaintext.close();
      await server.close();
      await engine.close();
    }
  });
});

describe('Unix sockets (unix:///path)', () => {
  it('serves and dials a socket path', async () => {
    const engine = await EmbeddedPachyderm.open(tempDir());
    const socket = path.join(tempDir(), 'pachd.sock');
    const server = await startPachdServer(engine, { unixSocket: socket });
    expect(server.address).toBe(`unix://${socket}`);
    const client = connectPachd(`unix://${socket}`);
    try {
      await client.checkHealth();
      await client.createRepo('r');
      const c = await client.modifyFile('r@master', [
        { op: 'put', path: '/a', data: 'via socket' },
      ]);
      expect((await client.readFile(`r@${c.id}:/a`)).toString()).toBe('via socket');
    } finally {
      await client.close();
      await server.close();
      await engine.close();
    }
  });
});

describe('REELGRAPH_PACHD_CA', () => {
  it('a CA file that is missing or holds no certificate is refused, naming it', () => {
    const missing = path.join(TLS, 'no-such.pem');
    expect(() => connectPachd('grpcs://127.0.0.1:1', { caFile: missing })).toThrow(
      new RegExp(
        `^cannot read the CA file ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(REELGRAPH_PACHD_CA\\): ENOENT`,
      ),
    );
    const garbage = path.join(tempDir(), 'garbage.pem');
    fs.writeFileSync(garbage, 'garbage');
    try {
      connectPachd('grpcs://127.0.0.1:1', { caFile: garbage });
      throw new Error('accepted');
    } catch (e) {
      expect((e as { code?: number }).code).toBe(PachCode.INVALID_ARGUMENT);
      expect((e as Error).message).toContain(
        `${garbage} (REELGRAPH_PACHD_CA) holds no PEM certificate`,
      );
    }
  });
});
