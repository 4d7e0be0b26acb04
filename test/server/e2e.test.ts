/**
 * End to end over real HTTP and WebSocket (port 0) in front of the real embedded engine and the
 * real train/predict pipelines, bootstrapped once for the file on a temp data directory with
 * MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets):
 * - addRatings → modelUpdated is pushed (for the model of that batch's commit) → requestPredictions
 *   → subscribeToPrediction pushes estimates equal to that model's own (the model file read back
 *   from the `train` repo and loaded by the engine); a subscriber arriving after the job finished
 *   (legacy protocol) still gets the result;
 * - invalid input (GraphQL and REST) is refused naming every item's index, and commits nothing;
 * - the Flask sample session through the REST routes; filenames are opaque request ids;
 * - tokens hold on the REST routes and the real mutations;
 * - a failing train job (a training file the train program rejects) is in the job history and
 *   stops no prediction: 10 requests after it are answered by the previous model.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import { loadModel } from '../../src/engine/model-file';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { JobState } from '../../src/pachyderm/types';
import { createServices, type Services } from '../../src/services';
import { bootstrap, openEmbeddedEngine } from '../../src/services/bootstrap';
import { isRequestDescription, isRetireDescription } from '../../src/services/streaming';
import {
  legacyClient,
  legacySubscribe,
  modernClient,
  modernSubscribe,
  postGraphQL,
  until,
} from './clients';

jest.setTimeout(120_000);

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const TOKEN = 'e2e-token-0123456789abcdef-00001';
const MAX_ITEMS = 50;

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-e2e-'));
  const datasets = { datasetsDir: DATASETS, download: false };
  pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets });
  services = await createServices(pach, { maxItems: MAX_ITEMS, dataset: datasets });
  await services.models.ready({ timeoutMs: 60_000 });
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }, { tokens: [TOKEN], limits: { maxItems: MAX_ITEMS } }),
    logger: createLogger('silent'),
  });
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  await pach?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The estimates of the model in `train@version`, computed by the engine from the model file. */
async function modelEstimates(version: string, pairs: [string, string][]): Promise<number[]> {
  const buf = await pach.readFile({ commit: { repo: 'train', id: version }, path: '/model.rgm' });
  const algo = loadModel(buf);
  return pairs.map(([u, i]) => algo.predict(u, i).est);
}

/**
 * Commits of a repo, leaving out the retire-only commits of `streaming` (housekeeping the service
 * makes on its own schedule after earlier answers, not a write of a client).
 */
async function commitCount(repo: string): Promise<number> {
  let n = 0;
  for await (const c of pach.listCommit(repo)) {
    if (!isRetireOnly(c.description)) n++;
  }
  return n;
}

function isRetireOnly(description: string): boolean {
  return isRetireDescription(description) && !isRequestDescription(description);
}

