/**
 * BayesianFM: a factorization machine fitted by Gibbs sampling (MCMC), with feature blocks that
 * turn the same model into Bayesian MF, SVD++, "flipped" SVD++, timeSVD-like and side-information
 * models.
 *
 * Sources: S. Rendle, "Factorization machines with libFM", ACM TIST 3(3), 2012 (model, priors,
 * MCMC); S. Rendle, "Scaling factorization machines to relational data", VLDB 2013 (relation
 * blocks); S. Rendle, L. Zhang, Y. Koren, "On the difficulty of evaluating baselines", 2019
 * (the blocks of "Bayesian timeSVD++ flipped": user, item, the user's rated items, the item's
 * raters, time). The sampler is in bayesian-fm-sampler.ts.
 *
 * Each rating (u, i, t) is a case whose features are, by block (each switchable):
 * - `useUser`: u one-hot; `useImplicit`: the items u rated, each 1/√|N(u)| (SVD++'s implicit
 *   feedback); `useUserAttributes`: u's attributes (fm-features.ts encoding of the trainset's
 *   `sideInfo.users`);
 * - `useItem`: i one-hot; `useFlipped`: the users who rated i, each 1/√|N(i)|;
 *   `useItemAttributes`: i's attributes (`sideInfo.items`);
 * - `useTime`: the rating's time bin of `timeBinDays` days, one-hot (needs timestamps).
 * After `burnIn` sweeps, `nSamples` more are kept and predictions are averaged over them: the
 * parts of ŷ that depend on the user alone, the item alone, or neither are averaged over every
 * kept sample; the interaction `Σ_s ⟨P_u^s, Q_i^s⟩ / S` over `nStoredSamples` of them, evenly
 * spaced, whose user and item factors the model keeps (float32). A prediction is made at the
 * newest time bin (serving answers "now").
 *
 * An unknown user (or item) is answered from the blocks it has — its attributes when the trainset's
 * side information lists it — as "an average user with these attributes": its attributes' part
 * and factors plus the mean over known users of what theirs hold beyond their attributes' (the id
 * and implicit blocks, never empty in training); with no attributes, the mean known user. The base
 * class flags it `wasImpossible`. Estimates are clipped to the rating scale by the base class.
 *
 * Defaults (k = 8, 50 burn-in + 400 kept sweeps, 100 stored) were chosen on a validation split
 * carved from ml-100k's u1.base (10 %, `stableSplit` seed 0), never on u1.test; `useTime` is off
 * because predicting at the newest bin hurts on random splits. Figures: bench/bayesian-fm.bench.ts.
 */
import { AlgoBase, requireArray, type AlgoState } from './base';
import type { ParamSpecs } from '../params';
import type { Trainset } from '../trainset';
import { getRng } from '../random';
import { emptyEncoding, type AttributeFeatures } from './fm-features';
import { runGibbs, type FMMode, type FMState } from './bayesian-fm-sampler';
import { buildFMDesign, N_GROUPS } from './bayesian-fm-design';

/** Attribute features of one side, as the model keeps them for unknown ids. */
interface SideAttributes {
  enc: AttributeFeatures;
  index: Map<string, number>;
  /** Per stored sample s: w of each attribute feature (S × nAttr). */
  w: Float64Array;
  /** Per stored sample s: v of each attribute feature, [s][j][f] (S × nAttr × k). */
  v: Float64Array;
  /** Mean over known ids of their part, and of their factors per stored sample (S × k). */
  meanPart: number;
  meanFactors: Float64Array;
  /**
   * Mean over known ids of what their part and factors hold beyond their attributes' (the id and
   * implicit/flipped blocks): added to an unknown id's attribute part (S × k for the factors).
   */
  restPart: number;
  restFactors: Float64Array;
}

/**
 * Bayesian factorization machine (see the module comment). Parameters: `BayesianFM.paramSpecs`.
 *
 * @example
 * const data = await Dataset.loadBuiltinWithSideInfo('ml-100k');
 * const algo = new BayesianFM({ randomState: 1 }).fit(data.buildFullTrainset());
 * algo.predict('196', '302').est;
 */
