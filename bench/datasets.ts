/**
 * Parsing speed of the built-in data sets: milliseconds to load MovieLens 100K's u.data
 * (100 000 lines), ml-latest-small's ratings.csv (100 836 lines), the five predefined folds of
 * ml-100k (u1…u5, 500 000 lines), and the ml-100k movies (u.item, latin-1); median of several
 * runs after one warm-up, as wall time and as CPU time of the process (less disturbed when other
 * programs share the cores). Also: the Reader alone on u.data, and removeDuplicates alone.
 *
 * Run: npm run bench:datasets -- [runs]
 * Set REELGRAPH_DATASETS to the folder holding ml-100k/ and ml-latest-small/ (default
 * ../../shared/datasets).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Dataset,
  Reader,
  loadMovies,
  predefinedFolds,
  removeDuplicates,
} from '../src/engine/dataset';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const runs = Number(process.argv[2] ?? 7);
const opts = { datasetsDir, download: false };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function time(label: string, fn: () => unknown): Promise<void> {
  await fn(); // warm-up
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  console.log(
    `${label.padEnd(40)} wall median ${median(ms).toFixed(1).padStart(7)} ms (min ${Math.min(...ms).toFixed(1)})` +
      `  cpu median ${median(cpu).toFixed(1).padStart(7)} ms  [${runs} runs]`,
  );
}

async function main(): Promise<void> {
  const udata = path.join(datasetsDir, 'ml-100k', 'u.data');
  const reader = Reader.builtin('ml-100k');
  const bytes = fs.readFileSync(udata);
  const text = reader.decode(bytes);
  const raw = reader.parse(text, udata);
  await time('Reader.parse u.data (text in memory)', () => reader.parse(text, udata));
  await time('removeDuplicates on u.data', () => removeDuplicates(raw));
  await time("Dataset.loadBuiltin('ml-100k')", () => Dataset.loadBuiltin('ml-100k', opts));
  await time("Dataset.loadBuiltin('ml-latest-small')", () =>
    Dataset.loadBuiltin('ml-latest-small', opts),
  );
  await time("predefinedFolds('ml-100k') (u1…u5)", () => predefinedFolds('ml-100k', opts));
  await time("loadMovies('ml-100k')", () => loadMovies('ml-100k', opts));
  await time("loadMovies('ml-latest-small')", () => loadMovies('ml-latest-small', opts));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
