/**
 * Requests stay answered forever, with the answer and model version first given, while the work
 * of a retrain does not grow with them. Real HTTP and WebSocket (port 0) in front of the real
 * embedded engine and the real train/predict pipelines (batched predict, as `reelgraph serve`
 * runs it), on a small hand-made data set so each retrain is quick:
 * - an empty service: REST /predict answers 503 and commits nothing; a GraphQL request waits
 *   (pending, no error) and is answered once the first model exists, by that model;
 * - requests answered by model 1, then 3 retrains (each changes the estimates): each old request
 *   still gives its original answer and model 1 through `prediction`, a late
 *   `subscribeToPrediction` and REST /result; each retrain's predict job has no datum (every
 *   answered request was retired from the head of `streaming`), while the answers stay at
 *   `predict@<request>`;
 * - a request whose own predict job was killed stays pending across a retrain and gets the new
 *   model's answer;
 * - `predictionHistory` lists the requests newest first with answers and model versions, with
 *   cursors and a user filter;
 * - a train job failing in a throwing plugin (test/fixtures/plugins/throws.js): the serving
 *   version's `newerFailedJob` and `jobHistory` show the FAILURE, 10 requests are answered by the
 *   previous model, and the next good model takes over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { loadModel } from '../../src/engine/model-file';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { FileType, type JobInfo, JobState } from '../../src/pachyderm/types';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { createServices, type Services } from '../../src/services';
import { PIPELINES, openEmbeddedEngine, pipelineSpecFor } from '../../src/services/bootstrap';
import { ModelPublisher } from '../../src/services/model-publisher';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

jest.setTimeout(180_000);

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;
const publisher = () => new ModelPublisher(pach);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-history-'));
  pach = await openEmbeddedEngine(dir);
  for (const repo of ['training', 'streaming', 'models']) await pach.createRepo(repo);
  for (const p of PIPELINES) await pach.createPipeline(pipelineSpecFor(p, pach));
  services = await createServices(pach, { dataset: { datasetsDir: dir, download: false } });
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }, {}),
    logger: createLogger('silent'),
  });
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const FIELDS =
  'requestId ready error modelVersion foldedInThrough answerCommit predictions { userId movieId estimate wasImpossible }';

interface Result {
  requestId: string;
  ready: boolean;
  error: string | null;
  modelVersion: string | null;
  foldedInThrough: string | null;
  answerCommit: string | null;
  predictions: { userId: string; movieId: string; estimate: number; wasImpossible: boolean }[];
}

async function gql(query: string, variables?: Record<string, unknown>) {
  const r = await postGraphQL(server.graphqlUrl, query, { variables });
  expect(r.body.errors).toBeUndefined();
  return r.body.data as Record<string, unknown>;
}

async function request(pairs: [string, string][]): Promise<string> {
  const d = await gql(
    'mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId commit } }',
    { p: pairs.map(([userId, movieId]) => ({ userId, movieId })) },
  );
  const r = d.requestPredictions as { requestId: string; commit: string };
  expect(r.commit).toBe(r.requestId); // the request id is its streaming commit
  return r.requestId;
}

async function prediction(id: string): Promise<Result> {
  return (await gql(`query($id: ID!) { prediction(requestId: $id) { ${FIELDS} } }`, { id }))
    .prediction as Result;
}

/** Subscribes and returns the one pushed result. */
async function pushed(id: string): Promise<Result> {
  const client = modernClient(server.wsUrl);
  try {
    const sub = modernSubscribe(
      client,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${FIELDS} } }`,
      { id },
    );
    await until(() => sub.completed || sub.errors.length > 0, 90_000, `the result of ${id}`);
    expect(sub.errors).toEqual([]);
    expect(sub.results).toHaveLength(1);
    return (sub.results[0] as { subscribeToPrediction: Result }).subscribeToPrediction;
  } finally {
    await client.dispose();
  }
}

async function rest(route: string, body: unknown) {
  const res = await fetch(server.url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The estimates of the model of `train@version`, by the engine from the model file. */
async function estimates(version: string, pairs: [string, string][]): Promise<number[]> {
  const algo = loadModel(
    await pach.readFile({ commit: { repo: 'train', id: version }, path: '/model.rgm' }),
  );
  return pairs.map(([u, i]) => algo.predict(u, i).est);
}

/** Request files at the head of `streaming` (the pending requests). */
async function pendingFiles(): Promise<string[]> {
  const out: string[] = [];
  for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
    if (f.fileType === FileType.FILE) out.push(f.file.path);
  }
  return out;
}

/**
 * Adds ratings, waits until their model is published to `models` and the predict job of that
 * `models` commit finished; returns the model version and that job.
 */
async function retrain(ratings: [string, string, number][]) {
  const batch = await services.ratings.addRatings(
    ratings.map(([userId, movieId, rating]) => ({ userId, movieId, rating })),
  );
  const train = await pach.inspectJob({ pipeline: 'train', id: batch.commit }, { wait: true });
  expect(train.state).toBe(JobState.JOB_SUCCESS);
  const version = train.outputCommit.id;
  let published = false;
  const t0 = Date.now();
  while (!published) {
    published = (await publisher().record())?.version === version;
    if (!published && Date.now() - t0 > 60_000) throw new Error(`${version} not published`);
    if (!published) await new Promise((r) => setTimeout(r, 20));
  }
  const models = await pach.inspectCommit('models@master');
  const job = await pach.inspectJob({ pipeline: 'predict', id: models.commit.id }, { wait: true });
  expect(job.state).toBe(JobState.JOB_SUCCESS);
  await services.models.ready();
  await until(() => services.models.currentVersion() === version, 60_000, 'the model swap');
  return { version, job };
}

const PAIRS: [string, string][] = [
  ['a', 'x'],
  ['b', 'y'],
  ['z', 'x'],
];

let first: { id: string; result: Result; text: string; version: string };
const old: { id: string; result: Result; text: string }[] = [];

test('an empty service: REST /predict is 503 and commits nothing; a GraphQL request waits for the first model', async () => {
  const before = await countCommits('streaming');
  const r = await rest('/predict', { data: ['a x'] });
  expect(r.status).toBe(503);
  expect(String(r.json.error)).toMatch(/no model is available yet/);
  expect(await countCommits('streaming')).toBe(before);

  const id = await request(PAIRS);
  const job = await pach.inspectJob({ pipeline: 'predict', id }, { wait: true });
  expect(job.state).toBe(JobState.JOB_SUCCESS);
  expect(job.dataTotal).toBe(0); // no model in `models`: no datum
  expect(await prediction(id)).toMatchObject({ ready: false, error: null, modelVersion: null });
  const waiting = pushed(id);
  const { version } = await retrain([
    ['a', 'x', 4],
    ['a', 'y', 2],
    ['b', 'x', 5],
    ['b', 'y', 1],
  ]);
  const result = await waiting;
  expect(result).toMatchObject({ ready: true, error: null, modelVersion: version });
  expect(result.predictions.map((p) => p.estimate)).toEqual(await estimates(version, PAIRS));
  expect(result.predictions.map((p) => p.wasImpossible)).toEqual([false, false, true]);
  // answered by the job of the first model's `models` commit, then retired
  expect(result.answerCommit).toBe((await pach.inspectCommit('models@master')).commit.id);
  const rest1 = await rest('/result', { filename: id });
  expect(rest1.json).toMatchObject({ ready: true });
  first = { id, result, text: String(rest1.json.data), version };
});

async function countCommits(repo: string): Promise<number> {
  let n = 0;
  try {
    for await (const c of pach.listCommit(repo)) {
      void c;
      n++;
    }
  } catch {
    return 0;
  }
  return n;
}

test('old requests keep their first answer and model version across 3 retrains; a retrain re-answers nothing', async () => {
  for (let k = 0; k < 3; k++) {
    const id = await request(PAIRS);
    const result = await pushed(id);
    expect(result).toMatchObject({ ready: true, error: null, modelVersion: first.version });
    expect(result.answerCommit).toBe(id); // answered by its own job: predict@<request>
    const r = await rest('/result', { filename: id });
    old.push({ id, result, text: String(r.json.data) });
  }
  // every answered request leaves the head of `streaming` (retired in few commits)
  await waitUntil(async () => (await pendingFiles()).length === 0, 'the retirements');

  let previous = first.version;
  for (let n = 1; n <= 3; n++) {
    const { version, job } = await retrain([['a', 'x', n % 2 ? 1 : 5]]);
    expect(version).not.toBe(previous);
    previous = version;
    // the retrain's predict job has nothing to re-answer: its cost does not grow with history
    expect(job.dataTotal).toBe(0);
    const now = await estimates(version, PAIRS);
    expect(now[0]).not.toBe(old[0].result.predictions[0].estimate);
    for (const o of [first, ...old]) {
      expect(await prediction(o.id)).toEqual(o.result);
      expect(await pushed(o.id)).toEqual(o.result); // a late subscriber gets it at once
      const r = await rest('/result', { filename: o.id });
      expect(r.json).toEqual({ ready: true, data: o.text });
    }
  }
  // a new request is answered by the newest model
  const id = await request(PAIRS);
  const result = await pushed(id);
  expect(result.modelVersion).toBe(previous);
  expect(result.predictions.map((p) => p.estimate)).toEqual(await estimates(previous, PAIRS));
});

test('a request whose own job was killed stays pending and is answered by the next job with a model: the rating batch’s fold-in commit, before the retrain', async () => {
  // the requests of the test before are answered; wait for their retirement (≤ 200 ms apart)
  await waitUntil(async () => (await pendingFiles()).length === 0, 'the earlier retirements');
  const before = services.models.currentVersion()!;
  await pach.stopPipeline('predict');
  let id: string;
  let batch: { commit: string };
  try {
    id = await request(PAIRS);
    await pach.stopJob({ pipeline: 'predict', id }, { reason: 'stopped by the test' });
    expect((await pach.inspectJob({ pipeline: 'predict', id })).state).toBe(JobState.JOB_KILLED);
    expect(await pendingFiles()).toEqual([`/${id}`]);
    // the batch's fold-in `models` commit and the retrain's make predict jobs, queued while the
    // pipeline is stopped (a user of no request pair: the answers stay the trained model's)
    batch = await services.ratings.addRatings([{ userId: 'w', movieId: 'x', rating: 2 }]);
    await pach.inspectJob({ pipeline: 'train', id: batch.commit }, { wait: true });
    await waitUntil(
      async () => (await publisher().record())?.version !== before,
      'the new model published',
    );
  } finally {
    await pach.startPipeline('predict');
  }
  // models@master: the retrain's model; its parent: the batch published with the model before
  const models = await pach.inspectCommit('models@master');
  expect((await publisher().record())!.version).not.toBe(before);
  const foldIn = models.parentCommit!.id;
  expect(await publisher().record(foldIn)).toMatchObject({
    version: before,
    foldIn: { through: batch!.commit, batches: 1 },
  });
  const job = await pach.inspectJob({ pipeline: 'predict', id: foldIn }, { wait: true });
  expect(job.dataProcessed).toBe(1); // only the pending request
  const result = await prediction(id!);
  expect(result).toMatchObject({
    ready: true,
    error: null,
    modelVersion: before,
    foldedInThrough: batch!.commit,
    answerCommit: foldIn,
  });
  expect(result.predictions.map((p) => p.estimate)).toEqual(await estimates(before, PAIRS));
  expect(await pushed(id!)).toEqual(result);
  await waitUntil(async () => (await pendingFiles()).length === 0, 'the retirement');
});

test('predictionHistory lists requests newest first with answers and model versions, by page and by user', async () => {
  const all: { requestId: string; requestedAt: string; result: Result }[] = [];
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const d = await gql(
      `query($after: String) { predictionHistory(first: 2, after: $after) {
         edges { cursor node { requestId requestedAt result { ${FIELDS} } } }
         pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    const conn = d.predictionHistory as {
      edges: { node: { requestId: string; requestedAt: string; result: Result } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
    expect(conn.edges.length).toBeLessThanOrEqual(2);
    all.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  // first, the 3 old ones, the one after the retrains, the killed one: 6, newest first
  expect(all).toHaveLength(6);
  expect(all[5]).toMatchObject({ requestId: first.id, result: first.result });
  expect(all.slice(2, 5).reverse()).toMatchObject(
    old.map((o) => ({ requestId: o.id, result: o.result })),
  );
  const times = all.map((e) => Date.parse(e.requestedAt));
  expect([...times].sort((a, b) => b - a)).toEqual(times);
  for (const e of all) expect(e.result.ready).toBe(true);

  const mine = await gql('query { predictionHistory(userId: "nobody") { nodes { requestId } } }');
  expect(mine.predictionHistory).toEqual({ nodes: [] });
  const byB = await gql(
    'query { predictionHistory(userId: "b", first: 100) { nodes { requestId } } }',
  );
  expect((byB.predictionHistory as { nodes: unknown[] }).nodes).toHaveLength(6);
  const bad = await postGraphQL(
    server.graphqlUrl,
    'query { predictionHistory(first: 101) { nodes { requestId } } }',
  );
  expect(bad.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

async function waitUntil(pred: () => Promise<boolean>, what: string, ms = 60_000) {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a train job failing in a throwing plugin: 10 requests answered by the previous model; the failure is visible; the next good model takes over', async () => {
  const spec = pipelineSpecFor('train', pach) as { transform: { env: Record<string, string> } };
  const broken = {
    ...spec,
    transform: {
      ...spec.transform,
      env: {
        ...spec.transform.env,
        REELGRAPH_PLUGINS: path.resolve(__dirname, '../fixtures/plugins/throws.js'),
      },
    },
  };
  await pach.createPipeline(broken, { update: true });
  // the update's own job (same data) may give a model: let it settle before measuring
  let update: JobInfo | undefined;
  for await (const j of pach.listJob({ pipeline: 'train', number: 1 })) update = j;
  update = await pach.inspectJob(update!.job, { wait: true });
  if (update.state === JobState.JOB_SUCCESS) {
    await waitUntil(
      async () => services.models.currentVersion() === update!.outputCommit.id,
      'the update job’s model',
    );
  }
  const serving = services.models.currentVersion()!;
  // a user of no request pair: the requests below are answered by the trained model alone
  const batch = await services.ratings.addRatings([{ userId: 'w', movieId: 'y', rating: 5 }]);
  const failed = await pach.inspectJob({ pipeline: 'train', id: batch.commit }, { wait: true });
  expect(failed.state).toBe(JobState.JOB_FAILURE);
  expect(failed.reason).toMatch(/exited with code 1/);
  const logs: string[] = [];
  for await (const l of pach.getLogs({ job: { pipeline: 'train', id: batch.commit } })) {
    logs.push(l.message);
  }
  expect(logs.join('\n')).toMatch(/boom at load/);
  // the serving version says the newest failed (modelUpdated pushes the same: test/resolvers)
  await waitUntil(
    async () => services.models.newerFailedJob()?.job.id === batch.commit,
    'the failure on the serving model',
  );
  const m0 = await gql('{ model { version serving newerFailedJob { id state reason } } }');
  expect(m0.model).toEqual({
    version: serving,
    serving: true,
    newerFailedJob: { id: batch.commit, state: 'FAILURE', reason: failed.reason },
  });
  const history = await gql(
    'query { jobHistory(pipeline: "train", first: 1) { nodes { id state reason } } }',
  );
  expect(history.jobHistory).toEqual({
    nodes: [{ id: batch.commit, state: 'FAILURE', reason: failed.reason }],
  });

  const want = await estimates(serving, PAIRS);
  const ids: string[] = [];
  for (let k = 0; k < 10; k++) ids.push(await request(PAIRS));
  for (const id of ids) {
    const r = await pushed(id);
    expect(r).toMatchObject({ ready: true, error: null, modelVersion: serving, answerCommit: id });
    expect(r.predictions.map((p) => p.estimate)).toEqual(want);
  }

  // the plugin fixed: the update's job trains on the same data, and that model takes over
  await pach.createPipeline(pipelineSpecFor('train', pach), { update: true });
  let fixed: JobInfo | undefined;
  for await (const j of pach.listJob({ pipeline: 'train', number: 1 })) fixed = j;
  fixed = await pach.inspectJob(fixed!.job, { wait: true });
  expect(fixed.state).toBe(JobState.JOB_SUCCESS);
  const next = fixed.outputCommit.id;
  await waitUntil(async () => services.models.currentVersion() === next, 'the next good model');
  const m = await gql('{ model { version newerFailedJob { id } } }');
  expect(m.model).toEqual({ version: next, newerFailedJob: null });
  const after = await pushed(await request(PAIRS));
  expect(after.modelVersion).toBe(next);
  expect(after.predictions.map((p) => p.estimate)).toEqual(await estimates(next, PAIRS));
});
