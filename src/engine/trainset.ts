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
 *
 * A trainset restored for serving (`fromState` of a model file, engine/model-file.ts) may come
 * without its item rows and with its ratings as float32 (exact for MovieLens's half stars): the
 * item rows are then built on first use (`irOffsets`, `irUsers`, `irRatings`, `ir`, `itemDegree`:
 * O(nRatings) time and 12 bytes per rating, once), and the float64 `urRatings` likewise; `ur(u)`
 * copies only the user's slice (O(degree)). Serving a factor model touches neither: at 25M
 * ratings that is 300 MB of item rows and 200 MB of float64 ratings never allocated.
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
  /**
   * Rating values in urItems order; float32 only when that is how they were stored (every value
   * exact in float32), in which case the float64 array is made on first use.
   */
  urRatings: Float64Array | Float32Array;
  /**
   * The mean of the ratings as `Trainset.build` computed it (pairwise summation); computed again
   * from `urRatings` when absent.
   */
  globalMean?: number;
  /** Item rows as built (raw order); rebuilt in user order on first use when absent. */
  irUsers?: Int32Array;
  irRatings?: Float64Array;
  /**
   * Timestamps in urItems order (`urTimestamps`). `state()` leaves them out (model files do not
   * keep them); the worker pool of cross-validation passes them (model-selection/pool.ts).
   */
  urTimestamps?: Float64Array | null;
}

