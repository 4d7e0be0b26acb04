/**
 * The base of every ranker: a model that learns from implicit feedback (which movies a user
 * rated, `Interactions`) and orders the catalogue for a user, as opposed to a rating model
 * (`AlgoBase`), which estimates a rating per pair.
 *
 * A ranker implements `fitInteractions(x)` and `scoreUser(u, out)` (a score per item, higher is
 * better, on inner ids). The base class gives the rest the same way for all of them:
 * `fit(trainset)` (interactions from the ratings, with the `threshold` parameter; item
 * popularity), `rank(uid, k, exclude)` on raw ids with unknown users answered by the popularity
 * list and flagged `wasImpossible` (as `AlgoBase.predict` flags an unknown user), and `topK` on
 * inner ids for evaluation. Ties are broken by the lower inner item id (the item seen first in
 * the trainset), as `recommend` does for rating models (src/engine/top-n.ts).
 */
import { resolveParams, type ParamSpecs, type ParamValues } from '../params';
import type { Trainset } from '../trainset';
import { TopKHeap } from '../top-n';
import { Interactions } from './interactions';

/** The static side of a ranker class, as the ranker registry uses it. */
export interface RankerClass<R extends RankerBase = RankerBase> {
  new (params?: Record<string, unknown>): R;
  /** Registry name (e.g. "EASE", "iALS", "BPR", "ItemKNN", "MostPopular"). */
  readonly rankerName: string;
  /** Declared hyper-parameters with defaults (`threshold` included, see `INTERACTION_SPECS`). */
  readonly paramSpecs: ParamSpecs;
  /** One-line description for `--help` and reports. */
  readonly description: string;
}

/** The parameter every ranker has: which ratings count as interactions. */
export const INTERACTION_SPECS: ParamSpecs = {
  threshold: {
    type: 'float',
    default: null,
    nullable: true,
    doc: 'Rating at or above which a rating is an interaction; null (default): every rating is one.',
  },
};

/** One ranked item. */
export interface RankedItem {
  /** Raw item id. */
  iid: string;
  /** The ranker's score (higher ranks first); its scale is the ranker's own, not a rating. */
  score: number;
}

/** What `rank` returns. */
export interface RankResult {
  /** The ranker that ranked (its registry name). */
  ranker: string;
  /** Up to k items, best first. */
  items: RankedItem[];
  /** True when the user is unknown to the trainset and the items are the popularity list. */
  wasImpossible: boolean;
  /** Why, when `wasImpossible` ("User unknown: most popular items"). */
  reason?: string;
}

/** The k best items of one user on inner ids (`topK`'s return value), best first. */
export interface InnerTopK {
  ids: Int32Array;
  scores: Float64Array;
}

export abstract class RankerBase {
  /** Resolved hyper-parameters (defaults applied, validated). */
  readonly params: ParamValues;
  private trainsetRef?: Trainset;
  private interactionsRef?: Interactions;
  /** Item popularity: interactions per item (the fallback ranking for unknown users). */
  protected popularity: Float64Array = new Float64Array(0);
  private scratch: Float64Array = new Float64Array(0);

  /**
   * @param params hyper-parameters by name (see the class's `paramSpecs`).
   * @throws ParamError for an unknown parameter or a value of the wrong type or range.
   */
  constructor(params?: Record<string, unknown>) {
    const cls = this.constructor as unknown as RankerClass;
    this.params = resolveParams(cls.paramSpecs, params, cls.rankerName);
  }

  /** Registry name of this ranker's class. */
  get name(): string {
    return (this.constructor as unknown as RankerClass).rankerName;
  }

  /** The trainset of the last `fit`. @throws Error before `fit`. */
  get trainset(): Trainset {
    if (!this.trainsetRef) throw new Error(`${this.name} is not fitted: call fit(trainset) first`);
    return this.trainsetRef;
  }

  /** The interactions the ranker learned from. @throws Error before `fit`. */
  get interactions(): Interactions {
    if (!this.interactionsRef) {
      throw new Error(`${this.name} is not fitted: call fit(trainset) first`);
    }
    return this.interactionsRef;
  }

  /** True once fitted. */
  get isFitted(): boolean {
    return this.trainsetRef !== undefined;
  }

