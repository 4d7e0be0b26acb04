/**
 * Fold-in over the real API (HTTP on port 0, `startApi` on a fresh data directory, the embedded
 * engine and the real train pipeline: SVD + EASE by default), no MovieLens: once a model serves,
 * a rating batch committed through `addRatings` changes `predict` and `recommendations` of its
 * users as soon as the mutation has answered — `modelSource: FOLDED_IN`, the estimate equal to the
 * engine's fold-in of the user's ratings into the served model file (read back from the `train`
 * repo); `removeRatingBatch` takes the batch out at once; the retrained model then answers
 * `TRAINED` with its own estimate.
 * Data: test/helpers/synthetic-ratings.ts, seed printed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { estimateFolded, foldInUser } from '../../src/engine/fold-in';
import { loadModel } from '../../src/engine/model-file';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { startApi, type ApiProcess } from '../../src/server/start';
import { syntheticRows } from '../helpers/synthetic-ratings';
import { postGraphQL, until } from './clients';

jest.setTimeout(240_000);

const SEED = 17;
let dir: string;
let api: ApiProcess | undefined;

beforeAll(async () => {
  console.log(`fold-in server test: synthetic ratings seed ${SEED}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-fold-in-'));
  const config = loadConfig(
    { PORT: '0', REELGRAPH_DATA_DIR: dir },
    { dataset: 'none', ratingScale: [1, 5] },
  );
  api = await startApi(config, { logger: createLogger('silent'), print: () => undefined });
});

afterAll(async () => {
  await api?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function gql<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const r = await postGraphQL(api!.server.graphqlUrl, query, { variables });
  if (r.body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(r.body.errors)}`);
  return r.body.data as T;
}

type Rating = { userId: string; movieId: string; rating: number };

async function addRatings(ratings: Rating[]): Promise<{ id: string; commit: string }> {
  const d = await gql<{ addRatings: { id: string; commit: string } }>(
    'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id commit } }',
    { r: ratings },
  );
  return d.addRatings;
}

interface Answer {
  estimate: number;
  wasImpossible: boolean;
  modelVersion: string;
  modelSource: string;
}

async function predict(userId: string, movieId: string): Promise<Answer> {
  const d = await gql<{ predict: Answer }>(
    'query($u: ID!, $m: ID!) { predict(userId: $u, movieId: $m) { estimate wasImpossible modelVersion modelSource } }',
    { u: userId, m: movieId },
  );
  return d.predict;
}

/** Waits until a model other than `than` serves (the registry's swap, polled). */
async function newModel(than: string | null): Promise<string> {
  await until(
    () => {
      const v = api!.services.models.currentVersion();
      return v !== null && v !== than;
    },
    180_000,
    'a new model version to serve',
  );
  return api!.services.models.currentVersion()!;
}

/** Waits (polling the registry) until the served model is the one trained on `commit`. */
async function modelTrainedOn(commit: string, ms = 180_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const v = api!.services.models.currentVersion();
    if (v !== null && (await api!.services.models.model(v)).trainingCommit === commit) return v;
    if (Date.now() - t0 > ms)
      throw new Error(`no model trained on training@${commit} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function modelFile(version: string) {
  return loadModel(
    await api!.pach.readFile({ commit: { repo: 'train', id: version }, path: '/model.rgm' }),
  );
}

let first: string;

test('answers a new user TRAINED (impossible) before their first ratings', async () => {
  const rows = syntheticRows(SEED, 30, 20, 0.5);
  await addRatings(rows.map(([userId, movieId, rating]) => ({ userId, movieId, rating })));
  first = await newModel(null);
  const a = await predict('newcomer', 'i3');
  expect(a).toMatchObject({ modelVersion: first, modelSource: 'TRAINED', wasImpossible: true });
});

test('answers from the folded-in user as soon as addRatings has answered, stops when the batch is removed, and answers TRAINED after the retrain', async () => {
  const mine: Rating[] = [
    { userId: 'newcomer', movieId: 'i0', rating: 5 },
    { userId: 'newcomer', movieId: 'i1', rating: 1 },
    { userId: 'newcomer', movieId: 'i2', rating: 4 },
    { userId: 'u3', movieId: 'i5', rating: 1 },
  ];
  const before = await predict('u3', 'i6');
  expect(before.modelSource).toBe('TRAINED');
  // the train pipeline is stopped while the batch is looked up, so the retrain cannot overtake it
  await api!.pach.stopPipeline({ name: 'train' });
  const batch = await addRatings(mine);
  // the mutation's answer is the event: the batch is folded in before it returns
  const a = await predict('newcomer', 'i3');
  const b = await predict('u3', 'i6');
  expect(a.modelVersion).toBe(first);
  {
    const algo = await modelFile(first);
    const expectedNew = foldInUser(
      algo,
      new Map([
        ['i0', 5],
        ['i1', 1],
        ['i2', 4],
      ]),
    )!;
    expect(a.modelSource).toBe('FOLDED_IN');
    expect(a.wasImpossible).toBe(false);
    expect(a.estimate).toBeCloseTo(
      Math.min(5, Math.max(1, estimateFolded(algo, expectedNew, algo.trainset.findItem('i3')))),
      10,
    );
    // a known user: their trainset ratings with the new one over them
    const ts = algo.trainset;
    const own = new Map<string, number>();
    const u = ts.findUser('u3');
    ts.ur(u).items.forEach((i, t) => own.set(ts.toRawIid(i), ts.ur(u).ratings[t]));
    own.set('i5', 1);
    const expectedU3 = foldInUser(algo, own)!;
    expect(b.modelSource).toBe('FOLDED_IN');
    expect(b.estimate).toBeCloseTo(
      Math.min(5, Math.max(1, estimateFolded(algo, expectedU3, ts.findItem('i6')))),
      10,
    );
    expect(b.estimate).not.toBeCloseTo(before.estimate, 6);

    const recs = await gql<{
      recommendations: {
        modelSource: string;
        knownUser: boolean;
        rankedBy: string;
        items: { movieId: string }[];
      };
    }>(
      'query { recommendations(userId: "newcomer", first: 5) { modelSource knownUser rankedBy items { movieId } } }',
    );
    expect(recs.recommendations).toMatchObject({
      modelSource: 'FOLDED_IN',
      knownUser: true,
      rankedBy: 'EASE',
    });
    const ids = recs.recommendations.items.map((i) => i.movieId);
    expect(ids).toHaveLength(5);
    for (const rated of ['i0', 'i1', 'i2']) expect(ids).not.toContain(rated);
  }

  // removing the batch takes it out of the fold-in at once; adding it again folds it in again
  await gql('mutation($id: ID!) { removeRatingBatch(id: $id) { id } }', { id: batch.id });
  expect(await predict('newcomer', 'i3')).toMatchObject({
    modelSource: 'TRAINED',
    wasImpossible: true,
  });
  const again = await addRatings(mine);
  expect(await predict('newcomer', 'i3')).toEqual(a);

  await api!.pach.startPipeline({ name: 'train' });
  // the model trained on the last commit (models of the earlier ones may be served on the way)
  const second = await modelTrainedOn(again.commit);
  const after = await predict('newcomer', 'i3');
  const retrained = await modelFile(second);
  expect(after).toMatchObject({
    modelVersion: second,
    modelSource: 'TRAINED',
    wasImpossible: false,
  });
  expect(after.estimate).toBeCloseTo(retrained.predict('newcomer', 'i3').est, 10);
});
