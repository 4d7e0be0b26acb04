/**
 * NMF: collaborative filtering by non-negative matrix factorisation.
 *
 * Prediction: `r̂_ui = q_iᵀ p_u` with non-negative factors; biased: `r̂_ui = μ + b_u + b_i + q_iᵀ p_u`.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/matrix_factorization.pyx (`NMF.sgd`,
 * `NMF.estimate`), the multiplicative updates of Luo et al. (2014), equivalent to Zhang et al.
 * (2006) without regularisation:
 *
 * ```
 * rng = get_rng(random_state)
 * pu = rng.uniform(init_low, init_high, (n_users, n_factors))
 * qi = rng.uniform(init_low, init_high, (n_items, n_factors))
 * μ  = global_mean if biased else 0
 * for epoch in range(n_epochs):
 *     user_num = user_denom = item_num = item_denom = 0
 *     for u, i, r in all_ratings():
 *         est = μ + bu[u] + bi[i] + Σ_f qi[i,f] · pu[u,f];  err = r − est
 *         if biased: bu[u] += lr_bu · (err − reg_bu · bu[u]);  bi[i] += lr_bi · (err − reg_bi · bi[i])
 *         for f: user_num[u,f] += qi[i,f] · r;  user_denom[u,f] += qi[i,f] · est
 *                item_num[i,f] += pu[u,f] · r;  item_denom[i,f] += pu[u,f] · est
 *     for u: for f: user_denom[u,f] += |I_u| · reg_pu · pu[u,f];  pu[u,f] *= user_num[u,f] / user_denom[u,f]
 *     for i: for f: item_denom[i,f] += |U_i| · reg_qi · qi[i,f];  qi[i,f] *= item_num[i,f] / item_denom[i,f]
 * ```
 *
 * Every sum runs in Surprise's order, so for the same trainset and `randomState` the factors equal
 * Surprise's `NMF(random_state=k)`'s to the last bit. The loop itself is in nmf-kernel.ts (in
 * WebAssembly when the runtime has it, with the same bits as the TypeScript loop). Factors stay non-negative as long as
 * `initLow ≥ 0` and the ratings are positive.
 *
 * References: X. Luo, M. Zhou, Y. Xia, Q. Zhu, "An efficient non-negative matrix-factorization-based
 * approach to collaborative filtering for recommender systems", IEEE TII 10(2), 2014; S. Zhang,
 * W. Wang, J. Ford, F. Makedon, "Learning from incomplete ratings using non-negative matrix
 * factorization", SDM 2006; D. Lee, H. S. Seung, "Algorithms for non-negative matrix
 * factorization", NIPS 2001.
 */
import { FactorModel } from './factor-model';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng } from '../random';
import { nmfSgd } from './nmf-kernel';

export class NMF extends FactorModel {
  static readonly algorithmName = 'NMF';
  static readonly description =
    'Non-negative matrix factorisation with regularised multiplicative updates (optionally biased).';
  static readonly paramSpecs: ParamSpecs = {
    nFactors: { type: 'int', default: 15, min: 0, doc: 'Number of latent factors.' },
    nEpochs: { type: 'int', default: 50, min: 0, doc: 'Number of passes over the trainset.' },
    biased: {
      type: 'bool',
      default: false,
      doc: 'Add the baselines μ + b_u + b_i, learned by SGD (prone to overfitting: fewer factors or more regularisation help).',
    },
    regPu: { type: 'float', default: 0.06, min: 0, doc: 'Regularisation of the user factors.' },
    regQi: { type: 'float', default: 0.06, min: 0, doc: 'Regularisation of the item factors.' },
    regBu: {
      type: 'float',
      default: 0.02,
      min: 0,
      doc: 'Regularisation of the user biases (biased only).',
    },
    regBi: {
      type: 'float',
      default: 0.02,
      min: 0,
      doc: 'Regularisation of the item biases (biased only).',
    },
    lrBu: {
      type: 'float',
      default: 0.005,
      min: 0,
      doc: 'Learning rate of the user biases (biased only).',
    },
    lrBi: {
      type: 'float',
      default: 0.005,
      min: 0,
      doc: 'Learning rate of the item biases (biased only).',
    },
    initLow: {
      type: 'float',
      default: 0,
      min: 0,
      doc: 'Lower bound of the uniform factor initialisation (≥ 0 keeps the factors non-negative).',
    },
    initHigh: {
      type: 'float',
      default: 1,
      doc: 'Upper bound of the uniform factor initialisation.',
    },
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the factor initialisation (whole number in [0, 2^32 − 1]); the same seed gives the same model bit for bit. null draws a seed from the operating system.',
    },
  };

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const p = this.params;
    const nF = p.nFactors as number;
    const biased = p.biased as boolean;
    const regPu = p.regPu as number;
    const regQi = p.regQi as number;
    const regBu = p.regBu as number;
    const regBi = p.regBi as number;
    const lrBu = p.lrBu as number;
    const lrBi = p.lrBi as number;

    const { nUsers, nItems, irOffsets } = trainset;
    const rng = getRng(p.randomState as number | null);
    const initLow = p.initLow as number;
    const initHigh = p.initHigh as number;
    const pu = rng.fillUniform(new Float64Array(nUsers * nF), initLow, initHigh);
    const qi = rng.fillUniform(new Float64Array(nItems * nF), initLow, initHigh);
    const itemDegrees = new Int32Array(nItems);
    for (let i = 0; i < nItems; i++) itemDegrees[i] = irOffsets[i + 1] - irOffsets[i];
    const input = {
      ...this.trainingInput(trainset, pu, qi, biased ? trainset.globalMean : 0),
      nItems,
      biased,
      itemDegrees,
      regPu,
      regQi,
      regBu,
      regBi,
      lrBu,
      lrBi,
    };
    nmfSgd(input);
    this.adopt(input);
    return this;
  }

  /**
   * Biased: `μ (+ b_u if u is known) (+ b_i if i is known) (+ q_iᵀ p_u if both are known)`.
   * Unbiased: `q_iᵀ p_u`. Factors are ≥ 0 (see the module comment).
   * @throws PredictionImpossible (unbiased only) when the user or the item is unknown, naming
   *   which ("User unknown", "Item unknown", "User and item are unknown.").
   */
  estimate(u: number, i: number): number {
    return this.biasedOrPlainEstimate(u, i);
  }
}
