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
/**
 * In the `models` repo, next to model.rgm: the rating batches folded into that model since its
 * `training` commit, one file per batch, `<13-digit commit start ms>-<training commit id>-<batch
 * file name>` (the name order is the commit order), each a copy of the batch file (`user_id
 * movie_id rating [timestamp]` lines). Written by services/fold-in-publisher.ts, read by
 * workers/predict-fold-in.ts; a newly published model comes without it.
 */
export const FOLD_IN_DIR = 'fold-in';
