/**
 * Waiting on a promise until an AbortSignal fires, without keeping anything once the wait is over.
 *
 * A long-lived stream (the stand-in's SubscribeCommit / SubscribeJob, a GraphQL subscription that
 * replays then goes live) must not race every `next()` against one long-lived "stopped" promise:
 * `Promise.race([it.next(), stopped])` registers one reaction on `stopped` per call, and each
 * reaction keeps its race's result (the item) reachable until the stream ends — memory that grows
 * with every commit or job ever streamed (issue 10). {@link untilAborted} adds one abort listener
 * per wait and removes it when the wait settles.
 */

/**
 * Resolves with `p`'s value, or with `null` as soon as `signal` aborts (at once when it already
 * has); rejects with `p`'s error. The abort listener is removed when `p` settles, so nothing is
 * kept per call once it is over (unlike racing a long-lived promise).
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) {
    p.catch(() => undefined); // settles later, unobserved
    return Promise.resolve(null);
  }
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
