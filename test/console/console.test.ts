/**
 * The web console in Debian's Chromium (playwright-core), served by the real API process
 * (`src/main.ts` in a child process, requiring a token) on a fresh data directory bootstrapped
 * with MovieLens 100K (REELGRAPH_DATASETS or ../shared/datasets). The console is built first (console/build.js, into
 * dist/console, which the server serves). The walk: Jobs shows the first model's train job and
 * asks to sign in for live updates; Tokens signs in (sessionStorage only); Jobs is live;
 * Data adds ratings and shows their train job reaching SUCCESS live; Predict sends pairs and
 * shows the pushed answer; Models charts two versions; Tokens. Each page is checked with axe-core
 * (no violations) and saved as a screenshot in artifacts/console/ (wide and phone widths). No
 * request leaves the server's origin.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { until } from '../server/clients';

jest.setTimeout(360_000);

const ROOT = path.resolve(__dirname, '../..');
const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');
const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshots go (CI keeps this folder as artifacts; docs/console.md). */
const SHOTS = path.join(ROOT, 'artifacts', 'console');
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** The server requires this token for mutations and subscriptions; the console signs in with it. */
const TOKEN = 'console-test-token-0123456789abcdef';

let dir: string;
let child: ChildProcess;
let url = '';
let stderr = '';
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(path.join(DATASETS, 'ml-100k'))) {
    throw new Error(`MovieLens 100K not found in ${DATASETS} (set REELGRAPH_DATASETS)`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  }
  const built = spawnSync(process.execPath, ['console/build.js'], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`console/build.js failed:\n${built.stderr}`);
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-console-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REELGRAPH_DATA_DIR: path.join(dir, 'data'),
    REELGRAPH_DATASETS: DATASETS,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  };
  env.REELGRAPH_API_TOKENS = TOKEN;
  delete env.REELGRAPH_API_TOKENS_FILE;
  child = spawn(process.execPath, ['-r', './scripts/ts-register.js', 'src/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => (stderr += String(d)));
  let exited = false;
  child.once('exit', () => (exited = true));
  await until(() => /listening on http:\/\/\S+/.test(stderr) || exited, 150_000, 'the banner');
  if (exited) throw new Error(`main exited early:\n${stderr}`);
  url = /listening on (http:\/\/\S+)/.exec(stderr)![1];
  browser = await chromium.launch({
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
});

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** axe-core's violations on the page as it is now (WCAG 2.0/2.1 A and AA, best practices). */
async function axe(page: Page): Promise<{ id: string; nodes: string[] }[]> {
  // evaluated through the DevTools protocol: the page's CSP (script-src 'self') still holds
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            o: object,
          ) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
      },
    });
    return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test('the console shows jobs, adds ratings and follows their train job live, predicts, charts two model versions; axe finds nothing', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const outside: string[] = [];
  const cspErrors: string[] = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(url) && !/^(data|blob|about):/.test(u)) outside.push(u);
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });

  // Jobs without a token: the history shows (queries are open), live updates ask to sign in
  await page.goto(`${url}/`);
  await page.waitForSelector('#jobs-table tr[data-pipeline="train"][data-state="SUCCESS"]', {
    timeout: 30_000,
  });
  await page.waitForSelector('text=Live updates stopped');
  expect(await page.textContent('#page-jobs')).toMatch(
    /UNAUTHENTICATED.*sign in on the Tokens page/,
  );

  // Tokens: sign in; the token is kept in sessionStorage only
  await page.click('nav >> text=Tokens');
  await page.fill('#token', TOKEN);
  await page.click('button:has-text("Sign in")');
  await page.waitForSelector('text=Signed in');
  expect(await page.evaluate(() => sessionStorage.getItem('reelgraph.token'))).toBe(TOKEN);
  expect(await page.evaluate(() => localStorage.length)).toBe(0);
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'tokens');

  // Jobs again, now live: no error
  await page.click('nav >> text=Jobs');
  await page.waitForSelector('#jobs-table tr[data-pipeline="train"][data-state="SUCCESS"]');
  expect(await page.locator('text=Live updates stopped').count()).toBe(0);
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'jobs');

  // keyboard: a job row takes the focus, Enter opens its detail (the train job: one datum)
  await page.focus('#jobs-table tr[data-pipeline="train"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#job-detail-title');
  await page.waitForSelector('#job-datums tbody tr');
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'job-detail');

  // Data: add ratings; the train job they started goes to SUCCESS, pushed live
  await page.click('nav >> text=Data');
  await page.waitForSelector('#ratings');
  await page.fill('#ratings', '1 1 5\n1 2 4\n2 1 1');
  await page.click('button:has-text("Add ratings")');
  const job = await page.waitForSelector('#train-job[data-job]');
  const batch = await job.getAttribute('data-job');
  expect(batch).toMatch(/^[0-9a-f]{32}$/);
  await page.waitForSelector('#train-job[data-state="SUCCESS"]', { timeout: 180_000 });
  // the batch's commit is in the live commit list of `training`
  await page.waitForSelector(`#commits-table tr[data-commit="${batch}"]`, { timeout: 10_000 });
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'data');

  // Predict: the answer is pushed, with its latency
  await page.click('nav >> text=Predict');
  await page.click('button:has-text("Send")');
  await page.waitForSelector('#predict-answer tbody tr', { timeout: 30_000 });
  expect(await page.textContent('#predict-status')).toMatch(/answer pushed after \d+ ms/);
  expect(await page.locator('#predict-answer tbody tr').count()).toBe(3);
  const estimates = await page.locator('#predict-answer tbody td.num').allTextContents();
  for (const e of estimates) {
    expect(Number(e)).toBeGreaterThanOrEqual(1);
    expect(Number(e)).toBeLessThanOrEqual(5);
  }
  await page.waitForSelector('#recommendations tbody tr');
  await page.waitForSelector('#user-ratings tbody tr');
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'predict');

  // Models: two versions (the first model and the one trained on the batch) on the chart
  await page.click('nav >> text=Models');
  await page.waitForSelector('svg.chart[data-versions="2"]', { timeout: 30_000 });
  expect(await page.locator('#models-table tbody tr').count()).toBe(2);
  expect(await page.locator('#models-table .serving').count()).toBe(1);
  expect(await page.locator('svg.chart circle.point-rmse').count()).toBe(2);
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'models');

  // a phone
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('nav >> text=Jobs');
  await page.waitForSelector('#jobs-table tbody tr');
  expect(await axe(page)).toEqual([]);
  await shoot(page, 'jobs-phone');
  await page.click('nav >> text=Models');
  await page.waitForSelector('svg.chart[data-versions="2"]');
  await shoot(page, 'models-phone');

  expect(outside).toEqual([]);
  expect(cspErrors).toEqual([]);
  for (const f of ['jobs', 'job-detail', 'data', 'predict', 'models', 'tokens', 'jobs-phone']) {
    expect(fs.statSync(path.join(SHOTS, `${f}.png`)).size).toBeGreaterThan(5_000);
  }
});

test('GraphQL Playground and GraphiQL open with one tab per example file', async () => {
  const names = fs
    .readdirSync(path.join(ROOT, 'schema', 'examples'))
    .filter((f) => f.endsWith('.graphql'))
    .map((f) => f.replace(/\.graphql$/, ''));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/playground`);
  await page.waitForSelector('.CodeMirror', { timeout: 60_000 });
  const playground = await page.evaluate(() => document.body.innerText);
  for (const n of names) expect(playground).toContain(n);
  await shoot(page, 'playground');

  await page.goto(`${url}/graphiql`);
  await page.waitForSelector('.graphiql-tab', { timeout: 60_000 });
  expect(await page.locator('.graphiql-tab').count()).toBe(names.length);
  await shoot(page, 'graphiql');
});
