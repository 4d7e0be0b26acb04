/**
 * Rankers against rating models on the field's top-N protocol (Microsoft Recommenders' MovieLens
 * benchmark: per-user stratified split 75/25, top 10 over every movie the user has not rated in
 * training, all test movies relevant), side by side in one run and printed next to their
 * published table (recommenders/examples/06_benchmarks, MovieLens 100k).
 *
 * Sections:
 * 1. linear algebra: EASE's Gram-matrix inverse on ML-100K and one iALS epoch, `typed` path
 *    against ml-matrix (why the rankers default to `typed`);
 * 2. ML-100K, 3 seeds (42, 43, 44): nDCG@10, MAP, P@10, R@10 (mean ± std over seeds), fit and
 *    test seconds (median), for EASE, iALS, BPR, ItemKNN, MostPopular and SVD;
 * 3. fit seconds on ml-latest-small (seed 42 split);
 * then the peak RSS and the load average.
 *
 * Hyper-parameters are the rankers' defaults, chosen with `--tune`: a grid per ranker scored by
 * nDCG@10 on a validation split carved from the training part of the seed-42 split (its own
 * stratified 75/25 split, seed 1000), never on the test part.
 *
 * Section 4 (`--serving` alone): the in-process cost of one recommendation list with EASE.
 *
 * Run: npm run bench:rankers [-- --tune] [-- --quick] [-- --models BPR,SVD] [-- --serving]
 * (--quick: one seed, no sections 1 and 3; --models: only those models, no section 1)
 * Set REELGRAPH_DATASETS to the folder holding ml-100k/ and ml-latest-small/ (default
 * ../shared/datasets).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Dataset } from '../src/engine/dataset';
import { stratifiedSplit } from '../src/engine/model-selection/stratified-split';
import { std } from '../src/engine/model-selection';
import { mean } from '../src/engine/numeric';
import {
  Interactions,
  createRanker,
  ialsHalfStep,
  spdInverseMlMatrix,
  spdInverseTyped,
} from '../src/engine/rankers';
import {
  compareRanking,
  type RankingEntry,
  type RankingResult,
} from '../src/engine/ranking-protocol';
import { Trainset } from '../src/engine/trainset';
import { RandomState } from '../src/engine/random';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const args = process.argv.slice(2);
const tune = args.includes('--tune');
const quick = args.includes('--quick');
/** `--models EASE,BPR`: only these models in sections 2 and 3. */
const only = args.includes('--models') ? args[args.indexOf('--models') + 1].split(',') : null;

/** Published (Recommenders' README benchmark table, MovieLens 100k, top 10). */
const PUBLISHED: Array<[string, number | null, number | null, number | null, number | null]> = [
  ['SVD (Surprise)', 0.096, null, null, null],
  ['SAR', 0.383, null, null, null],
  ['LightGCN', 0.42, null, null, null],
  ['BPR (Cornac)', 0.442, null, null, null],
  ['BiVAE', 0.475, 0.146, 0.412, 0.219],
];

const MODELS: RankingEntry[] = [
  { name: 'EASE', params: {} },
  { name: 'iALS', params: {} },
  { name: 'BPR', params: {} },
  { name: 'ItemKNN', params: {} },
  { name: 'MostPopular', params: {} },
  { name: 'SVD', params: { randomState: 0 } },
].filter((m) => only === null || only.includes(m.name));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const f4 = (x: number) => x.toFixed(4);
const secs = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

function split(data: Dataset, seed: number, validation = false) {
  const s = stratifiedSplit(data.ratings, { testSize: 0.25, seed });
  const part = validation
    ? stratifiedSplit(data.ratings, { testSize: 0.25, seed: 1000, indices: s.train })
    : s;
  return {
    trainset: Trainset.build(data.ratings.subset(part.train), data.ratingScale),
    testset: data.ratings.subset(part.test).toTestset(),
  };
}

