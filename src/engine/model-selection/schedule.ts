/**
 * The order in which the fold pool takes its tasks: longest first (Graham's LPT rule, "Bounds on
 * multiprocessing timing anomalies", SIAM J. Appl. Math. 17, 1969: on m workers the makespan is
 * at most 4/3 − 1/(3m) of the best), so that the workers end together instead of one of them
 * fitting the slowest algorithm's last fold alone.
 *
 * A task's length is estimated before it runs: a relative cost per algorithm (the seconds of one
 * ml-100k fold of each built-in with its defaults, sequential, measured by `npm run bench:cv`),
 * scaled by the number of epochs when it differs from the default, and by the fold's number of
 * training ratings. Only the order depends on it, never a result.
 */
import { getAlgorithm } from '../algorithms/registry';

/** Seconds of one 5-fold ml-100k fold (80,000 training ratings) with the defaults (bench:cv). */
const FOLD_SECONDS: Readonly<Record<string, number>> = {
  NormalPredictor: 0.03,
  BaselineOnly: 0.08,
  SVD: 0.48,
  SVDpp: 0.3,
  NMF: 0.24,
  SlopeOne: 0.33,
  KNNBasic: 0.62,
  KNNWithMeans: 0.52,
  KNNWithZScore: 0.45,
  KNNBaseline: 0.45,
  CoClustering: 0.2,
  BayesianFM: 1.0,
};

/** The cost of an algorithm not in the table (a plugin): a middling one. */
const UNKNOWN_SECONDS = 0.3;

/**
 * Estimated relative length of fitting and testing `name` with `params` on `nTrain` ratings
 * (arbitrary unit, larger is longer; ≥ 0).
 */
export function foldCost(name: string, params: Record<string, unknown>, nTrain: number): number {
  let cost = FOLD_SECONDS[name] ?? UNKNOWN_SECONDS;
  const epochs = params.nEpochs;
  if (typeof epochs === 'number') {
    let dflt: unknown;
    try {
      const spec = getAlgorithm(name).paramSpecs.nEpochs;
      dflt = spec && 'default' in spec ? spec.default : undefined;
    } catch {
      dflt = undefined;
    }
    if (typeof dflt === 'number' && dflt > 0) cost *= epochs / dflt;
  }
  return cost * (nTrain / 80_000);
}

/**
 * Positions 0…costs.length−1 ordered by cost, largest first; equal costs keep their order.
 */
export function longestFirst(costs: readonly number[]): number[] {
  return costs.map((_, k) => k).sort((a, b) => costs[b] - costs[a] || a - b);
}
