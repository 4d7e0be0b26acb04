/**
 * `jobUpdated(after:)` and `commitCreated(repo, after:)` over graphql-ws on a real server (port 0)
 * in front of the real embedded engine and pipelines, bootstrapped with MovieLens 100K
 * (REELGRAPH_DATASETS or ../shared/datasets): the replay from the given job or commit, then the
 * live events, with no gap and no duplicate; the replay bound; errors before the stream starts.
 * The services run with maxPageSize 4, so the replay bound (4 items) is reached with few jobs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { createServices, type Services } from '../../src/services';
import { bootstrap, openEmbeddedEngine } from '../../src/services/bootstrap';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

jest.setTimeout(300_000);

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const LIMIT = 4;
const RANK: Record<string, number> = {
  CREATED: 1,
  STARTING: 2,
  RUNNING: 3,
  EGRESSING: 4,
  FINISHING: 5,
  SUCCESS: 6,
  FAILURE: 6,
  KILLED: 6,
  UNRUNNABLE: 6,
};

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;

beforeAll(async () => {
  if (!fs.existsSync(path.join(DATASETS, 'ml-100k'))) {
    throw new Error(`MovieLens 100K not found in ${DATASETS} (set REELGRAPH_DATASETS)`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-replay-'));
  const datasets = { datasetsDir: DATASETS, download: false };
  pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets });
  services = await createServices(pach, { dataset: datasets, maxPageSize: LIMIT });
  await services.models.ready({ timeoutMs: 180_000 });
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }),
    logger: createLogger('silent'),
  });
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function query<T>(q: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await postGraphQL(server.graphqlUrl, q, { variables });
  if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
  return r.body.data as T;
}

async function addRatings(userId: string): Promise<string> {
  const d = await query<{ addRatings: { commit: string } }>(
    'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit } }',
    { r: [{ userId, movieId: '1', rating: 3 }] },
  );
  return d.addRatings.commit;
}

async function newestTrainJob(): Promise<string> {
  const d = await query<{ jobHistory: { nodes: { id: string }[] } }>(
    '{ jobHistory(pipeline: "train", first: 1) { nodes { id } } }',
  );
  return d.jobHistory.nodes[0].id;
}

type JobEvent = { id: string; state: string };
const jobsOf = (results: Record<string, unknown>[]) => results.map((r) => r.jobUpdated as JobEvent);

/** Each (job, state) once, and each job's states in their life order. */
function expectNoDuplicateNorRegression(events: JobEvent[]): void {
  const seen = new Set<string>();
  const last = new Map<string, number>();
  for (const e of events) {
    const key = `${e.id}:${e.state}`;
    expect(seen.has(key)).toBe(false);
    seen.add(key);
    expect(RANK[e.state]).toBeGreaterThan(last.get(e.id) ?? 0);
    last.set(e.id, RANK[e.state]);
  }
}

test('jobUpdated(after:) replays the job and those since, oldest first, then goes live: no gap, no duplicate', async () => {
  const j0 = await newestTrainJob();
  const client = modernClient(server.wsUrl);
  try {
    const b1 = await addRatings('9001');
    // a job running while the replay is read: its later states come live, none twice
    const sub = modernSubscribe(
      client,
      'subscription($after: ID) { jobUpdated(pipeline: "train", after: $after) { id state } }',
      { after: j0 },
    );
    await until(
      () => jobsOf(sub.results).some((e) => e.id === b1 && e.state === 'SUCCESS'),
      180_000,
      'the first batch’s train job to succeed',
    );
    const b2 = await addRatings('9002');
    await until(
      () => jobsOf(sub.results).some((e) => e.id === b2 && e.state === 'SUCCESS'),
      180_000,
      'the second batch’s train job to succeed (live)',
    );
    const events = jobsOf(sub.results);
    expect(sub.errors).toEqual([]);
    // the replay starts with the job `after` itself, in its current (final) state
    expect(events[0]).toEqual({ id: j0, state: 'SUCCESS' });
    // jobs in creation order, each job's states in order, nothing twice
    const order = [...new Set(events.map((e) => e.id))];
    expect(order).toEqual([j0, b1, b2]);
    expectNoDuplicateNorRegression(events);
    // the live job went through more than its final state: it was followed live
    expect(events.filter((e) => e.id === b2).length).toBeGreaterThan(1);
    sub.dispose();
  } finally {
    await client.dispose();
  }
});

