/**
 * Small helpers shared by the engine tests: a trainset from literal rows, and the MovieLens 100K
 * folder of this machine (tests needing it fail, naming $REELGRAPH_DATASETS, where it is absent:
 * test/helpers/datasets.ts; never downloaded).
 */
import * as path from 'node:path';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import { DATASETS, requireDataset } from '../helpers/datasets';

export { DATASETS, requireDataset };

/** A trainset of `[user, item, rating]` rows, in order, on the rating scale `scale`. */
export function trainsetOf(
  rows: [string, string, number][],
  scale: [number, number] = [1, 5],
): Trainset {
  const raw = new RawRatings(
    rows.map((r) => r[0]),
    rows.map((r) => r[1]),
    Float64Array.from(rows.map((r) => r[2])),
  );
  return Trainset.build(raw, scale);
}

/** The ml-100k folder (u.data, u1.base … u5.test). */
export const ML100K_DIR = path.join(DATASETS, 'ml-100k');

/**
 * `describe` for tests on ml-100k's predefined folds: a `beforeAll` first checks that the folds
 * are on this machine and fails the suite naming $REELGRAPH_DATASETS when they are not (one loud
 * policy: never skipped).
 */
export function describeMl100k(name: string, fn: () => void): void {
  describe(name, () => {
    beforeAll(() => {
      requireDataset('ml-100k', 'u1.base');
    });
    fn();
  });
}
