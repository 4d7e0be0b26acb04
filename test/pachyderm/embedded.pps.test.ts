/**
 * The embedded adapter's PPS: the shared PPS contract over a fresh temporary data directory,
 * with `reopen` closing the engine (running jobs unfinished, as a crash leaves them) and opening
 * the same directory again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { describePpsContract, type PpsContractTarget } from './contract/pps.contract';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pps-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describePpsContract('embedded', async () => {
  const dir = tempDir();
  const open = () => EmbeddedPachyderm.open(dir, { pps: embeddedPps({ maxDatums: 4 }) });
  let pach = await open();
  const target: PpsContractTarget = {
    pach,
    close: () => pach.close(),
    reopen: async () => {
      await pach.close();
      pach = await open();
      target.pach = pach;
      return pach;
    },
  };
  return target;
});
