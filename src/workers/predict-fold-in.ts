/**
 * The fold-in of the predict program: the rating batches the service published next to the model
 * in the `models` repo (`<models>/fold-in/`, workers/files.ts FOLD_IN_DIR), folded into the model
 * with the same engine code as the API's online answers (engine/fold-in-overlay.ts), so that a
 * `requestPredictions` answer for a user who rated since the model's `training` commit equals the
 * online `predict` answer (`modelSource: FOLDED_IN`).
 *
 * Files are applied in name order (= commit order); each line is `user_id movie_id rating
 * [timestamp]` separated by tabs and/or spaces; a line that does not parse (or whose rating is not
 * a finite number) is skipped, as the train program's reader would reject it. The overlay's own
 * bounds apply (engine/fold-in-overlay.ts: users per batch, users and ratings held); the service
 * bounds what it publishes (services/fold-in-publisher.ts), so reading costs at most that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AlgoBase } from '../engine/algorithms/base';
import { FoldInOverlay } from '../engine/fold-in-overlay';
import { FOLD_IN_DIR } from './files';

/** The ratings of one batch file's text (bad lines skipped), in file order. */
export function parseBatchText(
  text: string,
): Array<{ userId: string; movieId: string; rating: number }> {
  const out: Array<{ userId: string; movieId: string; rating: number }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/[ \t]+/);
    if (f.length < 3 || f.length > 4) continue;
    const rating = Number(f[2]);
    if (f[2] === '' || !Number.isFinite(rating)) continue;
    out.push({ userId: f[0], movieId: f[1], rating });
  }
  return out;
}

/** What {@link foldInOf} read. */
export interface WorkerFoldIn {
  /** The overlay over the model (null when the `models` commit holds no fold-in). */
  overlay: FoldInOverlay | null;
  /** Batch files applied. */
  batches: number;
  /** Ratings read from them. */
  ratings: number;
}

/**
 * Reads `<modelRoot>/fold-in/` and folds its batches into `algo` (lazily: a user is solved at
 * the first answer that names them).
 * @returns an empty result (`overlay: null`) when there is no such directory or it is empty.
 */
export function foldInOf(modelRoot: string, algo: AlgoBase): WorkerFoldIn {
  const dir = path.join(modelRoot, FOLD_IN_DIR);
  let names: string[];
  try {
    names = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch {
    return { overlay: null, batches: 0, ratings: 0 };
  }
  if (names.length === 0) return { overlay: null, batches: 0, ratings: 0 };
  const overlay = new FoldInOverlay({ algo }, 0);
  let ratings = 0;
  names.forEach((name, k) => {
    const items = parseBatchText(fs.readFileSync(path.join(dir, name), 'utf8'));
    ratings += items.length;
    overlay.add(items, k + 1, name);
  });
  return { overlay, batches: names.length, ratings };
}
