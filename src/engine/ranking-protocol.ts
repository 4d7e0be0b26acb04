/**
 * The top-N ranking protocol of Microsoft Recommenders' MovieLens benchmark, for rating models
 * and rankers alike: each user's k best items among **all** the trainset's items the user did not
 * rate in training, against the user's test items. (Surprise's FAQ recipe, which ranks only each
 * user's test items, is `rankingAtK` in src/engine/top-n.ts: an easier, different question.)
 *
 * Definitions (recommenders/evaluation/python_evaluation.py, `relevancy_method="top_k"`), per
 * user u of the testset known to the trainset ("common users", n of them):
 * - R(u): the top k candidates by score (ties: lower inner item id); candidates are the
 *   trainset's items u has not rated there;
 * - T(u): u's test items, every one relevant whatever its rating (|T(u)| = "actual"), including
 *   items the trainset does not know (they can never be recommended but count as relevant);
 * - hits: the positions p = 1…k of R(u) holding an item of T(u);
 * - precision@k = |hits| / k  (k even when fewer than k candidates exist, as Recommenders/Spark);
 * - recall@k = |hits| / |T(u)|;
 * - nDCG@k = Σ_{p ∈ hits} 1/log(1 + p) / Σ_{p=1..min(k, |T(u)|)} 1/log(1 + p)  (binary gain);
 * - MAP (`map`, Recommenders' `map`, called `map_at_k` before their 1.2 release and in their
 *   published benchmark table): Σ_{p ∈ hits} (hits at or above p / p) / |T(u)|;
 *   `mapAtK` (their current `map_at_k`) divides by min(k, |T(u)|) instead;
 * - hit rate: 1 when |hits| ≥ 1;
 * each averaged over the n users (a user with no hit counts 0). Catalogue coverage
 * (Recommenders' `catalog_coverage`): distinct items recommended to any user / items of the trainset.
 */
import { PredictionImpossible, type AlgoBase } from './algorithms/base';
import type { Testset } from './dataset/raw-ratings';
import './algorithms';
import { createAlgorithm } from './algorithms/registry';
import { createRanker, isRanker } from './rankers';
import type { RankerBase } from './rankers/base';
import { TopKHeap } from './top-n';
import type { Trainset } from './trainset';

/** Something that scores every item of a trainset for one of its users. */
export interface RankingScorer {
  /** The model's name (algorithm or ranker). */
  readonly name: string;
  /** Writes one score per inner item id (higher first) for inner user `u`. */
  scoreUser(u: number, out: Float64Array): void;
}

/**
 * A rating model as a scorer: the estimate `predict` would return (the default prediction when
 * impossible, clipped to the rating scale), i.e. what `recommend` ranks by.
 */
export function scorerOfAlgorithm(algo: AlgoBase): RankingScorer {
  const ts = algo.trainset;
  const [lo, hi] = ts.ratingScale;
  return {
    name: algo.name,
    scoreUser(u, out) {
      for (let i = 0; i < ts.nItems; i++) {
        let est: number;
        try {
          const res = algo.estimate(u, i);
          est = typeof res === 'number' ? res : res.est;
        } catch (err) {
          if (!(err instanceof PredictionImpossible)) throw err;
          est = algo.defaultPrediction();
        }
        out[i] = est < lo ? lo : est > hi ? hi : est;
      }
    },
  };
}

/** A ranker as a scorer (its own scores). */
export function scorerOfRanker(ranker: RankerBase): RankingScorer {
  return { name: ranker.name, scoreUser: (u, out) => ranker.scoreUser(u, out) };
}

/** One user's figures (see the module comment), each in [0, 1]. */
export interface UserRankingFigures {
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  mapAtK: number;
  hit: number;
}

/**
 * One user's figures from the relevance of each recommended item, best first.
 *
 * @param relevant `relevant[p]` is true when the item ranked p + 1 is a test item of the user;
 *   its length is the number of items recommended (≤ k).
 * @param nRelevant |T(u)|, the user's test items, ≥ 1.
 * @param k the cut-off, a whole number ≥ 1.
 * @throws RangeError for nRelevant < 1, a bad k, or more flags than k.
 */
export function userRankingFigures(
  relevant: ArrayLike<boolean>,
  nRelevant: number,
  k: number,
): UserRankingFigures {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  if (!Number.isInteger(nRelevant) || nRelevant < 1) {
    throw new RangeError(`a user needs at least one relevant item, got ${nRelevant}`);
  }
  if (relevant.length > k) throw new RangeError(`${relevant.length} items ranked for k = ${k}`);
  let hits = 0;
  let dcg = 0;
  let rr = 0;
  for (let p = 0; p < relevant.length; p++) {
    if (!relevant[p]) continue;
    hits++;
    dcg += 1 / Math.log(p + 2);
    rr += hits / (p + 1);
  }
  let idcg = 0;
  for (let p = 0; p < Math.min(k, nRelevant); p++) idcg += 1 / Math.log(p + 2);
  return {
    precision: hits / k,
    recall: hits / nRelevant,
    ndcg: dcg / idcg,
    map: rr / nRelevant,
    mapAtK: rr / Math.min(k, nRelevant),
    hit: hits > 0 ? 1 : 0,
  };
}

/** The protocol's figures for one model on one split. */
export interface RankingFigures extends Omit<UserRankingFigures, 'hit'> {
  /** The model's name. */
  algorithm: string;
  k: number;
  /** Users evaluated (test users known to the trainset). */
  nUsers: number;
  hitRate: number;
  /** Distinct items recommended / items of the trainset. */
  coverage: number;
  /** Seconds spent scoring and ranking. */
  testTime: number;
}

