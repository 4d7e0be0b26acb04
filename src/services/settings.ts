/**
 * The data settings of a running service, read from the `training` repo (`/settings.json`, see
 * workers/data-settings.ts): the rating scale that `addRatings`, `POST /train` and every other
 * input path enforce. Read once at start-up: the settings are written by the first start only.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import {
  type DataSettings,
  LEGACY_SETTINGS,
  SETTINGS_PATH,
  parseSettings,
} from '../workers/data-settings';

/**
 * The settings on `<trainingRepo>@master`; {@link LEGACY_SETTINGS} (MovieLens 100K, 1–5) when the
 * repo, the branch or the file does not exist.
 * @throws RangeError for a malformed settings file; the port's other errors
 */
export async function readRepoSettings(
  pach: Pachyderm,
  trainingRepo: string,
): Promise<DataSettings> {
  try {
    const buf = await pach.readFile({ commit: `${trainingRepo}@master`, path: SETTINGS_PATH });
    return parseSettings(buf.toString('utf8'), `${trainingRepo}@master:${SETTINGS_PATH}`);
  } catch (e) {
    if (isPachError(e, PachCode.NOT_FOUND)) return { ...LEGACY_SETTINGS };
    throw e;
  }
}