/** POSTs JSON to a REST route (with the token unless `token: null`). */
async function rest(
  route: string,
  body: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(server.url + route, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Polls /readyz until its model differs from `previous`. */
async function waitForNewModel(previous: string): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const r = (await (await fetch(`${server.url}/readyz`)).json()) as { model?: string };
    if (r.model && r.model !== previous) return r.model;
    if (Date.now() - t0 > 90_000) throw new Error('no new model after 90 s');
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Polls /result until ready. */
async function restResult(
  filename: string,
): Promise<{ data: string; ready: boolean; error?: string }> {
  const t0 = Date.now();
  for (;;) {
    const r = await rest('/result', { filename });
    expect(r.status).toBe(200);
    if (r.json.ready) return r.json as { data: string; ready: boolean; error?: string };
    if (Date.now() - t0 > 90_000) throw new Error('no result after 90 s');
    await new Promise((res) => setTimeout(res, 100));
  }
}

const PREDICTION_FIELDS =
  'requestId ready error modelVersion predictions { userId movieId estimate wasImpossible }';

interface PushedResult {
  subscribeToPrediction: {
    requestId: string;
    ready: boolean;
    error: string | null;
    modelVersion: string | null;
    predictions: { userId: string; movieId: string; estimate: number; wasImpossible: boolean }[];
  };
}

test('addRatings → modelUpdated → requestPredictions → subscribeToPrediction pushes the model’s own estimates', async () => {
  const before = services.models.currentVersion();
  expect(before).toMatch(/^[0-9a-f]{32}$/);
  const client = modernClient(server.wsUrl, { token: TOKEN });
  try {
    const updates = modernSubscribe(
      client,
      'subscription { modelUpdated { version trainingCommit ratingsCount usersCount } }',
    );
    // the listener attaches once the subscribe message is processed: it is live when a probe
    // published on the bus reaches it (probes are left out below)
    for (let i = 0; !updates.results.length; i++) {
      services.events.publish('MODEL_UPDATED', {
        version: `probe-${i}`,
        algorithm: 'probe',
        params: {},
        ratingsCount: 0,
        duplicatesReplaced: null,
        pipelineVersion: null,
        usersCount: 0,
        itemsCount: 0,
        holdout: null,
        fitSeconds: null,
        trainingCommit: null,
        modelSha256: null,
        createdAt: new Date(),
        finishedAt: null,
        ranker: null,
      });
      await new Promise((r) => setTimeout(r, 5));
      if (i > 2000) throw new Error('the modelUpdated subscription never became live');
    }
    const isProbe = (r: Record<string, unknown>) =>
      String((r as { modelUpdated: { version: string } }).modelUpdated.version).startsWith(
        'probe-',
      );
    // user 1 re-rates movie 1 (a pair of u.data: the latest wins), user 944 is new
    const add = await postGraphQL(
      server.graphqlUrl,
      'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id commit count } }',
      {
        token: TOKEN,
        variables: {
          r: [
            { userId: '1', movieId: '1', rating: 1, timestamp: 900000000 },
            { userId: '944', movieId: '50', rating: 5 },
          ],
        },
      },
    );
    expect(add.status).toBe(200);
    const batch = (add.body.data as { addRatings: { commit: string; count: number } }).addRatings;
    expect(batch.count).toBe(2);
    await until(
      () => updates.results.some((r) => !isProbe(r)) || updates.errors.length > 0,
      90_000,
      'modelUpdated',
    );
    expect(updates.errors).toEqual([]);
    const model = (
      updates.results.find((r) => !isProbe(r)) as { modelUpdated: Record<string, unknown> }
    ).modelUpdated;
    // 100 000 ratings of u.data (distinct pairs), the (1, 1) pair replaced, one new pair
    expect(model).toMatchObject({
      trainingCommit: batch.commit,
      ratingsCount: 100_001,
      usersCount: 944,
    });
    expect(model.version).not.toBe(before);
    expect(services.models.currentVersion()).toBe(model.version);

    const pairs: [string, string][] = [
      ['1', '1'],
      ['944', '50'],
      ['196', '242'],
      ['no-such-user', '1'],
    ];
    const req = await postGraphQL(
      server.graphqlUrl,
      'mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId commit count } }',
      { token: TOKEN, variables: { p: pairs.map(([userId, movieId]) => ({ userId, movieId })) } },
    );
    expect(req.status).toBe(200);
    const requestId = (req.body.data as { requestPredictions: { requestId: string } })
      .requestPredictions.requestId;
    const sub = modernSubscribe(
      client,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${PREDICTION_FIELDS} } }`,
      { id: requestId },
    );
    await until(() => sub.completed || sub.errors.length > 0, 90_000, 'the prediction');
    expect(sub.errors).toEqual([]);
    expect(sub.results).toHaveLength(1);
    const pushed = (sub.results[0] as unknown as PushedResult).subscribeToPrediction;
    expect(pushed).toMatchObject({
      requestId,
      ready: true,
      error: null,
      modelVersion: model.version,
    });
    const expected = await modelEstimates(String(model.version), pairs);
    expect(pushed.predictions.map((p) => [p.userId, p.movieId])).toEqual(pairs);
    expect(pushed.predictions.map((p) => p.estimate)).toEqual(expected);
    expect(pushed.predictions.map((p) => p.wasImpossible)).toEqual([false, false, false, true]);

    // a subscriber arriving after the job finished (legacy protocol, as Playground) gets it at once
    const legacy = legacyClient(server.wsUrl, { token: TOKEN });
    try {
      const late = legacySubscribe(
        legacy,
        `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${PREDICTION_FIELDS} } }`,
        { id: requestId },
      );
      await until(
        () => late.results.length > 0 || late.errors.length > 0,
        30_000,
        'the late result',
      );
      expect(late.errors).toEqual([]);
      expect((late.results[0] as unknown as PushedResult).subscribeToPrediction).toEqual(pushed);
    } finally {
      legacy.close();
    }
  } finally {
    await client.dispose();
  }
});

test('invalid input is refused naming every bad item, and commits nothing (GraphQL and REST)', async () => {
  const training = await commitCount('training');
  const streaming = await commitCount('streaming');
  const bad = await postGraphQL(
    server.graphqlUrl,
    'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit } }',
    {
      token: TOKEN,
      variables: {
        r: [
          { userId: '1', movieId: '2', rating: 3 },
          { userId: '1', movieId: '3', rating: 7 },
          { userId: '', movieId: '4', rating: 3 },
          { userId: '1', movieId: 'x'.repeat(65), rating: 3 },
          { userId: '1', movieId: '5', rating: 0.5 },
        ],
      },
    },
  );
  const err = bad.body.errors?.[0] as unknown as {
    extensions: { code: string; issues: { index: number; field: string; message: string }[] };
  };
  expect(err.extensions.code).toBe('BAD_USER_INPUT');
  expect(err.extensions.issues.map((i) => [i.index, i.field])).toEqual([
    [1, 'rating'],
    [2, 'userId'],
    [3, 'movieId'],
    [4, 'rating'],
  ]);
  expect(err.extensions.issues[0].message).toMatch(/7 is outside the rating scale \[1, 5\]/);

  const tooMany = await postGraphQL(
    server.graphqlUrl,
    'mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId } }',
    {
      token: TOKEN,
      variables: {
        p: Array.from({ length: MAX_ITEMS + 1 }, () => ({ userId: '1', movieId: '1' })),
      },
    },
  );
  expect(tooMany.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(tooMany.body.errors?.[0].message).toMatch(/too many items: 51, the maximum is 50/);

  const r = await rest('/train', {
    data: ['244 346 2 880606923', '244 51 9 880606923', '244 abc NaN', '244', 42],
  });
  expect(r.status).toBe(400);
  // field counts and values in ONE answer, items named by the body's field `data`
  expect(
    (r.json.details as { index: number; field: string }[]).map((d) => [d.index, d.field]),
  ).toEqual([
    [1, 'rating'],
    [2, 'rating'],
    [3, 'line'],
    [4, 'line'],
  ]);
  expect(r.json.error).toMatch(/^invalid request \(4 problems\): data\[1\]\.rating: /);
  expect(r.json.error).toContain('data[3].line: expected 3 to 4 fields');
  expect(r.json.error).not.toMatch(/ratings\[/);
  const mixed = await rest('/train', { data: ['244 346 7 880606923', ' 1 3', '1 2 abc'] });
  expect(mixed.status).toBe(400);
  expect(mixed.json.details).toEqual([
    { index: 0, field: 'rating', problem: expect.stringMatching(/7 is outside the rating scale/) },
    { index: 1, field: 'line', problem: expect.stringMatching(/expected 3 to 4 fields .* got 2/) },
    { index: 2, field: 'rating', problem: expect.stringMatching(/must be a number, got "abc"/) },
  ]);
  for (const data of [[], Array(MAX_ITEMS + 1).fill('1 1 3')]) {
    const n = await rest('/train', { data });
    expect(n.status).toBe(400);
    expect(n.json.error).toContain(`data: expected 1 to ${MAX_ITEMS} lines, got ${data.length}`);
  }
  const r2 = await rest('/train', {
    data: ['244 346 2 880606923', '244 51 9 880606923', '244 abc NaN'],
  });
  expect(r2.status).toBe(400);
  expect(r2.json.details).toEqual([
    { index: 1, field: 'rating', problem: expect.stringMatching(/9 is outside the rating scale/) },
    { index: 2, field: 'rating', problem: expect.stringMatching(/must be a number, got "NaN"/) },
  ]);
  const r3 = await rest('/predict', { data: ['233 346', '233'] });
  expect(r3.status).toBe(400);
  expect(r3.json.details).toEqual([
    { index: 1, field: 'line', problem: expect.stringMatching(/expected 2 fields/) },
  ]);
  const r4 = await rest('/predict', { data: Array(MAX_ITEMS + 1).fill('1 1') });
  expect(r4.status).toBe(400);
  expect(r4.json.error).toContain(`data: expected 1 to ${MAX_ITEMS} lines, got ${MAX_ITEMS + 1}`);
  const r5 = await rest('/predict', { data: ['233', '233 x/y'] });
  expect(r5.status).toBe(400);
  expect(
    (r5.json.details as { index: number; field: string }[]).map((d) => [d.index, d.field]),
  ).toEqual([
    [0, 'line'],
    [1, 'movieId'],
  ]);
  expect(r5.json.error).toContain('data[1].movieId: ');

  expect(await commitCount('training')).toBe(training);
  expect(await commitCount('streaming')).toBe(streaming);
});

test('the Flask sample session through the REST routes', async () => {
  let model = services.models.currentVersion()!;
  const train = await rest('/train', { data: ['244 346 2 880606923', '233 51 4 880606924'] });
  expect(train.status).toBe(200);
  expect(train.json.filename).toEqual(expect.any(String));
  model = await waitForNewModel(model);

  const pairs: [string, string][] = [
    ['233', '346'],
    ['196', '302'],
  ];
  const asLines = pairs.map((p) => p.join(' '));
  const first = await rest('/predict', { data: asLines });
  expect(first.status).toBe(200);
  expect(first.json.filename).toMatch(/^[0-9a-f]{32}$/);
  const r1 = await restResult(first.json.filename as string);
  const expected = await modelEstimates(model, pairs);
  expect(r1.data).toBe(pairs.map(([u, i], k) => `${u} ${i} ${expected[k]}\n`).join(''));

  // the same request again, without training: same numbers
  const again = await rest('/predict', { data: asLines });
  expect(again.json.filename).not.toBe(first.json.filename);
  expect((await restResult(again.json.filename as string)).data).toBe(r1.data);

  // new training ratings → a new model → different numbers
  await rest('/train', { data: ['233 346 5 880606925', '196 302 1 880606926'] });
  model = await waitForNewModel(model);
  const third = await rest('/predict', { data: asLines });
  const r3 = await restResult(third.json.filename as string);
  expect(r3.data).not.toBe(r1.data);
  const expected3 = await modelEstimates(model, pairs);
  expect(r3.data).toBe(pairs.map(([u, i], k) => `${u} ${i} ${expected3[k]}\n`).join(''));

  // an unknown movie keeps the worker's 4th field `impossible` (Surprise's was_impossible)
  const known: [string, string] = ['233', '346'];
  const unknownPair: [string, string] = ['233', 'neverseen'];
  const withUnknown = await rest('/predict', {
    data: [known, unknownPair].map((p) => p.join(' ')),
  });
  expect(withUnknown.status).toBe(200);
  const r4 = await restResult(withUnknown.json.filename as string);
  const [estKnown, estUnknown] = await modelEstimates(model, [known, unknownPair]);
  expect(r4.data).toBe(`233 346 ${estKnown}\n233 neverseen ${estUnknown} impossible\n`);

  // the filename is an opaque id
  for (const filename of [
    '../predict/x',
    '/etc/passwd',
    '..',
    'g'.repeat(32),
    'A'.repeat(32),
    42,
    '',
  ]) {
    const r = await rest('/result', { filename });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/filename must be a request id/);
  }
  const unknown = await rest('/result', { filename: '0123456789abcdef0123456789abcdef' });
  expect(unknown.status).toBe(404);
});

test('a rating sent for a pair MovieLens holds replaces it and the answer says so; "0101" is not "101"; a trailing blank line is accepted', async () => {
  const previous = services.models.currentVersion()!;
  const before = await services.models.model(previous);
  const user101 = (await services.movies.user('101'))!.ratings.length;
  // u.data holds (125, 50) = 5 stamped 880606932: a later line wins whatever its timestamp
  expect((await services.movies.user('125'))!.ratings.find((r) => r.movieId === '50')).toEqual({
    movieId: '50',
    rating: 5,
  });
  const train = await rest('/train', {
    data: ['125 50 1 880606931', '125 50 2 880606931', '0101 50 5', '  '],
  });
  expect(train.status).toBe(200);
  // line 0 is superseded by line 1; line 1 replaces u.data's rating; "0101" is a new user
  expect(train.json).toMatchObject({ count: 3, replaced: 1, superseded: [0] });
  const version = await waitForNewModel(previous);
  const after = await services.models.model(version);
  expect(after.ratingsCount).toBe(before.ratingsCount + 1); // only 0101's rating is new
  expect(after.duplicatesReplaced! - before.duplicatesReplaced!).toBe(2);
  expect((await services.movies.user('125'))!.ratings.find((r) => r.movieId === '50')).toEqual({
    movieId: '50',
    rating: 2,
  });
  // raw ids are compared as text: "0101" is a user of its own, "101" is unchanged
  expect((await services.movies.user('0101'))!.ratings).toEqual([{ movieId: '50', rating: 5 }]);
  expect((await services.movies.user('101'))!.ratings.length).toBe(user101);
  const gql = await postGraphQL(
    server.graphqlUrl,
    'query { a: predict(userId: "0101", movieId: "50") { userId wasImpossible } b: predict(userId: "00101", movieId: "50") { userId wasImpossible } model(version: "' +
      version +
      '") { duplicatesReplaced } }',
    { token: TOKEN },
  );
  expect(gql.body.data).toEqual({
    a: { userId: '0101', wasImpossible: false },
    b: { userId: '00101', wasImpossible: true },
    model: { duplicatesReplaced: after.duplicatesReplaced },
  });
});

test('tokens guard the REST routes, the real mutations and subscriptions on both WebSocket protocols', async () => {
  const noToken = await rest('/predict', { data: ['1 1'] }, null);
  expect(noToken.status).toBe(401);
  const wrong = await rest(
    '/result',
    { filename: '0123456789abcdef0123456789abcdef' },
    'x'.repeat(32),
  );
  expect(wrong.status).toBe(401);
  const m = await postGraphQL(
    server.graphqlUrl,
    'mutation { requestPredictions(pairs: [{userId: "1", movieId: "1"}]) { requestId } }',
  );
  expect(m.status).toBe(401);
  // queries stay open
  const q = await postGraphQL(
    server.graphqlUrl,
    '{ predict(userId: "1", movieId: "1") { estimate } }',
  );
  expect(q.status).toBe(200);

  // over both WebSocket protocols: no token → subscriptions refused, queries open
  const sub = 'subscription { modelUpdated { version } }';
  const modern = modernClient(server.wsUrl);
  const legacy = legacyClient(server.wsUrl);
  try {
    const m1 = modernSubscribe(modern, sub);
    const m2 = modernSubscribe(modern, '{ predict(userId: "1", movieId: "1") { estimate } }');
    const l1 = legacySubscribe(legacy, sub);
    await until(() => m1.errors.length > 0 && m2.completed && l1.errors.length > 0);
    expect(m1.errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(m2.results).toHaveLength(1);
    expect(JSON.stringify(l1.errors)).toMatch(/need an API token/);
  } finally {
    await modern.dispose();
    legacy.close();
  }
});

test("a model version's file downloads over HTTP with the token; without it 401, a bad version 400", async () => {
  const version = services.models.currentVersion()!;
  const url = `${server.url}/models/${version}/model.rgm`;
  expect((await fetch(url)).status).toBe(401);
  const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(ok.status).toBe(200);
  const bytes = Buffer.from(await ok.arrayBuffer());
  const stored = await pach.readFile({
    commit: { repo: 'train', id: version },
    path: '/model.rgm',
  });
  expect(bytes.equals(stored)).toBe(true);
  expect(ok.headers.get('x-model-sha256')).toBe(
    crypto.createHash('sha256').update(stored).digest('hex'),
  );
  expect(loadModel(bytes).predict('1', '1').est).toBe(
    (await modelEstimates(version, [['1', '1']]))[0],
  );
  const bad = await fetch(`${server.url}/models/..%2Fetc/model.rgm`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(bad.status).toBe(400);
  const unknown = await fetch(`${server.url}/models/${'f'.repeat(32)}/model.rgm`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(unknown.status).toBe(404);
});

test('a failing train job stops no prediction: 10 requests are answered by the previous model', async () => {
  const serving = services.models.currentVersion()!;
  const expected = await modelEstimates(serving, [['1', '1']]);
  // a training file the train program rejects → the train job fails
  const commit = await pach.startCommit('training@master', { description: 'a malformed batch' });
  await pach.modifyFile(commit, [
    { op: 'put', path: '/batches/bad.txt', data: Buffer.from('1 2 not-a-rating\n') },
  ]);
  await pach.finishCommit(commit);
  const trainJob = await pach.inspectJob({ pipeline: 'train', id: commit.id }, { wait: true });
  expect(trainJob.state).toBe(JobState.JOB_FAILURE);
  expect(trainJob.reason).not.toBe('');

  // the failure is in the job history
  const history = await postGraphQL(
    server.graphqlUrl,
    'query { jobHistory(pipeline: "train", first: 1) { edges { node { id state reason } } } }',
    { token: TOKEN },
  );
  expect(history.body.data).toMatchObject({
    jobHistory: { edges: [{ node: { id: commit.id, state: 'FAILURE' } }] },
  });

  const ids: string[] = [];
  for (let k = 0; k < 10; k++) {
    const req = await postGraphQL(
      server.graphqlUrl,
      'mutation { requestPredictions(pairs: [{userId: "1", movieId: "1"}]) { requestId } }',
      { token: TOKEN },
    );
    expect(req.body.errors).toBeUndefined();
    ids.push(
      (req.body.data as { requestPredictions: { requestId: string } }).requestPredictions.requestId,
    );
  }
  const client = modernClient(server.wsUrl, { token: TOKEN });
  try {
    for (const id of ids) {
      const sub = modernSubscribe(
        client,
        `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${PREDICTION_FIELDS} } }`,
        { id },
      );
      await until(() => sub.completed || sub.errors.length > 0, 90_000, `the result of ${id}`);
      expect(sub.errors).toEqual([]);
      const pushed = (sub.results[0] as unknown as PushedResult).subscribeToPrediction;
      expect(pushed).toMatchObject({ ready: true, error: null, modelVersion: serving });
      expect(pushed.predictions.map((p) => p.estimate)).toEqual(expected);
    }
  } finally {
    await client.dispose();
  }
  // the REST view of the last one
  const r = await rest('/result', { filename: ids[9] });
  expect(r.json).toMatchObject({ ready: true });
  expect(Number(String(r.json.data).split(' ')[2])).toBe(expected[0]);
});
