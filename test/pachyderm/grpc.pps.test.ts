/**
 * The shared PPS contract over gRPC: reelgraph's gRPC client → the pachd stand-in (server.ts) on
 * 127.0.0.1 → the embedded engine (with its PPS half) in a temporary directory. `reopen` closes
 * the whole stack abruptly and serves the same directory again, as a restarted pachd.
 *
 * One protocol limit (documented in client.ts): Pachyderm's API has no feed of every job state
 * change (SubscribeJob sends each job once, InspectJob{wait} only returns terminal states), so the
 * gRPC client's watchJobs polls, and a state shorter than the poll interval can be skipped. The
 * contract's watchJobs test is told so (`watchJobsSeesEveryState: false`) and then checks that
 * the states it sees are in order, each once, from the first seen to SUCCESS.
 */
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { describePpsContract, type PpsContractTarget } from './contract/pps.contract';
import { grpcStack, removeTempDirs, tempDir, type GrpcStack } from './grpc/harness';

afterAll(removeTempDirs);

describePpsContract(
  'gRPC client → pachd stand-in → embedded',
  async () => {
    const dir = tempDir();
    // the stand-in as `reelgraph pachd` runs it: batching through the worker's gRPC NextDatum
    const open = () =>
      grpcStack({ dir, engine: { pps: embeddedPps({ maxDatums: 4, batchTransport: 'grpc' }) } });
    let stack: GrpcStack = await open();
    const target: PpsContractTarget = {
      pach: stack.client,
      close: () => stack.close(),
      reopen: async () => {
        await stack.close();
        stack = await open();
        target.pach = stack.client;
        return stack.client;
      },
    };
    return target;
  },
  { watchJobsSeesEveryState: false, batchTransport: 'grpc' },
);
