/**
 * Bytes on disk per answered prediction request (issue 10), on the embedded engine with the real
 * pipelines (batched predict) and a tiny model, so the figure is the history's own cost: the
 * request commit and its file, the predict job (job and datum rows, output commit, answer file,
 * logs), and its share of the retire commits (and their predict jobs).
 *
 * For each phase, R requests of 2 pairs each are made one after the other, each waited for until
 * answered; then the retiring is waited for (the head of `streaming` empty), the engine is closed
 * (SQLite checkpointed) and the data directory's size is measured. Printed: bytes per request of
 * the phase (size growth / R), split into SQLite and blob store, the commits per request, and the
 * machine's load.
 *
 * Run: `npm run bench:request-storage` (env REELGRAPH_BENCH_R = requests per phase, default 200;
 * REELGRAPH_BENCH_DIR = temp parent).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileType } from '../src/pachyderm/types';
import { createServices } from '../src/services';
import { PIPELINES, openEmbeddedEngine, pipelineSpecFor } from '../src/services/bootstrap';

/** Total bytes of the files under `dir`, by top-level entry kind (sqlite files vs the rest). */
function sizes(dir: string): { sqlite: number; other: number } {
  const out = { sqlite: 0, other: 0 };
  const walk = (d: string, top: boolean) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile()) {
        const n = fs.statSync(p).size;
        if (top && /\.(db|sqlite)(-wal|-shm)?$|\.db$/.test(e.name)) out.sqlite += n;
        else out.other += n;
      }
    }
  };
  walk(dir, true);
  return out;
}

async function phase(dir: string, r: number, first: boolean): Promise<number> {
  const pach = await openEmbeddedEngine(dir);
  if (first) {
    for (const repo of ['training', 'streaming', 'models']) await pach.createRepo(repo);
    for (const p of PIPELINES) await pach.createPipeline(pipelineSpecFor(p, pach));
  }
  const services = await createServices(pach, { dataset: { datasetsDir: dir, download: false } });
  try {
    if (first) {
      await services.ratings.addRatings([
        { userId: 'a', movieId: 'x', rating: 4 },
        { userId: 'a', movieId: 'y', rating: 2 },
        { userId: 'b', movieId: 'x', rating: 5 },
      ]);
      await services.models.ready({ timeoutMs: 120_000 });
    }
    for (let k = 0; k < r; k++) {
      const { requestId } = await services.predictions.requestPredictions([
        { userId: 'a', movieId: 'x' },
        { userId: `u${k}`, movieId: 'y' },
      ]);
      const it = await services.predictions.watchResult(requestId);
      await it.next();
    }
    if (r === 0) return 0;
    // wait for the retiring: the head of `streaming` holds no request
    for (const t0 = Date.now(); ;) {
      let n = 0;
      for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
        if (f.fileType === FileType.FILE) n++;
      }
      if (n === 0) break;
      if (Date.now() - t0 > 120_000) throw new Error('requests not retired after 120 s');
      await new Promise((res) => setTimeout(res, 50));
    }
    let commits = 0;
    for await (const c of pach.listCommit('streaming')) {
      void c;
      commits++;
    }
    return commits;
  } finally {
    await services.close();
    await pach.close();
  }
}

async function main(): Promise<void> {
  const r = Number(process.env.REELGRAPH_BENCH_R ?? 200);
  const dir = fs.mkdtempSync(
    path.join(process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir(), 'reelgraph-request-storage-'),
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; R = ${r}`,
  );
  try {
    await phase(dir, 0, true);
    let before = sizes(dir);
    let commitsBefore = 0; // the set-up phase made no request
    for (let p = 1; p <= 2; p++) {
      const commits = await phase(dir, r, false);
      const after = sizes(dir);
      const sqlite = (after.sqlite - before.sqlite) / r;
      const other = (after.other - before.other) / r;
      console.log(
        `phase ${p}: ${r} requests: ${Math.round(sqlite + other)} bytes/request on disk ` +
          `(SQLite ${Math.round(sqlite)}, blobs and logs ${Math.round(other)}); ` +
          `${((commits - commitsBefore) / r).toFixed(2)} streaming commits/request`,
      );
      before = after;
      commitsBefore = commits;
    }
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
