/**
 * The `npm start` entry (src/main.ts) as a child process on an empty temp data directory: it
 * bootstraps (MovieLens 100K from REELGRAPH_DATASETS or ../shared/datasets, pipelines, first
 * model), serves on 127.0.0.1 (PORT=0), prints its URLs, writes JSON log lines with request ids;
 * GraphQL Playground, opened in Debian's Chromium (playwright-core), runs a query against it with
 * no request leaving the server; on SIGTERM, WebSockets of both protocols are closed with 1001 and
 * the process exits 0 after closing the engine; a second start on the same directory does not
 * bootstrap again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { legacyClient, legacySubscribe, modernClient, modernSubscribe, until } from './clients';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const CHROMIUM = '/usr/bin/chromium';

interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  url: string;
  exit: Promise<number | null>;
}

async function startMain(dataDir: string): Promise<Proc> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REELGRAPH_DATA_DIR: dataDir,
    REELGRAPH_DATASETS: DATASETS,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
  };
  delete env.REELGRAPH_API_TOKENS;
  delete env.REELGRAPH_API_TOKENS_FILE;
  const child = spawn(process.execPath, ['-r', './scripts/ts-register.js', 'src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = {
    child,
    stdout: '',
    stderr: '',
    url: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d) => (p.stdout += String(d)));
  child.stderr!.on('data', (d) => (p.stderr += String(d)));
  let exited = false;
  void p.exit.then(() => (exited = true));
  await until(
    () => /listening on http:\/\/\S+/.test(p.stderr) || exited,
    110_000,
    'the URL banner',
  );
  if (exited) throw new Error(`main exited early:\n${p.stderr}`);
  p.url = /listening on (http:\/\/\S+)/.exec(p.stderr)![1];
  return p;
}

let dir: string;
let main: Proc;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-main-'));
  main = await startMain(path.join(dir, 'data')); // does not exist yet: created, then bootstrapped
});

afterAll(() => {
  if (main?.child.exitCode === null) main.child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--help / -h print the usage and exit 0; an unknown argument exits 2 with one line; neither starts a server', async () => {
  // asynchronous: the server started by beforeAll keeps its pipes drained meanwhile
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['-r', './scripts/ts-register.js', 'src/main.ts', ...args],
        {
          cwd: ROOT,
          // a data directory that must stay absent: nothing may be bootstrapped
          env: { ...process.env, REELGRAPH_DATA_DIR: path.join(dir, 'never'), PORT: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  for (const flag of ['--help', '-h']) {
    const r = await run([flag]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: /);
    for (const name of [
      'HOST',
      'PORT',
      'REELGRAPH_DATA_DIR',
      'REELGRAPH_DATASETS',
      'REELGRAPH_API_TOKENS',
      'REELGRAPH_API_TOKENS_FILE',
      'REELGRAPH_MIN_FREE_BYTES',
      'REELGRAPH_MAX_JSON_DEPTH',
      'REELGRAPH_MAX_INTROSPECTION_COMPLEXITY',
      'LOG_LEVEL',
      'reelgraph serve --help',
    ]) {
      expect(r.stdout).toContain(name);
    }
  }
  const bad = await run(['--bogus']);
  expect(bad.status).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr.trimEnd().split('\n')).toEqual([
    expect.stringMatching(/^error: unknown argument "--bogus"/),
  ]);
  expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
});

test('an empty data directory is bootstrapped, then the URLs are printed and /readyz names the model', async () => {
  expect(main.stderr).toMatch(/first start: initialising/);
  expect(main.stderr).toMatch(/created pipeline train/);
  expect(main.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  for (const page of ['/graphql', '/playground', '/graphiql', '/healthz', '/readyz']) {
    expect(main.stderr).toContain(`${main.url}${page}`);
  }
  const r = await fetch(`${main.url}/readyz`);
  expect(r.status).toBe(200);
  const body = (await r.json()) as { status: string; model: string };
  expect(body.status).toBe('ready');
  expect(body.model).toMatch(/^[0-9a-f]{32}$/);
  const first = /first model: train@([0-9a-f]{32})/.exec(main.stderr);
  expect(first?.[1]).toBe(body.model);
});

const browserTest = fs.existsSync(CHROMIUM) ? test : test.skip;
if (!fs.existsSync(CHROMIUM)) {
  console.warn(`${CHROMIUM} is absent: the browser test is skipped (apt-get install chromium)`);
}

browserTest('GraphQL Playground from local files runs a query in Chromium', async () => {
  // playwright gives the browser a fresh temporary --user-data-dir and --headless
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on('request', (req) => {
      const u = req.url();
      if (!u.startsWith(main.url) && !/^(data|blob|about):/.test(u)) outside.push(u);
    });
    await page.goto(`${main.url}/playground`);
    await page.waitForSelector('.CodeMirror', { timeout: 60_000 });
    await page.click('.CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(
      '{ predict(userId: "196", movieId: "242") { estimate wasImpossible } }',
    );
    await page.click('[title="Execute Query (Ctrl-Enter)"]');
    await page.waitForFunction(() => document.body.innerText.includes('"wasImpossible"'), null, {
      timeout: 30_000,
    });
    const text = await page.evaluate(() => document.body.innerText);
    expect(text).toMatch(/"estimate": \d/);
    expect(text).toMatch(/"wasImpossible": false/);
    expect(outside).toEqual([]);
  } finally {
    await browser.close();
  }
});

test('SIGTERM: WebSockets get 1001 on both protocols, JSON logs with request ids, exit code 0', async () => {
  const wsUrl = `${main.url.replace('http', 'ws')}/graphql`;
  const modern = modernClient(wsUrl);
  const legacy = legacyClient(wsUrl);
  const m = modernSubscribe(modern, 'subscription { modelUpdated { version } }');
  const l = legacySubscribe(legacy, 'subscription { modelUpdated { version } }');
  // both sockets answer a query: they are connected (log lines are buffered: not a signal)
  const mq = modernSubscribe(modern, '{ __typename }');
  const lq = legacySubscribe(legacy, '{ __typename }');
  // each socket handles its messages in order: the subscriptions before the queries answered
  await until(() => mq.completed && lq.results.length > 0, 10_000, 'two connected sockets');
  await fetch(`${main.url}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
  main.child.kill('SIGTERM');
  expect(await main.exit).toBe(0);
  await until(() => modern.closeCodes.length > 0 && legacy.closeCodes.length > 0, 5_000, 'closes');
  expect(modern.closeCodes[0]).toBe(1001);
  expect(legacy.closeCodes[0]).toBe(1001);
  void m;
  void l;
  await modern.dispose();

  const lines = main.stdout
    .split('\n')
    .filter(Boolean)
    .map((s) => JSON.parse(s) as Record<string, unknown>);
  const probe = lines.find((x) => x.reqId === 'probe-1');
  expect(probe).toMatchObject({ msg: 'request', method: 'GET', path: '/healthz', status: 200 });
  expect(lines.some((x) => x.msg === 'signal received' && x.signal === 'SIGTERM')).toBe(true);
  expect(lines.filter((x) => x.msg === 'websocket open')).toHaveLength(2);
  expect(lines[lines.length - 1].msg).toBe('stopped');
});

test('a second start on the same data directory does not bootstrap again; SIGINT stops it', async () => {
  const again = await startMain(path.join(dir, 'data'));
  try {
    expect(again.stderr).not.toMatch(/first start/);
    expect(again.stderr).not.toMatch(/created/);
    const r = await fetch(`${again.url}/readyz`);
    expect(r.status).toBe(200);
  } finally {
    again.child.kill('SIGINT');
    expect(await again.exit).toBe(0);
  }
});
