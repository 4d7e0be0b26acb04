/**
 * The error of the port for a data store that is out of space (issue 11): a PachError
 * `RESOURCE_EXHAUSTED` that says which directory is full and how much is free. The embedded engine
 * raises it (embedded/storage.ts); the API answers it with HTTP 507 and the GraphQL code
 * `INSUFFICIENT_STORAGE` (resolvers/errors.ts, server/rest.ts).
 */
import { PachCode, PachError } from './errors';

/** `n` bytes in a readable unit (KiB, MiB, GiB). */
export function formatBytes(n: number | null): string {
  if (n === null) return 'an unknown amount';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/**
 * The data directory is full, or below its free-space floor: PachError `RESOURCE_EXHAUSTED`
 * naming the directory, its free bytes and the floor (HTTP 507 / `INSUFFICIENT_STORAGE`).
 */
export class StorageFullError extends PachError {
  /**
   * @param dataDir the data directory
   * @param free its free bytes when the error happened (null: unknown)
   * @param minFreeBytes the configured floor
   * @param belowFloor true when refused by the floor (nothing was attempted), false when the
   *   file system itself said it is full
   * @param options.message the message as another process already worded it (the gRPC client
   *   rebuilding the error of a pachd: grpc/status.ts); by default it is worded from the fields
   */
  constructor(
    readonly dataDir: string,
    readonly free: number | null,
    readonly minFreeBytes: number,
    readonly belowFloor: boolean,
    options?: { cause?: unknown; message?: string },
  ) {
    super(
      PachCode.RESOURCE_EXHAUSTED,
      options?.message ??
        `insufficient storage: the data directory ${dataDir} has ${formatBytes(free)} free${
          belowFloor
            ? `, below the floor of ${formatBytes(minFreeBytes)} (REELGRAPH_MIN_FREE_BYTES): new commits are refused until space is freed`
            : ` and the file system refused a write (${storageCause(options?.cause)}); nothing was committed`
        }`,
      { cause: options?.cause },
    );
    this.name = 'StorageFullError';
  }
}

function storageCause(e: unknown): string {
  const err = e as { code?: unknown } | undefined;
  return typeof err?.code === 'string' ? err.code : 'disk full';
}
