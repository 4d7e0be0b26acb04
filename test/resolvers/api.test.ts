/**
 * Acceptance of the GraphQL API at the service + schema level: a real EmbeddedPachyderm in a temp
 * dir, bootstrapped with MovieLens 100K and the real train/predict pipelines running the real
 * worker programs; operations run through graphql's `execute` / `subscribe` on the schema.
 *
 * Expected values are computed independently: estimates by loading the served model file
 * straight from the `train` repo with the engine's `loadModel`, user ratings and movie titles
 * from the u.data / u.item files, job lists from the port's `listJob`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { loadModel } from '../../src/engine/model-file';
import { loadRanker, type EASE, type RankerBase } from '../../src/engine/rankers';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import type { AlgoBase } from '../../src/engine/algorithms/base';
import { JobState } from '../../src/pachyderm/types';
import { buildSchema } from '../../src/resolvers/schema';
import { type Services, createServices } from '../../src/services';
import {
  bootstrap,
  loadPipelineSpec,
  openEmbeddedEngine,
  pipelineSpecFor,
} from '../../src/services/bootstrap';
import { type Loose, ok, run, sub } from './helpers';

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const U_DATA = path.join(DATASETS, 'ml-100k', 'u.data');

jest.setTimeout(120_000);

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let schema: GraphQLSchema;

async function commitCount(repo: string): Promise<number> {
  let n = 0;
  for await (const c of pach.listCommit(repo)) {
    void c;
    n++;
  }
  return n;
}

async function rankerOf(version: string): Promise<RankerBase> {
  return loadRanker(
    await pach.readFile({ commit: { repo: 'train', id: version }, path: '/ranker.rgr' }),
  );
}

async function modelOf(version: string): Promise<AlgoBase> {
  return loadModel(
    await pach.readFile({ commit: { repo: 'train', id: version }, path: '/model.rgm' }),
  );
}

const RESULT_FIELDS = `requestId ready requestCommit error modelVersion answerCommit
  predictions { userId movieId estimate wasImpossible }
  lineErrors { line message }
  job { id pipeline state dataTotal outputCommit { repo id } }`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-api-'));
  pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets: { datasetsDir: DATASETS } });
  services = await createServices(pach, { dataset: { datasetsDir: DATASETS, download: false } });
  schema = await buildSchema();
  await services.models.ready({ timeoutMs: 30_000 });
});

afterAll(async () => {
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('acceptance: ratings → model → predictions', () => {
  let batchCommit: string;
  let requestId: string;
  let requestCommit: string;

  test('the first model is served after bootstrap and listed by model/models', async () => {
    const v0 = services.models.currentVersion()!;
    const data = await ok(
      schema,
      services,
      `{ model { version serving algorithm ratingsCount holdoutRmse holdoutMae } models(first: 5) { version serving } }`,
    );
    expect(data.model.version).toBe(v0);
    expect(data.model.serving).toBe(true);
    expect(data.model.algorithm).toBe('SVD');
    // ml-100k has 100 000 ratings and no duplicate (user, movie) pair
    expect(data.model.ratingsCount).toBe(100_000);
    // the holdout figures are those the train program wrote in metrics.json
    const metrics = JSON.parse(
      (
        await pach.readFile({ commit: { repo: 'train', id: v0 }, path: '/metrics.json' })
      ).toString(),
    );
    expect(data.model.holdoutRmse).toBe(metrics.holdout.rmse);
    expect(data.model.holdoutMae).toBe(metrics.holdout.mae);
    expect(data.models).toEqual([{ version: v0, serving: true }]);
  });

  test('addRatings commits one batch; modelUpdated pushes the model of that commit', async () => {
    const updates = await sub(
      schema,
      services,
      `subscription { modelUpdated { version serving ratingsCount trainingCommit } }`,
    );
    const before = await commitCount('training');
    const ratings = [
      { userId: 'alice', movieId: '1', rating: 5, timestamp: 1700000000 },
      { userId: 'alice', movieId: '50', rating: 4.5 },
      { userId: 'alice', movieId: '181', rating: 1 },
    ];
    const data = await ok(
      schema,
      services,
      `mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id path commit count } }`,
      { r: ratings },
    );
    const b = data.addRatings;
    expect(b.count).toBe(3);
    expect(b.id).toMatch(/^\d{13}-[0-9a-f]{16}$/);
    expect(b.path).toBe(`/batches/${b.id}.txt`);
    expect(await commitCount('training')).toBe(before + 1);
    const text = (
      await pach.readFile({ commit: { repo: 'training', id: b.commit }, path: b.path })
    ).toString();
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('alice 1 5 1700000000');
    expect(lines[1]).toMatch(/^alice 50 4\.5 \d+$/);
    expect(lines[2]).toMatch(/^alice 181 1 \d+$/);
    batchCommit = b.commit;
    // the train job of commit set C writes train@C: the new model's version is the batch commit
    const e = await updates.next(
      (ev) => (ev.data as Loose)?.modelUpdated?.version === batchCommit,
      90_000,
    );
    expect(e.data).toEqual({
      modelUpdated: {
        version: batchCommit,
        serving: true,
        ratingsCount: 100_003,
        trainingCommit: batchCommit,
      },
    });
    expect(services.models.currentVersion()).toBe(batchCommit);
    await updates.close();
  });

  test('requestPredictions → subscribeToPrediction pushes the estimates of the serving model', async () => {
    const pairs = [
      { userId: '196', movieId: '242' },
      { userId: 'alice', movieId: '50' },
      { userId: '1', movieId: '1' },
      { userId: 'nobody', movieId: '1' },
    ];
    const before = await commitCount('streaming');
    const data = await ok(
      schema,
      services,
      `mutation($p: [PredictionPairInput!]!) { requestPredictions(pairs: $p) { requestId commit count } }`,
      { p: pairs },
    );
    const r = data.requestPredictions;
    expect(r.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.count).toBe(4);
    expect(await commitCount('streaming')).toBe(before + 1);
    expect(
      (
        await pach.readFile({
          commit: { repo: 'streaming', id: r.commit },
          path: `/${r.requestId}`,
        })
      ).toString(),
    ).toBe('196 242\nalice 50\n1 1\nnobody 1\n');
    requestId = r.requestId;
    requestCommit = r.commit;

    const s = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${RESULT_FIELDS} } }`,
      { id: requestId },
    );
    const ev = await s.next(undefined, 60_000);
    expect(ev.errors).toBeUndefined();
    const res = (ev.data as Loose).subscribeToPrediction;
    expect(res.ready).toBe(true);
    expect(res.error).toBeNull();
    expect(res.requestCommit).toBe(requestCommit);
    expect(res.answerCommit).toBe(requestCommit);
    expect(res.modelVersion).toBe(batchCommit);
    expect(res.job).toMatchObject({
      id: requestCommit,
      pipeline: 'predict',
      state: 'SUCCESS',
      outputCommit: { repo: 'predict', id: requestCommit },
    });
    const model = await modelOf(batchCommit);
    expect(res.predictions).toEqual(
      pairs.map((p) => {
        const pr = model.predict(p.userId, p.movieId);
        return {
          userId: p.userId,
          movieId: p.movieId,
          estimate: pr.est,
          wasImpossible: pr.details.wasImpossible,
        };
      }),
    );
    expect(res.predictions[3].wasImpossible).toBe(true);
    expect(res.predictions[0].wasImpossible).toBe(false);
    expect(res.lineErrors).toEqual([]);
    // one result, then the stream completes
    await waitFor(() => s.completed());
    expect(s.events).toHaveLength(1);

    // the online answer of the same model is the same number
    const online = await ok(
      schema,
      services,
      `{ predict(userId: "alice", movieId: "50") { estimate wasImpossible modelVersion reason } }`,
    );
    expect(online.predict).toEqual({
      estimate: res.predictions[1].estimate,
      wasImpossible: false,
      modelVersion: batchCommit,
      reason: null,
    });
  });

  test('a subscription opened after the job finished still receives the result, and prediction() polls it', async () => {
    const s = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ${RESULT_FIELDS} } }`,
      { id: requestId },
    );
    const ev = await s.next(undefined, 10_000);
    const polled = await ok(
      schema,
      services,
      `query($id: ID!) { prediction(requestId: $id) { ${RESULT_FIELDS} } }`,
      { id: requestId },
    );
    expect((ev.data as Loose).subscribeToPrediction).toEqual(polled.prediction);
    expect(polled.prediction.ready).toBe(true);
    expect(polled.prediction.predictions).toHaveLength(4);
  });

  test('a second services instance (another replica) finds the request by searching streaming', async () => {
    const other = await createServices(pach, {
      dataset: { datasetsDir: DATASETS, download: false },
    });
    try {
      const r = await other.predictions.getResult(requestId);
      expect(r.requestCommit).toBe(requestCommit);
      expect(r.ready).toBe(true);
    } finally {
      await other.close();
    }
  });

  test('jobUpdated pushes the state changes of a predict job, ending in SUCCESS', async () => {
    const s = await sub(
      schema,
      services,
      `subscription { jobUpdated(pipeline: "predict") { id pipeline state } }`,
    );
    const data = await ok(
      schema,
      services,
      `mutation { requestPredictions(pairs: [{userId: "2", movieId: "3"}]) { requestId commit } }`,
    );
    const c = data.requestPredictions.commit;
    await s.next(
      (e) =>
        (e.data as Loose).jobUpdated.id === c && (e.data as Loose).jobUpdated.state === 'SUCCESS',
      60_000,
    );
    const states = s.events
      .map((e) => (e.data as Loose).jobUpdated)
      .filter((j) => j.id === c)
      .map((j) => j.state);
    expect(states[states.length - 1]).toBe('SUCCESS');
    expect(states).toContain('RUNNING');
    expect(s.events.every((e) => (e.data as Loose).jobUpdated.pipeline === 'predict')).toBe(true);
    await s.close();
  });

  test('jobHistory pages through every job, newest first, with cursors and filters', async () => {
    const all: string[] = [];
    for await (const j of pach.listJob()) all.push(`${j.job.pipeline.name}@${j.job.id}`);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const d: Loose = await ok(
        schema,
        services,
        `query($after: String) { jobHistory(first: 2, after: $after) { edges { cursor node { id pipeline } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      const h = d.jobHistory;
      expect(h.edges.length).toBeLessThanOrEqual(2);
      seen.push(...h.edges.map((e: Loose) => `${e.node.pipeline}@${e.node.id}`));
      if (!h.pageInfo.hasNextPage) break;
      after = h.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const trains = await ok(
      schema,
      services,
      `{ jobHistory(pipeline: "train", state: SUCCESS, first: 100) { nodes { pipeline state } } }`,
    );
    expect(trains.jobHistory.nodes.length).toBe(2);
    expect(
      trains.jobHistory.nodes.every((j: Loose) => j.pipeline === 'train' && j.state === 'SUCCESS'),
    ).toBe(true);
    const one = await ok(
      schema,
      services,
      `query($id: ID!) { job(id: $id, pipeline: "train") { id state inputCommits { repo id } outputCommit { repo id } } }`,
      { id: batchCommit },
    );
    expect(one.job).toEqual({
      id: batchCommit,
      state: 'SUCCESS',
      inputCommits: [{ repo: 'training', id: batchCommit }],
      outputCommit: { repo: 'train', id: batchCommit },
    });
    // the id of a training commit names its train job only: predict reads `models`, not `train`
    const alone = await ok(schema, services, `query($id: ID!) { job(id: $id) { id pipeline } }`, {
      id: batchCommit,
    });
    expect(alone.job).toEqual({ id: batchCommit, pipeline: 'train' });
    const bad = await run(schema, services, `{ jobHistory(after: "nonsense") { nodes { id } } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('input validation commits nothing', () => {
  test('addRatings: every bad item named by index; training unchanged', async () => {
    const before = await commitCount('training');
    const r = await run(
      schema,
      services,
      `mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id } }`,
      {
        r: [
          { userId: '1', movieId: '1', rating: 3 },
          { userId: '1', movieId: '2', rating: 7 },
          { userId: 'a b', movieId: '3', rating: 2 },
          { userId: '', movieId: 'x'.repeat(65), rating: 0.5 },
          { userId: '1', movieId: '4', rating: 4, timestamp: -1 },
        ],
      },
    );
    expect(r.errors).toHaveLength(1);
    const e = r.errors![0];
    expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    const issues = e.extensions?.issues as { index: number; field: string }[];
    expect(issues.map((i) => [i.index, i.field])).toEqual([
      [1, 'rating'],
      [2, 'userId'],
      [3, 'userId'],
      [3, 'movieId'],
      [3, 'rating'],
      [4, 'timestamp'],
    ]);
    expect(e.message).toContain('ratings[1].rating: rating 7 is outside the rating scale [1, 5]');
    // non-numeric and NaN through the service (GraphQL's Float refuses them before)
    await expect(
      services.ratings.addRatings([{ userId: '1', movieId: '1', rating: NaN }]),
    ).rejects.toMatchObject({
      issues: [{ index: 0, field: 'rating', message: 'rating NaN is not a finite number' }],
    });
    await expect(
      services.ratings.addRatings([{ userId: '1', movieId: '1', rating: 'four' }]),
    ).rejects.toMatchObject({
      issues: [{ index: 0, field: 'rating' }],
    });
    const many = Array.from({ length: 10_001 }, () => ({ userId: '1', movieId: '1', rating: 3 }));
    const tooMany = await run(
      schema,
      services,
      `mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { id } }`,
      { r: many },
    );
    expect(tooMany.errors?.[0].extensions?.issues).toEqual([
      { index: 10_000, field: 'ratings', message: 'too many items: 10001, the maximum is 10000' },
    ]);
    expect(await commitCount('training')).toBe(before);
  });

  test('requestPredictions: bad pairs named by index; streaming unchanged', async () => {
    const before = await commitCount('streaming');
    const r = await run(
      schema,
      services,
      `mutation { requestPredictions(pairs: [{userId: "1", movieId: "1"}, {userId: "1", movieId: "two words"}]) { requestId } }`,
    );
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].extensions?.issues).toEqual([
      {
        index: 1,
        field: 'movieId',
        message: 'movieId "two words" has characters other than letters, digits and _ . : @ -',
      },
    ]);
    const empty = await run(
      schema,
      services,
      `mutation { requestPredictions(pairs: []) { requestId } }`,
    );
    expect(empty.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await commitCount('streaming')).toBe(before);
  });

  test('first > 100, unknown ids and versions', async () => {
    const big = await run(schema, services, `{ models(first: 101) { version } }`);
    expect(big.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const nf = await run(
      schema,
      services,
      `{ prediction(requestId: "${'0'.repeat(32)}") { ready } }`,
    );
    expect(nf.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const nfv = await run(schema, services, `{ model(version: "${'f'.repeat(32)}") { version } }`);
    expect(nfv.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    await expect(
      sub(schema, services, `subscription { subscribeToPrediction(requestId: "nope") { ready } }`),
    ).rejects.toMatchObject({
      result: {
        errors: [
          expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) }),
        ],
      },
    });
    const repo = await run(schema, services, `{ commits(repo: "nope") { id } }`);
    expect(repo.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  test('jobUpdated of an unknown pipeline is NOT_FOUND before the stream starts', async () => {
    const rejected = sub(schema, services, `subscription { jobUpdated(pipeline: "nope") { id } }`);
    await expect(rejected).rejects.toMatchObject({
      result: {
        errors: [
          expect.objectContaining({
            message: 'pipeline "nope" not found',
            extensions: expect.objectContaining({ code: 'NOT_FOUND' }),
          }),
        ],
      },
    });
  });

  test('pipeline and repo arguments are plain names: prefixes and paths are BAD_USER_INPUT', async () => {
    const ops = [
      ['pipeline', `{ jobHistory(pipeline: "x/train") { edges { cursor } } }`],
      ['pipeline', `{ jobHistory(pipeline: "../train") { edges { cursor } } }`],
      ['pipeline', `{ job(id: "${'0'.repeat(32)}", pipeline: "default/train") { id } }`],
      ['repo', `{ commits(repo: "default/training") { id } }`],
      ['repo', `{ commits(repo: "..") { id } }`],
      ['repo', `{ commits(repo: "${'a'.repeat(52)}") { id } }`],
    ];
    for (const [field, op] of ops) {
      const r = await run(schema, services, op);
      expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0].extensions?.issues).toEqual([
        expect.objectContaining({ field, message: expect.stringContaining('[A-Za-z0-9_-]{1,51}') }),
      ]);
    }
    await expect(
      sub(schema, services, `subscription { jobUpdated(pipeline: "x/train") { id } }`),
    ).rejects.toMatchObject({
      result: {
        errors: [
          expect.objectContaining({
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
          }),
        ],
      },
    });
    // The longest plain name passes validation and reaches the lookup.
    const long = await run(schema, services, `{ commits(repo: "${'a'.repeat(51)}") { id } }`);
    expect(long.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('catalogue, users, recommendations, repos', () => {
  const uData = () =>
    fs
      .readFileSync(U_DATA, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));

  test('user(196): its ratings are those of u.data', async () => {
    const mine = uData().filter((f) => f[0] === '196');
    const d = await ok(
      schema,
      services,
      `{ user(id: "196") { id age gender occupation ratingsCount ratings(first: 100) { movieId rating movie { id } } } }`,
    );
    expect(d.user).toMatchObject({
      id: '196',
      age: 49,
      gender: 'M',
      occupation: 'writer',
      ratingsCount: mine.length,
    });
    expect(new Map(d.user.ratings.map((r: Loose) => [r.movieId, r.rating]))).toEqual(
      new Map(mine.map((f) => [f[1], Number(f[2])])),
    );
  });

  test('user(id): null when no such user; a user known only from added ratings works', async () => {
    const nobody = await ok(schema, services, `{ user(id: "nobody") { id ratingsCount } }`);
    expect(nobody.user).toBeNull();
    // alice is not in u.user; her 3 ratings (added above) are in the serving model's trainset.
    const alice = await ok(
      schema,
      services,
      `{ user(id: "alice") { id age ratingsCount ratings { movieId rating } } }`,
    );
    expect(alice.user).toMatchObject({ id: 'alice', age: null, ratingsCount: 3 });
    expect(new Map(alice.user.ratings.map((r: Loose) => [r.movieId, r.rating]))).toEqual(
      new Map([
        ['1', 5],
        ['50', 4.5],
        ['181', 1],
      ]),
    );
  });

  test('recommendations: unrated movies ranked by the EASE ranker of the same model version, with because', async () => {
    const rated = new Set(
      uData()
        .filter((f) => f[0] === '196')
        .map((f) => f[1]),
    );
    const d = await ok(
      schema,
      services,
      `{ recommendations(userId: "196", first: 5) { userId modelVersion knownUser rankedBy items { rank movieId title score because { movieId weight } } } }`,
    );
    const rec = d.recommendations;
    expect(rec.knownUser).toBe(true);
    expect(rec.rankedBy).toBe('EASE');
    expect(rec.items.map((i: Loose) => i.rank)).toEqual([1, 2, 3, 4, 5]);
    // The ranker file of the serving train commit, loaded on its own, ranks the same list.
    const ranker = await rankerOf(rec.modelVersion);
    const own = ranker.rank('196', 5);
    expect(rec.items.map((i: Loose) => [i.movieId, i.score])).toEqual(
      own.items.map((i) => [i.iid, i.score]),
    );
    const ts = ranker.trainset;
    const u = ts.toInnerUid('196');
    for (const it of rec.items) {
      expect(rated.has(it.movieId)).toBe(false);
      // because: EASE's weights B_ij of the user's rated movies i, largest first (at most 3)
      const want = (ranker as EASE).contributions(u, ts.toInnerIid(it.movieId), 3);
      expect(it.because).toEqual(
        want.map((b) => ({ movieId: ts.toRawIid(b.item), weight: b.weight })),
      );
      expect(it.because.every((b: Loose) => rated.has(b.movieId))).toBe(true);
    }
    const items = fs.readFileSync(path.join(DATASETS, 'ml-100k', 'u.item'), 'latin1').split('\n');
    const title = new Map(items.filter(Boolean).map((l) => [l.split('|')[0], l.split('|')[1]]));
    for (const it of rec.items) expect(it.title).toBe(title.get(it.movieId));
  });

  test('recommendations(genre) keeps only that genre; similarMovies answers from the ranker', async () => {
    const d = await ok(
      schema,
      services,
      `{ recommendations(userId: "196", first: 4, genre: "horror") { items { movie { genres } } }
         similarMovies(movieId: "1", first: 3) { movieId rankedBy items { rank movieId similarity } } }`,
    );
    expect(d.recommendations.items).toHaveLength(4);
    for (const it of d.recommendations.items) expect(it.movie.genres).toContain('Horror');
    const sim = d.similarMovies;
    expect(sim.rankedBy).toBe('EASE');
    const version = (await ok(schema, services, `{ model { version } }`)).model.version;
    const ranker = await rankerOf(version);
    const want = ranker.similarItems(ranker.trainset.toInnerIid('1'), 3);
    expect(sim.items).toEqual(
      want.map((w, n) => ({
        rank: n + 1,
        movieId: ranker.trainset.toRawIid(w.item),
        similarity: w.similarity,
      })),
    );
    const missing = await run(
      schema,
      services,
      `{ similarMovies(movieId: "no-such-movie") { movieId } }`,
    );
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  test('movies: search, genre filter and cursor pages', async () => {
    const toy = await ok(
      schema,
      services,
      `{ movies(search: "toy story") { nodes { id title year genres ratingsCount } } }`,
    );
    expect(toy.movies.nodes).toEqual([
      {
        id: '1',
        title: 'Toy Story (1995)',
        year: 1995,
        genres: ['Animation', "Children's", 'Comedy'],
        ratingsCount: uData().filter((f) => f[1] === '1').length + 1,
      },
    ]);
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const d: Loose = await ok(
        schema,
        services,
        `query($a: String) { movies(genre: "animation", first: 7, after: $a) { nodes { id genres } pageInfo { hasNextPage endCursor } } }`,
        { a: after },
      );
      ids.push(...d.movies.nodes.map((n: Loose) => n.id));
      expect(d.movies.nodes.every((n: Loose) => n.genres.includes('Animation'))).toBe(true);
      if (!d.movies.pageInfo.hasNextPage) break;
      after = d.movies.pageInfo.endCursor;
    }
    const items = fs
      .readFileSync(path.join(DATASETS, 'ml-100k', 'u.item'), 'latin1')
      .split('\n')
      .filter(Boolean);
    const genres = fs
      .readFileSync(path.join(DATASETS, 'ml-100k', 'u.genre'), 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|')[0]);
    expect((await ok(schema, services, `{ genres }`)).genres).toEqual([...genres].sort());
    // u.item flags: 19 genre columns after 5 fields; Animation is the 4th genre (index 3)
    expect(ids).toEqual(
      items.filter((l) => l.split('|')[5 + 3] === '1').map((l) => l.split('|')[0]),
    );
  });

  test('repos and commits', async () => {
    const d = await ok(
      schema,
      services,
      `{ repos { name branches } commits(repo: "training", first: 1) { id repo origin parent } }`,
    );
    expect(d.repos.map((r: Loose) => r.name)).toEqual([
      'models',
      'predict',
      'serving',
      'streaming',
      'train',
      'training',
    ]);
    const head = await pach.inspectCommit('training@master');
    expect(d.commits).toEqual([
      {
        id: head.commit.id,
        repo: 'training',
        origin: 'USER',
        parent: head.parentCommit?.id ?? null,
      },
    ]);
  });
});

describe('a failing predict job pushes an error result', () => {
  test('subscribers before and after the failure get ready: true with the error', async () => {
    // make every later predict datum fail: the program exits 3
    const spec = loadPipelineSpec('predict') as Loose;
    spec.transform = {
      ...spec.transform,
      cmd: ['node', '-e', 'process.exit(3)'],
      datumBatching: false,
    };
    spec.datumTries = 1;
    await pach.createPipeline(spec, { update: true });
    const data = await ok(
      schema,
      services,
      `mutation { requestPredictions(pairs: [{userId: "1", movieId: "2"}]) { requestId commit } }`,
    );
    const { requestId, commit } = data.requestPredictions;
    const early = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready error predictions { estimate } job { state reason } } }`,
      { id: requestId },
    );
    const ev = await early.next(undefined, 60_000);
    const res = (ev.data as Loose).subscribeToPrediction;
    expect(res.ready).toBe(true);
    expect(res.error).toMatch(new RegExp(`^predict job ${commit} ended FAILURE: .+`));
    expect(res.predictions).toEqual([]);
    expect(res.job.state).toBe('FAILURE');
    const late = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready error } }`,
      { id: requestId },
    );
    expect((await late.next(undefined, 10_000)).data).toEqual({
      subscribeToPrediction: { ready: true, error: res.error },
    });
  });
});

describe('a failed train job stops nothing; a KILLED predict job pushes an error', () => {
  test('a failed train job: the serving model stays, answers the next request, and modelUpdated says the newest failed', async () => {
    // the working predict program again (the test before made it fail)
    await pach.createPipeline(pipelineSpecFor('predict', pach), { update: true });
    const spec = loadPipelineSpec('train') as Loose;
    spec.transform = { ...spec.transform, cmd: ['node', '-e', 'process.exit(4)'] };
    spec.datumTries = 1;
    await pach.createPipeline(spec, { update: true });
    // the update's own job skips the unchanged datum: its output (the same model) is a new version
    let updateJob: Loose;
    for await (const j of pach.listJob({ pipeline: 'train', number: 1 })) updateJob = j;
    updateJob = await pach.inspectJob(updateJob.job, { wait: true });
    if (updateJob.state === JobState.JOB_SUCCESS) {
      await waitFor(() => services.models.currentVersion() === updateJob.job.id, 30_000);
    }
    const serving = services.models.currentVersion()!;
    const updates = await sub(
      schema,
      services,
      `subscription { modelUpdated { version serving newerFailedJob { id pipeline state reason } } }`,
    );
    const b = await ok(
      schema,
      services,
      `mutation { addRatings(ratings: [{userId: "bob", movieId: "1", rating: 2}]) { commit } }`,
    );
    const trainJob = await pach.inspectJob(
      { pipeline: 'train', id: b.addRatings.commit },
      { wait: true },
    );
    expect(JobStateName(trainJob.state)).toBe('FAILURE');
    // the errored train commit is no model version, and the serving model is unchanged
    expect(services.models.currentVersion()).toBe(serving);
    const v = await run(schema, services, `query($v: ID!) { model(version: $v) { version } }`, {
      v: b.addRatings.commit,
    });
    expect(v.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // modelUpdated: the serving version again, with the failed job
    const pushed = ((await updates.next(undefined, 30_000)).data as Loose).modelUpdated;
    expect(pushed).toEqual({
      version: serving,
      serving: true,
      newerFailedJob: {
        id: b.addRatings.commit,
        pipeline: 'train',
        state: 'FAILURE',
        reason: trainJob.reason,
      },
    });
    await updates.close();
    const m = await ok(schema, services, `{ model { version newerFailedJob { id } } }`);
    expect(m.model).toEqual({ version: serving, newerFailedJob: { id: b.addRatings.commit } });
    // the train head carries the error, but predict reads `models`: the request is answered
    const r = await ok(
      schema,
      services,
      `mutation { requestPredictions(pairs: [{userId: "1", movieId: "1"}]) { requestId commit } }`,
    );
    const s = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready error modelVersion predictions { estimate } job { state } } }`,
      { id: r.requestPredictions.requestId },
    );
    const res = ((await s.next(undefined, 60_000)).data as Loose).subscribeToPrediction;
    expect(res).toEqual({
      ready: true,
      error: null,
      modelVersion: serving,
      predictions: [{ estimate: (await modelOf(serving)).predict('1', '1').est }],
      job: { state: 'SUCCESS' },
    });
  });

  test('a killed predict job', async () => {
    // a working train pipeline again, and a predict program that never ends
    await pach.createPipeline(loadPipelineSpec('train'), { update: true });
    const updated = await sub(schema, services, `subscription { modelUpdated { version } }`);
    await ok(
      schema,
      services,
      `mutation { addRatings(ratings: [{userId: "bob", movieId: "2", rating: 3}]) { commit } }`,
    );
    await updated.next(undefined, 90_000);
    await updated.close();
    const spec = loadPipelineSpec('predict') as Loose;
    spec.transform = {
      ...spec.transform,
      cmd: ['node', '-e', 'setTimeout(() => {}, 600000)'],
      datumBatching: false,
    };
    await pach.createPipeline(spec, { update: true });
    const r = await ok(
      schema,
      services,
      `mutation { requestPredictions(pairs: [{userId: "1", movieId: "3"}]) { requestId commit } }`,
    );
    const { requestId, commit } = r.requestPredictions;
    const s = await sub(
      schema,
      services,
      `subscription($id: ID!) { subscribeToPrediction(requestId: $id) { ready error job { state reason } } }`,
      { id: requestId },
    );
    await waitFor(() => false, 300).catch(() => undefined);
    expect(s.events).toEqual([]);
    await pach.stopJob({ pipeline: 'predict', id: commit }, { reason: 'stopped by the test' });
    const res = ((await s.next(undefined, 30_000)).data as Loose).subscribeToPrediction;
    expect(res).toEqual({
      ready: true,
      error: `predict job ${commit} ended KILLED: stopped by the test`,
      job: { state: 'KILLED', reason: 'stopped by the test' },
    });
  });
});

function JobStateName(state: number): string {
  return JobState[state].replace(/^JOB_/, '');
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}
