/**
 * Operation limits, the same on every transport: lexer tokens (graphql-js `parse` option
 * `maxTokens`), selection depth (`@escape.tech/graphql-armor-max-depth`, introspection not
 * counted, fragments counted as if inlined), and complexity (`graphql-query-complexity`: a field's `complexity` extension if the
 * resolver declares one, else 1 + its children, and a field with a `first` argument costs
 * 1 + `first` × its children, `first` defaulting to {@link DEFAULT_PAGE_SIZE}; an introspection
 * list costs 1 + its mean size on the schema × its children: introspection-cost.ts, so that
 * introspection and its aliases count against the same limit).
 *
 * HTTP (Apollo) applies them through `parseOptions`, `validationRules` and the
 * {@link limitsPlugin} (complexity and authorisation in `didResolveOperation`, HTTP 400 / 401);
 * Apollo's rules do not run for WebSocket operations, so graphql-ws' `onSubscribe` and the legacy
 * server's `onOperation` call {@link prepareOperation}, which applies the same checks.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
  GraphQLError,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import {
  type ComplexityEstimator,
  fieldExtensionsEstimator,
  getComplexity,
  simpleEstimator,
} from 'graphql-query-complexity';
import {
  type AuthState,
  type Authenticator,
  invalidTokenError,
  unauthenticatedError,
} from './auth';
import type { Limits } from './config';
import type { Gate } from './gate';
import { introspectionEstimator } from './introspection-cost';

/** The page size assumed for a `first` argument that is not given (the services' default). */
export const DEFAULT_PAGE_SIZE = 20;

/** The depth rule (graphql-armor) reporting through the validation context, never throwing. */
export function depthRule(limits: Pick<Limits, 'maxDepth'>): ValidationRule {
  return maxDepthRule({
    n: limits.maxDepth,
    ignoreIntrospection: true,
    flattenFragments: true, // a fragment spread or inline fragment is not a level of its own
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(ctx, err) => ctx?.reportError(err)],
  }) as unknown as ValidationRule;
}

/** Cost of a field with a `first` argument: 1 + first × children (see the module docs). */
const paginationEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((a) => a.name === 'first')) return undefined;
  const first =
    typeof args.first === 'number' && Number.isFinite(args.first) && args.first > 0
      ? args.first
      : DEFAULT_PAGE_SIZE;
  return 1 + first * childComplexity;
};

const ESTIMATORS: ComplexityEstimator[] = [
  fieldExtensionsEstimator(),
  paginationEstimator,
  simpleEstimator({ defaultComplexity: 1 }),
];

/** The cost of an operation, split into its two budgets. */
export interface OperationCost {
  /** Every field outside introspection (limit: `maxComplexity`). */
  ordinary: number;
  /** `__schema`, `__type` and everything under them (limit: `maxIntrospectionComplexity`). */
  introspection: number;
}

/** Complexities already computed, per schema and parsed document (Apollo and the WebSocket
 * paths reuse parsed documents), keyed by the variables' JSON. */
const complexityCache = new WeakMap<
  GraphQLSchema,
  WeakMap<DocumentNode, Map<string, OperationCost | null>>
>();
/** Variables longer than this (as JSON) are not cached. */
const MAX_CACHED_VARIABLES = 1024;
/** Distinct variable sets cached per document. */
const MAX_CACHED_PER_DOCUMENT = 64;

/** Prices introspection at 0: the ordinary part of an operation's cost. */
const withoutIntrospection: ComplexityEstimator = ({ type, field }) =>
  type.name.startsWith('__') || field.name === '__schema' || field.name === '__type'
    ? 0
    : undefined;

/**
 * The complexity of an operation (see the module documentation), split into its ordinary part
 * and its introspection part; memoised per parsed document and variables.
 * @returns null when it cannot be computed (e.g. bad variables: execution reports them)
 */
