/**
 * Parameter declarations shared by the algorithms learned by stochastic gradient descent (SVD,
 * SVDpp): Surprise's per-parameter learning rates and regularisations (`lr_bu`, `reg_qi`, …), each
 * of which falls back to `lr_all` / `reg_all` when not set.
 */
import type { ParamSpec } from '../params';

/** A learning rate for `what` that falls back to `lrAll` when null (e.g. Surprise's `lr_bu`). */
export const lrSpec = (what: string): ParamSpec => ({
  type: 'float',
  default: null,
  nullable: true,
  min: 0,
  doc: `Learning rate of ${what}; null means lrAll.`,
});

/** A regularisation for `what` that falls back to `regAll` when null (e.g. Surprise's `reg_qi`). */
export const regSpec = (what: string): ParamSpec => ({
  type: 'float',
  default: null,
  nullable: true,
  min: 0,
  doc: `Regularisation of ${what}; null means regAll.`,
});
