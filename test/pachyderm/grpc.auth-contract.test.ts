/**
 * The shared PFS and PPS contracts once more over gRPC, with the stand-in's Pachyderm auth on (as
 * a 2.12 pachd has it by default) and its finishing window: every call goes through the token and
 * role checks (auth.ts), the client sending the root token (clusterAdmin). Then reelgraph's own
 * robots with the role bindings `reelgraph auth setup` makes: init sets the repos up, the API
 * writes into them.
 */
import { PachCode } from '../../src/pachyderm';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { AuthClient, reelgraphRoleBindings } from '../../src/pachyderm/grpc/auth-client';
import { connectPachd } from '../../src/pachyderm/grpc/client';
import { bootstrap } from '../../src/services/bootstrap';
import { SERVING_REPO, readPin, writePin } from '../../src/services/serving-pin';
import { StandInAuth } from '../../src/pachyderm/grpc/auth';
import { describePfsContract, expectPachError } from './contract/pfs.contract';
import { describePpsContract, type PpsContractTarget } from './contract/pps.contract';
import { grpcStack, removeTempDirs, tempDir, type GrpcStack } from './grpc/harness';

afterAll(removeTempDirs);

const ROOT_TOKEN = 'contract-root-token-0123';
const withAuth = (dir?: string, pps = false) =>
  grpcStack({
    dir,
    auth: new StandInAuth({ rootToken: ROOT_TOKEN }),
    client: { token: ROOT_TOKEN },
    engine: pps ? { pps: embeddedPps({ maxDatums: 4, batchTransport: 'grpc' }) } : {},
  });

describePfsContract('gRPC client → pachd stand-in with auth on → embedded', async () => {
  const stack = await withAuth();
  return { pach: stack.client, close: () => stack.close() };
});

describePpsContract(
  'gRPC client → pachd stand-in with auth on → embedded',
  async () => {
    const dir = tempDir();
    let stack: GrpcStack = await withAuth(dir, true);
    const target: PpsContractTarget = {
      pach: stack.client,
      close: () => stack.close(),
      reopen: async () => {
        await stack.close();
        stack = await withAuth(dir, true);
        target.pach = stack.client;
        return stack.client;
      },
    };
    return target;
  },
  { watchJobsSeesEveryState: false, batchTransport: 'grpc' },
);

describe("reelgraph's robots with the documented role bindings, auth on", () => {
  it('lets the API robot pin the serving model on a cluster the init robot set up', async () => {
    const stack = await withAuth(undefined, true);
    const address = `grpc://127.0.0.1:${stack.server.port}`;
    const root = new AuthClient(address, ROOT_TOKEN);
    const asInit = connectPachd(address, { token: await root.getRobotToken('reelgraph-init') });
    const asApi = connectPachd(address, { token: await root.getRobotToken('reelgraph-api') });
    try {
      // `reelgraph auth setup`, then `reelgraph init` with the init robot's token
      for (const b of reelgraphRoleBindings()) await root.modifyRoleBinding(b);
      const boot = await bootstrap(asInit, { dataset: 'none', waitForModel: false });
      expect(boot.createdRepos).toContain(SERVING_REPO);
      // the API robot may not create repos: the pin's repo must be there, and writable by it
      await expectPachError(asApi.createRepo('elsewhere'), PachCode.PERMISSION_DENIED);
      const pin = {
        version: null,
        reason: 'unpinned by the operator',
        at: new Date(0).toISOString(),
      };
      const id = await writePin(asApi, pin);
      const info = await asApi.inspectCommit({ repo: SERVING_REPO, id });
      expect(info.commit.repo.name).toBe(SERVING_REPO);
      expect(await readPin(asApi)).toEqual(pin);
      expect(await root.getRoleBinding({ type: 'REPO', name: `default/${SERVING_REPO}` })).toEqual(
        expect.objectContaining({ 'robot:reelgraph-api': ['repoWriter'] }),
      );
    } finally {
      root.close();
      await asInit.close();
      await asApi.close();
      await stack.close();
    }
  });
});
