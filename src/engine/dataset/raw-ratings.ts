/**
 * Raw ratings held column-wise, in file order: the analogue of Surprise's `Dataset.raw_ratings`
 * (a list of `(uid, iid, r, timestamp)` tuples) without one object per rating.
 *
 * Raw ids are strings everywhere (the user written `196` and the user written `"196"` are one
 * user). Ratings are on the data set's rating scale, used as they are (half stars kept).
 */
export class RawRatings {
  /**
   * @param users raw user id per rating, length n.
   * @param items raw item id per rating, length n.
   * @param ratings rating values, length n, finite.
   * @param timestamps seconds since the Unix epoch per rating, NaN where unknown; `null` when the
   *   source has no timestamps at all.
   * @throws RangeError when the column lengths differ.
   */
  constructor(
    readonly users: readonly string[],
    readonly items: readonly string[],
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
  }

  /** Number of ratings. */
  get length(): number {
    return this.users.length;
  }

  /** The ratings at `indices` (in that order), e.g. one fold of a KFold split. */
  subset(indices: ArrayLike<number>): RawRatings {
    const n = indices.length;
    const users = new Array<string>(n);
    const items = new Array<string>(n);
    const ratings = new Float64Array(n);
    const timestamps = this.timestamps ? new Float64Array(n) : null;
    for (let k = 0; k < n; k++) {
      const j = indices[k];
      users[k] = this.users[j];
      items[k] = this.items[j];
      ratings[k] = this.ratings[j];
      if (timestamps) timestamps[k] = this.timestamps![j];
    }
    return new RawRatings(users, items, ratings, timestamps);
  }

  /** The ratings as a testset of `[uid, iid, rUi]` triples, in order. */
  toTestset(): Testset {
    const out: Testset = new Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = [this.users[k], this.items[k], this.ratings[k]];
    return out;
  }
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
