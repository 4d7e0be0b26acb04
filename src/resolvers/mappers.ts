/**
 * Pure mappings from the services' payloads and the port's Pachyderm objects to the GraphQL
 * output types. Enum mappers are exhaustive: a `switch` over every member with a `never` check,
 * so adding a member to the port's enum fails to compile until it is mapped here.
 */
import type { Movie as MovieData } from '../engine/dataset/metadata';
import type { Commit as PachCommit, CommitInfo, JobInfo, RepoInfo } from '../pachyderm/types';
import { JobState, OriginKind } from '../pachyderm/types';
import type {
  BatchReceipt,
  ModelVersion as ModelVersionData,
  OnlinePrediction as OnlinePredictionData,
  Page,
  PredictionHistoryEntry as PredictionHistoryEntryData,
  PredictionRequestReceipt,
  PredictionResult as PredictionResultData,
  Recommendations as RecommendationsData,
  UserProfile,
} from '../services/types';
import { CommitOriginGql, JobStateGql, ModelSourceGql } from './enums';
import { Commit, Repo } from './repo.type';
import { CommitRef, Job, JobConnection } from './job.type';
import { ModelVersion } from './model.type';
import { Movie, MovieConnection, Recommendations, User } from './movie.type';
import {
  OnlinePrediction,
  PastPredictionConnection,
  PredictionRequest,
  PredictionResult,
} from './prediction.type';
import { RatingBatch } from './rating.type';

/** Thrown for an enum value that has no GraphQL counterpart (JOB_STATE_UNKNOWN, ORIGIN_KIND_UNKNOWN). */
export class UnmappableEnumError extends Error {
  constructor(what: string, value: unknown) {
    super(`${what} ${String(value)} has no GraphQL value`);
    this.name = 'UnmappableEnumError';
  }
}

function unreachable(x: never, what: string): never {
  throw new UnmappableEnumError(what, x);
}

/** `pps_v2.JobState` → GraphQL `JobState` (the proto name without `JOB_`). */
export function toJobStateGql(state: JobState): JobStateGql {
  switch (state) {
    case JobState.JOB_CREATED:
      return JobStateGql.CREATED;
    case JobState.JOB_STARTING:
      return JobStateGql.STARTING;
    case JobState.JOB_RUNNING:
      return JobStateGql.RUNNING;
    case JobState.JOB_EGRESSING:
      return JobStateGql.EGRESSING;
    case JobState.JOB_FINISHING:
      return JobStateGql.FINISHING;
    case JobState.JOB_SUCCESS:
      return JobStateGql.SUCCESS;
    case JobState.JOB_FAILURE:
      return JobStateGql.FAILURE;
    case JobState.JOB_KILLED:
      return JobStateGql.KILLED;
    case JobState.JOB_UNRUNNABLE:
      return JobStateGql.UNRUNNABLE;
    case JobState.JOB_STATE_UNKNOWN:
      throw new UnmappableEnumError('JobState', 'JOB_STATE_UNKNOWN');
    default:
      return unreachable(state, 'JobState');
  }
}

/** GraphQL `JobState` → `pps_v2.JobState` (for the jobHistory filter). */
export function fromJobStateGql(state: JobStateGql): JobState {
  switch (state) {
    case JobStateGql.CREATED:
      return JobState.JOB_CREATED;
    case JobStateGql.STARTING:
      return JobState.JOB_STARTING;
    case JobStateGql.RUNNING:
      return JobState.JOB_RUNNING;
    case JobStateGql.EGRESSING:
      return JobState.JOB_EGRESSING;
    case JobStateGql.FINISHING:
      return JobState.JOB_FINISHING;
    case JobStateGql.SUCCESS:
      return JobState.JOB_SUCCESS;
    case JobStateGql.FAILURE:
      return JobState.JOB_FAILURE;
    case JobStateGql.KILLED:
      return JobState.JOB_KILLED;
    case JobStateGql.UNRUNNABLE:
      return JobState.JOB_UNRUNNABLE;
    default:
      return unreachable(state, 'JobState');
  }
}

