/**
 * Health probes under costly introspection (issue 11): the API server (the real schema of
 * src/resolvers, createServer from src/server/app.ts; services reduced to what /healthz and
 * /readyz read, since introspection touches no service) runs in a child process; this process
 * sends 10 concurrent "maximal" introspection queries in a loop — as many aliases of
 * `__schema { types { name fields { name args { name } } } }` as the limits let through — while
 * probing `GET /readyz` sequentially (one probe every 20 ms), and prints the probe latency
 * p50 / p99 / max and the introspection answers' size and rate.
 *
 * Two servers are measured in the same run: the default limits (introspection priced by
 * introspection-cost.ts within REELGRAPH_MAX_INTROSPECTION_COMPLEXITY), and the reference with
 * the introspection limit lifted and no gate (what the code did before issue 11: 100 aliases,
 * about 730 KB each, all executing at once).
 *
 * Run: `npm run bench:introspection` (= `node -r ./scripts/ts-register.js
 * bench/introspection-health.bench.ts`). Options (env): BENCH_DURATION (s per measurement,
 * default 10), BENCH_RUNS (default 3; the median run is printed), BENCH_CONCURRENCY (default 10).
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSchema } from '../src/resolvers/schema';
import { createServer } from '../src/server/app';
import { loadConfig } from '../src/server/config';
import { createLogger } from '../src/server/logging';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const ONE = '__schema { types { name fields { name args { name } } } }';

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (v: number[]) => quantile(v, 0.5);

/** Child mode: serve the real schema on 127.0.0.1:0; print the URL; run until killed. */
async function serve(unlimited: boolean): Promise<void> {
  const config = loadConfig(
    { PORT: '0', HOST: '127.0.0.1' },
    unlimited ? { limits: { maxIntrospectionComplexity: Number.MAX_SAFE_INTEGER } } : {},
  );
  const server = await createServer({
    schema: await buildSchema(),
    services: { models: { currentVersion: () => 'bench' } } as never,
    config,
    logger: createLogger('silent'),
    gateCostlyIntrospection: !unlimited,
  });
  process.stdout.write(JSON.stringify({ url: server.url, limits: config.limits }) + '\n');
}

async function startChild(
  unlimited: boolean,
): Promise<{ child: ChildProcess; url: string; limits: Record<string, number> }> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(__dirname, '../scripts/ts-register.js'),
      __filename,
      '--serve',
      String(unlimited),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const { url, limits } = JSON.parse(line);
  return { child, url, limits };
}

/** The most aliases of ONE that the server accepts (binary search on its answers). */
async function maximalQuery(url: string, cap: number): Promise<{ query: string; aliases: number }> {
  const q = (n: number) =>
    '{ ' + Array.from({ length: n }, (_, i) => `a${i}: ${ONE}`).join(' ') + ' }';
  const ok = async (n: number) => {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: q(n) }),
    });
    await r.arrayBuffer();
    return r.status === 200;
  };
  let lo = 1;
  let hi = cap;
  if (await ok(hi)) lo = hi;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return { query: q(lo), aliases: lo };
}

interface Measurement {
  p50: number;
  p99: number;
  max: number;
  probes: number;
  answers: number;
  answerBytes: number;
}

async function measure(url: string, query: string | null): Promise<Measurement> {
  const end = Date.now() + DURATION * 1000;
  let answers = 0;
  let answerBytes = 0;
  const load = query
    ? Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < end) {
          const r = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query }),
          });
          const b = await r.arrayBuffer();
          if (r.status !== 200) throw new Error(`introspection answered ${r.status}`);
          answers++;
          answerBytes = b.byteLength;
        }
      })
    : [];
  const lat: number[] = [];
  while (Date.now() < end) {
    const t0 = performance.now();
    const r = await fetch(`${url}/readyz`);
    await r.arrayBuffer();
    lat.push(performance.now() - t0);
    await new Promise((res) => setTimeout(res, 20));
  }
  await Promise.all(load);
  return {
    p50: median(lat),
    p99: quantile(lat, 0.99),
    max: Math.max(...lat),
    probes: lat.length,
    answers,
    answerBytes,
  };
}

async function main(): Promise<void> {
  console.log(`introspection vs health probes — ${new Date().toISOString()}`);
  console.log(
    `uptime: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (1/5/15 min load), ${os.cpus().length} cores`,
  );
  console.log(
    `${CONCURRENCY} concurrent introspection queries in a loop, /readyz probed every 20 ms, ${DURATION} s per run, median of ${RUNS} runs (by p99)`,
  );
  for (const unlimited of [false, true]) {
    const { child, url, limits } = await startChild(unlimited);
    try {
      const { query, aliases } = await maximalQuery(url, unlimited ? 100 : 200);
      const idle: Measurement[] = [];
      const loaded: Measurement[] = [];
      for (let r = 0; r < RUNS; r++) {
        idle.push(await measure(url, null));
        loaded.push(await measure(url, query));
      }
      const pick = (ms: Measurement[]) => [...ms].sort((a, b) => a.p99 - b.p99)[ms.length >> 1];
      const i = pick(idle);
      const l = pick(loaded);
      console.log(
        `\n${unlimited ? 'reference: introspection limit lifted, no gate (the code before issue 11)' : `default limits (maxIntrospectionComplexity ${limits.maxIntrospectionComplexity})`}`,
      );
      console.log(
        `  maximal query: ${aliases} aliases of ${ONE}, answer ${(l.answerBytes / 1024).toFixed(0)} KB, ${(l.answers / DURATION).toFixed(1)} answers/s`,
      );
      console.log(
        `  /readyz idle:   p50 ${i.p50.toFixed(1)} ms  p99 ${i.p99.toFixed(1)} ms  max ${i.max.toFixed(1)} ms  (${i.probes} probes)`,
      );
      console.log(
        `  /readyz loaded: p50 ${l.p50.toFixed(1)} ms  p99 ${l.p99.toFixed(1)} ms  max ${l.max.toFixed(1)} ms  (${l.probes} probes)`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  }
  console.log(
    `\nuptime after: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

if (process.argv[2] === '--serve') {
  void serve(process.argv[3] === 'true');
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
