/**
 * Subscriptions that replay from a given point before going live (`jobUpdated(after:)`,
 * `commitCreated(after:)`), as a Pachyderm client would otherwise poll ListJob / ListCommit:
 *
 * 1. the live topic is listened to FIRST (its first `next()` is requested, which attaches the
 *    listener), so nothing published from then on is lost;
 * 2. the history since the given point is read (at most {@link ReplayOptions.limit} items: more is
 *    an error naming the limit, before the stream starts, so a client is never silently given a
 *    partial replay);
 * 3. the stream yields the history, oldest first, then the live events, leaving out a live event
 *    that the history already covered (`covered`): no gap and no duplicate between the two.
 */
import { Repeater } from '@graphql-yoga/subscription';
import { untilAborted } from '../pachyderm/abort';

/** Options of {@link replayThenLive}. */
export interface ReplayOptions<T> {
  /** The live events (a topic of the event bus). */
  live: AsyncIterable<T>;
  /** Reads the history, oldest first; its errors reject {@link replayThenLive}. */
  history: () => Promise<T[]>;
  /**
   * True when the live event `event` adds nothing to what the history yielded (the same item, or
   * an older state of it). Called with the history once read.
   */
  covered: (history: readonly T[]) => (event: T) => boolean;
}

/**
 * The replay-then-live stream (see the module documentation).
 * @throws whatever `history` throws (the live listener is then detached)
 */
export async function replayThenLive<T>(opts: ReplayOptions<T>): Promise<AsyncIterableIterator<T>> {
  const live = opts.live[Symbol.asyncIterator]();
  const first = live.next(); // attaches the listener now
  first.catch(() => undefined); // its failure surfaces when the stream reaches it
  let history: T[];
  try {
    history = await opts.history();
  } catch (e) {
    void live.return?.();
    throw e;
  }
  const covered = opts.covered(history);
  return new Repeater<T>(async (push, stop) => {
    // one abort listener per wait, removed when it settles: racing each next() against `stop`
    // would keep every event ever sent reachable for the life of the subscription (../pachyderm/abort)
    const ended = new AbortController();
    void stop.then(() => {
      ended.abort();
      void live.return?.();
    });
    for (const item of history) {
      if (ended.signal.aborted) return;
      await push(item);
    }
    let next = first;
    while (!ended.signal.aborted) {
      const r = await untilAborted(next, ended.signal);
      if (r === null || r.done) break;
      if (!covered(r.value)) await push(r.value);
      next = live.next();
    }
    stop();
  });
}
