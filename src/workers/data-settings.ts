/**
 * The service's data settings: one JSON file, `/settings.json`, in the `training` repo, written
 * once by the first start (`reelgraph init --dataset … --rating-scale …`, see
 * services/initial-data.ts) and read by everything that needs it: the train program (the rating
 * scale of the trainset, hence of every algorithm and of the clipped estimates), and the services
 * (the scale every input path enforces). Being in the repo, every replica, every restart and every
 * train job agree on it, and a model's training commit says which settings it was fit with.
 *
 * Format: `{"dataset": "<what the first start loaded>", "ratingScale": [lowest, highest]}` —
 * `dataset` is `ml-100k`, `ml-1m`, `ml-latest-small`, `none`, or `file:<base name>`;
 * `ratingScale` two finite numbers, lowest < highest. A repo without the file (a data directory
 * made before the settings existed) has MovieLens 100K's settings ({@link LEGACY_SETTINGS}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RatingScale } from '../engine/dataset/raw-ratings';

/** Path of the settings file in the `training` repo. */
export const SETTINGS_PATH = '/settings.json';

/** The data settings of a service (see the module documentation). */
export interface DataSettings {
  /** What the first start loaded: a built-in name, `none`, or `file:<base name>`. */
  dataset: string;
  /** The rating scale `[lowest, highest]` of every rating the service takes. */
  ratingScale: RatingScale;
}

/** The settings of a repo without a settings file: MovieLens 100K on 1…5 stars. */
export const LEGACY_SETTINGS: Readonly<DataSettings> = Object.freeze({
  dataset: 'ml-100k',
  ratingScale: [1, 5] as RatingScale,
});

/**
 * Checks a rating scale: two finite numbers, lowest < highest.
 * @param what names the value in the message (e.g. `--rating-scale`, `/settings.json ratingScale`)
 * @throws RangeError naming `what` and what was expected
 */
export function checkScale(value: unknown, what: string): RatingScale {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !((value[0] as number) < (value[1] as number))
  ) {
    throw new RangeError(
      `${what} must be [lowest, highest], two finite numbers with lowest < highest, got ${JSON.stringify(value)}`,
    );
  }
  return [value[0] as number, value[1] as number];
}

/**
 * Parses the text of a settings file.
 * @param file its path, for messages
 * @throws RangeError naming the file and the field for malformed JSON, a missing or malformed
 *   field, or an unknown field
 */
export function parseSettings(text: string, file = SETTINGS_PATH): DataSettings {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new RangeError(`${file} is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RangeError(`${file} must be a JSON object {dataset, ratingScale}`);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'dataset' && k !== 'ratingScale') {
      throw new RangeError(
        `${file}: unknown field ${JSON.stringify(k)}; expected dataset, ratingScale`,
      );
    }
  }
  if (typeof o.dataset !== 'string' || o.dataset.length === 0) {
    throw new RangeError(
      `${file}: dataset must be a non-empty string, got ${JSON.stringify(o.dataset)}`,
    );
  }
  return { dataset: o.dataset, ratingScale: checkScale(o.ratingScale, `${file} ratingScale`) };
}

/** The text of a settings file (pretty JSON, one trailing newline). */
export function settingsText(s: DataSettings): string {
  return JSON.stringify({ dataset: s.dataset, ratingScale: s.ratingScale }, null, 2) + '\n';
}

/**
 * The settings of a `training` input directory (e.g. `/pfs/training`): its `settings.json`, or
 * {@link LEGACY_SETTINGS} when there is none.
 * @throws RangeError for a malformed settings file (see {@link parseSettings})
 */
export function readSettingsDir(dir: string): DataSettings {
  const file = path.join(dir, SETTINGS_PATH.slice(1));
  if (!fs.existsSync(file)) return { ...LEGACY_SETTINGS };
  return parseSettings(fs.readFileSync(file, 'utf8'));
}
