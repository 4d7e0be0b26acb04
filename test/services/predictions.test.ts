/**
 * Prediction results before the first model exists, on a real embedded engine with the real
 * pipelines: the request's own predict job has nothing to answer with (no model in `models` → no
 * datum), the result stays pending (not an error), and the first later answer — by the predict
 * job of the first model's `models` commit — is pushed to the waiting subscriber. Also: a
 * subscriber that leaves stops waiting at once; two replicas writing and retiring at once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../src/engine/model-file';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { FileType, JobState } from '../../src/pachyderm/types';
import { ModelNotReadyError, type Services, createServices } from '../../src/services';
import { PIPELINES, loadPipelineSpec, openEmbeddedEngine } from '../../src/services/bootstrap';

jest.setTimeout(90_000);

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pred-'));
  pach = await openEmbeddedEngine(dir);
  await pach.createRepo('training');
  await pach.createRepo('streaming');
  await pach.createRepo('models');
  for (const p of PIPELINES) await pach.createPipeline(loadPipelineSpec(p));
  services = await createServices(pach, { dataset: { datasetsDir: dir, download: false } });
});

afterAll(async () => {
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('no model yet: pending, then the first answer after the first model is pushed', async () => {
  expect(services.models.currentVersion()).toBeNull();
  await expect(services.models.predict('a', 'x')).rejects.toBeInstanceOf(ModelNotReadyError);

  const req = await services.predictions.requestPredictions([
    { userId: 'a', movieId: 'x' },
    { userId: 'c', movieId: 'x' },
  ]);
  // the request's own predict job finishes without answering: no model, so no datum
  const job = await pach.inspectJob({ pipeline: 'predict', id: req.commit }, { wait: true });
  expect(job.state).toBe(JobState.JOB_SUCCESS);
  expect(job.dataTotal).toBe(0);
  const pending = await services.predictions.getResult(req.requestId);
  expect(pending).toMatchObject({ ready: false, error: null, predictions: [] });
  expect(pending.job?.state).toBe(JobState.JOB_SUCCESS);

  const stream = await services.predictions.watchResult(req.requestId);
  const next = stream.next();
  const batch = await services.ratings.addRatings([
    { userId: 'a', movieId: 'x', rating: 4 },
    { userId: 'a', movieId: 'y', rating: 2 },
    { userId: 'b', movieId: 'x', rating: 5 },
  ]);
  const r = await next;
  expect(r.done).toBe(false);
  const result = r.value!;
  // answered by the predict job of the commit set of the first model's `models` commit, with
  // that model (the train commit of the batch)
  const published = await pach.inspectCommit('models@master');
  expect(published.description).toContain(batch.commit);
  expect(result).toMatchObject({
    ready: true,
    error: null,
    requestCommit: req.commit,
    answerCommit: published.commit.id,
    modelVersion: batch.commit,
  });
  const model = loadModel(
    await pach.readFile({ commit: { repo: 'train', id: batch.commit }, path: '/model.rgm' }),
  );
  expect(result.predictions).toEqual([
    {
      userId: 'a',
      movieId: 'x',
      estimate: model.predict('a', 'x').est,
      wasImpossible: false,
      modelSource: 'TRAINED',
    },
    {
      userId: 'c',
      movieId: 'x',
      estimate: model.predict('c', 'x').est,
      wasImpossible: true,
      modelSource: 'TRAINED',
    },
  ]);
  expect(await stream.next()).toEqual({ done: true, value: undefined });
  await expect(services.models.ready({ timeoutMs: 10_000 })).resolves.toBe(batch.commit);
  // polling now gives the same answer
  expect(await services.predictions.getResult(req.requestId)).toEqual(result);
});

test('a subscriber that leaves stops waiting at once', async () => {
  await services.predictions.requestPredictions([{ userId: 'a', movieId: 'y' }]);
  // a pending request: stop the predict pipeline so its job does not run
  await pach.stopPipeline('predict');
  try {
    const req = await services.predictions.requestPredictions([{ userId: 'b', movieId: 'y' }]);
    expect((await services.predictions.getResult(req.requestId)).ready).toBe(false);
    const stream = await services.predictions.watchResult(req.requestId);
    const next = stream.next();
    await stream.return!();
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    const ac = new AbortController();
    const s2 = await services.predictions.watchResult(req.requestId, { signal: ac.signal });
    const n2 = s2.next();
    ac.abort();
    await expect(n2).resolves.toEqual({ done: true, value: undefined });
  } finally {
    await pach.startPipeline('predict');
  }
});

test('unknown and malformed request ids are NOT_FOUND', async () => {
  await expect(services.predictions.getResult('f'.repeat(32))).rejects.toMatchObject({
    kind: 'NOT_FOUND',
  });
  await expect(services.predictions.watchResult('../etc/passwd')).rejects.toMatchObject({
    kind: 'NOT_FOUND',
  });
});

test('two replicas retire at once: every request answered once, nothing pending, no error', async () => {
  const logs: string[] = [];
  const other = await createServices(
    pach,
    { dataset: { datasetsDir: dir, download: false } },
    { log: (m) => logs.push(m) },
  );
  try {
    await other.models.ready({ timeoutMs: 30_000 });
    const replicas = [services, other];
    // requests through both replicas at the same time: their writes and retires interleave
    const receipts = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        replicas[k % 2].predictions.requestPredictions([{ userId: 'a', movieId: 'x' }]),
      ),
    );
    expect(new Set(receipts.map((r) => r.requestId)).size).toBe(8);
    for (const [k, r] of receipts.entries()) {
      const it = await replicas[(k + 1) % 2].predictions.watchResult(r.requestId);
      const v = (await it.next()).value!;
      expect(v).toMatchObject({ ready: true, error: null, answerCommit: r.requestId });
    }
    const t0 = Date.now();
    for (;;) {
      let n = 0;
      for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
        if (f.fileType === FileType.FILE) n++;
      }
      if (n === 0) break;
      if (Date.now() - t0 > 60_000) throw new Error(`${n} requests still pending after 60 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // a retire commit deletes files: each one is gone once, and no replica logged a failure
    expect(logs).toEqual([]);
    for (const r of receipts) {
      expect((await services.predictions.getResult(r.requestId)).answerCommit).toBe(r.requestId);
    }
  } finally {
    await other.close();
  }
});
