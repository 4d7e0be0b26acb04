/**
 * Top-N evaluation and recommendation: precision@k, recall@k, NDCG@k, hit rate and catalogue
 * coverage of the k items an algorithm would recommend, and `recommend` (one user's top k).
 *
 * Two families of measures live here:
 *
 * 1. `precisionRecallAtK(predictions, k, threshold)` — exactly the function of Surprise's FAQ
 *    ("How to compute precision@k and recall@k", docs/source/FAQ.rst, examples/
 *    precision_recall_at_k.py). It ranks only the items of the testset: for each user, the test
 *    predictions sorted by estimate; an item is *recommended* when it is in the top k **and** its
 *    estimate is ≥ threshold, *relevant* when its true rating is ≥ threshold.
 *    `rankingAtK` adds NDCG@k and hits on the same ranking (what `reelgraph compare --top-n`
 *    and `evaluate --top-n` report from each fold's test predictions).
 *
 * 2. `evaluateTopN(algo, testset, options)` — the candidate-based protocol: for each user of the
 *    testset known to the trainset, the candidates are all the items of the trainset the user has
 *    not rated there (`Trainset.unratedItems`), every candidate is estimated, the k best are the
 *    recommendations (ties: lower inner item id first, i.e. the item seen first in the trainset).
 *    The user's *relevant* items are their test items that are candidates and whose true rating is
 *    ≥ threshold. This measures what a deployed recommender would show (Cremonesi, Koren, Turrin,
 *    "Performance of recommender algorithms on top-N recommendation tasks", RecSys 2010).
 *
 * Everything runs on inner ids and typed arrays; the top k is kept in a bounded binary heap
 * (O(n log k) per user), no object is allocated per candidate.
 */
import { PredictionImpossible, type AlgoBase, type Prediction } from './algorithms/base';
import type { Testset } from './dataset/raw-ratings';
import type { Trainset } from './trainset';

// ---------------------------------------------------------------------------------------------
// Surprise's FAQ variant
// ---------------------------------------------------------------------------------------------

/** Per-user precision and recall at k (Surprise FAQ's `precision_recall_at_k` return value). */
export interface PrecisionRecallAtK {
  /** Raw user id → precision@k in [0, 1], users in order of first appearance. */
  precisions: Map<string, number>;
  /** Raw user id → recall@k in [0, 1], same users and order. */
  recalls: Map<string, number>;
}

/**
 * Precision and recall at k of each user, from the predictions of a testset — the function of
 * Surprise's FAQ (examples/precision_recall_at_k.py), same definitions, same tie order:
 *
 * - a user's predictions are sorted by estimate, descending, stably (equal estimates keep the
 *   testset order, as Python's `list.sort(reverse=True)`);
 * - `nRel` = predictions with true rating ≥ threshold; `nRecK` = predictions among the first k
 *   whose estimate is ≥ threshold; `nRelAndRecK` = those among the first k with both;
 * - precision = nRelAndRecK / nRecK, **0 when nRecK is 0**; recall = nRelAndRecK / nRel, **0 when
 *   nRel is 0** (the FAQ sets both undefined cases to 0).
 *
 * Average the maps' values to get the FAQ's mean precision/recall (see `meanOf`). For NDCG@k and
 * hits on the same ranking, see {@link rankingAtK}.
 *
 * @param predictions as returned by `algo.test(testset)`; each needs a true rating `rUi`.
 * @param k number of top predictions per user, a whole number ≥ 1 (default 10).
 * @param threshold rating at or above which an item is relevant/recommended (default 3.5).
 * @throws RangeError for a bad k or threshold, or a prediction without a true rating.
 */
export function precisionRecallAtK(
  predictions: readonly Pick<Prediction, 'uid' | 'rUi' | 'est'>[],
  k = 10,
  threshold = 3.5,
): PrecisionRecallAtK {
  const { precisions, recalls } = rankingAtK(predictions, k, threshold);
  return { precisions, recalls };
}