/** The figure names, in the order reports print them. */
export const RANKING_METRICS = [
  'ndcg',
  'map',
  'precision',
  'recall',
  'hitRate',
  'coverage',
  'mapAtK',
] as const;
/** One protocol figure name. */
export type RankingMetric = (typeof RANKING_METRICS)[number];

/**
 * Runs the protocol (module comment) for one scorer.
 *
 * @param scorer the fitted model (`scorerOfAlgorithm` or `scorerOfRanker`).
 * @param trainset the trainset the model was fitted on (defines the candidates).
 * @param testset the test part `[uid, iid, rUi]`; every row is relevant.
 * @param k the cut-off, a whole number ≥ 1.
 * @param onUser optional progress callback, called after each user with (done, total).
 * @throws RangeError for a bad k, or when no test user is known to the trainset.
 */
export function evaluateRanking(
  scorer: RankingScorer,
  trainset: Trainset,
  testset: Testset,
  k: number,
  onUser?: (done: number, total: number) => void,
): RankingFigures {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  const t0 = process.hrtime.bigint();
  // Test items per known user (raw ids, so that items unknown to the trainset still count).
  const byUser = new Map<number, Set<string>>();
  for (const [uid, iid] of testset) {
    const u = trainset.findUser(String(uid));
    if (u < 0) continue;
    let set = byUser.get(u);
    if (!set) byUser.set(u, (set = new Set()));
    set.add(String(iid));
  }
  if (byUser.size === 0) throw new RangeError('no user of the testset is known to the trainset');
  const nItems = trainset.nItems;
  const scores = new Float64Array(nItems);
  const rated = new Uint8Array(nItems);
  const recommended = new Uint8Array(nItems);
  const heap = new TopKHeap(Math.min(k, nItems));
  const sums = { precision: 0, recall: 0, ndcg: 0, map: 0, mapAtK: 0, hit: 0 };
  const users = [...byUser.keys()].sort((a, b) => a - b);
  let done = 0;
  for (const u of users) {
    const tests = byUser.get(u)!;
    scorer.scoreUser(u, scores);
    const own = trainset.ur(u).items;
    for (const i of own) rated[i] = 1;
    heap.reset();
    for (let i = 0; i < nItems; i++) if (!rated[i]) heap.offer(scores[i], i);
    for (const i of own) rated[i] = 0;
    const m = heap.drainSorted();
    const flags = new Array<boolean>(m);
    for (let p = 0; p < m; p++) {
      recommended[heap.ids[p]] = 1;
      flags[p] = tests.has(trainset.toRawIid(heap.ids[p]));
    }
    const f = userRankingFigures(flags, tests.size, k);
    sums.precision += f.precision;
    sums.recall += f.recall;
    sums.ndcg += f.ndcg;
    sums.map += f.map;
    sums.mapAtK += f.mapAtK;
    sums.hit += f.hit;
    onUser?.(++done, users.length);
  }
  let covered = 0;
  for (let i = 0; i < nItems; i++) covered += recommended[i];
  const n = users.length;
  return {
    algorithm: scorer.name,
    k,
    nUsers: n,
    precision: sums.precision / n,
    recall: sums.recall / n,
    ndcg: sums.ndcg / n,
    map: sums.map / n,
    mapAtK: sums.mapAtK / n,
    hitRate: sums.hit / n,
    coverage: covered / nItems,
    testTime: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

/** A model to run through the protocol: a rating algorithm or a ranker, by registry name. */
export interface RankingEntry {
  name: string;
  params: Record<string, unknown>;
}

/** One model's result on one split: its figures, its fit time (seconds) and resolved params. */
export interface RankingResult extends RankingFigures {
  fitTime: number;
  params: Record<string, unknown>;
}

/** Progress of `compareRanking`: a model starts fitting, or has been measured. */
export type RankingProgress =
  | { phase: 'fit'; index: number; nModels: number; algorithm: string }
  | { phase: 'done'; index: number; nModels: number; algorithm: string; result: RankingResult };

/**
 * Fits each model on the same trainset and runs the protocol on the same testset, so rating
 * models and rankers are measured on the same lists. Rankers are looked up first (by
 * `isRanker`), then rating algorithms (the algorithm registry).
 *
 * @throws ParamError for an unknown name or parameter; RangeError as `evaluateRanking`.
 */
export function compareRanking(
  entries: readonly RankingEntry[],
  trainset: Trainset,
  testset: Testset,
  k: number,
  onProgress?: (p: RankingProgress) => void,
): RankingResult[] {
  const out: RankingResult[] = [];
  entries.forEach((e, index) => {
    onProgress?.({ phase: 'fit', index: index + 1, nModels: entries.length, algorithm: e.name });
    const t0 = process.hrtime.bigint();
    let scorer: RankingScorer;
    let params: Record<string, unknown>;
    if (isRanker(e.name)) {
      const r = createRanker(e.name, e.params).fit(trainset);
      scorer = scorerOfRanker(r);
      params = r.params;
    } else {
      const a = createAlgorithm(e.name, e.params).fit(trainset);
      scorer = scorerOfAlgorithm(a);
      params = a.params;
    }
    const fitTime = Number(process.hrtime.bigint() - t0) / 1e9;
    const result = { ...evaluateRanking(scorer, trainset, testset, k), fitTime, params };
    out.push(result);
    onProgress?.({
      phase: 'done',
      index: index + 1,
      nModels: entries.length,
      algorithm: e.name,
      result,
    });
  });
  return out;
}
