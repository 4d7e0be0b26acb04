/**
 * The serving-model pin, stored in the repos so that every API replica and every restart agree:
 * repo `serving`, file `/pin.json` on `master`, `{"version": "<train commit id>" | null,
 * "reason": "…", "at": "<ISO time>"}`. `version: null` (or no file, or no repo) means unpinned:
 * the newest successful model serves. Each change is a commit, so the history of pins is kept.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import { commitFiles } from '../pachyderm/own-commit';
import type { Pachyderm } from '../pachyderm/port';

/** The repo of the pin. */
export const SERVING_REPO = 'serving';
/** The description {@link SERVING_REPO} is created with (by `reelgraph init`, or on first use). */
export const SERVING_REPO_DESCRIPTION =
  'The serving-model pin: /pin.json {version, reason, at} (null: newest).';
/** The pin's file in {@link SERVING_REPO}. */
export const PIN_PATH = '/pin.json';

/** The pin as stored. */
export interface ServingPin {
  /** The pinned model version (a `train` commit id), or null when unpinned. */
  version: string | null;
  /** Why (given by the caller, or a default sentence). */
  reason: string;
  /** When the pin was set (ISO 8601). */
  at: string;
}

/**
 * The pin on `serving@master`, or null when there is none (no repo, branch or file, or a file
 * that is not a pin: it is then ignored, as if unpinned).
 * @throws the port's errors other than NOT_FOUND
 */
export async function readPin(pach: Pachyderm): Promise<ServingPin | null> {
  let buf: Buffer;
  try {
    buf = await pach.readFile({ commit: `${SERVING_REPO}@master`, path: PIN_PATH });
  } catch (e) {
    if (isPachError(e, PachCode.NOT_FOUND)) return null;
    throw e;
  }
  try {
    const v = JSON.parse(buf.toString('utf8')) as Partial<ServingPin>;
    if (v.version !== null && typeof v.version !== 'string') return null;
    return { version: v.version, reason: String(v.reason ?? ''), at: String(v.at ?? '') };
  } catch {
    return null;
  }
}

/**
 * Commits a pin (creating the `serving` repo on first use when `reelgraph init` did not: on a
 * pachd with auth on the API's robot may not create repos, so init creates it) in a `serving` commit of this
 * writer's own (`commitFiles`: StartCommit → ModifyFile by id → FinishCommit, so the id is exact
 * with any number of API replicas and nothing is written into a FINISHING head).
 * @returns the `serving` commit id
 */
export async function writePin(pach: Pachyderm, pin: ServingPin): Promise<string> {
  try {
    await pach.inspectRepo(SERVING_REPO);
  } catch (e) {
    if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    try {
      await pach.createRepo(SERVING_REPO, { description: SERVING_REPO_DESCRIPTION });
    } catch (err) {
      if (!isPachError(err, PachCode.ALREADY_EXISTS)) throw err;
    }
  }
  const c = await commitFiles(pach, `${SERVING_REPO}@master`, [
    { op: 'put', path: PIN_PATH, data: JSON.stringify(pin, null, 2) + '\n' },
  ]);
  return c.id;
}