  /**
   * Learns from `trainset`'s ratings read as interactions (parameter `threshold`).
   * @returns this ranker, for chaining.
   */
  fit(trainset: Trainset): this {
    const x = Interactions.fromTrainset(trainset, this.params.threshold as number | null);
    this.trainsetRef = trainset;
    this.interactionsRef = x;
    this.popularity = new Float64Array(x.nItems);
    for (let i = 0; i < x.nItems; i++) this.popularity[i] = x.itemCount(i);
    this.scratch = new Float64Array(x.nItems);
    this.fitInteractions(x);
    return this;
  }

  /** Learns the model from the interactions (the trainset is available as `this.trainset`). */
  protected abstract fitInteractions(x: Interactions): void;

  /** The learned arrays, by name (what a ranker file stores besides the trainset). */
  abstract stateArrays(): Record<string, RankerArray>;

  /** Restores the learned arrays saved by `stateArrays` (after `attach`). */
  protected abstract restoreArrays(arrays: Record<string, RankerArray>): void;

  /**
   * Restores a fitted ranker from its trainset and saved arrays (ranker files): the interactions
   * and popularity are rebuilt from the trainset (they are a pure function of it and `threshold`).
   * @throws RangeError when an array is missing or has the wrong type or length.
   */
  restore(trainset: Trainset, arrays: Record<string, RankerArray>): this {
    const x = Interactions.fromTrainset(trainset, this.params.threshold as number | null);
    this.trainsetRef = trainset;
    this.interactionsRef = x;
    this.popularity = new Float64Array(x.nItems);
    for (let i = 0; i < x.nItems; i++) this.popularity[i] = x.itemCount(i);
    this.scratch = new Float64Array(x.nItems);
    this.restoreArrays(arrays);
    return this;
  }

  /**
   * The rated items of inner user `u` that contributed most to item `j`'s score, best first, at
   * most `n` (the "because you rated …" of a recommendation). The default, for factor models:
   * the user's interactions whose factor vectors are nearest to j's by cosine (`itemVector`);
   * EASE and ItemKNN override it with their exact contributions.
   */
  because(u: number, j: number, n: number): Array<{ item: number; weight: number }> {
    const vj = this.itemVector(j);
    if (!vj || u < 0) return [];
    const out: Array<{ item: number; weight: number }> = [];
    for (const i of this.interactions.items(u)) {
      const vi = this.itemVector(i)!;
      const c = cosine(vi, vj);
      if (c > 0) out.push({ item: i, weight: c });
    }
    out.sort((a, b) => b.weight - a.weight || a.item - b.item);
    return out.slice(0, n);
  }

  /**
   * The items most similar to inner item `i`, best first, at most `n`, with their similarity.
   * The default, for factor models: cosine of the item factor vectors over all items.
   */
  similarItems(i: number, n: number): Array<{ item: number; similarity: number }> {
    checkK(n);
    const vi = this.itemVector(i);
    if (!vi) return [];
    const heap = new TopKHeap(Math.min(n, Math.max(1, this.interactions.nItems - 1)));
    for (let j = 0; j < this.interactions.nItems; j++) {
      if (j !== i) heap.offer(cosine(vi, this.itemVector(j)!), j);
    }
    const m = heap.drainSorted();
    const out: Array<{ item: number; similarity: number }> = [];
    for (let p = 0; p < m; p++) out.push({ item: heap.ids[p], similarity: heap.scores[p] });
    return out;
  }

  /** Item `i`'s factor vector (a view), or null for rankers without item factors. */
  itemVector(_i: number): Float64Array | null {
    return null;
  }

  /**
   * Writes the score of every item for inner user `u` into `out` (length nItems); higher ranks
   * first. Items the user interacted with get scores too (callers exclude them).
   */
  abstract scoreUser(u: number, out: Float64Array): void;

  /**
   * Writes into `out` (length nItems) the scores of a user known only by the interactions
   * `items` (inner item ids; e.g. a user folded in after the fit, whose row of X is those items),
   * when the ranker's scores are a function of X's row alone (EASE: x·B; ItemKNN: x·S).
   * @returns false (and `out` untouched) for rankers whose user side is learned (iALS, BPR,
   *   MostPopular): such a user cannot be scored without a refit.
   */
  scoreItems(_items: ArrayLike<number>, _out: Float64Array): boolean {
    return false;
  }

  /** True when `scoreItems` can score a user known only by their interactions (EASE, ItemKNN). */
  canScoreItems(): boolean {
    return false;
  }

