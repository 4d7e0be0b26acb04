/**
 * Small helpers shared by the engine tests: a trainset from literal rows, and the MovieLens 100K
 * folder of this machine (tests needing it are skipped where it is absent; never downloaded).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';

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

/** The data sets of this machine: REELGRAPH_DATASETS, else /work/shared/datasets. */
export const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');

/** The ml-100k folder (u.data, u1.base … u5.test). */
export const ML100K_DIR = path.join(DATASETS, 'ml-100k');

/** `describe` when ml-100k's predefined folds are on this machine, else `describe.skip`. */
export const describeIfMl100k = fs.existsSync(path.join(ML100K_DIR, 'u1.base'))
  ? describe
  : describe.skip;
