/**
 * Fold-in beyond the API's online path (real API on port 0, a fresh data directory, the embedded
 * engine and the real train and predict pipelines; no MovieLens):
 * - `requestPredictions` answers reflect a committed batch: the predict program folds in the
 *   batches the service published with the model in `models` (`/fold-in/`), so its answer for a
 *   folded user is FOLDED_IN, equals the online `predict` and the engine's fold-in of the user's
 *   ratings into the served model file (computed here from the model read back from `train`), and
 *   records the model version and the batch it included; after the retrain, a new request answers
 *   TRAINED while the old answer stays exactly as it was (history).
 * - batches committed by other writers — a second service instance on the same engine (another
 *   API replica) and a commit made directly through the port (as `reelgraph import` does) — are
 *   folded in too, online and in the pipeline.
 * Data: test/helpers/synthetic-ratings.ts, seed printed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { estimateFolded, foldInUser } from '../../src/engine/fold-in';
import { loadModel } from '../../src/engine/model-file';
import { commitFiles } from '../../src/pachyderm/own-commit';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { startApi, type ApiProcess } from '../../src/server/start';
import { createServices, type Services } from '../../src/services';
import { ModelPublisher } from '../../src/services/model-publisher';
import type { PredictionResult } from '../../src/services/types';
import { syntheticRows } from '../helpers/synthetic-ratings';
import { until } from './clients';

jest.setTimeout(240_000);

const SEED = 23;
let dir: string;
let api: ApiProcess | undefined;
let replica: Services | undefined;
let first: string;

type Rating = { userId: string; movieId: string; rating: number };

beforeAll(async () => {
  console.log(`fold-in pipeline test: synthetic ratings seed ${SEED}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-fold-in-pipeline-'));
  const config = loadConfig(
    { PORT: '0', REELGRAPH_DATA_DIR: dir },
    { dataset: 'none', ratingScale: [1, 5] },
  );
  api = await startApi(config, { logger: createLogger('silent'), print: () => undefined });
  const rows = syntheticRows(SEED, 30, 20, 0.5);
  await api.services.ratings.addRatings(
    rows.map(([userId, movieId, rating]) => ({ userId, movieId, rating })),
  );
  await until(() => api!.services.models.currentVersion() !== null, 180_000, 'the first model');
  first = api.services.models.currentVersion()!;
  // no retrain may overtake the batches looked up below (restarted in the last test)
  await api.pach.stopPipeline({ name: 'train' });
});

afterAll(async () => {
  await replica?.close();
  await api?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function modelFile(version: string) {
  return loadModel(
    await api!.pach.readFile({ commit: { repo: 'train', id: version }, path: '/model.rgm' }),
  );
}

/** Commits a request and waits for its answer (the subscription's push). */
async function answer(pairs: { userId: string; movieId: string }[]): Promise<PredictionResult> {
  const req = await api!.services.predictions.requestPredictions(pairs);
  const stream = await api!.services.predictions.watchResult(req.requestId);
  const r = await stream.next();
  await stream.return?.();
  if (r.done) throw new Error(`no answer to ${req.requestId}`);
  return r.value;
}

/** Polls `check` every 10 ms until it is true (the event it waits for has no push of its own). */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** True once `userId` is answered from a folded-in user online. */
async function foldedOnline(userId: string): Promise<boolean> {
  return (await api!.services.models.predict(userId, 'i3')).modelSource === 'FOLDED_IN';
}

/** The engine's fold-in of `userId` (trainset ratings, then `extra` over them), clipped. */
function expectedFolded(
  algo: ReturnType<typeof loadModel>,
  userId: string,
  extra: Rating[],
  movieId: string,
): number {
  const ts = algo.trainset;
  const own = new Map<string, number>();
  const u = ts.findUser(userId);
  if (u >= 0) ts.ur(u).items.forEach((i, t) => own.set(ts.toRawIid(i), ts.ur(u).ratings[t]));
  for (const r of extra) if (r.userId === userId) own.set(r.movieId, r.rating);
  const f = foldInUser(algo, own)!;
  return Math.min(5, Math.max(1, estimateFolded(algo, f, ts.findItem(movieId))));
}

let requestId: string;
let folded: PredictionResult;