/** Per-user ranking figures at k on the testset's items ({@link rankingAtK}'s return value). */
export interface RankingAtK extends PrecisionRecallAtK {
  /** Raw user id → NDCG@k in [0, 1] (binary gain), same users and order; 0 when nRel is 0. */
  ndcgs: Map<string, number>;
  /** Raw user id → 1 when the user's top k holds a relevant recommended item (nRelAndRecK ≥ 1), else 0. */
  hits: Map<string, number>;
}

/**
 * Ranking figures at k of each user on the items of a testset (the protocol of Surprise's FAQ,
 * see {@link precisionRecallAtK}): each user's predictions sorted by estimate, descending, stably.
 * Precision and recall are exactly the FAQ's; on the same ranking, with an item *relevant* when
 * its true rating is ≥ threshold:
 *
 * - NDCG@k = DCG / IDCG with DCG = Σ_{p=1..min(k,n)} rel_p / log2(p + 1) (rel_p = 1 when the
 *   prediction ranked p is relevant, else 0; n = the user's predictions) and IDCG the same sum
 *   for the ideal order, Σ_{p=1..min(k,nRel)} 1 / log2(p + 1) (Järvelin & Kekäläinen, "Cumulated
 *   gain-based evaluation of IR techniques", TOIS 2002; scikit-learn's `ndcg_score(y_true=rel,
 *   y_score=est, k=k)` with ties broken by testset order). The ranking is by estimate only: a
 *   relevant item in the top k counts whatever its estimate. **0 when nRel is 0** (as the FAQ
 *   does for recall, and as scikit-learn does for a sample with no relevant item).
 * - hit = 1 when nRelAndRecK ≥ 1 (at least one of the top k has estimate and true rating
 *   ≥ threshold), else 0; the mean of the hits is the hit rate over all users of the testset.
 *
 * No estimate beyond the predictions given is computed: this ranks the test items only (the
 * candidate-based protocol, which estimates every unrated item, is {@link evaluateTopN}).
 *
 * @param predictions as returned by `algo.test(testset)`; each needs a true rating `rUi`.
 * @param k number of top predictions per user, a whole number ≥ 1 (default 10).
 * @param threshold rating at or above which an item is relevant/recommended (default 3.5).
 * @returns maps keyed by raw user id, users in order of first appearance.
 * @throws RangeError for a bad k or threshold, or a prediction without a true rating.
 */
export function rankingAtK(
  predictions: readonly Pick<Prediction, 'uid' | 'rUi' | 'est'>[],
  k = 10,
  threshold = 3.5,
): RankingAtK {
  checkK(k);
  checkThreshold(threshold);
  const byUser = new Map<string, number[]>();
  for (let p = 0; p < predictions.length; p++) {
    const pred = predictions[p];
    if (typeof pred.rUi !== 'number') {
      throw new RangeError(
        `prediction ${p} (user ${pred.uid}) has no true rating (rUi is ${String(pred.rUi)})`,
      );
    }
    let list = byUser.get(pred.uid);
    if (!list) byUser.set(pred.uid, (list = []));
    list.push(p);
  }
  const precisions = new Map<string, number>();
  const recalls = new Map<string, number>();
  const ndcgs = new Map<string, number>();
  const hits = new Map<string, number>();
  for (const [uid, list] of byUser) {
    // Array.prototype.sort is stable: equal estimates keep the testset order, as Python's.
    list.sort((a, b) => predictions[b].est - predictions[a].est);
    let nRel = 0;
    for (const p of list) if ((predictions[p].rUi as number) >= threshold) nRel++;
    let nRecK = 0;
    let nRelAndRecK = 0;
    let dcg = 0;
    for (let q = 0; q < Math.min(k, list.length); q++) {
      const pred = predictions[list[q]];
      const relevant = (pred.rUi as number) >= threshold;
      if (relevant) dcg += 1 / Math.log2(q + 2);
      if (pred.est >= threshold) {
        nRecK++;
        if (relevant) nRelAndRecK++;
      }
    }
    let idcg = 0;
    for (let q = 0; q < Math.min(k, nRel); q++) idcg += 1 / Math.log2(q + 2);
    precisions.set(uid, nRecK !== 0 ? nRelAndRecK / nRecK : 0);
    recalls.set(uid, nRel !== 0 ? nRelAndRecK / nRel : 0);
    ndcgs.set(uid, nRel !== 0 ? dcg / idcg : 0);
    hits.set(uid, nRelAndRecK > 0 ? 1 : 0);
  }
  return { precisions, recalls, ndcgs, hits };
}

