/**
 * BaselineOnly: predicts the baseline estimate `r̂_ui = μ + b_u + b_i`.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/baseline_only.py, with the biases learned
 * by `computeBaselines` (ALS by default, or SGD; see baselines.ts for the update formulas). For an
 * unknown user (item) the term `b_u` (`b_i`) is left out, as Surprise's `estimate` does; the base
 * class flags such predictions `wasImpossible`.
 *
 * Reference: Y. Koren, "Factor in the neighbors: scalable and accurate collaborative filtering",
 * ACM TKDD 4(1), 2010, §2.1.
 */
import { AlgoBase, requireArray, type AlgoState } from './base';
import { BSL_OPTIONS_SPEC, computeBaselines } from './baselines';
import type { ParamSpecs, ParamValues } from '../params';
import type { Trainset } from '../trainset';

/**
 * BaselineOnly (see the module comment). Parameters: `bslOptions` (`BSL_OPTIONS_SPEC`).
 *
 * @example
 * new BaselineOnly({ bslOptions: { method: 'sgd', nEpochs: 30 } }).fit(trainset);
 */
export class BaselineOnly extends AlgoBase {
  static readonly algorithmName = 'BaselineOnly';
  static readonly description =
    'Baseline estimate mu + b_u + b_i, biases learned by alternating least squares (default) or SGD.';
  static readonly paramSpecs: ParamSpecs = { bslOptions: BSL_OPTIONS_SPEC };

  /** User biases by inner user id (length nUsers); empty before fit. */
  bu: Float64Array = new Float64Array(0);
  /** Item biases by inner item id (length nItems); empty before fit. */
  bi: Float64Array = new Float64Array(0);

  /** Learns `bu` and `bi` with `computeBaselines(trainset, bslOptions)`. @returns this */
  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const { bu, bi } = computeBaselines(trainset, this.params.bslOptions as ParamValues);
    this.bu = bu;
    this.bi = bi;
    return this;
  }

  /** `μ (+ b_u if u is known) (+ b_i if i is known)`; never impossible. */
  estimate(u: number, i: number): number {
    const ts = this.trainset;
    let est = ts.globalMean;
    if (ts.knowsUser(u)) est += this.bu[u];
    if (ts.knowsItem(i)) est += this.bi[i];
    return est;
  }

  /** Arrays `bu`, `bi` (float64) for a model file. */
  override exportState(): AlgoState {
    return { values: {}, arrays: { bu: this.bu, bi: this.bi } };
  }

  /** Restores `bu`, `bi`. @throws Error when one is missing or of the wrong size. */
  override importState(state: AlgoState): void {
    this.bu = requireArray(state, 'bu', this.trainset.nUsers, Float64Array);
    this.bi = requireArray(state, 'bi', this.trainset.nItems, Float64Array);
  }
}
