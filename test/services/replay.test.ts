/**
 * replayThenLive (src/services/replay.ts), the stream of `jobUpdated(after:)` and
 * `commitCreated(after:)`: the history first, then the live events the history did not cover,
 * and a subscription that stays open keeps nothing per event it has sent.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Repeater } from '@graphql-yoga/subscription';
import { replayThenLive } from '../../src/services/replay';

/** A full garbage collection (the test process runs without --expose-gc). */
function gcNow(): void {
  v8.setFlagsFromString('--expose_gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** A live topic fed by hand: `publish` pushes one event to the (single) listener. */
function topic<T>(): {
  live: AsyncIterable<T>;
  publish(v: T): Promise<unknown>;
  stopped: Promise<void>;
} {
  let pushOne!: (v: T) => Promise<unknown>;
  let onStop!: () => void;
  const stopped = new Promise<void>((r) => (onStop = r));
  const live = new Repeater<T>(async (push, stop) => {
    pushOne = push;
    await stop;
    onStop();
  });
  return { live, publish: (v) => pushOne(v), stopped };
}

describe('replayThenLive', () => {
  it('yields the history, then the live events it does not cover, in order', async () => {
    const t = topic<{ id: number }>();
    const stream = await replayThenLive({
      live: t.live,
      history: async () => [{ id: 1 }, { id: 2 }],
      covered: (h) => (e) => h.some((x) => x.id === e.id),
    });
    const got: number[] = [];
    const reader = (async () => {
      for await (const e of stream) {
        got.push(e.id);
        if (got.length === 4) break;
      }
    })();
    await t.publish({ id: 2 }); // covered by the history: left out
    await t.publish({ id: 3 });
    await t.publish({ id: 4 });
    await reader;
    expect(got).toEqual([1, 2, 3, 4]);
    await t.stopped; // ending the stream detaches the live listener
  });

  it('keeps no sent event alive while the subscription stays open', async () => {
    const N = 300;
    const refs: WeakRef<object>[] = [];
    const t = topic<{ id: number; payload: string }>();
    const stream = await replayThenLive({
      live: t.live,
      history: async () => [],
      covered: () => () => false,
    });
    let received = 0;
    const reader = (async () => {
      for await (const e of stream) {
        void e;
        if (++received === N + 1) break;
      }
    })();
    for (let i = 0; i < N; i++) {
      const event = { id: i, payload: 'x'.repeat(64) };
      refs.push(new WeakRef(event));
      await t.publish(event); // resolves once the stream has taken it
    }
    // the positive signal that every event went through: the reader counted them all
    while (received < N) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    gcNow();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // the last event may still sit in a frame; racing each next() against the stop promise kept all
    expect(alive).toBeLessThanOrEqual(2);
    await t.publish({ id: N, payload: '' });
    await reader;
  });
});
