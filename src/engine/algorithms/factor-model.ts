/**
 * What the matrix-factorisation models SVD, SVDpp and NMF have in common once fitted: biases
 * `b_u`, `b_i` and factor matrices `p_u`, `q_i` (row-major Float64Arrays over inner ids), the
 * number of factors, the factor product `q_iᵀ p_u`, Surprise's biased/unbiased estimate, and the
 * model-file state of those four arrays.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/matrix_factorization.pyx
 * (`SVD.estimate`, `NMF.estimate`: the same formula; only the message of the
 * PredictionImpossible they raise differs).
 */
import { AlgoBase, PredictionImpossible, requireArray, type AlgoState } from './base';
import type { Trainset } from '../trainset';

/**
 * What every factor-model training loop (svd-kernel.ts, svdpp.ts, nmf-kernel.ts) receives: the
 * trainset's user rows, and the biases and factors it updates in place.
 */
export interface FactorTraining {
  nUsers: number;
  /** Number of factors: the row length of `pu` and `qi`. */
  nFactors: number;
  /** Number of passes over the ratings. */
  nEpochs: number;
  /** The trainset's `urOffsets` (length nUsers + 1), `urItems`, `urRatings`. */
  urOffsets: Int32Array;
  urItems: Int32Array;
  urRatings: Float64Array;
  /** Biases (zeros at the start), length nUsers / nItems; updated in place. */
  bu: Float64Array;
  bi: Float64Array;
  /** Initial factors, row-major, length nUsers × nFactors / nItems × nFactors; updated in place. */
  pu: Float64Array;
  qi: Float64Array;
  /** The global mean μ when the model is biased, else 0. */
  mu: number;
}

/**
 * The input of a factor-model training loop on `trainset`: its user rows, zero biases, the initial
 * factors `pu` (nUsers × nFactors) and `qi` (nItems × nFactors), already drawn in Surprise's order
 * and updated in place, and `mu` (the global mean when biased, else 0).
 */
export function factorTraining(
  trainset: Trainset,
  nFactors: number,
  nEpochs: number,
  pu: Float64Array,
  qi: Float64Array,
  mu: number,
): FactorTraining {
  const { nUsers, nItems, urOffsets, urItems, urRatings } = trainset;
  const [bu, bi] = [new Float64Array(nUsers), new Float64Array(nItems)];
  return { nUsers, nFactors, nEpochs, urOffsets, urItems, urRatings, bu, bi, pu, qi, mu };
}

export abstract class FactorModel extends AlgoBase {
  /** User biases by inner user id (length nUsers; zeros when unbiased). */
  bu: Float64Array = new Float64Array(0);
  /** Item biases by inner item id (length nItems; zeros when unbiased). */
  bi: Float64Array = new Float64Array(0);
  /** User factors, row-major: `pu[u * nFactors + f]` (length nUsers × nFactors). */
  pu: Float64Array = new Float64Array(0);
  /** Item factors, row-major: `qi[i * nFactors + f]` (length nItems × nFactors). */
  qi: Float64Array = new Float64Array(0);

  /** Number of factors of this model (the `nFactors` parameter, a whole number ≥ 0). */
  get nFactors(): number {
    return this.params.nFactors as number;
  }

  /**
   * The input of a training loop on `trainset` (`factorTraining`), with `nFactors` and `nEpochs`
   * from the parameters.
   */
  protected trainingInput(
    trainset: Trainset,
    pu: Float64Array,
    qi: Float64Array,
    mu: number,
  ): FactorTraining {
    return factorTraining(trainset, this.nFactors, this.params.nEpochs as number, pu, qi, mu);
  }

  /** Keeps the biases and factors a training loop produced. */
  protected adopt(trained: FactorTraining): void {
    this.bu = trained.bu;
    this.bi = trained.bi;
    this.pu = trained.pu;
    this.qi = trained.qi;
  }

  /** `q_iᵀ p_u` for known inner ids, summed over f = 0…nFactors−1 in order. */
  protected dot(u: number, i: number): number {
    const nF = this.nFactors;
    const { pu, qi } = this;
    const uo = u * nF;
    const io = i * nF;
    let s = 0;
    for (let f = 0; f < nF; f++) s += qi[io + f] * pu[uo + f];
    return s;
  }

  /**
   * Surprise's estimate of SVD and NMF. Biased (`params.biased`): `μ (+ b_u if u is known)
   * (+ b_i if i is known) (+ q_iᵀ p_u if both are known)`. Unbiased: `q_iᵀ p_u`.
   * @throws PredictionImpossible (unbiased only) when the user or the item is unknown, naming the
   *   unknown side as the base class does: "User unknown", "Item unknown" or "User and item are
   *   unknown." (Surprise says "User and item(s) are unknown." whichever side it is.)
   */
  protected biasedOrPlainEstimate(u: number, i: number): number {
    const ts = this.trainset;
    const knownUser = ts.knowsUser(u);
    const knownItem = ts.knowsItem(i);
    if (this.params.biased) {
      let est = ts.globalMean;
      if (knownUser) est += this.bu[u];
      if (knownItem) est += this.bi[i];
      if (knownUser && knownItem) est += this.dot(u, i);
      return est;
    }
    if (knownUser && knownItem) return this.dot(u, i);
    throw new PredictionImpossible(unknownReason(knownUser, knownItem));
  }

  /** Arrays `bu`, `bi`, `pu`, `qi` (float64) for a model file. */
  override exportState(): AlgoState {
    return { values: {}, arrays: { bu: this.bu, bi: this.bi, pu: this.pu, qi: this.qi } };
  }

  /** Restores `bu`, `bi`, `pu`, `qi`. @throws Error when one is missing or of the wrong size. */
  override importState(state: AlgoState): void {
    const { nUsers, nItems } = this.trainset;
    const nF = this.nFactors;
    this.bu = requireArray(state, 'bu', nUsers, Float64Array);
    this.bi = requireArray(state, 'bi', nItems, Float64Array);
    this.pu = requireArray(state, 'pu', nUsers * nF, Float64Array);
    this.qi = requireArray(state, 'qi', nItems * nF, Float64Array);
  }
}

/**
 * Why an estimate is impossible, naming the unknown side: "User unknown", "Item unknown", or
 * "User and item are unknown." when both are (the reasons of `AlgoBase.predict`).
 */
export function unknownReason(knownUser: boolean, knownItem: boolean): string {
  if (!knownUser && !knownItem) return 'User and item are unknown.';
  return knownItem ? 'User unknown' : 'Item unknown';
}
