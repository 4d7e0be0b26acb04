/**
 * The fold-in overlay of one serving model version: the users who rated since the model's
 * `training` commit, each folded into the model (engine/fold-in.ts) so that `predict` and
 * `recommendations` reflect their ratings at once, while the train pipeline refits.
 *
 * - A batch is added with the start time of its `training` commit. Each user named is folded
 *   again at their next look-up (lazily: adding costs O(1) per rating, a look-up one solve), from
 *   their whole rating list: the serving trainset's ratings of the user, then every batch held for
 *   them in commit order (the last rating of a movie wins, as the train program's rule).
 * - When a newer model is served, {@link FoldInOverlay.rebase} keeps only the batches committed
 *   after that model's `training` commit started (the ones it did not see) and re-folds their
 *   users against the new model; a retrain thus clears what it learned.
 * - Bounded: at most {@link FOLD_IN_MAX_USERS} users and {@link FOLD_IN_MAX_RATINGS} held ratings
 *   per model version; past either cap the users folded longest ago are dropped (they are
 *   answered by the trained model until the retrain that includes them). A batch folds at most
 *   {@link FOLD_IN_MAX_USERS_PER_BATCH} distinct users (the first ones named); the rest wait for
 *   the retrain. So a bulk import costs at most that many solves per chunk.
 *
 * The rating model is folded when it can be ({@link canFoldIn}: SVD, SVDpp, NMF, BaselineOnly);
 * the ranker when its scores are a function of the user's interactions alone (EASE, ItemKNN:
 * `RankerBase.scoreItems`). Pure data structure: the model registry owns one and swaps it with
 * the model.
 */
import type { AlgoBase } from './algorithms/base';
import { canFoldIn, foldInUser, type FoldedUser } from './fold-in';
import type { RankerBase } from './rankers';

/** Users held per model version (the users folded longest ago are dropped past it). */
export const FOLD_IN_MAX_USERS = 10_000;
/** New ratings held per model version (same eviction). */
export const FOLD_IN_MAX_RATINGS = 1_000_000;
/** Distinct users folded from one batch (the first ones named; the rest wait for the retrain). */
export const FOLD_IN_MAX_USERS_PER_BATCH = 2_000;

/** One batch's ratings of one user. */
interface UserBatch {
  /** Start time (epoch ms) of the batch's `training` commit. */
  committedMs: number;
  /** The batch's id (ratings.ts), so that `removeBatch` can take it out again; null if unknown. */
  batchId: string | null;
  ratings: Array<[movieId: string, rating: number]>;
}

/** What the overlay holds of one user: their batches, and the fold computed at first use. */
interface UserEntry {
  /** The batches held for the user, in commit order. */
  batches: UserBatch[];
  /** The fold against the overlay's model, computed on first `get` (null until then). */
  fold: FoldedEntry | null;
}

/** One user folded into the overlay's model. */
export interface FoldedEntry {
  /** The rating model's folded user, or null when the model cannot fold or knows no rated movie. */
  folded: FoldedUser | null;
  /**
   * For the ranker: every movie the user rated (inner ids of the ranker's trainset) and those that
   * count as interactions (rating ≥ the ranker's `threshold`); null when the ranker cannot score
   * the user this way.
   */
  ranker: { rated: Int32Array; interactions: Int32Array } | null;
}

/** The model an overlay folds into. */
export interface FoldTarget {
  algo: AlgoBase;
  ranker?: RankerBase | null;
}

/** See the module comment. */
export class FoldInOverlay {
  /** The number of users whose fold was solved (for the fold-in benchmark and logs). */
  solves = 0;
  private readonly users = new Map<string, UserEntry>();
  private heldRatings = 0;

  /**
   * @param target the serving model's rating algorithm and ranker
   * @param trainedFromMs start time (epoch ms) of the `training` commit the model was trained
   *   on: batches committed at or before it are in the model already and are not held
   * @param caps the bounds (defaults: the exported constants)
   */
  constructor(
    readonly target: FoldTarget,
    readonly trainedFromMs: number,
    private readonly caps = {
      maxUsers: FOLD_IN_MAX_USERS,
      maxRatings: FOLD_IN_MAX_RATINGS,
      maxUsersPerBatch: FOLD_IN_MAX_USERS_PER_BATCH,
    },
  ) {}

  /** Number of users held. */
  get size(): number {
    return this.users.size;
  }

  /** Number of new ratings held. */
  get ratingsHeld(): number {
    return this.heldRatings;
  }

  /**
   * Raw user `userId` folded into the model (solved at the first call after their latest batch,
   * then kept), or undefined when no batch is held for the user.
   */
  get(userId: string): FoldedEntry | undefined {
    const e = this.users.get(userId);
    if (!e) return undefined;
    return (e.fold ??= this.fold(userId, e.batches));
  }