/** Arithmetic mean of a map's values (NaN for an empty map), e.g. of `precisions`. */
export function meanOf(values: Map<string, number>): number {
  let s = 0;
  for (const v of values.values()) s += v;
  return values.size > 0 ? s / values.size : NaN;
}

// ---------------------------------------------------------------------------------------------
// Candidate-based top-N
// ---------------------------------------------------------------------------------------------

/** One recommended item. */
export interface Recommendation {
  /** Raw item id. */
  iid: string;
  /** The estimated rating, as `algo.predict(uid, iid).est` (clipped to the rating scale). */
  est: number;
}

/** Options of `recommend`. */
export interface RecommendOptions {
  /** How many items, a whole number ≥ 1 (default 10). */
  k?: number;
  /** Leave out the items the user rated in the trainset (default true). */
  excludeRated?: boolean;
}

/**
 * The k items with the highest estimates for one user: what the API serves.
 *
 * Candidates are all items of the trainset, without those the user rated when `excludeRated`
 * (default). An unknown user gets every item as a candidate, estimated as `predict` estimates for
 * an unknown user (e.g. μ + b_i for BaselineOnly; the global mean for most others, in which case
 * the order is the trainset's item order). Ties: lower inner item id first.
 *
 * @param algo a fitted algorithm.
 * @param uid raw user id.
 * @returns up to k recommendations, best first.
 * @throws RangeError for a bad k; Error when the algorithm is not fitted.
 */
export function recommend(
  algo: AlgoBase,
  uid: string | number,
  options: RecommendOptions = {},
): Recommendation[] {
  const k = options.k ?? 10;
  checkK(k);
  const ts = algo.trainset;
  const ruid = String(uid);
  const u = ts.findUser(ruid);
  let candidates: Int32Array;
  if (u >= 0 && (options.excludeRated ?? true)) candidates = ts.unratedItems(u);
  else {
    candidates = new Int32Array(ts.nItems);
    for (let i = 0; i < ts.nItems; i++) candidates[i] = i;
  }
  const heap = new TopKHeap(k);
  for (let c = 0; c < candidates.length; c++) {
    heap.offer(clippedEstimate(algo, ts, u, candidates[c], ruid), candidates[c]);
  }
  const n = heap.drainSorted();
  const out: Recommendation[] = new Array(n);
  for (let q = 0; q < n; q++) out[q] = { iid: ts.toRawIid(heap.ids[q]), est: heap.scores[q] };
  return out;
}

/** Options of `evaluateTopN`. */
export interface TopNOptions {
  /** Length of each recommendation list, a whole number ≥ 1 (default 10). */
  k?: number;
  /** True rating at or above which a test item is relevant (default 3.5, as Surprise's FAQ). */
  threshold?: number;
  /**
   * Gain of NDCG: `'binary'` (default) — 1 for a relevant item, 0 otherwise; `'graded'` — the
   * item's true test rating when it is relevant, 0 otherwise.
   */
  gain?: 'binary' | 'graded';
  /** Also return each user's figures (default false). */
  perUser?: boolean;
}

/** One user's top-N figures (with `perUser`). */
export interface TopNUser {
  /** Raw user id. */
  uid: string;
  /** Recommended raw item ids, best first (min(k, number of candidates) of them). */
  recommended: string[];
  /** Number of relevant items (relevant test items among the candidates). */
  nRelevant: number;
  /** Number of recommended items that are relevant. */
  nHits: number;
  /** nHits / |recommended|. */
  precision: number;
  /** nHits / nRelevant; NaN when nRelevant is 0. */
  recall: number;
  /** DCG / ideal DCG; NaN when nRelevant is 0. */
  ndcg: number;
}

