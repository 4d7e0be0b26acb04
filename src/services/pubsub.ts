/**
 * The one typed PubSub of a process (`@graphql-yoga/subscription` createPubSub) and its named
 * topics. Fed by the upstream watches (watch.ts) and the services; read by subscriptions.
 */
import { createPubSub } from '@graphql-yoga/subscription';
import type { CommitInfo, JobInfo } from '../pachyderm/types';
import type { ModelVersion, PredictionResult } from './types';

/**
 * Topic names → payload (a `[id, payload]` tuple for topics addressed by id):
 * - MODEL_UPDATED: a new model is being served (after the swap);
 * - JOB_UPDATED: a job of any pipeline changed state (its JobInfo right after the change);
 * - TRAIN_COMMIT_FINISHED: a `train` output commit finished (input of the model publisher);
 * - MODELS_COMMIT_FINISHED: a `models` commit finished: a model was published (input of the model
 *   registry, so online answers use the model the predict pipeline uses);
 * - PREDICT_COMMIT_FINISHED: a `predict` output commit finished (with `error` when its job failed);
 * - PREDICTION_READY: the result of one request, addressed by request id;
 * - COMMIT_CREATED: a commit was started in one of the user repos (training, streaming, train,
 *   predict), once per commit.
 */
export type Topics = {
  MODEL_UPDATED: [ModelVersion];
  JOB_UPDATED: [JobInfo];
  TRAIN_COMMIT_FINISHED: [CommitInfo];
  MODELS_COMMIT_FINISHED: [CommitInfo];
  PREDICT_COMMIT_FINISHED: [CommitInfo];
  PREDICTION_READY: [requestId: string, result: PredictionResult];
  COMMIT_CREATED: [CommitInfo];
};

/** The typed PubSub. */
export type EventBus = ReturnType<typeof createEventBus>;

/** A new, empty PubSub with the {@link Topics}. */
export function createEventBus() {
  return createPubSub<Topics>();
}
