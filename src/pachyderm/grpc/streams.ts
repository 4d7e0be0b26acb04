/**
 * The stream plumbing of the gRPC client (client.ts): the async iterator of one server-streaming
 * call ({@link CallIterator}), an async queue fed by pushes ({@link PushQueue}) and an abortable
 * sleep.
 */
import type * as grpc from '@grpc/grpc-js';
import type { WireMessage } from './codec';
import { fromGrpcError } from './status';

/**
 * The iterator of one server-streaming call: buffered (the call is paused above 64 queued
 * messages), ends on the stream's end, fails with the call's status as a PachError, and ends
 * quietly when cancelled by `return()`, by `signal` or by the client's `close()`.
 */
export class CallIterator<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private done = false;
  private error: unknown;
  private cancelled = false;
  private paused = false;
  private readonly tracked = { cancel: () => this.cancel() };

  constructor(
    private readonly call: grpc.ClientReadableStream<WireMessage>,
    private readonly decode: (m: WireMessage) => T,
    private readonly open: Set<{ cancel(): void }>,
    private readonly signal?: AbortSignal,
    /** The pachd's address, named in connection and authentication errors. */
    private readonly address?: string,
  ) {
    open.add(this.tracked);
    call.on('data', (m: WireMessage) => {
      let v: T;
      try {
        v = this.decode(m);
      } catch (e) {
        this.fail(e);
        return;
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve({ value: v, done: false });
      } else {
        this.queue.push(v);
        if (this.queue.length >= 64 && !this.paused) {
          this.paused = true;
          call.pause();
        }
      }
    });
    call.on('end', () => this.finish());
    call.on('error', (e: unknown) => {
      if (this.cancelled) this.finish();
      else this.fail(fromGrpcError(e, this.address));
    });
    if (signal?.aborted) this.cancel();
    else signal?.addEventListener('abort', this.tracked.cancel, { once: true });
  }

  private cleanup(): void {
    this.open.delete(this.tracked);
    this.signal?.removeEventListener('abort', this.tracked.cancel);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      if (this.error !== undefined) w.reject(this.takeError());
      else w.resolve({ value: undefined, done: true });
    }
  }

  private fail(e: unknown): void {
    if (this.done) return;
    this.error = e;
    this.finish();
  }

  private takeError(): unknown {
    const e = this.error;
    this.error = undefined;
    return e;
  }

  private cancel(): void {
    if (this.done) return;
    this.cancelled = true;
    this.queue.length = 0;
    this.call.cancel();
    this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length) {
      const value = this.queue.shift()!;
      if (this.paused && this.queue.length < 16) {
        this.paused = false;
        this.call.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.takeError());
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.cancel();
    this.error = undefined;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** An async iterator fed by `push`; `return()` (or `end()`) ends it and calls `onStop` once. */
export class PushQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | null = null;
  private ended = false;
  private error: unknown;

  constructor(private readonly onStop: () => void) {}

  push(v: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: v, done: false });
    } else this.items.push(v);
  }

  fail(e: unknown): void {
    if (this.ended) return;
    this.error = e;
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onStop();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      if (this.error !== undefined) w.reject(this.error);
      else w.resolve({ value: undefined, done: true });
      this.error = undefined;
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.error !== undefined) {
      const e = this.error;
      this.error = undefined;
      return Promise.reject(e);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
