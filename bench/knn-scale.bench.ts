/**
 * Item-based k-NN at scale (issue 17): KNNBaseline with pearson_baseline, item-based, on a
 * synthetic ml-25m-shaped set of 1M ratings on 10 000 movies (the dense 10 000² float64 matrix
 * would take 800 MB): fit wall time, how the similarities were stored (similarityStorage auto:
 * sparse past the memory budget) and their bytes, the prediction rate on 10 000 held-back pairs,
 * and this process's peak RSS; then SlopeOne (sparse deviations) on the same set. Prints `uptime`
 * (the machine may be shared).
 *
 * Run: npm run bench:knn-scale -- [--ratings N] [--movies M] [--seed S] [--budget BYTES]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSynthetic } from '../src/engine/dataset/synthetic';
import { Reader } from '../src/engine/dataset/reader';
import { Trainset } from '../src/engine/trainset';
import { KNNBaseline } from '../src/engine/algorithms/knn';
import { SlopeOne } from '../src/engine/algorithms/slope-one';
import { similarityMatrixBytes } from '../src/engine/similarities';

const { values } = parseArgs({
  options: {
    ratings: { type: 'string', default: '1000000' },
    movies: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    budget: { type: 'string', default: String(512 * 2 ** 20) },
  },
});
const N = Number(values.ratings);
const M = Number(values.movies);
const seed = Number(values.seed);
const log = (s: string) => process.stdout.write(s + '\n');
log(`uptime: ${execFileSync('uptime').toString().trim()}`);
const file = path.join(os.tmpdir(), `reelgraph-scale-${N}-${M}-${seed}.csv`);
if (!fs.existsSync(file)) generateSynthetic(file, { ratings: N, movies: M, seed });
const raw = new Reader({
  lineFormat: 'user item rating timestamp',
  sep: ',',
  skipLines: 1,
  ratingScale: [0.5, 5],
}).parseFile(file);
const trainset = Trainset.build(raw, [0.5, 5]);
log(
  `${trainset.nRatings} ratings, ${trainset.nUsers} users, ${trainset.nItems} movies (seed ${seed})`,
);
const budget = Number(values.budget);
const algo = new KNNBaseline({
  simOptions: { name: 'pearson_baseline', userBased: false },
  memoryBudgetBytes: budget,
});
let t = process.hrtime.bigint();
algo.fit(trainset);
const fitSeconds = Number(process.hrtime.bigint() - t) / 1e9;
log(
  `fit KNNBaseline pearson_baseline item-based: ${fitSeconds.toFixed(1)} s wall; similarities ` +
    `${algo.similarityIsSparse ? 'sparse' : 'dense'}, ${(algo.similarityBytes / 2 ** 20).toFixed(1)} MiB ` +
    `(dense would be ${(similarityMatrixBytes(trainset.nItems) / 2 ** 20).toFixed(1)} MiB; budget ${(budget / 2 ** 20).toFixed(0)} MiB)`,
);
const pairs: Array<[string, string, number]> = [];
for (let k = 0; k < 10_000; k++) {
  const j = Math.floor((((k * 2654435761) % 2 ** 32) / 2 ** 32) * raw.length);
  pairs.push([raw.users[j], raw.items[(j * 7) % raw.length], 3]);
}
t = process.hrtime.bigint();
const preds = algo.test(pairs);
const testSeconds = Number(process.hrtime.bigint() - t) / 1e9;
log(
  `predict: ${(pairs.length / testSeconds).toFixed(0)} predictions/s (${preds.length} pairs, ` +
    `${preds.filter((p) => !p.details.wasImpossible).length} possible); peak RSS ` +
    `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
);
// SlopeOne keeps its deviations sparse (pairs with a common user, compressed rows)
t = process.hrtime.bigint();
const slope = new SlopeOne().fit(trainset);
const slopeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
const pairsStored = slope.pairItems.length;
t = process.hrtime.bigint();
const sp = slope.test(pairs);
const slopeTest = Number(process.hrtime.bigint() - t) / 1e9;
log(
  `fit SlopeOne: ${slopeSeconds.toFixed(1)} s wall; ${pairsStored} item pairs stored ` +
    `(${((pairsStored * 16) / 2 ** 20).toFixed(1)} MiB; dense freq + dev would be ` +
    `${((2 * similarityMatrixBytes(trainset.nItems)) / 2 ** 20).toFixed(1)} MiB); ` +
    `${(sp.length / slopeTest).toFixed(0)} predictions/s; peak RSS ` +
    `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
);
log(`uptime: ${execFileSync('uptime').toString().trim()}`);
