/**
 * The movie catalogue and the users' attributes, as the `training` repo holds them
 * (catalog-files.ts: `/movies/*.csv` and `/users/*.csv` on `training@master`, a later file's row
 * overriding an earlier one's with the same id), and the writes that add to them
 * (`upsertMovies` / `upsertUsers`, `reelgraph import movies|users`): one new file per call, in
 * one commit, after validation (nothing is committed on bad input).
 *
 * Reading is incremental: files are immutable and their names sort in the order they were
 * written, so when the branch head moves only the files not read yet are read (a full re-read
 * happens only when a new file sorts before one already read). A movie keeps the position of its
 * first appearance; its fields are those of its newest row.
 *
 * A repo without settings and without catalogue files (a data directory made before the
 * catalogue moved into the repo) falls back to MovieLens 100K's u.item and u.user, read from the
 * data set's directory (the service config's `dataset` options, else REELGRAPH_DATASETS, else the
 * cache); when they cannot be had, the catalogue is empty and the reason is kept in `error`.
 */
import type { BuiltinOptions } from '../engine/dataset/builtin';
import { loadMovies, loadUsers, type Movie } from '../engine/dataset/metadata';
import { PachCode, isPachError } from '../pachyderm/errors';
import { commitFiles } from '../pachyderm/own-commit';
import type { Pachyderm } from '../pachyderm/port';
import { SETTINGS_PATH } from '../workers/data-settings';
import {
  MOVIES_DIR,
  USERS_DIR,
  moviesCsv,
  movieItemsOfCsv,
  newCatalogFileName,
  userItemsOfCsv,
  usersCsv,
  validateMovies,
  validateUsers,
  type CatalogLimits,
  type CatalogMovie,
  type CatalogUser,
} from './catalog-files';

/** A catalogue movie as the services give it: the engine's Movie plus the extra columns. */
export type CatalogEntry = Movie & { extra: Record<string, string> };

/** The loaded catalogue. */
export interface CatalogData {
  movies: CatalogEntry[];
  byId: Map<string, CatalogEntry>;
  /** Lower-cased titles, same order as `movies` (for search). */
  lowerTitles: string[];
  /** Distinct genres, sorted by name. */
  genres: string[];
  /** Users' attributes by id. */
  users: Map<string, Record<string, string>>;
  /** Why the catalogue is empty, if it is. */
  error: string | null;
}

/** What an upsert committed. */
export interface CatalogReceipt {
  /** Path of the new file in the `training` repo. */
  path: string;
  /** The `training` commit holding it (which also starts a train job). */
  commit: string;
  /** Number of rows written. */
  count: number;
  /** How many of them replace an entry the catalogue had (same id). */
  replaced: number;
}

/** An entry of the catalogue from a CSV movie. */
function entryOf(m: CatalogMovie): CatalogEntry {
  const e: CatalogEntry = { id: m.id, title: m.title, genres: m.genres, extra: m.extra };
  if (m.year !== null) e.year = m.year;
  if (m.extra.releaseDate) e.releaseDate = m.extra.releaseDate;
  if (m.extra.imdbUrl) e.imdbUrl = m.extra.imdbUrl;
  return e;
}

/** Mutable state of the incremental read. */
interface Loaded {
  head: string | null;
  movieFiles: string[];
  userFiles: string[];
  movies: CatalogEntry[];
  index: Map<string, number>;
  users: Map<string, Record<string, string>>;
  data: CatalogData;
}

const emptyData = (error: string | null = null): CatalogData => ({
  movies: [],
  byId: new Map(),
  lowerTitles: [],
  genres: [],
  users: new Map(),
  error,
});