/** The result of `evaluateTopN`. Means are over the users with at least one relevant item. */
export interface TopNResult {
  k: number;
  threshold: number;
  gain: 'binary' | 'graded';
  /** Mean precision@k: per user, relevant recommended items / recommended items (k' = min(k, candidates)). */
  precision: number;
  /** Mean recall@k: per user, relevant recommended items / relevant items. */
  recall: number;
  /** Mean NDCG@k: DCG = Σ_{p=1..k'} gain_p / log2(p + 1), divided by the DCG of the ideal order. */
  ndcg: number;
  /** Share of users whose top k contains at least one relevant item. */
  hitRate: number;
  /** Distinct items recommended to the users with candidates / number of items of the trainset. */
  coverage: number;
  /** Users of the testset known to the trainset with at least one candidate (given a top k). */
  nUsersRecommended: number;
  /** Of those, users with at least one relevant item: the denominator of the means. */
  nUsersEvaluated: number;
  /** Users of the testset the trainset does not know (no recommendations computed). */
  nUsersUnknown: number;
  /** Test ratings not usable as relevant items (unknown user or item, or already rated in the trainset). */
  nTestRatingsSkipped: number;
  /** Per-user figures, with `perUser: true`; users in order of first appearance in the testset. */
  users?: TopNUser[];
}

/**
 * Top-N evaluation of a fitted algorithm against a testset (candidate-based protocol, see the
 * module documentation).
 *
 * Definitions, per user u of the testset known to the trainset:
 * - candidates C(u) = items of the trainset u has not rated there; every one is estimated
 *   (`predict`'s estimate: fallback to the global mean when impossible, clipped to the scale);
 * - R(u) = the top k' = min(k, |C(u)|) candidates by estimate (ties: lower inner item id);
 * - Rel(u) = u's test items in C(u) with true rating ≥ threshold (a test item unknown to the
 *   trainset, or already rated by u there, cannot be recommended and is skipped);
 * - precision = |R ∩ Rel| / k'; recall = |R ∩ Rel| / |Rel|; NDCG = DCG / IDCG with
 *   DCG = Σ_{p=1..k'} g(R_p) / log2(p + 1) and IDCG the same sum over Rel sorted by gain
 *   (at most k' terms); hit = |R ∩ Rel| ≥ 1.
 *
 * Users with no relevant item have recall and NDCG undefined: they are left out of all the means
 * (precision, recall, NDCG, hit rate), as IR evaluation leaves out queries with no relevant
 * document — unlike the FAQ function, which counts them as 0. They still count for coverage.
 * When no user has a relevant item, the means are NaN.
 *
 * @param algo a fitted algorithm (its trainset defines the candidates).
 * @param testset `[uid, iid, rUi]` triples, typically the test part of a split.
 * @throws RangeError for a bad k, threshold or gain; Error when the algorithm is not fitted.
 */
