/**
 * The shared PFS and PPS contracts once more over gRPC, with the stand-in's Pachyderm auth on (as
 * a 2.12 pachd has it by default) and its finishing window: every call goes through the token and
 * role checks (auth.ts), the client sending the root token (clusterAdmin).
 */
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { StandInAuth } from '../../src/pachyderm/grpc/auth';
import { describePfsContract } from './contract/pfs.contract';
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