export class BayesianFM extends AlgoBase {
  static readonly algorithmName = 'BayesianFM';
  static readonly description =
    'Bayesian factorization machine fitted by Gibbs sampling, with implicit, flipped, time and side-information blocks (libFM MCMC).';
  static readonly paramSpecs: ParamSpecs = {
    nFactors: { type: 'int', default: 8, min: 0, max: 512, doc: 'Number of latent factors k.' },
    nSamples: {
      type: 'int',
      default: 400,
      min: 1,
      max: 100000,
      doc: 'Number of Gibbs sweeps kept after the burn-in; predictions average over them.',
    },
    burnIn: {
      type: 'int',
      default: 50,
      min: 0,
      max: 100000,
      doc: 'Number of Gibbs sweeps discarded before the kept ones.',
    },
    nStoredSamples: {
      type: 'int',
      default: 100,
      min: 1,
      max: 1000,
      doc: 'Number of kept samples (evenly spaced) whose user and item factors the model stores for the user-item interaction; ≤ nSamples.',
    },
    initStd: {
      type: 'float',
      default: 0.1,
      min: 0,
      doc: 'Standard deviation of the normal distribution the factors are initialised from.',
    },
    useUser: { type: 'bool', default: true, doc: 'Block: the user, one-hot.' },
    useItem: { type: 'bool', default: true, doc: 'Block: the item, one-hot.' },
    useImplicit: {
      type: 'bool',
      default: true,
      doc: "Block: the items the user rated, each 1/√count (SVD++'s implicit feedback).",
    },
    useFlipped: {
      type: 'bool',
      default: true,
      doc: 'Block: the users who rated the item, each 1/√count ("flipped" SVD++).',
    },
    useTime: {
      type: 'bool',
      default: false,
      doc: 'Block: the time bin of the rating (needs timestamps; predictions use the newest bin).',
    },
    timeBinDays: {
      type: 'int',
      default: 30,
      min: 1,
      max: 36500,
      doc: 'Width of a time bin, in days.',
    },
    useUserAttributes: {
      type: 'bool',
      default: true,
      doc: "Block: the user's attributes from the trainset's side information (age group, gender, occupation, zip area…).",
    },
    useItemAttributes: {
      type: 'bool',
      default: true,
      doc: "Block: the item's attributes from the trainset's side information (genres, decade…).",
    },
    randomState: {
      type: 'seed',
      default: null,
      doc: 'Seed of the sampler (whole number in [0, 2^32 − 1]); the same seed and data give the same model bit for bit. null draws a seed from the operating system.',
    },
  };

  /** Mean over kept samples of the part of ŷ that depends on neither user nor item. */
  private constTerm = 0;
  /** Mean over kept samples of each known user's own part (length nUsers). */
  private userScalar = new Float64Array(0);
  /** Mean over kept samples of each known item's own part (length nItems). */
  private itemScalar = new Float64Array(0);
  /** Known users' factors of the stored samples, [u][s][f] (nUsers × S × k). */
  private userFactors = new Float32Array(0);
  /** Known items' factors of the stored samples, [i][s][f] (nItems × S × k). */
  private itemFactors = new Float32Array(0);
  /** Time-bin factors at the newest bin per stored sample, [s][f] (zeros without time). */
  private timeFactors = new Float64Array(0);
  private userAttr: SideAttributes = this.noAttributes();
  private itemAttr: SideAttributes = this.noAttributes();
  /** Number of stored samples S. */
  private nStored = 0;
  /** Noise precision α of each kept sample (fit only; not saved). */
  alphaTrace: number[] = [];

  private noAttributes(): SideAttributes {
    return {
      enc: emptyEncoding(),
      index: new Map(),
      w: new Float64Array(0),
      v: new Float64Array(0),
      meanPart: 0,
      meanFactors: new Float64Array(0),
      restPart: 0,
      restFactors: new Float64Array(0),
    };
  }

  /** Number of latent factors k. */
  get nFactors(): number {
    return this.params.nFactors as number;
  }

