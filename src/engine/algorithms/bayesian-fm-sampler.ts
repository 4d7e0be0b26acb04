/**
 * The Gibbs sampler of a Bayesian factorization machine over relation blocks.
 *
 * Model (Rendle, "Factorization machines", ICDM 2010, equation 1): for a case x,
 * `ŷ(x) = w0 + Σ_j w_j x_j + Σ_{j<j'} ⟨v_j, v_j'⟩ x_j x_j'`, with k factors per feature.
 * Priors and sampler as libFM's MCMC (Rendle, "Factorization machines with libFM", ACM TIST 3(3),
 * 2012, section 4.3 and algorithm 3; Freudenthaler, Schmidt-Thieme, Rendle, "Bayesian
 * factorization machines", NIPS workshop 2011):
 * `y | x ~ N(ŷ(x), 1/α)`, `w_j ~ N(μ_w^g, 1/λ_w^g)`, `v_jf ~ N(μ_{v,f}^g, 1/λ_{v,f}^g)` for the
 * feature's group g (a block), `λ ~ Gamma(α_λ/2, β_λ/2)`, `μ | λ ~ N(μ0, 1/(γ0 λ))`,
 * `α ~ Gamma(α0/2, β0/2)` with α_λ = β_λ = α0 = β0 = γ0 = 1, μ0 = 0; w0 has a flat prior. Every
 * parameter θ enters ŷ linearly, `ŷ = g_θ + θ h_θ`, so its conditional posterior is normal with
 * precision `λ_θ + α Σ h²` and mean `(α Σ h (e + θ h) + μ_θ λ_θ) / precision`, e = y − ŷ.
 *
 * Relation blocks (Rendle, "Scaling factorization machines to relational data", VLDB 2013): each
 * case is a rating n with one entity per *mode* (the user, the item, the time bin); an entity
 * carries a sparse feature row (its one-hot id, the items it rated, its attributes…). For factor
 * f and mode m, with c_n the sum over the other modes of their entities' `P_{e,f} = Σ_j v_jf x_ej`,
 * `h_n = x_ej (P_{e,f} − v_jf x_ej + c_n)`, so Σ h² and Σ h e of feature j need only, per entity e,
 * `N_e, Σ c_n, Σ c_n², Σ e_n, Σ c_n e_n` over its ratings: one O(ratings) pass builds them, each
 * feature update costs O(its entities), and one O(ratings) pass refreshes the residuals
 * (`Δŷ_n = ΔP_e c_n + ΔD_e`, `D_e = ½(P_e² − Σ_j v_jf² x_ej²)`). A sweep is
 * O(k × (modes × ratings + non-zeros of the rows)): the user's rated items cost O(ratings), not
 * O(ratings × row length).
 *
 * Storage: typed arrays only, factor-major (`v[f·nFeatures + j]`, `P[f·nEntities + e]`).
 */
import type { RandomState } from '../random';

/** One mode of the design: an entity per rating and a sparse feature row per entity. */
export interface FMMode {
  /** Number of entities (e.g. users). */
  nEntities: number;
  /** Entity of each rating, length nRatings. */
  entityOf: Int32Array;
  /** Number of features of this mode. */
  nFeatures: number;
  /** Entity rows: features of entity e at rowOffsets[e] … rowOffsets[e+1]−1. */
  rowOffsets: Int32Array;
  rowFeatures: Int32Array;
  rowValues: Float64Array;
  /** Group (prior block) of each feature, an index < nGroups. */
  group: Int32Array;
}

/** The sampler's input. */
export interface FMDesign {
  /** Ratings (targets), length n. */
  y: Float64Array;
  modes: FMMode[];
  /** Number of prior groups. */
  nGroups: number;
  /** Number of factors k ≥ 0. */
  nFactors: number;
  /** Standard deviation of the initial factors (libFM's init_stdev). */
  initStd: number;
}

/** The sampler's state after a sweep (arrays are live: copy what must be kept). */
export interface FMState {
  w0: number;
  /** Per mode: linear weights (nFeatures) and factors (k × nFeatures, factor-major). */
  w: Float64Array[];
  v: Float64Array[];
  /** Per mode: entity sums B_e = Σ_j w_j x_ej and P (k × nEntities, factor-major). */
  B: Float64Array[];
  P: Float64Array[];
  /** Per mode: `Q2_ef = Σ_j v_jf² x_ej²` (k × nEntities, factor-major). */
  Q2: Float64Array[];
  /** Noise precision α. */
  alpha: number;
  /** Residuals y − ŷ of the training ratings. */
  e: Float64Array;
}

