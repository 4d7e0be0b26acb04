/**
 * The cost of /metrics instrumentation on the HTTP hot path: `ServerMetrics.observeHttp` (route
 * label, two high-resolution clock reads, one counter and one histogram update when the response
 * finishes) per request, against a reference in the same run that attaches the same two
 * `finish`/`close` listeners and does nothing else. Prints ns per request, median of RUNS runs of
 * N requests each, and the peak RSS; then the time to render the exposition text (GET /metrics).
 *
 * Run: `npm run bench:metrics` (node -r ./scripts/ts-register.js bench/metrics.bench.ts).
 * Options (env): BENCH_N (requests per run, default 200 000), BENCH_RUNS (default 7).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerMetrics } from '../src/server/metrics';

const N = Number(process.env.BENCH_N ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const URLS = ['/graphql', '/healthz', '/graphql?query=x', '/nope', '/assets/console.js'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ns per request of `handle` over N fake requests. */
function run(handle: (req: IncomingMessage, res: ServerResponse) => void): number {
  const reqs = URLS.map((url) => ({ method: 'POST', url }) as IncomingMessage);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const res = new EventEmitter() as unknown as ServerResponse;
    res.statusCode = 200;
    handle(reqs[i % reqs.length], res);
    res.emit('finish');
    res.emit('close');
  }
  return Number(process.hrtime.bigint() - t0) / N;
}

async function main(): Promise<void> {
  const metrics = new ServerMetrics();
  const reference = (_req: IncomingMessage, res: ServerResponse) => {
    const end = () => undefined;
    res.once('finish', end);
    res.once('close', end);
  };
  const instrumented = (req: IncomingMessage, res: ServerResponse) => metrics.observeHttp(req, res);
  run(reference); // warm-up
  run(instrumented);
  const ref: number[] = [];
  const ins: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    ref.push(run(reference));
    ins.push(run(instrumented));
  }
  const texts: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    await metrics.text();
    texts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const fmt = (x: number) => x.toFixed(0).padStart(6);
  console.log(`requests per run: ${N}, runs: ${RUNS} (median)`);
  console.log(`reference (listeners only)   ${fmt(median(ref))} ns/request`);
  console.log(`observeHttp                  ${fmt(median(ins))} ns/request`);
  console.log(`instrumentation overhead     ${fmt(median(ins) - median(ref))} ns/request`);
  console.log(`GET /metrics text            ${median(texts).toFixed(2)} ms`);
  console.log(
    `peak RSS                     ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
  metrics.close();
}

void main();
