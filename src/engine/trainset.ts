/**
 * The trainset: ratings mapped to dense inner ids and laid out for fast training.
 *
 * Follows Surprise's `Trainset` (surprise/trainset.py) and `Dataset.construct_trainset`: inner ids
 * are given to users and items in the order they first appear in the raw ratings; `ur[u]` lists a
 * user's ratings and `ir[i]` an item's in the order they appear; `allRatings()` walks users by inner
 * id, each user's ratings in order. Because the order is the same, algorithms that visit ratings
 * in sequence (SGD) do exactly the updates Surprise does.
 *
 * Storage is compressed sparse rows, twice: by user (`urOffsets`, `urItems`, `urRatings`) and by
 * item (`irOffsets`, `irUsers`, `irRatings`). The ratings of user `u` are at positions
 * `urOffsets[u] … urOffsets[u + 1] − 1`; iterating those positions for u = 0…nUsers−1 is
 * `allRatings()`. No object is allocated per rating.
 */
import { mean } from './numeric';
import type { RatingScale, RawRatings, Testset } from './dataset/raw-ratings';
import type { SideInfo } from './dataset/side-info';

/** The arrays and id maps that fully describe a trainset (for model files). */
export interface TrainsetState {
  rawUserIds: string[];
  rawItemIds: string[];
  ratingScale: [number, number];
  urOffsets: Int32Array;
  urItems: Int32Array;
  urRatings: Float64Array;
  /** Item rows as built (raw order); rebuilt in user order when absent. */
  irUsers?: Int32Array;
  irRatings?: Float64Array;
  /**
   * Timestamps in urItems order (`urTimestamps`). `state()` leaves them out (model files do not
   * keep them); the worker pool of cross-validation passes them (model-selection/pool.ts).
   */
  urTimestamps?: Float64Array | null;
}

export class Trainset {
  /** Number of distinct users (inner ids 0…nUsers−1). */
  readonly nUsers: number;
  /** Number of distinct items (inner ids 0…nItems−1). */
  readonly nItems: number;
  /** Number of ratings. */
  readonly nRatings: number;
  /** Mean of all ratings, computed as `numpy.mean` does (pairwise summation). */
  readonly globalMean: number;
  /** Start of each user's ratings in `urItems`/`urRatings`; length nUsers + 1. */
  readonly urOffsets: Int32Array;
  /** Inner item id of each rating, grouped by user. */
  readonly urItems: Int32Array;
  /** Rating value of each rating, grouped by user (same order as `urItems`). */
  readonly urRatings: Float64Array;
  /** Start of each item's ratings in `irUsers`/`irRatings`; length nItems + 1. */
  readonly irOffsets: Int32Array;
  /** Inner user id of each rating, grouped by item. */
  readonly irUsers: Int32Array;
  /** Rating value of each rating, grouped by item (same order as `irUsers`). */
  readonly irRatings: Float64Array;

  private readonly userIndex: Map<string, number>;
  private readonly itemIndex: Map<string, number>;
  private side: SideInfo | null = null;
  private timestamps: Float64Array | null = null;

  private constructor(
    private readonly rawUserIds: string[],
    private readonly rawItemIds: string[],
    /** The rating scale `[lowest, highest]`; predictions are clipped to it. */
    readonly ratingScale: RatingScale,
    urOffsets: Int32Array,
    urItems: Int32Array,
    urRatings: Float64Array,
  ) {
    this.nUsers = rawUserIds.length;
    this.nItems = rawItemIds.length;
    this.nRatings = urItems.length;
    this.urOffsets = urOffsets;
    this.urItems = urItems;
    this.urRatings = urRatings;
    this.userIndex = new Map(rawUserIds.map((id, u) => [id, u]));
    this.itemIndex = new Map(rawItemIds.map((id, i) => [id, i]));
    this.globalMean = this.nRatings > 0 ? mean(urRatings) : NaN;

    // Item rows: offsets here; contents filled by build() in raw order (the order Surprise
    // appends to ir[i]) or by fromState() in user order.
    const irOffsets = new Int32Array(this.nItems + 1);
    for (let k = 0; k < this.nRatings; k++) irOffsets[urItems[k] + 1]++;
    for (let i = 0; i < this.nItems; i++) irOffsets[i + 1] += irOffsets[i];
    this.irOffsets = irOffsets;
    this.irUsers = new Int32Array(this.nRatings);
    this.irRatings = new Float64Array(this.nRatings);
  }

