/**
 * SVD++: SVD extended with implicit feedback, the fact that a user rated an item whatever the
 * rating.
 *
 * Prediction: `r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |I_u|^(−1/2) Σ_{j ∈ I_u} y_j)`, where `I_u` is
 * the set of items user u rated and `y_j` a second set of item factors. For an unknown user, `b_u`
 * and `p_u` are taken as zero (and the implicit term left out); for an unknown item, `b_i` and `q_i`.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/matrix_factorization.pyx (`SVDpp.sgd`,
 * `SVDpp.estimate`):
 *
 * ```
 * rng = get_rng(random_state)
 * pu = rng.normal(init_mean, init_std_dev, (n_users, n_factors))
 * qi = rng.normal(init_mean, init_std_dev, (n_items, n_factors))
 * yj = rng.normal(init_mean, init_std_dev, (n_items, n_factors))
 * for epoch in range(n_epochs):
 *     for u, i, r in all_ratings():
 *         Iu = items rated by u; sqrt_Iu = √|Iu|
 *         impl[f] = Σ_{j ∈ Iu} yj[j,f] / sqrt_Iu
 *         dot = Σ_f qi[i,f] · (pu[u,f] + impl[f])
 *         err = r − (μ + bu[u] + bi[i] + dot)
 *         bu[u] += lr_bu · (err − reg_bu · bu[u]);  bi[i] += lr_bi · (err − reg_bi · bi[i])
 *         for f: puf = pu[u,f]; qif = qi[i,f]
 *                pu[u,f] += lr_pu · (err · qif − reg_pu · puf)
 *                qi[i,f] += lr_qi · (err · (puf + impl[f]) − reg_qi · qif)
 *                for j in Iu: yj[j,f] += lr_yj · (err · qif / sqrt_Iu − reg_yj · yj[j,f])
 * ```
 *
 * **Reorganisation (same mathematics, O(|R|·f) per epoch instead of O(Σ_u |I_u|²·f)).** Surprise
 * recomputes `impl` and updates every `y_j, j ∈ I_u` at each of u's ratings. Ratings are visited
 * user by user, and during user u's ratings the `y_j` of u's items change only by that update,
 * which is the same affine map for every j: `y_j ← a·y_j + c` with `a = 1 − lr_yj·reg_yj` and
 * `c_f = lr_yj · err · q_if / √|I_u|`. So after k of u's ratings every such row is
 * `y_j = A·y_j⁰ + C` with `A = a^k` (a scalar) and `C ← a·C + c` (a vector), and the implicit
 * feedback follows the same map summed over the |I_u| rows: `impl ← a·impl + |I_u|·c/√|I_u|`,
 * starting from `Σ_j y_j⁰/√|I_u|` computed once per user. The rows `y_j` are written back once,
 * at the end of the user's ratings. Every quantity equals
 * Surprise's up to floating-point rounding (differences of the order of 1e−15 relative; the
 * test against a NumPy transcription of Surprise's loop agrees to 1e−10). The reorganisation
 * needs every item to appear once in a user's ratings; for a trainset where a user rated an item
 * twice (Surprise then updates that y_j twice per rating) `fit` runs Surprise's loop as written
 * (`svdppSgdLiteral`). The reorganised loop runs in WebAssembly when the runtime has it
 * (svdpp-kernel.ts; same operations, same order, same bits as `svdppSgd`). Surprise 1.1.4's
 * `cache_ratings` option only changes its speed, so it has no counterpart here.
 *
 * `estimate` sums `y_j` over `ur[u]` in order, divides by `√|I_u|` and adds `p_u`, as Surprise;
 * that vector is computed once per user after fitting (`zu`), not per prediction.
 *
 * Reference: Y. Koren, "Factorization meets the neighborhood: a multifaceted collaborative
 * filtering model", KDD 2008, section 4 (equation 15).
 */
import { requireArray, type AlgoState } from './base';
import { FactorModel, type FactorTraining } from './factor-model';
import { normalFactors, rateSpecs, sgdRates, type SgdRates, type SgdTerm } from './sgd-params';

/** The terms with their own learning rate and regularisation. */
const TERMS = ['Bu', 'Bi', 'Pu', 'Qi', 'Yj'] as const satisfies readonly SgdTerm[];
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng } from '../random';
import { svdppSgdWasm } from './svdpp-kernel';

