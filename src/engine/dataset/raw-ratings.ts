/**
 * Raw ratings held column-wise, in file order: the analogue of Surprise's `Dataset.raw_ratings`
 * (a list of `(uid, iid, r, timestamp)` tuples) without one object per rating.
 *
 * Raw ids are strings everywhere (the user written `196` and the user written `"196"` are one
 * user). Ratings are on the data set's rating scale, used as they are (half stars kept).
 */
export class RawRatings {
  private usersCache: readonly string[] | null;
  private itemsCache: readonly string[] | null;
  private codes: InternedIds | null = null;

  /**
   * @param users raw user id per rating, length n.
   * @param items raw item id per rating, length n.
   * @param ratings rating values, length n, finite.
   * @param timestamps seconds since the Unix epoch per rating, NaN where unknown; `null` when the
   *   source has no timestamps at all.
   * @throws RangeError when the column lengths differ.
   */
  constructor(
    users: readonly string[],
    items: readonly string[],
    readonly ratings: Float64Array,
    readonly timestamps: Float64Array | null = null,
  ) {
    const n = users.length;
    if (items.length !== n || ratings.length !== n || (timestamps && timestamps.length !== n)) {
      throw new RangeError(
        `RawRatings columns differ in length: users ${n}, items ${items.length}, ratings ${ratings.length}` +
          (timestamps ? `, timestamps ${timestamps.length}` : ''),
      );
    }
    this.usersCache = users;
    this.itemsCache = items;
  }

  /**
   * Ratings with interned ids: `userIds[userCodes[k]]` is the raw user of rating k (likewise
   * items). The compact form for large data (4 bytes per id instead of a string reference per
   * rating); the tables may hold ids no rating uses (a subset shares its parent's tables).
   * @throws RangeError when the column lengths differ or a code is outside its table.
   */
  static fromCodes(
    userCodes: Int32Array,
    userIds: readonly string[],
    itemCodes: Int32Array,
    itemIds: readonly string[],
    ratings: Float64Array,
    timestamps: Float64Array | null = null,
  ): RawRatings {
    const n = userCodes.length;
    if (itemCodes.length !== n || ratings.length !== n || (timestamps && timestamps.length !== n)) {
      throw new RangeError(
        `RawRatings columns differ in length: users ${n}, items ${itemCodes.length}, ratings ${ratings.length}` +
          (timestamps ? `, timestamps ${timestamps.length}` : ''),
      );
    }
    const raw = Object.create(RawRatings.prototype) as RawRatings;
    Object.assign(raw, {
      ratings,
      timestamps,
      usersCache: null,
      itemsCache: null,
      codes: { userCodes, userIds, itemCodes, itemIds },
    });
    return raw;
  }

  /**
   * Raw user id per rating. For ratings built from codes, the array is made on first use (one
   * reference per rating, the strings shared with the id table).
   */
  get users(): readonly string[] {
    if (this.usersCache === null) {
      const { userCodes, userIds } = this.codes!;
      this.usersCache = Array.from(userCodes, (c) => userIds[c]);
    }
    return this.usersCache;
  }

  /** Raw item id per rating (see `users`). */
  get items(): readonly string[] {
    if (this.itemsCache === null) {
      const { itemCodes, itemIds } = this.codes!;
      this.itemsCache = Array.from(itemCodes, (c) => itemIds[c]);
    }
    return this.itemsCache;
  }

  /**
   * The ids interned: a code per rating and the tables of distinct ids (made on first use for
   * ratings built from id arrays: one map of the distinct ids, never one per rating). Ids that are
   * not strings are converted with `String()`.
   */
  interned(): InternedIds {
    if (this.codes === null) {
      const intern = (ids: readonly string[]) => {
        const table: string[] = [];
        const map = new Map<string, number>();
        const codes = new Int32Array(ids.length);
        for (let k = 0; k < ids.length; k++) {
          const s = String(ids[k]);
          let c = map.get(s);
          if (c === undefined) {
            c = table.length;
            map.set(s, c);
            table.push(s);
          }
          codes[k] = c;
        }
        return { codes, table };
      };
      const u = intern(this.usersCache!);
      const i = intern(this.itemsCache!);
      this.codes = {
        userCodes: u.codes,
        userIds: u.table,
        itemCodes: i.codes,
        itemIds: i.table,
      };
    }
    return this.codes;
  }

