/**
 * Movies (the catalogue in the `training` repo, catalog.ts) and users (attributes from the catalogue, ratings
 * from the serving model's trainset — i.e. the ratings of the `training` commit the serving model
 * was fitted on, after "the last rating wins").
 *
 * `movies` pages through the catalogue in its order (u.item: by id); the cursor holds the index
 * of the last movie returned.
 */
import type { Catalog, CatalogEntry, CatalogReceipt } from './catalog';
import type { ResolvedServiceConfig } from './config';
import { decodeCursor, encodeCursor } from './cursor';
import type { MoviesService } from './index';
import type { ModelRegistry } from './model-registry';
import type { MovieStats, Page, UserProfile } from './types';
import { validateFirst, validateId } from './validation';

const KIND = 'movie';

/** {@link MoviesService} on the catalogue and the model registry. */
export class Movies implements MoviesService {
  constructor(
    private readonly catalog: Catalog,
    private readonly registry: ModelRegistry,
    private readonly config: ResolvedServiceConfig,
  ) {}

  async movies(
    opts: {
      search?: string | null;
      genre?: string | null;
      first?: number | null;
      after?: string | null;
    } = {},
  ): Promise<Page<CatalogEntry>> {
    const first = validateFirst(opts.first, this.config.maxPageSize, 20);
    let start = 0;
    if (opts.after) {
      const v = decodeCursor(KIND, opts.after);
      if (!Number.isInteger(v) || (v as number) < 0) decodeCursor(KIND, '');
      start = (v as number) + 1;
    }
    const c = await this.catalog.get();
    const search = opts.search ? opts.search.toLowerCase() : null;
    const genre = opts.genre ? opts.genre.toLowerCase() : null;
    const items: Page<CatalogEntry>['items'] = [];
    for (let k = start; k < c.movies.length; k++) {
      const m = c.movies[k];
      if (search !== null && !c.lowerTitles[k].includes(search)) continue;
      if (genre !== null && !m.genres.some((g) => g.toLowerCase() === genre)) continue;
      if (items.length === first) return { items, hasNextPage: true };
      items.push({ node: m, cursor: encodeCursor(KIND, k) });
    }
    return { items, hasNextPage: false };
  }

  upsertMovies(items: unknown): Promise<CatalogReceipt> {
    return this.catalog.upsertMovies(items);
  }

  upsertUsers(items: unknown): Promise<CatalogReceipt> {
    return this.catalog.upsertUsers(items);
  }

  async movie(id: string): Promise<CatalogEntry | null> {
    const movieId = validateId(id, 'id', this.config.maxIdLength);
    return (await this.catalog.get()).byId.get(movieId) ?? null;
  }

  async genres(): Promise<string[]> {
    return (await this.catalog.get()).genres;
  }

  movieStats(id: string): MovieStats {
    const m = this.registry.current();
    if (!m) return { ratingsCount: 0, meanRating: null };
    const ts = m.algo.trainset;
    const i = ts.findItem(id);
    if (i < 0) return { ratingsCount: 0, meanRating: null };
    // per-item sums from the user rows (the serving model file has no item rows: model-file.ts)
    const { count, sum } = ts.itemRatingSum(i);
    return { ratingsCount: count, meanRating: count > 0 ? sum / count : null };
  }

  async user(id: string): Promise<UserProfile | null> {
    const userId = validateId(id, 'id', this.config.maxIdLength);
    const c = await this.catalog.get();
    const m = this.registry.current();
    const ratings: UserProfile['ratings'] = [];
    let inTrainset = false;
    if (m) {
      const ts = m.algo.trainset;
      const u = ts.findUser(userId);
      if (u >= 0) {
        inTrainset = true;
        const own = ts.ur(u);
        for (let k = 0; k < own.items.length; k++) {
          ratings.push({ movieId: ts.toRawIid(own.items[k]), rating: own.ratings[k] });
        }
      }
    }
    const attributes = c.users.get(userId) ?? null;
    if (!inTrainset && attributes === null) return null;
    return {
      id: userId,
      attributes,
      ratings,
      modelVersion: m?.version ?? null,
    };
  }
}