export function operationComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): OperationCost | null {
  let key: string | undefined;
  try {
    key = JSON.stringify([operationName ?? null, variables ?? {}]);
  } catch {
    key = undefined; // not serialisable (never from a parsed JSON body)
  }
  if (key !== undefined && key.length > MAX_CACHED_VARIABLES) key = undefined;
  let perSchema = complexityCache.get(schema);
  if (!perSchema) complexityCache.set(schema, (perSchema = new WeakMap()));
  let perDoc = perSchema.get(document);
  if (key !== undefined && perDoc?.has(key)) return perDoc.get(key)!;
  let value: OperationCost | null;
  try {
    const of = (estimators: ComplexityEstimator[]) =>
      getComplexity({
        schema,
        query: document,
        variables: variables ?? {},
        operationName: operationName ?? undefined,
        estimators,
      });
    const total = of([introspectionEstimator(schema), ...ESTIMATORS]);
    const ordinary = of([withoutIntrospection, ...ESTIMATORS]);
    value = { ordinary, introspection: total - ordinary };
  } catch {
    value = null;
  }
  if (key !== undefined) {
    if (!perDoc) perSchema.set(document, (perDoc = new Map()));
    if (perDoc.size >= MAX_CACHED_PER_DOCUMENT) perDoc.clear();
    perDoc.set(key, value);
  }
  return value;
}

/** The error for an operation above the complexity limit (HTTP 400). */
export function complexityError(actual: number, max: number): GraphQLError {
  return new GraphQLError(
    `operation complexity ${actual} exceeds the maximum of ${max} (each field costs 1, a list costs "first" times its fields)`,
    { extensions: { code: 'COMPLEXITY_LIMIT_EXCEEDED', http: { status: 400 } } },
  );
}

/** The error for an operation whose introspection is above its limit (HTTP 400). */
export function introspectionComplexityError(actual: number, max: number): GraphQLError {
  return new GraphQLError(
    `introspection complexity ${actual} exceeds the maximum of ${max} (REELGRAPH_MAX_INTROSPECTION_COMPLEXITY; an introspection list costs its size on this schema times its fields; the standard introspection query fits)`,
    { extensions: { code: 'COMPLEXITY_LIMIT_EXCEEDED', http: { status: 400 } } },
  );
}

/**
 * The complexity check of one operation (both budgets).
 * @returns the error to answer with, or undefined when the operation is within its limits
 */
export function checkComplexity(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
  limits: Pick<Limits, 'maxComplexity' | 'maxIntrospectionComplexity'>,
): GraphQLError | undefined {
  const cost = operationComplexity(schema, document, variables, operationName);
  if (cost === null) return undefined;
  if (cost.ordinary > limits.maxComplexity) {
    return complexityError(cost.ordinary, limits.maxComplexity);
  }
  if (cost.introspection > limits.maxIntrospectionComplexity) {
    return introspectionComplexityError(cost.introspection, limits.maxIntrospectionComplexity);
  }
  return undefined;
}

/** Apollo's codes for documents that do not parse or validate (as over HTTP). */
const PARSE_FAILED = 'GRAPHQL_PARSE_FAILED';
const VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED';

/** `e` with `extensions.code` set (kept when it has one), its locations and path unchanged. */
function withCode(e: GraphQLError, code: string): GraphQLError {
  if (e.extensions.code) return e;
  return new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    path: e.path,
    originalError: e.originalError,
    extensions: { ...e.extensions, code },
  });
}

/** An operation that passed every check, ready to execute. */
export interface PreparedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/** What a WebSocket client sends to start an operation. */
export interface OperationPayload {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
}

/**
 * Parses, validates and checks one operation sent over a WebSocket, as Apollo does over HTTP:
 * token limit, standard validation plus the depth rule, one operation identified, complexity,
 * and authorisation (mutations and subscriptions need a token when tokens are configured).
 * Parse and validation errors carry Apollo's codes `GRAPHQL_PARSE_FAILED` and
 * `GRAPHQL_VALIDATION_FAILED`, as over HTTP.
 * @returns the prepared operation, or the GraphQL errors to send back (nothing runs)
 */
