/**
 * Model selection: splitters, cross-validation and hyper-parameter search (Surprise's
 * `surprise.model_selection`).
 */
export * from './split';
export * from './validation';
export * from './search';
export * from './compare';
export * from './pool';
export * from './pooled';