export class SVDpp extends FactorModel {
  static readonly algorithmName = 'SVDpp';
  static readonly description =
    'SVD++: biased matrix factorisation plus implicit feedback (the items each user rated), learned by SGD.';
  static readonly paramSpecs: ParamSpecs = {
    nFactors: { type: 'int', default: 20, min: 0, doc: 'Number of latent factors.' },
    nEpochs: { type: 'int', default: 20, min: 0, doc: 'Number of SGD passes over the trainset.' },
    initMean: {
      type: 'float',
      default: 0,
      doc: 'Mean of the normal distribution the factors p_u, q_i, y_j are initialised from.',
    },
    initStd: {
      type: 'float',
      default: 0.1,
      min: 0,
      doc: 'Standard deviation of the normal distribution the factors are initialised from.',
    },
    lrAll: { type: 'float', default: 0.007, min: 0, doc: 'Learning rate of every parameter.' },
    regAll: { type: 'float', default: 0.02, min: 0, doc: 'Regularisation of every parameter.' },
    ...rateSpecs(TERMS),
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the factor initialisation (whole number in [0, 2^32 − 1]); the same seed gives the same model. null draws a seed from the operating system.',
    },
  };

  /** Implicit item factors, row-major: `yj[j * nFactors + f]` (length nItems × nFactors). */
  yj: Float64Array = new Float64Array(0);
  /**
   * Per user, `p_u + |I_u|^(−1/2) Σ_{j ∈ I_u} y_j` (row-major, nUsers × nFactors): derived from
   * the factors after fit or import, so that each estimate costs O(nFactors).
   */
  private zu: Float64Array = new Float64Array(0);

  /** User `u`'s effective factor vector `p_u + |I_u|^(−1/2) Σ_{j ∈ I_u} y_j` (a view, length nFactors). */
  userVector(u: number): Float64Array {
    const nF = this.nFactors;
    return this.zu.subarray(u * nF, (u + 1) * nF);
  }

  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const p = this.params;
    const nF = p.nFactors as number;
    const rates = sgdRates(p, TERMS);

    const { nUsers, nItems } = trainset;
    const [pu, qi, yj] = normalFactors(
      getRng(p.randomState as number | null),
      [nUsers, nItems, nItems],
      nF,
      p.initMean as number,
      p.initStd as number,
    );
    const input: SvdppSgdInput = {
      ...this.trainingInput(trainset, pu, qi, trainset.globalMean),
      yj,
      ...rates,
    };
    if (hasRepeatedItems(trainset)) svdppSgdLiteral(input);
    else if (!svdppSgdWasm(input)) svdppSgd(input);
    this.adopt(input);
    this.yj = yj;
    this.computeZu();
    return this;
  }

  /**
   * `μ (+ b_u if u is known) (+ b_i if i is known)
   * (+ q_iᵀ (p_u + |I_u|^(−1/2) Σ_{j ∈ I_u} y_j) if both are known)`; never impossible.
   */
  estimate(u: number, i: number): number {
    const ts = this.trainset;
    let est = ts.globalMean;
    if (u >= 0) est += this.bu[u];
    if (i >= 0) est += this.bi[i];
    if (u >= 0 && i >= 0) {
      const nF = this.nFactors;
      const { qi, zu } = this;
      const uo = u * nF;
      const io = i * nF;
      let dot = 0;
      for (let f = 0; f < nF; f++) dot += qi[io + f] * zu[uo + f];
      est += dot;
    }
    return est;
  }

  /** Fills `zu[u] = p_u + (Σ_{j ∈ ur[u]} y_j) / √|I_u|`, summing in `ur[u]` order as Surprise. */
  private computeZu(): void {
    const { nUsers, urOffsets, urItems } = this.trainset;
    const nF = this.nFactors;
    const { pu, yj } = this;
    const zu = new Float64Array(nUsers * nF);
    const s = new Float64Array(nF);
    for (let u = 0; u < nUsers; u++) {
      const start = urOffsets[u];
      const end = urOffsets[u + 1];
      s.fill(0);
      for (let k = start; k < end; k++) {
        const jo = urItems[k] * nF;
        for (let f = 0; f < nF; f++) s[f] += yj[jo + f];
      }
      const sqrtIu = Math.sqrt(end - start);
      const uo = u * nF;
      for (let f = 0; f < nF; f++) zu[uo + f] = pu[uo + f] + s[f] / sqrtIu;
    }
    this.zu = zu;
  }

  /** Arrays `bu`, `bi`, `pu`, `qi`, `yj` (float64) for a model file. */
  override exportState(): AlgoState {
    const state = super.exportState();
    state.arrays.yj = this.yj;
    return state;
  }

  /** Restores `bu`, `bi`, `pu`, `qi`, `yj`. @throws Error when one is missing or of the wrong size. */
  override importState(state: AlgoState): void {
    super.importState(state);
    this.yj = requireArray(state, 'yj', this.trainset.nItems * this.nFactors, Float64Array);
    this.computeZu();
  }
}

/** Inputs of one SVD++ run: the training arrays and `yj` (updated in place), and the rates. */
export interface SvdppSgdInput extends FactorTraining, SgdRates<SgdTerm> {
  /** Initial implicit item factors, row-major, nItems × nFactors; updated in place. */
  yj: Float64Array;
}

/**
 * Surprise's SVD++ loop reorganised to O(|R|·f) per epoch (see the module comment): the y_j rows
 * of u's items are updated once per user through an accumulated affine map. Requires that no user
 * rated the same item twice (see `hasRepeatedItems`).
 */
