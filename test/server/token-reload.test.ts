/**
 * Revocable API tokens (issue 11): the token file is re-read while the server runs (fs.watch,
 * a stat poll, and `reloadTokens()` as SIGHUP calls it); a token removed from it is refused from
 * then on over HTTP, and its open WebSockets on both protocols are closed with 4403, while the
 * other tokens' sockets keep streaming; tokens carry names and an optional expiry.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createServer, type RunningServer } from '../../src/server/app';
import { Authenticator } from '../../src/server/auth';
import { ConfigError, loadConfig } from '../../src/server/config';
import { createLogger } from '../../src/server/logging';
import { parseTokenFile } from '../../src/server/token-file';
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

const T1 = 'revocable-token-0123456789-aaaa';
const T2 = 'lasting-token-0123456789-bbbbbb';
const services = { models: { currentVersion: () => 'fixture-model' } } as unknown as Services;

let dir: string;
let file: string;
let server: RunningServer;

/** Replaces the token file as editors do (write a new file, rename it over the old one). */
function writeTokens(text: string): void {
  const tmp = path.join(dir, `tokens.${process.hrtime.bigint()}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

async function start(pollMs = 200): Promise<RunningServer> {
  return createServer({
    schema: fixtureSchema().schema,
    services,
    config: loadConfig({ PORT: '0', REELGRAPH_API_TOKENS_FILE: file }),
    logger: createLogger('silent'),
    tokenFilePollMs: pollMs,
  });
}

const announce = (token: string, message: string) =>
  postGraphQL(server.graphqlUrl, 'mutation($m: String!) { announce(message: $m) }', {
    token,
    variables: { m: message },
  });

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-tokens-'));
  file = path.join(dir, 'tokens');
});
afterEach(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('refuses a token removed from the file over HTTP and closes its WebSockets (both protocols) with 4403; the others keep streaming', async () => {
  writeTokens(`# API tokens\n${T1} name=ci\n${T2} name=alice\n`);
  server = await start();
  expect((await announce(T1, 'before')).body.data).toEqual({ announce: 'before' });

  const revokedModern = modernClient(server.wsUrl, { token: T1 });
  const revokedLegacy = legacyClient(server.wsUrl, { token: T1 });
  const lasting = modernClient(server.wsUrl, { token: T2 });
  const a = modernSubscribe(revokedModern, 'subscription { announced }');
  const b = legacySubscribe(revokedLegacy, 'subscription { announced }');
  const c = modernSubscribe(lasting, 'subscription { announced }');
  // all three subscriptions are live: each receives a message sent after they subscribed
  for (let i = 0; !(a.results.length && b.results.length && c.results.length); i++) {
    await announce(T2, `ping ${i}`);
    await new Promise((r) => setImmediate(r));
    if (i > 500) throw new Error('the subscriptions never became live');
  }

  writeTokens(`# API tokens\n${T2} name=alice\n`);
  await until(
    () => revokedModern.closeCodes.length > 0 && revokedLegacy.closeCodes.length > 0,
    10_000,
    'the revoked sockets to close',
  );
  expect(revokedModern.closeCodes).toEqual([4403]);
  expect(revokedLegacy.closeCodes).toEqual([4403]);
  // HTTP: refused from then on
  const refused = await announce(T1, 'after');
  expect(refused.status).toBe(401);
  expect(refused.body.errors?.[0].message).toBe('the API token is not valid');
  // the other token's subscription still streams (positive signal that it had its chance)
  const seen = c.results.length;
  expect((await announce(T2, 'still here')).status).toBe(200);
  await until(() => c.results.length > seen, 5_000, 'the lasting subscription');
  expect(c.results[c.results.length - 1]).toEqual({ announced: 'still here' });
  expect(lasting.closeCodes).toEqual([]);
  // a new connection with the removed token is refused
  const again = modernClient(server.wsUrl, { token: T1 });
  await until(() => again.closeCodes.length > 0, 5_000, 'the refused connection');
  expect(again.closeCodes).toEqual([4403]);
  await lasting.dispose();
});

test('reloadTokens (what SIGHUP calls) applies the file at once; an unreadable file keeps the last good set', async () => {
  writeTokens(`${T1}\n`);
  server = await start(3_600_000);
  writeTokens(`${T2}\n`);
  expect(server.reloadTokens()).toBe(true);
  expect((await announce(T1, 'x')).status).toBe(401);
  expect((await announce(T2, 'y')).status).toBe(200);
  // a broken edit: the last good set stays (T2 still works, nothing opens)
  writeTokens(`${T2} expires=tomorrow\n`);
  expect(server.reloadTokens()).toBe(false);
  expect((await announce(T2, 'z')).status).toBe(200);
  // an emptied file locks writes (authentication stays on) rather than opening them
  writeTokens('# nobody\n');
  expect(server.reloadTokens()).toBe(true);
  const none = await postGraphQL(server.graphqlUrl, 'mutation { announce(message: "m") }');
  expect(none.status).toBe(401);
  expect((await announce(T2, 'w')).status).toBe(401);
});

