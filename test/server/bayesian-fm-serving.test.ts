/**
 * BayesianFM through the whole product, over real HTTP and WebSocket (port 0) in front of the real
 * embedded engine and pipelines, on MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets):
 * the train pipeline's one setting `REELGRAPH_ALGO=BayesianFM` (small sampler parameters in
 * `REELGRAPH_PARAMS`, to keep the test short); the first training commit carries ml-100k's movies
 * and users; a users catalogue file adds a user with attributes and no rating. Then
 * subscribeToPrediction, REST /result and the recommendations query answer with values equal to
 * the engine's own fit on the same data (what `reelgraph evaluate` fits: the Dataset of u.data
 * with the built-in side information), the new user answered from the attributes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { BayesianFM } from '../../src/engine/algorithms';
import { Dataset } from '../../src/engine/dataset/dataset';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { JobState } from '../../src/pachyderm/types';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { createServices, type Services } from '../../src/services';
import {
  MODELS_REPO,
  STREAMING_REPO,
  TRAINING_REPO,
  bootstrap,
  loadPipelineSpec,
  openEmbeddedEngine,
  pipelineSpecFor,
} from '../../src/services/bootstrap';
import { recommend } from '../../src/engine/top-n';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

jest.setTimeout(300_000);

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const TOKEN = 'bfm-token-0123456789abcdef-000001';
const PARAMS = { nFactors: 4, nSamples: 4, burnIn: 2, nStoredSamples: 2 };
const NEW_USER = '5000';
const USERS_FILE = '/users/1765000000000-00000000000000aa.csv';

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;
let version: string;
let baseFiles: string[];

beforeAll(async () => {
  if (!fs.existsSync(path.join(DATASETS, 'ml-100k', 'u.data'))) {
    throw new Error(`MovieLens 100K not found under ${DATASETS} (set REELGRAPH_DATASETS)`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-bfm-'));
  const datasets = { datasetsDir: DATASETS, download: false };
  pach = await openEmbeddedEngine(dir);
  // The one setting: the train pipeline's REELGRAPH_ALGO (created before bootstrap, which then
  // leaves it as it is).
  for (const repo of [TRAINING_REPO, STREAMING_REPO, MODELS_REPO]) await pach.createRepo(repo);
  const train = loadPipelineSpec('train') as { transform: { env: Record<string, string> } };
  train.transform.env.REELGRAPH_ALGO = 'BayesianFM';
  train.transform.env.REELGRAPH_PARAMS = JSON.stringify(PARAMS);
  // no ranker: recommendations then rank by the rating model's estimates (rankedBy BayesianFM)
  train.transform.env.REELGRAPH_RANKER = 'none';
  await pach.createPipeline(train as unknown as Record<string, unknown>);
  await pach.createPipeline(pipelineSpecFor('predict', pach));
  const boot = await bootstrap(pach, { datasets });
  expect(boot.model!.metrics.algorithm).toBe('BayesianFM');
  baseFiles = boot.baseFiles;
  // a user with attributes and no rating, through a catalogue file of the agreed layout
  const c = await pach.modifyFile('training@master', [
    {
      op: 'put',
      path: USERS_FILE,
      data: `userId,age,gender,occupation,zip\n${NEW_USER},23,F,writer,94110\n`,
    },
  ]);
  const job = await pach.inspectJob({ pipeline: 'train', id: c.id }, { wait: true });
  expect(job.state).toBe(JobState.JOB_SUCCESS);
  version = job.outputCommit.id;
  services = await createServices(pach, { maxItems: 50, dataset: datasets });
  await services.models.ready({ timeoutMs: 60_000 });
  await until(() => services.models.currentVersion() === version, 60_000, 'the newest model');
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }, { tokens: [TOKEN], limits: { maxItems: 50 } }),
    logger: createLogger('silent'),
  });
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The engine's own fit on the same data: u.data in file order, ml-100k's attributes plus the new user. */
async function ownFit(): Promise<BayesianFM> {
  const ds = await Dataset.loadBuiltinWithSideInfo('ml-100k', {
    datasetsDir: DATASETS,
    download: false,
  });
  const users = new Map(ds.sideInfo!.users);
  users.set(NEW_USER, { age: '23', gender: 'F', occupation: 'writer', zip: '94110' });
  const ts = ds.withSideInfo({ users, items: ds.sideInfo!.items }).buildFullTrainset();
  return new BayesianFM({ ...PARAMS, randomState: 0 }).fit(ts);
}