function linearAlgebra(ml100k: Dataset): void {
  console.log('\n== 1. Linear algebra on ML-100K (full data as interactions)');
  const ts = Trainset.build(ml100k.ratings, ml100k.ratingScale);
  const x = Interactions.fromTrainset(ts);
  const n = x.nItems;
  const g = new Float64Array(n * n);
  for (let u = 0; u < x.nUsers; u++) {
    const it = x.items(u);
    for (const a of it) for (const b of it) g[a * n + b] += 1;
  }
  for (let i = 0; i < n; i++) g[i * n + i] += 400;
  const typed: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    spdInverseTyped(g.slice(), n);
    typed.push(secs(t0));
  }
  const t1 = process.hrtime.bigint();
  spdInverseMlMatrix(g, n);
  const lib = secs(t1);
  console.log(
    `EASE inverse of the ${n}×${n} Gram matrix: typed median ${median(typed).toFixed(2)} s ` +
      `[3 runs]; ml-matrix CholeskyDecomposition.solve(I) ${lib.toFixed(2)} s [1 run]`,
  );
  const k = 64;
  const rng = new RandomState(0);
  const h = rng.fillNormal(new Float64Array(n * k), 0, 0.01);
  for (const linalg of ['typed', 'ml-matrix'] as const) {
    const w = new Float64Array(x.nUsers * k);
    const t0 = process.hrtime.bigint();
    ialsHalfStep({
      nRows: x.nUsers,
      offsets: x.userOffsets,
      ids: x.userItems,
      fixed: h,
      nOther: n,
      solved: w,
      k,
      alpha0: 0.1,
      lambda: 0.03,
      nu: 1,
      linalg,
    });
    console.log(
      `iALS user half-step (${x.nUsers} ${k}×${k} solves) ${linalg}: ${secs(t0).toFixed(2)} s`,
    );
  }
}

async function tuneGrid(ml100k: Dataset): Promise<void> {
  console.log('\n== Tuning on the validation split (training part of seed 42, re-split seed 1000)');
  const { trainset, testset } = split(ml100k, 42, true);
  const grid: RankingEntry[] = [
    ...[200, 400, 800, 1600].map((lambda) => ({ name: 'EASE', params: { lambda } })),
    ...[
      { alpha0: 0.1, regAll: 0.03 },
      { alpha0: 0.1, regAll: 0.01 },
      { alpha0: 0.3, regAll: 0.01 },
      { alpha0: 0.03, regAll: 0.03 },
      { alpha0: 0.1, regAll: 0.05 },
    ].map((p) => ({ name: 'iALS', params: { ...p, nEpochs: 8 } })),
    ...[
      { nFactors: 200, lrAll: 0.01, regAll: 0.001, nEpochs: 100 },
      { nFactors: 64, lrAll: 0.02, regAll: 0.02, nEpochs: 100 },
      { nFactors: 128, lrAll: 0.02, regAll: 0.02, nEpochs: 150 },
      { nFactors: 64, lrAll: 0.02, regAll: 0.03, nEpochs: 200 },
      { nFactors: 64, lrAll: 0.02, regAll: 0.03, nEpochs: 300 },
    ].map((p) => ({ name: 'BPR', params: p })),
    ...[50, 100, 200].map((k) => ({ name: 'ItemKNN', params: { k } })),
  ];
  for (const r of compareRanking(grid, trainset, testset, 10)) {
    const own = Object.fromEntries(
      Object.entries(r.params).filter(([key]) => key !== 'threshold' && key !== 'linalg'),
    );
    console.log(
      `${r.algorithm.padEnd(8)} ${JSON.stringify(own).padEnd(100)} nDCG@10 ${f4(r.ndcg)} (fit ${r.fitTime.toFixed(1)} s)`,
    );
  }
}

