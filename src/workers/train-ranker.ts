/**
 * The ranker the `train` pipeline fits beside the rating model, in the same output commit, so that
 * `recommendations` ranks with it (services/model-registry.ts) while `predict` keeps estimating
 * ratings with the rating model.
 *
 * Configuration, from the pipeline spec's `transform.env` (its own settings, next to
 * `REELGRAPH_ALGO`/`REELGRAPH_PARAMS`):
 * - `REELGRAPH_RANKER`: a ranker's name (EASE, iALS, BPR, ItemKNN, MostPopular), or `none` for no
 *   ranker (recommendations then rank by the rating model's estimates). Default `EASE`, the best
 *   ranker of bench/rankers.bench.ts on MovieLens 100K;
 * - `REELGRAPH_RANKER_PARAMS`: a JSON object of its hyper-parameters (default `{}`);
 * - `REELGRAPH_SEED` (shared): the ranker's `randomState` when it has one and the params do not
 *   set it.
 *
 * Output, in `<pfs>/out`: `ranker.rgr` (engine/rankers/ranker-file.ts format; the same training
 * commit gives the same bytes) and `ranker.json` `{ranker, params, fitSeconds, rankerSha256,
 * formatVersion}` (`fitSeconds` is the only value that changes between runs).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParamError } from '../engine/params';
import {
  RANKER_FORMAT_VERSION,
  createRanker,
  getRanker,
  listRankers,
  saveRanker,
} from '../engine/rankers';
import type { Trainset } from '../engine/trainset';

/** The ranker file and its facts in a `train` commit. */
export const RANKER_FILE = 'ranker.rgr';
export const RANKER_INFO_FILE = 'ranker.json';
/** The ranker the pipeline fits when `REELGRAPH_RANKER` is not set. */
export const DEFAULT_RANKER = 'EASE';

/**
 * Above this many movies in the trainset the pipeline fits no EASE (it logs why and writes no
 * ranker files): EASE's item × item matrix is dense (62,000 movies would be 62,000² weights,
 * 15 GB in float32, and an n³ inverse), so it keeps only its `maxItems` most-rated movies
 * (default 2,500) and scores the rest −∞ — under 1/8 of a catalogue past this size would ever be
 * recommended. `recommendations` then rank by the rating model over every movie (a bounded heap,
 * engine/top-n.ts). Other rankers are fitted whatever the size.
 */
export const EASE_MAX_CATALOGUE = 20_000;

/** What `REELGRAPH_RANKER*` resolve to. */
export interface RankerConfig {
  ranker: string;
  params: Record<string, unknown>;
}

/** `ranker.json`. */
export interface RankerInfo {
  ranker: string;
  /** Resolved hyper-parameters. */
  params: Record<string, unknown>;
  /** Wall-clock seconds of the fit; varies between runs. */
  fitSeconds: number;
  /** SHA-256 (hex) of `ranker.rgr`. */
  rankerSha256: string;
  formatVersion: number;
}

/**
 * Reads `REELGRAPH_RANKER` and `REELGRAPH_RANKER_PARAMS`, and checks the parameters.
 * @returns null for `REELGRAPH_RANKER=none`.
 * @throws ParamError naming the variable for an unknown ranker, params that are not a JSON
 *   object, or a bad parameter.
 */
export function rankerConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  seed = 0,
): RankerConfig | null {
  const name = (env.REELGRAPH_RANKER ?? '').trim() || DEFAULT_RANKER;
  if (name === 'none') return null;
  let cls;
  try {
    cls = getRanker(name);
  } catch {
    throw new ParamError(
      'REELGRAPH_RANKER',
      `REELGRAPH_RANKER: unknown ranker '${name}'; expected one of: ${listRankers().join(', ')}, none`,
    );
  }
  const text = (env.REELGRAPH_RANKER_PARAMS ?? '').trim() || '{}';
  let params: unknown;
  try {
    params = JSON.parse(text);
  } catch {
    params = null;
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ParamError(
      'REELGRAPH_RANKER_PARAMS',
      `REELGRAPH_RANKER_PARAMS must be a JSON object of ${name} hyper-parameters, got ${JSON.stringify(text)}`,
    );
  }
  const p = { ...(params as Record<string, unknown>) };
  if ('randomState' in cls.paramSpecs && !('randomState' in p)) p.randomState = seed;
  try {
    createRanker(name, p);
  } catch (e) {
    if (e instanceof ParamError) {
      throw new ParamError(e.param, `REELGRAPH_RANKER_PARAMS: ${e.message}`);
    }
    throw e;
  }
  return { ranker: cls.rankerName, params: p };
}

/**
 * Fits the ranker on `trainset` (the rating model's: every rating of the `training` commit, on
 * the repo's rating scale; train.ts `trainModel`) and writes `ranker.rgr` and `ranker.json` into
 * `outDir`. @returns the facts written and the files' paths; null (nothing written, one log line
 * saying why) for EASE on more than {@link EASE_MAX_CATALOGUE} movies.
 */
export function trainRanker(
  trainset: Trainset,
  outDir: string,
  config: RankerConfig,
  log: (line: string) => void = () => undefined,
  maxEaseCatalogue = EASE_MAX_CATALOGUE,
): { info: RankerInfo; files: string[] } | null {
  if (config.ranker === 'EASE' && trainset.nItems > maxEaseCatalogue) {
    log(
      `ranker EASE skipped: the trainset has ${trainset.nItems} movies, more than ${maxEaseCatalogue} ` +
        `(EASE's dense item × item matrix would keep only its ${String(config.params.maxItems ?? 2500)} most-rated); ` +
        'recommendations rank by the rating model over every movie',
    );
    return null;
  }
  const ranker = createRanker(config.ranker, config.params);
  const t0 = process.hrtime.bigint();
  ranker.fit(trainset);
  const fitSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = saveRanker(ranker);
  const info: RankerInfo = {
    ranker: ranker.name,
    params: ranker.params,
    fitSeconds,
    rankerSha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    formatVersion: RANKER_FORMAT_VERSION,
  };
  fs.mkdirSync(outDir, { recursive: true });
  const files = [RANKER_FILE, RANKER_INFO_FILE].map((f) => path.join(outDir, f));
  fs.writeFileSync(files[0], bytes);
  fs.writeFileSync(files[1], JSON.stringify(info, null, 2) + '\n');
  log(
    `fit ranker ${ranker.name} on ${trainset.nRatings} ratings in ${fitSeconds.toFixed(3)} s; ` +
      `wrote ${RANKER_FILE} (${bytes.length} bytes), ${RANKER_INFO_FILE}`,
  );
  return { info, files };
}
