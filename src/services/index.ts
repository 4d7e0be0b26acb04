/**
 * The application services: everything the GraphQL resolvers and the REST routes call. One
 * {@link Services} per process, created by {@link createServices} on a {@link Pachyderm} (embedded
 * or gRPC) whose repos and pipelines exist (see bootstrap.ts).
 *
 * - ratings: `addRatings` validates and commits ONE batch file to `training` (→ train job);
 * - predictions: `requestPredictions` commits ONE request file to `streaming` (→ predict job);
 *   `getResult` / `watchResult` read / await the answer in `predict`; `history` lists past
 *   requests; answered requests are retired from the head of `streaming` (streaming.ts);
 * - models: every successful `train` commit is published to the `models` repo, the predict
 *   pipeline's model input (model-publisher.ts); the model registry serves the published model
 *   (swapped atomically) and gives the model versions' metrics;
 * - jobs: job history with cursor pagination, one job;
 * - movies: the ml-100k catalogue, a user's ratings;
 * - repos: repos and commits;
 * - events: the one typed PubSub (topics in pubsub.ts), fed by the one upstream watch per source
 *   (watch.ts).
 *
 * Every method throws {@link ValidationError} for bad input (nothing is written), {@link
 * NotFoundError} for unknown ids, {@link ModelNotReadyError} when no model exists yet, and passes
 * `PachError`s of the port through.
 */
import type { Pachyderm } from '../pachyderm/port';
import type {
  CommitInfo,
  DatumInfo,
  JobInfo,
  JobState,
  LogMessage,
  RepoInfo,
} from '../pachyderm/types';
import { Catalog, type CatalogEntry, type CatalogReceipt } from './catalog';
import {
  type ResolvedServiceConfig,
  SERVICE_DEFAULTS,
  type ServiceConfig,
  resolveServiceConfig,
} from './config';
import { readRepoSettings } from './settings';
import {
  type TrainPipelineChange,
  type TrainPipelineUpdate,
  updateTrainPipeline,
} from './pipeline-update';
import { Jobs } from './jobs';
import { FoldInFeed } from './fold-in-feed';
import { ModelRegistry } from './model-registry';
import { Movies } from './movies';
import { ModelPublisher, followTrainCommits } from './model-publisher';
import { Predictions } from './predictions';
import { PachCode, isPachError } from '../pachyderm/errors';
import { Retirer, StreamingWriter } from './streaming';
import { type EventBus, createEventBus } from './pubsub';
import { Ratings } from './ratings';
import { Repos } from './repos';
import { UpstreamWatch } from './watch';
import type {
  BatchReceipt,
  BatchRemoval,
  ModelVersion,
  MovieStats,
  OnlinePrediction,
  Page,
  PredictionHistoryEntry,
  PredictionRequestReceipt,
  PredictionResult,
  Recommendations,
  SimilarMovie,
  UserProfile,
} from './types';

export * from './errors';
export * from './types';
export type { ServiceConfig, ResolvedServiceConfig } from './config';
export type { CatalogEntry, CatalogReceipt } from './catalog';
export type { TrainPipelineChange, TrainPipelineUpdate } from './pipeline-update';
export type { EventBus, Topics } from './pubsub';

/** Ratings: batches committed to `training`. */
export interface RatingsService {
  /**
   * Validates every item (see validation.ts) and commits them as ONE batch file
   * `/batches/<batchId>.txt` (lines `user_id movie_id rating timestamp`) in ONE `training` commit.
   * @param items raw items `{userId, movieId, rating, timestamp?}` (from GraphQL or JSON).
   * @returns the receipt, which says how many ratings replace one the serving model holds and
   *   which items a later item of the same call superseded (the last rating wins).
   * @throws ValidationError listing every bad item (index, field, problem); nothing is committed.
   */
  addRatings(items: readonly unknown[]): Promise<BatchReceipt>;
  /**
   * Rolls the training data back by removing one rating batch: a new `training` commit deleting
   * `/batches/<batchId>.txt` (history is kept: older commits still hold it), hence a new model.
   * @throws ValidationError for a malformed id; NotFoundError when the head has no such batch
   */
  removeBatch(batchId: string): Promise<BatchRemoval>;
}

