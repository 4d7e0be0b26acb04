/**
 * The event bus keeps publishing to every subscriber when one of them stalls: a subscriber that
 * never takes its events overflows its own repeater (1 024 pending pushes) and misses events from
 * then on, while the publisher does not throw and the other subscribers get every event.
 */
import { createEventBus } from '../../src/services/pubsub';
import type { JobInfo } from '../../src/pachyderm/types';

const job = (n: number) => ({ job: { id: String(n) } }) as unknown as JobInfo;

test('a stalled subscriber misses events; the publisher and the other subscribers go on', async () => {
  const missed: string[] = [];
  const bus = createEventBus((type) => missed.push(type));
  const stalled = bus.subscribe('JOB_UPDATED')[Symbol.asyncIterator]();
  const first = stalled.next(); // attaches its listener, then never asks again
  const live = bus.subscribe('JOB_UPDATED')[Symbol.asyncIterator]();
  const seen: string[] = [];
  const reading = (async () => {
    for (let r = await live.next(); !r.done; r = await live.next()) {
      seen.push(r.value.job.id);
      if (seen.length === 1500) return;
    }
  })();
  // the live reader attaches before the first publish
  await Promise.resolve();
  for (let n = 0; n < 1500; n++) {
    expect(() => bus.publish('JOB_UPDATED', job(n))).not.toThrow();
    if (n % 100 === 99) await new Promise((r) => setImmediate(r)); // let the live reader run
  }
  await reading;
  expect(seen).toEqual(Array.from({ length: 1500 }, (_, n) => String(n)));
  // the stalled one got the first event, held 1 024 more, and missed the rest
  expect((await first).value?.job.id).toBe('0');
  expect(missed.length).toBe(1500 - 1 - 1024);
  expect(new Set(missed)).toEqual(new Set(['JOB_UPDATED']));
  await stalled.return?.();
  await live.return?.();
});
