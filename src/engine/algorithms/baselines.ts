/**
 * Baseline estimates: the user and item biases `bu`, `bi` of the model
 * `b_ui = μ + b_u + b_i`, learned by alternating least squares or by stochastic gradient descent.
 *
 * Follows Surprise 1.1.4, surprise/prediction_algorithms/optimize_baselines.pyx (`baseline_als`,
 * `baseline_sgd`) and `AlgoBase.compute_baselines` (algo_base.py), which implement Koren,
 * "Factor in the neighbors: scalable and accurate collaborative filtering" (TKDD 2010), §2.1.
 * The loops below visit users, items and ratings in Surprise's order and evaluate every
 * floating-point expression in Surprise's order, so for the same trainset the biases equal
 * Surprise's to the last bit.
 *
 * Shared by BaselineOnly, KNNBaseline and the `pearson_baseline` similarity (their `bslOptions`).
 */
import type { Trainset } from '../trainset';
import { ParamError, type ParamSpec, type ParamValues } from '../params';

/** How the baselines are learned: `'als'` (alternating least squares) or `'sgd'`. */
export type BaselineMethod = 'als' | 'sgd';

/**
 * Options of the baseline computation (Surprise's `bsl_options`, camelCased).
 *
 * - ALS uses `nEpochs` (default 10), `regU` (default 15), `regI` (default 10).
 * - SGD uses `nEpochs` (default 20), `reg` (default 0.02), `learningRate` (default 0.005).
 */
export interface BaselineOptions {
  /** `'als'` (default) or `'sgd'`. */
  method: BaselineMethod;
  /** Passes over the data; `null` means the method's default (ALS 10, SGD 20). */
  nEpochs: number | null;
  /** ALS: regularisation of the user biases (λ2 in Koren's paper). Default 15. */
  regU: number;
  /** ALS: regularisation of the item biases (λ3 in Koren's paper). Default 10. */
  regI: number;
  /** SGD: regularisation of both biases. Default 0.02. */
  reg: number;
  /** SGD: learning rate of both biases. Default 0.005. */
  learningRate: number;
}

/** The learned biases: `bu[u]` for inner user u (length nUsers), `bi[i]` for inner item i (length nItems). */
export interface Baselines {
  bu: Float64Array;
  bi: Float64Array;
}

/** Surprise's default number of epochs per method. */
export const BASELINE_DEFAULT_EPOCHS: Readonly<Record<BaselineMethod, number>> = {
  als: 10,
  sgd: 20,
};

/**
 * The declaration of the `bslOptions` parameter, for every algorithm that takes one
 * (`static paramSpecs = { bslOptions: BSL_OPTIONS_SPEC, … }`). Resolved values are plain objects;
 * read them with `toBaselineOptions`.
 */
export const BSL_OPTIONS_SPEC: ParamSpec = {
  type: 'object',
  doc: "Options of the baseline estimates (Surprise's bsl_options): method 'als' (nEpochs 10, regU 15, regI 10) or 'sgd' (nEpochs 20, reg 0.02, learningRate 0.005).",
  fields: {
    method: {
      type: 'enum',
      values: ['als', 'sgd'],
      default: 'als',
      doc: "How the baselines are learned: 'als' (alternating least squares) or 'sgd' (stochastic gradient descent).",
    },
    nEpochs: {
      type: 'int',
      default: null,
      nullable: true,
      min: 0,
      doc: 'Passes over the data; null means the default of the method (ALS 10, SGD 20).',
    },
    regU: {
      type: 'float',
      default: 15,
      min: 0,
      doc: 'ALS: regularisation of the user biases.',
    },
    regI: {
      type: 'float',
      default: 10,
      min: 0,
      doc: 'ALS: regularisation of the item biases.',
    },
    reg: { type: 'float', default: 0.02, min: 0, doc: 'SGD: regularisation of the biases.' },
    learningRate: {
      type: 'float',
      default: 0.005,
      min: 0,
      doc: 'SGD: learning rate of the biases.',
    },
  },
};

/**
 * Reads resolved `bslOptions` parameter values (see `BSL_OPTIONS_SPEC`) as `BaselineOptions`,
 * filling in Surprise's defaults for missing fields.
 * @throws ParamError when `method` is neither 'als' nor 'sgd'.
 */
