/**
 * The shared PFS contract over gRPC: reelgraph's gRPC client → the pachd stand-in (server.ts) on
 * 127.0.0.1 → the embedded engine in a temporary directory. Every contract test runs unchanged.
 */
import { describePfsContract } from './contract/pfs.contract';
import { grpcStack, removeTempDirs } from './grpc/harness';

afterAll(removeTempDirs);

describePfsContract('gRPC client → pachd stand-in → embedded', async () => {
  const stack = await grpcStack();
  return { pach: stack.client, close: () => stack.close() };
});
