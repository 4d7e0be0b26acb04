/**
 * The typed client (client/index.ts) against a real server (port 0) in front of the real embedded
 * engine and pipelines, bootstrapped with MovieLens 100K (REELGRAPH_DATASETS or
 * ../shared/datasets), over real HTTP and graphql-ws; network cuts through a real TCP proxy
 * (proxy.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import WebSocket from 'ws';
import {
  AddRatingsDocument,
  GraphQLRequestError,
  JobDetailDocument,
  JobsPageDocument,
  ModelVersionsDocument,
  OnlinePredictDocument,
  ReelgraphClient,
  UserRecommendationsDocument,
} from '../../client';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { createServices, type Services } from '../../src/services';
import { bootstrap, openEmbeddedEngine } from '../../src/services/bootstrap';
import { until } from '../server/clients';
import { startProxy, type Proxy } from './proxy';

jest.setTimeout(300_000);

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const TOKEN = 'client-test-token-0123456789abcdef';
const PAIRS = [
  { userId: '196', movieId: '242' },
  { userId: '1', movieId: '50' },
  { userId: '943', movieId: '1330' },
];

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;
let proxy: Proxy;
const clients: ReelgraphClient[] = [];

beforeAll(async () => {
  if (!fs.existsSync(path.join(DATASETS, 'ml-100k'))) {
    throw new Error(`MovieLens 100K not found in ${DATASETS} (set REELGRAPH_DATASETS)`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-client-'));
  const datasets = { datasetsDir: DATASETS, download: false };
  pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets });
  services = await createServices(pach, { dataset: datasets });
  await services.models.ready({ timeoutMs: 180_000 });
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }, { tokens: [TOKEN] }),
    logger: createLogger('silent'),
  });
  proxy = await startProxy(server.port);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await proxy?.close();
  await server?.close();
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function client(url: string, opts: Partial<ConstructorParameters<typeof ReelgraphClient>[0]> = {}) {
  const c = new ReelgraphClient({
    url,
    token: TOKEN,
    webSocketImpl: WebSocket,
    retry: { baseMs: 20, maxMs: 200 },
    ...opts,
  });
  clients.push(c);
  return c;
}

/** The serving model's own estimates (the `predict` query) for the pairs. */
async function online(c: ReelgraphClient) {
  return Promise.all(PAIRS.map(async (p) => (await c.query(OnlinePredictDocument, p)).predict));
}

test('one awaited predict (requestPredictions + subscribeToPrediction) returns the numbers of the predict query', async () => {
  const c = client(server.url);
  const answer = await c.predict(PAIRS);
  const direct = await online(c);
  expect(answer.ready).toBe(true);
  expect(answer.error).toBeNull();
  expect(answer.modelVersion).toBe(direct[0].modelVersion);
  expect(answer.predictions.map((p) => [p.userId, p.movieId])).toEqual(
    PAIRS.map((p) => [p.userId, p.movieId]),
  );
  answer.predictions.forEach((p, i) => {
    expect(p.estimate).toBeCloseTo(direct[i].estimate, 6);
    expect(p.wasImpossible).toBe(direct[i].wasImpossible);
    expect(p.estimate).toBeGreaterThanOrEqual(1);
    expect(p.estimate).toBeLessThanOrEqual(5);
  });
  expect(answer.latencyMs).toBeGreaterThan(0);

  // the same as an async iterator: the receipt, then the answer
  const steps = [];
  for await (const s of c.predictSteps(PAIRS)) steps.push(s);
  expect(steps.map((s) => s.step)).toEqual(['requested', 'answered']);
  const last = steps[1];
  if (last.step !== 'answered') throw new Error('no answer');
  expect(last.answer.predictions.map((p) => p.estimate)).toEqual(
    answer.predictions.map((p) => p.estimate),
  );
});

test('a connection cut while waiting for the answer still returns the answer, after a retry', async () => {
  const retries: number[] = [];
  const c = client(proxy.url, { onRetry: (_e, attempt) => retries.push(attempt) });
  proxy.armBlackhole();
  const before = proxy.pipes.length;
  const pending = c.predict(PAIRS);
  // the server pushed the answer on the first connection, and the network lost it
  await until(
    () => proxy.pipes.some((p) => p.blackholed && p.dropped.includes('subscribeToPrediction')),
    180_000,
    'the answer pushed into the cut connection',
  );
  proxy.cut();
  const answer = await pending;
  expect(retries.length).toBeGreaterThanOrEqual(1);
  const websockets = proxy.pipes.slice(before).filter((p) => p.websocket);
  expect(websockets.length).toBe(2); // the cut one and the one that got the answer
  const direct = await online(client(server.url));
  answer.predictions.forEach((p, i) => expect(p.estimate).toBeCloseTo(direct[i].estimate, 6));
});

