/**
 * SVD: the matrix factorisation popularised by Simon Funk in the Netflix Prize, biased or not,
 * learned by stochastic gradient descent.
 *
 * Prediction (biased): `r̂_ui = μ + b_u + b_i + q_iᵀ p_u`; unbiased: `r̂_ui = q_iᵀ p_u`.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/matrix_factorization.pyx (`SVD.sgd`,
 * `SVD.estimate`) step for step:
 *
 * ```
 * rng = get_rng(random_state)
 * bu = zeros(n_users); bi = zeros(n_items)
 * pu = rng.normal(init_mean, init_std, (n_users, n_factors))
 * qi = rng.normal(init_mean, init_std, (n_items, n_factors))
 * μ  = global_mean if biased else 0
 * for epoch in range(n_epochs):
 *     for u, i, r in all_ratings():
 *         dot = Σ_f qi[i,f] · pu[u,f]
 *         err = r − (μ + bu[u] + bi[i] + dot)
 *         if biased:
 *             bu[u] += lr_bu · (err − reg_bu · bu[u])
 *             bi[i] += lr_bi · (err − reg_bi · bi[i])
 *         for f in range(n_factors):
 *             puf = pu[u,f]; qif = qi[i,f]
 *             pu[u,f] += lr_pu · (err · qif − reg_pu · puf)
 *             qi[i,f] += lr_qi · (err · puf − reg_qi · qif)
 * ```
 *
 * The loop runs in WebAssembly compiled from AssemblyScript (svd-kernel.ts). `kernel: 'exact'`
 * (the default) does the same f64 operations in the same order as Surprise (same bits);
 * `kernel: 'simd'` runs f32 four-lane SIMD over a deterministic DSGD block schedule on `threads`
 * threads (src/engine/kernels/svd-simd.ts): several times faster, not Surprise's bits, RMSE on
 * ml-100k u1 within ±0.002 of 'exact', and the same bits for every thread count.
 *
 * Because `RandomState` reproduces NumPy's draws and the trainset visits ratings in Surprise's
 * order, `randomState: k` gives the factors Surprise's `SVD(random_state=k)` learns, to the last
 * bit. References: S. Funk, "Netflix Update: Try This at Home" (2006); Y. Koren, R. Bell,
 * C. Volinsky, "Matrix factorization techniques for recommender systems", IEEE Computer 42(8),
 * 2009 (equations 5 and 6).
 */
import { FactorModel } from './factor-model';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng } from '../random';
import { svdSgd, type SvdKernel } from './svd-kernel';
import { SIMD_BLOCKS, simdThreads } from '../kernels/svd-simd';
import { rateSpecs, sgdRates, type SgdTerm } from './sgd-params';

/** The terms with their own learning rate and regularisation. */
const TERMS = ['Bu', 'Bi', 'Pu', 'Qi'] as const satisfies readonly SgdTerm[];

/**
 * SVD (see the module comment for the algorithm). Parameters: `SVD.paramSpecs`.
 *
 * @example
 * const algo = new SVD({ nFactors: 50, randomState: 0 }).fit(trainset);
 * algo.predict('196', '302').est; // a rating in the trainset's scale
 */
export class SVD extends FactorModel {
  static readonly algorithmName = 'SVD';
  static readonly description =
    "Funk's matrix factorisation (biased by default) learned by stochastic gradient descent.";
  static readonly paramSpecs: ParamSpecs = {
    nFactors: { type: 'int', default: 100, min: 0, doc: 'Number of latent factors.' },
    nEpochs: { type: 'int', default: 20, min: 0, doc: 'Number of SGD passes over the trainset.' },
    biased: {
      type: 'bool',
      default: true,
      doc: 'Use the baselines μ + b_u + b_i (true) or the plain factor product (false).',
    },
    initMean: {
      type: 'float',
      default: 0,
      doc: 'Mean of the normal distribution the factors are initialised from.',
    },
    initStd: {
      type: 'float',
      default: 0.1,
      min: 0,
      doc: 'Standard deviation of the normal distribution the factors are initialised from.',
    },
    lrAll: { type: 'float', default: 0.005, min: 0, doc: 'Learning rate of every parameter.' },
    regAll: { type: 'float', default: 0.02, min: 0, doc: 'Regularisation of every parameter.' },
    ...rateSpecs(TERMS),
    kernel: {
      type: 'enum',
      values: ['exact', 'simd'],
      default: 'exact',
      doc: "SGD kernel: 'exact' (f64, Surprise's order: Surprise's bits) or 'simd' (f32x4 SIMD over a deterministic 4 × 4 block schedule: faster, RMSE on ml-100k within ±0.002 of 'exact').",
    },
    threads: {
      type: 'int',
      default: 1,
      min: 1,
      max: 4,
      doc: "Threads of the 'simd' kernel: 1, 2 or 4 (divisors of its 4 blocks); the result is the same bits for each. Fewer run when the data is too small for them to pay (under 2^18 rating-lanes per thread and sub-epoch). Ignored by 'exact'.",
    },
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the factor initialisation (whole number in [0, 2^32 − 1]); the same seed gives the same model bit for bit. null draws a seed from the operating system.',
    },
  };

  /**
   * Draws the initial factors, then runs `nEpochs` passes of SGD over `trainset.allRatings()`.
   * Time O(nEpochs × nRatings × nFactors); memory (nUsers + nItems) × (nFactors + 1) doubles.
   * @returns this
   */
  override fit(trainset: Trainset): this {
    const p = this.params;
    const threads = p.threads as number;
    if (SIMD_BLOCKS % threads !== 0) {
      throw new RangeError(
        `threads must divide the ${SIMD_BLOCKS} blocks (1, 2 or 4), got ${threads}`,
      );
    }
    super.fit(trainset);
    const nF = p.nFactors as number;
    const biased = p.biased as boolean;
    const rates = sgdRates(p, TERMS);

    // the initial factors are drawn by svdSgd (the 'simd' kernel draws them into its own memory)
    const pu = new Float64Array(trainset.nUsers * nF);
    const qi = new Float64Array(trainset.nItems * nF);
    const input = {
      ...this.trainingInput(trainset, pu, qi, biased ? trainset.globalMean : 0),
      biased,
      ...rates,
    };
    const draw = {
      rng: getRng(p.randomState as number | null),
      mean: p.initMean as number,
      std: p.initStd as number,
    };
    // as many threads as pay on data of this size (the same bits with any number)
    const run = simdThreads(threads, trainset.nRatings, nF);
    svdSgd(input, p.kernel as SvdKernel, { threads: run, blocks: SIMD_BLOCKS, draw });
    this.adopt(input);
    return this;
  }

  /**
   * Biased: `μ (+ b_u if u is known) (+ b_i if i is known) (+ q_iᵀ p_u if both are known)`.
   * Unbiased: `q_iᵀ p_u`.
   * @throws PredictionImpossible (unbiased only) when the user or the item is unknown, naming
   *   which ("User unknown", "Item unknown", "User and item are unknown.").
   */
  estimate(u: number, i: number): number {
    return this.biasedOrPlainEstimate(u, i);
  }
}
