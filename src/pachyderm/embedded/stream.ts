/**
 * Helpers for the embedded engine's streams: cancellable async iterables and in-process waits,
 * driven by events (no polling).
 */
import { PachCode, PachError } from '../errors';

/**
 * Wrap an async generator so that it can be stopped at any moment: by `break` in `for await`
 * (the iterator's `return()`), or by any of the `external` signals (the caller's, the engine's
 * closing). The generator receives an internal `AbortSignal` that fires in all these cases; a
 * generator blocked in {@link waitFor} then wakes up and must return. Each
 * `[Symbol.asyncIterator]()` call starts the generator afresh. Its listeners on the external
 * signals are removed when the iteration ends (no `AbortSignal.any`, whose Node 20 implementation
 * keeps a trace of every combined signal on a long-lived source signal).
 */
export function cancellable<T>(
  start: (signal: AbortSignal) => AsyncGenerator<T>,
  external?: AbortSignal | readonly (AbortSignal | undefined)[],
): AsyncIterable<T> {
  const sources = (Array.isArray(external) ? external : [external]).filter(
    (s): s is AbortSignal => s !== undefined,
  );
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const ctl = new AbortController();
      const onAbort = () => ctl.abort();
      for (const s of sources) {
        if (s.aborted) ctl.abort();
        else s.addEventListener('abort', onAbort, { once: true });
      }
      const gen = start(ctl.signal);
      const cleanup = () => {
        for (const s of sources) s.removeEventListener('abort', onAbort);
      };
      return {
        async next() {
          if (ctl.signal.aborted) {
            cleanup();
            await gen.return(undefined);
            return { done: true, value: undefined };
          }
          try {
            const r = await gen.next();
            if (r.done) cleanup();
            return r;
          } catch (e) {
            cleanup();
            throw e;
          }
        },
        async return() {
          ctl.abort();
          cleanup();
          await gen.return(undefined);
          return { done: true, value: undefined };
        },
        async throw(e?: unknown) {
          ctl.abort();
          cleanup();
          return gen.throw(e);
        },
      };
    },
  };
}

/**
 * A level-triggered wake-up: `notify()` wakes every current waiter; waiters re-check their
 * condition after waking. Used with an event listener that calls `notify`.
 */
export class Signal {
  private waiters: (() => void)[] = [];

  /** Wake all current waiters. */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * Resolve at the next `notify()`, or when `abort` fires (then resolves too; callers check
   * `abort.aborted`).
   */
  wait(abort?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (abort?.aborted) return resolve();
      const done = () => {
        abort?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      abort?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * Wait until `check()` returns a value other than `undefined`, re-checking on each `signal`
 * notification. Rejects with CANCELLED when `abort` fires first.
 */
export async function waitFor<T>(
  check: () => T | undefined,
  signal: Signal,
  abort?: AbortSignal,
): Promise<T> {
  for (;;) {
    // `check` is synchronous and registering the waiter right after it is too: no notification
    // can slip in between (one thread), and no waiter is left behind when the check succeeds.
    const v = check();
    if (v !== undefined) return v;
    if (abort?.aborted) throw new PachError(PachCode.CANCELLED, 'wait cancelled');
    await signal.wait(abort);
    if (abort?.aborted) throw new PachError(PachCode.CANCELLED, 'wait cancelled');
  }
}

/**
 * An iterable built lazily: `make` runs when iteration starts, so that an error it throws (e.g.
 * NOT_FOUND) surfaces from the first `next()`, as a gRPC server stream reports it, instead of
 * from the method call.
 */
export function deferred<T>(make: () => AsyncIterable<T> | Iterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | Iterator<T> | undefined;
      let error: unknown;
      let failed = false;
      try {
        const src = make();
        inner =
          Symbol.asyncIterator in src
            ? (src as AsyncIterable<T>)[Symbol.asyncIterator]()
            : (src as Iterable<T>)[Symbol.iterator]();
      } catch (e) {
        failed = true;
        error = e;
      }
      return {
        async next() {
          if (failed) {
            failed = false;
            inner = undefined;
            throw error;
          }
          if (!inner) return { done: true, value: undefined };
          return inner.next();
        },
        async return() {
          const it = inner;
          inner = undefined;
          if (it?.return) await it.return();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
