/**
 * Changing the train pipeline's algorithm and parameters from the API and the CLI: Pachyderm's
 * UpdatePipeline (`pachctl update pipeline --reprocess`). The pipeline's current spec is read,
 * its `transform.env` gets `REELGRAPH_ALGO`, `REELGRAPH_PARAMS` (and `REELGRAPH_SEED` when given),
 * and the spec is submitted with `update` and `reprocess`: a new pipeline version, whose first job
 * refits the model on the current `training` head (workers/train.ts reads these variables).
 *
 * Everything is checked before anything changes: the algorithm must be registered, the parameters
 * must be a JSON object the algorithm accepts (its `paramSpecs`: a ParamError names the
 * parameter), the seed a whole number in [0, 2³²−1]. On a bad value the error names it and the
 * pipeline stays as it was.
 */
import '../engine/algorithms/index';
import { getAlgorithm } from '../engine/algorithms/registry';
import { ParamError } from '../engine/params';
import type { Pachyderm } from '../pachyderm/port';
import { ValidationError } from './errors';

/** What an update asks for. */
export interface TrainPipelineChange {
  /** Registry name of the algorithm, e.g. `SVDpp` (case as registered). */
  algorithm: string;
  /** Hyper-parameters (camelCase Surprise names); default `{}` (the algorithm's defaults). */
  params?: unknown;
  /** `REELGRAPH_SEED`: whole number in [0, 4294967295]; default: unchanged. */
  seed?: number | null;
}

/** What an update did. */
export interface TrainPipelineUpdate {
  /** The pipeline (`train`). */
  pipeline: string;
  /** Its new version (1 + the previous one). */
  version: number;
  /** The algorithm's registry name. */
  algorithm: string;
  /** The parameters as given (validated). */
  params: Record<string, unknown>;
  /** The seed in the spec after the update. */
  seed: number;
}

function bad(field: string, message: string): never {
  throw new ValidationError('arguments', [{ index: null, field, message }]);
}

/**
 * Validates a change (no I/O).
 * @returns the algorithm's registry name and the parameters
 * @throws ValidationError naming `algorithm`, `params` or `params.<name>` (the ParamError's
 *   parameter), or `seed`
 */
export function checkTrainChange(change: TrainPipelineChange): {
  algorithm: string;
  params: Record<string, unknown>;
} {
  let cls;
  try {
    cls = getAlgorithm(String(change.algorithm));
  } catch (e) {
    return bad('algorithm', (e as Error).message);
  }
  const p = change.params ?? {};
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    return bad('params', `params must be a JSON object of ${cls.algorithmName} hyper-parameters`);
  }
  try {
    new cls(p as Record<string, unknown>);
  } catch (e) {
    if (e instanceof ParamError) return bad(`params.${e.param}`, e.message);
    throw e;
  }
  const s = change.seed;
  if (s !== undefined && s !== null && !(Number.isInteger(s) && s >= 0 && s <= 0xffffffff)) {
    return bad('seed', `seed must be a whole number in [0, 4294967295], got ${String(s)}`);
  }
  return { algorithm: cls.algorithmName, params: p as Record<string, unknown> };
}

/**
 * Updates the train pipeline (see the module documentation).
 * @param pipeline the train pipeline's name (default `train`)
 * @throws ValidationError for a bad change (nothing changed); PachError NOT_FOUND when the
 *   pipeline does not exist
 */
export async function updateTrainPipeline(
  pach: Pachyderm,
  change: TrainPipelineChange,
  pipeline = 'train',
): Promise<TrainPipelineUpdate> {
  const { algorithm, params } = checkTrainChange(change);
  const info = await pach.inspectPipeline(pipeline);
  const spec = JSON.parse(info.effectiveSpecJson) as Record<string, unknown> & {
    transform: { env?: Record<string, string> };
  };
  const env = { ...(spec.transform.env ?? {}) };
  env.REELGRAPH_ALGO = algorithm;
  env.REELGRAPH_PARAMS = JSON.stringify(params);
  if (change.seed !== undefined && change.seed !== null) env.REELGRAPH_SEED = String(change.seed);
  spec.transform = { ...spec.transform, env };
  await pach.createPipeline(spec, { update: true, reprocess: true });
  const after = await pach.inspectPipeline(pipeline);
  return {
    pipeline,
    version: after.version,
    algorithm,
    params,
    seed: Number(env.REELGRAPH_SEED ?? '0'),
  };
}
