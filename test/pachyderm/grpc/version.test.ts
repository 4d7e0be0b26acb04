/**
 * The pachd version check at connect: pachd 2.7 and older lack CreatePipelineV2, so reelgraph
 * refuses them by name; 2.8 to 2.12 (and development builds, 0.0.0) are accepted.
 */
import { PachCode } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { startPachdServer } from '../../../src/pachyderm/grpc/server';
import { assertSupportedVersion } from '../../../src/pachyderm/grpc/version';
import { openEngine } from '../../../src/services/bootstrap';
import { expectPachError } from '../contract/pfs.contract';
import { removeTempDirs, tempDir } from './harness';

afterAll(removeTempDirs);

describe('pachd version at connect', () => {
  it('refuses a pachd 2.7.3 naming the version found and the one needed, and accepts 2.8.0', async () => {
    const engine = await EmbeddedPachyderm.open(tempDir());
    const old = await startPachdServer(engine, {
      port: 0,
      version: { major: 2, minor: 7, micro: 3 },
    });
    const ok = await startPachdServer(engine, {
      port: 0,
      version: { major: 2, minor: 8, micro: 0 },
    });
    try {
      await expectPachError(
        openEngine({ dataDir: tempDir(), pachdAddress: `grpc://127.0.0.1:${old.port}` }),
        PachCode.FAILED_PRECONDITION,
        new RegExp(
          `pachd at grpc://127\\.0\\.0\\.1:${old.port} is version 2\\.7\\.3; reelgraph needs pachd 2\\.8\\.0 or newer`,
        ),
      );
      const pach = await openEngine({
        dataDir: tempDir(),
        pachdAddress: `grpc://127.0.0.1:${ok.port}`,
      });
      await pach.createRepo('r');
      await pach.close();
    } finally {
      await old.close();
      await ok.close();
      await engine.close();
    }
  });

  it('accepts 2.8 to 2.12 and development builds; refuses 1.x, 2.5, 2.7 and 3.x', () => {
    const at =
      (major: number, minor: number, micro = 0) =>
      () =>
        assertSupportedVersion({ major, minor, micro }, 'grpc://pachd:30650');
    for (const ok of [at(2, 8), at(2, 11, 4), at(2, 12, 1), at(0, 0, 0)]) expect(ok).not.toThrow();
    for (const [major, minor] of [
      [1, 13],
      [2, 5],
      [2, 7],
      [3, 0],
    ])
      expect(at(major, minor)).toThrow(
        new RegExp(`version ${major}\\.${minor}\\.0; reelgraph needs pachd 2\\.8\\.0 or newer`),
      );
  });
});