test('a token past its expiry is refused, and its open WebSocket is closed with 4403 when it expires', async () => {
  const soon = new Date(Date.now() + 1_500).toISOString();
  writeTokens(`${T1} name=short expires=${soon}\n${T2} expires=2000-01-01\n`);
  server = await start();
  expect((await announce(T2, 'old')).status).toBe(401);
  const client = modernClient(server.wsUrl, { token: T1 });
  const sub = modernSubscribe(client, 'subscription { announced }');
  for (let i = 0; !sub.results.length; i++) {
    await announce(T1, `ping ${i}`);
    await new Promise((r) => setImmediate(r));
    if (i > 500) throw new Error('the subscription never became live');
  }
  await until(() => client.closeCodes.length > 0, 10_000, 'the expiry to close the socket');
  expect(client.closeCodes).toEqual([4403]);
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(soon));
  expect((await announce(T1, 'late')).status).toBe(401);
});

describe('the token file format', () => {
  test('reads tokens with names and expiry, defaults names by position', () => {
    expect(
      parseTokenFile(
        `# tokens\n${T1} name=ci expires=2027-01-31T00:00:00Z\n${T2}, another-token-0123456789 # x\n`,
        'tokens',
      ),
    ).toEqual([
      { token: T1, name: 'ci', expiresAt: Date.UTC(2027, 0, 31) },
      { token: T2, name: 'token-2' },
      { token: 'another-token-0123456789', name: 'token-3' },
    ]);
  });

  test.each([
    [`name=ci ${T1}`, 'tokens: line 1: name= must follow a token on the same line'],
    [`${T1}\nexpires=2027-01-01`, 'tokens: line 2: expires= must follow a token on the same line'],
    [`${T1} expires=soon`, 'tokens: line 1: expires= expects an ISO 8601 date or date-time'],
    [`${T1} name=`, 'tokens: line 1: name= expects 1 to 64 visible ASCII characters, got ""'],
    [`${T1}\nshort`, 'tokens: line 2: token 2 is invalid: expected at least 16'],
  ])('refuses %j naming the line', (text, message) => {
    expect(() => parseTokenFile(text, 'tokens')).toThrow(ConfigError);
    expect(() => parseTokenFile(text, 'tokens')).toThrow(message);
    expect(() => parseTokenFile(text, 'tokens')).not.toThrow(/revocable-token/);
  });

  test('Authenticator: stillValid follows setTokens and the clock', () => {
    let now = 1_000;
    const auth = new Authenticator([{ token: T1, name: 'ci', expiresAt: 2_000 }, T2], {
      now: () => now,
    });
    const s1 = auth.fromHeader(`Bearer ${T1}`);
    expect(s1).toMatchObject({ authenticated: true, tokenName: 'ci' });
    expect(auth.stillValid(s1)).toBe(true);
    now = 2_000;
    expect(auth.stillValid(s1)).toBe(false);
    expect(auth.whyInvalid(s1)).toBe('expired');
    expect(auth.fromHeader(`Bearer ${T1}`).authenticated).toBe(false);
    const s2 = auth.fromHeader(`Bearer ${T2}`);
    let changes = 0;
    auth.onChange(() => changes++);
    auth.setTokens([T1]);
    expect(changes).toBe(1);
    expect(auth.stillValid(s2)).toBe(false);
    expect(auth.whyInvalid(s2)).toBe('revoked');
  });
});

test('logs the token’s name with each request and WebSocket, never the token', async () => {
  writeTokens(`${T1} name=ci-deploy\n`);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  server = await createServer({
    schema: fixtureSchema().schema,
    services,
    config: loadConfig({ PORT: '0', REELGRAPH_API_TOKENS_FILE: file }),
    logger: pino({ level: 'info' }, sink),
  });
  expect((await announce(T1, 'logged')).status).toBe(200);
  const client = modernClient(server.wsUrl, { token: T1 });
  const sub = modernSubscribe(client, 'subscription { announced }');
  for (let i = 0; !sub.results.length; i++) {
    await announce(T1, `ping ${i}`);
    await new Promise((r) => setImmediate(r));
    if (i > 500) throw new Error('the subscription never became live');
  }
  await client.dispose();
  const parsed = lines.map((l) => JSON.parse(l) as { msg: string; token?: string });
  expect(parsed.some((l) => l.msg === 'request' && l.token === 'ci-deploy')).toBe(true);
  expect(parsed.some((l) => l.msg === 'websocket authenticated' && l.token === 'ci-deploy')).toBe(
    true,
  );
  expect(lines.join('\n')).not.toContain(T1);
});