test('the first training commit holds ml-100k’s movies and users in the agreed layout', async () => {
  const moviesFile = baseFiles.find((f) => f.startsWith('/movies/'))!;
  const usersFile = baseFiles.find((f) => f.startsWith('/users/'))!;
  expect(moviesFile).toMatch(/^\/movies\/\d{13}-[0-9a-f]{16}\.csv$/);
  expect(usersFile).toMatch(/^\/users\/\d{13}-[0-9a-f]{16}\.csv$/);
  const movies = (await pach.readFile({ commit: 'training@master', path: moviesFile })).toString();
  const users = (await pach.readFile({ commit: 'training@master', path: usersFile })).toString();
  expect(movies.split('\n')[0]).toMatch(/^movieId,title,genres,year(,|$)/);
  expect(movies.split('\n')[1]).toMatch(
    /^1,Toy Story \(1995\),Animation\|Children's\|Comedy,1995(,|$)/,
  );
  expect(movies.trim().split('\n')).toHaveLength(1683);
  expect(users.split('\n').slice(0, 2)).toEqual([
    'userId,age,gender,occupation,zip',
    '1,24,M,technician,85711',
  ]);
  expect(users.trim().split('\n')).toHaveLength(944);
});

test('subscribeToPrediction, REST /result and recommendations answer with the engine’s own values', async () => {
  const own = await ownFit();
  const pairs: [string, string][] = [
    ['1', '1'],
    ['196', '242'],
    [NEW_USER, '50'],
    ['no-such-user', '50'],
  ];
  const expected = pairs.map(([u, i]) => own.predict(u, i).est);
  // the new user's estimate comes from the attributes: not the same as a user without any
  expect(expected[2]).not.toBe(expected[3]);

  const client = modernClient(server.wsUrl, { token: TOKEN });
  try {
    const req = await postGraphQL(
      server.graphqlUrl,
      'mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId } }',
      { token: TOKEN, variables: { p: pairs.map(([userId, movieId]) => ({ userId, movieId })) } },
    );
    expect(req.status).toBe(200);
    const requestId = (req.body.data as { requestPredictions: { requestId: string } })
      .requestPredictions.requestId;
    const sub = modernSubscribe(
      client,
      'subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready modelVersion predictions { userId movieId estimate wasImpossible } } }',
      { id: requestId },
    );
    await until(() => sub.completed || sub.errors.length > 0, 120_000, 'the prediction');
    expect(sub.errors).toEqual([]);
    const pushed = (
      sub.results[0] as {
        subscribeToPrediction: {
          modelVersion: string;
          predictions: { estimate: number; wasImpossible: boolean }[];
        };
      }
    ).subscribeToPrediction;
    expect(pushed.modelVersion).toBe(version);
    expect(pushed.predictions.map((p) => p.estimate)).toEqual(expected);
    expect(pushed.predictions.map((p) => p.wasImpossible)).toEqual([false, false, true, true]);

    // REST: /predict then /result, the Flask-era routes
    const post = async (route: string, body: unknown) =>
      (await (
        await fetch(server.url + route, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, unknown>;
    const { filename } = await post('/predict', { data: pairs.map((p) => p.join(' ')) });
    expect(filename).toMatch(/^[0-9a-f]{32}$/);
    let result: Record<string, unknown> = {};
    const t0 = Date.now();
    for (;;) {
      result = await post('/result', { filename });
      if (result.ready === true) break;
      if (Date.now() - t0 > 120_000) throw new Error('no REST result after 120 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = String(result.data).trim().split('\n');
    expect(lines.map((l) => Number(l.split(' ')[2]))).toEqual(expected);
  } finally {
    await client.dispose();
  }

  // recommendations: the engine's top 5 for a known user and for the new one
  for (const userId of ['196', NEW_USER]) {
    const r = await postGraphQL(
      server.graphqlUrl,
      'query($u: ID!) { recommendations(userId: $u, first: 5) { knownUser rankedBy items { movieId score } } }',
      { token: TOKEN, variables: { u: userId } },
    );
    expect(r.body.errors).toBeUndefined();
    const recs = (
      r.body.data as {
        recommendations: {
          knownUser: boolean;
          rankedBy: string;
          items: { movieId: string; score: number }[];
        };
      }
    ).recommendations;
    expect(recs.knownUser).toBe(userId !== NEW_USER);
    expect(recs.rankedBy).toBe('BayesianFM');
    expect(recs.items).toEqual(
      recommend(own, userId, { k: 5 }).map((x) => ({ movieId: x.iid, score: x.est })),
    );
  }
});
