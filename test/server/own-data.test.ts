/**
 * Issue 13's acceptance, end to end over the API (real HTTP and WebSocket on port 0, the real
 * start path `startApi` on a fresh data directory, the embedded engine and the real train/predict
 * pipelines), no MovieLens:
 * - a service started with `--dataset none` and the scale 0.5–5 has no model, takes half-star
 *   ratings (and refuses ratings off its scale, committing nothing) and a movie catalogue, trains,
 *   answers `predict` with the model's own estimate and recommends with titles;
 * - updatePipeline to SVDpp gives a model whose `algorithm` is SVDpp and whose pipelineVersion is 2;
 * - serveModel pins the first model: `predict` answers with it, also after a restart;
 * - after unpinning, removeRatingBatch yields a new model without that batch's ratings;
 * - the CLI (a child process) imports users, lists and downloads models through the API.
 * Expected estimates are computed independently: the model file is read back from the `train`
 * repo and loaded by the engine (and its trainset's scale checked to be 0.5–5).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { loadRanker } from '../../src/engine/rankers';
import { loadModel } from '../../src/engine/model-file';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { startApi, type ApiProcess } from '../../src/server/start';
import type { ModelVersion as ModelVersionData } from '../../src/services/types';
import { runCli } from '../cli/run-cli';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

jest.setTimeout(240_000);

let dir: string;
let api: ApiProcess | undefined;

/** Starts the API on `dir` (first start: no data set, half stars). */
async function start(): Promise<ApiProcess> {
  const config = loadConfig(
    { PORT: '0', REELGRAPH_DATA_DIR: dir },
    { dataset: 'none', ratingScale: [0.5, 5] },
  );
  return startApi(config, { logger: createLogger('silent'), print: () => undefined });
}