test('jobUpdated(after:) refuses a bad id, an unknown job and more jobs than the replay bound before streaming', async () => {
  const client = modernClient(server.wsUrl);
  try {
    const q = 'subscription($after: ID) { jobUpdated(after: $after) { id } }';
    const bad = modernSubscribe(client, q, { after: 'not-an-id' });
    // (fewer than LIMIT train jobs exist: the whole history is read, and has no such job)
    const unknown = modernSubscribe(
      client,
      'subscription($after: ID) { jobUpdated(pipeline: "train", after: $after) { id } }',
      { after: 'f'.repeat(32) },
    );
    await until(() => bad.errors.length > 0 && unknown.errors.length > 0, 10_000, 'errors');
    expect(bad.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors[0].message).toMatch(/after "not-an-id" must be a commit or job id of 32 hex/);
    expect(unknown.errors[0].extensions?.code).toBe('NOT_FOUND');
    expect(bad.results).toEqual([]);
    expect(unknown.results).toEqual([]);

    // the oldest train job has more than LIMIT jobs (train and predict) after it by now
    const all: string[] = [];
    for await (const j of pach.listJob({})) all.push(j.job.id);
    expect(all.length).toBeGreaterThan(LIMIT + 1);
    const oldest = all[all.length - 1];
    const tooMany = modernSubscribe(client, q, { after: oldest });
    await until(() => tooMany.errors.length > 0, 10_000, 'the bound error');
    expect(tooMany.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.errors[0].message).toContain(`more than ${LIMIT} jobs were created since job`);
    expect(tooMany.results).toEqual([]);
  } finally {
    await client.dispose();
  }
});

test('commitCreated(repo, after:) replays the commits after the given one, then each new commit once', async () => {
  const c0 = (
    await query<{ commits: { id: string }[] }>('{ commits(repo: "training", first: 1) { id } }')
  ).commits[0].id;
  const a = await addRatings('9101');
  const b = await addRatings('9102');
  const client = modernClient(server.wsUrl);
  try {
    const q =
      'subscription($repo: String!, $after: ID) { commitCreated(repo: $repo, after: $after) { id repo } }';
    const replayed = modernSubscribe(client, q, { repo: 'training', after: c0 });
    const liveOnly = modernSubscribe(client, q, { repo: 'training' });
    await until(() => replayed.results.length === 2, 10_000, 'the replay');
    const c = await addRatings('9103');
    const ids = (x: { results: Record<string, unknown>[] }) =>
      x.results.map((r) => (r.commitCreated as { id: string }).id);
    await until(() => ids(replayed).includes(c) && ids(liveOnly).includes(c), 20_000, 'live');
    expect(ids(replayed)).toEqual([a, b, c]);
    expect(ids(liveOnly)).toEqual([c]);
    expect(
      replayed.results.every((r) => (r.commitCreated as { repo: string }).repo === 'training'),
    ).toBe(true);

    const unknownRepo = modernSubscribe(client, q, { repo: 'nope' });
    const badName = modernSubscribe(client, q, { repo: '../training' });
    await until(() => unknownRepo.errors.length > 0 && badName.errors.length > 0, 10_000, 'errors');
    expect(unknownRepo.errors[0].extensions?.code).toBe('NOT_FOUND');
    expect(badName.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
    replayed.dispose();
    liveOnly.dispose();
  } finally {
    await client.dispose();
  }
});
