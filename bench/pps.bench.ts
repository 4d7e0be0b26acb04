/**
 * Benchmarks of the embedded engine's PPS (issue 3), on a fresh data directory in the system's
 * temporary folder (real disk, real fsyncs, real child processes):
 *
 * 1. no-op pipeline overhead: from the `modifyFile` call that commits one small file to an input
 *    repo, to the job of a pipeline running `true` on it (glob `/`, one datum) reaching
 *    JOB_SUCCESS (seen by `inspectJob({wait: true})`) — p50 / p99 over 40 commits (after 5
 *    warm-up commits); for reference, the bare cost of spawning `true` and waiting for its exit;
 * 2. many datums in one job: 200 files, glob `/*`, `true` per datum (one process per datum,
 *    `maxDatums` = CPU count) versus datum batching (one Node process serving every datum over
 *    IPC) — median of 3 jobs, datums per second.
 *
 * Run: `node -r ./scripts/ts-register.js bench/pps.bench.ts`.
 * Optional env: REELGRAPH_BENCH_DIR = parent directory for the data directory.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobState } from '../src/pachyderm';
import { EmbeddedPachyderm } from '../src/pachyderm/embedded';
import { embeddedPps } from '../src/pachyderm/embedded/pps';

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const median = (v: number[]) => quantile(v, 0.5);
const ms = (ns: bigint) => Number(ns) / 1e6;
const fmt = (x: number, d = 1) => x.toFixed(d);

async function spawnTrue(): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = spawn('true', [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    c.on('error', reject);
    c.on('close', () => resolve());
    c.stdin.end();
  });
  return ms(process.hrtime.bigint() - t0);
}

const BATCH_WORKER = `
  const next = () => new Promise((r) => { process.once('message', r); process.send({ type: 'nextDatum' }); });
  (async () => { for (;;) { const m = await next(); if (m.type !== 'datum') { process.disconnect(); return; } } })();`;

async function main(): Promise<void> {
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'reelgraph-pps-bench-'));
  const pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
  try {
    console.log(`data directory: ${dir} (node ${process.version}, ${os.cpus().length} CPUs)`);

    // 1. no-op pipeline overhead
    await pach.createRepo('noop_in');
    await pach.createPipeline({
      pipeline: { name: 'noop' },
      transform: { cmd: ['true'] },
      input: { pfs: { repo: 'noop_in', glob: '/' } },
    });
    const lat: number[] = [];
    for (let i = 0; i < 45; i++) {
      const t0 = process.hrtime.bigint();
      const c = await pach.modifyFile('noop_in@master', [
        { op: 'put', path: `/f${i % 5}`, data: `${i}` },
      ]);
      const j = await pach.inspectJob({ pipeline: 'noop', id: c.id }, { wait: true });
      const t = ms(process.hrtime.bigint() - t0);
      if (j.state !== JobState.JOB_SUCCESS) throw new Error(`job ${c.id}: ${j.reason}`);
      if (i >= 5) lat.push(t);
    }
    const spawnTimes: number[] = [];
    for (let i = 0; i < 40; i++) spawnTimes.push(await spawnTrue());
    console.log(
      `no-op pipeline, input commit → job SUCCESS: p50 ${fmt(median(lat))} ms, p99 ${fmt(quantile(lat, 0.99))} ms (n=${lat.length}); ` +
        `spawning \`true\` alone: p50 ${fmt(median(spawnTimes))} ms`,
    );

    // 2. many datums in one job
    const files = Array.from({ length: 200 }, (_, i) => ({
      op: 'put' as const,
      path: `/d${String(i).padStart(3, '0')}`,
      data: `${i}`,
    }));
    for (const [name, transform] of [
      ['per_datum', { cmd: ['true'] }],
      ['batched', { cmd: ['node', '-e', BATCH_WORKER], datumBatching: true }],
    ] as const) {
      const repo = `${name}_in`;
      await pach.createRepo(repo);
      await pach.createPipeline({
        pipeline: { name },
        transform,
        input: { pfs: { repo, glob: '/*' } },
        reprocessSpec: 'every_job',
      });
      const rates: number[] = [];
      for (let run = 0; run < 3; run++) {
        const t0 = process.hrtime.bigint();
        const c = await pach.modifyFile(`${repo}@master`, [
          ...files,
          { op: 'put', path: '/run', data: `${run}` },
        ]);
        const j = await pach.inspectJob({ pipeline: name, id: c.id }, { wait: true });
        const t = ms(process.hrtime.bigint() - t0);
        if (j.state !== JobState.JOB_SUCCESS) throw new Error(`job ${c.id}: ${j.reason}`);
        rates.push((j.dataProcessed / t) * 1000);
      }
      console.log(
        `201 datums in one job (${name === 'batched' ? 'datum batching, one node process' : 'one `true` process per datum'}): median ${fmt(median(rates), 0)} datums/s`,
      );
    }
  } finally {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