  /**
   * Runs burnIn + nSamples Gibbs sweeps on `trainset` (and its `sideInfo`, if any).
   * Time O((burnIn + nSamples) × nFactors × (ratings + row non-zeros)); memory O(ratings) plus
   * (nUsers + nItems) × nStoredSamples × nFactors float32 kept factors.
   * @returns this
   */
  override fit(trainset: Trainset): this {
    super.fit(trainset);
    const p = this.params;
    const k = this.nFactors;
    const nSamples = p.nSamples as number;
    const burnIn = p.burnIn as number;
    const S = Math.min(p.nStoredSamples as number, nSamples);
    const { nUsers, nItems } = trainset;
    const {
      modes,
      newestBin,
      userAttributes: uEnc,
      itemAttributes: iEnc,
    } = buildFMDesign(trainset, p);
    const [userMode, itemMode] = modes;
    const uIndex = new Map(uEnc.ids.map((id, r) => [id, r]));
    const iIndex = new Map(iEnc.ids.map((id, r) => [id, r]));

    // Which kept samples are stored: S of them, evenly spaced, the last one included.
    const stored = new Int32Array(nSamples).fill(-1);
    for (let s = 0; s < S; s++) stored[Math.floor(((s + 1) * nSamples) / S) - 1] = s;

    const userScalar = new Float64Array(nUsers);
    const itemScalar = new Float64Array(nItems);
    const userFactors = new Float32Array(nUsers * S * k);
    const itemFactors = new Float32Array(nItems * S * k);
    const timeFactors = new Float64Array(S * k);
    const uAttrBase = userMode.nFeatures - uEnc.featureNames.length;
    const iAttrBase = itemMode.nFeatures - iEnc.featureNames.length;
    const uAttrW = new Float64Array(S * uEnc.featureNames.length);
    const uAttrV = new Float64Array(S * uEnc.featureNames.length * k);
    const iAttrW = new Float64Array(S * iEnc.featureNames.length);
    const iAttrV = new Float64Array(S * iEnc.featureNames.length * k);
    let constSum = 0;
    const scalarU = new Float64Array(nUsers);
    const scalarI = new Float64Array(nItems);
    this.alphaTrace = [];

    const onSweep = (sweep: number, st: FMState) => {
      const q = sweep - burnIn;
      if (q < 0) return;
      this.alphaTrace.push(st.alpha);
      const hasTime = modes.length === 3;
      // Entity parts: B_e + Σ_f ½(P_ef² − Σ_j v_jf² x_ej²) (+ Σ_f P_ef T_f with time).
      const T = hasTime ? st.P[2] : null;
      const nBins = hasTime ? modes[2].nEntities : 0;
      this.entityParts(userMode, st.w[0], st.P[0], st.Q2[0], k, T, nBins, newestBin, scalarU);
      this.entityParts(itemMode, st.w[1], st.P[1], st.Q2[1], k, T, nBins, newestBin, scalarI);
      let cst = st.w0;
      if (hasTime) {
        const tm = modes[2];
        const part = new Float64Array(tm.nEntities);
        this.entityParts(tm, st.w[2], st.P[2], st.Q2[2], k, null, 0, -1, part);
        cst += part[newestBin];
      }
      constSum += cst;
      for (let u = 0; u < nUsers; u++) userScalar[u] += scalarU[u];
      for (let i = 0; i < nItems; i++) itemScalar[i] += scalarI[i];
      const s = stored[q];
      if (s < 0) return;
      copyFactors(st.P[0], nUsers, k, S, s, userFactors);
      copyFactors(st.P[1], nItems, k, S, s, itemFactors);
      if (T) for (let f = 0; f < k; f++) timeFactors[s * k + f] = T[f * nBins + newestBin];
      copyAttr(
        st.w[0],
        st.v[0],
        userMode.nFeatures,
        uAttrBase,
        uEnc.featureNames.length,
        k,
        s,
        uAttrW,
        uAttrV,
      );
      copyAttr(
        st.w[1],
        st.v[1],
        itemMode.nFeatures,
        iAttrBase,
        iEnc.featureNames.length,
        k,
        s,
        iAttrW,
        iAttrV,
      );
    };

    runGibbs(
      {
        y: trainset.urRatings,
        modes,
        nGroups: N_GROUPS,
        nFactors: k,
        initStd: p.initStd as number,
      },
      getRng(p.randomState as number | null),
      burnIn + nSamples,
      onSweep,
    );
    for (let u = 0; u < nUsers; u++) userScalar[u] /= nSamples;
    for (let i = 0; i < nItems; i++) itemScalar[i] /= nSamples;
    this.constTerm = constSum / nSamples;
    this.userScalar = userScalar;
    this.itemScalar = itemScalar;
    this.userFactors = userFactors;
    this.itemFactors = itemFactors;
    this.timeFactors = timeFactors;
    this.nStored = S;
    this.userAttr = this.withMeans(
      { ...this.noAttributes(), enc: uEnc, index: uIndex, w: uAttrW, v: uAttrV },
      userScalar,
      userFactors,
      (u) => trainset.toRawUid(u),
    );
    this.itemAttr = this.withMeans(
      { ...this.noAttributes(), enc: iEnc, index: iIndex, w: iAttrW, v: iAttrV },
      itemScalar,
      itemFactors,
      (i) => trainset.toRawIid(i),
    );
    return this;
  }

