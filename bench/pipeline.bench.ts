/**
 * Benchmarks of the pipeline programs on the embedded engine (issue 4), on a fresh data directory
 * in the system's temporary folder:
 *
 * 1. `init` → first model: the idempotent bootstrap (repos, MovieLens 100K as the first training
 *    commit, both pipelines) until the first train job's model is readable and its commit set is
 *    finished — one run;
 * 2. request commit → answer: from `modifyFile('streaming@master', [put /req-k])` to the answer
 *    file read back from the predict job's output commit (InspectJob{wait} + GetFile) — p50 / p99
 *    of 20 requests of 3 pairs each (after 2 warm-up requests), with `datumBatching: true` (the
 *    spec as shipped) and then with the pipeline updated to `datumBatching: false`. Goal: p50 ≤
 *    300 ms. The job's own phases are printed too (created → started → finished, from JobInfo).
 *
 * The worker processes start through bin/reelgraph: from dist/ when `npm run build` is fresh
 * (faster start), else from the TypeScript sources through the swc hook; the mode is printed.
 * `REELGRAPH_FROM_DIST=1` uses dist/ even when a source file changed after the build.
 *
 * Run: `node -r ./scripts/ts-register.js bench/pipeline.bench.ts` (`npm run bench:pipeline`).
 * Optional env: REELGRAPH_BENCH_DIR (parent of the data directory), REELGRAPH_DATASETS.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EmbeddedPachyderm } from '../src/pachyderm/embedded';
import { DatumState, JobState, type JobInfo } from '../src/pachyderm/types';
import { bootstrap, loadPipelineSpec, openEmbeddedEngine } from '../src/services/bootstrap';

const ROOT = path.resolve(__dirname, '..');
const DATASETS = process.env.REELGRAPH_DATASETS ?? path.resolve(ROOT, '../shared/datasets');

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const fmt = (x: number, d = 0) => x.toFixed(d);
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Which entry bin/reelgraph runs for `worker …` (the same rule as the launcher). */
function launcherMode(): string {
  const js = path.join(ROOT, 'dist/workers/main.js');
  if (process.env.REELGRAPH_FROM_SOURCE || !fs.existsSync(js))
    return 'TypeScript sources (swc hook)';
  if (process.env.REELGRAPH_FROM_DIST) return 'dist/ (REELGRAPH_FROM_DIST=1)';
  const newer = execFileSync('find', [path.join(ROOT, 'src'), '-name', '*.ts', '-newer', js], {
    encoding: 'utf8',
  });
  return newer.trim() ? 'TypeScript sources (swc hook; dist/ is older)' : 'dist/ (built)';
}

/** Commits one request and waits for its answer; returns the latency and the predict job. */
async function oneRequest(
  pach: EmbeddedPachyderm,
  k: number,
): Promise<{ ms: number; job: JobInfo }> {
  const name = `/req-${String(k).padStart(4, '0')}`;
  const body = `1 ${1 + (k % 1682)}\n99999 50\n196 ${1 + ((k * 7) % 1682)}\n`;
  const t0 = process.hrtime.bigint();
  const c = await pach.modifyFile('streaming@master', [{ op: 'put', path: name, data: body }]);
  const job = await pach.inspectJob({ pipeline: 'predict', id: c.id }, { wait: true });
  const answer = await pach.readFile({ commit: { repo: 'predict', id: c.id }, path: name });
  const ms = msSince(t0);
  if (job.state !== JobState.JOB_SUCCESS || answer.toString().split('\n').length !== 4) {
    throw new Error(`request ${name}: job ${JobState[job.state]} ${job.reason}`);
  }
  return { ms, job };
}

async function requests(pach: EmbeddedPachyderm, label: string, from: number): Promise<void> {
  for (let k = from; k < from + 2; k++) await oneRequest(pach, k); // warm-up
  const total: number[] = [];
  const queued: number[] = [];
  const running: number[] = [];
  const download: number[] = [];
  const process_: number[] = [];
  const upload: number[] = [];
  for (let k = from + 2; k < from + 22; k++) {
    const { ms, job } = await oneRequest(pach, k);
    total.push(ms);
    queued.push(job.started!.getTime() - job.created.getTime());
    running.push(job.finished!.getTime() - job.started!.getTime());
    for await (const d of pach.listDatum(job.job)) {
      if (d.state !== DatumState.SUCCESS || !d.stats) continue;
      download.push(d.stats.downloadTimeMs);
      process_.push(d.stats.processTimeMs);
      upload.push(d.stats.uploadTimeMs);
    }
  }
  console.log(
    `request commit → answer, ${label}: p50 ${fmt(quantile(total, 0.5))} ms, p99 ${fmt(quantile(total, 0.99))} ms ` +
      `(n=${total.length}; job created→started p50 ${fmt(quantile(queued, 0.5))} ms, started→finished p50 ${fmt(quantile(running, 0.5))} ms; ` +
      `datum inputs laid out p50 ${fmt(quantile(download, 0.5))} ms, user code p50 ${fmt(quantile(process_, 0.5))} ms, ` +
      `output upload p50 ${fmt(quantile(upload, 0.5))} ms)`,
  );
}

async function main(): Promise<void> {
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'reelgraph-pipeline-bench-'));
  console.log(
    `data directory: ${dir} (node ${process.version}, ${os.cpus().length} CPUs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}); workers run from ${launcherMode()}`,
  );
  const t0 = process.hrtime.bigint();
  const pach = await openEmbeddedEngine(dir);
  try {
    const boot = await bootstrap(pach, { datasets: { datasetsDir: DATASETS, download: false } });
    const m = boot.model!;
    console.log(
      `init → first model: ${fmt(msSince(t0) / 1000, 2)} s (${m.metrics.algorithm} on ${m.metrics.ratings} ratings: ` +
        `fit ${fmt(m.metrics.fitSeconds, 2)} s + holdout fit; RMSE ${m.metrics.holdout!.rmse.toFixed(4)})`,
    );

    await requests(pach, 'datumBatching true', 0);

    const spec = loadPipelineSpec('predict') as { transform: Record<string, unknown> };
    spec.transform = { ...spec.transform, datumBatching: false };
    await pach.createPipeline(spec, { update: true });
    let newest: JobInfo | undefined;
    for await (const j of pach.listJob({ pipeline: 'predict', number: 1 })) newest = j;
    if (newest) await pach.inspectJob(newest.job, { wait: true });
    await requests(pach, 'datumBatching false', 100);
  } finally {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
