/**
 * Test helpers: run operations on the schema with graphql's own `execute` / `subscribe` (no HTTP),
 * with the context `{services}` the server gives.
 */
import { type ExecutionResult, type GraphQLSchema, execute, parse, subscribe } from 'graphql';
import type { Services } from '../../src/services';

/** A GraphQL result value, compared by value in the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- results are checked with expect()
export type Loose = any;

/** Runs a query or mutation; returns the raw ExecutionResult. */
export async function run(
  schema: GraphQLSchema,
  services: Services,
  query: string,
  variables?: Record<string, unknown>,
): Promise<ExecutionResult> {
  return execute({
    schema,
    document: parse(query),
    variableValues: variables,
    contextValue: { services },
  });
}

/** Runs an operation that must succeed; returns `data`. */
export async function ok<T = Record<string, Loose>>(
  schema: GraphQLSchema,
  services: Services,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const r = await run(schema, services, query, variables);
  if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
  return r.data as T;
}

/** A live subscription: its events, in order, and a way to wait for a given one. */
export interface Sub {
  events: ExecutionResult[];
  /** Resolves with the first event (already received or future) matching `pred`. */
  next(pred?: (e: ExecutionResult) => boolean, timeoutMs?: number): Promise<ExecutionResult>;
  /** True once the server completed the stream. */
  completed(): boolean;
  close(): Promise<void>;
}

/** Starts a subscription; throws when it is refused (the ExecutionResult's errors). */
export async function sub(
  schema: GraphQLSchema,
  services: Services,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Sub> {
  const r = await subscribe({
    schema,
    document: parse(query),
    variableValues: variables,
    contextValue: { services },
  });
  if (!(Symbol.asyncIterator in r)) {
    const e = new Error(`subscription refused: ${JSON.stringify(r.errors)}`) as Error & {
      result: ExecutionResult;
    };
    e.result = r;
    throw e;
  }
  const it = r as AsyncGenerator<ExecutionResult>;
  const events: ExecutionResult[] = [];
  let done = false;
  const waiters: (() => void)[] = [];
  void (async () => {
    try {
      for await (const e of it) {
        events.push(e);
        waiters.splice(0).forEach((w) => w());
      }
    } finally {
      done = true;
      waiters.splice(0).forEach((w) => w());
    }
  })();
  return {
    events,
    completed: () => done,
    async next(pred = () => true, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (done)
          throw new Error(`subscription ended without the event; got ${JSON.stringify(events)}`);
        if (Date.now() > deadline)
          throw new Error(`no such event in ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    async close() {
      await it.return?.(undefined);
    },
  };
}