  /**
   * `a` with the population means an unknown id is answered with: over the known ids e, the mean
   * of their part and factors (`meanPart`, `meanFactors`), and the mean of what these hold beyond
   * their attributes' part and factors (`restPart`, `restFactors`). So an unknown user with
   * attributes is "an average user with these attributes": without it, the terms of the id and
   * implicit blocks — never empty in training — would be missing from its estimate.
   */
  private withMeans(
    a: SideAttributes,
    scalar: Float64Array,
    factors: Float32Array,
    rawId: (e: number) => string,
  ): SideAttributes {
    const L = this.nStored * this.nFactors;
    const n = scalar.length;
    const meanFactors = new Float64Array(L);
    const restFactors = new Float64Array(L);
    let meanPart = 0;
    let restPart = 0;
    for (let e = 0; e < n; e++) {
      const [part, own] = this.coldSide(a, rawId(e));
      meanPart += scalar[e];
      restPart += scalar[e] - part;
      for (let q = 0; q < L; q++) {
        meanFactors[q] += factors[e * L + q];
        restFactors[q] += factors[e * L + q] - own[q];
      }
    }
    for (let q = 0; q < L; q++) {
      meanFactors[q] /= n;
      restFactors[q] /= n;
    }
    return { ...a, meanPart: meanPart / n, meanFactors, restPart: restPart / n, restFactors };
  }

  /** An unknown id's part and factors: see `withMeans`. */
  private unknownSide(a: SideAttributes, rawId: string | undefined): [number, Float64Array] {
    if (rawId === undefined || !a.index.has(rawId)) return [a.meanPart, a.meanFactors];
    const [part, factors] = this.coldSide(a, rawId);
    for (let q = 0; q < factors.length; q++) factors[q] += a.restFactors[q];
    return [part + a.restPart, factors];
  }

  /**
   * `out[e] = B_e + Σ_f ½(P_ef² − Σ_j v_jf² x_ej²) + Σ_f P_ef T_f` (T = the time mode's P at
   * `bin`, when given).
   */
  private entityParts(
    m: FMMode,
    w: Float64Array,
    P: Float64Array,
    Q2: Float64Array,
    k: number,
    T: Float64Array | null,
    nBins: number,
    bin: number,
    out: Float64Array,
  ): void {
    const nE = m.nEntities;
    for (let e = 0; e < nE; e++) {
      let s = 0;
      for (let p = m.rowOffsets[e]; p < m.rowOffsets[e + 1]; p++) {
        s += w[m.rowFeatures[p]] * m.rowValues[p];
      }
      out[e] = s;
    }
    for (let f = 0; f < k; f++) {
      const tf = T ? T[f * nBins + bin] : 0;
      const o = f * nE;
      for (let e = 0; e < nE; e++) {
        const pe = P[o + e];
        out[e] += 0.5 * (pe * pe - Q2[o + e]) + pe * tf;
      }
    }
  }