function protocol(ml100k: Dataset): void {
  const seeds = quick ? [42] : [42, 43, 44];
  console.log(`\n== 2. ML-100K, ranking protocol, k = 10, seeds ${seeds.join(', ')}`);
  const all = new Map<string, RankingResult[]>();
  for (const seed of seeds) {
    const { trainset, testset } = split(ml100k, seed);
    const entries = MODELS.map((m) =>
      m.name === 'BPR' || m.name === 'iALS' ? { ...m, params: { randomState: seed } } : m,
    );
    compareRanking(entries, trainset, testset, 10, (p) => {
      if (p.phase !== 'done') return;
      const r = p.result;
      console.log(
        `seed ${seed} ${r.algorithm.padEnd(12)} nDCG@10 ${f4(r.ndcg)} MAP ${f4(r.map)} ` +
          `P@10 ${f4(r.precision)} R@10 ${f4(r.recall)} fit ${r.fitTime.toFixed(2)} s test ${r.testTime.toFixed(2)} s`,
      );
      if (!all.has(r.algorithm)) all.set(r.algorithm, []);
      all.get(r.algorithm)!.push(r);
    });
  }
  const pm = (xs: number[]) => `${f4(mean(xs))} ± ${f4(std(xs))}`;
  console.log(
    `\n${'model'.padEnd(24)}${'nDCG@10'.padEnd(18)}${'MAP'.padEnd(18)}${'P@10'.padEnd(18)}` +
      `${'R@10'.padEnd(18)}fit s (median)  test s (median)`,
  );
  const rows = [...all.entries()].sort(
    (a, b) => mean(b[1].map((r) => r.ndcg)) - mean(a[1].map((r) => r.ndcg)),
  );
  for (const [name, rs] of rows) {
    console.log(
      `${('reelgraph ' + name).padEnd(24)}${pm(rs.map((r) => r.ndcg)).padEnd(18)}` +
        `${pm(rs.map((r) => r.map)).padEnd(18)}${pm(rs.map((r) => r.precision)).padEnd(18)}` +
        `${pm(rs.map((r) => r.recall)).padEnd(18)}${median(rs.map((r) => r.fitTime))
          .toFixed(2)
          .padEnd(16)}` +
        `${median(rs.map((r) => r.testTime)).toFixed(2)}`,
    );
  }
  for (const [name, ndcg, map, p, r] of PUBLISHED) {
    const c = (v: number | null) => (v === null ? '—' : v.toFixed(3)).padEnd(18);
    console.log(`${('published ' + name).padEnd(24)}${c(ndcg)}${c(map)}${c(p)}${c(r)}`);
  }
  console.log('(± is the standard deviation over the seeds; published: one run, seed 42.)');
}

function fitLatestSmall(data: Dataset): void {
  console.log('\n== 3. Fit times on ml-latest-small (seed 42 split)');
  const { trainset, testset } = split(data, 42);
  console.log(`${trainset.nUsers} users, ${trainset.nItems} movies, ${trainset.nRatings} ratings`);
  compareRanking(MODELS, trainset, testset, 10, (p) => {
    if (p.phase !== 'done') return;
    const r = p.result;
    console.log(
      `${r.algorithm.padEnd(12)} fit ${r.fitTime.toFixed(2)} s, test ${r.testTime.toFixed(2)} s ` +
        `(nDCG@10 ${f4(r.ndcg)}, ${r.nUsers} users)`,
    );
  });
}

/**
 * Section 4 (`--serving`): what one `recommendations` call costs in-process with EASE fitted on
 * all of ML-100K — the top 10 of every user (943 calls) with `because` (3 per movie), the work
 * services/ranked-recommendations.ts does per request: wall and CPU time p50 / p99.
 */
function serving(ml100k: Dataset): void {
  console.log(
    '\n== 4. One recommendation list in-process (EASE on all of ML-100K, top 10 + because)',
  );
  const ts = Trainset.build(ml100k.ratings, ml100k.ratingScale);
  const ease = createRanker('EASE').fit(ts);
  const wall: number[] = [];
  const cpu: number[] = [];
  const mask = new Uint8Array(ts.nItems);
  for (let round = 0; round < 2; round++) {
    for (let u = 0; u < ts.nUsers; u++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const rated = ts.ur(u).items;
      for (const i of rated) mask[i] = 1;
      const top = ease.topK(u, 10, mask);
      for (const i of rated) mask[i] = 0;
      for (const j of top.ids) ease.because(u, j, 3);
      if (round === 1) {
        wall.push(secs(t0) * 1000);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
  }
  const q = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.ceil(p * xs.length) - 1];
  console.log(
    `per user (n=${wall.length}, after a warm-up round): wall p50 ${q(wall, 0.5).toFixed(3)} ms, ` +
      `p99 ${q(wall, 0.99).toFixed(3)} ms; CPU p50 ${q(cpu, 0.5).toFixed(3)} ms, p99 ${q(cpu, 0.99).toFixed(3)} ms`,
  );
}

async function main(): Promise<void> {
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; ${os.cpus().length} cores`,
  );
  const opts = { datasetsDir, download: false };
  const ml100k = await Dataset.loadBuiltin('ml-100k', opts);
  if (tune) {
    await tuneGrid(ml100k);
  } else if (args.includes('--serving')) {
    serving(ml100k);
  } else {
    if (!quick && only === null) linearAlgebra(ml100k);
    protocol(ml100k);
    if (!quick) fitLatestSmall(await Dataset.loadBuiltin('ml-latest-small', opts));
  }
  console.log(
    `\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; ` +
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
