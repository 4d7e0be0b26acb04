/**
 * The port is bound before the process is ready (src/server/starting.ts): while starting,
 * /healthz answers 200, /readyz 503 with the current step, everything else 503 with Retry-After,
 * WebSocket upgrades 503; then the same listening server is handed over to createServer and
 * serves GraphQL on the same port.
 */
import * as http from 'node:http';
import WebSocket from 'ws';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { listenWhileStarting, type StartingServer } from '../../src/server/starting';
import { Authenticator } from '../../src/server/auth';
import { attachWebSockets } from '../../src/server/ws';
import type { Services } from '../../src/services';
import { postGraphQL } from './clients';
import { fixtureSchema } from './fixture-schema';

const services = { models: { currentVersion: () => 'fixture-model' } } as unknown as Services;

/** The HTTP status a WebSocket handshake gets (101 when it is accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.once('unexpected-response', (_req, res: http.IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (e) => {
      if (!/Unexpected server response/.test(String(e))) reject(e);
    });
  });
}

describe('the starting server', () => {
  let starting: StartingServer;
  let base: string;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    starting = await listenWhileStarting('127.0.0.1', 0);
    base = `http://127.0.0.1:${starting.port}`;
  });
  afterAll(async () => {
    if (server) await server.close();
    else await starting.close();
  });

  test('binds a real port when 0 is asked', () => {
    expect(starting.port).toBeGreaterThan(0);
    expect(starting.port).toBeLessThan(65536);
  });

  test('answers /healthz 200 and /readyz 503 naming the current step', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', phase: 'starting' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'starting', step: 'opening the engine' });
    starting.setStep('training the first model');
    const again = await fetch(`${base}/readyz?probe=1`);
    expect(await again.json()).toEqual({ status: 'starting', step: 'training the first model' });
  });

  test('answers every other request 503 with Retry-After, and refuses WebSocket upgrades', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ hello }' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ error: 'starting: training the first model' });
    expect(await upgradeStatus(`ws://127.0.0.1:${starting.port}/graphql`)).toBe(503);
  });

  test('hands the same listening port over to the app, which then serves GraphQL and WebSockets', async () => {
    const fixture = fixtureSchema();
    server = await createServer({
      schema: fixture.schema,
      services,
      config: loadConfig({ PORT: String(starting.port) }, { tokens: [] }),
      logger: createLogger('silent'),
      httpServer: starting.handOver(),
    });
    expect(server.port).toBe(starting.port);
    const a = await postGraphQL(server.graphqlUrl, '{ hello }');
    expect(a.status).toBe(200);
    expect(a.body.data).toEqual({ hello: 'world' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', model: 'fixture-model' });
    expect(await upgradeStatus(server.wsUrl)).toBe(101);
    expect(() => starting.handOver()).toThrow(/already handed over/);
  });
});

test('a port already in use fails at once with the listen error', async () => {
  const first = await listenWhileStarting('127.0.0.1', 0);
  try {
    await expect(listenWhileStarting('127.0.0.1', first.port)).rejects.toThrow(/EADDRINUSE/);
  } finally {
    await first.close();
  }
});

test('WebSocket upgrades are refused with 503 until the gateway is opened, and after closeAll', async () => {
  const httpServer = http.createServer();
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
  const port = (httpServer.address() as { port: number }).port;
  const gateway = attachWebSockets({
    httpServer,
    schema: fixtureSchema().schema,
    path: '/graphql',
    limits: loadConfig({}).limits,
    authenticator: new Authenticator([]),
    logger: createLogger('silent'),
    context: (t) => ({ auth: t.auth, requestId: t.requestId }),
    startClosed: true,
  });
  try {
    const url = `ws://127.0.0.1:${port}/graphql`;
    expect(await upgradeStatus(url)).toBe(503);
    gateway.open();
    expect(await upgradeStatus(url)).toBe(101);
    gateway.closeAll();
    gateway.open(); // too late: a closing gateway stays closed
    expect(await upgradeStatus(url)).toBe(503);
  } finally {
    await gateway.dispose();
    await new Promise<void>((r) => httpServer.close(() => r()));
  }
});