export function evaluateTopN(
  algo: AlgoBase,
  testset: Testset,
  options: TopNOptions = {},
): TopNResult {
  const k = options.k ?? 10;
  const threshold = options.threshold ?? 3.5;
  const gain = options.gain ?? 'binary';
  checkK(k);
  checkThreshold(threshold);
  if (gain !== 'binary' && gain !== 'graded') {
    throw new RangeError(`gain must be 'binary' or 'graded', got ${JSON.stringify(gain)}`);
  }
  const ts = algo.trainset;

  // Group the usable test ratings by inner user (CSR), users in order of first appearance.
  const n = testset.length;
  const tu = new Int32Array(n).fill(-1);
  const ti = new Int32Array(n).fill(-1);
  const userOrder: number[] = [];
  const seenUser = new Uint8Array(ts.nUsers);
  const unknownUsers = new Set<string>();
  let nTestRatingsSkipped = 0;
  for (let t = 0; t < n; t++) {
    const [uid, iid] = testset[t];
    const u = ts.findUser(String(uid));
    if (u < 0) {
      unknownUsers.add(String(uid));
      nTestRatingsSkipped++;
      continue;
    }
    if (!seenUser[u]) {
      seenUser[u] = 1;
      userOrder.push(u);
    }
    tu[t] = u;
    ti[t] = ts.findItem(String(iid));
  }
  const start = new Int32Array(ts.nUsers + 1);
  for (let t = 0; t < n; t++) if (tu[t] >= 0) start[tu[t] + 1]++;
  for (let u = 0; u < ts.nUsers; u++) start[u + 1] += start[u];
  const cursor = start.slice(0, ts.nUsers);
  const testItem = new Int32Array(start[ts.nUsers]);
  const testRating = new Float64Array(start[ts.nUsers]);
  for (let t = 0; t < n; t++) {
    if (tu[t] < 0) continue;
    const p = cursor[tu[t]]++;
    testItem[p] = ti[t];
    testRating[p] = testset[t][2];
  }

  const rated = new Uint8Array(ts.nItems); // u's trainset items (reset after each user)
  const truth = new Float64Array(ts.nItems).fill(NaN); // u's relevant test ratings by item
  const counted = new Uint8Array(ts.nItems);
  const recommendedEver = new Uint8Array(ts.nItems);
  const heap = new TopKHeap(k);
  const relGains: number[] = [];
  const users: TopNUser[] = [];
  let sumP = 0;
  let sumR = 0;
  let sumN = 0;
  let hits = 0;
  let nEvaluated = 0;
  let nRecommended = 0;

  for (const u of userOrder) {
    const a = ts.urOffsets[u];
    const b = ts.urOffsets[u + 1];
    for (let p = a; p < b; p++) rated[ts.urItems[p]] = 1;
    // Relevant items: test items that are candidates, true rating ≥ threshold (the last rating
    // of a repeated test pair wins).
    for (let p = start[u]; p < start[u + 1]; p++) {
      const i = testItem[p];
      if (i < 0 || rated[i]) {
        nTestRatingsSkipped++;
        continue;
      }
      truth[i] = testRating[p] >= threshold ? testRating[p] : NaN;
    }
    relGains.length = 0;
    for (let p = start[u]; p < start[u + 1]; p++) {
      const i = testItem[p];
      if (i >= 0 && !rated[i] && !counted[i]) {
        counted[i] = 1; // a repeated test pair counts once
        if (!Number.isNaN(truth[i])) relGains.push(gain === 'binary' ? 1 : truth[i]);
      }
    }
    const nRel = relGains.length;

    // Score every candidate, keep the k best.
    heap.reset();
    for (let i = 0; i < ts.nItems; i++) {
      if (rated[i]) continue;
      heap.offer(clippedEstimate(algo, ts, u, i), i);
    }
    const kPrime = heap.drainSorted();
    for (let p = a; p < b; p++) rated[ts.urItems[p]] = 0;

    let nHits = 0;
    let dcg = 0;
    for (let q = 0; q < kPrime; q++) {
      const i = heap.ids[q];
      recommendedEver[i] = 1;
      const t = truth[i];
      if (!Number.isNaN(t)) {
        nHits++;
        dcg += (gain === 'binary' ? 1 : t) / Math.log2(q + 2);
      }
    }
    let idcg = 0;
    relGains.sort((x, y) => y - x);
    for (let q = 0; q < Math.min(nRel, kPrime); q++) idcg += relGains[q] / Math.log2(q + 2);
    for (let p = start[u]; p < start[u + 1]; p++) {
      if (testItem[p] >= 0) {
        truth[testItem[p]] = NaN;
        counted[testItem[p]] = 0;
      }
    }

    if (kPrime > 0) nRecommended++;
    const precision = kPrime > 0 ? nHits / kPrime : NaN;
    const recall = nRel > 0 ? nHits / nRel : NaN;
    const ndcg = nRel > 0 && idcg > 0 ? dcg / idcg : NaN;
    if (kPrime > 0 && nRel > 0) {
      nEvaluated++;
      sumP += precision;
      sumR += recall;
      sumN += ndcg;
      if (nHits > 0) hits++;
    }
    if (options.perUser) {
      const recommended: string[] = [];
      for (let q = 0; q < kPrime; q++) recommended.push(ts.toRawIid(heap.ids[q]));
      users.push({
        uid: ts.toRawUid(u),
        recommended,
        nRelevant: nRel,
        nHits,
        precision,
        recall,
        ndcg,
      });
    }
  }

  let distinct = 0;
  for (let i = 0; i < ts.nItems; i++) distinct += recommendedEver[i];
  const result: TopNResult = {
    k,
    threshold,
    gain,
    precision: nEvaluated > 0 ? sumP / nEvaluated : NaN,
    recall: nEvaluated > 0 ? sumR / nEvaluated : NaN,
    ndcg: nEvaluated > 0 ? sumN / nEvaluated : NaN,
    hitRate: nEvaluated > 0 ? hits / nEvaluated : NaN,
    coverage: ts.nItems > 0 ? distinct / ts.nItems : NaN,
    nUsersRecommended: nRecommended,
    nUsersEvaluated: nEvaluated,
    nUsersUnknown: unknownUsers.size,
    nTestRatingsSkipped,
  };
  if (options.perUser) result.users = users;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/**
 * The estimate `algo.predict` returns for inner ids (−1 = unknown): `estimate`, or the default
 * prediction when it throws PredictionImpossible, clipped to the rating scale. Avoids predict's
 * raw-id look-ups and result objects in the candidate loop. `ruid` is passed on (as `predict`
 * does) so that an algorithm with side information can answer an unknown user from attributes.
 */
export function clippedEstimate(
  algo: AlgoBase,
  ts: Trainset,
  u: number,
  i: number,
  ruid?: string,
): number {
  let est: number;
  try {
    const res = algo.estimate(u, i, ruid);
    est = typeof res === 'number' ? res : res.est;
  } catch (err) {
    if (!(err instanceof PredictionImpossible)) throw err;
    est = algo.defaultPrediction();
  }
  const [lo, hi] = ts.ratingScale;
  return est < lo ? lo : est > hi ? hi : est;
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
}

function checkThreshold(threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new RangeError(`threshold must be a finite number, got ${String(threshold)}`);
  }
}

