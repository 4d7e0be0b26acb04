/**
 * The transports on a real server (port 0, 127.0.0.1) with a small fixture schema: GraphQL over
 * HTTP, graphql-ws and the legacy protocol on the same /graphql path; tokens, limits (body size,
 * depth, complexity, lexer tokens, WebSocket frame size) on all three; request ids; IDE pages
 * without outside references; health; graceful shutdown (1001 close frames, in-flight requests
 * finished).
 */
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig, type ServerConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import type { Services } from '../../src/services';
import {
  legacyClient,
  legacySubscribe,
  modernClient,
  modernSubscribe,
  postGraphQL,
  until,
} from './clients';
import { fixtureSchema } from './fixture-schema';
import WebSocket from 'ws';
import { gzipSync } from 'node:zlib';

const TOKEN = 'test-token-0123456789abcdef-0001';
const LIMITS = {
  maxDepth: 4,
  maxTokens: 60,
  maxComplexity: 40,
  maxBodyBytes: 2_000,
  maxWsPayload: 2_000,
};

/** Only what /readyz reads: the transport tests need no engine. */
const services = { models: { currentVersion: () => 'fixture-model' } } as unknown as Services;

async function start(
  tokens: string[],
): Promise<{ server: RunningServer; schema: ReturnType<typeof fixtureSchema> }> {
  const config: ServerConfig = loadConfig({ PORT: '0' }, { tokens, limits: LIMITS });
  const fixture = fixtureSchema();
  const server = await createServer({
    schema: fixture.schema,
    services,
    config,
    logger: createLogger('silent'),
  });
  return { server, schema: fixture };
}

