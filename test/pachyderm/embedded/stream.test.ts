/**
 * The embedded engine's stream helpers (stream.ts): a cancellable stream stops on any of its
 * external signals and leaves no listener on them once it ends, so a long-lived signal (the
 * engine's closing) does not collect one trace per subscription or wait (issue 10: the server's
 * memory must not grow with the number of requests).
 */
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { CommitState, PachCode, isPachError } from '../../../src/pachyderm';
import { EmbeddedPachyderm } from '../../../src/pachyderm/embedded';
import { Signal, cancellable } from '../../../src/pachyderm/embedded/stream';

/** A stream that yields 1 then waits for `wake` until its signal aborts. */
function waiting(wake: Signal) {
  return async function* (signal: AbortSignal) {
    yield 1;
    while (!signal.aborted) await wake.wait(signal);
  };
}

describe('cancellable', () => {
  it('ends when any of its external signals aborts', async () => {
    for (const which of [0, 1]) {
      const a = new AbortController();
      const b = new AbortController();
      const it = cancellable(waiting(new Signal()), [a.signal, undefined, b.signal])[
        Symbol.asyncIterator
      ]();
      expect(await it.next()).toEqual({ done: false, value: 1 });
      const next = it.next();
      (which === 0 ? a : b).abort();
      expect(await next).toEqual({ done: true, value: undefined });
    }
  });

  it('removes its listeners from every external signal when the consumer stops', async () => {
    const longLived = new AbortController();
    const caller = new AbortController();
    for (let i = 0; i < 50; i++) {
      for await (const v of cancellable(waiting(new Signal()), [caller.signal, longLived.signal])) {
        expect(v).toBe(1);
        expect(getEventListeners(longLived.signal, 'abort')).toHaveLength(1);
        break;
      }
    }
    expect(getEventListeners(longLived.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});

describe('embedded engine waits', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-stream-'));
    pach = await EmbeddedPachyderm.open(dir);
    await pach.createRepo('w');
  });
  afterAll(async () => {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no listener on the caller’s signal after subscriptions and waits end', async () => {
    const caller = new AbortController();
    const c = await pach.modifyFile('w@master', [{ op: 'put', path: '/a', data: 'a' }]);
    for (let i = 0; i < 20; i++) {
      await pach.inspectCommit(c, { wait: CommitState.FINISHED, signal: caller.signal });
      for await (const ci of pach.subscribeCommit('w', { signal: caller.signal })) {
        expect(ci.commit.id).toBe(c.id);
        break;
      }
    }
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('keeps no trace of finished waits: the heap does not grow with their number', async () => {
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const caller = new AbortController();
    const c = await pach.modifyFile('w@master', [{ op: 'put', path: '/b', data: 'b' }]);
    const waits = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await pach.inspectCommit(c, { wait: CommitState.FINISHED, signal: caller.signal });
      }
    };
    await waits(2000);
    const before = heap();
    await waits(20000);
    // each wait combined with AbortSignal.any used to keep ~1 KiB alive: ~20 MiB here
    expect(heap() - before).toBeLessThan(4 * 1048576);
  }, 60_000);

  it('ends a pending wait with CANCELLED when the engine closes', async () => {
    const other = await EmbeddedPachyderm.open(path.join(dir, 'second'));
    await other.createRepo('x');
    const open = await other.startCommit('x@master');
    const waitingFor = other.inspectCommit(open, { wait: CommitState.FINISHED });
    const outcome = waitingFor.then(
      () => 'finished',
      (e: unknown) => (isPachError(e, PachCode.CANCELLED) ? 'cancelled' : String(e)),
    );
    await other.close();
    expect(await outcome).toBe('cancelled');
  });
});
