/**
 * Reference figures for the ItemMean plugin (test/fixtures/plugins/item-mean.js), computed from
 * its formula by hand over KFold's fold indices: est = (Σ r_vi + s·μ) / (|U_i| + s), the global
 * mean μ for an item the trainset does not know, clipped to [1, 5].
 */
import { KFold } from '../../src/engine/model-selection/split';
import type { Row } from './synthetic-ratings';

/** ItemMean's RMSE on each fold of `KFold({nSplits, randomState: seed})` over `rows`. */
export function itemMeanRmse(
  rows: Row[],
  shrinkage: number,
  nSplits: number,
  seed: number,
): number[] {
  const out: number[] = [];
  for (const [train, test] of new KFold({ nSplits, randomState: seed }).splitIndices(rows.length)) {
    const sum = new Map<string, number>();
    const count = new Map<string, number>();
    let total = 0;
    for (const k of train) {
      const [, item, r] = rows[k];
      sum.set(item, (sum.get(item) ?? 0) + r);
      count.set(item, (count.get(item) ?? 0) + 1);
      total += r;
    }
    const mu = total / train.length;
    let sq = 0;
    for (const k of test) {
      const [, item, r] = rows[k];
      const n = count.get(item);
      let est = n === undefined ? mu : (sum.get(item)! + shrinkage * mu) / (n + shrinkage);
      est = Math.min(5, Math.max(1, est));
      sq += (r - est) ** 2;
    }
    out.push(Math.sqrt(sq / test.length));
  }
  return out;
}
