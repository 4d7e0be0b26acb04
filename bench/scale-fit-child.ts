/**
 * Child of bench/scale.bench.ts: the train worker's data path on a `training` directory
 * (readTrainingRatings → Trainset.build → fit), timed step by step. Prints one JSON line:
 * `{ratings, users, items, readSeconds, buildSeconds, fitSeconds, fitCpuSeconds, epochsPerSecond,
 * epochsPerCpuSecond, maxRssMiB}` (CPU time: less disturbed on a shared machine).
 *
 * Run: node -r ./scripts/ts-register.js bench/scale-fit-child.ts DIR ALGO FACTORS EPOCHS [PARAMS-JSON lo hi]
 */
import { readTrainingRatings } from '../src/workers/training-data';
import { Trainset } from '../src/engine/trainset';
import { SVD } from '../src/engine/algorithms/svd';
import { SVDpp } from '../src/engine/algorithms/svdpp';
import { NMF } from '../src/engine/algorithms/nmf';
import type { RatingScale } from '../src/engine/dataset/raw-ratings';

const [dir, algo = 'svd', factors = '100', epochs = '20', extra = '{}', lo = '0.5', hi = '5'] =
  process.argv.slice(2);
const more = JSON.parse(extra) as Record<string, unknown>;
const scale: RatingScale = [Number(lo), Number(hi)];
const nFactors = Number(factors);
const nEpochs = Number(epochs);
const sec = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

let t = process.hrtime.bigint();
const merged = readTrainingRatings(dir, scale);
const readSeconds = sec(t);
t = process.hrtime.bigint();
const trainset = Trainset.build(merged.raw, scale);
const buildSeconds = sec(t);
const model =
  algo === 'svdpp'
    ? new SVDpp({ nFactors, nEpochs, randomState: 0, ...more })
    : algo === 'nmf'
      ? new NMF({ nFactors, nEpochs, randomState: 0, ...more })
      : new SVD({ nFactors, nEpochs, randomState: 0, ...more });
t = process.hrtime.bigint();
const c0 = process.cpuUsage();
model.fit(trainset);
const fitSeconds = sec(t);
const c = process.cpuUsage(c0);
const fitCpuSeconds = (c.user + c.system) / 1e6;
process.stdout.write(
  JSON.stringify({
    ratings: trainset.nRatings,
    users: trainset.nUsers,
    items: trainset.nItems,
    readSeconds,
    buildSeconds,
    fitSeconds,
    fitCpuSeconds,
    epochsPerSecond: nEpochs / fitSeconds,
    epochsPerCpuSecond: nEpochs / fitCpuSeconds,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
