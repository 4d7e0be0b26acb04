/**
 * Implicit feedback derived from a trainset's explicit ratings: which (user, item) pairs are
 * *interactions*. Every rating is one by default; with a threshold, only ratings at or above it
 * (the usual "rated ≥ 4 means liked" reading of MovieLens). Ids are the trainset's inner ids, so
 * a ranker's scores line up with the rating models' items.
 *
 * Stored as compressed sparse rows twice, by user and by item (as the trainset is), with no
 * object per interaction. The binary matrix X (nUsers × nItems, x_ui = 1 for an interaction) is
 * what EASE, iALS, BPR and item-kNN learn from (Hu, Koren, Volinsky 2008, section 2; Steck 2019,
 * section 2; Rendle et al. 2009, section 3).
 */
import type { Trainset } from '../trainset';

export class Interactions {
  /** Users and items: the trainset's inner id ranges. */
  readonly nUsers: number;
  readonly nItems: number;
  /** Number of interactions (non-zeros of X). */
  readonly nInteractions: number;
  /** Start of each user's items in `userItems`; length nUsers + 1. */
  readonly userOffsets: Int32Array;
  /** Inner item ids of each user's interactions, ascending within a user. */
  readonly userItems: Int32Array;
  /** Start of each item's users in `itemUsers`; length nItems + 1. */
  readonly itemOffsets: Int32Array;
  /** Inner user ids of each item's interactions, ascending within an item. */
  readonly itemUsers: Int32Array;

  private constructor(
    nUsers: number,
    nItems: number,
    userOffsets: Int32Array,
    userItems: Int32Array,
  ) {
    this.nUsers = nUsers;
    this.nItems = nItems;
    this.userOffsets = userOffsets;
    this.userItems = userItems;
    this.nInteractions = userItems.length;
    const itemOffsets = new Int32Array(nItems + 1);
    for (let p = 0; p < userItems.length; p++) itemOffsets[userItems[p] + 1]++;
    for (let i = 0; i < nItems; i++) itemOffsets[i + 1] += itemOffsets[i];
    const cursor = itemOffsets.slice(0, nItems);
    const itemUsers = new Int32Array(userItems.length);
    for (let u = 0; u < nUsers; u++) {
      for (let p = userOffsets[u]; p < userOffsets[u + 1]; p++)
        itemUsers[cursor[userItems[p]]++] = u;
    }
    this.itemOffsets = itemOffsets;
    this.itemUsers = itemUsers;
  }

  /**
   * The interactions of a trainset.
   * @param threshold null: every rating is an interaction; a number: ratings ≥ it.
   * @throws RangeError for a threshold that is not a finite number.
   */
  static fromTrainset(ts: Trainset, threshold: number | null = null): Interactions {
    if (threshold !== null && !Number.isFinite(threshold)) {
      throw new RangeError(
        `interaction threshold must be a finite rating or null, got ${threshold}`,
      );
    }
    const offsets = new Int32Array(ts.nUsers + 1);
    const items: number[] = [];
    for (let u = 0; u < ts.nUsers; u++) {
      const a = ts.urOffsets[u];
      const b = ts.urOffsets[u + 1];
      const start = items.length;
      for (let p = a; p < b; p++) {
        if (threshold === null || ts.urRatings[p] >= threshold) items.push(ts.urItems[p]);
      }
      const seg = items.slice(start).sort((x, y) => x - y);
      for (let q = 0; q < seg.length; q++) items[start + q] = seg[q];
      offsets[u + 1] = items.length;
    }
    return new Interactions(ts.nUsers, ts.nItems, offsets, Int32Array.from(items));
  }

  /** Builds interactions from explicit lists (tests, model files). Lists need not be sorted. */
  static fromLists(nItems: number, perUser: ReadonlyArray<ArrayLike<number>>): Interactions {
    const offsets = new Int32Array(perUser.length + 1);
    const items: number[] = [];
    perUser.forEach((list, u) => {
      const seg = Array.from(list).sort((x, y) => x - y);
      for (const i of seg) {
        if (!Number.isInteger(i) || i < 0 || i >= nItems) {
          throw new RangeError(`user ${u}: item ${i} is not in [0, ${nItems})`);
        }
        items.push(i);
      }
      offsets[u + 1] = items.length;
    });
    return new Interactions(perUser.length, nItems, offsets, Int32Array.from(items));
  }

  /** User `u`'s items (a view, ascending). */
  items(u: number): Int32Array {
    return this.userItems.subarray(this.userOffsets[u], this.userOffsets[u + 1]);
  }

  /** Item `i`'s users (a view, ascending). */
  users(i: number): Int32Array {
    return this.itemUsers.subarray(this.itemOffsets[i], this.itemOffsets[i + 1]);
  }

  /** Number of interactions of item `i` (its popularity). */
  itemCount(i: number): number {
    return this.itemOffsets[i + 1] - this.itemOffsets[i];
  }

  /** Number of interactions of user `u`. */
  userCount(u: number): number {
    return this.userOffsets[u + 1] - this.userOffsets[u];
  }
}
