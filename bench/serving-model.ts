/**
 * Fits the model `npm run bench:serving -- --model FILE` serves: SVD (100 factors, 20 epochs,
 * seed 0, the `simd` kernel on 2 threads unless `--params` says otherwise) on a ratings file
 * (`ratings.csv` of MovieLens 25M or of `npm run gen:ml25m`), written with `writeModelFile`
 * (engine/model-file.ts, the serving layout of format version 2). Prints read, build and fit
 * seconds, the model file's size and this process's peak RSS. It is a bench helper: the train
 * pipeline makes the same model from a `training` commit.
 *
 * Run: `nice -n 10 npm run bench:serving-model -- --data FILE --out FILE.rgm
 * [--factors 100] [--epochs 20] [--params '{"kernel":"simd","threads":2}']`
 * (the data file: `npm run gen:ml25m -- --out FILE --seed 1`; never commit it).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Reader } from '../src/engine/dataset/reader';
import { SVD } from '../src/engine/algorithms/svd';
import { writeModelFile } from '../src/engine/model-file';
import { Trainset } from '../src/engine/trainset';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    factors: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '20' },
    params: { type: 'string', default: '{"kernel":"simd","threads":2}' },
  },
});
if (!values.data || !values.out) {
  process.stderr.write(
    'usage: bench/serving-model.ts --data RATINGS.csv --out MODEL.rgm [--factors F] [--epochs E] [--params JSON]\n',
  );
  process.exit(2);
}
const sec = (t: bigint) => (Number(process.hrtime.bigint() - t) / 1e9).toFixed(1);
const log = (s: string) => process.stdout.write(s + '\n');
log(`uptime: ${execFileSync('uptime').toString().trim()}`);
let t = process.hrtime.bigint();
const reader = new Reader({
  lineFormat: 'user item rating timestamp',
  sep: ',',
  skipLines: 1,
  ratingScale: [0.5, 5],
});
const raw = reader.parseFile(values.data);
log(`read ${raw.length} ratings in ${sec(t)} s`);
t = process.hrtime.bigint();
const trainset = Trainset.build(raw, [0.5, 5]);
log(`trainset: ${trainset.nUsers} users, ${trainset.nItems} items in ${sec(t)} s`);
const params = JSON.parse(values.params!) as Record<string, unknown>;
const algo = new SVD({
  nFactors: Number(values.factors),
  nEpochs: Number(values.epochs),
  randomState: 0,
  ...params,
});
t = process.hrtime.bigint();
algo.fit(trainset);
log(`fit SVD ${JSON.stringify({ nFactors: algo.nFactors, ...params })} in ${sec(t)} s`);
t = process.hrtime.bigint();
writeModelFile(values.out, algo, { source: values.data });
log(
  `wrote ${values.out}: ${(fs.statSync(values.out).size / 2 ** 20).toFixed(1)} MiB in ${sec(t)} s; ` +
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
);
