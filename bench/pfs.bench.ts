/**
 * Benchmarks of the embedded engine's PFS (issue 3), on a fresh data directory in the system's
 * temporary folder (so on the real disk, with real fsyncs):
 *
 * 1. commit of one small file: `modifyFile('bench@master', [put 100 bytes])` (an auto-commit:
 *    start, write, finish, durable) — p50 / p99 over 300 commits;
 * 2. 10,000 files (100 bytes each) in one commit — median of 3 runs, and files per second;
 * 3. reading a 50 MB file with `getFile` — MB/s, median of 5 reads (page cache warm);
 * 4. SubscribeCommit delivery latency: from the instant the finish is committed (the engine's
 *    commit-finished event) to the subscriber receiving the commit (state FINISHED) — p50 / p99
 *    over 300 commits (goal p50 ≤ 5 ms); also from the `finishCommit` call, which includes the
 *    durable SQLite commit.
 *
 * Run: `node -r ./scripts/ts-register.js bench/pfs.bench.ts` (or `npm run bench:pfs` if wired).
 * Optional env: REELGRAPH_BENCH_DIR = parent directory for the data directory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitState, type CommitInfo } from '../src/pachyderm';
import { EmbeddedPachyderm } from '../src/pachyderm/embedded';

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const median = (v: number[]) => quantile(v, 0.5);
const ms = (ns: bigint) => Number(ns) / 1e6;
const fmt = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'reelgraph-pfs-bench-'));
  const pach = await EmbeddedPachyderm.open(dir);
  try {
    await pach.createRepo('bench');
    console.log(`data directory: ${dir} (node ${process.version}, ${os.cpus().length} CPUs)`);

    // 1. one small file per commit
    const small: number[] = [];
    for (let i = 0; i < 320; i++) {
      const data = Buffer.from(`${i} `.padEnd(100, 'x'));
      const t0 = process.hrtime.bigint();
      await pach.modifyFile('bench@master', [{ op: 'put', path: `/small/${i % 50}`, data }]);
      if (i >= 20) small.push(ms(process.hrtime.bigint() - t0));
    }
    console.log(
      `commit of one small file (auto-commit, durable): p50 ${fmt(median(small))} ms, p99 ${fmt(quantile(small, 0.99))} ms (n=${small.length})`,
    );

    // 2. 10,000 files in one commit
    const bulk: number[] = [];
    for (let run = 0; run < 3; run++) {
      const ops = Array.from({ length: 10_000 }, (_, i) => ({
        op: 'put' as const,
        path: `/bulk${run}/${String(i).padStart(5, '0')}.txt`,
        data: Buffer.from(`${run}:${i} `.padEnd(100, 'y')),
      }));
      const t0 = process.hrtime.bigint();
      await pach.modifyFile('bench@master', ops);
      bulk.push(ms(process.hrtime.bigint() - t0));
    }
    const b = median(bulk);
    console.log(
      `10,000 files in one commit: median ${fmt(b, 0)} ms (${fmt(10_000 / (b / 1000), 0)} files/s; runs ${bulk.map((x) => fmt(x, 0)).join(', ')} ms)`,
    );

    // 3. reading a 50 MB file
    const big = Buffer.alloc(50 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const tw = process.hrtime.bigint();
    await pach.modifyFile('bench@master', [{ op: 'put', path: '/big.bin', data: big }]);
    const writeMs = ms(process.hrtime.bigint() - tw);
    const reads: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      let n = 0;
      for await (const chunk of pach.getFile('bench@master:/big.bin')) n += chunk.length;
      const s = ms(process.hrtime.bigint() - t0) / 1000;
      if (n !== big.length) throw new Error(`read ${n} bytes, expected ${big.length}`);
      reads.push(50 / s);
    }
    console.log(
      `reading a 50 MB file: median ${fmt(median(reads), 0)} MB/s (writing it: ${fmt(50 / (writeMs / 1000), 0)} MB/s)`,
    );

    // 4. SubscribeCommit delivery latency
    await pach.createRepo('sub');
    let finishedAt = 0n;
    const off = pach.onCommitFinished((ev) => {
      if (ev.repo.name === 'sub') finishedAt = process.hrtime.bigint();
    });
    const it = pach.subscribeCommit('sub', { state: CommitState.FINISHED })[Symbol.asyncIterator]();
    const fromEvent: number[] = [];
    const fromCall: number[] = [];
    for (let i = 0; i < 320; i++) {
      const c = await pach.startCommit('sub@master');
      const got = it.next();
      const t0 = process.hrtime.bigint();
      await pach.finishCommit(c);
      const r = await got;
      const t1 = process.hrtime.bigint();
      if ((r.value as CommitInfo).commit.id !== c.id) throw new Error('out of order delivery');
      if (i >= 20) {
        fromEvent.push(ms(t1 - finishedAt));
        fromCall.push(ms(t1 - t0));
      }
    }
    off();
    await it.return!();
    console.log(
      `SubscribeCommit delivery, finish committed → subscriber: p50 ${fmt(median(fromEvent), 3)} ms, p99 ${fmt(quantile(fromEvent, 0.99), 3)} ms (goal p50 ≤ 5 ms)`,
    );
    console.log(
      `SubscribeCommit delivery, finishCommit call → subscriber (includes the durable commit): p50 ${fmt(median(fromCall))} ms, p99 ${fmt(quantile(fromCall, 0.99))} ms`,
    );
  } finally {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