/** Raw id → position (no pair array per id: 162,000 users load in a few ms). */
function indexOf(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (let k = 0; k < ids.length; k++) m.set(ids[k], k);
  return m;
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

  private ratings64: Float64Array | null;
  private readonly ratings32: Float32Array | null;
  private rows: { offsets: Int32Array; users: Int32Array; ratings: Float64Array } | null = null;
  private itemSums: { counts: Int32Array; sums: Float64Array } | null = null;

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
    urRatings: Float64Array | Float32Array,
    globalMean?: number,
  ) {
    this.nUsers = rawUserIds.length;
    this.nItems = rawItemIds.length;
    this.nRatings = urItems.length;
    this.urOffsets = urOffsets;
    this.urItems = urItems;
    this.ratings64 = urRatings instanceof Float64Array ? urRatings : null;
    this.ratings32 = urRatings instanceof Float32Array ? urRatings : null;
    this.userIndex = indexOf(rawUserIds);
    this.itemIndex = indexOf(rawItemIds);
    this.globalMean = globalMean ?? (this.nRatings > 0 ? mean(urRatings) : NaN);
  }

  /** Rating value of each rating, grouped by user (same order as `urItems`). */
  get urRatings(): Float64Array {
    return (this.ratings64 ??= Float64Array.from(this.ratings32!));
  }

  /** Start of each item's ratings in `irUsers`/`irRatings`; length nItems + 1. */
  get irOffsets(): Int32Array {
    return this.itemRows().offsets;
  }

  /** Inner user id of each rating, grouped by item. */
  get irUsers(): Int32Array {
    return this.itemRows().users;
  }

  /** Rating value of each rating, grouped by item (same order as `irUsers`). */
  get irRatings(): Float64Array {
    return this.itemRows().ratings;
  }

  /** The item rows, made in user order on first use when the trainset was restored without them. */
  private itemRows(): { offsets: Int32Array; users: Int32Array; ratings: Float64Array } {
    if (this.rows) return this.rows;
    const n = this.nRatings;
    const uOf = new Int32Array(n);
    for (let u = 0; u < this.nUsers; u++) uOf.fill(u, this.urOffsets[u], this.urOffsets[u + 1]);
    this.fillItemRows(uOf, this.urItems, this.ratings64 ?? this.ratings32!);
    return this.rows!;
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
    // Inner ids by first appearance, through the interned codes (a table per distinct id, never a
    // map per rating).
    const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
    const innerOfUser = new Int32Array(userIds.length).fill(-1);
    const innerOfItem = new Int32Array(itemIds.length).fill(-1);
    const rawUserIds: string[] = [];
    const rawItemIds: string[] = [];
    const uOf = new Int32Array(n);
    const iOf = new Int32Array(n);
    const rOf = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const j = indices ? indices[k] : k;
      const r = raw.ratings[j];
      const uc = userCodes[j];
      const ic = itemCodes[j];
      if (!Number.isFinite(r)) {
        throw new RangeError(`rating ${k} (user ${userIds[uc]}, item ${itemIds[ic]}) is ${r}`);
      }
      let u = innerOfUser[uc];
      if (u < 0) {
        u = innerOfUser[uc] = rawUserIds.length;
        rawUserIds.push(userIds[uc]);
      }
      let i = innerOfItem[ic];
      if (i < 0) {
        i = innerOfItem[ic] = rawItemIds.length;
        rawItemIds.push(itemIds[ic]);
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
      s.globalMean,
    );
    ts.timestamps = s.urTimestamps ?? null;
    const n = s.urItems.length;
    if (s.irUsers && s.irRatings && s.irUsers.length === n && s.irRatings.length === n) {
      // the saved rows (raw order), as views: offsets are the item degrees' prefix sums
      const offsets = new Int32Array(ts.nItems + 1);
      for (let k = 0; k < n; k++) offsets[s.urItems[k] + 1]++;
      for (let i = 0; i < ts.nItems; i++) offsets[i + 1] += offsets[i];
      ts.rows = { offsets, users: s.irUsers, ratings: s.irRatings };
    }
    return ts;
  }

  /**
   * The arrays and id maps that describe this trainset (see `fromState`).
   * @param opts.itemRows include the item rows (default true; false leaves them out without
   *   building them, for a model file whose algorithm never reads them). `urRatings` is the
   *   float32 array when the trainset was restored from one.
   */
  state(opts: { itemRows?: boolean } = {}): TrainsetState {
    const rows = opts.itemRows === false ? null : this.itemRows();
    return {
      rawUserIds: this.rawUserIds.slice(),
      rawItemIds: this.rawItemIds.slice(),
      ratingScale: [this.ratingScale[0], this.ratingScale[1]],
      urOffsets: this.urOffsets,
      urItems: this.urItems,
      urRatings: this.ratings64 ?? this.ratings32!,
      globalMean: this.globalMean,
      ...(rows ? { irUsers: rows.users, irRatings: rows.ratings } : {}),
    };
  }

  /** Item rows from (user, item, rating) triples in the order they are to appear in each row. */
  private fillItemRows(uOf: Int32Array, iOf: Int32Array, rOf: ArrayLike<number>): void {
    const n = this.nRatings;
    const offsets = new Int32Array(this.nItems + 1);
    for (let k = 0; k < n; k++) offsets[iOf[k] + 1]++;
    for (let i = 0; i < this.nItems; i++) offsets[i + 1] += offsets[i];
    const users = new Int32Array(n);
    const ratings = new Float64Array(n);
    const cursor = offsets.slice(0, this.nItems);
    for (let k = 0; k < n; k++) {
      const p = cursor[iOf[k]]++;
      users[p] = uOf[k];
      ratings[p] = rOf[k];
    }
    this.rows = { offsets, users, ratings };
  }

  /**
   * Number of ratings of item `i` and their sum, without the item rows (one pass over the
   * ratings on first use, then O(1); 12 bytes per item). @throws RangeError for an unknown item
   */
  itemRatingSum(i: number): { count: number; sum: number } {
    if (!this.knowsItem(i)) throw new RangeError(`${i} is not a valid inner id.`);
    if (!this.itemSums) {
      const counts = new Int32Array(this.nItems);
      const sums = new Float64Array(this.nItems);
      const r = this.ratings64 ?? this.ratings32!;
      for (let k = 0; k < this.nRatings; k++) {
        const j = this.urItems[k];
        counts[j]++;
        sums[j] += r[k];
      }
      this.itemSums = { counts, sums };
    }
    return { count: this.itemSums.counts[i], sum: this.itemSums.sums[i] };
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
    const ratings =
      this.ratings64 !== null
        ? this.ratings64.subarray(a, b)
        : Float64Array.from(this.ratings32!.subarray(a, b)); // float32-stored: a copy of the slice
    return { items: this.urItems.subarray(a, b), ratings };
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
