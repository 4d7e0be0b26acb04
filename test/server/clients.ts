/**
 * Real clients for the server tests: GraphQL over HTTP (fetch), graphql-ws (`createClient` with
 * ws), the legacy protocol (subscriptions-transport-ws `SubscriptionClient`, what GraphQL
 * Playground uses). Each collects what the server sends, so tests assert on real frames.
 */
import { createClient, type Client } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

/** The JSON answer of a GraphQL HTTP request. */
export interface HttpAnswer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  headers: Headers;
}

/** POSTs one GraphQL operation as JSON. */
export async function postGraphQL(
  url: string,
  query: string,
  opts: {
    variables?: Record<string, unknown>;
    token?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables: opts.variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as HttpAnswer['body'],
    headers: res.headers,
  };
}

/** What a subscription produced: results, errors (GraphQL errors or a transport failure). */
export interface Collected {
  results: Record<string, unknown>[];
  errors: { message: string; extensions?: { code?: string } }[];
  /** The close event's code when the socket was closed (graphql-ws: error is a CloseEvent). */
  closeCode?: number;
  completed: boolean;
}

/** Waits until `pred()` is true, polling every 10 ms; rejects after `ms`. */
export async function until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A graphql-ws client (subprotocol graphql-transport-ws) on `wsUrl`. */
export function modernClient(
  wsUrl: string,
  opts: { token?: string; connectionParams?: Record<string, unknown> } = {},
): Client & { closeCodes: number[] } {
  const closeCodes: number[] = [];
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams:
      opts.connectionParams ?? (opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
    on: { closed: (e) => closeCodes.push((e as { code: number }).code) },
    onNonLazyError: () => undefined,
  });
  return Object.assign(client, { closeCodes });
}

/** Subscribes with a graphql-ws client, collecting everything. */
export function modernSubscribe(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Collected & { dispose: () => void } {
  const c: Collected = { results: [], errors: [], completed: false };
  const dispose = client.subscribe(
    { query, variables },
    {
      next: (r) => {
        if (r.errors) c.errors.push(...(r.errors as Collected['errors']));
        if (r.data) c.results.push(r.data as Record<string, unknown>);
      },
      error: (e) => {
        if (Array.isArray(e)) c.errors.push(...(e as Collected['errors']));
        else if (e && typeof (e as { code?: unknown }).code === 'number') {
          c.closeCode = (e as { code: number }).code;
        } else c.errors.push({ message: String((e as Error)?.message ?? e) });
      },
      complete: () => {
        c.completed = true;
      },
    },
  );
  return Object.assign(c, { dispose });
}

/** A legacy-protocol client (subprotocol graphql-ws), as GraphQL Playground connects. */
export function legacyClient(
  wsUrl: string,
  opts: { token?: string; connectionParams?: Record<string, unknown> } = {},
): SubscriptionClient & { closeCodes: number[]; connectionErrors: string[] } {
  const closeCodes: number[] = [];
  const connectionErrors: string[] = [];
  const client = new SubscriptionClient(
    wsUrl,
    {
      reconnect: false,
      connectionParams:
        opts.connectionParams ?? (opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
      connectionCallback: (errors) => {
        if (errors) {
          const list = Array.isArray(errors) ? errors : [errors];
          connectionErrors.push(...list.map((e) => String((e as Error).message ?? e)));
        }
      },
    },
    WebSocket,
  );
  const raw = client.client as WebSocket;
  raw.addEventListener('close', (e) => closeCodes.push(e.code));
  return Object.assign(client, { closeCodes, connectionErrors });
}

/** Subscribes with a legacy client, collecting everything. */
export function legacySubscribe(
  client: SubscriptionClient,
  query: string,
  variables?: Record<string, unknown>,
): Collected & { unsubscribe: () => void } {
  const c: Collected = { results: [], errors: [], completed: false };
  const sub = client.request({ query, variables }).subscribe({
    next: (value) => {
      const r = value as { data?: Record<string, unknown>; errors?: Collected['errors'] };
      if (r.errors) c.errors.push(...r.errors);
      if (r.data) c.results.push(r.data);
    },
    error: (e: unknown) => {
      const list = Array.isArray(e) ? e : [e];
      c.errors.push(
        ...list.map((x) => ({
          message: String((x as Error)?.message ?? x),
          extensions: (x as { extensions?: { code?: string } })?.extensions,
        })),
      );
    },
    complete: () => {
      c.completed = true;
    },
  });
  return Object.assign(c, { unsubscribe: () => sub.unsubscribe() });
}