/** Runs a GraphQL operation that must succeed. */
async function gql<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const r = await postGraphQL(api!.server.graphqlUrl, query, { variables });
  if (r.body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(r.body.errors)}`);
  return r.body.data as T;
}

/** Runs `act` while listening to modelUpdated; resolves with the first pushed model matching `pred`. */
async function modelAfter(
  act: () => Promise<unknown>,
  pred: (m: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const client = modernClient(api!.server.wsUrl);
  try {
    const sub = modernSubscribe(
      client,
      'subscription { modelUpdated { version algorithm ratingsCount pipelineVersion servingReason } }',
    );
    // a positive signal that the listener is attached: a probe event published in-process
    // (repeatedly, since the first ones may come before the subscription) reaches the client
    const probe: ModelVersionData = {
      version: 'probe',
      algorithm: 'probe',
      params: {},
      ratingsCount: 0,
      duplicatesReplaced: null,
      usersCount: 0,
      itemsCount: 0,
      holdout: null,
      fitSeconds: null,
      trainingCommit: null,
      pipelineVersion: null,
      modelSha256: null,
      createdAt: new Date(0),
      finishedAt: null,
      ranker: null,
    };
    const got = () =>
      sub.results.some((r) => (r.modelUpdated as { version?: string })?.version === 'probe');
    const timer = setInterval(() => api!.services.events.publish('MODEL_UPDATED', probe), 20);
    try {
      await until(() => got() || sub.errors.length > 0, 30_000, 'the subscription to attach');
    } finally {
      clearInterval(timer);
    }
    await act();
    const hit = () =>
      sub.results
        .map((r) => r.modelUpdated as Record<string, unknown>)
        .find((m) => m && m.version !== 'probe' && pred(m));
    await until(() => hit() !== undefined || sub.errors.length > 0, 180_000, 'modelUpdated');
    expect(sub.errors).toEqual([]);
    sub.dispose();
    return hit()!;
  } finally {
    await client.dispose();
  }
}

/** The estimate of `train@version`'s model, computed by the engine from the model file. */
async function estimateOf(version: string, u: string, i: string): Promise<number> {
  const buf = await api!.pach.readFile({
    commit: { repo: 'train', id: version },
    path: '/model.rgm',
  });
  const algo = loadModel(buf);
  expect(algo.trainset.ratingScale).toEqual([0.5, 5]);
  return algo.predict(u, i).est;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-own-data-'));
  api = await start();
});

afterAll(async () => {
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// 5 users × 4 movies, half stars; user "u5" only rates in the second batch
const MOVIES = [
  { id: 'm1', title: 'Alpha (2001)', genres: ['Drama'], year: 2001 },
  { id: 'm2', title: 'Beta, The (1999)', genres: ['Comedy', 'Drama'], year: 1999 },
  { id: 'm3', title: 'Gamma "Ray" (2010)', genres: [], year: null, extra: { director: 'Ann' } },
  { id: 'm4', title: 'Delta (1985)', genres: ['Horror'], year: 1985 },
];
const BATCH1 = [
  ['u1', 'm1', 4.5],
  ['u1', 'm2', 3],
  ['u1', 'm3', 0.5],
  ['u2', 'm1', 5],
  ['u2', 'm4', 1.5],
  ['u3', 'm2', 2.5],
  ['u3', 'm3', 4],
  ['u4', 'm1', 3.5],
  ['u4', 'm2', 4],
  ['u4', 'm4', 2],
].map(([userId, movieId, rating]) => ({ userId, movieId, rating, timestamp: 1000 }));
const BATCH2 = [
  ['u5', 'm1', 1],
  ['u5', 'm2', 1.5],
  ['u5', 'm3', 5],
].map(([userId, movieId, rating]) => ({ userId, movieId, rating, timestamp: 2000 }));

let firstModel: string;
let batch2: string;

test('a service started with --dataset none and 0.5–5 has no model and refuses ratings off its scale', async () => {
  const ready = await fetch(`${api!.server.url}/readyz`);
  expect(ready.status).toBe(503);
  const settings = JSON.parse(
    (await api!.pach.readFile({ commit: 'training@master', path: '/settings.json' })).toString(),
  );
  expect(settings).toEqual({ dataset: 'none', ratingScale: [0.5, 5] });
  const commitsBefore = await count('training');
  for (const rating of [0, 0.25, 5.5]) {
    const r = await postGraphQL(
      api!.server.graphqlUrl,
      'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id } }',
      { variables: { r: [{ userId: 'u1', movieId: 'm1', rating }] } },
    );
    expect(r.body.errors?.[0].message).toContain(
      `rating ${rating} is outside the rating scale [0.5, 5]`,
    );
  }
  // the REST route takes the same scale
  const rest = await fetch(`${api!.server.url}/train`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: ['u1 m1 0.25'] }),
  });
  expect(rest.status).toBe(400);
  expect(((await rest.json()) as { error: string }).error).toContain(
    'data[0].rating: rating 0.25 is outside the rating scale [0.5, 5]',
  );
  expect(await count('training')).toBe(commitsBefore);
});

test('takes a catalogue and half-star ratings, trains, answers and recommends with titles', async () => {
  const up = await gql<{ upsertMovies: { count: number; replaced: number; path: string } }>(
    'mutation($m: [MovieInput!]!) { upsertMovies(movies: $m) { path count replaced } }',
    { m: MOVIES },
  );
  expect(up.upsertMovies).toMatchObject({ count: 4, replaced: 0 });
  expect(up.upsertMovies.path).toMatch(/^\/movies\/\d{13}-[0-9a-f]{16}\.csv$/);
  const movie = await gql('{ movie(id: "m3") { title genres year extra } }');
  expect(movie.movie).toEqual({
    title: 'Gamma "Ray" (2010)',
    genres: [],
    year: null,
    extra: { director: 'Ann' },
  });

  let batchId = '';
  const model = await modelAfter(
    async () => {
      const r = await gql<{ addRatings: { id: string; count: number } }>(
        'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id count } }',
        { r: BATCH1 },
      );
      batchId = r.addRatings.id;
      expect(r.addRatings.count).toBe(10);
    },
    () => true,
  );
  expect(batchId).not.toBe('');
  expect(model).toMatchObject({ algorithm: 'SVD', ratingsCount: 10, pipelineVersion: 1 });
  firstModel = model.version as string;

  const p = await gql<{ predict: { estimate: number; modelVersion: string } }>(
    '{ predict(userId: "u3", movieId: "m1") { estimate modelVersion wasImpossible } }',
  );
  expect(p.predict.modelVersion).toBe(firstModel);
  expect(p.predict.estimate).toBe(await estimateOf(firstModel, 'u3', 'm1'));

  const recs = await gql<{
    recommendations: {
      rankedBy: string;
      items: { movieId: string; title: string; score: number }[];
    };
  }>('{ recommendations(userId: "u3", first: 2) { rankedBy items { movieId title score } } }');
  // u3 rated m2 and m3: the two others, best first, with their catalogue titles, ranked by the
  // ranker the train pipeline fits beside the model (EASE by default), read from the same version
  const ranker = loadRanker(
    await api!.pach.readFile({ commit: { repo: 'train', id: firstModel }, path: '/ranker.rgr' }),
  );
  expect(recs.recommendations.rankedBy).toBe(ranker.name);
  const own = ranker.rank('u3', 2);
  expect(own.items.map((i) => i.iid).sort()).toEqual(['m1', 'm4']);
  expect(recs.recommendations.items).toEqual(
    own.items.map((w) => ({
      movieId: w.iid,
      title: MOVIES.find((x) => x.id === w.iid)!.title,
      score: w.score,
    })),
  );
  // the model version lists that ranker with the facts of its ranker.json and the file's hash
  const rankerFile = await api!.pach.readFile({
    commit: { repo: 'train', id: firstModel },
    path: '/ranker.rgr',
  });
  const rankerJson = JSON.parse(
    (
      await api!.pach.readFile({ commit: { repo: 'train', id: firstModel }, path: '/ranker.json' })
    ).toString(),
  ) as { params: Record<string, unknown>; fitSeconds: number };
  const mv = await gql<{
    model: { ranker: { name: string; params: unknown; fitSeconds: number; rankerSha256: string } };
  }>(`{ model(version: "${firstModel}") { ranker { name params fitSeconds rankerSha256 } } }`);
  expect(mv.model.ranker).toEqual({
    name: ranker.name,
    params: rankerJson.params,
    fitSeconds: rankerJson.fitSeconds,
    rankerSha256: createHash('sha256').update(rankerFile).digest('hex'),
  });

  const second = await modelAfter(
    async () => {
      const r = await gql<{ addRatings: { id: string } }>(
        'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id } }',
        { r: BATCH2 },
      );
      batch2 = r.addRatings.id;
    },
    (m) => m.ratingsCount === 13,
  );
  expect(second.algorithm).toBe('SVD');
});

test('updatePipeline to SVDpp produces a model whose algorithm says so', async () => {
  const bad = await postGraphQL(
    api!.server.graphqlUrl,
    'mutation { updatePipeline(algorithm: "SVDpp", params: {nFactor: 5}) { version } }',
  );
  expect(bad.body.errors?.[0].message).toMatch(/params\.nFactor.*unknown parameter 'nFactor'/);
  const info = await api!.pach.inspectPipeline('train');
  expect(info.version).toBe(1); // nothing changed

  let update: Record<string, unknown> = {};
  const model = await modelAfter(
    async () => {
      update = await gql(
        'mutation { updatePipeline(algorithm: "SVDpp", params: {nFactors: 5, nEpochs: 5}) { pipeline version algorithm params } }',
      );
    },
    (m) => m.algorithm === 'SVDpp',
  );
  expect(update.updatePipeline).toEqual({
    pipeline: 'train',
    version: 2,
    algorithm: 'SVDpp',
    params: { nFactors: 5, nEpochs: 5 },
  });
  expect(model).toMatchObject({ algorithm: 'SVDpp', ratingsCount: 13, pipelineVersion: 2 });
  const p = await gql<{ predict: { estimate: number; modelVersion: string } }>(
    '{ predict(userId: "u5", movieId: "m4") { estimate modelVersion } }',
  );
  expect(p.predict.modelVersion).toBe(model.version);
  expect(p.predict.estimate).toBe(await estimateOf(model.version as string, 'u5', 'm4'));
});

test('pinning the first model makes predict answer with it, also after a restart', async () => {
  const pinned = await modelAfter(
    () =>
      gql(`mutation { serveModel(version: "${firstModel}", reason: "rollback test") { version } }`),
    (m) => m.version === firstModel,
  );
  expect(pinned.servingReason).toMatch(/^pinned at .*: rollback test$/);
  const expected = await estimateOf(firstModel, 'u1', 'm4');
  const ask = () =>
    gql<{ predict: { estimate: number; modelVersion: string } }>(
      '{ predict(userId: "u1", movieId: "m4") { estimate modelVersion } }',
    );
  expect((await ask()).predict).toEqual({ estimate: expected, modelVersion: firstModel });

  await api!.stop();
  api = await start();
  expect((await ask()).predict).toEqual({ estimate: expected, modelVersion: firstModel });
  const m = await gql<{ model: { version: string; servingReason: string } }>(
    '{ model { version servingReason } }',
  );
  expect(m.model.version).toBe(firstModel);
  expect(m.model.servingReason).toMatch(/rollback test/);
});

test('removing a batch (after unpinning) yields a new model without those ratings', async () => {
  const unpinned = await modelAfter(
    () => gql('mutation { serveModel(version: null) { version } }'),
    (m) => m.algorithm === 'SVDpp',
  );
  expect(unpinned.servingReason).toBe('newest successful train commit');
  const trainingBefore = await count('training');
  const model = await modelAfter(
    async () => {
      const r = await gql<{ removeRatingBatch: { count: number; path: string } }>(
        `mutation { removeRatingBatch(id: "${batch2}") { path count commit } }`,
      );
      expect(r.removeRatingBatch).toMatchObject({ count: 3, path: `/batches/${batch2}.txt` });
    },
    (m) => m.ratingsCount === 10,
  );
  expect(model.algorithm).toBe('SVDpp');
  expect(await count('training')).toBe(trainingBefore + 1);
  const u5 = await gql<{ predict: { wasImpossible: boolean; modelVersion: string } }>(
    '{ predict(userId: "u5", movieId: "m1") { wasImpossible modelVersion } }',
  );
  expect(u5.predict).toEqual({ wasImpossible: true, modelVersion: model.version });
  // history is kept: the removed file is still in the commit that added it
  const old = await api!.pach.readFile({
    commit: `training@master^`,
    path: `/batches/${batch2}.txt`,
  });
  expect(old.toString().trim().split('\n')).toHaveLength(3);
});

async function count(repo: string): Promise<number> {
  let n = 0;
  for await (const c of api!.pach.listCommit(repo)) {
    void c;
    n++;
  }
  return n;
}

test('the CLI imports users, lists and downloads models, and refuses a bad pipeline update', async () => {
  const api_ = ['--api', api!.server.url];
  const csv = path.join(dir, 'users.csv');
  fs.writeFileSync(csv, 'userId,age,city\nu1,31,"Oslo, NO"\n\nu9,22,\n');
  const imp = await runCli(['import', 'users', csv, ...api_, '--json']);
  expect(imp.stderr).toBe('');
  expect(imp.code).toBe(0);
  expect(JSON.parse(imp.stdout)).toMatchObject({ kind: 'users', count: 2, replaced: 0 });
  const u1 = await gql<{ user: { attributes: Record<string, string>; age: number } }>(
    '{ user(id: "u1") { attributes age } }',
  );
  expect(u1.user).toEqual({ attributes: { age: '31', city: 'Oslo, NO' }, age: 31 });

  // a bad line: nothing is sent, the line is named
  fs.writeFileSync(csv, 'userId,age\nu1,31\nbad id,3\n');
  const before = await count('training');
  const bad = await runCli(['import', 'users', csv, ...api_]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(`${csv} line 3: id: id "bad id" has characters other than`);
  expect(await count('training')).toBe(before);

  const list = await runCli(['models', ...api_, '--json']);
  expect(list.code).toBe(0);
  const models = JSON.parse(list.stdout) as { version: string; serving: boolean }[];
  const serving = models.find((m) => m.serving)!;
  expect(serving.version).toBe(api!.services.models.currentVersion());

  const out = path.join(dir, 'downloaded.rgm');
  const dl = await runCli(['models', 'download', firstModel, '--out', out, ...api_]);
  expect(dl.stderr).toBe('');
  expect(dl.code).toBe(0);
  const stored = await api!.pach.readFile({
    commit: { repo: 'train', id: firstModel },
    path: '/model.rgm',
  });
  expect(fs.readFileSync(out).equals(stored)).toBe(true);
  const missing = await runCli(['models', 'download', 'f'.repeat(32), ...api_]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('not found (HTTP 404)');

  const upd = await runCli([
    'pipelines',
    'update',
    'train',
    '--algo',
    'SVDpp',
    '--params',
    '{"nFactor": 5}',
    ...api_,
  ]);
  expect(upd.code).toBe(1);
  expect(upd.stderr).toMatch(/BAD_USER_INPUT: .*params\.nFactor.*unknown parameter 'nFactor'/);
  expect((await api!.pach.inspectPipeline('train')).version).toBe(2);

  // search --apply: the best parameters of a grid go to the train pipeline (a new version)
  const ratings = path.join(dir, 'ratings.csv');
  fs.writeFileSync(
    ratings,
    'userId,movieId,rating\n' +
      BATCH1.map((r) => `${r.userId},${r.movieId},${r.rating}`).join('\n'),
  );
  const search = await runCli([
    'search',
    '--dataset',
    ratings,
    '--skip-lines',
    '1',
    '--sep',
    ',',
    '--rating-scale',
    '0.5,5',
    '--cv',
    '2',
    '--seed',
    '3',
    '--algo',
    'SVD',
    '--grid',
    '{"nFactors": [2, 3], "nEpochs": [4]}',
    '--apply',
    '--json',
    '--quiet',
    ...api_,
  ]);
  expect(search.stderr).toBe('');
  expect(search.code).toBe(0);
  const found = JSON.parse(search.stdout) as {
    best: { params: Record<string, unknown> };
    applied: { version: number; algorithm: string; params: Record<string, unknown> };
  };
  expect(found.applied).toMatchObject({ version: 3, algorithm: 'SVD', params: found.best.params });
  const spec = JSON.parse((await api!.pach.inspectPipeline('train')).effectiveSpecJson);
  expect(JSON.parse(spec.transform.env.REELGRAPH_PARAMS)).toEqual(found.best.params);
});
