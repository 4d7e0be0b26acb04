/**
 * iALS: implicit alternating least squares (Y. Hu, Y. Koren, C. Volinsky, "Collaborative Filtering
 * for Implicit Feedback Datasets", ICDM 2008), in the formulation and with the tuning advice of
 * S. Rendle, W. Krichene, L. Zhang, Y. Koren, "Revisiting the Performance of iALS on Item
 * Recommendation Benchmarks", RecSys 2022 (arXiv:2110.14037, 2021), section 2 and 3:
 *
 * ```
 * L(W, H) = Σ_{(u,i) ∈ S} (ŷ_ui − 1)²  +  α₀ Σ_u Σ_i ŷ_ui²
 *         + λ ( Σ_u (|I_u| + α₀|I|)^ν ‖w_u‖²  +  Σ_i (|U_i| + α₀|U|)^ν ‖h_i‖² ),   ŷ_ui = ⟨w_u, h_i⟩
 * ```
 *
 * S the interactions, α₀ the weight of every (unobserved) pair, ν the frequency scaling of the
 * regularisation (ν = 0: plain λ; ν = 1: Rendle et al.'s recommended scaling). Up to a constant
 * this is Hu et al.'s weighted loss Σ_ui c_ui (ŷ_ui − p_ui)² with, for an observed pair, weight
 * 1 + α₀ and target 1/(1 + α₀), and for every other pair weight α₀ and target 0 (the dense form
 * the tests solve directly). Each half-step solves, per user (then per item),
 * the k × k system
 *
 * ```
 * (α₀ HᵀH + Σ_{i ∈ I_u} h_i h_iᵀ + λ_u I) w_u = Σ_{i ∈ I_u} h_i
 * ```
 *
 * with HᵀH computed once per half-step (Hu et al.'s speed-up), so an epoch costs
 * O(|S| k² + (|U| + |I|) k³). Each half-step minimises L exactly over one side, so L never rises
 * (`lossHistory`). Factors start as normal draws with standard deviation `initStd / √k`
 * (Rendle et al.'s initialisation), seeded (`randomState`, NumPy-compatible `RandomState`).
 */
import type { ParamSpecs } from '../params';
import { getRng } from '../random';
import { INTERACTION_SPECS, RankerBase, stateArray, type RankerArray } from './base';
import { LINALG_VALUES, spdSolve, type Linalg } from './dense';
import type { Interactions } from './interactions';

/** What `ialsHalfStep` needs: the rows to solve and the fixed side. */
export interface IalsStep {
  /** Number of rows to solve (users, or items). */
  nRows: number;
  /** Row r's interactions: `other` ids at `offsets[r] … offsets[r+1] − 1` of `ids`. */
  offsets: Int32Array;
  ids: Int32Array;
  /** The fixed side, nOther × k row-major. */
  fixed: Float64Array;
  nOther: number;
  /** The side being solved, nRows × k row-major (overwritten). */
  solved: Float64Array;
  k: number;
  alpha0: number;
  lambda: number;
  nu: number;
  linalg: Linalg;
}

/**
 * One ALS half-step: every row of `solved` set to the exact minimiser of L given `fixed`.
 * Row r's regularisation is λ (|S_r| + α₀ · nOther)^ν.
 * @throws RangeError when a system is not positive definite (λ = 0 and too few interactions).
 */
export function ialsHalfStep(s: IalsStep): void {
  const { k, fixed, solved, alpha0 } = s;
  const gram = new Float64Array(k * k);
  for (let o = 0; o < s.nOther; o++) {
    const r = o * k;
    for (let a = 0; a < k; a++) {
      const fa = fixed[r + a];
      if (fa === 0) continue;
      const ga = a * k;
      for (let b = 0; b <= a; b++) gram[ga + b] += fa * fixed[r + b];
    }
  }
  const m = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let row = 0; row < s.nRows; row++) {
    const from = s.offsets[row];
    const to = s.offsets[row + 1];
    for (let t = 0; t < k * k; t++) m[t] = alpha0 * gram[t];
    rhs.fill(0);
    for (let p = from; p < to; p++) {
      const r = s.ids[p] * k;
      for (let a = 0; a < k; a++) {
        const fa = fixed[r + a];
        rhs[a] += fa;
        const ga = a * k;
        for (let b = 0; b <= a; b++) m[ga + b] += fa * fixed[r + b];
      }
    }
    const reg = s.lambda * Math.pow(to - from + alpha0 * s.nOther, s.nu);
    for (let a = 0; a < k; a++) {
      m[a * k + a] += reg;
      for (let b = 0; b < a; b++) m[b * k + a] = m[a * k + b];
    }
    spdSolve(m, k, rhs, s.linalg);
    solved.set(rhs, row * k);
  }
}

