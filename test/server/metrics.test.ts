/**
 * `/metrics` and first contact, on a real server (port 0) in front of the real embedded engine
 * bootstrapped with MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets):
 * - the exposition parses with an independent parser of the Prometheus text format
 *   (parse-prometheus-text-format) and its counters move by exactly the traffic sent;
 * - a browser's GET /graphql gets the landing page; API clients still reach Apollo;
 * - Playground and GraphiQL pages carry the example operations as tabs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import 'reflect-metadata';
import parsePrometheus, { type MetricFamily } from 'parse-prometheus-text-format';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { exampleTabs } from '../../src/server/ide';
import { createLogger } from '../../src/server/logging';
import { ServerMetrics } from '../../src/server/metrics';
import { createServices, type Services } from '../../src/services';
import { bootstrap, openEmbeddedEngine } from '../../src/services/bootstrap';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

jest.setTimeout(300_000);

const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');

let dir: string;
let pach: EmbeddedPachyderm;
let services: Services;
let server: RunningServer;

beforeAll(async () => {
  if (!fs.existsSync(path.join(DATASETS, 'ml-100k'))) {
    throw new Error(`MovieLens 100K not found in ${DATASETS} (set REELGRAPH_DATASETS)`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-metrics-'));
  const datasets = { datasetsDir: DATASETS, download: false };
  pach = await openEmbeddedEngine(dir);
  await bootstrap(pach, { datasets });
  const metrics = new ServerMetrics();
  services = await createServices(metrics.instrumentEngine(pach), { dataset: datasets });
  await services.models.ready({ timeoutMs: 180_000 });
  server = await createServer({
    schema: await buildSchema(),
    services,
    config: loadConfig({ PORT: '0' }),
    logger: createLogger('silent'),
    metrics,
  });
});

afterAll(async () => {
  await server?.close();
  await services?.close();
  await pach?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Scrape {
  families: MetricFamily[];
  samples: Sample[];
}

/**
 * GET /metrics: the families as parse-prometheus-text-format reads them (it throws on a malformed
 * exposition), and every sample line read here (that parser merges the series of a labelled
 * histogram, so the `_count` samples are read from the lines).
 */
async function scrape(): Promise<Scrape> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2];
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { families: parsePrometheus(text), samples };
}