/**
 * The k best (score, id) pairs seen: a binary min-heap on "worse" (lower score, or equal score
 * and higher id), so the root is the pair to evict. `drainSorted` leaves the kept pairs in
 * `scores`/`ids` best first. A NaN score ranks below every number.
 */
export class TopKHeap {
  readonly scores: Float64Array;
  readonly ids: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.scores = new Float64Array(k);
    this.ids = new Int32Array(k);
  }

  reset(): void {
    this.size = 0;
  }

  /**
   * The score of the worst pair kept once k pairs are kept, else −Infinity: offering pairs in
   * increasing id order, a score ≤ it can never enter (an equal score loses on the id).
   */
  worst(): number {
    return this.size < this.k ? -Infinity : this.scores[0];
  }

  /** True when (s1, i1) ranks below (s2, i2). */
  private worse(s1: number, i1: number, s2: number, i2: number): boolean {
    if (Number.isNaN(s1)) return !Number.isNaN(s2) || i1 > i2;
    if (Number.isNaN(s2)) return false;
    return s1 < s2 || (s1 === s2 && i1 > i2);
  }

  offer(score: number, id: number): void {
    const s = this.scores;
    const d = this.ids;
    if (this.size < this.k) {
      let c = this.size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!this.worse(score, id, s[parent], d[parent])) break;
        s[c] = s[parent];
        d[c] = d[parent];
        c = parent;
      }
      s[c] = score;
      d[c] = id;
      return;
    }
    if (!this.worse(s[0], d[0], score, id)) return;
    this.siftDown(score, id, this.size);
  }

  private siftDown(score: number, id: number, size: number): void {
    const s = this.scores;
    const d = this.ids;
    let c = 0;
    for (;;) {
      let m = 2 * c + 1;
      if (m >= size) break;
      if (m + 1 < size && this.worse(s[m + 1], d[m + 1], s[m], d[m])) m++;
      if (!this.worse(s[m], d[m], score, id)) break;
      s[c] = s[m];
      d[c] = d[m];
      c = m;
    }
    s[c] = score;
    d[c] = id;
  }

  /** Sorts the kept pairs best first into `scores[0..n)`/`ids[0..n)`; returns n. Empties the heap. */
  drainSorted(): number {
    const n = this.size;
    // Heap-sort: repeatedly move the worst (root) to the end.
    for (let end = n - 1; end > 0; end--) {
      const rs = this.scores[0];
      const ri = this.ids[0];
      const ls = this.scores[end];
      const li = this.ids[end];
      this.scores[end] = rs;
      this.ids[end] = ri;
      this.siftDown(ls, li, end);
    }
    this.size = 0;
    return n;
  }
}