/** `pfs_v2.OriginKind` → GraphQL `CommitOrigin`. */
export function toCommitOriginGql(kind: OriginKind): CommitOriginGql {
  switch (kind) {
    case OriginKind.USER:
      return CommitOriginGql.USER;
    case OriginKind.AUTO:
      return CommitOriginGql.AUTO;
    case OriginKind.FSCK:
      return CommitOriginGql.FSCK;
    case OriginKind.ORIGIN_KIND_UNKNOWN:
      throw new UnmappableEnumError('OriginKind', 'ORIGIN_KIND_UNKNOWN');
    default:
      return unreachable(kind, 'OriginKind');
  }
}

/** A port commit → CommitRef. */
export function toCommitRef(c: PachCommit): CommitRef {
  return { repo: c.repo.name, id: c.id, branch: c.branch?.name ?? null };
}

/** JobInfo → Job. */
export function toJob(j: JobInfo): Job {
  return {
    id: j.job.id,
    pipeline: j.job.pipeline.name,
    pipelineVersion: j.pipelineVersion,
    state: toJobStateGql(j.state),
    reason: j.reason,
    created: j.created,
    started: j.started,
    finished: j.finished,
    dataTotal: j.dataTotal,
    dataProcessed: j.dataProcessed,
    dataSkipped: j.dataSkipped,
    dataFailed: j.dataFailed,
    dataRecovered: j.dataRecovered,
    restart: j.restart,
    inputCommits: j.inputCommits.map(toCommitRef),
    outputCommit: toCommitRef(j.outputCommit),
  };
}

/**
 * A page of the services → the Relay-style connection shape shared by JobConnection and
 * MovieConnection: edges with cursors, the nodes alone, and pageInfo (endCursor = the last edge's
 * cursor, null on an empty page).
 */
