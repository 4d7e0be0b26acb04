/**
 * What one prediction request costs on pachd, counted on reelgraph's gRPC client
 * (`GrpcPachyderm.rpcCounts`): the services' watches (SubscribeCommit per watched repo,
 * SubscribeJob per pipeline) are opened once per process, never per request — a request costs
 * its own commit (StartCommit, ModifyFile, FinishCommit) and the look-ups of its answer.
 */
import { connectPachd } from '../../../src/pachyderm/grpc/client';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';
import { commitFiles } from '../../../src/pachyderm/own-commit';
import { createServices, type Services } from '../../../src/services';
import {
  MODELS_REPO,
  PIPELINES,
  STREAMING_REPO,
  TRAINING_REPO,
  ensureWorkerPath,
  pipelineSpecFor,
  waitForModel,
} from '../../../src/services/bootstrap';
import { grpcStack, removeTempDirs, type GrpcStack } from './harness';

afterAll(removeTempDirs);

const WATCHES = ['SubscribeCommit', 'SubscribeJob'];

/** `after - before`, per method (methods with no new call left out). */
function diff(before: Record<string, number>, after: Record<string, number>) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after))
    if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

describe('RPCs per prediction request over gRPC', () => {
  let stack: GrpcStack;
  let services: Services | undefined;
  afterEach(async () => {
    await services?.close();
    await stack.close();
  });

  it('opens no watch per request: the subscriptions are the process’s, opened once', async () => {
    ensureWorkerPath(); // `reelgraph` on PATH for the pipelines' workers
    stack = await grpcStack({ engine: { pps: embeddedPps({ maxDatums: 2 }) } });
    // the services on a client of their own, as the API has it
    const pach = connectPachd(`grpc://127.0.0.1:${stack.server.port}`);
    try {
      for (const repo of [TRAINING_REPO, STREAMING_REPO, MODELS_REPO]) await pach.createRepo(repo);
      // 3 users × 4 movies, rating = 1 + (u + m) mod 5
      let text = '';
      for (let u = 1; u <= 3; u++)
        for (let m = 1; m <= 4; m++) text += `${u} ${m} ${1 + ((u + m) % 5)} 0\n`;
      await commitFiles(pach, `${TRAINING_REPO}@master`, [
        { op: 'put', path: '/base/r.txt', data: text },
      ]);
      for (const name of PIPELINES) await pach.createPipeline(pipelineSpecFor(name, pach, {}));
      await waitForModel(pach, { timeoutMs: 120_000 });
      services = await createServices(pach);
      const ask = async () => {
        const receipt = await services!.predictions.requestPredictions([
          { userId: '1', movieId: '2' },
          { userId: '2', movieId: '3' },
        ]);
        const it = await services!.predictions.watchResult(receipt.requestId);
        const r = await it.next();
        await it.return?.();
        expect(r.value?.ready).toBe(true);
        expect(r.value?.error).toBeNull();
      };
      // warm: the watches are open once the first answer came through them
      await ask();
      await ask();
      const before = pach.rpcCounts();
      const n = 6;
      for (let k = 0; k < n; k++) await ask();
      const used = diff(before, pach.rpcCounts());
      console.log(`RPCs for ${n} requests after warm-up: ${JSON.stringify(used)}`);
      for (const w of WATCHES) expect(used[w] ?? 0).toBe(0);
      // each request's own commit, started and finished (plus a retire commit when no request
      // came to carry its deletions within RETIRE_CARRY_MS: it may still be in flight here)
      expect(used.StartCommit).toBeGreaterThanOrEqual(n);
      expect(used.FinishCommit).toBeGreaterThanOrEqual(n);
      // the process's watches are open (a positive signal that there was something to count)
      const all = pach.rpcCounts();
      for (const w of WATCHES) expect(all[w]).toBeGreaterThan(0);
    } finally {
      await services?.close();
      services = undefined;
      await pach.close();
    }
  });
});