export function prepareOperation(
  schema: GraphQLSchema,
  payload: OperationPayload,
  limits: Limits,
  auth: { authenticator: Authenticator; state: AuthState },
): PreparedOperation | GraphQLError[] {
  if (typeof payload.query !== 'string') {
    return [new GraphQLError('the operation has no query string')];
  }
  if (payload.operationName !== undefined && payload.operationName !== null) {
    if (typeof payload.operationName !== 'string') {
      return [new GraphQLError('operationName must be a string')];
    }
  }
  const variables =
    payload.variables === undefined || payload.variables === null
      ? undefined
      : (payload.variables as Record<string, unknown>);
  if (variables !== undefined && (typeof variables !== 'object' || Array.isArray(variables))) {
    return [new GraphQLError('variables must be an object')];
  }
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: limits.maxTokens });
  } catch (e) {
    return [withCode(e instanceof GraphQLError ? e : new GraphQLError(String(e)), PARSE_FAILED)];
  }
  const errors = validate(schema, document, [...specifiedRules, depthRule(limits)]);
  if (errors.length) return errors.map((e) => withCode(e, VALIDATION_FAILED));
  const operationName = (payload.operationName as string | null | undefined) ?? undefined;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return [new GraphQLError('unable to identify the operation: name it with operationName')];
  }
  if (auth.state.presented && !auth.state.authenticated) return [invalidTokenError()];
  if (!auth.authenticator.allows(operation.operation, auth.state)) {
    return [unauthenticatedError(operation.operation)];
  }
  const tooComplex = checkComplexity(schema, document, variables, operationName, limits);
  if (tooComplex) return [tooComplex];
  return { document, operation };
}

/**
 * Operations whose introspection costs more than this run one at a time through the server's
 * {@link Gate} (HTTP: {@link limitsPlugin}; WebSocket: {@link gatedExecute}). The introspection
 * of one type or a few fields stays below it; the standard introspection query is above.
 */
export const COSTLY_INTROSPECTION = 1_000;

/**
 * graphql-js `execute` (as graphql-ws and the legacy server call it), such that an operation
 * with costly introspection (above {@link COSTLY_INTROSPECTION}) runs holding `gate`.
 */
export function gatedExecute(
  gate: Gate,
  inner: (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult> = execute,
): (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult> {
  return (args) => {
    const cost = operationComplexity(
      args.schema,
      args.document,
      (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
      args.operationName,
    );
    if (!cost || cost.introspection <= COSTLY_INTROSPECTION) return inner(args);
    return gate.run(() => inner(args));
  };
}

/** The context fields the {@link limitsPlugin} reads. */
export interface AuthContext extends BaseContext {
  auth: AuthState;
}

/**
 * The Apollo plugin applying complexity and authorisation to HTTP operations (tokens and depth
 * are applied by `parseOptions` and `validationRules`): a wrong token → 401, a mutation without
 * token (when tokens are configured) → 401 UNAUTHENTICATED, too complex → 400; an operation with
 * costly introspection executes holding `gate` (one at a time: health probes and other requests
 * are served between two of them).
 */
export function limitsPlugin<C extends AuthContext>(
  limits: Limits,
  authenticator: Authenticator,
  gate?: Gate,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      let costly = false;
      return {
        async executionDidStart() {
          if (!costly || !gate) return undefined;
          const release = await gate.acquire();
          return {
            executionDidEnd: async () => {
              release();
            },
          };
        },
        async didResolveOperation({ contextValue, operation, document, schema, request }) {
          const state = contextValue.auth;
          if (state.presented && !state.authenticated) throw invalidTokenError();
          if (operation && !authenticator.allows(operation.operation, state)) {
            throw unauthenticatedError(operation.operation);
          }
          const tooComplex = checkComplexity(
            schema,
            document,
            request.variables,
            request.operationName,
            limits,
          );
          if (tooComplex) throw tooComplex;
          const cost = operationComplexity(
            schema,
            document,
            request.variables,
            request.operationName,
          );
          costly = (cost?.introspection ?? 0) > COSTLY_INTROSPECTION;
        },
      };
    },
  };
}
