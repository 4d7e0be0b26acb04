/**
 * The ONE place mapping errors to GraphQL error codes (`extensions.code`), by class and code —
 * never by message:
 *
 * | error | code |
 * |---|---|
 * | services ValidationError | BAD_USER_INPUT (+ `extensions.issues: [{index, field, message}]`) |
 * | services NotFoundError | NOT_FOUND |
 * | services ModelNotReadyError | MODEL_NOT_READY |
 * | PachError | by its code, see {@link graphqlCodeOfPachCode} (+ `extensions.pachCode`) |
 * | GraphQLError | unchanged |
 * | anything else | unchanged (the server masks it as INTERNAL_SERVER_ERROR) |
 */
import { GraphQLError } from 'graphql';
import type { MiddlewareFn } from 'type-graphql';
import { PachCode, PachError } from '../pachyderm/errors';
import { ServiceError, ValidationError } from '../services/errors';

/** The GraphQL error codes this API uses. */
export type GraphQLErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'MODEL_NOT_READY'
  | 'CONFLICT'
  | 'FAILED_PRECONDITION'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'NOT_IMPLEMENTED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/** The GraphQL code of a gRPC/Pachyderm status code (exhaustive). */
export function graphqlCodeOfPachCode(code: PachCode): GraphQLErrorCode {
  switch (code) {
    case PachCode.INVALID_ARGUMENT:
    case PachCode.OUT_OF_RANGE:
      return 'BAD_USER_INPUT';
    case PachCode.NOT_FOUND:
      return 'NOT_FOUND';
    case PachCode.ALREADY_EXISTS:
    case PachCode.ABORTED:
      return 'CONFLICT';
    case PachCode.FAILED_PRECONDITION:
      return 'FAILED_PRECONDITION';
    case PachCode.PERMISSION_DENIED:
      return 'FORBIDDEN';
    case PachCode.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case PachCode.RESOURCE_EXHAUSTED:
      return 'RESOURCE_EXHAUSTED';
    case PachCode.DEADLINE_EXCEEDED:
      return 'TIMEOUT';
    case PachCode.CANCELLED:
      return 'CANCELLED';
    case PachCode.UNIMPLEMENTED:
      return 'NOT_IMPLEMENTED';
    case PachCode.UNAVAILABLE:
      return 'SERVICE_UNAVAILABLE';
    case PachCode.OK:
    case PachCode.UNKNOWN:
    case PachCode.INTERNAL:
    case PachCode.DATA_LOSS:
      return 'INTERNAL_SERVER_ERROR';
    default: {
      const never: never = code;
      return never;
    }
  }
}

/** The GraphQL code of a service error (exhaustive over its kinds). */
export function graphqlCodeOfServiceError(e: ServiceError): GraphQLErrorCode {
  switch (e.kind) {
    case 'INVALID_INPUT':
      return 'BAD_USER_INPUT';
    case 'NOT_FOUND':
      return 'NOT_FOUND';
    case 'MODEL_NOT_READY':
      return 'MODEL_NOT_READY';
    default: {
      const never: never = e.kind;
      return never;
    }
  }
}

/** Converts a thrown value to the GraphQLError clients see (see the module table). */
export function toGraphQLError(e: unknown): unknown {
  if (e instanceof GraphQLError) return e;
  if (e instanceof ServiceError) {
    return new GraphQLError(e.message, {
      originalError: e,
      extensions: {
        code: graphqlCodeOfServiceError(e),
        ...(e instanceof ValidationError ? { issues: e.issues } : {}),
      },
    });
  }
  if (e instanceof PachError) {
    return new GraphQLError(e.message, {
      originalError: e,
      extensions: { code: graphqlCodeOfPachCode(e.code), pachCode: e.codeName },
    });
  }
  return e;
}

/** type-graphql middleware applying {@link toGraphQLError} to every resolver's errors. */
export const mapErrors: MiddlewareFn = async (_data, next) => {
  try {
    return await next();
  } catch (e) {
    throw toGraphQLError(e);
  }
};

/** Wraps a subscription's `subscribe` so that its errors are mapped too. */
export function mappedSubscribe<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw toGraphQLError(e);
    }
  };
}