  /**
   * Folds in one committed batch.
   * @param items the batch's ratings (in file order)
   * @param committedMs start time (epoch ms) of its `training` commit
   * @param batchId the batch's id (for {@link FoldInOverlay.remove}), or null
   * @returns the users held from it (at most `maxUsersPerBatch`, in order of first appearance;
   *   none when the batch is not newer than the model's `training` commit). Their folds are
   *   solved at their next `get` (O(1) work per rating here), so a large batch never blocks.
   */
  add(
    items: ReadonlyArray<{ userId: string; movieId: string; rating: number }>,
    committedMs: number,
    batchId: string | null = null,
  ): string[] {
    if (committedMs <= this.trainedFromMs) return [];
    const byUser = new Map<string, Array<[string, number]>>();
    for (const r of items) {
      let list = byUser.get(r.userId);
      if (!list) {
        if (byUser.size >= this.caps.maxUsersPerBatch) continue;
        byUser.set(r.userId, (list = []));
      }
      list.push([r.movieId, r.rating]);
    }
    for (const [userId, ratings] of byUser) {
      const prev = this.users.get(userId);
      const batches = prev ? prev.batches : [];
      if (prev) this.users.delete(userId); // re-inserted last: the most recently folded
      batches.push({ committedMs, batchId, ratings });
      // commit order, whatever the order batches arrive in (own commits and the watch's race)
      if (batches.length > 1 && batches[batches.length - 2].committedMs > committedMs) {
        batches.sort((x, y) => x.committedMs - y.committedMs);
      }
      this.heldRatings += ratings.length;
      this.users.set(userId, { batches, fold: null });
    }
    this.evict();
    return [...byUser.keys()];
  }

  /**
   * A new overlay for `target` (a newer model) holding the batches committed after
   * `trainedFromMs` (the start time of the `training` commit the model was trained on), re-folded.
   */
  rebase(target: FoldTarget, trainedFromMs: number): FoldInOverlay {
    const next = new FoldInOverlay(target, trainedFromMs, this.caps);
    for (const [userId, e] of this.users) {
      const batches = e.batches.filter((b) => b.committedMs > trainedFromMs);
      if (batches.length === 0) continue;
      for (const b of batches) next.heldRatings += b.ratings.length;
      next.users.set(userId, { batches, fold: null });
    }
    next.evict();
    return next;
  }

  /**
   * Takes batch `batchId` out again (`removeBatch`): its users are folded from their other batches
   * at their next look-up, or answered by the trained model when none is left (which still holds
   * the batch if it was trained on it, until the retrain that follows the removal).
   * @returns how many users held the batch
   */
  remove(batchId: string): number {
    let n = 0;
    for (const [userId, e] of [...this.users]) {
      const kept = e.batches.filter((b) => b.batchId !== batchId);
      if (kept.length === e.batches.length) continue;
      n++;
      for (const b of e.batches) if (b.batchId === batchId) this.heldRatings -= b.ratings.length;
      if (kept.length === 0) this.users.delete(userId);
      else this.users.set(userId, { batches: kept, fold: null });
    }
    return n;
  }

  /** Drops the users folded longest ago while a cap is exceeded. */
  private evict(): void {
    for (const [userId, e] of this.users) {
      if (this.users.size <= this.caps.maxUsers && this.heldRatings <= this.caps.maxRatings) break;
      this.users.delete(userId);
      for (const b of e.batches) this.heldRatings -= b.ratings.length;
    }
  }

  /** The user's whole rating list (trainset, then batches in order) folded into the target. */
  private fold(userId: string, batches: readonly UserBatch[]): FoldedEntry {
    const { algo, ranker } = this.target;
    this.solves++;
    const folded = canFoldIn(algo)
      ? foldInUser(algo, ratingsOf(algo, userId, batches), userId)
      : null;
    let rankerPart: FoldedEntry['ranker'] = null;
    if (ranker && ranker.isFitted && ranker.canScoreItems()) {
      const ts = ranker.trainset;
      const all = ratingsOf(ranker, userId, batches);
      const threshold = ranker.params.threshold as number | null;
      const rated: number[] = [];
      const interactions: number[] = [];
      for (const [movieId, r] of all) {
        const i = ts.findItem(movieId);
        if (i < 0) continue;
        rated.push(i);
        if (threshold === null || r >= threshold) interactions.push(i);
      }
      rankerPart = {
        rated: Int32Array.from(rated).sort(),
        interactions: Int32Array.from(interactions).sort(),
      };
    }
    return { folded, ranker: rankerPart };
  }
}

/** The trainset's ratings of `userId` (raw movie id → rating), then `batches` over them. */
function ratingsOf(
  model: { trainset: AlgoBase['trainset'] },
  userId: string,
  batches: readonly UserBatch[],
): Map<string, number> {
  const ts = model.trainset;
  const out = new Map<string, number>();
  const u = ts.findUser(userId);
  if (u >= 0) {
    const { items, ratings } = ts.ur(u);
    for (let t = 0; t < items.length; t++) out.set(ts.toRawIid(items[t]), ratings[t]);
  }
  for (const b of batches) for (const [m, r] of b.ratings) out.set(m, r);
  return out;
}
