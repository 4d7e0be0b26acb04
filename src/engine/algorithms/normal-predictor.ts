/**
 * NormalPredictor: predicts a random rating drawn from the normal distribution of the training
 * ratings.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/random_pred.py: the mean μ and standard
 * deviation σ are the maximum-likelihood estimates
 * `μ = Σ r / |R|` (the trainset's global mean) and `σ = √(Σ (r − μ)² / |R|)`, the sum taken
 * sequentially in `allRatings()` order as Surprise's Python `sum` does; `estimate` returns a draw of
 * `N(μ, σ²)` whatever the user and item.
 *
 * Surprise draws from NumPy's global generator; here the generator is `RandomState(randomState)`,
 * created at `fit` (and again when a model file is loaded), so a fixed `randomState` gives the
 * same sequence of estimates as `numpy.random.RandomState(randomState).normal(μ, σ)` calls.
 */
import { AlgoBase, type AlgoState } from './base';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng, type RandomState } from '../random';

/**
 * NormalPredictor (see the module comment). Parameter: `randomState`.
 *
 * @example
 * new NormalPredictor({ randomState: 0 }).fit(trainset).predict('196', '302');
 */
export class NormalPredictor extends AlgoBase {
  static readonly algorithmName = 'NormalPredictor';
  static readonly description =
    'Random rating drawn from the normal distribution of the training ratings (mean and standard deviation by maximum likelihood).';
  static readonly paramSpecs: ParamSpecs = {
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the generator the estimates are drawn from (whole number in [0, 2^32 − 1]); null draws a seed from the operating system.',
    },
  };

  /** Standard deviation σ of the training ratings (population, divisor |R|); NaN before fit. */
  sigma = NaN;
  private rng?: RandomState;

  /** Computes σ and (re)creates the generator from `randomState`. @returns this */
  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const mu = trainset.globalMean;
    const r = trainset.urRatings;
    let num = 0;
    for (let p = 0; p < r.length; p++) {
      const d = r[p] - mu;
      num += d * d;
    }
    this.sigma = Math.sqrt(num / trainset.nRatings);
    this.rng = getRng(this.params.randomState as number | null);
    return this;
  }

  /** A draw of N(μ, σ²); the user and item are ignored (unknown ones included, as in Surprise). */
  estimate(_u: number, _i: number): number {
    if (!this.rng) throw new Error('NormalPredictor is not fitted: call fit(trainset) first');
    return this.rng.normal(this.trainset.globalMean, this.sigma);
  }

  /** The value `sigma` for a model file (the generator restarts from `randomState` on load). */
  override exportState(): AlgoState {
    return { values: { sigma: this.sigma }, arrays: {} };
  }

  /** Restores `sigma` and restarts the generator. @throws Error when sigma is missing or negative. */
  override importState(state: AlgoState): void {
    const sigma = state.values.sigma;
    if (typeof sigma !== 'number' || !(sigma >= 0)) {
      throw new Error(
        `model state: NormalPredictor needs a value 'sigma' ≥ 0, got ${String(sigma)}`,
      );
    }
    this.sigma = sigma;
    this.rng = getRng(this.params.randomState as number | null);
  }
}
