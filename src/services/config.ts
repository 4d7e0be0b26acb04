/**
 * Configuration of the application services, with safe defaults. Every field is optional in
 * {@link ServiceConfig}; {@link resolveServiceConfig} fills the defaults and checks the values.
 */
import type { BuiltinOptions } from '../engine/dataset/builtin';

/** What the caller may set (all optional). */
export interface ServiceConfig {
  /** Repo of the rating batches (the train pipeline's input). Default `training`. */
  trainingRepo?: string;
  /** Repo of the prediction requests (the predict pipeline's input). Default `streaming`. */
  streamingRepo?: string;
  /** Output repo of the train pipeline (models). Default `train`. */
  trainRepo?: string;
  /** Output repo of the predict pipeline (answers). Default `predict`. */
  predictRepo?: string;
  /** Repo of the published models (the predict pipeline's model input). Default `models`. */
  modelsRepo?: string;
  /**
   * Retire answered requests from the head of `streaming` (default true). Only a process that
   * must leave that to others (a read-only replica, a test of the start-up catch-up) sets false.
   */
  retireAnswered?: boolean;
  /** Most items accepted by one `addRatings` or `requestPredictions` call. Default 10 000. */
  maxItems?: number;
  /** Longest user or movie id, in characters. Default 64. */
  maxIdLength?: number;
  /** Largest `first` of a paginated query. Default 100 (the API contract's ceiling). */
  maxPageSize?: number;
  /**
   * The rating scale `[lowest, highest]` accepted by `addRatings`. Default: `createServices`
   * reads the `training` repo's settings (`/settings.json`); `[1, 5]` without any.
   */
  ratingScale?: [number, number];
  /** Where the movie catalogue (ml-100k's u.item, u.user) is found; see BuiltinOptions. */
  dataset?: BuiltinOptions;
}

/** The resolved configuration: every field set. */
export type ResolvedServiceConfig = Required<Omit<ServiceConfig, 'dataset'>> & {
  dataset: BuiltinOptions;
};

/** The defaults (see {@link ServiceConfig}). */
export const SERVICE_DEFAULTS: Readonly<ResolvedServiceConfig> = Object.freeze({
  trainingRepo: 'training',
  streamingRepo: 'streaming',
  trainRepo: 'train',
  predictRepo: 'predict',
  modelsRepo: 'models',
  retireAnswered: true,
  maxItems: 10_000,
  maxIdLength: 64,
  maxPageSize: 100,
  ratingScale: [1, 5] as [number, number],
  dataset: {},
});

/**
 * Fills the defaults and checks the limits.
 * @throws RangeError naming the field when a limit is not a whole number ≥ 1 (maxPageSize ≤ 100),
 *   or the rating scale is not two finite numbers, lowest < highest.
 */
export function resolveServiceConfig(config: ServiceConfig = {}): ResolvedServiceConfig {
  const c: ResolvedServiceConfig = {
    ...SERVICE_DEFAULTS,
    ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
  } as ResolvedServiceConfig;
  for (const k of ['maxItems', 'maxIdLength', 'maxPageSize'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new RangeError(`service config ${k} must be a whole number >= 1, got ${String(c[k])}`);
    }
  }
  if (c.maxPageSize > 100) {
    throw new RangeError(`service config maxPageSize must be <= 100, got ${c.maxPageSize}`);
  }
  const [lo, hi] = c.ratingScale;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new RangeError(
      `service config ratingScale must be [lowest, highest] with lowest < highest, got ${JSON.stringify(c.ratingScale)}`,
    );
  }
  return c;
}
