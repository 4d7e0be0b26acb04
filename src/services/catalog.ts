/**
 * The movie catalogue and user demographics of MovieLens 100K (u.item, u.user), read once from
 * the data set's directory (found or downloaded as engine `loadMovies` does: the service config's
 * `dataset` options, else REELGRAPH_DATASETS, else the cache). When the files cannot be had, the
 * catalogue is empty (movies are then known by id only) and the reason is kept in `error`.
 */
import { loadMovies, loadUsers, type Movie, type User } from '../engine/dataset/metadata';
import type { BuiltinOptions } from '../engine/dataset/builtin';

/** The loaded catalogue. */
export interface CatalogData {
  movies: Movie[];
  byId: Map<string, Movie>;
  /** Lower-cased titles, same order as `movies` (for search). */
  lowerTitles: string[];
  /** Distinct genres, sorted by name. */
  genres: string[];
  users: Map<string, User>;
  /** Why the catalogue is empty, if it is. */
  error: string | null;
}

/** Lazily loaded ml-100k metadata. */
export class Catalog {
  private loading?: Promise<CatalogData>;

  constructor(private readonly options: BuiltinOptions) {}

  /** The catalogue (loaded on first call; later calls share it). Never rejects. */
  get(): Promise<CatalogData> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<CatalogData> {
    const opts: BuiltinOptions = { progress: false, ...this.options };
    let movies: Movie[] = [];
    let users: User[] = [];
    let error: string | null = null;
    try {
      movies = await loadMovies('ml-100k', opts);
      users = await loadUsers('ml-100k', opts);
    } catch (e) {
      error = `movie catalogue unavailable: ${(e as Error).message}`;
    }
    const genres = [...new Set(movies.flatMap((m) => m.genres))].sort();
    return {
      movies,
      byId: new Map(movies.map((m) => [m.id, m])),
      lowerTitles: movies.map((m) => m.title.toLowerCase()),
      genres,
      users: new Map(users.map((u) => [u.id, u])),
      error,
    };
  }
}
