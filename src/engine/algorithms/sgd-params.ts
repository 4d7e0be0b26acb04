/**
 * Parameters shared by the algorithms learned by stochastic gradient descent (SVD, SVDpp):
 * Surprise's per-parameter learning rates and regularisations (`lr_bu`, `reg_qi`, …), each of
 * which falls back to `lr_all` / `reg_all` when not set, and the normal initialisation of the
 * factor matrices. Follows Surprise 1.1.4, surprise/prediction_algorithms/matrix_factorization.pyx
 * (`SVD.__init__`, `SVD.sgd`, `SVDpp.sgd`).
 */
import type { ParamSpec, ParamSpecs, ParamValues } from '../params';
import type { RandomState } from '../random';

/** The terms with their own rate: biases b_u, b_i and factors p_u, q_i, y_j. */
export type SgdTerm = 'Bu' | 'Bi' | 'Pu' | 'Qi' | 'Yj';

/** `lrX` and `regX` for each term X, e.g. `{ lrBu, regBu, … }`. */
export type SgdRates<T extends SgdTerm> = { [K in T as `lr${K}` | `reg${K}`]: number };

const TERM_NAMES: Record<SgdTerm, string> = {
  Bu: 'the user biases b_u',
  Bi: 'the item biases b_i',
  Pu: 'the user factors p_u',
  Qi: 'the item factors q_i',
  Yj: 'the implicit item factors y_j',
};

/**
 * The declarations `lrX` (for every term, in order), then `regX`: nullable floats ≥ 0, default
 * null meaning `lrAll` / `regAll` (Surprise's `lr_bu`, …, `reg_yj`).
 */
export function rateSpecs(terms: readonly SgdTerm[]): ParamSpecs {
  const spec = (doc: string): ParamSpec => ({
    type: 'float',
    default: null,
    nullable: true,
    min: 0,
    doc,
  });
  const out: ParamSpecs = {};
  for (const t of terms)
    out[`lr${t}`] = spec(`Learning rate of ${TERM_NAMES[t]}; null means lrAll.`);
  for (const t of terms)
    out[`reg${t}`] = spec(`Regularisation of ${TERM_NAMES[t]}; null means regAll.`);
  return out;
}

/**
 * The resolved rates of `terms`: `lrX = params.lrX ?? params.lrAll` and
 * `regX = params.regX ?? params.regAll` (Surprise: `lr_bu if lr_bu is not None else lr_all`).
 * @param params resolved parameter values holding `lrAll`, `regAll` (numbers) and `lrX`, `regX`
 *   (number or null) for every term.
 */
export function sgdRates<T extends SgdTerm>(params: ParamValues, terms: readonly T[]): SgdRates<T> {
  const lrAll = params.lrAll as number;
  const regAll = params.regAll as number;
  const out: Record<string, number> = {};
  for (const t of terms) {
    out[`lr${t}`] = (params[`lr${t}`] as number | null) ?? lrAll;
    out[`reg${t}`] = (params[`reg${t}`] as number | null) ?? regAll;
  }
  return out as SgdRates<T>;
}

/**
 * Draws factor matrices in the given order, as Surprise's successive
 * `rng.normal(init_mean, init_std_dev, (rows, n_factors))`: one row-major Float64Array of
 * `rows[k] × nFactors` values per entry of `rows`.
 */
export function normalFactors(
  rng: RandomState,
  rows: readonly number[],
  nFactors: number,
  initMean: number,
  initStd: number,
): Float64Array[] {
  return rows.map((n) => rng.fillNormal(new Float64Array(n * nFactors), initMean, initStd));
}