/** The catalogue on a `training` repo (see the module documentation). */
export class Catalog {
  private state: Loaded | null = null;
  private legacy?: Promise<CatalogData>;
  /** The head at which the repo was found to have no catalogue (legacy): not re-listed until it moves. */
  private legacyHead: string | null | undefined = undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: BuiltinOptions,
    private readonly pach?: Pachyderm,
    private readonly trainingRepo = 'training',
    private readonly limits: CatalogLimits = { maxItems: 10_000, maxIdLength: 64 },
  ) {}

  /**
   * The catalogue as of the branch head (loaded on first call, then only the new files). Never
   * rejects: a read error leaves the last good catalogue (or an empty one with `error`).
   */
  get(): Promise<CatalogData> {
    const next = this.chain.then(() => this.refresh());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async refresh(): Promise<CatalogData> {
    if (!this.pach) return this.legacyData();
    try {
      let head: string | null = null;
      try {
        head = (await this.pach.inspectBranch(`${this.trainingRepo}@master`)).head?.id ?? null;
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
      if (this.state && this.state.head === head) return this.state.data;
      if (!this.state && this.legacyHead === head) return this.legacyData();
      const movieFiles = head ? await this.list(head, MOVIES_DIR) : [];
      const userFiles = head ? await this.list(head, USERS_DIR) : [];
      if (movieFiles.length === 0 && userFiles.length === 0 && !(await this.hasSettings(head))) {
        this.state = null;
        this.legacyHead = head;
        return this.legacyData();
      }
      const s = this.extend(head, movieFiles, userFiles);
      for (const f of movieFiles.slice(s.movieFiles.length)) {
        const text = (await this.read(head!, f)).toString('utf8');
        for (const m of validateMovies(movieItemsOfCsv(text, f), {
          ...this.limits,
          maxItems: Number.MAX_SAFE_INTEGER,
        })) {
          const e = entryOf(m);
          const k = s.index.get(m.id);
          if (k === undefined) {
            s.index.set(m.id, s.movies.length);
            s.movies.push(e);
          } else s.movies[k] = e;
        }
      }
      for (const f of userFiles.slice(s.userFiles.length)) {
        const text = (await this.read(head!, f)).toString('utf8');
        for (const u of validateUsers(userItemsOfCsv(text, f), {
          ...this.limits,
          maxItems: Number.MAX_SAFE_INTEGER,
        })) {
          s.users.set(u.id, u.attributes);
        }
      }
      s.movieFiles = movieFiles;
      s.userFiles = userFiles;
      s.head = head;
      s.data = {
        movies: s.movies,
        byId: new Map(s.movies.map((m) => [m.id, m])),
        lowerTitles: s.movies.map((m) => m.title.toLowerCase()),
        genres: [...new Set(s.movies.flatMap((m) => m.genres))].sort(),
        users: s.users,
        error: null,
      };
      this.state = s;
      return s.data;
    } catch (e) {
      return this.state?.data ?? emptyData(`movie catalogue unavailable: ${(e as Error).message}`);
    }
  }

  /**
   * The state to extend: the current one when the files read so far are a prefix of the new
   * lists (the usual case: new files sort last), else a fresh one.
   */
  private extend(head: string | null, movieFiles: string[], userFiles: string[]): Loaded {
    const prefix = (a: string[], b: string[]) => a.every((x, k) => b[k] === x);
    const s = this.state;
    if (s && prefix(s.movieFiles, movieFiles) && prefix(s.userFiles, userFiles)) {
      return { ...s, movies: [...s.movies], index: new Map(s.index), users: new Map(s.users) };
    }
    return {
      head,
      movieFiles: [],
      userFiles: [],
      movies: [],
      index: new Map(),
      users: new Map(),
      data: emptyData(),
    };
  }

  private async list(head: string, dir: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const f of this.pach!.listFile({
        commit: { repo: this.trainingRepo, id: head },
        path: dir,
      })) {
        if (f.file.path.endsWith('.csv')) out.push(f.file.path);
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  private read(head: string, path: string): Promise<Buffer> {
    return this.pach!.readFile({ commit: { repo: this.trainingRepo, id: head }, path });
  }

  private async hasSettings(head: string | null): Promise<boolean> {
    if (!head) return false;
    try {
      await this.pach!.inspectFile({
        commit: { repo: this.trainingRepo, id: head },
        path: SETTINGS_PATH,
      });
      return true;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return false;
      throw e;
    }
  }

  /** MovieLens 100K's u.item / u.user from the data set directory (see the module docs). */
  private legacyData(): Promise<CatalogData> {
    this.legacy ??= (async () => {
      const opts: BuiltinOptions = { progress: false, ...this.options };
      try {
        const movies = (await loadMovies('ml-100k', opts)).map((m) => ({ ...m, extra: {} }));
        const users = await loadUsers('ml-100k', opts);
        return {
          movies,
          byId: new Map(movies.map((m) => [m.id, m])),
          lowerTitles: movies.map((m) => m.title.toLowerCase()),
          genres: [...new Set(movies.flatMap((m) => m.genres))].sort(),
          users: new Map(
            users.map((u) => [
              u.id,
              { age: String(u.age), gender: u.gender, occupation: u.occupation, zip: u.zip },
            ]),
          ),
          error: null,
        };
      } catch (e) {
        return emptyData(`movie catalogue unavailable: ${(e as Error).message}`);
      }
    })();
    return this.legacy;
  }

  /**
   * Validates `items` and commits them as ONE new movies file in ONE `training` commit of this
   * writer's own (`commitFiles`: the receipt's commit is exact with any number of API replicas).
   * @throws ValidationError (list `movies`) naming every bad item; nothing is committed then
   */
  async upsertMovies(items: unknown): Promise<CatalogReceipt> {
    const movies = validateMovies(items, this.limits);
    const before = await this.get();
    const path = MOVIES_DIR + newCatalogFileName();
    const commit = await commitFiles(this.pach!, `${this.trainingRepo}@master`, [
      { op: 'put', path, data: Buffer.from(moviesCsv(movies)) },
    ]);
    return {
      path,
      commit: commit.id,
      count: movies.length,
      replaced: movies.filter((m) => before.byId.has(m.id)).length,
    };
  }

  /**
   * Validates `items` and commits them as ONE new users file in ONE `training` commit of this
   * writer's own (`commitFiles`, as {@link upsertMovies}).
   * @throws ValidationError (list `users`) naming every bad item; nothing is committed then
   */
  async upsertUsers(items: unknown): Promise<CatalogReceipt> {
    const users: CatalogUser[] = validateUsers(items, this.limits);
    const before = await this.get();
    const path = USERS_DIR + newCatalogFileName();
    const commit = await commitFiles(this.pach!, `${this.trainingRepo}@master`, [
      { op: 'put', path, data: Buffer.from(usersCsv(users)) },
    ]);
    return {
      path,
      commit: commit.id,
      count: users.length,
      replaced: users.filter((u) => before.users.has(u.id)).length,
    };
  }
}
