/**
 * Every parse path of the server is bounded (issue 11): JSON nested 5 000 levels deep in a
 * GraphQL body's `variables` (fast path, express' path for gzip bodies, GET parameters), in a
 * REST body and in a WebSocket message (both protocols) is refused with 400 / close 1009 —
 * never a 500 or a crash — and the server keeps answering; a REST body that is JSON but not an
 * object is named so; a legacy-protocol socket that never sends `connection_init` is closed
 * after the same 3 s as graphql-ws' (4408).
 */
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { DEFAULT_MAX_JSON_DEPTH, jsonNestingDepth } from '../../src/server/json-limits';
import { createLogger } from '../../src/server/logging';
import type { Services } from '../../src/services';
import { postGraphQL } from './clients';
import { fixtureSchema } from './fixture-schema';

/** Only what /readyz and the REST routes read: these tests need no engine. */
const services = {
  models: { currentVersion: () => 'fixture-model' },
  ratings: {},
  predictions: {},
} as unknown as Services;

/** `{"a": [[[…[1]…]]]}` with `levels` levels in all. */
const deep = (levels: number) => `{"a":${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)}}`;

let server: RunningServer;
beforeAll(async () => {
  server = await createServer({
    schema: fixtureSchema().schema,
    services,
    config: loadConfig({ PORT: '0' }),
    logger: createLogger('silent'),
  });
});
afterAll(() => server.close());

/** The server still answers a plain query (a positive sign it survived). */
async function stillAnswers(): Promise<void> {
  const a = await postGraphQL(server.graphqlUrl, '{ hello }');
  expect(a.body.data).toEqual({ hello: 'world' });
}

describe('jsonNestingDepth', () => {
  test('counts brackets outside strings, escapes honoured, bytes and strings alike', () => {
    expect(jsonNestingDepth('1')).toBe(0);
    expect(jsonNestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonNestingDepth('{"a":"[[[[\\"[[["}')).toBe(1);
    expect(jsonNestingDepth(Buffer.from('[{"é":"\\\\"},[["ü"]]]'))).toBe(3);
    expect(jsonNestingDepth(deep(5000))).toBe(5000);
    expect(jsonNestingDepth(deep(5000), 64)).toBe(65); // stops once past the limit
  });
});

describe('deeply nested JSON', () => {
  test('answers 400 naming the limit, not 500, when GraphQL variables nest 5 000 levels (fast path)', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":"{ hello }","variables":${deep(5000)}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe(
      `request body nests JSON deeper than ${DEFAULT_MAX_JSON_DEPTH} levels (REELGRAPH_MAX_JSON_DEPTH)`,
    );
    await stillAnswers();
  });

  test('answers 400, not 500, for the same body gzip-compressed (express path) and in GET variables', async () => {
    const gz = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(`{"query":"{ hello }","variables":${deep(5000)}}`),
    });
    expect(gz.status).toBe(400);
    expect(((await gz.json()) as { error: string }).error).toMatch(
      /^request body nests JSON deeper than 64 levels/,
    );
    const get = await fetch(
      `${server.graphqlUrl}?query=${encodeURIComponent('{ hello }')}&variables=${deep(3000)}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    expect(get.status).toBe(400);
    expect(((await get.json()) as { error: string }).error).toMatch(
      /^variables nests JSON deeper than 64 levels/,
    );
    // 64 levels are still accepted
    const ok = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":"{ hello }","variables":${deep(63)}}`,
    });
    expect(ok.status).toBe(200);
    await stillAnswers();
  });

  test('answers 400, not 500, when a REST body nests 5 000 levels; nothing reaches the services', async () => {
    const res = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"data":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^request body nests JSON deeper than 64 levels/,
    );
    await stillAnswers();
  });

  test.each(['graphql-transport-ws', 'graphql-ws'])(
    'closes a %s socket with 1009 when a message nests 5 000 levels; the server still answers',
    async (protocol) => {
      const ws = new WebSocket(server.wsUrl, protocol);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      ws.send(`{"type":"connection_init","payload":${deep(5000)}}`);
      expect(await closed).toEqual({
        code: 1009,
        reason: 'message nests JSON deeper than 64 levels',
      });
      await stillAnswers();
    },
  );
});

describe('REST bodies that are JSON but not an object', () => {
  test.each([
    ['null', 'null'],
    ['3', 'number'],
    ['[]', 'a list'],
    ['"x"', 'string'],
  ])('answers 400 saying %s is JSON, but not an object', async (text, got) => {
    const res = await fetch(`${server.url}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; details: unknown[] };
    expect(body.error).toBe(
      `invalid request (1 problem): body: the body is JSON, but not an object: expected a JSON object, got ${got}`,
    );
  });

  test('still calls a body that does not parse "not valid JSON"', async () => {
    const res = await fetch(`${server.url}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data": [',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^request body is not valid JSON/,
    );
  });
});

describe('connection_init timeout', () => {
  test.each(['graphql-ws', 'graphql-transport-ws'])(
    'closes a %s socket that never sends connection_init with 4408 after 3 s',
    async (protocol) => {
      const t0 = Date.now();
      const ws = new WebSocket(server.wsUrl, protocol);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const { code, reason } = await new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (c, r) => resolve({ code: c, reason: r.toString() })),
      );
      const waited = Date.now() - t0;
      expect({ code, reason }).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
      expect(waited).toBeGreaterThanOrEqual(2_900);
    },
  );
});
