/**
 * Recommendations and similar movies from the serving ranker (the `ranker.rgr` of the serving
 * `train` commit, workers/train-ranker.ts): pure functions the model registry calls.
 *
 * - `rankedRecommendations`: the ranker's top k for a user (engine `RankerBase.topK`), leaving out
 *   the movies the user rated (unless asked not to) and, with a genre, every movie not of that
 *   genre; each movie with `because`: the user's rated movies that contributed most to its score
 *   (`RankerBase.because`: exact for EASE and ItemKNN, nearest by item factors for iALS/BPR). An
 *   unknown user gets the most popular movies (the ranker's fallback), `knownUser: false`.
 * - `similarMoviesOf`: the movies most similar to one movie (`RankerBase.similarItems`).
 *
 * A user folded in since the model (engine/fold-in-overlay.ts) is ranked by the interactions the overlay
 * holds for them (`RankerBase.topKOfItems`: EASE's x·B, ItemKNN's x·S), rated movies excluded.
 *
 * Cost per call: one score per catalogue movie and a bounded heap of k (no sort of the catalogue),
 * plus `because` for the k movies returned.
 */
import type { RankerBase } from '../engine/rankers';
import type { CatalogData } from './catalog';
import { NotFoundError } from './errors';
import type { BecauseMovie, RecommendedMovie, SimilarMovie } from './types';

/** How many rated movies `because` lists per recommended movie. */
export const BECAUSE_COUNT = 3;

/**
 * The ranker's recommendations for raw user `userId` (see the module comment).
 * @param genre a genre name (case-insensitive, as `movies(genre)`), or null for every movie.
 */
export function rankedRecommendations(
  ranker: RankerBase,
  catalog: CatalogData,
  userId: string,
  opts: { k: number; excludeRated: boolean; genre: string | null },
  folded: { rated: Int32Array; interactions: Int32Array } | null = null,
): { knownUser: boolean; items: RecommendedMovie[] } {
  const ts = ranker.trainset;
  const u = folded ? -1 : ts.findUser(userId);
  const rated = folded ? folded.rated : u >= 0 ? ts.ur(u).items : null;
  let mask: Uint8Array | null = null;
  if ((opts.excludeRated && rated) || opts.genre !== null) {
    mask = new Uint8Array(ts.nItems);
    if (opts.excludeRated && rated) for (const i of rated) mask[i] = 1;
    if (opts.genre !== null) {
      const g = opts.genre.toLowerCase();
      for (let i = 0; i < ts.nItems; i++) {
        const m = catalog.byId.get(ts.toRawIid(i));
        if (!m || !m.genres.some((x) => x.toLowerCase() === g)) mask[i] = 1;
      }
    }
  }
  const top = folded
    ? ranker.topKOfItems(folded.interactions, opts.k, mask)!
    : ranker.topK(u, opts.k, mask);
  const items: RecommendedMovie[] = [];
  for (let p = 0; p < top.ids.length; p++) {
    const i = top.ids[p];
    const movieId = ts.toRawIid(i);
    const because: BecauseMovie[] =
      u >= 0 || folded
        ? (folded
            ? ranker.becauseOfItems(folded.interactions, i, BECAUSE_COUNT)
            : ranker.because(u, i, BECAUSE_COUNT)
          ).map((b) => {
            const id = ts.toRawIid(b.item);
            return { movieId: id, weight: b.weight, movie: catalog.byId.get(id) ?? null };
          })
        : [];
    items.push({
      rank: items.length + 1,
      movieId,
      score: top.scores[p],
      movie: catalog.byId.get(movieId) ?? null,
      because,
    });
  }
  return { knownUser: u >= 0 || folded !== null, items };
}

/**
 * The `k` movies most similar to `movieId` by the ranker, best first.
 * @throws NotFoundError when the ranker's trainset does not know the movie.
 */
export function similarMoviesOf(
  ranker: RankerBase,
  catalog: CatalogData,
  movieId: string,
  k: number,
): SimilarMovie[] {
  const ts = ranker.trainset;
  const i = ts.findItem(movieId);
  if (i < 0) throw new NotFoundError('movie', movieId);
  return ranker.similarItems(i, k).map((s, n) => {
    const id = ts.toRawIid(s.item);
    return {
      rank: n + 1,
      movieId: id,
      similarity: s.similarity,
      movie: catalog.byId.get(id) ?? null,
    };
  });
}
