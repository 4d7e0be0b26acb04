/**
 * Choosing the adapter at start-up: a pachd address (option or REELGRAPH_PACHD_ADDRESS) means the
 * gRPC client, checked with Health/Check; none means the embedded engine in the data directory.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { resolveEngine } from '../../../src/cli/pach-options';
import { parsePort } from '../../../src/cli/commands/pachd';
import { PachCode } from '../../../src/pachyderm';
import { DB_FILE, EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { GrpcPachyderm } from '../../../src/pachyderm/grpc/client';
import { startPachdServer } from '../../../src/pachyderm/grpc/server';
import { ConfigError, loadConfig } from '../../../src/server/config';
import { openEngine, pachdFromEnv } from '../../../src/services/bootstrap';
import { collect, expectPachError } from '../contract/pfs.contract';
import { removeTempDirs, tempDir } from './harness';

afterAll(removeTempDirs);

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('openEngine', () => {
  it('a pachd address gives the gRPC client; nothing is written to the data directory', async () => {
    const engine = await EmbeddedPachyderm.open(tempDir());
    const server = await startPachdServer(engine, { port: 0 });
    const dataDir = path.join(tempDir(), 'unused');
    const pach = await openEngine({ dataDir, pachdAddress: `127.0.0.1:${server.port}` });
    try {
      expect(pach).toBeInstanceOf(GrpcPachyderm);
      expect((await collect(pach.listProject())).map((p) => p.project.name)).toEqual(['default']);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      await pach.close();
      await server.close();
      await engine.close();
    }
  });

  it('an unreachable pachd fails at once, naming the address', async () => {
    const port = await closedPort();
    await expectPachError(
      openEngine({ dataDir: tempDir(), pachdAddress: `127.0.0.1:${port}` }),
      PachCode.UNAVAILABLE,
      new RegExp(`pachd at grpc://127\\.0\\.0\\.1:${port} is not reachable`),
    );
    await expectPachError(
      openEngine({ dataDir: tempDir(), pachdAddress: 'ftp://x' }),
      PachCode.INVALID_ARGUMENT,
      /unknown scheme "ftp"/,
    );
  });

  it('no address: the embedded engine in the data directory', async () => {
    const dataDir = tempDir();
    const pach = await openEngine({ dataDir }, { pps: { runJobs: false } });
    try {
      expect(pach).toBeInstanceOf(EmbeddedPachyderm);
      expect(fs.existsSync(path.join(dataDir, DB_FILE))).toBe(true);
    } finally {
      await pach.close();
    }
  });
});

describe('configuration', () => {
  it('REELGRAPH_PACHD_* from the environment; blank means unset', () => {
    expect(
      pachdFromEnv({
        REELGRAPH_PACHD_ADDRESS: ' grpcs://pachd:443 ',
        REELGRAPH_PACHD_TOKEN: 'tok',
        REELGRAPH_PACHD_CA: '',
      }),
    ).toEqual({ pachdAddress: 'grpcs://pachd:443', pachdToken: 'tok', pachdCaFile: undefined });
  });

  it('the CLI option beats the environment; the data dir is still resolved', () => {
    const env = { REELGRAPH_PACHD_ADDRESS: 'env-host', REELGRAPH_DATA_DIR: '/d' };
    expect(resolveEngine({ pachdAddress: 'cli-host:1650' }, env)).toEqual({
      dataDir: '/d',
      pachdAddress: 'cli-host:1650',
      pachdToken: undefined,
      pachdCaFile: undefined,
    });
    expect(resolveEngine({}, env).pachdAddress).toBe('env-host');
    expect(resolveEngine({}, { REELGRAPH_DATA_DIR: '/d' }).pachdAddress).toBeUndefined();
  });

  it('the API config checks the address and keeps token and CA with it', () => {
    expect(loadConfig({}).pachd).toBeUndefined();
    expect(
      loadConfig({
        REELGRAPH_PACHD_ADDRESS: 'unix:///run/pachd.sock',
        REELGRAPH_PACHD_TOKEN: 't',
        REELGRAPH_PACHD_CA: '/etc/ca.pem',
      }).pachd,
    ).toEqual({ address: 'unix:///run/pachd.sock', token: 't', caFile: '/etc/ca.pem' });
    expect(() => loadConfig({ REELGRAPH_PACHD_ADDRESS: 'host:99999' })).toThrow(ConfigError);
    expect(() => loadConfig({ REELGRAPH_PACHD_ADDRESS: 'host:99999' })).toThrow(
      /REELGRAPH_PACHD_ADDRESS.*invalid port "99999"/,
    );
  });

  it('reelgraph pachd --port: 0-65535', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('1650')).toBe(1650);
    expect(() => parsePort('65536')).toThrow(/--port "65536" is invalid: expected 0-65535/);
    expect(() => parsePort('-1')).toThrow(/--port "-1" is invalid/);
  });
});
