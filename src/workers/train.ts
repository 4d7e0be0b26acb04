/**
 * The `train` pipeline program (`reelgraph worker train`): fits the configured algorithm on every
 * rating of one `training` commit and writes the model.
 *
 * Input: `<pfs>/training` (glob `/`: the whole repo is one datum), see `training-data.ts` for the
 * ratings files and the "last rating wins" rule, and `catalogue-data.ts` for the movies and
 * users files (side information, used by algorithms that read it: BayesianFM). Configuration,
 * from the pipeline spec's
 * `transform.env`:
 * - `REELGRAPH_ALGO`: registry name of the algorithm (default `SVD`);
 * - `REELGRAPH_PARAMS`: a JSON object of hyper-parameters, validated against the algorithm's
 *   `paramSpecs` (default `{}`: the algorithm's defaults);
 * - `REELGRAPH_SEED`: whole number in [0, 2³²−1] (default `0`): the algorithm's `randomState` when
 *   it has one and `REELGRAPH_PARAMS` does not set it, and the seed of the holdout split;
 * - `REELGRAPH_PLUGINS`: custom algorithm modules to load first (see engine/algorithms/plugins).
 *
 * Output, in `<pfs>/out`:
 * - `model.rgm`: the fitted model (engine/model-file.ts format), a pure function of the ratings,
 *   the algorithm and its parameters: the same training commit gives the same bytes;
 * - `manifest.json`: `{trainingCommit, algorithm, params, modelFile, modelSha256, formatVersion,
 *   createdBy}` — also byte-identical for the same commit and parameters;
 * - `metrics.json`: `{algorithm, params, ratings, ratingScale, users, items, duplicatesReplaced, fitSeconds,
 *   holdout: {rmse, mae, testSize, seed}}`; `holdout` is a separate fit with the same parameters
 *   on a seeded stable ~90/10 split (engine `stableSplit`: a rating is held out by a hash of
 *   (seed, user, movie), so it stays held out in every later training commit and the holdout
 *   figures of successive model versions are comparable), `null` when either side would be
 *   empty. `fitSeconds` (wall time of the full fit) is the only value that changes between runs.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import '../engine/algorithms/index';
import type { AlgoBase } from '../engine/algorithms/base';
import { getAlgorithm } from '../engine/algorithms/registry';
import { mae, rmse } from '../engine/metrics';
import { MODEL_FORMAT_VERSION, saveModel } from '../engine/model-file';
import { stableSplit } from '../engine/model-selection/split';
import { ParamError } from '../engine/params';
import { Trainset } from '../engine/trainset';
import { MANIFEST_FILE, METRICS_FILE, MODEL_FILE } from './files';
import { readSettingsDir } from './data-settings';
import { listTrainingFiles, readTrainingRatings } from './training-data';
import { readCatalogue } from './catalogue-data';
import { packageVersion } from './version';

export { MANIFEST_FILE, METRICS_FILE, MODEL_FILE };

/** Fraction of the ratings held out for the holdout RMSE/MAE. */
export const HOLDOUT_TEST_SIZE = 0.1;

/** The train program's configuration, read from the environment. */
export interface TrainConfig {
  algorithm: string;
  /** Parameters as given (before defaults), the seed applied as `randomState` when relevant. */
  params: Record<string, unknown>;
  seed: number;
}

/** `metrics.json`: what the model was fit on and how well it does. */
export interface TrainMetrics {
  /** Registry name of the algorithm, e.g. `SVD`. */
  algorithm: string;
  /** The resolved hyper-parameters (defaults filled in, `randomState` = the seed when relevant). */
  params: Record<string, unknown>;
  /** Ratings in the trainset (one per (user, movie), after the last-rating-wins rule). */
  ratings: number;
  /** The rating scale `[lowest, highest]` the model was fit on (the repo's settings). */
  ratingScale: [number, number];
  /** Distinct users. */
  users: number;
  /** Distinct movies. */
  items: number;
  /** Rating lines dropped because a later rating of the same (user, movie) won. */
  duplicatesReplaced: number;
  /** Wall-clock seconds of the full fit (not of the holdout fit); varies between runs. */
  fitSeconds: number;
  /**
   * Accuracy of a separate fit on a seeded stable ~90/10 split (engine `stableSplit`: the same
   * ratings stay held out in later training commits): RMSE and MAE in stars over `testSize`
   * held-out ratings; `null` when the test side or the training side would be empty.
   */
  holdout: { rmse: number; mae: number; testSize: number; seed: number } | null;
}