test('answers requestPredictions for a user of a committed batch FOLDED_IN, equal to the online predict and to the engine fold-in, recording the model and the batch', async () => {
  const batch: Rating[] = [
    { userId: 'newcomer', movieId: 'i0', rating: 5 },
    { userId: 'newcomer', movieId: 'i1', rating: 1 },
    { userId: 'newcomer', movieId: 'i2', rating: 4 },
    { userId: 'u3', movieId: 'i5', rating: 1 },
  ];
  const algo = await modelFile(first);
  const trainedU3 = algo.predict('u3', 'i6').est;
  const receipt = await api!.services.ratings.addRatings(batch);
  const r = await answer([
    { userId: 'newcomer', movieId: 'i3' },
    { userId: 'u3', movieId: 'i6' },
    { userId: 'u4', movieId: 'i6' },
    { userId: 'newcomer', movieId: 'no-such-movie' },
  ]);
  expect(r).toMatchObject({ ready: true, error: null, modelVersion: first });
  expect(r.foldedInThrough).toBe(receipt.commit);
  const [n, u3, u4, unknown] = r.predictions;
  expect(n).toMatchObject({ modelSource: 'FOLDED_IN', wasImpossible: false });
  expect(n.estimate).toBeCloseTo(expectedFolded(algo, 'newcomer', batch, 'i3'), 10);
  expect(u3.modelSource).toBe('FOLDED_IN');
  expect(u3.estimate).toBeCloseTo(expectedFolded(algo, 'u3', batch, 'i6'), 10);
  expect(u3.estimate).not.toBeCloseTo(trainedU3, 6);
  // a user of no batch: the trained model's estimate
  expect(u4).toMatchObject({ modelSource: 'TRAINED', estimate: algo.predict('u4', 'i6').est });
  expect(unknown).toMatchObject({ modelSource: 'FOLDED_IN', wasImpossible: true });
  // the online answers are the same numbers
  for (const p of [n, u3, unknown]) {
    const online = await api!.services.models.predict(p.userId, p.movieId);
    expect(online).toMatchObject({
      modelSource: 'FOLDED_IN',
      modelVersion: first,
      estimate: p.estimate,
      wasImpossible: p.wasImpossible,
    });
  }
  requestId = r.requestId;
  folded = r;
});

test('folds in a batch committed by another API replica, online and in the pipeline', async () => {
  replica = await createServices(api!.pach);
  const batch: Rating[] = [
    { userId: 'replica-user', movieId: 'i4', rating: 2 },
    { userId: 'replica-user', movieId: 'i7', rating: 5 },
  ];
  const receipt = await replica.ratings.addRatings(batch);
  // the positive signal: this replica's models head names that batch (published by either)
  const publisher = new ModelPublisher(api!.pach);
  await eventually(
    async () => (await publisher.record())?.foldIn?.through === receipt.commit,
    30_000,
    'the replica batch published with the model',
  );
  await eventually(() => foldedOnline('replica-user'), 30_000, 'the replica batch folded in here');
  const algo = await modelFile(first);
  const want = expectedFolded(algo, 'replica-user', batch, 'i3');
  const online = await api!.services.models.predict('replica-user', 'i3');
  expect(online).toMatchObject({ modelSource: 'FOLDED_IN', modelVersion: first });
  expect(online.estimate).toBeCloseTo(want, 10);
  const r = await answer([{ userId: 'replica-user', movieId: 'i3' }]);
  expect(r.predictions[0]).toMatchObject({ modelSource: 'FOLDED_IN', estimate: online.estimate });
});

test('folds in a batch committed directly to training (as reelgraph import does)', async () => {
  const batch: Rating[] = [
    { userId: 'import-user', movieId: 'i1', rating: 4 },
    { userId: 'import-user', movieId: 'i9', rating: 2 },
    { userId: 'import-user', movieId: 'i11', rating: 5 },
  ];
  const name = `/batches/${String(Date.now()).padStart(13, '0')}-00aa11bb22cc0000.txt`;
  const commit = await commitFiles(api!.pach, 'training@master', [
    {
      op: 'put',
      path: name,
      data: batch.map((r) => `${r.userId}\t${r.movieId}\t${r.rating}\n`).join(''),
    },
  ]);
  await eventually(() => foldedOnline('import-user'), 30_000, 'the imported batch folded in');
  const algo = await modelFile(first);
  const online = await api!.services.models.predict('import-user', 'i3');
  expect(online.modelSource).toBe('FOLDED_IN');
  expect(online.estimate).toBeCloseTo(expectedFolded(algo, 'import-user', batch, 'i3'), 10);
  const publisher = new ModelPublisher(api!.pach);
  await eventually(
    async () => (await publisher.record())?.foldIn?.through === commit.id,
    30_000,
    'the imported batch published with the model',
  );
  const r = await answer([{ userId: 'import-user', movieId: 'i3' }]);
  expect(r.foldedInThrough).toBe(commit.id);
  expect(r.predictions[0]).toMatchObject({ modelSource: 'FOLDED_IN', estimate: online.estimate });
});

test('answers TRAINED after the retrain, while the earlier FOLDED_IN answer stays exactly as it was', async () => {
  await api!.pach.startPipeline({ name: 'train' });
  await eventually(
    async () => {
      const v = api!.services.models.currentVersion();
      if (v === null || v === first) return false;
      // trained on the last batch (models of earlier commits may serve on the way)
      return (await api!.services.models.predict('import-user', 'i3')).modelSource === 'TRAINED';
    },
    180_000,
    'a model trained on every batch',
  );
  const second = api!.services.models.currentVersion()!;
  const r = await answer([{ userId: 'newcomer', movieId: 'i3' }]);
  expect(r).toMatchObject({ modelVersion: second, foldedInThrough: null });
  expect(r.predictions[0].modelSource).toBe('TRAINED');
  expect(r.predictions[0].estimate).toBe((await modelFile(second)).predict('newcomer', 'i3').est);
  expect(await api!.services.predictions.getResult(requestId)).toEqual(folded);
});