  /**
   * Builds a trainset from raw ratings, in their order (Surprise's `construct_trainset`).
   *
   * @param raw the ratings; `indices` selects and orders a subset (e.g. a KFold training part).
   * @param ratingScale the scale the ratings are on.
   * @param sideInfo attributes of users and items (also of ones without ratings) for algorithms
   *   that use them (BayesianFM); the others ignore it. Kept by reference as `sideInfo`.
   * @throws RangeError when there are no ratings, or a rating is not finite.
   */
  static build(
    raw: RawRatings,
    ratingScale: RatingScale,
    indices?: ArrayLike<number>,
    sideInfo: SideInfo | null = null,
  ): Trainset {
    const n = indices ? indices.length : raw.length;
    if (n === 0) throw new RangeError('cannot build a trainset from zero ratings');
    const userIndex = new Map<string, number>();
    const itemIndex = new Map<string, number>();
    const rawUserIds: string[] = [];
    const rawItemIds: string[] = [];
    const uOf = new Int32Array(n);
    const iOf = new Int32Array(n);
    const rOf = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const j = indices ? indices[k] : k;
      const r = raw.ratings[j];
      if (!Number.isFinite(r)) {
        throw new RangeError(`rating ${k} (user ${raw.users[j]}, item ${raw.items[j]}) is ${r}`);
      }
      let u = userIndex.get(raw.users[j]);
      if (u === undefined) {
        u = rawUserIds.length;
        userIndex.set(raw.users[j], u);
        rawUserIds.push(raw.users[j]);
      }
      let i = itemIndex.get(raw.items[j]);
      if (i === undefined) {
        i = rawItemIds.length;
        itemIndex.set(raw.items[j], i);
        rawItemIds.push(raw.items[j]);
      }
      uOf[k] = u;
      iOf[k] = i;
      rOf[k] = r;
    }
    const nUsers = rawUserIds.length;
    const urOffsets = new Int32Array(nUsers + 1);
    for (let k = 0; k < n; k++) urOffsets[uOf[k] + 1]++;
    for (let u = 0; u < nUsers; u++) urOffsets[u + 1] += urOffsets[u];
    const cursor = urOffsets.slice(0, nUsers);
    const urItems = new Int32Array(n);
    const urRatings = new Float64Array(n);
    const times = raw.timestamps;
    const urTimes = times ? new Float64Array(n) : null;
    for (let k = 0; k < n; k++) {
      const p = cursor[uOf[k]]++;
      urItems[p] = iOf[k];
      urRatings[p] = rOf[k];
      if (urTimes) urTimes[p] = times![indices ? indices[k] : k];
    }
    const ts = new Trainset(rawUserIds, rawItemIds, ratingScale, urOffsets, urItems, urRatings);
    ts.fillItemRows(uOf, iOf, rOf);
    ts.side = sideInfo;
    ts.timestamps = urTimes;
    return ts;
  }

  /** Restores a trainset saved with `state()`. @throws RangeError on inconsistent arrays. */
  static fromState(s: TrainsetState): Trainset {
    const nU = s.rawUserIds.length;
    if (s.urOffsets.length !== nU + 1 || s.urOffsets[nU] !== s.urItems.length) {
      throw new RangeError('trainset state: urOffsets does not match the number of users/ratings');
    }
    if (s.urRatings.length !== s.urItems.length) {
      throw new RangeError('trainset state: urItems and urRatings differ in length');
    }
    const ts = new Trainset(
      s.rawUserIds,
      s.rawItemIds,
      [s.ratingScale[0], s.ratingScale[1]],
      s.urOffsets,
      s.urItems,
      s.urRatings,
    );
    ts.timestamps = s.urTimestamps ?? null;
    const n = s.urItems.length;
    if (s.irUsers && s.irRatings && s.irUsers.length === n && s.irRatings.length === n) {
      ts.irUsers.set(s.irUsers);
      ts.irRatings.set(s.irRatings);
      return ts;
    }
    // Item rows in user order.
    const uOf = new Int32Array(n);
    for (let u = 0; u < nU; u++) uOf.fill(u, s.urOffsets[u], s.urOffsets[u + 1]);
    ts.fillItemRows(uOf, s.urItems, s.urRatings);
    return ts;
  }

  /** The arrays and id maps that describe this trainset (see `fromState`). */
  state(): TrainsetState {
    return {
      rawUserIds: this.rawUserIds.slice(),
      rawItemIds: this.rawItemIds.slice(),
      ratingScale: [this.ratingScale[0], this.ratingScale[1]],
      urOffsets: this.urOffsets,
      urItems: this.urItems,
      urRatings: this.urRatings,
      irUsers: this.irUsers,
      irRatings: this.irRatings,
    };
  }

  private fillItemRows(uOf: Int32Array, iOf: Int32Array, rOf: Float64Array): void {
    const cursor = this.irOffsets.slice(0, this.nItems);
    for (let k = 0; k < uOf.length; k++) {
      const p = cursor[iOf[k]]++;
      this.irUsers[p] = uOf[k];
      this.irRatings[p] = rOf[k];
    }
  }

  /**
   * Attributes of users and items given to `build` (they may cover users and items without
   * ratings), or null. Not stored in model files: an algorithm that uses them saves what it needs.
   */
  get sideInfo(): SideInfo | null {
    return this.side;
  }

  /**
   * Timestamp of each rating (seconds since the Unix epoch, NaN where unknown) in the order of
   * `urItems`, when the raw ratings had timestamps; null otherwise (and after a model load).
   */
  get urTimestamps(): Float64Array | null {
    return this.timestamps;
  }

  /** True when `u` is the inner id of a user of this trainset. */
  knowsUser(u: number): boolean {
    return Number.isInteger(u) && u >= 0 && u < this.nUsers;
  }

  /** True when `i` is the inner id of an item of this trainset. */
  knowsItem(i: number): boolean {
    return Number.isInteger(i) && i >= 0 && i < this.nItems;
  }

  /** Inner id of a raw user id. @throws RangeError "User X is not part of the trainset." */
  toInnerUid(ruid: string): number {
    const u = this.userIndex.get(String(ruid));
    if (u === undefined) throw new RangeError(`User ${ruid} is not part of the trainset.`);
    return u;
  }

  /** Inner id of a raw item id. @throws RangeError "Item X is not part of the trainset." */
  toInnerIid(riid: string): number {
    const i = this.itemIndex.get(String(riid));
    if (i === undefined) throw new RangeError(`Item ${riid} is not part of the trainset.`);
    return i;
  }

  /** Inner id of a raw user id, or −1 when the user is unknown. */
  findUser(ruid: string): number {
    return this.userIndex.get(String(ruid)) ?? -1;
  }

  /** Inner id of a raw item id, or −1 when the item is unknown. */
  findItem(riid: string): number {
    return this.itemIndex.get(String(riid)) ?? -1;
  }

  /** Raw id of an inner user id. @throws RangeError when out of range. */
  toRawUid(u: number): string {
    if (!this.knowsUser(u)) throw new RangeError(`${u} is not a valid inner id.`);
    return this.rawUserIds[u];
  }

  /** Raw id of an inner item id. @throws RangeError when out of range. */
  toRawIid(i: number): string {
    if (!this.knowsItem(i)) throw new RangeError(`${i} is not a valid inner id.`);
    return this.rawItemIds[i];
  }

  /** Number of ratings of user `u`. */
  userDegree(u: number): number {
    return this.urOffsets[u + 1] - this.urOffsets[u];
  }

  /** Number of ratings of item `i`. */
  itemDegree(i: number): number {
    return this.irOffsets[i + 1] - this.irOffsets[i];
  }

  /** User `u`'s ratings: views (no copies) of item ids and values, in order. */
  ur(u: number): { items: Int32Array; ratings: Float64Array } {
    const a = this.urOffsets[u];
    const b = this.urOffsets[u + 1];
    return { items: this.urItems.subarray(a, b), ratings: this.urRatings.subarray(a, b) };
  }

  /** Item `i`'s ratings: views (no copies) of user ids and values, in order. */
  ir(i: number): { users: Int32Array; ratings: Float64Array } {
    const a = this.irOffsets[i];
    const b = this.irOffsets[i + 1];
    return { users: this.irUsers.subarray(a, b), ratings: this.irRatings.subarray(a, b) };
  }

  /** Every rating as `[u, i, r]` with inner ids, user by user (Surprise's `all_ratings()`). */
  *allRatings(): Generator<[u: number, i: number, r: number]> {
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.urOffsets[u]; p < this.urOffsets[u + 1]; p++) {
        yield [u, this.urItems[p], this.urRatings[p]];
      }
    }
  }

  /** The trainset's ratings as a testset with raw ids, in `allRatings()` order. */
  buildTestset(): Testset {
    const out: Testset = [];
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.urOffsets[u]; p < this.urOffsets[u + 1]; p++) {
        out.push([this.rawUserIds[u], this.rawItemIds[this.urItems[p]], this.urRatings[p]]);
      }
    }
    return out;
  }

  /**
   * Inner ids of the items user `u` has not rated, ascending: the candidates for top-N.
   * @throws RangeError when `u` is not a known inner user id.
   */
  unratedItems(u: number): Int32Array {
    if (!this.knowsUser(u)) throw new RangeError(`${u} is not a valid inner user id.`);
    const rated = new Uint8Array(this.nItems);
    for (let p = this.urOffsets[u]; p < this.urOffsets[u + 1]; p++) rated[this.urItems[p]] = 1;
    const out = new Int32Array(this.nItems - this.userDegree(u));
    let k = 0;
    for (let i = 0; i < this.nItems; i++) if (!rated[i]) out[k++] = i;
    return out;
  }

  /**
   * Every (user, item) pair not in the trainset, with `fill` as the true rating (Surprise's
   * `build_anti_testset(fill=None)`, whose default fill is the global mean). Users by inner id,
   * items by inner id. Its size is nUsers × nItems − nRatings: use `unratedItems(u)` per user for
   * large data.
   */
  buildAntiTestset(fill: number = this.globalMean): Testset {
    const out: Testset = [];
    for (let u = 0; u < this.nUsers; u++) {
      const ruid = this.rawUserIds[u];
      for (const i of this.unratedItems(u)) out.push([ruid, this.rawItemIds[i], fill]);
    }
    return out;
  }
}
