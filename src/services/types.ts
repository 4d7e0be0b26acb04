/**
 * Payloads of the services: what they return and what they publish. Plain data, independent of
 * GraphQL (the resolvers map them to output types in src/resolvers/mappers.ts) and of HTTP.
 */
import type { Movie, User } from '../engine/dataset/metadata';
import type { CommitInfo, JobInfo, RepoInfo } from '../pachyderm/types';

/** One validated rating, as written to a batch file. */
export interface RatingItem {
  /** Raw user id: 1…maxIdLength characters of [A-Za-z0-9._:@-]. */
  userId: string;
  /** Raw movie id (same rules). */
  movieId: string;
  /** A finite number within the configured rating scale (default [1, 5]). */
  rating: number;
  /** Unix time in whole seconds ≥ 0 (default: the time of the call). */
  timestamp: number;
}

/** One validated (user, movie) pair of a prediction request. */
export interface PredictionPair {
  userId: string;
  movieId: string;
}

/** A committed rating batch: one file in the `training` repo. */
export interface BatchReceipt {
  /** `<13-digit epoch ms>-<16 hex>`; the file is `/batches/<batchId>.txt`. */
  batchId: string;
  /** Path of the batch file in the `training` repo. */
  path: string;
  /** Id of the `training` commit that holds it (32 hex); also the train job's id. */
  commit: string;
  /** Number of ratings in the batch. */
  count: number;
  /**
   * How many of the batch's ratings replace a rating of the same (user, movie) that the serving
   * model was fitted on (the last rating wins: these take the old ones' place in the next model).
   * 0 before the first model.
   */
  replaced: number;
  /**
   * Indexes (0-based, ascending) of items superseded by a later item of the same call with the
   * same (user, movie): they are committed but the later one counts.
   */
  superseded: number[];
}

/** A removed rating batch: a new `training` commit without its file. */
export interface BatchRemoval {
  batchId: string;
  /** The removed file's path. */
  path: string;
  /** The new `training` commit (also the id of the train job that refits without it). */
  commit: string;
  /** Number of rating lines the file held. */
  count: number;
}

/** A committed prediction request: one file at the root of the `streaming` repo. */
export interface PredictionRequestReceipt {
  /** 32 random hex digits: the file's name and the only way to read the answer. */
  requestId: string;
  /** Id of the `streaming` commit that holds it (32 hex); also the id of the predict job that answers it. */
  commit: string;
  /** Number of pairs in the request. */
  count: number;
}

/** One answered pair of a prediction request (one line of the answer file). */
export interface PredictionValue {
  userId: string;
  movieId: string;
  /** The estimated rating, clipped to the rating scale (Surprise's `est`). */
  estimate: number;
  /** True when the user or the movie is unknown to the model and the estimate is the fallback. */
  wasImpossible: boolean;
  /**
   * Whether the trained model answered or the user folded into it from ratings committed since
   * its `training` commit (online: the registry's overlay; pipeline answers: the batches
   * published with the model in the `models` repo, answer lines marked `folded-in`).
   */
  modelSource: ModelSource;
}

/** A line of a request that the predict program could not parse (`# error line n: problem`). */
export interface PredictionLineError {
  /** 1-based line number in the request file. */
  line: number;
  message: string;
}

/** The answer to one prediction request, or the fact that it is pending or failed. */
export interface PredictionResult {
  requestId: string;
  /** True when the answer (or a definitive error) is known. */
  ready: boolean;
  /** The `streaming` commit that holds the request (= the covering predict job's id). */
  requestCommit: string;
  /** The answers, in request order (empty while pending or on error). */
  predictions: PredictionValue[];
  /** Lines of the request the predict program rejected. */
  lineErrors: PredictionLineError[];
  /** The raw answer file (null while pending or on error). */
  text: string | null;
  /** Why there is no answer (job FAILURE/KILLED/UNRUNNABLE, output commit error); null otherwise. */
  error: string | null;
  /**
   * The `train` commit whose model answered (null while pending or when unknown): the version
   * the `models` commit read by the answering job names.
   */
  modelVersion: string | null;
  /**
   * The `training` commit of the newest rating batch folded into that model for this answer
   * (named by the `models` commit the job read: services/fold-in-publisher.ts); null when the
   * answer came from the trained model alone (or while pending / on error).
   */
  foldedInThrough: string | null;
  /** The `predict` commit that holds the answer (null while pending or on error). */
  answerCommit: string | null;
  /** The predict job covering the request (null if it does not exist yet). */
  job: JobInfo | null;
}

