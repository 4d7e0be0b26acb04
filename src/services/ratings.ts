/**
 * Ratings as batch files in the `training` repo: one file per `addRatings` call, one commit per
 * file, which starts a train job (whose id is the commit's id).
 *
 * File: `/batches/<batchId>.txt`, `batchId` = `<13-digit epoch ms>-<16 hex>` (the lexical order of
 * the names is the commit order, which the train program's "latest rating wins" rule relies on:
 * workers/training-data.ts), one line per rating `user_id movie_id rating timestamp` (rating as the
 * shortest decimal that reads back to the same number, timestamp in whole seconds).
 */
import { commitFiles } from '../pachyderm/own-commit';
import { randomBytes } from 'node:crypto';
import type { Pachyderm } from '../pachyderm/port';
import type { ResolvedServiceConfig } from './config';
import type { RatingsService } from './index';
import type { BatchReceipt, RatingItem } from './types';
import { validateRatings } from './validation';

/** A batch id: 13-digit epoch milliseconds, a dash, 16 random hex digits. */
export function newBatchId(nowMs = Date.now()): string {
  return `${String(nowMs).padStart(13, '0')}-${randomBytes(8).toString('hex')}`;
}

/** The text of a batch file (one line per rating, each ending with `\n`). */
export function batchFileText(items: readonly RatingItem[]): string {
  let s = '';
  for (const r of items) s += `${r.userId} ${r.movieId} ${String(r.rating)} ${r.timestamp}\n`;
  return s;
}

/** {@link RatingsService} on a Pachyderm port. */
export class Ratings implements RatingsService {
  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
  ) {}

  async addRatings(items: readonly unknown[]): Promise<BatchReceipt> {
    const nowMs = Date.now();
    const valid = validateRatings(items, this.config, Math.floor(nowMs / 1000));
    const batchId = newBatchId(nowMs);
    const path = `/batches/${batchId}.txt`;
    const commit = await commitFiles(this.pach, `${this.config.trainingRepo}@master`, [
      { op: 'put', path, data: batchFileText(valid) },
    ]);
    return { batchId, path, commit: commit.id, count: valid.length };
  }
}
