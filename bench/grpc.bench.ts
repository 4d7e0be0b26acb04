/**
 * The cost of the gRPC adapter: the same operations through reelgraph's gRPC client → the pachd
 * stand-in (`reelgraph pachd`, a child process on 127.0.0.1) → the embedded engine, and on the
 * embedded engine directly (in this process), each on a fresh data directory:
 *
 * 1. commit of one small file (`modifyFile('bench@master', [put 100 bytes])`, an auto-commit;
 *    over gRPC that is InspectCommit + ModifyFile + InspectCommit, see client.ts) — p50 / p99 per
 *    run of 100 commits;
 * 2. ListCommit of a repo with 1,000 commits — milliseconds per full listing;
 * 3. GetFile of a 50 MB file (`readFile`) — MB/s.
 * Each figure is the median over RUNS runs (default 5); the ratio is gRPC / embedded (time) or
 * embedded / gRPC (throughput), i.e. how many times slower gRPC is.
 *
 * Run: `npm run bench:grpc` (= `node -r ./scripts/ts-register.js bench/grpc.bench.ts`).
 * Env: RUNS (default 5), REELGRAPH_BENCH_DIR (parent of the data directories).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pachyderm } from '../src/pachyderm';
import { EmbeddedPachyderm } from '../src/pachyderm/embedded';
import { connectPachd } from '../src/pachyderm/grpc/client';
import { startPachd } from './pachd-child';

const RUNS = Number(process.env.RUNS ?? 5);

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (v: number[]) => quantile(v, 0.5);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const fmt = (x: number, d = 2) => x.toFixed(d);

interface Figures {
  p50: number;
  p99: number;
  listMs: number;
  getMBs: number;
}

async function measure(pach: Pachyderm, label: string): Promise<Figures> {
  await pach.createRepo('bench');
  await pach.createRepo('many');
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const lat: number[] = [];
    for (let i = 0; i < 110; i++) {
      const data = Buffer.from(`${run}:${i} `.padEnd(100, 'x'));
      const t0 = now();
      await pach.modifyFile('bench@master', [{ op: 'put', path: `/small/${i % 20}`, data }]);
      if (i >= 10) lat.push(now() - t0);
    }
    p50s.push(quantile(lat, 0.5));
    p99s.push(quantile(lat, 0.99));
  }
  for (let i = 0; i < 1000; i++) {
    await pach.modifyFile('many@master', [{ op: 'put', path: '/f', data: String(i) }]);
  }
  const lists: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = now();
    let n = 0;
    for await (const c of pach.listCommit('many')) n += c ? 1 : 0;
    lists.push(now() - t0);
    if (n !== 1000) throw new Error(`${label}: listed ${n} commits, expected 1000`);
  }
  const big = Buffer.alloc(50 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  await pach.modifyFile('bench@master', [{ op: 'put', path: '/big.bin', data: big }]);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = now();
    const got = await pach.readFile('bench@master:/big.bin');
    const s = (now() - t0) / 1000;
    if (got.length !== big.length) throw new Error(`${label}: read ${got.length} bytes`);
    rates.push(big.length / 1e6 / s);
  }
  const f = { p50: median(p50s), p99: median(p99s), listMs: median(lists), getMBs: median(rates) };
  console.log(
    `${label.padEnd(9)} commit p50 ${fmt(f.p50)} ms, p99 ${fmt(f.p99)} ms | ListCommit(1000) ${fmt(f.listMs, 1)} ms | GetFile 50 MB ${fmt(f.getMBs, 0)} MB/s`,
  );
  return f;
}

async function main(): Promise<void> {
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'reelgraph-grpc-bench-'));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${RUNS} runs, data in ${dir}`);
  try {
    const embedded = await EmbeddedPachyderm.open(path.join(dir, 'embedded'));
    let e: Figures;
    try {
      e = await measure(embedded, 'embedded');
    } finally {
      await embedded.close();
    }
    const pachd = await startPachd(path.join(dir, 'pachd'));
    const client = connectPachd(pachd.address);
    let g: Figures;
    try {
      g = await measure(client, 'gRPC');
    } finally {
      await client.close();
      await pachd.stop();
    }
    console.log(
      `ratio gRPC/embedded: commit p50 ×${fmt(g.p50 / e.p50)}, p99 ×${fmt(g.p99 / e.p99)}, ` +
        `ListCommit ×${fmt(g.listMs / e.listMs)}, GetFile ×${fmt(e.getMBs / g.getMBs)} (slower)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