  /** True when built from codes ({@link RawRatings.fromCodes}): every id is a string. */
  get isInterned(): boolean {
    return this.usersCache === null || this.itemsCache === null;
  }

  /** Number of ratings. */
  get length(): number {
    return this.ratings.length;
  }

  /** The ratings at `indices` (in that order), e.g. one fold of a KFold split. */
  subset(indices: ArrayLike<number>): RawRatings {
    const n = indices.length;
    const ratings = new Float64Array(n);
    const timestamps = this.timestamps ? new Float64Array(n) : null;
    if (this.codes !== null || this.length > 1 << 16) {
      const { userCodes, userIds, itemCodes, itemIds } = this.interned();
      const uc = new Int32Array(n);
      const ic = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        const j = indices[k];
        uc[k] = userCodes[j];
        ic[k] = itemCodes[j];
        ratings[k] = this.ratings[j];
        if (timestamps) timestamps[k] = this.timestamps![j];
      }
      return RawRatings.fromCodes(uc, userIds, ic, itemIds, ratings, timestamps);
    }
    const users = new Array<string>(n);
    const items = new Array<string>(n);
    const su = this.usersCache!;
    const si = this.itemsCache!;
    for (let k = 0; k < n; k++) {
      const j = indices[k];
      users[k] = su[j];
      items[k] = si[j];
      ratings[k] = this.ratings[j];
      if (timestamps) timestamps[k] = this.timestamps![j];
    }
    return new RawRatings(users, items, ratings, timestamps);
  }

  /** The ratings as a testset of `[uid, iid, rUi]` triples, in order. */
  toTestset(): Testset {
    const out: Testset = new Array(this.length);
    const users = this.users;
    const items = this.items;
    for (let k = 0; k < this.length; k++) out[k] = [users[k], items[k], this.ratings[k]];
    return out;
  }
}

/** Ratings' ids in interned form (see {@link RawRatings.fromCodes}). */
export interface InternedIds {
  /** Code of each rating's user: an index into `userIds`. */
  userCodes: Int32Array;
  /** Distinct raw user ids. */
  userIds: readonly string[];
  /** Code of each rating's item: an index into `itemIds`. */
  itemCodes: Int32Array;
  /** Distinct raw item ids. */
  itemIds: readonly string[];
}

/** A rating scale `[lowest, highest]`, e.g. `[1, 5]` or `[0.5, 5]` (Surprise's `rating_scale`). */
export type RatingScale = readonly [lowest: number, highest: number];

/**
 * Checks a rating scale given by a caller. @returns a copy `[lowest, highest]`.
 * @throws RangeError unless it is an array of two finite numbers with lowest < highest.
 */
export function checkRatingScale(scale: RatingScale): RatingScale {
  if (
    !Array.isArray(scale) ||
    scale.length !== 2 ||
    !Number.isFinite(scale[0]) ||
    !Number.isFinite(scale[1]) ||
    !(scale[0] < scale[1])
  ) {
    throw new RangeError(
      `ratingScale must be [lowest, highest] with finite lowest < highest, got ${JSON.stringify(scale)}`,
    );
  }
  return [scale[0], scale[1]];
}

/** One test rating: raw user id, raw item id, true rating (Surprise's testset tuples). */
export type TestRating = [uid: string, iid: string, rUi: number];

/** A list of test ratings (Surprise's `testset`). */
export type Testset = TestRating[];