export function svdppSgd(input: SvdppSgdInput): void {
  const { nUsers, nEpochs, urOffsets, urItems, urRatings, bu, bi, pu, qi, yj } = input;
  const { lrBu, lrBi, lrPu, lrQi, lrYj, regBu, regBi, regPu, regQi, regYj } = input;
  const nF = input.nFactors;
  const globalMean = input.mu;
  const impl = new Float64Array(nF); // Σ_{j ∈ I_u} y_j / √|I_u|, kept current
  const C = new Float64Array(nF); // accumulated shift of the y_j rows of u's items
  const a = 1 - lrYj * regYj; // the y_j decay of one update

  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let u = 0; u < nUsers; u++) {
      const start = urOffsets[u];
      const end = urOffsets[u + 1];
      const nIu = end - start;
      if (nIu === 0) continue;
      const sqrtIu = Math.sqrt(nIu);
      const uo = u * nF;
      impl.fill(0);
      for (let k = start; k < end; k++) {
        const jo = urItems[k] * nF;
        for (let f = 0; f < nF; f++) impl[f] += yj[jo + f] / sqrtIu;
      }
      C.fill(0);
      let A = 1;
      for (let k = start; k < end; k++) {
        const i = urItems[k];
        const io = i * nF;
        let dot = 0;
        for (let f = 0; f < nF; f++) dot += qi[io + f] * (pu[uo + f] + impl[f]);
        const err = urRatings[k] - (globalMean + bu[u] + bi[i] + dot);
        bu[u] += lrBu * (err - regBu * bu[u]);
        bi[i] += lrBi * (err - regBi * bi[i]);
        const g = (lrYj * err) / sqrtIu; // y_j gains g · q_if
        const gImpl = (nIu * g) / sqrtIu; // so impl gains gImpl · q_if
        for (let f = 0; f < nF; f++) {
          const puf = pu[uo + f];
          const qif = qi[io + f];
          const im = impl[f];
          pu[uo + f] = puf + lrPu * (err * qif - regPu * puf);
          qi[io + f] = qif + lrQi * (err * (puf + im) - regQi * qif);
          C[f] = a * C[f] + g * qif;
          impl[f] = a * im + gImpl * qif;
        }
        A *= a;
      }
      for (let k = start; k < end; k++) {
        const jo = urItems[k] * nF;
        for (let f = 0; f < nF; f++) yj[jo + f] = A * yj[jo + f] + C[f];
      }
    }
  }
}

/**
 * Surprise's SVD++ loop as written (O(|I_u|·f) per rating): the implicit feedback is recomputed
 * and every y_j of u's items updated at each rating. Used when a user rated an item more than
 * once, where the reorganised loop would not apply; also the reference the tests compare with.
 */
export function svdppSgdLiteral(input: SvdppSgdInput): void {
  const { nUsers, nEpochs, urOffsets, urItems, urRatings, bu, bi, pu, qi, yj, mu } = input;
  const { lrBu, lrBi, lrPu, lrQi, lrYj, regBu, regBi, regPu, regQi, regYj } = input;
  const nF = input.nFactors;
  const impl = new Float64Array(nF);
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let u = 0; u < nUsers; u++) {
      const start = urOffsets[u];
      const end = urOffsets[u + 1];
      const sqrtIu = Math.sqrt(end - start);
      const uo = u * nF;
      for (let k = start; k < end; k++) {
        const i = urItems[k];
        const io = i * nF;
        impl.fill(0);
        for (let q = start; q < end; q++) {
          const jo = urItems[q] * nF;
          for (let f = 0; f < nF; f++) impl[f] += yj[jo + f] / sqrtIu;
        }
        let dot = 0;
        for (let f = 0; f < nF; f++) dot += qi[io + f] * (pu[uo + f] + impl[f]);
        const err = urRatings[k] - (mu + bu[u] + bi[i] + dot);
        bu[u] += lrBu * (err - regBu * bu[u]);
        bi[i] += lrBi * (err - regBi * bi[i]);
        for (let f = 0; f < nF; f++) {
          const puf = pu[uo + f];
          const qif = qi[io + f];
          pu[uo + f] += lrPu * (err * qif - regPu * puf);
          qi[io + f] += lrQi * (err * (puf + impl[f]) - regQi * qif);
          for (let q = start; q < end; q++) {
            const x = urItems[q] * nF + f;
            yj[x] += lrYj * ((err * qif) / sqrtIu - regYj * yj[x]);
          }
        }
      }
    }
  }
}

/** True when some user's ratings list the same item more than once. */
export function hasRepeatedItems(trainset: Trainset): boolean {
  const { nUsers, nItems, urOffsets, urItems } = trainset;
  const last = new Int32Array(nItems).fill(-1);
  for (let u = 0; u < nUsers; u++) {
    for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
      if (last[urItems[k]] === u) return true;
      last[urItems[k]] = u;
    }
  }
  return false;
}
