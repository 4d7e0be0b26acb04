/**
 * What `--top-n` adds to `reelgraph compare` / `evaluate`: BaselineOnly and SVD (randomState 0)
 * cross-validated on MovieLens 100K with 5-fold KFold (seed 0), through `compareAlgorithms`,
 * without and with the top-N collector (k = 10, threshold 3.5) on each fold's test predictions.
 *
 * Printed per algorithm, medians over the runs (the two variants alternate, after one warm-up of
 * each): wall time of the whole 5-fold cross-validation without and with `--top-n`, and the time
 * spent inside the top-N hook itself (ranking 20,000 test predictions per fold), which is the
 * exact extra cost (the hook runs after the fold's timed fit and test).
 *
 * Run: node -r ./scripts/ts-register.js bench/compare-top-n.bench.ts [runs]
 * Set REELGRAPH_DATASETS to the folder holding ml-100k/ (default ../shared/datasets).
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import '../src/engine/algorithms';
import { TopNCollector } from '../src/cli/top-n-options';
import { Dataset } from '../src/engine/dataset';
import { compareAlgorithms, KFold, type FoldPredictions } from '../src/engine/model-selection';

const datasetsDir =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../shared/datasets');
const runs = Number(process.argv[2] ?? 5);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const data = await Dataset.loadBuiltin('ml-100k', { datasetsDir, download: false });
  for (const [name, params] of [
    ['BaselineOnly', {}],
    ['SVD', { randomState: 0 }],
  ] as const) {
    const once = (topN: boolean) => {
      const collector = topN ? new TopNCollector({ k: 10, threshold: 3.5 }) : null;
      let hookMs = 0;
      const onPredictions = collector
        ? (p: FoldPredictions & { algorithm: string }) => {
            const t = performance.now();
            collector.onPredictions(p);
            hookMs += performance.now() - t;
          }
        : undefined;
      const t0 = performance.now();
      compareAlgorithms([{ name, params }], data, {
        cv: new KFold({ nSplits: 5, randomState: 0 }),
        onPredictions,
      });
      const wall = performance.now() - t0;
      return { wall, hookMs, figures: collector?.figures(name) };
    };
    once(false); // warm-up
    const first = once(true);
    const without: number[] = [];
    const withTopN: number[] = [];
    const hook: number[] = [];
    for (let k = 0; k < runs; k++) {
      without.push(once(false).wall);
      const w = once(true);
      withTopN.push(w.wall);
      hook.push(w.hookMs);
    }
    const f = (x: number) => x.toFixed(4);
    const m = first.figures!.mean;
    console.log(
      `${name}: precision@10 ${f(m.precision)}, recall@10 ${f(m.recall)}, NDCG@10 ${f(m.ndcg)}, ` +
        `hit rate ${f(m.hitRate)} (mean of 5 folds)`,
    );
    const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
    console.log(
      `  5-fold wall median: without ${ms(median(without))}, with --top-n ${ms(median(withTopN))}; ` +
        `top-N hook ${ms(median(hook))} per 5 folds (${(median(hook) / 5).toFixed(1)} ms per fold) ` +
        `[${runs} runs]`,
    );
  }
}

void main();