  /**
   * For an id the trainset does not know: its part and its factors per stored sample from its
   * attributes (zeros when it has none), averaged as for known ids.
   */
  private coldSide(a: SideAttributes, rawId: string | undefined): [number, Float64Array] {
    const k = this.nFactors;
    const S = this.nStored;
    const factors = new Float64Array(S * k);
    const r = rawId === undefined ? undefined : a.index.get(rawId);
    if (r === undefined) return [0, factors];
    const nA = a.enc.featureNames.length;
    let part = 0;
    for (let s = 0; s < S; s++) {
      let lin = 0;
      let q2 = 0;
      for (let q = a.enc.offsets[r]; q < a.enc.offsets[r + 1]; q++) {
        const j = a.enc.features[q];
        const x = a.enc.values[q];
        lin += a.w[s * nA + j] * x;
        for (let f = 0; f < k; f++) {
          const t = a.v[(s * nA + j) * k + f] * x;
          factors[s * k + f] += t;
          q2 += t * t;
        }
      }
      let pp = 0;
      let pt = 0;
      for (let f = 0; f < k; f++) {
        const pf = factors[s * k + f];
        pp += pf * pf;
        pt += pf * this.timeFactors[s * k + f];
      }
      part += lin + 0.5 * (pp - q2) + pt;
    }
    return [S > 0 ? part / S : 0, factors];
  }

  /**
   * `const + user part + item part + Σ_s ⟨P_u^s, Q_i^s⟩ / S` (see the module comment); an
   * unknown user or item (−1) is taken from its attributes found by raw id plus the known ones'
   * mean rest, else the known ones' mean (`withMeans`).
   */
  estimate(u: number, i: number, ruid?: string, riid?: string): number {
    const ts = this.trainset;
    const k = this.nFactors;
    const S = this.nStored;
    const L = S * k;
    let est = this.constTerm;
    let uf: Float32Array | Float64Array;
    let uo = 0;
    if (ts.knowsUser(u)) {
      est += this.userScalar[u];
      uf = this.userFactors;
      uo = u * L;
    } else {
      const [part, f] = this.unknownSide(this.userAttr, ruid);
      est += part;
      uf = f;
    }
    let itf: Float32Array | Float64Array;
    let io = 0;
    if (ts.knowsItem(i)) {
      est += this.itemScalar[i];
      itf = this.itemFactors;
      io = i * L;
    } else {
      const [part, f] = this.unknownSide(this.itemAttr, riid);
      est += part;
      itf = f;
    }
    let dot = 0;
    for (let q = 0; q < L; q++) dot += uf[uo + q] * itf[io + q];
    return S > 0 ? est + dot / S : est;
  }

  /** Everything estimate needs: parts, stored factors, attribute tables and their weights. */
  override exportState(): AlgoState {
    const { userAttr: ua, itemAttr: ia } = this;
    return {
      values: {
        constTerm: this.constTerm,
        nStored: this.nStored,
        userAttributeIds: ua.enc.ids,
        userFeatureNames: ua.enc.featureNames,
        itemAttributeIds: ia.enc.ids,
        itemFeatureNames: ia.enc.featureNames,
        userMeanPart: ua.meanPart,
        userRestPart: ua.restPart,
        itemMeanPart: ia.meanPart,
        itemRestPart: ia.restPart,
      },
      arrays: {
        userScalar: this.userScalar,
        itemScalar: this.itemScalar,
        userFactors: this.userFactors,
        itemFactors: this.itemFactors,
        timeFactors: this.timeFactors,
        userAttrOffsets: ua.enc.offsets,
        userAttrFeatures: ua.enc.features,
        userAttrValues: ua.enc.values,
        userAttrW: ua.w,
        userAttrV: ua.v,
        itemAttrOffsets: ia.enc.offsets,
        itemAttrFeatures: ia.enc.features,
        itemAttrValues: ia.enc.values,
        itemAttrW: ia.w,
        itemAttrV: ia.v,
        userMeanFactors: ua.meanFactors,
        userRestFactors: ua.restFactors,
        itemMeanFactors: ia.meanFactors,
        itemRestFactors: ia.restFactors,
      },
    };
  }