/** Prediction requests: files in `streaming`, answers in `predict`. */
export interface PredictionsService {
  /**
   * Validates the pairs and commits them as ONE request file `/<requestId>` (lines
   * `user_id movie_id`) in ONE `streaming` commit.
   * @throws ValidationError listing every bad pair; nothing is committed.
   */
  requestPredictions(pairs: readonly unknown[]): Promise<PredictionRequestReceipt>;
  /**
   * The current state of a request: `ready: false` while its predict job runs; the answers once
   * it finished; `ready: true` with `error` when the job failed, was killed or is unrunnable.
   * @throws NotFoundError for an unknown (or malformed) request id.
   */
  getResult(requestId: string): Promise<PredictionResult>;
  /**
   * A one-shot stream of the request's result: it yields the result exactly once, as soon as it
   * is ready (at once when it already is), then ends. It listens to the PREDICTION_READY topic
   * BEFORE looking up the current state, so nothing is lost in between. Ends without a value
   * when `signal` aborts, `return()` is called (client gone) or the services close.
   * @throws NotFoundError (from the returned promise) for an unknown request id.
   */
  watchResult(
    requestId: string,
    opts?: { signal?: AbortSignal },
  ): Promise<AsyncIterableIterator<PredictionResult>>;
  /**
   * Past requests, newest first, with their results (answer and model version); only those with
   * a pair of `userId` when given. `first` 1…maxPageSize (default 20) after the opaque cursor
   * `after`. A page scans at most 1,000 requests (prediction-history.ts): it may end early,
   * with `hasNextPage` and an `endCursor` to go on from.
   * @throws ValidationError for a bad userId, first or cursor.
   */
  history(opts?: {
    userId?: string | null;
    first?: number | null;
    after?: string | null;
  }): Promise<Page<PredictionHistoryEntry>>;
}

