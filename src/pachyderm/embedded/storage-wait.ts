/**
 * Waiting out a full disk (issue 11): a job of the embedded engine whose write meets a full data
 * directory — the file system's `ENOSPC` / SQLite's `SQLITE_FULL`, or the free-space floor
 * `REELGRAPH_MIN_FREE_BYTES` (storage.ts) — does not fail: it waits until space returns and does
 * the same write again, so the job ends SUCCESS with nothing lost (a datum's output stays staged
 * while it waits). The wait polls the file system (statfs, a cheap system call) with a growing
 * delay, 100 ms doubling up to 5 s, and ends early when the job is stopped (its abort signal).
 *
 * "Space returned" means: below the floor, the free space is at or above the (current) floor; after
 * the file system refused a write, the free space is larger than when it refused. When statfs
 * cannot tell, the write is simply tried again after each delay; once the delay is at its longest
 * it is tried at each look, whatever the free space (a full disk elsewhere, e.g. the datums' work
 * directory, is not seen by statfs of the data directory). A write that fails again waits again,
 * its delay still growing.
 *
 * Pachyderm has no such wait (a pachd whose object storage is full fails the request); it is the
 * issue's requirement "jobs that hit it are retried when space returns", done without a restart.
 */
import { isStorageFull, freeBytes, type StorageGuard, StorageFullError } from './storage';

/** The first delay between two looks at the free space, ms. */
export const STORAGE_WAIT_FIRST_MS = 100;
/** The longest delay between two looks at the free space, ms. */
export const STORAGE_WAIT_MAX_MS = 5_000;

/** Options of {@link untilStored}. */
export interface StorageWaitOptions {
  /** Stops the wait: the storage error is then thrown (e.g. the job was stopped or timed out). */
  signal?: AbortSignal;
  /** Called when a write failed for lack of space, before waiting (e.g. to say so in the job). */
  onWait?: (failure: StorageFullError) => void;
  /** Called when space returned, just before the write is done again. */
  onRetry?: () => void;
  /** The first delay, ms (default {@link STORAGE_WAIT_FIRST_MS}). */
  firstDelayMs?: number;
  /** The longest delay, ms (default {@link STORAGE_WAIT_MAX_MS}). */
  maxDelayMs?: number;
}

/**
 * True when the data directory has space again after `failure`: at or above the current floor
 * after a floor refusal; more free bytes than at the refusal after a file-system refusal; true
 * when the free space cannot be read (try again).
 */
export function spaceReturned(guard: StorageGuard, failure: StorageFullError): boolean {
  const free = freeBytes(guard.dataDir);
  if (free === null) return true;
  if (free < guard.minFreeBytes) return false;
  return failure.belowFloor || failure.free === null || free > failure.free;
}

/**
 * Waits until {@link spaceReturned}, looking after `delayMs` then at each doubling up to
 * `maxDelayMs`.
 * @returns the delay to start from next time; false when `signal` aborted first
 */
async function waitForSpace(
  guard: StorageGuard,
  failure: StorageFullError,
  delayMs: number,
  maxDelayMs: number,
  signal?: AbortSignal,
): Promise<number | false> {
  let delay = delayMs;
  for (;;) {
    if (signal?.aborted) return false;
    const woke = await new Promise<boolean>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      }, delay);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    if (!woke) return false;
    // at the longest delay the write is tried anyway: the failure may have been elsewhere
    // (e.g. the datums' work directory on another file system), which statfs here cannot see
    if (delay >= maxDelayMs || spaceReturned(guard, failure))
      return Math.min(delay * 2, maxDelayMs);
    delay = Math.min(delay * 2, maxDelayMs);
  }
}

/**
 * Runs `write`; while it fails for lack of space (see {@link isStorageFull}), waits for space to
 * return and runs it again. Any other failure is thrown at once. `write` must leave nothing
 * behind when it fails (every write path of the engine is atomic: storage.ts).
 * @returns what `write` returns
 * @throws the write's other errors; the StorageFullError when `opts.signal` aborts the wait
 */
export async function untilStored<T>(
  guard: StorageGuard,
  write: () => Promise<T>,
  opts: StorageWaitOptions = {},
): Promise<T> {
  const max = opts.maxDelayMs ?? STORAGE_WAIT_MAX_MS;
  let delay = opts.firstDelayMs ?? STORAGE_WAIT_FIRST_MS;
  for (;;) {
    try {
      return await write();
    } catch (e) {
      if (!isStorageFull(e)) throw e;
      const failure = asStorageFull(guard, e);
      opts.onWait?.(failure);
      const next = await waitForSpace(guard, failure, delay, max, opts.signal);
      if (next === false) throw failure;
      delay = next;
      opts.onRetry?.();
    }
  }
}

/** `e` (a storage-full failure) as a StorageFullError, recorded by the guard (for /readyz). */
function asStorageFull(guard: StorageGuard, e: unknown): StorageFullError {
  const t = guard.translate(e);
  return t instanceof StorageFullError
    ? t
    : new StorageFullError(guard.dataDir, freeBytes(guard.dataDir), guard.minFreeBytes, false, {
        cause: e,
      });
}