  /** Restores what `exportState` saved. @throws Error when a value or array is missing or of the wrong size. */
  override importState(state: AlgoState): void {
    const { nUsers, nItems } = this.trainset;
    const k = this.nFactors;
    const v = state.values;
    const S = v.nStored;
    if (typeof S !== 'number' || !Number.isInteger(S) || S < 0 || typeof v.constTerm !== 'number') {
      throw new Error('model state: BayesianFM needs the numbers nStored and constTerm');
    }
    this.nStored = S;
    this.constTerm = v.constTerm;
    this.userScalar = requireArray(state, 'userScalar', nUsers, Float64Array);
    this.itemScalar = requireArray(state, 'itemScalar', nItems, Float64Array);
    this.userFactors = requireArray(state, 'userFactors', nUsers * S * k, Float32Array);
    this.itemFactors = requireArray(state, 'itemFactors', nItems * S * k, Float32Array);
    this.timeFactors = requireArray(state, 'timeFactors', S * k, Float64Array);
    const side = (prefix: 'user' | 'item'): SideAttributes => {
      const ids = v[`${prefix}AttributeIds`];
      const names = v[`${prefix}FeatureNames`];
      if (!isStrings(ids) || !isStrings(names)) {
        throw new Error(
          `model state: BayesianFM needs the string lists ${prefix}AttributeIds and ${prefix}FeatureNames`,
        );
      }
      const offsets = requireArray(state, `${prefix}AttrOffsets`, ids.length + 1, Int32Array);
      const nnz = offsets[ids.length];
      const enc: AttributeFeatures = {
        featureNames: names,
        ids,
        offsets,
        features: requireArray(state, `${prefix}AttrFeatures`, nnz, Int32Array),
        values: requireArray(state, `${prefix}AttrValues`, nnz, Float64Array),
      };
      for (const j of enc.features) {
        if (j < 0 || j >= names.length)
          throw new Error(
            `model state: ${prefix}AttrFeatures holds ${j}, beyond the ${names.length} features`,
          );
      }
      const meanPart = v[`${prefix}MeanPart`];
      const restPart = v[`${prefix}RestPart`];
      if (typeof meanPart !== 'number' || typeof restPart !== 'number') {
        throw new Error(
          `model state: BayesianFM needs the numbers ${prefix}MeanPart and ${prefix}RestPart`,
        );
      }
      return {
        enc,
        index: new Map(ids.map((id, r) => [id, r])),
        w: requireArray(state, `${prefix}AttrW`, S * names.length, Float64Array),
        v: requireArray(state, `${prefix}AttrV`, S * names.length * k, Float64Array),
        meanPart,
        meanFactors: requireArray(state, `${prefix}MeanFactors`, S * k, Float64Array),
        restPart,
        restFactors: requireArray(state, `${prefix}RestFactors`, S * k, Float64Array),
      };
    };
    this.userAttr = side('user');
    this.itemAttr = side('item');
  }
}

function isStrings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === 'string');
}

/** Copies P (k × nEnt, factor-major) into out[e][s][f] (nEnt × S × k) as float32. */
function copyFactors(
  P: Float64Array,
  nEnt: number,
  k: number,
  S: number,
  s: number,
  out: Float32Array,
): void {
  for (let f = 0; f < k; f++) {
    const po = f * nEnt;
    for (let e = 0; e < nEnt; e++) out[(e * S + s) * k + f] = P[po + e];
  }
}

/** Copies the attribute features' w and v (feature-major per sample) of stored sample s. */
function copyAttr(
  w: Float64Array,
  v: Float64Array,
  nF: number,
  base: number,
  nA: number,
  k: number,
  s: number,
  outW: Float64Array,
  outV: Float64Array,
): void {
  for (let j = 0; j < nA; j++) {
    outW[s * nA + j] = w[base + j];
    for (let f = 0; f < k; f++) outV[(s * nA + j) * k + f] = v[f * nF + base + j];
  }
}
