/**
 * Child of bench/serving.bench.ts: loads one model file in a fresh process, as the model registry
 * does (read the bytes, `loadModel`, one `predict` and one top-10 so that lazily built state
 * counts), and prints one JSON line: `{fileMiB, formatVersion, readMs, loadMs, firstAnswersMs,
 * rssMiB, maxRssMiB}` (RSS after load and this process's peak, process.resourceUsage().maxRSS).
 *
 * Run: node -r ./scripts/ts-register.js bench/serving-load-child.ts MODEL.rgm
 */
import * as fs from 'node:fs';
import { isFactorModel, factorRecommend } from '../src/engine/factor-top-n';
import { loadModel } from '../src/engine/model-file';

const file = process.argv[2];
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
let t = process.hrtime.bigint();
const buf = fs.readFileSync(file);
const readMs = ms(t);
t = process.hrtime.bigint();
const algo = loadModel(buf);
const loadMs = ms(t);
t = process.hrtime.bigint();
const ts = algo.trainset;
algo.predict(ts.toRawUid(0), ts.toRawIid(0));
if (isFactorModel(algo)) factorRecommend(algo, 0, 10, true);
const firstAnswersMs = ms(t);
process.stdout.write(
  JSON.stringify({
    fileMiB: buf.length / 2 ** 20,
    formatVersion: buf.readUInt32LE(8),
    readMs,
    loadMs,
    firstAnswersMs,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