export function toBaselineOptions(values: ParamValues | undefined | null): BaselineOptions {
  const v = values ?? {};
  const method = (v.method ?? 'als') as string;
  if (method !== 'als' && method !== 'sgd') {
    throw new ParamError(
      'bslOptions.method',
      `invalid method '${method}' for baseline computation; expected als or sgd`,
    );
  }
  return {
    method,
    nEpochs: (v.nEpochs as number | null | undefined) ?? null,
    regU: (v.regU as number | undefined) ?? 15,
    regI: (v.regI as number | undefined) ?? 10,
    reg: (v.reg as number | undefined) ?? 0.02,
    learningRate: (v.learningRate as number | undefined) ?? 0.005,
  };
}

/**
 * Learns the baselines of `trainset` (Surprise's `AlgoBase.compute_baselines`).
 *
 * @param bslOptions options, possibly partial (defaults as Surprise's per method).
 * @returns new arrays `bu` (length nUsers) and `bi` (length nItems).
 * @throws ParamError for an unknown method.
 */
export function computeBaselines(
  trainset: Trainset,
  bslOptions?: Partial<BaselineOptions> | ParamValues | null,
): Baselines {
  const o = toBaselineOptions(bslOptions as ParamValues | undefined);
  const nEpochs = o.nEpochs ?? BASELINE_DEFAULT_EPOCHS[o.method];
  return o.method === 'als'
    ? baselineAls(trainset, nEpochs, o.regU, o.regI)
    : baselineSgd(trainset, nEpochs, o.reg, o.learningRate);
}

/**
 * Alternating least squares, as Surprise's `baseline_als`:
 *
 * ```
 * for epoch in range(n_epochs):
 *     for i in all_items:   bi[i] = Σ_{(u,r) ∈ ir[i]} (r − μ − bu[u]) / (reg_i + |ir[i]|)
 *     for u in all_users:   bu[u] = Σ_{(i,r) ∈ ur[u]} (r − μ − bi[i]) / (reg_u + |ur[u]|)
 * ```
 *
 * Sums run in the order of `ir[i]` and `ur[u]`, left to right, as Surprise's Cython loop does.
 */
export function baselineAls(
  trainset: Trainset,
  nEpochs: number,
  regU: number,
  regI: number,
): Baselines {
  const { nUsers, nItems, globalMean } = trainset;
  const { urOffsets, urItems, urRatings, irOffsets, irUsers, irRatings } = trainset;
  const bu = new Float64Array(nUsers);
  const bi = new Float64Array(nItems);
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let i = 0; i < nItems; i++) {
      const a = irOffsets[i];
      const b = irOffsets[i + 1];
      let devI = 0;
      for (let p = a; p < b; p++) devI += irRatings[p] - globalMean - bu[irUsers[p]];
      bi[i] = devI / (regI + (b - a));
    }
    for (let u = 0; u < nUsers; u++) {
      const a = urOffsets[u];
      const b = urOffsets[u + 1];
      let devU = 0;
      for (let p = a; p < b; p++) devU += urRatings[p] - globalMean - bi[urItems[p]];
      bu[u] = devU / (regU + (b - a));
    }
  }
  return { bu, bi };
}

/**
 * Stochastic gradient descent, as Surprise's `baseline_sgd`:
 *
 * ```
 * for epoch in range(n_epochs):
 *     for u, i, r in all_ratings():
 *         err = r − (μ + bu[u] + bi[i])
 *         bu[u] += lr · (err − reg · bu[u])
 *         bi[i] += lr · (err − reg · bi[i])
 * ```
 */
export function baselineSgd(
  trainset: Trainset,
  nEpochs: number,
  reg: number,
  learningRate: number,
): Baselines {
  const { nUsers, nItems, globalMean, urOffsets, urItems, urRatings } = trainset;
  const bu = new Float64Array(nUsers);
  const bi = new Float64Array(nItems);
  const lr = learningRate;
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let u = 0; u < nUsers; u++) {
      const b = urOffsets[u + 1];
      for (let p = urOffsets[u]; p < b; p++) {
        const i = urItems[p];
        const err = urRatings[p] - (globalMean + bu[u] + bi[i]);
        bu[u] += lr * (err - reg * bu[u]);
        bi[i] += lr * (err - reg * bi[i]);
      }
    }
  }
  return { bu, bi };
}