/**
 * Gamma(shape, rate) draw (Marsaglia & Tsang, ACM TOMS 26(3), 2000; shape < 1 boosted by U^{1/shape}).
 */
export function gammaDraw(rng: RandomState, shape: number, rate: number): number {
  if (shape < 1) return gammaDraw(rng, shape + 1, rate) * Math.pow(rng.random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.gauss();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.random();
    if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
}

/** Column (feature → entities) view of a mode's rows. */
interface Columns {
  offsets: Int32Array;
  entities: Int32Array;
  values: Float64Array;
}

function columnsOf(m: FMMode): Columns {
  const nnz = m.rowFeatures.length;
  const offsets = new Int32Array(m.nFeatures + 1);
  for (let p = 0; p < nnz; p++) offsets[m.rowFeatures[p] + 1]++;
  for (let j = 0; j < m.nFeatures; j++) offsets[j + 1] += offsets[j];
  const cursor = offsets.slice(0, m.nFeatures);
  const entities = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let e = 0; e < m.nEntities; e++) {
    for (let p = m.rowOffsets[e]; p < m.rowOffsets[e + 1]; p++) {
      const q = cursor[m.rowFeatures[p]]++;
      entities[q] = e;
      values[q] = m.rowValues[p];
    }
  }
  return { offsets, entities, values };
}

/**
 * Runs `nSweeps` Gibbs sweeps and calls `onSweep(s, state)` after each (s from 0).
 * Deterministic for a given `rng` state. @returns the final state.
 */
