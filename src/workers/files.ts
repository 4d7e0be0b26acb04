/** Names of the files the train program writes to `/pfs/out` (and the predict program reads). */

/** The fitted model (engine/model-file.ts format). */
export const MODEL_FILE = 'model.rgm';
/** Training figures: `{algorithm, params, ratings, users, items, duplicatesReplaced, fitSeconds, holdout}`. */
export const METRICS_FILE = 'metrics.json';
/** What the model is: `{trainingCommit, algorithm, params, modelFile, modelSha256, formatVersion, createdBy}`. */
export const MANIFEST_FILE = 'manifest.json';
/**
 * In the `models` repo, next to a copy of model.rgm: `{version, pinned, reason}`
 * (services/model-publisher.ts).
 */
export const SERVING_FILE = 'serving.json';