/** `manifest.json`: what the model is; byte-identical for the same training commit and spec. */
export interface TrainManifest {
  /** The `training` commit the model was fit on (`training_COMMIT`); null when run by hand. */
  trainingCommit: string | null;
  algorithm: string;
  params: Record<string, unknown>;
  /** The model's file name in the same commit (`model.rgm`). */
  modelFile: string;
  /** SHA-256 (hex) of the model file's bytes. */
  modelSha256: string;
  /** The model file's format version (engine/model-file.ts). */
  formatVersion: number;
  /** `reelgraph <package version>`. */
  createdBy: string;
}

/**
 * Reads `REELGRAPH_ALGO`, `REELGRAPH_PARAMS` and `REELGRAPH_SEED` (see the module documentation).
 * @throws ParamError naming the variable for an unknown algorithm, a PARAMS value that is not a
 *   JSON object, or a seed that is not a whole number in [0, 4294967295]. Parameter values
 *   themselves are checked when the algorithm is created.
 */
export function trainConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TrainConfig {
  const algorithm = (env.REELGRAPH_ALGO ?? '').trim() || 'SVD';
  const cls = getAlgorithm(algorithm);
  const seedText = (env.REELGRAPH_SEED ?? '').trim() || '0';
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed) || seed > 0xffffffff) {
    throw new ParamError(
      'REELGRAPH_SEED',
      `REELGRAPH_SEED must be a whole number in [0, 4294967295], got ${JSON.stringify(seedText)}`,
    );
  }
  const paramsText = (env.REELGRAPH_PARAMS ?? '').trim() || '{}';
  let params: unknown;
  try {
    params = JSON.parse(paramsText);
  } catch (e) {
    throw new ParamError(
      'REELGRAPH_PARAMS',
      `REELGRAPH_PARAMS must be a JSON object of ${algorithm} hyper-parameters, got ${JSON.stringify(paramsText)} (${(e as Error).message})`,
    );
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ParamError(
      'REELGRAPH_PARAMS',
      `REELGRAPH_PARAMS must be a JSON object of ${algorithm} hyper-parameters, got ${JSON.stringify(paramsText)}`,
    );
  }
  const p = { ...(params as Record<string, unknown>) };
  if ('randomState' in cls.paramSpecs && !('randomState' in p)) p.randomState = seed;
  return { algorithm, params: p, seed };
}

/** A new unfitted instance; ParamError messages are prefixed with where the values came from. */
function createConfigured(config: TrainConfig): AlgoBase {
  const Cls = getAlgorithm(config.algorithm);
  try {
    return new Cls(config.params);
  } catch (e) {
    if (e instanceof ParamError) {
      throw new ParamError(e.param, `REELGRAPH_PARAMS: ${e.message}`);
    }
    throw e;
  }
}

/** What {@link trainModel} produced. */
export interface TrainResult {
  metrics: TrainMetrics;
  manifest: TrainManifest;
  /** Absolute paths of the files written. */
  files: string[];
  /** The trainset the model was fit on (all the ratings, on the repo's scale): the ranker's too. */
  trainset: Trainset;
}

/**
 * Fits the model on the ratings under `inputDir` and writes `model.rgm`, `metrics.json` and
 * `manifest.json` into `outDir`. The rating scale is the repo's (`/settings.json`, see
 * data-settings.ts; [1, 5] without one): every rating must lie on it, and the model's estimates
 * are clipped to it.
 *
 * @param trainingCommit the `training` commit the ratings come from (`training_COMMIT`), or null.
 * @param log receives progress lines (the worker prints them: they become the datum's logs).
 * @returns what was written, or null when the repo holds no rating yet (a service started with
 *   `--dataset none`): then nothing is written, the output commit is empty, and requests wait for
 *   the first model.
 * @throws TrainingDataError for a malformed training file; RangeError for malformed settings;
 *   ParamError for a bad configuration (nothing is written then).
 */
