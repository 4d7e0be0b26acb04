/**
 * BPR: Bayesian Personalized Ranking with matrix factorisation (S. Rendle, C. Freudenthaler,
 * Z. Gantner, L. Schmidt-Thieme, "BPR: Bayesian Personalized Ranking from Implicit Feedback",
 * UAI 2009), learned by LearnBPR: stochastic gradient ascent on
 *
 * ```
 * Σ_{(u,i,j)} ln σ(x̂_uij) − λ (‖w_u‖² + ‖h_i‖² + ‖h_j‖² + b_i² + b_j²),
 * x̂_uij = x̂_ui − x̂_uj,   x̂_ui = b_i + ⟨w_u, h_i⟩
 * ```
 *
 * over triples drawn with replacement (Rendle et al., algorithm 1): an interaction (u, i) drawn
 * uniformly from all interactions, then an item j drawn uniformly from all items, the triple
 * skipped when u interacted with j. One epoch draws as many triples as there are interactions.
 * With z = 1 − σ(x̂_uij) = 1 / (1 + e^{x̂_uij}) and learning rate η:
 *
 * ```
 * w_u += η (z (h_i − h_j) − λ w_u);  h_i += η (z w_u − λ h_i);  h_j += η (−z w_u − λ h_j)
 * b_i += η (z − λ b_i);               b_j += η (−z − λ b_j)
 * ```
 *
 * (all from the values before the step). Item biases as in common BPR implementations (Cornac's
 * `BPR`, the one Microsoft Recommenders' benchmark ran); factors start uniform in
 * [−0.5/k, 0.5/k), biases at 0. Every draw comes from the seeded `RandomState`, so a seed gives
 * the same model, to the bit.
 */
import type { ParamSpecs } from '../params';
import { getRng } from '../random';
import { INTERACTION_SPECS, RankerBase, stateArray, type RankerArray } from './base';
import type { Interactions } from './interactions';

/** BPR (see the module comment). Parameters: `BPR.paramSpecs`. */
export class BPR extends RankerBase {
  static readonly rankerName = 'BPR';
  static readonly description =
    'Bayesian Personalized Ranking (Rendle et al. 2009): pairwise SGD on a factor model.';
  static readonly paramSpecs: ParamSpecs = {
    ...INTERACTION_SPECS,
    nFactors: { type: 'int', default: 64, min: 1, max: 1024, doc: 'Number of latent factors.' },
    nEpochs: {
      type: 'int',
      default: 300,
      min: 0,
      doc: 'Epochs; each draws as many triples as there are interactions.',
    },
    lrAll: { type: 'float', default: 0.02, min: 0, doc: 'Learning rate η.' },
    regAll: { type: 'float', default: 0.03, min: 0, doc: 'Regularisation λ.' },
    biased: { type: 'bool', default: true, doc: 'Learn an item bias b_i.' },
    randomState: { type: 'seed', default: 0, doc: 'Seed of the initial factors and the draws.' },
  };

  /** User factors, nUsers × nFactors row-major. */
  pu: Float64Array = new Float64Array(0);
  /** Item factors, nItems × nFactors row-major. */
  qi: Float64Array = new Float64Array(0);
  /** Item biases. */
  bi: Float64Array = new Float64Array(0);
  /** Triples skipped (j was an interaction of u) in the last fit. */
  skipped = 0;

  protected fitInteractions(x: Interactions): void {
    const k = this.params.nFactors as number;
    const lr = this.params.lrAll as number;
    const reg = this.params.regAll as number;
    const biased = this.params.biased as boolean;
    const rng = getRng(this.params.randomState as number | null);
    const pu = rng.fillUniform(new Float64Array(x.nUsers * k), -0.5 / k, 0.5 / k);
    const qi = rng.fillUniform(new Float64Array(x.nItems * k), -0.5 / k, 0.5 / k);
    const bi = new Float64Array(x.nItems);
    // The user of each interaction, so that an interaction can be drawn uniformly.
    const userOf = new Int32Array(x.nInteractions);
    for (let u = 0; u < x.nUsers; u++) userOf.fill(u, x.userOffsets[u], x.userOffsets[u + 1]);
    const nS = x.nInteractions;
    let skipped = 0;
    const epochs = this.params.nEpochs as number;
    if (nS > 0 && x.nItems > 1) {
      for (let e = 0; e < epochs; e++) {
        for (let t = 0; t < nS; t++) {
          const p = rng.randint(0, nS);
          const u = userOf[p];
          const i = x.userItems[p];
          const j = rng.randint(0, x.nItems);
          if (contains(x.userItems, x.userOffsets[u], x.userOffsets[u + 1], j)) {
            skipped++;
            continue;
          }
          const ru = u * k;
          const ri = i * k;
          const rj = j * k;
          let d = biased ? bi[i] - bi[j] : 0;
          for (let a = 0; a < k; a++) d += pu[ru + a] * (qi[ri + a] - qi[rj + a]);
          const z = 1 / (1 + Math.exp(d));
          for (let a = 0; a < k; a++) {
            const wu = pu[ru + a];
            const hi = qi[ri + a];
            const hj = qi[rj + a];
            pu[ru + a] = wu + lr * (z * (hi - hj) - reg * wu);
            qi[ri + a] = hi + lr * (z * wu - reg * hi);
            qi[rj + a] = hj + lr * (-z * wu - reg * hj);
          }
          if (biased) {
            bi[i] += lr * (z - reg * bi[i]);
            bi[j] += lr * (-z - reg * bi[j]);
          }
        }
      }
    }
    this.pu = pu;
    this.qi = qi;
    this.bi = bi;
    this.skipped = skipped;
  }

  stateArrays(): Record<string, RankerArray> {
    return { pu: this.pu, qi: this.qi, bi: this.bi };
  }

  protected restoreArrays(arrays: Record<string, RankerArray>): void {
    const x = this.interactions;
    const k = this.params.nFactors as number;
    this.pu = stateArray(arrays, 'pu', Float64Array, x.nUsers * k);
    this.qi = stateArray(arrays, 'qi', Float64Array, x.nItems * k);
    this.bi = stateArray(arrays, 'bi', Float64Array, x.nItems);
  }

  /** Item i's factor vector h_i (a view). */
  override itemVector(i: number): Float64Array {
    const k = this.params.nFactors as number;
    return this.qi.subarray(i * k, (i + 1) * k);
  }

  /** x̂_uj = b_j + ⟨w_u, h_j⟩ for every item j. */
  scoreUser(u: number, out: Float64Array): void {
    const k = this.params.nFactors as number;
    const { pu, qi, bi } = this;
    const r = u * k;
    for (let j = 0; j < out.length; j++) {
      let y = bi[j];
      const c = j * k;
      for (let a = 0; a < k; a++) y += pu[r + a] * qi[c + a];
      out[j] = y;
    }
  }
}

/** True when the ascending `arr[from … to − 1]` holds `v` (binary search). */
function contains(arr: Int32Array, from: number, to: number, v: number): boolean {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = arr[mid];
    if (m === v) return true;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