test('jobUpdates resumes after a cut from the last job seen: nothing lost, nothing twice', async () => {
  const c = client(proxy.url);
  const direct = client(server.url);
  proxy.armBlackhole();
  const it = c.jobUpdates({ pipeline: 'train' });
  const got: { id: string; state: string }[] = [];
  const reading = (async () => {
    for await (const j of it) {
      got.push({ id: j.id, state: j.state });
      if (j.state === 'SUCCESS') break;
    }
  })();
  // wait until the subscription streams on the server (its open-subscriptions gauge)
  const open = async () => {
    const m = await server.metrics.registry.getSingleMetric('reelgraph_subscriptions_open')!.get();
    return m.values.reduce((n, v) => n + v.value, 0);
  };
  for (const t0 = Date.now(); (await open()) < 1;) {
    if (Date.now() - t0 > 10_000) throw new Error('the subscription never started');
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(proxy.pipes.some((p) => p.blackholed && p.websocket)).toBe(true);
  const batch = await direct.mutate(AddRatingsDocument, {
    ratings: [{ userId: '7001', movieId: '1', rating: 5 }],
  });
  const jobId = batch.addRatings.commit;
  await until(
    () =>
      proxy.pipes.some(
        (p) => p.blackholed && p.dropped.includes(jobId) && p.dropped.includes('SUCCESS'),
      ),
    180_000,
    'the train job’s SUCCESS pushed into the cut connection',
  );
  proxy.cut();
  await reading;
  expect(got.at(-1)).toEqual({ id: jobId, state: 'SUCCESS' });
  expect(new Set(got.map((g) => `${g.id}:${g.state}`)).size).toBe(got.length);
  expect(got.every((g) => g.id === jobId)).toBe(true);
});

test('queries are typed documents; bad input rejects with the GraphQL error; a wrong token is refused', async () => {
  const c = client(server.url);
  const models = await c.query(ModelVersionsDocument, { first: 5 });
  expect(models.models.filter((m) => m.serving)).toHaveLength(1);
  const recs = await c.query(UserRecommendationsDocument, { userId: '196', first: 3 });
  expect(recs.recommendations.items.map((i) => i.rank)).toEqual([1, 2, 3]);
  const scores = recs.recommendations.items.map((i) => i.score);
  expect([...scores].sort((a, b) => b - a)).toEqual(scores);

  const bad = await c.predict([{ userId: 'bad id!', movieId: '1' }]).catch((e) => e);
  expect(bad).toBeInstanceOf(GraphQLRequestError);
  expect((bad as GraphQLRequestError).code).toBe('BAD_USER_INPUT');

  const wrong = client(server.url, {
    token: 'wrong-token-0123456789abcdef',
    retry: { attempts: 0 },
  });
  const refused = await wrong.requestPredictions(PAIRS).catch((e) => e);
  expect(refused).toBeInstanceOf(GraphQLRequestError);
  expect((refused as GraphQLRequestError).code).toBe('UNAUTHENTICATED');
});

test("a job's detail lists its datums (input files, state) and its log lines", async () => {
  const c = client(server.url);
  const page = await c.query(JobsPageDocument, { first: 100, pipeline: 'train' });
  const first = page.jobHistory.nodes.at(-1)!; // the bootstrap's train job
  const { job } = await c.query(JobDetailDocument, { id: first.id, pipeline: 'train' });
  expect(job.state).toBe('SUCCESS');
  // the train pipeline's glob is the whole training repo: one datum, processed
  expect(job.datums).toHaveLength(job.dataTotal);
  expect(job.datums[0].state).toBe('SUCCESS');
  expect(job.datums[0].files.length).toBeGreaterThan(0);
  for (const f of job.datums[0].files) expect(f).toMatch(/^training@[0-9a-f]{32}:\//);
  for (const l of job.logs) {
    expect(Number.isNaN(Date.parse(l.ts))).toBe(false);
    expect(typeof l.message).toBe('string');
  }
  const bad = await c
    .query(JobDetailDocument, { id: 'f'.repeat(32), pipeline: 'train' })
    .catch((e) => e);
  expect((bad as GraphQLRequestError).code).toBe('NOT_FOUND');
});
