/**
 * Bearer-token authentication, shared by every transport.
 *
 * When no token is configured, everything is open. When tokens are configured, mutations,
 * subscriptions and the REST routes need `Authorization: Bearer <token>` (HTTP) or the same
 * value in the WebSocket `connectionParams` (`{Authorization: "Bearer …"}`,
 * `{authorization: …}`, `{headers: {Authorization: …}}` or `{token: …}`); queries stay open.
 * A token that is present but wrong is always refused (HTTP 401, WebSocket close 4403).
 *
 * Tokens are compared in constant time: both sides are hashed with SHA-256 and compared with
 * `crypto.timingSafeEqual`, against every configured token (no early exit), so neither the
 * length nor a prefix of a token leaks through timing (RFC 6750 for the header syntax).
 *
 * Tokens may carry a name (logged instead of the token) and an expiry, and the set can change
 * while the server runs (the token file is re-read: token-file.ts): every HTTP request is
 * checked against the current set; open WebSockets whose token was removed or expired are
 * closed with 4403 (ws.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';

/** Who is calling: `authenticated` is true when a configured token was presented. */
export interface AuthState {
  /** True when a valid token was presented. */
  authenticated: boolean;
  /** True when a token was presented (valid or not). */
  presented: boolean;
  /** The token's name for logs (token-file.ts), when authenticated. */
  tokenName?: string;
  /** The token's SHA-256 (hex), when authenticated: what {@link Authenticator.stillValid} checks. */
  tokenId?: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A configured token: its name and optional expiry (token-file.ts). */
export interface TokenSpec {
  token: string;
  name?: string;
  /** Refused from this instant on (epoch ms). */
  expiresAt?: number;
}

interface Credential {
  digest: Buffer;
  id: string;
  name: string;
  expiresAt?: number;
}

/**
 * Checks presented bearer tokens against the configured ones. The set can be replaced while the
 * server runs ({@link setTokens}: the token file was edited); every check reads the current set,
 * and listeners ({@link onChange}) close what a removed token had opened.
 */
export class Authenticator {
  private creds: Credential[] = [];
  private readonly listeners = new Set<() => void>();

  /**
   * @param tokens the configured tokens (empty: authentication is off, unless `required`)
   * @param opts.required authentication stays on with no token configured (a token file is set:
   *   emptying it locks writes, never opens them)
   * @param opts.now the clock, epoch ms (tests)
   */
  constructor(
    tokens: readonly (string | TokenSpec)[],
    private readonly opts: { required?: boolean; now?: () => number } = {},
  ) {
    this.setTokens(tokens, false);
  }

  /** True when tokens are configured (mutations, subscriptions and REST then need one). */
  get enabled(): boolean {
    return this.opts.required === true || this.creds.length > 0;
  }

  /** The configured tokens' count (expired ones included). */
  get size(): number {
    return this.creds.length;
  }

  /**
   * Replaces the configured tokens; then calls the change listeners (unless `notify` is false).
   */
  setTokens(tokens: readonly (string | TokenSpec)[], notify = true): void {
    this.creds = tokens.map((t, i) => {
      const spec = typeof t === 'string' ? { token: t } : t;
      const d = digest(spec.token);
      return {
        digest: d,
        id: d.toString('hex'),
        name: spec.name ?? `token-${i + 1}`,
        expiresAt: spec.expiresAt,
      };
    });
    if (notify) for (const l of this.listeners) l();
  }

  /** Calls `listener` after every {@link setTokens}; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** The configured, unexpired credential equal to `token`; constant time in the tokens. */
  private match(token: string): Credential | undefined {
    const d = digest(token);
    let found: Credential | undefined;
    for (const c of this.creds) if (timingSafeEqual(d, c.digest) && !found) found = c;
    if (found && found.expiresAt !== undefined && this.now() >= found.expiresAt) return undefined;
    return found;
  }

  /** True when `token` equals a configured, unexpired token; constant time in the tokens. */
  verify(token: string): boolean {
    return this.match(token) !== undefined;
  }

  /**
   * True while the token an authenticated state was made from is still configured and
   * unexpired (false for an unauthenticated state).
   */
  stillValid(state: AuthState): boolean {
    if (!state.authenticated || state.tokenId === undefined) return false;
    const c = this.creds.find((x) => x.id === state.tokenId);
    return c !== undefined && (c.expiresAt === undefined || this.now() < c.expiresAt);
  }

  /** Why a state's token is no longer accepted: `expired` or `revoked` (see {@link stillValid}). */
  whyInvalid(state: AuthState): 'expired' | 'revoked' {
    const c = this.creds.find((x) => x.id === state.tokenId);
    return c ? 'expired' : 'revoked';
  }

  /**
   * The caller's state from an `Authorization` header value (`Bearer <token>`, scheme
   * case-insensitive).
   */
  fromHeader(header: string | undefined | null): AuthState {
    if (header === undefined || header === null || header === '') {
      return { authenticated: false, presented: false };
    }
    const m = /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(header);
    const c = m ? this.match(m[1]) : undefined;
    return c
      ? { authenticated: true, presented: true, tokenName: c.name, tokenId: c.id }
      : { authenticated: false, presented: true };
  }

  /** The caller's state from WebSocket connection parameters (see the module documentation). */
  fromConnectionParams(params: unknown): AuthState {
    if (params === null || typeof params !== 'object') {
      return { authenticated: false, presented: false };
    }
    const p = params as Record<string, unknown>;
    const headers =
      p.headers && typeof p.headers === 'object' ? (p.headers as Record<string, unknown>) : {};
    const value =
      p.Authorization ?? p.authorization ?? headers.Authorization ?? headers.authorization;
    if (typeof value === 'string') return this.fromHeader(value);
    if (typeof p.token === 'string') return this.fromHeader(`Bearer ${p.token}`);
    if (value !== undefined || p.token !== undefined) {
      return { authenticated: false, presented: true };
    }
    return { authenticated: false, presented: false };
  }

  /**
   * Whether an operation of this kind may run: queries always; mutations and subscriptions
   * only when authentication is off or the caller is authenticated.
   */
  allows(kind: 'query' | 'mutation' | 'subscription', auth: AuthState): boolean {
    return !this.enabled || kind === 'query' || auth.authenticated;
  }
}

/** The GraphQL error for a mutation or subscription without a valid token (HTTP status 401). */
export function unauthenticatedError(kind: string): GraphQLError {
  return new GraphQLError(
    `${kind}s need an API token: send "Authorization: Bearer <token>" (over WebSocket, in connectionParams)`,
    { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } },
  );
}

/** The GraphQL error for a wrong token (HTTP status 401). */
export function invalidTokenError(): GraphQLError {
  return new GraphQLError('the API token is not valid', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });
}