describe('server transports without tokens', () => {
  let server: RunningServer;
  beforeAll(async () => {
    ({ server } = await start([]));
  });
  afterAll(() => server.close());

  test('a query over HTTP answers, with the request id echoed in the header and the context', async () => {
    const a = await postGraphQL(server.graphqlUrl, '{ hello requestId }', {
      headers: { 'x-request-id': 'client-id-42' },
    });
    expect(a.status).toBe(200);
    expect(a.body.data).toEqual({ hello: 'world', requestId: 'client-id-42' });
    expect(a.headers.get('x-request-id')).toBe('client-id-42');
    // an unusable id is replaced by a fresh UUID
    const b = await postGraphQL(server.graphqlUrl, '{ requestId }', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(b.body.data?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get('x-request-id')).toBe(b.body.data?.requestId);
  });

  test('a gzip-compressed JSON body is decoded; another charset than UTF-8 is 415', async () => {
    const body = JSON.stringify({ query: '{ hello }' });
    const gz = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    expect(gz.status).toBe(200);
    expect(await gz.json()).toEqual({ data: { hello: 'world' } });
    const utf8 = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body,
    });
    expect(await utf8.json()).toEqual({ data: { hello: 'world' } });
    const latin1 = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body,
    });
    expect(latin1.status).toBe(415);
  });

  test('CSRF prevention: a simple GET without a preflight header is refused', async () => {
    const res = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ hello }')}`);
    expect(res.status).toBe(400);
    const ok = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('{ hello }')}`, {
      headers: { 'apollo-require-preflight': '1' },
    });
    expect(ok.status).toBe(200);
    // a "simple" POST (text/plain, as a cross-site form could send) is refused too
    const form = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(form.status).toBe(400);
  });

  test('depth: 4 levels pass, 5 levels are refused with 400 naming the limit', async () => {
    // node { child { child { depth } } } = 4 levels
    const ok = await postGraphQL(server.graphqlUrl, '{ node { child { child { depth } } } }');
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ node: { child: { child: { depth: 3 } } } });
    const deep = await postGraphQL(
      server.graphqlUrl,
      '{ node { child { child { child { depth } } } } }',
    );
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0].message).toMatch(/depth limit of 4 exceeded, found 5/);
    // fragments count as if inlined: the same 4 levels through a named and an inline fragment
    const viaFragments = await postGraphQL(
      server.graphqlUrl,
      'query { ...F } fragment F on Query { node { child { ... on Node { child { depth } } } } }',
    );
    expect(viaFragments.body.errors).toBeUndefined();
    expect(viaFragments.body.data).toEqual({ node: { child: { child: { depth: 3 } } } });
    const deepFragment = await postGraphQL(
      server.graphqlUrl,
      'query { ...F } fragment F on Query { node { child { child { child { depth } } } } }',
    );
    expect(deepFragment.body.errors?.[0].message).toMatch(/depth limit of 4 exceeded, found 5/);
  });

  test('complexity: items(first: n) { a b } costs 1 + 2n; 19 → 39 passes, 20 → 41 is refused', async () => {
    const ok = await postGraphQL(server.graphqlUrl, '{ items(first: 19) { a b } }');
    expect(ok.status).toBe(200);
    expect((ok.body.data?.items as unknown[]).length).toBe(19);
    const big = await postGraphQL(server.graphqlUrl, '{ items(first: 20) { a b } }');
    expect(big.status).toBe(400);
    expect(big.body.errors?.[0].extensions?.code).toBe('COMPLEXITY_LIMIT_EXCEEDED');
    expect(big.body.errors?.[0].message).toMatch(/complexity 41 exceeds the maximum of 40/);
    // with the first argument as a variable, the same cost
    const viaVar = await postGraphQL(
      server.graphqlUrl,
      'query($n: Int) { items(first: $n) { a b } }',
      {
        variables: { n: 20 },
      },
    );
    expect(viaVar.status).toBe(400);
  });

  test('lexer tokens: a document over the limit is refused before validation', async () => {
    const fields = Array.from({ length: 70 }, () => 'hello').join(' ');
    const a = await postGraphQL(server.graphqlUrl, `{ ${fields} }`);
    expect(a.status).toBe(400);
    expect(a.body.errors?.[0].message).toMatch(/more th[ae]t 60 tokens/);
  });

  test('body size: a body over maxBodyBytes is answered 413 with a JSON error', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }', variables: { pad: 'x'.repeat(3_000) } }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe(
      'request body too large: more than 2000 bytes',
    );
    // the REST routes give the same message (express' JSON parser, before any service call)
    for (const route of ['/train', '/predict', '/result']) {
      const rest = await fetch(server.url + route, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: ['1 1 3'], pad: 'x'.repeat(3_000) }),
      });
      expect(rest.status).toBe(413);
      expect(((await rest.json()) as { error: string }).error).toBe(
        'request body too large: more than 2000 bytes',
      );
    }
  });

  test('a subscription over HTTP is refused with 400 naming the WebSocket URL', async () => {
    const a = await postGraphQL(server.graphqlUrl, 'subscription { announced }');
    expect(a.status).toBe(400);
    expect(a.body.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    expect(a.body.errors?.[0].message).toContain(
      `subscriptions are served over WebSocket at ${server.wsUrl}`,
    );
    expect(a.body.data).toBeUndefined();
  });

  test('graphql-ws and the legacy protocol on the same path both receive a pushed event', async () => {
    const modern = modernClient(server.wsUrl);
    const legacy = legacyClient(server.wsUrl);
    const m = modernSubscribe(modern, 'subscription { announced }');
    const l = legacySubscribe(legacy, 'subscription { announced }');
    try {
      // publish until both listeners are attached and received it
      await until(
        () => {
          void postGraphQL(server.graphqlUrl, 'mutation { announce(message: "hi") }');
          return m.results.length > 0 && l.results.length > 0;
        },
        10_000,
        'both subscriptions to receive',
      );
      expect(m.results[0]).toEqual({ announced: 'hi' });
      expect(l.results[0]).toEqual({ announced: 'hi' });
      expect(m.errors).toEqual([]);
      expect(l.errors).toEqual([]);
    } finally {
      m.dispose();
      l.unsubscribe();
      await modern.dispose();
      legacy.close();
    }
  });

  test('the limits hold over graphql-ws: depth, complexity and tokens give errors, nothing runs', async () => {
    const client = modernClient(server.wsUrl);
    try {
      const deep = modernSubscribe(client, '{ node { child { child { child { depth } } } } }');
      const complex = modernSubscribe(client, '{ items(first: 20) { a b } }');
      const tokens = modernSubscribe(client, `{ ${Array(70).fill('hello').join(' ')} }`);
      const fine = modernSubscribe(client, '{ items(first: 2) { a b } }');
      await until(
        () => [deep, complex, tokens].every((c) => c.errors.length > 0) && fine.completed,
      );
      expect(deep.errors[0].message).toMatch(/depth limit of 4 exceeded, found 5/);
      expect(complex.errors[0].message).toMatch(/complexity 41 exceeds the maximum of 40/);
      expect(tokens.errors[0].message).toMatch(/more th[ae]t 60 tokens/);
      // the same codes as over HTTP
      expect(deep.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(complex.errors[0].extensions?.code).toBe('COMPLEXITY_LIMIT_EXCEEDED');
      expect(tokens.errors[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(deep.results.concat(complex.results, tokens.results)).toEqual([]);
      expect(fine.results).toEqual([
        {
          items: [
            { a: 0, b: 0 },
            { a: 1, b: 1 },
          ],
        },
      ]);
    } finally {
      await client.dispose();
    }
  });

  test('the limits hold over the legacy protocol', async () => {
    const client = legacyClient(server.wsUrl);
    try {
      const deep = legacySubscribe(client, '{ node { child { child { child { depth } } } } }');
      const complex = legacySubscribe(client, '{ items(first: 20) { a b } }');
      const tokens = legacySubscribe(client, `{ ${Array(70).fill('hello').join(' ')} }`);
      const fine = legacySubscribe(client, '{ items(first: 2) { a b } }');
      await until(
        () => [deep, complex, tokens].every((c) => c.completed) && fine.results.length > 0,
      );
      // each refused operation gets its errors, then "complete"
      expect([deep, complex, tokens].every((c) => c.errors.length === 1)).toBe(true);
      expect(deep.errors[0].message).toMatch(/depth limit of 4 exceeded, found 5/);
      expect(complex.errors[0].message).toMatch(/complexity 41 exceeds the maximum of 40/);
      expect(tokens.errors[0].message).toMatch(/more th[ae]t 60 tokens/);
      expect(deep.results.concat(complex.results, tokens.results)).toEqual([]);
      expect(fine.results).toEqual([
        {
          items: [
            { a: 0, b: 0 },
            { a: 1, b: 1 },
          ],
        },
      ]);
    } finally {
      client.close();
    }
  });

  test('a WebSocket message over maxWsPayload closes the socket with 1009, on both protocols', async () => {
    const big = JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: `{ hello } # ${'x'.repeat(2_100)}` },
    });
    // the server logs it as one JSON line, not as a stack trace on stderr
    const stderr = jest.spyOn(console, 'error');
    try {
      for (const protocol of ['graphql-transport-ws', 'graphql-ws']) {
        const ws = new WebSocket(server.wsUrl, protocol);
        await new Promise((r) => ws.once('open', r));
        const code = await new Promise<number>((resolve) => {
          ws.once('close', (c) => resolve(c));
          ws.send(big);
        });
        expect(code).toBe(1009);
      }
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
    }
  });

  test('WebSocket upgrades on another path are refused with 404', async () => {
    const ws = new WebSocket(server.url.replace('http', 'ws') + '/other', 'graphql-transport-ws');
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(404);
  });

  test('health: /healthz and /readyz', async () => {
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    const r = await fetch(`${server.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', model: 'fixture-model' });
  });

  test('IDE pages come from this server only: no http(s) URL in any src or href', async () => {
    for (const page of ['/playground', '/graphiql']) {
      const res = await fetch(server.url + page);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      const html = await res.text();
      const refs = [...html.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => m[1]);
      expect(refs.filter((u) => /^(https?:)?\/\//.test(u))).toEqual([]);
      if (page === '/playground') {
        // the page's own assets are served
        const local = refs.filter((u) => u.startsWith('/playground/assets/'));
        expect(local.length).toBeGreaterThanOrEqual(2);
        for (const u of local) expect((await fetch(server.url + u)).status).toBe(200);
      }
    }
  });
});

describe('server transports with tokens', () => {
  let server: RunningServer;
  beforeAll(async () => {
    ({ server } = await start([TOKEN]));
  });
  afterAll(() => server.close());

  test('HTTP: queries are open; mutations need the token; a wrong token is refused', async () => {
    const q = await postGraphQL(server.graphqlUrl, '{ authenticated }');
    expect(q.status).toBe(200);
    expect(q.body.data).toEqual({ authenticated: false });
    const m = await postGraphQL(server.graphqlUrl, 'mutation { announce(message: "x") }');
    expect(m.status).toBe(401);
    expect(m.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const ok = await postGraphQL(server.graphqlUrl, 'mutation { announce(message: "x") }', {
      token: TOKEN,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ announce: 'x' });
    const wrong = await postGraphQL(server.graphqlUrl, '{ hello }', { token: TOKEN + 'x' });
    expect(wrong.status).toBe(401);
    const authed = await postGraphQL(server.graphqlUrl, '{ authenticated }', { token: TOKEN });
    expect(authed.body.data).toEqual({ authenticated: true });
  });

  test('graphql-ws: subscriptions need the token in connectionParams; a wrong token closes 4403', async () => {
    const anon = modernClient(server.wsUrl);
    const denied = modernSubscribe(anon, 'subscription { announced }');
    const mutation = modernSubscribe(anon, 'mutation { announce(message: "ws") }');
    const query = modernSubscribe(anon, '{ authenticated }');
    await until(() => denied.errors.length > 0 && mutation.errors.length > 0 && query.completed);
    expect(denied.errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(mutation.errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(query.results).toEqual([{ authenticated: false }]);
    await anon.dispose();

    const wrong = modernClient(server.wsUrl, { token: 'not-the-token-0123456789' });
    const w = modernSubscribe(wrong, 'subscription { announced }');
    await until(() => w.closeCode !== undefined, 5_000, 'the 4403 close');
    expect(w.closeCode).toBe(4403);
    await wrong.dispose();

    const good = modernClient(server.wsUrl, { token: TOKEN });
    const g = modernSubscribe(good, 'subscription { announced }');
    try {
      await until(() => {
        void postGraphQL(server.graphqlUrl, 'mutation { announce(message: "tok") }', {
          token: TOKEN,
        });
        return g.results.length > 0;
      });
      expect(g.results[0]).toEqual({ announced: 'tok' });
    } finally {
      g.dispose();
      await good.dispose();
    }
  });

  test('legacy protocol: the same rules (token in connectionParams)', async () => {
    const anon = legacyClient(server.wsUrl);
    const denied = legacySubscribe(anon, 'subscription { announced }');
    await until(() => denied.errors.length > 0);
    expect(denied.errors[0].extensions?.code ?? denied.errors[0].message).toMatch(
      /UNAUTHENTICATED|need an API token/,
    );
    anon.close();

    const wrong = legacyClient(server.wsUrl, { token: 'not-the-token-0123456789' });
    await until(() => wrong.connectionErrors.length > 0, 5_000, 'the connection error');
    expect(wrong.connectionErrors[0]).toMatch(/not valid/);
    wrong.close();

    const good = legacyClient(server.wsUrl, { token: TOKEN });
    const g = legacySubscribe(good, 'subscription { announced }');
    try {
      await until(() => {
        void postGraphQL(server.graphqlUrl, 'mutation { announce(message: "legacy") }', {
          token: TOKEN,
        });
        return g.results.length > 0;
      });
      expect(g.results[0]).toEqual({ announced: 'legacy' });
      expect(g.errors).toEqual([]);
    } finally {
      good.close();
    }
  });

  test('legacy protocol: an operation sent without connection_init is anonymous', async () => {
    const ws = new WebSocket(server.wsUrl, 'graphql-ws');
    await new Promise((r) => ws.once('open', r));
    const answer = new Promise<{ type: string; payload: { errors?: { message: string }[] } }>(
      (resolve) =>
        ws.on('message', (m) => {
          const msg = JSON.parse(String(m));
          if (msg.id === '1') resolve(msg);
        }),
    );
    ws.send(
      JSON.stringify({ id: '1', type: 'start', payload: { query: 'subscription { announced }' } }),
    );
    const msg = await answer;
    expect(JSON.stringify(msg.payload)).toMatch(/need an API token/);
    ws.close();
  });
});

describe('graceful shutdown', () => {
  test('WebSockets get 1001 on both protocols, an in-flight request finishes, then the port is free', async () => {
    const { server } = await start([]);
    const modern = modernClient(server.wsUrl);
    const legacy = legacyClient(server.wsUrl);
    const m = modernSubscribe(modern, 'subscription { announced }');
    const l = legacySubscribe(legacy, 'subscription { announced }');
    await until(() => server.websockets.connections() === 2, 5_000, 'two sockets');
    // both subscriptions are live (connection_init and subscribe processed): each receives an
    // announcement sent after it subscribed
    for (let i = 0; !(m.results.length && l.results.length); i++) {
      await postGraphQL(server.graphqlUrl, `mutation { announce(message: "ping ${i}") }`);
      await new Promise((r) => setImmediate(r));
      if (i > 500) throw new Error('the subscriptions never became live');
    }
    // the in-flight request has reached the server when it is closed
    const arrived = new Promise((r) => server.httpServer.once('request', r));
    const inflight = postGraphQL(server.graphqlUrl, '{ slow(ms: 400) }');
    await arrived;
    const closed = server.close();
    const answer = await inflight;
    await closed;
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ slow: 'slept 400' });
    await until(
      () => modern.closeCodes.length > 0 && legacy.closeCodes.length > 0,
      5_000,
      'close events',
    );
    expect(modern.closeCodes[0]).toBe(1001);
    expect(legacy.closeCodes[0]).toBe(1001);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await modern.dispose();
  });
});
