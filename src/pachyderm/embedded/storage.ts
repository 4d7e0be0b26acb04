/**
 * Disk exhaustion as an expected condition of the embedded engine (issue 11). A write that fails
 * because the file system is full — `ENOSPC` or `EDQUOT` from Node's fs, `SQLITE_FULL` ("database
 * or disk is full") from SQLite — becomes a {@link StorageFullError}: a PachError
 * `RESOURCE_EXHAUSTED` whose message names the data directory and its free space, which the API
 * answers as HTTP 507 / GraphQL `INSUFFICIENT_STORAGE`. A free-space floor
 * (`REELGRAPH_MIN_FREE_BYTES`, default {@link DEFAULT_MIN_FREE_BYTES}) refuses new commits before
 * the disk is actually full, so that SQLite's journal and the commits already started can still
 * finish. Nothing half-written stays visible: metadata changes are SQLite transactions (rolled
 * back), and blob packs are written to a temporary file first, removed on failure.
 */
import * as fs from 'node:fs';
import { StorageFullError } from '../storage-error';

export { StorageFullError };

/** The default free-space floor: 32 MiB. */
export const DEFAULT_MIN_FREE_BYTES = 32 * 1024 * 1024;

/** True when `e` says the file system (or SQLite's database) is full. */
export function isStorageFull(e: unknown): boolean {
  if (e instanceof StorageFullError) return true;
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || typeof err !== 'object') return false;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return true;
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_FULL')) return true;
  return typeof err.message === 'string' && /database or disk is full/.test(err.message);
}

/** Bytes available to this process on the file system holding `dir` (statfs), or null. */
export function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** What the data directory's storage looks like now (for /readyz). */
export interface StorageStatus {
  dataDir: string;
  freeBytes: number | null;
  minFreeBytes: number;
  /** True below the floor, or while the last write failed for lack of space. */
  full: boolean;
  /** Why it is full, when it is. */
  reason?: string;
}

/**
 * The storage guard of one data directory: checks the floor before writes, turns storage-full
 * failures into {@link StorageFullError}, and remembers that the last write failed so that
 * /readyz reports it until a later write succeeds.
 */
export class StorageGuard {
  private lastFailure?: StorageFullError;

  /** @param minFreeBytes the floor (0: no floor); may be changed while the engine runs */
  constructor(
    readonly dataDir: string,
    public minFreeBytes: number = DEFAULT_MIN_FREE_BYTES,
  ) {}

  /** @throws StorageFullError when the free space is below the floor */
  checkFloor(): void {
    if (this.minFreeBytes <= 0) return;
    const free = freeBytes(this.dataDir);
    if (free !== null && free < this.minFreeBytes) {
      throw (this.lastFailure = new StorageFullError(this.dataDir, free, this.minFreeBytes, true));
    }
  }

  /**
   * Runs a write: the floor first (when `floor`), then `fn`; a storage-full failure is rethrown
   * as {@link StorageFullError}; a success clears the remembered failure.
   */
  async write<T>(fn: () => T | Promise<T>, floor = true): Promise<T> {
    if (floor) this.checkFloor();
    try {
      const r = await fn();
      this.lastFailure = undefined;
      return r;
    } catch (e) {
      throw this.translate(e);
    }
  }

  /** `e` as a {@link StorageFullError} when it is a storage-full failure, else `e`. */
  translate(e: unknown): unknown {
    if (e instanceof StorageFullError) return (this.lastFailure = e);
    if (!isStorageFull(e)) return e;
    return (this.lastFailure = new StorageFullError(
      this.dataDir,
      freeBytes(this.dataDir),
      this.minFreeBytes,
      false,
      { cause: e },
    ));
  }

  /** The current status (statfs now; a remembered failure counts until a write succeeds). */
  status(): StorageStatus {
    const free = freeBytes(this.dataDir);
    const below = this.minFreeBytes > 0 && free !== null && free < this.minFreeBytes;
    // a remembered failure stops counting once the space is back above the floor
    if (this.lastFailure && !below && free !== null && free >= Math.max(this.minFreeBytes, 1)) {
      if (this.lastFailure.belowFloor) this.lastFailure = undefined;
    }
    const failure = below
      ? new StorageFullError(this.dataDir, free, this.minFreeBytes, true)
      : this.lastFailure;
    return {
      dataDir: this.dataDir,
      freeBytes: free,
      minFreeBytes: this.minFreeBytes,
      full: failure !== undefined,
      ...(failure ? { reason: failure.message } : {}),
    };
  }
}
