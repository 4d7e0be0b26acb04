/**
 * The ONE place mapping errors to GraphQL error codes (`extensions.code`), by class and code —
 * never by message:
 *
 * | error | code |
 * |---|---|
 * | services ValidationError | BAD_USER_INPUT (+ `extensions.issues: [{index, field, message}]`) |
 * | services NotFoundError | NOT_FOUND |
 * | services ModelNotReadyError | MODEL_NOT_READY |
 * | StorageFullError (a PachError: the data directory is full) | INSUFFICIENT_STORAGE, HTTP 507 (+ `extensions.dataDir`, `freeBytes`) |
 * | PachError | by its code, see {@link graphqlCodeOfPachCode} (+ `extensions.pachCode`) |
 * | GraphQLError | unchanged |
 * | anything else | unchanged (the server masks it as INTERNAL_SERVER_ERROR) |
 */
import { GraphQLError, type GraphQLSchema, isObjectType } from 'graphql';
import { PachCode, PachError } from '../pachyderm/errors';
import { StorageFullError } from '../pachyderm/storage-error';
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
  | 'INSUFFICIENT_STORAGE'
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
  if (e instanceof StorageFullError) {
    return new GraphQLError(e.message, {
      originalError: e,
      extensions: {
        code: 'INSUFFICIENT_STORAGE',
        pachCode: e.codeName,
        dataDir: e.dataDir,
        freeBytes: e.free,
        http: { status: 507 },
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

type Resolver = (source: unknown, args: unknown, context: unknown, info: unknown) => unknown;

function rethrowMapped(e: unknown): never {
  throw toGraphQLError(e);
}

/**
 * Wraps one field's `resolve` or `subscribe` so that what it throws (synchronously or as a
 * rejected promise) goes through {@link toGraphQLError}. A synchronous result stays synchronous,
 * so graphql-js completes plain fields without a promise (a type-graphql global middleware would
 * make every field asynchronous: ~1/3 of the server's CPU per small query, see bench/api.bench.ts).
 */
function mapped(fn: Resolver): Resolver {
  return (source, args, context, info) => {
    let result: unknown;
    try {
      result = fn(source, args, context, info);
    } catch (e) {
      rethrowMapped(e);
    }
    return result instanceof Promise ? result.catch(rethrowMapped) : result;
  };
}

/**
 * Applies {@link toGraphQLError} to the errors of every field resolver and every subscription's
 * `subscribe` of `schema` (introspection types excepted), in place; returns the schema. Called
 * once by buildSchema (schema.ts), so every transport (HTTP, graphql-ws, the legacy protocol)
 * sees the same codes.
 */
export function mapSchemaErrors(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve) field.resolve = mapped(field.resolve as Resolver);
      if (field.subscribe) field.subscribe = mapped(field.subscribe as Resolver);
    }
  }
  return schema;
}