/** The model registry and the model versions. */
export interface ModelsService {
  /** The serving model's version (a `train` commit id), or null before the first model. */
  currentVersion(): string | null;
  /**
   * The newest train job when it ended FAILURE / KILLED / UNRUNNABLE after the serving model's
   * train commit started (the serving model keeps serving); null when the newest succeeded.
   */
  newerFailedJob(): JobInfo | null;
  /** Resolves when a model is being served (at once if one is). Rejects if `signal` aborts. */
  ready(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<string>;
  /**
   * The serving model's estimate for one (user, movie) pair, as the predict pipeline computes it.
   * @throws ValidationError for a bad id; ModelNotReadyError before the first model.
   */
  predict(userId: string, movieId: string): Promise<OnlinePrediction>;
  /**
   * Top-`first` movies for a user by the serving model (engine `recommend()`), with titles.
   * @throws ValidationError for a bad id or `first` outside 1…maxPageSize; ModelNotReadyError.
   */
  recommendations(
    userId: string,
    opts?: { first?: number; excludeRated?: boolean; genre?: string | null },
  ): Promise<Recommendations>;
  /**
   * The movies most similar to one movie by the serving ranker, best first.
   * @throws ValidationError; ModelNotReadyError; NotFoundError (no ranker, or unknown movie).
   */
  similarMovies(
    movieId: string,
    opts?: { first?: number },
  ): Promise<{ movieId: string; modelVersion: string; rankedBy: string; items: SimilarMovie[] }>;
  /** One model version. @throws NotFoundError when `version` is not a finished train commit. */
  model(version: string): Promise<ModelVersion>;
  /** Model versions, newest first (finished `train` commits with a model). */
  models(opts?: { first?: number }): Promise<ModelVersion[]>;
  /**
   * Pins the serving model to `version`, or unpins it (`null`); the pin is stored in the repos
   * (serving-pin.ts). @returns the version now serving (null: none yet)
   * @throws NotFoundError when `version` is not a model version (nothing changes)
   */
  serveModel(version: string | null, reason?: string | null): Promise<string | null>;
  /** Why the serving model serves ("newest …" or the pin's reason); null before a model. */
  servingReason(): string | null;
  /** A model version's model.rgm bytes. @throws NotFoundError for an unknown version */
  modelFile(version: string): Promise<Buffer>;
}

/** The pipelines' configuration (pipeline-update.ts). */
export interface PipelinesService {
  /**
   * Pachyderm's UpdatePipeline of the train pipeline: new algorithm and parameters, a new
   * pipeline version, reprocessing (a new model). Validated first (nothing changes on error).
   * @throws ValidationError naming `algorithm`, `params.<name>` or `seed`
   */
  updateTrain(change: TrainPipelineChange): Promise<TrainPipelineUpdate>;
}

/** Jobs of the pipelines. */
export interface JobsService {
  /**
   * Jobs newest first, filtered by pipeline and state, `first` (≤ maxPageSize, default 20) after
   * the opaque cursor `after`.
   * @throws ValidationError for a bad `first` or cursor, or a pipeline that is not a plain name
   *   `[A-Za-z0-9_-]{1,51}`; PachError NOT_FOUND for a missing pipeline.
   */
  jobHistory(opts?: {
    pipeline?: string | null;
    state?: JobState | null;
    first?: number | null;
    after?: string | null;
  }): Promise<Page<JobInfo>>;
  /**
   * One job by id (the commit set id). Without `pipeline`, every pipeline is searched.
   * @throws NotFoundError when no pipeline has it; ValidationError when several do and
   *   `pipeline` is not given.
   */
  job(id: string, pipeline?: string | null): Promise<JobInfo>;
  /**
   * Checks that a pipeline exists (e.g. before a `jobUpdated` stream starts).
   * @param pipeline a plain pipeline name (`train`, `predict`)
   * @returns the name
   * @throws ValidationError when it is not a plain name `[A-Za-z0-9_-]{1,51}`; NotFoundError
   *   when no such pipeline exists.
   */
  checkPipeline(pipeline: string): Promise<string>;
  /**
   * The job `after` (the newest job with that id, of `pipeline` when given) and every job of the
   * pipeline(s) created after it, oldest first, in their current state: the replay of
   * `jobUpdated(after:)`. At most `maxPageSize` jobs after it.
   * @throws ValidationError for an id that is not 32 hex digits, or when more than maxPageSize jobs
   *   were created since (read them with jobHistory); NotFoundError when no such job exists.
   */
  jobsSince(after: string, pipeline?: string | null): Promise<JobInfo[]>;
  /**
   * The datums of a job (Pachyderm ListDatum), at most `first` (1…maxPageSize, default 20).
   * @throws ValidationError for a bad name, id or `first`; NotFoundError for an unknown job.
   */
  datums(pipeline: string, id: string, first?: number | null): Promise<DatumInfo[]>;
  /**
   * The last `first` log lines of a job (Pachyderm GetLogs with `tail`; 1…1000, default 100),
   * oldest first.
   * @throws ValidationError for a bad name, id or `first`; NotFoundError for an unknown job.
   */
  logs(pipeline: string, id: string, first?: number | null): Promise<LogMessage[]>;
}

/** The movie catalogue and users (catalog.ts: files in the `training` repo). */
export interface MoviesService {
  /**
   * Validates movies `{id, title, genres?, year?, extra?}` (catalog-files.ts rules) and commits
   * them as ONE new `/movies/<name>.csv` file in ONE `training` commit; a movie whose id the
   * catalogue has replaces it.
   * @throws ValidationError naming every bad item; nothing is committed then
   */
  upsertMovies(items: unknown): Promise<CatalogReceipt>;
  /**
   * Validates users `{id, attributes?}` and commits them as ONE new `/users/<name>.csv` file in
   * ONE `training` commit; a user whose id the catalogue has gets the new attributes.
   * @throws ValidationError naming every bad item; nothing is committed then
   */
  upsertUsers(items: unknown): Promise<CatalogReceipt>;
  /** Movies in catalogue order, filtered by a case-insensitive title substring and a genre. */
  movies(opts?: {
    search?: string | null;
    genre?: string | null;
    first?: number | null;
    after?: string | null;
  }): Promise<Page<CatalogEntry>>;
  /** One movie, or null when the catalogue has no such id. */
  movie(id: string): Promise<CatalogEntry | null>;
  /** The genres of the catalogue, sorted by name. */
  genres(): Promise<string[]>;
  /** Rating count and mean of a movie in the serving model's trainset. */
  movieStats(id: string): MovieStats;
  /**
   * A user: attributes (the catalogue's users files) and ratings in the serving model's trainset.
   * @returns null when no such user: unknown to both the serving model's trainset and the catalogue
   *   (a user known only from added ratings is returned once a model trained on them serves).
   * @throws ValidationError for a bad id.
   */
  user(id: string): Promise<UserProfile | null>;
}

/** Repos and commits. */
export interface ReposService {
  /** The user repos, sorted by name. */
  repos(): Promise<RepoInfo[]>;
  /**
   * Commits of a repo, newest first, at most `first` (≤ maxPageSize, default 20).
   * @throws PachError NOT_FOUND for a missing repo; ValidationError for a bad `first` or a repo
   *   that is not a plain name `[A-Za-z0-9_-]{1,51}`.
   */
  commits(repo: string, opts?: { first?: number | null }): Promise<CommitInfo[]>;
  /**
   * Checks that a repo exists (e.g. before a `commitCreated` stream starts).
   * @throws ValidationError when it is not a plain name; NotFoundError when no such repo exists.
   */
  checkRepo(repo: string): Promise<string>;
  /**
   * The commits of `repo` created after the commit `after` (exclusive), oldest first: the
   * replay of `commitCreated(after:)`. At most `maxPageSize` commits.
   * @throws ValidationError for an id that is not 32 hex digits, or when more than maxPageSize
   *   commits were created since (read them with `commits`); NotFoundError when the repo has no
   *   such commit.
   */
  commitsSince(repo: string, after: string): Promise<CommitInfo[]>;
}

/** Everything the transports call; see the module documentation. */
export interface Services {
  readonly config: ResolvedServiceConfig;
  readonly pach: Pachyderm;
  readonly ratings: RatingsService;
  readonly predictions: PredictionsService;
  readonly models: ModelsService;
  readonly jobs: JobsService;
  readonly movies: MoviesService;
  readonly repos: ReposService;
  readonly pipelines: PipelinesService;
  /** The one typed PubSub: MODEL_UPDATED, JOB_UPDATED, PREDICTION_READY, … (pubsub.ts). */
  readonly events: EventBus;
  /**
   * Stops the upstream watches and ends the pending `watchResult` streams. Topic subscriptions
   * (jobUpdated, modelUpdated) end when their transport closes them. Does not close `pach`.
   */
  close(): Promise<void>;
}

/** Optional hooks of {@link createServices}. */
export interface ServiceHooks {
  /** Receives warnings of the background work (watch retries, model loads that failed). */
  log?: (message: string) => void;
}

/**
 * Creates the services and starts the upstream watches (train commits → model registry,
 * predict commits → prediction results, job state changes). Loads the newest model if one
 * exists, but does not wait for one: use `services.models.ready()`. The rating scale is
 * `config.ratingScale` when given, else the `training` repo's settings (settings.ts).
 * @throws RangeError for a bad config value or malformed repo settings.
 */
export async function createServices(
  pach: Pachyderm,
  config: ServiceConfig = {},
  hooks: ServiceHooks = {},
): Promise<Services> {
  // the rating scale is the repo's (settings of the first start) unless the caller sets one
  const ratingScale =
    config.ratingScale ??
    (await readRepoSettings(pach, config.trainingRepo ?? SERVICE_DEFAULTS.trainingRepo))
      .ratingScale;
  const resolved = resolveServiceConfig({
    ...config,
    ratingScale: [ratingScale[0], ratingScale[1]],
  });
  const log = hooks.log ?? (() => undefined);
  const events = createEventBus();
  const catalog = new Catalog(resolved.dataset, pach, resolved.trainingRepo, {
    maxItems: resolved.maxItems,
    maxIdLength: resolved.maxIdLength,
  });
  const watch = new UpstreamWatch(pach, resolved, events, log);
  const publisher = new ModelPublisher(pach, {
    modelsRepo: resolved.modelsRepo,
    trainRepo: resolved.trainRepo,
  });
  const registry = new ModelRegistry(pach, resolved, events, catalog, publisher, log);
  const writer = new StreamingWriter(pach, resolved.streamingRepo);
  const retirer = resolved.retireAnswered
    ? new Retirer(
        pach,
        writer,
        { streaming: resolved.streamingRepo, predict: resolved.predictRepo },
        log,
      )
    : null;
  const predictions = new Predictions(pach, resolved, events, writer, publisher, retirer);
  // every successful train commit is published to `models` (the predict pipeline's model input);
  // listening starts before the start-up catch-up, so nothing finishes unseen in between
  const stopPublishing = followTrainCommits(events, publisher, log);
  // rating batches of every writer folded in (online and for the predict pipeline)
  const feed = new FoldInFeed(pach, resolved, events, registry, publisher, log);
  feed.start();
  // the registry listens before its first look-up; the watch publishes from then on
  await registry.start();
  watch.start();
  // start-up catch-up (not awaited: an empty data directory has no repos yet): a model that
  // finished, or answers that were not retired, while no process ran
  void publisher.catchUp().catch((e: Error) => {
    if (!isPachError(e, PachCode.NOT_FOUND)) log(`publishing the newest model: ${e.message}`);
  });
  if (retirer) void retirer.catchUp();
  let closed = false;
  return {
    config: resolved,
    pach,
    ratings: new Ratings(
      pach,
      resolved,
      (items) => registry.countRated(items),
      (items, commit, batchId) => feed.committed(items, commit, `/batches/${batchId}.txt`),
      (batchId) => feed.removed(batchId),
    ),
    predictions,
    models: registry,
    jobs: new Jobs(pach, resolved),
    movies: new Movies(catalog, registry, resolved),
    repos: new Repos(pach, resolved),
    pipelines: { updateTrain: (change) => updateTrainPipeline(pach, change, resolved.trainRepo) },
    events,
    async close() {
      if (closed) return;
      closed = true;
      predictions.close();
      feed.close();
      registry.close();
      stopPublishing();
      retirer?.close();
      writer.close();
      await watch.close();
    },
  };
}