/** iALS (see the module comment). Parameters: `IALS.paramSpecs`. */
export class IALS extends RankerBase {
  static readonly rankerName = 'iALS';
  static readonly description =
    'Implicit ALS (Hu, Koren, Volinsky 2008) with Rendle et al. 2021 weighting and regularisation.';
  static readonly paramSpecs: ParamSpecs = {
    ...INTERACTION_SPECS,
    nFactors: { type: 'int', default: 64, min: 1, max: 1024, doc: 'Number of latent factors k.' },
    nEpochs: {
      type: 'int',
      default: 8,
      min: 0,
      doc: 'Number of ALS epochs (user then item step).',
    },
    regAll: { type: 'float', default: 0.03, min: 0, doc: 'Regularisation λ.' },
    alpha0: {
      type: 'float',
      default: 0.1,
      min: 0,
      doc: 'Weight α₀ of every unobserved (user, item) pair.',
    },
    nu: {
      type: 'float',
      default: 1,
      min: 0,
      doc: 'Frequency scaling ν of the regularisation: λ (|I_u| + α₀|I|)^ν.',
    },
    initStd: {
      type: 'float',
      default: 0.1,
      min: 0,
      doc: 'Initial factors: normal with standard deviation initStd / √nFactors.',
    },
    randomState: { type: 'seed', default: 0, doc: 'Seed of the initial factors.' },
    linalg: {
      type: 'enum',
      values: LINALG_VALUES,
      default: 'typed',
      doc: "k × k solves: 'typed' (Cholesky on typed arrays) or 'ml-matrix'.",
    },
  };

  /** User factors W, nUsers × nFactors row-major. */
  pu: Float64Array = new Float64Array(0);
  /** Item factors H, nItems × nFactors row-major. */
  qi: Float64Array = new Float64Array(0);
  /** L after initialisation and after each epoch (length nEpochs + 1). */
  lossHistory: number[] = [];

  protected fitInteractions(x: Interactions): void {
    const k = this.params.nFactors as number;
    const rng = getRng(this.params.randomState as number | null);
    const std = (this.params.initStd as number) / Math.sqrt(k);
    this.pu = rng.fillNormal(new Float64Array(x.nUsers * k), 0, std);
    this.qi = rng.fillNormal(new Float64Array(x.nItems * k), 0, std);
    const common = {
      k,
      alpha0: this.params.alpha0 as number,
      lambda: this.params.regAll as number,
      nu: this.params.nu as number,
      linalg: this.params.linalg as Linalg,
    };
    this.lossHistory = [this.loss(x)];
    for (let e = 0; e < (this.params.nEpochs as number); e++) {
      ialsHalfStep({
        ...common,
        nRows: x.nUsers,
        offsets: x.userOffsets,
        ids: x.userItems,
        fixed: this.qi,
        nOther: x.nItems,
        solved: this.pu,
      });
      ialsHalfStep({
        ...common,
        nRows: x.nItems,
        offsets: x.itemOffsets,
        ids: x.itemUsers,
        fixed: this.pu,
        nOther: x.nUsers,
        solved: this.qi,
      });
      this.lossHistory.push(this.loss(x));
    }
  }

  /**
   * The objective L of the module comment for the current factors. Σ_{u,i} ŷ² is computed as
   * Σ_ab (WᵀW)_ab (HᵀH)_ab, so the cost is O(|S| k + (|U| + |I|) k²).
   */
  loss(x: Interactions = this.interactions): number {
    const k = this.params.nFactors as number;
    const alpha0 = this.params.alpha0 as number;
    const lambda = this.params.regAll as number;
    const nu = this.params.nu as number;
    const { pu, qi } = this;
    let observed = 0;
    for (let u = 0; u < x.nUsers; u++) {
      for (const i of x.items(u)) {
        let y = 0;
        for (let a = 0; a < k; a++) y += pu[u * k + a] * qi[i * k + a];
        observed += (y - 1) * (y - 1);
      }
    }
    const gw = gramOf(pu, x.nUsers, k);
    const gh = gramOf(qi, x.nItems, k);
    let all = 0;
    for (let t = 0; t < k * k; t++) all += gw[t] * gh[t];
    let reg = 0;
    for (let u = 0; u < x.nUsers; u++) {
      reg += Math.pow(x.userCount(u) + alpha0 * x.nItems, nu) * sumSq(pu, u * k, k);
    }
    for (let i = 0; i < x.nItems; i++) {
      reg += Math.pow(x.itemCount(i) + alpha0 * x.nUsers, nu) * sumSq(qi, i * k, k);
    }
    return observed + alpha0 * all + lambda * reg;
  }

  stateArrays(): Record<string, RankerArray> {
    return { pu: this.pu, qi: this.qi };
  }

  protected restoreArrays(arrays: Record<string, RankerArray>): void {
    const x = this.interactions;
    const k = this.params.nFactors as number;
    this.pu = stateArray(arrays, 'pu', Float64Array, x.nUsers * k);
    this.qi = stateArray(arrays, 'qi', Float64Array, x.nItems * k);
  }

  /** Item i's factor vector h_i (a view). */
  override itemVector(i: number): Float64Array {
    const k = this.params.nFactors as number;
    return this.qi.subarray(i * k, (i + 1) * k);
  }

  /** ŷ_uj = ⟨w_u, h_j⟩ for every item j. */
  scoreUser(u: number, out: Float64Array): void {
    const k = this.params.nFactors as number;
    const { pu, qi } = this;
    const r = u * k;
    for (let j = 0; j < out.length; j++) {
      let y = 0;
      const c = j * k;
      for (let a = 0; a < k; a++) y += pu[r + a] * qi[c + a];
      out[j] = y;
    }
  }
}

function gramOf(f: Float64Array, n: number, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    const o = r * k;
    for (let a = 0; a < k; a++) {
      const fa = f[o + a];
      for (let b = 0; b < k; b++) g[a * k + b] += fa * f[o + b];
    }
  }
  return g;
}

function sumSq(f: Float64Array, from: number, k: number): number {
  let s = 0;
  for (let a = 0; a < k; a++) s += f[from + a] * f[from + a];
  return s;
}
