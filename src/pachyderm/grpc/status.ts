/**
 * The one place that maps between gRPC statuses and the port's {@link PachError}s, in both
 * directions. {@link PachCode} already has gRPC's numbering (grpc/grpc `doc/statuscodes.md`), so the
 * code travels as is and the message is the status `details`.
 *
 * The one exception follows pachd: it answers some failures with `UNKNOWN` and a message ("commit X
 * has already finished", "parent commit X has not been finished"; shared/pachyderm-api.md §3.7).
 * Only for `UNKNOWN`, the client recovers the port's precise code with
 * `codeFromPachydermMessage` (../errors.ts); every other code is taken as sent.
 *
 * A full data store (issue 11) comes back as a {@link StorageFullError} (the API's 507
 * `INSUFFICIENT_STORAGE`): from the stand-in (`reelgraph pachd`), a `RESOURCE_EXHAUSTED` status
 * whose trailer `reelgraph-storage-full` carries the error's fields as JSON; from a real pachd,
 * which passes its storage's own error on as text (usually `UNKNOWN`), any status whose message
 * says a store is full: Go's `ENOSPC` / `EDQUOT` texts ("no space left on device", "disk quota
 * exceeded") from its chunk cache or volumes, PostgreSQL's `disk_full` (SQLSTATE 53100, "could not
 * extend file"), MinIO's `XMinioStorageFull` ("Storage backend has reached its minimum free drive
 * threshold").
 */
import * as grpc from '@grpc/grpc-js';
import { codeFromPachydermMessage, PachCode, PachError } from '../errors';
import { StorageFullError } from '../storage-error';

/** The trailer by which the stand-in marks a {@link StorageFullError} (JSON of its fields). */
export const STORAGE_FULL_METADATA_KEY = 'reelgraph-storage-full';

/** What a real pachd's message says when one of its stores is full (see the module docs). */
const PACHD_STORAGE_FULL =
  /no space left on device|disk quota exceeded|could not extend file|SQLSTATE 53100|XMinioStorageFull|minimum free drive threshold/i;

/** What a gRPC handler's callback or `emit('error')` accepts. */
export interface StatusObject {
  code: grpc.status;
  details: string;
  metadata?: grpc.Metadata;
}

/**
 * Any error thrown by the port (or by a handler) as a gRPC status: a {@link PachError} keeps its
 * code and message; anything else is `UNKNOWN` with its message (pachd's default for plain errors).
 */
export function toGrpcStatus(e: unknown): StatusObject {
  if (e instanceof StorageFullError) {
    const metadata = new grpc.Metadata();
    const { dataDir, free, minFreeBytes, belowFloor } = e;
    metadata.set(
      STORAGE_FULL_METADATA_KEY,
      JSON.stringify({ dataDir, free, minFreeBytes, belowFloor }),
    );
    return { code: grpc.status.RESOURCE_EXHAUSTED, details: e.message, metadata };
  }
  if (e instanceof PachError) return { code: e.code as number as grpc.status, details: e.message };
  const message = e instanceof Error ? e.message : String(e);
  return { code: grpc.status.UNKNOWN, details: message };
}

/**
 * A gRPC client error (`ServiceError`: `code`, `details`) as a {@link PachError} with the same
 * code and the status details as message; `UNKNOWN` is refined from pachd's message (see the
 * module documentation). A non-gRPC error becomes `UNKNOWN`. The original error is the `cause`.
 * With the client's `address`, UNAVAILABLE and UNAUTHENTICATED messages name that pachd (and,
 * for the latter, the variable that holds its token).
 */
export function fromGrpcError(e: unknown, address?: string): PachError {
  if (e instanceof PachError) return e;
  const se = e as Partial<grpc.ServiceError> | undefined;
  if (se && typeof se.code === 'number') {
    let message = (se.details || se.message || grpc.status[se.code] || 'unknown error')
      // grpc-js appends an empty "Resolution note: " to connection failures
      .replace(/\s*Resolution note:\s*$/, '');
    const code =
      se.code === grpc.status.UNKNOWN
        ? codeFromPachydermMessage(message, PachCode.UNKNOWN)
        : (se.code as number as PachCode);
    const full = storageFullOf(se, message, e, address);
    if (full) return full;
    // the two a user acts on at the client's end: say which pachd, and what to set
    if (address && code === PachCode.UNAVAILABLE) {
      message = `pachd at ${address} is not reachable: ${message}`;
    } else if (address && code === PachCode.UNAUTHENTICATED) {
      message = `pachd at ${address} refused the call: ${message} (its token goes in REELGRAPH_PACHD_TOKEN)`;
    }
    return new PachError(code, message, { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new PachError(PachCode.UNKNOWN, message, { cause: e });
}

/**
 * The {@link StorageFullError} a gRPC error stands for, or null: the stand-in's (its trailer, its
 * message kept) or a real pachd's (its message; the "data directory" is then the pachd).
 */
function storageFullOf(
  se: Partial<grpc.ServiceError>,
  message: string,
  cause: unknown,
  address?: string,
): StorageFullError | null {
  const marked = se.metadata?.get(STORAGE_FULL_METADATA_KEY)[0];
  if (marked !== undefined && se.code === grpc.status.RESOURCE_EXHAUSTED) {
    try {
      const f = JSON.parse(String(marked)) as Record<string, unknown>;
      if (typeof f.dataDir === 'string') {
        return new StorageFullError(
          f.dataDir,
          typeof f.free === 'number' ? f.free : null,
          typeof f.minFreeBytes === 'number' ? f.minFreeBytes : 0,
          f.belowFloor === true,
          { cause, message },
        );
      }
    } catch {
      /* not ours after all: the message decides below */
    }
  }
  if (!PACHD_STORAGE_FULL.test(message)) return null;
  const where = `pachd${address ? ` at ${address}` : ''}`;
  return new StorageFullError(where, null, 0, false, {
    cause,
    message: `insufficient storage: ${where} refused a write because its storage is full: ${message}`,
  });
}