export function runGibbs(
  design: FMDesign,
  rng: RandomState,
  nSweeps: number,
  onSweep: (s: number, state: FMState) => void,
): FMState {
  const { y, modes, nGroups } = design;
  const k = design.nFactors;
  const n = y.length;
  const M = modes.length;
  const cols = modes.map(columnsOf);
  const counts = modes.map((m) => {
    const c = new Float64Array(m.nEntities);
    for (let r = 0; r < n; r++) c[m.entityOf[r]]++;
    return c;
  });
  const groupSize = new Float64Array(nGroups);
  for (const m of modes) for (let j = 0; j < m.nFeatures; j++) groupSize[m.group[j]]++;

  // Parameters.
  let sumY = 0;
  for (let r = 0; r < n; r++) sumY += y[r];
  const st: FMState = {
    w0: sumY / n,
    w: modes.map((m) => new Float64Array(m.nFeatures)),
    v: modes.map((m) => {
      const a = new Float64Array(k * m.nFeatures);
      for (let q = 0; q < a.length; q++) a[q] = rng.normal(0, design.initStd);
      return a;
    }),
    B: modes.map((m) => new Float64Array(m.nEntities)),
    P: modes.map((m) => new Float64Array(k * m.nEntities)),
    Q2: modes.map((m) => new Float64Array(k * m.nEntities)),
    alpha: 1,
    e: new Float64Array(n),
  };
  const muW = new Float64Array(nGroups);
  const lamW = new Float64Array(nGroups).fill(1);
  const muV = new Float64Array(nGroups * k);
  const lamV = new Float64Array(nGroups * k).fill(1);

  // Scratch.
  const maxEnt = Math.max(...modes.map((m) => m.nEntities));
  const c = new Float64Array(n);
  const S1 = new Float64Array(maxEnt);
  const S2 = new Float64Array(maxEnt);
  const E = new Float64Array(maxEnt);
  const CE = new Float64Array(maxEnt);
  const Pold = new Float64Array(maxEnt);
  const Q2old = new Float64Array(maxEnt);
  const dB = new Float64Array(maxEnt);

  /** Recomputes B, P and the residuals from the parameters (removes rounding drift). */
  const recompute = () => {
    const yhat = new Float64Array(n).fill(st.w0);
    for (let mi = 0; mi < M; mi++) {
      const m = modes[mi];
      const B = st.B[mi];
      const w = st.w[mi];
      for (let e = 0; e < m.nEntities; e++) {
        let b = 0;
        for (let p = m.rowOffsets[e]; p < m.rowOffsets[e + 1]; p++)
          b += w[m.rowFeatures[p]] * m.rowValues[p];
        B[e] = b;
      }
      for (let r = 0; r < n; r++) yhat[r] += B[m.entityOf[r]];
    }
    for (let f = 0; f < k; f++) {
      c.fill(0);
      for (let mi = 0; mi < M; mi++) {
        const m = modes[mi];
        const v = st.v[mi];
        const P = st.P[mi];
        const Q2 = st.Q2[mi];
        const vo = f * m.nFeatures;
        const po = f * m.nEntities;
        for (let e = 0; e < m.nEntities; e++) {
          let s = 0;
          let q2 = 0;
          for (let p = m.rowOffsets[e]; p < m.rowOffsets[e + 1]; p++) {
            const t = v[vo + m.rowFeatures[p]] * m.rowValues[p];
            s += t;
            q2 += t * t;
          }
          P[po + e] = s;
          Q2[po + e] = q2;
        }
        const ent = m.entityOf;
        for (let r = 0; r < n; r++) {
          const e = ent[r];
          yhat[r] += P[po + e] * c[r] + 0.5 * (P[po + e] * P[po + e] - Q2[po + e]);
          c[r] += P[po + e];
        }
      }
    }
    for (let r = 0; r < n; r++) st.e[r] = y[r] - yhat[r];
  };

  /** Samples (μ, λ) of one group from the values `vals` (conjugate Normal-Gamma). */
  const hyper = (sum: number, sumSq: number, count: number, mu: number): [number, number] => {
    // λ | μ, values: shape (α_λ + count + 1)/2, rate (β_λ + Σ(x−μ)² + γ0 (μ − μ0)²)/2.
    const ss = sumSq - 2 * mu * sum + count * mu * mu;
    const lam = gammaDraw(rng, (1 + count + 1) / 2, (1 + ss + mu * mu) / 2);
    // μ | λ, values: N((Σx + γ0 μ0)/(count + γ0), 1/((count + γ0) λ)).
    const muNew = sum / (count + 1) + rng.gauss() / Math.sqrt((count + 1) * lam);
    return [muNew, lam];
  };

  recompute();
  for (let s = 0; s < nSweeps; s++) {
    // Noise precision α.
    let sse = 0;
    for (let r = 0; r < n; r++) sse += st.e[r] * st.e[r];
    st.alpha = gammaDraw(rng, (1 + n) / 2, (1 + sse) / 2);
    const alpha = st.alpha;

    // Hyper-parameters of the linear weights, by group.
    {
      const sum = new Float64Array(nGroups);
      const sq = new Float64Array(nGroups);
      for (let mi = 0; mi < M; mi++) {
        const w = st.w[mi];
        const g = modes[mi].group;
        for (let j = 0; j < w.length; j++) {
          sum[g[j]] += w[j];
          sq[g[j]] += w[j] * w[j];
        }
      }
      for (let g = 0; g < nGroups; g++) {
        if (groupSize[g] === 0) continue;
        [muW[g], lamW[g]] = hyper(sum[g], sq[g], groupSize[g], muW[g]);
      }
    }

    // w0 (flat prior).
    {
      let se = 0;
      for (let r = 0; r < n; r++) se += st.e[r];
      const w0new = st.w0 + se / n + rng.gauss() / Math.sqrt(alpha * n);
      const d = w0new - st.w0;
      for (let r = 0; r < n; r++) st.e[r] -= d;
      st.w0 = w0new;
    }

    // Linear weights, mode by mode.
    for (let mi = 0; mi < M; mi++) {
      const m = modes[mi];
      const col = cols[mi];
      const N = counts[mi];
      const w = st.w[mi];
      const ent = m.entityOf;
      E.fill(0, 0, m.nEntities);
      dB.fill(0, 0, m.nEntities);
      for (let r = 0; r < n; r++) E[ent[r]] += st.e[r];
      for (let j = 0; j < m.nFeatures; j++) {
        const a = col.offsets[j];
        const b = col.offsets[j + 1];
        if (a === b) continue;
        let sh2 = 0;
        let she = 0;
        for (let p = a; p < b; p++) {
          const en = col.entities[p];
          const x = col.values[p];
          sh2 += x * x * N[en];
          she += x * E[en];
        }
        const g = m.group[j];
        const prec = lamW[g] + alpha * sh2;
        const mean = (alpha * (she + w[j] * sh2) + muW[g] * lamW[g]) / prec;
        const wNew = mean + rng.gauss() / Math.sqrt(prec);
        const d = wNew - w[j];
        w[j] = wNew;
        for (let p = a; p < b; p++) {
          const en = col.entities[p];
          const x = col.values[p];
          E[en] -= d * x * N[en];
          dB[en] += d * x;
        }
      }
      const B = st.B[mi];
      for (let en = 0; en < m.nEntities; en++) B[en] += dB[en];
      for (let r = 0; r < n; r++) st.e[r] -= dB[ent[r]];
    }

    // Factors, factor by factor, mode by mode.
    for (let f = 0; f < k; f++) {
      // Hyper-parameters of factor f, by group.
      {
        const sum = new Float64Array(nGroups);
        const sq = new Float64Array(nGroups);
        for (let mi = 0; mi < M; mi++) {
          const v = st.v[mi];
          const g = modes[mi].group;
          const nF = modes[mi].nFeatures;
          for (let j = 0; j < nF; j++) {
            const x = v[f * nF + j];
            sum[g[j]] += x;
            sq[g[j]] += x * x;
          }
        }
        for (let g = 0; g < nGroups; g++) {
          if (groupSize[g] === 0) continue;
          [muV[g * k + f], lamV[g * k + f]] = hyper(sum[g], sq[g], groupSize[g], muV[g * k + f]);
        }
      }
      for (let mi = 0; mi < M; mi++) {
        const m = modes[mi];
        const col = cols[mi];
        const N = counts[mi];
        const nE = m.nEntities;
        const nF = m.nFeatures;
        const v = st.v[mi];
        const P = st.P[mi];
        const Q2 = st.Q2[mi];
        const po = f * nE;
        const vo = f * nF;
        const ent = m.entityOf;
        // c_n: the other modes' P at f.
        c.fill(0);
        for (let mj = 0; mj < M; mj++) {
          if (mj === mi) continue;
          const Po = st.P[mj];
          const oo = f * modes[mj].nEntities;
          const ento = modes[mj].entityOf;
          for (let r = 0; r < n; r++) c[r] += Po[oo + ento[r]];
        }
        S1.fill(0, 0, nE);
        S2.fill(0, 0, nE);
        E.fill(0, 0, nE);
        CE.fill(0, 0, nE);
        const e = st.e;
        for (let r = 0; r < n; r++) {
          const en = ent[r];
          const cn = c[r];
          const er = e[r];
          S1[en] += cn;
          S2[en] += cn * cn;
          E[en] += er;
          CE[en] += cn * er;
        }
        for (let en = 0; en < nE; en++) {
          Pold[en] = P[po + en];
          Q2old[en] = Q2[po + en];
        }
        for (let j = 0; j < nF; j++) {
          const a0 = col.offsets[j];
          const b0 = col.offsets[j + 1];
          if (a0 === b0) continue;
          const vj = v[vo + j];
          let sh2 = 0;
          let she = 0;
          for (let p = a0; p < b0; p++) {
            const en = col.entities[p];
            const x = col.values[p];
            const a = P[po + en] - vj * x;
            sh2 += x * x * (N[en] * a * a + 2 * a * S1[en] + S2[en]);
            she += x * (a * E[en] + CE[en]);
          }
          const g = m.group[j] * k + f;
          const prec = lamV[g] + alpha * sh2;
          const mean = (alpha * (she + vj * sh2) + muV[g] * lamV[g]) / prec;
          const vNew = mean + rng.gauss() / Math.sqrt(prec);
          const d = vNew - vj;
          const dq = vNew * vNew - vj * vj;
          v[vo + j] = vNew;
          for (let p = a0; p < b0; p++) {
            const en = col.entities[p];
            const x = col.values[p];
            const a = P[po + en] - vj * x;
            E[en] -= d * x * (N[en] * a + S1[en]);
            CE[en] -= d * x * (a * S1[en] + S2[en]);
            P[po + en] += d * x;
            Q2[po + en] += dq * x * x;
          }
        }
        // Residuals: Δŷ_n = ΔP_e c_n + ΔD_e. S1 and S2 are reused for ΔP and ΔD.
        for (let en = 0; en < nE; en++) {
          const q2 = Q2[po + en];
          const pn = P[po + en];
          const pl = Pold[en];
          S1[en] = pn - pl;
          S2[en] = 0.5 * (pn * pn - q2 - (pl * pl - Q2old[en]));
        }
        for (let r = 0; r < n; r++) {
          const en = ent[r];
          e[r] -= S1[en] * c[r] + S2[en];
        }
      }
    }
    if ((s + 1) % 10 === 0) recompute();
    onSweep(s, st);
  }
  return st;
}