/** One model version: a finished `train` commit with its metrics.json and manifest.json. */
export interface ModelVersion {
  /** The `train` commit id (32 hex). */
  version: string;
  /** Registry name of the algorithm, e.g. `SVD`. */
  algorithm: string;
  /** The algorithm's hyper-parameters as the train program recorded them. */
  params: Record<string, unknown>;
  /** Ratings the model was fitted on (after duplicates were replaced). */
  ratingsCount: number;
  /** Rating lines dropped because a later rating of the same (user, movie) won; null when unknown. */
  duplicatesReplaced: number | null;
  usersCount: number;
  itemsCount: number;
  /** Holdout RMSE/MAE (seeded stable ~90/10 split, see workers/train.ts); null when a side would be empty. */
  holdout: { rmse: number; mae: number; testSize: number; seed: number } | null;
  /** Wall time of the full fit, seconds. */
  fitSeconds: number | null;
  /** The `training` commit the model was fitted on. */
  trainingCommit: string | null;
  /** The version of the train pipeline whose job fitted it (null when unknown). */
  pipelineVersion: number | null;
  /** Why it serves (in MODEL_UPDATED payloads: "newest …" or the pin); absent otherwise. */
  servingReason?: string;
  /** SHA-256 (hex) of model.rgm. */
  modelSha256: string | null;
  /** When the train commit was created / finished. */
  createdAt: Date;
  finishedAt: Date | null;
  /**
   * The ranker the train job fitted beside the model (its `ranker.json`: name, params, fit wall
   * seconds, SHA-256 of `ranker.rgr`); null when the commit holds none (`REELGRAPH_RANKER=none`,
   * no ratings, or a model made before rankers existed).
   */
  ranker: RankerVersion | null;
}

/** The ranker of a model version (from `ranker.json`, see workers/train-ranker.ts). */
export interface RankerVersion {
  /** Ranker name, e.g. `EASE`. */
  name: string;
  /** Its hyper-parameters as recorded, e.g. `{"lambda": 500}`. */
  params: Record<string, unknown>;
  /** Wall time of its fit, seconds (null when not recorded). */
  fitSeconds: number | null;
  /** SHA-256 (hex) of `ranker.rgr` (null when not recorded). */
  rankerSha256: string | null;
}

/** An estimate by the serving model. */
/**
 * Which model answered: `TRAINED` — the model version as the train pipeline fitted it;
 * `FOLDED_IN` — the same version with the user folded in from ratings committed after its
 * `training` commit (engine/fold-in-overlay.ts, engine/fold-in.ts), until the retrain includes them.
 */
export type ModelSource = 'TRAINED' | 'FOLDED_IN';

export interface OnlinePrediction extends PredictionValue {
  /** The model version that answered. */
  modelVersion: string;
  /** Why the estimate is a fallback (Surprise's `details.reason`), else null. */
  reason: string | null;
}

/** One recommended movie. */
export interface RecommendedMovie {
  /** 1-based rank. */
  rank: number;
  movieId: string;
  /** The ranking score, best first: the estimated rating, or the ranker's own score. */
  score: number;
  /** Catalogue entry (null for an id missing from the catalogue). */
  movie: Movie | null;
  /**
   * With a ranker: the user's rated movies that contributed most to the score, best first
   * (services/ranked-recommendations.ts); empty for a rating model or an unknown user.
   */
  because?: BecauseMovie[];
}

/** A rated movie behind a recommendation ("because you rated …"). */
export interface BecauseMovie {
  movieId: string;
  /** Its contribution: EASE's weight B_ij, ItemKNN's similarity, or the factors' cosine. */
  weight: number;
  movie: Movie | null;
}

/** A movie similar to another, by the serving ranker. */
export interface SimilarMovie {
  /** 1-based rank. */
  rank: number;
  movieId: string;
  /** The ranker's item-item similarity (EASE weight, ItemKNN similarity, factor cosine). */
  similarity: number;
  movie: Movie | null;
}

/** Top-N recommendations for a user. */
export interface Recommendations {
  userId: string;
  /** The model version that computed them. */
  modelVersion: string;
  /** Whether the user's folded-in factors (newer ratings) or the trained model ranked. */
  modelSource: ModelSource;
  /** Whether the model knows the user (else the scores are the model's fallbacks). */
  knownUser: boolean;
  /** The model that ranked: the ranker's name (e.g. EASE), else the rating algorithm's. */
  rankedBy?: string;
  items: RecommendedMovie[];
}

/** A rating by a user as the serving model's trainset holds it. */
export interface UserRating {
  movieId: string;
  rating: number;
}

/** A user: attributes (if the catalogue has them) and ratings in the serving model. */
export interface UserProfile {
  id: string;
  /** The catalogue's attributes (`age`, `gender`, `occupation`, `zip`, …), null when none. */
  attributes: Record<string, string> | null;
  /** Ratings in the serving model's trainset, in trainset order (empty for an unknown user). */
  ratings: UserRating[];
  /** The model version whose trainset was read (null when no model is loaded). */
  modelVersion: string | null;
}

/** Statistics of a movie in the serving model's trainset. */
export interface MovieStats {
  ratingsCount: number;
  /** Mean rating (null when unrated). */
  meanRating: number | null;
}

/** A page of a list, newest/first first, with an opaque cursor per item. */
export interface Page<T> {
  items: { node: T; cursor: string }[];
  hasNextPage: boolean;
  /**
   * Where the next page starts when that is past the last item (a list that scans a bounded
   * number of entries per page); absent: the last item's cursor.
   */
  endCursor?: string | null;
}

/** One past prediction request of the history (prediction-history.ts). */
export interface PredictionHistoryEntry {
  /** The request id (= its `streaming` commit id). */
  requestId: string;
  /** When the request was committed (the commit's start). */
  requestedAt: Date;
  /** Its result, as `getResult` gives it (answer, model version, or pending / error). */
  result: PredictionResult;
}

/** Topics of the PubSub and their payloads (see pubsub.ts). */
export type { CommitInfo, JobInfo, RepoInfo, Movie, User };
