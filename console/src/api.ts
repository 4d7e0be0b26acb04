/**
 * The console's one client of the API (the typed client, client/index.ts) on this page's origin,
 * with the bearer token kept in sessionStorage only (gone when the tab closes).
 */
import { GraphQLRequestError, ReelgraphClient } from '../../client/index';

const TOKEN_KEY = 'reelgraph.token';

/** The token of this tab, or null. */
export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps (or, with null, forgets) the token for this tab; reconnects the client. */
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  const old = current;
  current = make();
  void old.close();
  for (const l of listeners) l();
}

const make = () =>
  new ReelgraphClient({
    url: '',
    token: getToken,
    retry: { attempts: 8, baseMs: 250, maxMs: 4000 },
  });
let current = make();
const listeners = new Set<() => void>();

/** The client (a new one after {@link setToken}). */
export function api(): ReelgraphClient {
  return current;
}

/** Calls `l` when the client changes (sign-in); returns the unsubscribe function. */
export function onClientChange(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** A readable message for an error; tells to sign in on UNAUTHENTICATED. */
export function describeError(e: unknown): string {
  if (e instanceof GraphQLRequestError) {
    if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN') {
      return `${e.message} — sign in on the Tokens page`;
    }
    return e.message;
  }
  if (e && typeof (e as { code?: unknown }).code === 'number') {
    const code = (e as { code: number }).code;
    return code === 4403
      ? 'the server refused the token (WebSocket 4403) — sign in again on the Tokens page'
      : `the connection closed (code ${code})`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** `2026-12-06T19:00:00.000Z` → `19:00:00` today, else the local date and time. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** Seconds between two ISO times, e.g. `1.8 s`; `—` when one is missing. */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '—';
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return `${s.toFixed(s < 10 ? 1 : 0)} s`;
}

/** The first 8 hex digits of an id. */
export const short = (id: string | null | undefined) => (id ? id.slice(0, 8) : '—');