  /**
   * The rated items among `items` that contributed most to item `j`'s score, best first, at most
   * `n` (`because` for a user known only by `items`, see `scoreItems`); [] by default.
   */
  becauseOfItems(
    _items: ArrayLike<number>,
    _j: number,
    _n: number,
  ): Array<{ item: number; weight: number }> {
    return [];
  }

  /**
   * The k best items of a user known only by the interactions `items` (see `scoreItems`), best
   * first, by a bounded heap; null when the ranker cannot score such a user.
   * @param exclude items to leave out (1 = excluded), length nItems, or null for none.
   */
  topKOfItems(items: ArrayLike<number>, k: number, exclude: Uint8Array | null): InnerTopK | null {
    checkK(k);
    const n = this.interactions.nItems;
    const scores = this.scratch.length === n ? this.scratch : new Float64Array(n);
    if (!this.scoreItems(items, scores)) return null;
    const heap = new TopKHeap(Math.min(k, n));
    for (let i = 0; i < n; i++) if (!exclude || !exclude[i]) heap.offer(scores[i], i);
    const m = heap.drainSorted();
    return { ids: heap.ids.slice(0, m), scores: heap.scores.slice(0, m) };
  }

  /**
   * The k best items of inner user `u` on inner ids, best first; −1 scores the popularity list.
   *
   * @param exclude items to leave out (1 = excluded), length nItems, or null for none.
   * @param out optional heap to reuse across calls (capacity ≥ k).
   */
  topK(u: number, k: number, exclude: Uint8Array | null): InnerTopK {
    checkK(k);
    const n = this.interactions.nItems;
    const scores = this.scratch.length === n ? this.scratch : new Float64Array(n);
    if (u < 0) scores.set(this.popularity);
    else this.scoreUser(u, scores);
    const heap = new TopKHeap(Math.min(k, n));
    for (let i = 0; i < n; i++) if (!exclude || !exclude[i]) heap.offer(scores[i], i);
    const m = heap.drainSorted();
    return { ids: heap.ids.slice(0, m), scores: heap.scores.slice(0, m) };
  }

  /**
   * The k items ranked first for raw user `uid`.
   *
   * @param k a whole number ≥ 1.
   * @param exclude true (default): leave out every item the user rated in the trainset; false:
   *   rank every item; a list of raw item ids: leave out exactly those (unknown ids ignored).
   * @returns the items, and `wasImpossible: true` with the popularity list for an unknown user.
   * @throws RangeError for a bad k; Error when not fitted.
   */
  rank(uid: string | number, k: number, exclude: boolean | Iterable<string> = true): RankResult {
    checkK(k);
    const ts = this.trainset;
    const u = ts.findUser(String(uid));
    let mask: Uint8Array | null = null;
    if (exclude === true) {
      if (u >= 0) {
        mask = new Uint8Array(ts.nItems);
        for (const i of ts.ur(u).items) mask[i] = 1;
      }
    } else if (exclude !== false) {
      mask = new Uint8Array(ts.nItems);
      for (const riid of exclude) {
        const i = ts.findItem(String(riid));
        if (i >= 0) mask[i] = 1;
      }
    }
    const top = this.topK(u, k, mask);
    const items: RankedItem[] = [];
    for (let p = 0; p < top.ids.length; p++) {
      items.push({ iid: ts.toRawIid(top.ids[p]), score: top.scores[p] });
    }
    return u >= 0
      ? { ranker: this.name, items, wasImpossible: false }
      : {
          ranker: this.name,
          items,
          wasImpossible: true,
          reason: 'User unknown: most popular items',
        };
  }
}

/** Typed arrays a ranker stores. */
export type RankerArray = Float64Array | Float32Array | Int32Array;

/** Cosine of two vectors (0 when either is zero). */
function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let t = 0; t < a.length; t++) {
    ab += a[t] * b[t];
    aa += a[t] * a[t];
    bb += b[t] * b[t];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * The array `name` of a saved state, checked.
 * @throws RangeError naming the array when it is missing, of another type, or of another length.
 */
export function stateArray<T extends RankerArray>(
  arrays: Record<string, RankerArray>,
  name: string,
  type: { new (n: number): T; name: string },
  length: number,
): T {
  const a = arrays[name];
  if (!(a instanceof type) || a.length !== length) {
    throw new RangeError(
      `ranker state: '${name}' must be a ${type.name} of ${length} elements, got ` +
        (a ? `${a.constructor.name} of ${a.length}` : 'nothing'),
    );
  }
  return a;
}

/** @throws RangeError unless k is a whole number ≥ 1. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
}
