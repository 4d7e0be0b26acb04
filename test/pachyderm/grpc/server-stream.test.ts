/**
 * The stand-in's stream pump (src/pachyderm/grpc/server-stream.ts): a stream that stays open
 * (SubscribeCommit, SubscribeJob) keeps nothing per item it has written, the abort signal holds
 * one listener at a time whatever the number of items, back-pressure waits for `drain`, and an
 * abort stops the pump while it waits for the next item or for `drain`.
 */
import { getEventListeners } from 'node:events';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { untilAborted } from '../../../src/pachyderm/abort';
import { pumpStream, type StreamSink } from '../../../src/pachyderm/grpc/server-stream';

/** A full garbage collection (the test process runs without --expose-gc). */
function gcNow(): void {
  v8.setFlagsFromString('--expose_gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** An iterator that yields `items()` one by one, then waits until `release` is called. */
function subscription<T>(items: () => Iterable<T>): {
  it: AsyncIterator<T>;
  waiting: Promise<void>;
  release(): void;
} {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reachedEnd!: () => void;
  const waiting = new Promise<void>((r) => (reachedEnd = r));
  async function* gen() {
    yield* items();
    reachedEnd();
    await released; // like a subscription with no new commit yet
  }
  return { it: gen(), waiting, release };
}

describe('pumpStream', () => {
  it('keeps no item alive once written while the stream stays open', async () => {
    const N = 500;
    const refs: WeakRef<object>[] = [];
    const sub = subscription(function* () {
      for (let i = 0; i < N; i++) {
        const item = { commit: { id: `c${i}` }, payload: 'x'.repeat(64) };
        refs.push(new WeakRef(item));
        yield item;
      }
    });
    let written = 0;
    const sink: StreamSink<object> = { write: () => (written++, true), drained: async () => {} };
    const ctl = new AbortController();
    const pumped = pumpStream(sub.it, sink, ctl.signal);
    await sub.waiting;
    expect(written).toBe(N);
    // WeakRef targets are held until the current job ends: let a macrotask pass, then collect
    await new Promise((r) => setImmediate(r));
    gcNow();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // the item being written last may still be on the generator's frame; the rest must be gone
    // (racing each next() against one long-lived promise kept all N)
    expect(alive).toBeLessThanOrEqual(1);
    // one abort listener at a time, not one per item
    expect(getEventListeners(ctl.signal, 'abort').length).toBeLessThanOrEqual(1);
    ctl.abort();
    expect(await pumped).toBe('aborted');
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
    sub.release();
  });

  it('answers ended after the last item of an iterator that ends', async () => {
    const got: number[] = [];
    async function* three() {
      yield* [1, 2, 3];
    }
    const ctl = new AbortController();
    const how = await pumpStream(
      three(),
      { write: (v: number) => (got.push(v), true), drained: async () => {} },
      ctl.signal,
    );
    expect(how).toBe('ended');
    expect(got).toEqual([1, 2, 3]);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });

  it('waits for drain when the sink asks, and stops there when aborted', async () => {
    let drain!: () => void;
    const got: number[] = [];
    let askedToWait!: () => void;
    const waitingForDrain = new Promise<void>((r) => (askedToWait = r));
    const sink: StreamSink<number> = {
      write: (v) => {
        got.push(v);
        return v !== 2; // full after the second message
      },
      drained: () =>
        new Promise<void>((r) => {
          drain = r;
          askedToWait();
        }),
    };
    async function* five() {
      yield* [1, 2, 3, 4, 5];
    }
    const ctl = new AbortController();
    const pumped = pumpStream(five(), sink, ctl.signal);
    await waitingForDrain;
    expect(got).toEqual([1, 2]); // nothing written while the sink is full
    drain();
    expect(await pumped).toBe('ended');
    expect(got).toEqual([1, 2, 3, 4, 5]);

    // again, aborted while waiting for drain
    const got2: number[] = [];
    let asked2!: () => void;
    const waiting2 = new Promise<void>((r) => (asked2 = r));
    const ctl2 = new AbortController();
    const pumped2 = pumpStream(
      five(),
      {
        write: (v) => (got2.push(v), false),
        drained: () => {
          asked2();
          return new Promise<void>(() => undefined);
        },
      },
      ctl2.signal,
    );
    await waiting2;
    ctl2.abort();
    expect(await pumped2).toBe('aborted');
    expect(got2).toEqual([1]);
    expect(getEventListeners(ctl2.signal, 'abort')).toHaveLength(0);
  });

  it('rethrows the error of the iterator', async () => {
    async function* failing() {
      yield 1;
      throw new Error('engine closed');
    }
    await expect(
      pumpStream(
        failing(),
        { write: () => true, drained: async () => {} },
        new AbortController().signal,
      ),
    ).rejects.toThrow('engine closed');
  });
});

describe('untilAborted', () => {
  it('answers null at once for a signal already aborted, and the value otherwise', async () => {
    const ctl = new AbortController();
    expect(await untilAborted(Promise.resolve(7), ctl.signal)).toBe(7);
    ctl.abort();
    expect(await untilAborted(new Promise<number>(() => undefined), ctl.signal)).toBeNull();
    // a rejection after the abort is not left unhandled
    expect(await untilAborted(Promise.reject(new Error('late')), ctl.signal)).toBeNull();
  });
});
