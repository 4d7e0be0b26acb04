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
 * - PREDICT_COMMIT_FINISHED: a `predict` output commit finished (with `error` when its job failed);
 * - TRAINING_COMMIT_FINISHED: a `training` commit finished, whoever made it (this replica, another,
 *   `reelgraph import`): its rating batches are folded in (fold-in-feed.ts);
 * - PREDICTION_READY: the result of one request, addressed by request id;
 * - COMMIT_CREATED: a commit was started in one of the user repos (training, streaming, train,
 *   predict), once per commit.
 */
export type Topics = {
  MODEL_UPDATED: [ModelVersion];
  JOB_UPDATED: [JobInfo];
  TRAIN_COMMIT_FINISHED: [CommitInfo];
  PREDICT_COMMIT_FINISHED: [CommitInfo];
  TRAINING_COMMIT_FINISHED: [CommitInfo];
  PREDICTION_READY: [requestId: string, result: PredictionResult];
  COMMIT_CREATED: [CommitInfo];
};

/** The typed PubSub. */
export type EventBus = ReturnType<typeof createEventBus>;

/**
 * An event target whose dispatch reaches every listener even when one throws. A subscriber that
 * does not keep up (more than 1 024 events waiting in its repeater: a stalled WebSocket client)
 * makes its own listener throw RepeaterOverflowError; with a plain EventTarget that error would
 * escape as an uncaught exception and stop the publisher (the upstream watch). Here that
 * subscriber misses the event, the others get it, and `onListenerError` is told.
 */
export class IsolatingEventTarget {
  private readonly listeners = new Map<string, Set<EventListenerOrEventListenerObject>>();

  /** @param onListenerError called with the event type and the error a listener threw */
  constructor(private readonly onListenerError: (type: string, error: unknown) => void) {}

  /** Adds `listener` for events of `type` (once per listener, as EventTarget does). */
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    if (!listener) return;
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  /** Removes `listener` for events of `type`; the type's entry goes with its last listener. */
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
    const set = this.listeners.get(type);
    if (!set || !listener) return;
    set.delete(listener);
    if (set.size === 0) this.listeners.delete(type);
  }

  /** Calls every listener of `event.type`, each in its own try/catch. @returns true */
  dispatchEvent(event: Event): boolean {
    const set = this.listeners.get(event.type);
    if (!set) return true;
    for (const l of [...set]) {
      try {
        if (typeof l === 'function') l(event);
        else l.handleEvent(event);
      } catch (e) {
        this.onListenerError(event.type, e);
      }
    }
    return true;
  }
}

/** Events missed by subscribers that did not keep up, per topic (since the process started). */
export const missedEvents = new Map<string, number>();

/**
 * A new, empty PubSub with the {@link Topics}, on an {@link IsolatingEventTarget}.
 * @param onListenerError told when a subscriber misses an event (default: counted in
 *   {@link missedEvents} and, the first time for a topic, a process warning)
 */
export function createEventBus(
  onListenerError: (type: string, error: unknown) => void = (type, error) => {
    const n = (missedEvents.get(type) ?? 0) + 1;
    missedEvents.set(type, n);
    if (n === 1) {
      process.emitWarning(
        `a subscriber of ${type} missed an event: ${(error as Error)?.message ?? String(error)}`,
        'ReelgraphEventBus',
      );
    }
  },
) {
  return createPubSub<Topics>({
    eventTarget: new IsolatingEventTarget(onListenerError) as unknown as NonNullable<
      Parameters<typeof createPubSub<Topics>>[0]
    >['eventTarget'],
  });
}
