/**
 * Model selection: splitters and cross-validation (Surprise's `surprise.model_selection`).
 */
export * from './split';
export * from './validation';
export * from './search';
