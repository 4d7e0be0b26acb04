/**
 * What the `reelgraph` commands that change a running service share: they talk to its API over
 * HTTP (the running server owns the data directory, and every replica sees the change), with
 * `--api <url>` (else `REELGRAPH_API_URL`, else `http://127.0.0.1:$PORT`, PORT defaulting to
 * 4000) and `--token <token>` (else `REELGRAPH_API_TOKEN`) sent as `Authorization: Bearer`.
 *
 * A GraphQL error becomes an Error with the server's message (e.g. "BAD_USER_INPUT: …"); a
 * server that does not answer becomes "the reelgraph API at <url> is not reachable: …".
 */
import type { Command } from 'commander';
import { UsageError } from './errors';

/** Options added by {@link addApiOptions}. */
export interface ApiOptions {
  api?: string;
  token?: string;
}

/** Adds `--api <url>` and `--token <token>` to a command. */
export function addApiOptions(cmd: Command): Command {
  return cmd
    .option(
      '--api <url>',
      'the reelgraph API to change (default: $REELGRAPH_API_URL, else http://127.0.0.1:$PORT, PORT 4000)',
    )
    .option(
      '--token <token>',
      'API token, when the service requires one (default: $REELGRAPH_API_TOKEN)',
    );
}

/** The API's base URL (no trailing slash). @throws UsageError for a URL that is not http(s) */
export function apiUrl(opts: ApiOptions, env: NodeJS.ProcessEnv = process.env): string {
  const raw =
    opts.api?.trim() ||
    env.REELGRAPH_API_URL?.trim() ||
    `http://127.0.0.1:${env.PORT?.trim() || '4000'}`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--api ${JSON.stringify(raw)} is not a URL (e.g. http://127.0.0.1:4000)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--api ${JSON.stringify(raw)} must be an http:// or https:// URL`);
  }
  return u.toString().replace(/\/+$/, '');
}

function headers(opts: ApiOptions, env: NodeJS.ProcessEnv): Record<string, string> {
  const token = opts.token?.trim() || env.REELGRAPH_API_TOKEN?.trim();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** fetch, with an unreachable server named. */
async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new Error(`the reelgraph API at ${new URL(url).origin} is not reachable: ${cause}`);
  }
}

/**
 * Runs one GraphQL operation on the API.
 * @returns its `data`
 * @throws Error "CODE: message" of the first GraphQL error (with the number of others), or the
 *   HTTP status when the answer is not GraphQL
 */
export async function graphql<T>(
  opts: ApiOptions,
  query: string,
  variables: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const url = `${apiUrl(opts, env)}/graphql`;
  const res = await call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers(opts, env) },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new Error(`the reelgraph API at ${url} answered HTTP ${res.status} without JSON`);
  }
  if (body.errors?.length) {
    const e = body.errors[0];
    const more = body.errors.length > 1 ? ` (and ${body.errors.length - 1} more errors)` : '';
    throw new Error(`${e.extensions?.code ? `${e.extensions.code}: ` : ''}${e.message}${more}`);
  }
  if (!res.ok || body.data === undefined) {
    throw new Error(`the reelgraph API at ${url} answered HTTP ${res.status}`);
  }
  return body.data;
}

/**
 * GETs a binary resource of the API (e.g. `/models/<version>/model.rgm`).
 * @throws Error with the server's JSON `error` and the status for a non-2xx answer
 */
export async function getBytes(
  opts: ApiOptions,
  route: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ bytes: Buffer; headers: Headers }> {
  const url = `${apiUrl(opts, env)}${route}`;
  const res = await call(url, { headers: headers(opts, env) });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      message = `${(await res.json()).error as string} (HTTP ${res.status})`;
    } catch {
      // keep the status
    }
    throw new Error(`GET ${route}: ${message}`);
  }
  return { bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