function toConnection<D, N>(
  page: Page<D>,
  toNode: (d: D) => N,
): {
  edges: { cursor: string; node: N }[];
  nodes: N[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
} {
  const edges = page.items.map((e) => ({ cursor: e.cursor, node: toNode(e.node) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      endCursor:
        page.endCursor !== undefined
          ? page.endCursor
          : edges.length
            ? edges[edges.length - 1].cursor
            : null,
    },
  };
}

/** A page of jobs → JobConnection. */
export function toJobConnection(page: Page<JobInfo>): JobConnection {
  return toConnection(page, toJob);
}

/** BatchReceipt → RatingBatch. */
export function toRatingBatch(b: BatchReceipt): RatingBatch {
  return {
    id: b.batchId,
    path: b.path,
    commit: b.commit,
    count: b.count,
    replaced: b.replaced,
    superseded: b.superseded,
  };
}

/** PredictionRequestReceipt → PredictionRequest. */
export function toPredictionRequest(r: PredictionRequestReceipt): PredictionRequest {
  return { requestId: r.requestId, commit: r.commit, count: r.count };
}

/** PredictionResult payload → PredictionResult. */
export function toPredictionResult(r: PredictionResultData): PredictionResult {
  return {
    requestId: r.requestId,
    ready: r.ready,
    requestCommit: r.requestCommit,
    predictions: r.predictions.map((p) => ({
      ...p,
      modelSource: p.modelSource as ModelSourceGql,
    })),
    lineErrors: r.lineErrors.map((e) => ({ ...e })),
    error: r.error,
    modelVersion: r.modelVersion,
    foldedInThrough: r.foldedInThrough,
    answerCommit: r.answerCommit,
    job: r.job ? toJob(r.job) : null,
  };
}

/** A page of past prediction requests → PastPredictionConnection. */
export function toPastPredictionConnection(
  page: Page<PredictionHistoryEntryData>,
): PastPredictionConnection {
  return toConnection(page, (e) => ({
    requestId: e.requestId,
    requestedAt: e.requestedAt,
    result: toPredictionResult(e.result),
  }));
}

/** OnlinePrediction payload → OnlinePrediction. */
export function toOnlinePrediction(p: OnlinePredictionData): OnlinePrediction {
  return {
    userId: p.userId,
    movieId: p.movieId,
    estimate: p.estimate,
    wasImpossible: p.wasImpossible,
    reason: p.reason,
    modelVersion: p.modelVersion,
    modelSource: p.modelSource as ModelSourceGql,
  };
}

/**
 * ModelVersion payload → ModelVersion; `servingVersion` marks the serving one, `servingReason`
 * (else the payload's own) says why it serves, and it carries `newerFailedJob` (the train job
 * that failed after it, if any).
 */
export function toModelVersion(
  m: ModelVersionData,
  servingVersion: string | null,
  servingReason: string | null = null,
  newerFailedJob: JobInfo | null = null,
): ModelVersion {
  return {
    version: m.version,
    algorithm: m.algorithm,
    params: m.params,
    ratingsCount: m.ratingsCount,
    duplicatesReplaced: m.duplicatesReplaced,
    usersCount: m.usersCount,
    itemsCount: m.itemsCount,
    holdoutRmse: m.holdout?.rmse ?? null,
    holdoutMae: m.holdout?.mae ?? null,
    holdoutTestSize: m.holdout?.testSize ?? null,
    fitSeconds: m.fitSeconds,
    trainingCommit: m.trainingCommit,
    pipelineVersion: m.pipelineVersion,
    modelSha256: m.modelSha256,
    createdAt: m.createdAt,
    finishedAt: m.finishedAt,
    ranker: m.ranker ? { ...m.ranker, params: { ...m.ranker.params } } : null,
    serving: servingVersion === m.version,
    servingReason: servingVersion === m.version ? (servingReason ?? m.servingReason ?? null) : null,
    newerFailedJob: servingVersion === m.version && newerFailedJob ? toJob(newerFailedJob) : null,
  };
}

/** Catalogue movie → Movie. */
export function toMovie(m: MovieData): Movie {
  return {
    id: m.id,
    title: m.title,
    year: m.year ?? null,
    releaseDate: m.releaseDate ?? null,
    genres: [...m.genres],
    imdbUrl: m.imdbUrl ?? null,
    extra: { ...((m as { extra?: Record<string, string> }).extra ?? {}) },
  };
}

/** A page of movies → MovieConnection. */
export function toMovieConnection(page: Page<MovieData>): MovieConnection {
  return toConnection(page, toMovie);
}

/** Recommendations payload → Recommendations. */
export function toRecommendations(r: RecommendationsData): Recommendations {
  return {
    userId: r.userId,
    modelVersion: r.modelVersion,
    modelSource: r.modelSource as ModelSourceGql,
    knownUser: r.knownUser,
    rankedBy: r.rankedBy ?? 'unknown',
    items: r.items.map((i) => ({
      rank: i.rank,
      movieId: i.movieId,
      title: i.movie?.title ?? null,
      score: i.score,
      movie: i.movie ? toMovie(i.movie) : null,
      because: (i.because ?? []).map((b) => ({
        movieId: b.movieId,
        weight: b.weight,
        movie: b.movie ? toMovie(b.movie) : null,
      })),
    })),
  };
}

/** UserProfile → User. */
export function toUser(u: UserProfile): User {
  return {
    id: u.id,
    attributes: { ...(u.attributes ?? {}) },
    age: /^\d{1,3}$/.test(u.attributes?.age ?? '') ? Number(u.attributes!.age) : null,
    gender: u.attributes?.gender ?? null,
    occupation: u.attributes?.occupation ?? null,
    zip: u.attributes?.zip ?? null,
    ratingsCount: u.ratings.length,
    modelVersion: u.modelVersion,
    allRatings: u.ratings.map((r) => ({ ...r })),
  };
}

/** RepoInfo → Repo. */
export function toRepo(r: RepoInfo): Repo {
  return {
    name: r.repo.name,
    description: r.description,
    created: r.created,
    sizeBytes: r.sizeBytesUpperBound,
    branches: r.branches.map((b) => b.name),
  };
}

/** CommitInfo → Commit. */
export function toCommit(c: CommitInfo): Commit {
  return {
    id: c.commit.id,
    repo: c.commit.repo.name,
    branch: c.commit.branch?.name ?? null,
    origin: toCommitOriginGql(c.origin.kind),
    description: c.description,
    parent: c.parentCommit?.id ?? null,
    started: c.started,
    finished: c.finished,
    sizeBytes: c.sizeBytes,
    error: c.error,
    provenance: c.directProvenance.map(toCommitRef),
  };
}
