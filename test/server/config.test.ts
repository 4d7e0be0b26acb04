/**
 * The server configuration from the environment: defaults, overrides, clear errors naming the
 * variable, token lists (inline and file).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ConfigError, DEFAULT_LIMITS, loadConfig, parseTokens } from '../../src/server/config';
import { Authenticator } from '../../src/server/auth';

const T1 = 'aaaaaaaaaaaaaaaa-token-1';
const T2 = 'bbbbbbbbbbbbbbbb-token-2';

test('defaults: 127.0.0.1:4000, ~/.reelgraph, no tokens, the default limits', () => {
  const c = loadConfig({});
  expect(c).toEqual({
    host: '127.0.0.1',
    port: 4000,
    dataDir: path.join(os.homedir(), '.reelgraph'),
    tokens: [],
    limits: { ...DEFAULT_LIMITS },
    logLevel: 'info',
  });
  expect(c.limits.maxPageSize).toBe(100);
});

test('every variable is read', () => {
  const c = loadConfig({
    HOST: '0.0.0.0',
    PORT: '8080',
    REELGRAPH_DATA_DIR: 'rel/dir',
    REELGRAPH_API_TOKENS: `${T1}, ${T2}`,
    REELGRAPH_MAX_ITEMS: '5',
    REELGRAPH_MAX_BODY_BYTES: '1000',
    REELGRAPH_MAX_DEPTH: '3',
    REELGRAPH_MAX_COMPLEXITY: '99',
    REELGRAPH_MAX_TOKENS: '77',
    REELGRAPH_MAX_WS_PAYLOAD: '2048',
    LOG_LEVEL: 'warn',
  });
  expect(c).toMatchObject({
    host: '0.0.0.0',
    port: 8080,
    dataDir: path.resolve('rel/dir'),
    tokens: [T1, T2],
    logLevel: 'warn',
    limits: {
      maxItems: 5,
      maxBodyBytes: 1000,
      maxDepth: 3,
      maxComplexity: 99,
      maxTokens: 77,
      maxWsPayload: 2048,
      maxPageSize: 100,
    },
  });
});

test.each([
  ['PORT', '70000', /PORT="70000": PORT must be between 0 and 65535/],
  ['PORT', 'abc', /PORT="abc": PORT must be a whole number/],
  [
    'REELGRAPH_MAX_ITEMS',
    '0',
    /REELGRAPH_MAX_ITEMS="0": REELGRAPH_MAX_ITEMS must be between 1 and/,
  ],
  ['REELGRAPH_MAX_DEPTH', '2.5', /REELGRAPH_MAX_DEPTH="2.5": .*whole number/],
  ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud": LOG_LEVEL must be one of/],
  ['HOST', 'a b', /HOST="a b": HOST must be a host name/],
  [
    'REELGRAPH_API_TOKENS',
    'short',
    /REELGRAPH_API_TOKENS: token 1 is invalid: expected at least 16/,
  ],
])('%s=%s is refused with a clear error', (name, value, message) => {
  expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
  expect(() => loadConfig({ [name]: value })).toThrow(message);
});

test('tokens from a file (comments and blank lines ignored) join the inline ones', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-cfg-'));
  try {
    const file = path.join(dir, 'tokens');
    fs.writeFileSync(file, `# API tokens\n${T2}\n\n${T1}  # ci\n`);
    const c = loadConfig({ REELGRAPH_API_TOKENS: T1, REELGRAPH_API_TOKENS_FILE: file });
    expect(c.tokens).toEqual([T1, T2]);
    expect(() => loadConfig({ REELGRAPH_API_TOKENS_FILE: path.join(dir, 'missing') })).toThrow(
      /REELGRAPH_API_TOKENS_FILE: cannot read/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('parseTokens never echoes a bad token', () => {
  expect(() => parseTokens('secret-short', 'file')).toThrow(/token 1 is invalid/);
  expect(() => parseTokens('secret-short', 'file')).not.toThrow(/secret/);
});

test('Authenticator: header and connectionParams forms; wrong or absent tokens', () => {
  const auth = new Authenticator([T1]);
  // the token's id is its SHA-256; its name its position (no token file here)
  const t1 = {
    authenticated: true,
    presented: true,
    tokenName: 'token-1',
    tokenId: createHash('sha256').update(T1).digest('hex'),
  };
  expect(auth.fromHeader(`Bearer ${T1}`)).toEqual(t1);
  expect(auth.fromHeader(`bearer ${T1}`)).toEqual(t1);
  expect(auth.fromHeader(`Bearer ${T2}`)).toEqual({ authenticated: false, presented: true });
  expect(auth.fromHeader(`Basic ${T1}`)).toEqual({ authenticated: false, presented: true });
  expect(auth.fromHeader(undefined)).toEqual({ authenticated: false, presented: false });
  for (const p of [
    { Authorization: `Bearer ${T1}` },
    { authorization: `Bearer ${T1}` },
    { headers: { Authorization: `Bearer ${T1}` } },
    { token: T1 },
  ]) {
    expect(auth.fromConnectionParams(p).authenticated).toBe(true);
  }
  expect(auth.fromConnectionParams({ token: 42 })).toEqual({
    authenticated: false,
    presented: true,
  });
  expect(auth.fromConnectionParams(null)).toEqual({ authenticated: false, presented: false });
  expect(auth.allows('query', { authenticated: false, presented: false })).toBe(true);
  expect(auth.allows('mutation', { authenticated: false, presented: false })).toBe(false);
  expect(auth.allows('subscription', { authenticated: true, presented: true })).toBe(true);
  expect(new Authenticator([]).allows('mutation', { authenticated: false, presented: false })).toBe(
    true,
  );
});
