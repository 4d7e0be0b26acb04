/**
 * Ratings as batch files in the `training` repo: one file per `addRatings` call, one commit per
 * file, which starts a train job (whose id is the commit's id).
 *
 * File: `/batches/<batchId>.txt`, `batchId` = `<13-digit epoch ms>-<16 hex>` (the lexical order of
 * the names is the commit order, which the train program's "last rating wins" rule relies on:
 * workers/training-data.ts), one line per rating `user_id movie_id rating timestamp` (rating as the
 * shortest decimal that reads back to the same number, timestamp in whole seconds).
 */
import { commitFiles } from '../pachyderm/own-commit';
import { randomBytes } from 'node:crypto';
import type { Pachyderm } from '../pachyderm/port';
import type { ResolvedServiceConfig } from './config';
import type { RatingsService } from './index';
import { PachCode, isPachError } from '../pachyderm/errors';
import { NotFoundError, ValidationError } from './errors';
import type { BatchReceipt, BatchRemoval, RatingItem } from './types';
import { validateRatings } from './validation';

/** The form of a batch id. */
export const BATCH_ID = /^\d{13}-[0-9a-f]{16}$/;

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

/**
 * Indexes of the items superseded by a later item with the same (user, movie) in the same list
 * (the last rating wins, as in the train program), ascending.
 */
export function supersededItems(items: readonly RatingItem[]): number[] {
  const last = new Map<string, number>();
  items.forEach((r, k) => last.set(`${r.userId}\u0000${r.movieId}`, k));
  const out: number[] = [];
  items.forEach((r, k) => {
    if (last.get(`${r.userId}\u0000${r.movieId}`) !== k) out.push(k);
  });
  return out;
}

/** {@link RatingsService} on a Pachyderm port. */
export class Ratings implements RatingsService {
  /**
   * @param countRated how many items rate a pair the serving model holds a rating of (the
   *   registry's `countRated`); default: none
   * @param foldIn told each committed batch, its `training` commit id and batch id
   *   (fold-in-feed.ts `committed`: its users are folded into the serving model, and the batch
   *   published with it for the predict pipeline, before `addRatings` returns); it must not throw
   *   (the batch is committed whatever it does); default: nothing
   * @param unfold told the id of each removed batch (fold-in-feed.ts `removed`), awaited before
   *   `removeBatch` returns; default: nothing
   */
  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly countRated: (items: readonly RatingItem[]) => number = () => 0,
    private readonly foldIn: (
      items: readonly RatingItem[],
      commit: string,
      batchId: string,
    ) => Promise<unknown> = () => Promise.resolve(),
    private readonly unfold: (batchId: string) => unknown = () => undefined,
  ) {}

  async addRatings(items: readonly unknown[]): Promise<BatchReceipt> {
    const nowMs = Date.now();
    const valid = validateRatings(items, this.config, Math.floor(nowMs / 1000));
    const batchId = newBatchId(nowMs);
    const path = `/batches/${batchId}.txt`;
    const commit = await commitFiles(this.pach, `${this.config.trainingRepo}@master`, [
      { op: 'put', path, data: batchFileText(valid) },
    ]);
    const superseded = supersededItems(valid);
    const skip = new Set(superseded);
    const replaced = this.countRated(valid.filter((_, k) => !skip.has(k)));
    await this.foldIn(valid, commit.id, batchId);
    return {
      batchId,
      path,
      commit: commit.id,
      count: valid.length,
      replaced,
      superseded,
    };
  }

  async removeBatch(batchId: string): Promise<BatchRemoval> {
    if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) {
      throw new ValidationError('arguments', [
        {
          index: null,
          field: 'id',
          message: `id must be a batch id <13-digit epoch ms>-<16 hex> as addRatings returns it, got ${JSON.stringify(String(batchId).slice(0, 80))}`,
        },
      ]);
    }
    const path = `/batches/${batchId}.txt`;
    const branch = `${this.config.trainingRepo}@master`;
    let bytes: Buffer;
    try {
      bytes = await this.pach.readFile({ commit: branch, path });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) throw new NotFoundError('rating batch', batchId);
      throw e;
    }
    // a commit of our own (exact id with any number of replicas; never into a FINISHING head)
    const commit = await commitFiles(this.pach, branch, [{ op: 'delete', path }]);
    await this.unfold(batchId);
    const count = countNonBlankLines(bytes);
    return { batchId, path, commit: commit.id, count };
  }
}

/**
 * Lines holding something besides whitespace in UTF-8 text, counted on the bytes (a batch file can
 * be a 10-million-rating chunk of `reelgraph import ratings`: no string of it is made). Whitespace:
 * space, tab, CR, VT, FF (non-ASCII bytes count as content).
 */
export function countNonBlankLines(bytes: Uint8Array): number {
  let count = 0;
  let content = false;
  for (let k = 0; k < bytes.length; k++) {
    const c = bytes[k];
    if (c === 10) {
      if (content) count++;
      content = false;
    } else if (!(c === 32 || c === 9 || c === 13 || c === 11 || c === 12)) content = true;
  }
  return content ? count + 1 : count;
}