export function trainModel(
  inputDir: string,
  outDir: string,
  config: TrainConfig,
  trainingCommit: string | null,
  log: (line: string) => void = () => undefined,
): TrainResult | null {
  createConfigured(config); // validate the parameters before reading anything
  const { ratingScale } = readSettingsDir(inputDir);
  const merged = readTrainingRatings(inputDir, ratingScale);
  const raw = merged.raw;
  if (raw.length === 0) {
    log(`no ratings under ${inputDir} yet (${merged.files} rating files): no model written`);
    return null;
  }
  log(
    `read ${merged.lines} ratings from ${merged.files} file${merged.files === 1 ? '' : 's'} ` +
      `under ${inputDir} (rating scale [${ratingScale.join(', ')}]); ` +
      `${merged.duplicatesReplaced} replaced by a later rating of the same (user, movie)`,
  );
  const sideInfo = fs.existsSync(inputDir)
    ? readCatalogue(inputDir, listTrainingFiles(inputDir))
    : { users: new Map(), items: new Map() };
  if (sideInfo.users.size + sideInfo.items.size > 0) {
    log(
      `read the catalogue: ${sideInfo.items.size} movies and ${sideInfo.users.size} users with attributes`,
    );
  }
  const data = { ratings: raw, ratingScale, sideInfo };

  let holdout: TrainMetrics['holdout'] = null;
  const [holdoutTrainset, testset] = stableSplit(data, {
    testSize: HOLDOUT_TEST_SIZE,
    seed: config.seed,
  });
  if (testset.length > 0 && holdoutTrainset.nRatings > 0) {
    const predictions = createConfigured(config).fit(holdoutTrainset).test(testset);
    holdout = {
      rmse: rmse(predictions),
      mae: mae(predictions),
      testSize: testset.length,
      seed: config.seed,
    };
    log(
      `holdout (${testset.length} ratings, seed ${config.seed}): RMSE ${holdout.rmse.toFixed(4)}, MAE ${holdout.mae.toFixed(4)}`,
    );
  }

  const trainset = Trainset.build(raw, ratingScale, undefined, sideInfo);
  const algo = createConfigured(config);
  const t0 = process.hrtime.bigint();
  algo.fit(trainset);
  const fitSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  log(
    `fit ${algo.name} on ${trainset.nRatings} ratings (${trainset.nUsers} users, ${trainset.nItems} movies) in ${fitSeconds.toFixed(3)} s`,
  );

  const model = saveModel(algo);
  const modelSha256 = crypto.createHash('sha256').update(model).digest('hex');
  const metrics: TrainMetrics = {
    algorithm: algo.name,
    params: algo.params,
    ratings: trainset.nRatings,
    ratingScale: [ratingScale[0], ratingScale[1]],
    users: trainset.nUsers,
    items: trainset.nItems,
    duplicatesReplaced: merged.duplicatesReplaced,
    fitSeconds,
    holdout,
  };
  const manifest: TrainManifest = {
    trainingCommit,
    algorithm: algo.name,
    params: algo.params,
    modelFile: MODEL_FILE,
    modelSha256,
    formatVersion: MODEL_FORMAT_VERSION,
    createdBy: `reelgraph ${packageVersion()}`,
  };
  fs.mkdirSync(outDir, { recursive: true });
  const files = [MODEL_FILE, METRICS_FILE, MANIFEST_FILE].map((f) => path.join(outDir, f));
  fs.writeFileSync(files[0], model);
  fs.writeFileSync(files[1], JSON.stringify(metrics, null, 2) + '\n');
  fs.writeFileSync(files[2], JSON.stringify(manifest, null, 2) + '\n');
  log(
    `wrote ${MODEL_FILE} (${model.length} bytes, sha256 ${modelSha256}), ${METRICS_FILE}, ${MANIFEST_FILE}`,
  );
  return { metrics, manifest, files, trainset };
}
