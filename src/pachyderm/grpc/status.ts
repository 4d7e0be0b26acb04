/**
 * The one place that maps between gRPC statuses and the port's {@link PachError}s, in both
 * directions. {@link PachCode} already has gRPC's numbering (grpc/grpc `doc/statuscodes.md`), so the
 * code travels as is and the message is the status `details`.
 *
 * The one exception follows pachd: it answers some failures with `UNKNOWN` and a message ("commit X
 * has already finished", "parent commit X has not been finished"; shared/pachyderm-api.md §3.7).
 * Only for `UNKNOWN`, the client recovers the port's precise code with
 * `codeFromPachydermMessage` (../errors.ts); every other code is taken as sent.
 */
import * as grpc from '@grpc/grpc-js';
import { codeFromPachydermMessage, PachCode, PachError } from '../errors';

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