/** The value of the one sample of `name` with these labels (0 when the series does not exist yet). */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = s.samples.filter(
    (x) =>
      x.name === name &&
      Object.keys(x.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

test('/metrics parses as the Prometheus text format and names every documented family', async () => {
  const { families: fams } = await scrape();
  const types = Object.fromEntries(fams.map((f) => [f.name, f.type]));
  expect(types).toMatchObject({
    reelgraph_http_requests_total: 'COUNTER',
    reelgraph_http_request_duration_seconds: 'HISTOGRAM',
    reelgraph_ws_connections_total: 'COUNTER',
    reelgraph_ws_connections_open: 'GAUGE',
    reelgraph_ws_operations_total: 'COUNTER',
    reelgraph_ws_operation_duration_seconds: 'HISTOGRAM',
    reelgraph_subscriptions_open: 'GAUGE',
    reelgraph_jobs_active: 'GAUGE',
    reelgraph_jobs_finished_total: 'COUNTER',
    reelgraph_serving_model_info: 'GAUGE',
    reelgraph_model_updates_total: 'COUNTER',
    reelgraph_engine_commit_duration_seconds: 'HISTOGRAM',
    process_cpu_seconds_total: 'COUNTER',
  });
  // the serving model is the one the registry serves, and only it
  const info = fams.find((f) => f.name === 'reelgraph_serving_model_info')!.metrics;
  expect(info).toEqual([{ labels: { version: services.models.currentVersion() }, value: '1' }]);
});

test('HTTP counters move by exactly the requests sent, by route and status', async () => {
  const before = await scrape();
  for (let i = 0; i < 3; i++) {
    expect((await postGraphQL(server.graphqlUrl, '{ genres }')).status).toBe(200);
  }
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${server.url}/no-such-page`)).status).toBe(404);
  const after = await scrape();
  const d = (labels: Record<string, string>) =>
    value(after, 'reelgraph_http_requests_total', labels) -
    value(before, 'reelgraph_http_requests_total', labels);
  expect(d({ method: 'POST', route: '/graphql', status: '200' })).toBe(3);
  expect(d({ method: 'GET', route: '/healthz', status: '200' })).toBe(1);
  expect(d({ method: 'GET', route: 'other', status: '404' })).toBe(1);
  // the scrape before this one is counted too
  expect(d({ method: 'GET', route: '/metrics', status: '200' })).toBe(1);
  const hist = (f: Scrape) =>
    value(f, 'reelgraph_http_request_duration_seconds_count', {
      method: 'POST',
      route: '/graphql',
    });
  expect(hist(after) - hist(before)).toBe(3);
});

test('WebSocket, subscription, job, model and engine commit metrics move with a rating batch', async () => {
  const before = await scrape();
  const client = modernClient(server.wsUrl);
  try {
    const jobs = modernSubscribe(
      client,
      'subscription { jobUpdated(pipeline: "train") { id state } }',
    );
    const models = modernSubscribe(client, 'subscription { modelUpdated { version } }');
    // both subscriptions are streaming: the gauge says so
    let open = 0;
    const t0 = Date.now();
    while (open !== 2 && Date.now() - t0 < 10_000) {
      open = value(await scrape(), 'reelgraph_subscriptions_open', {
        protocol: 'graphql-transport-ws',
      });
    }
    expect(open).toBe(2);

    const add = await postGraphQL(
      server.graphqlUrl,
      'mutation($r: [RatingInput!]!) { addRatings(ratings: $r) { commit } }',
      { variables: { r: [{ userId: '1', movieId: '1', rating: 4 }] } },
    );
    const commit = (add.body.data as { addRatings: { commit: string } }).addRatings.commit;
    await until(
      () =>
        jobs.results.some((r) => {
          const j = r.jobUpdated as { id: string; state: string };
          return j.id === commit && j.state === 'SUCCESS';
        }),
      180_000,
      'the train job of the batch to succeed',
    );
    await until(() => models.results.length === 1, 180_000, 'modelUpdated');
    const version = (models.results[0].modelUpdated as { version: string }).version;

    const after = await scrape();
    const d = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(d('reelgraph_ws_connections_total', { protocol: 'graphql-transport-ws' })).toBe(1);
    expect(value(after, 'reelgraph_ws_connections_open')).toBe(1);
    expect(
      d('reelgraph_ws_operations_total', {
        protocol: 'graphql-transport-ws',
        operation: 'subscription',
      }),
    ).toBe(2);
    expect(d('reelgraph_jobs_finished_total', { pipeline: 'train', state: 'SUCCESS' })).toBe(1);
    expect(d('reelgraph_model_updates_total')).toBe(1);
    expect(
      d('reelgraph_engine_commit_duration_seconds_count', {
        repo: 'training',
        operation: 'modifyFile',
      }),
    ).toBe(1);
    const info = after.samples.filter((x) => x.name === 'reelgraph_serving_model_info');
    expect(info).toEqual([{ name: 'reelgraph_serving_model_info', labels: { version }, value: 1 }]);
    // no train job is left in a non-terminal state
    const active = after.samples.filter((x) => x.name === 'reelgraph_jobs_active');
    expect(active.filter((m) => m.labels.pipeline === 'train')).toEqual([]);

    jobs.dispose();
    models.dispose();
    let left = -1;
    const t1 = Date.now();
    while (left !== 0 && Date.now() - t1 < 10_000) {
      left = value(await scrape(), 'reelgraph_subscriptions_open', {
        protocol: 'graphql-transport-ws',
      });
    }
    expect(left).toBe(0);
  } finally {
    await client.dispose();
  }
});

test('a browser opening /graphql gets a page linking the tools; API clients still reach GraphQL', async () => {
  const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const page = await fetch(server.graphqlUrl, { headers: { accept: browserAccept } });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  const html = await page.text();
  for (const href of ['/', '/playground', '/graphiql', '/metrics']) {
    expect(html).toContain(`href="${href}"`);
  }
  for (const t of exampleTabs()) expect(html).toContain(`schema/examples/${t.name}.graphql`);

  // a GET with a query (and the CSRF preflight header) is an API call, even from a browser
  const api = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, {
    headers: { accept: browserAccept, 'apollo-require-preflight': 'true' },
  });
  expect(api.status).toBe(200);
  expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
  // a client asking for JSON without a query gets Apollo's answer, not the page
  const json = await fetch(server.graphqlUrl, { headers: { accept: 'application/json' } });
  expect(json.headers.get('content-type')).toMatch(/json/);
});

test('Playground and GraphiQL open with one tab per example file', async () => {
  const tabs = exampleTabs();
  expect(tabs.map((t) => t.name)).toEqual(
    fs
      .readdirSync(path.resolve(__dirname, '../../schema/examples'))
      .filter((f) => f.endsWith('.graphql'))
      .map((f) => f.replace(/\.graphql$/, ''))
      .sort(),
  );
  const predictions = tabs.find((t) => t.name === 'predictions')!;
  expect(JSON.parse(predictions.variables)).toEqual({
    pairs: [
      { userId: '196', movieId: '242' },
      { userId: '1', movieId: '50' },
    ],
  });
  for (const ide of ['/playground', '/graphiql']) {
    const html = await (await fetch(`${server.url}${ide}`)).text();
    // each tab's operations are in the page, JSON-encoded
    for (const t of tabs) {
      const firstOp = /^(query|mutation|subscription) (\w+)/m.exec(t.query)![2];
      expect(html).toContain(firstOp);
    }
  }
});
