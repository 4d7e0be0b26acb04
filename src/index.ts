/**
 * The `reelgraph` package's public API: the recommender engine (Surprise's algorithms, data sets,
 * model selection and accuracy measures in TypeScript). Importing it registers the built-in
 * algorithms.
 *
 * @example
 * import { Dataset, SVD, crossValidate } from 'reelgraph';
 * const data = await Dataset.loadBuiltin('ml-100k');
 * const result = crossValidate(new SVD({ randomState: 0 }), data, { cv: 5, verbose: true });
 *
 * The Pachyderm port, the services and the CLI are applications of this engine and are not part
 * of this entry point.
 */
export * from './engine/algorithms';
export {
  loadAlgorithmPlugins,
  pluginsFromEnv,
  PluginError,
  PLUGINS_ENV,
} from './engine/algorithms/plugins';
export * from './engine/dataset';
export { Trainset, type TrainsetState } from './engine/trainset';
export { RandomState, getRng, randomSeed, type RandomStateLike } from './engine/random';
export { mean, pairwiseSum } from './engine/numeric';
export { formatBytes, type ByteUnits } from './engine/bytes';
export * from './engine/params';
export * from './engine/metrics';
export * from './engine/model-selection';
export {
  SIMILARITY_NAMES,
  SIM_OPTIONS_SPEC,
  DEFAULT_MEMORY_BUDGET_BYTES,
  SimilarityBudgetError,
  computeSimilarities,
  memoryBudgetBytes,
  parseByteSize,
  similarityMatrixBytes,
  toSimOptions,
  type SimilarityName,
  type SimOptions,
  type SimilarityMatrix,
  type SimilarityExtras,
} from './engine/similarities';
export * from './engine/top-n';
export * from './engine/model-file';
