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
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';

/** Who is calling: `authenticated` is true when a configured token was presented. */
export interface AuthState {
  /** True when a valid token was presented. */
  authenticated: boolean;
  /** True when a token was presented (valid or not). */
  presented: boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Checks presented bearer tokens against the configured ones. */
export class Authenticator {
  private readonly digests: Buffer[];

  /** @param tokens the configured tokens (empty: authentication is off) */
  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  /** True when tokens are configured (mutations, subscriptions and REST then need one). */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** True when `token` equals a configured token; constant time in the configured tokens. */
  verify(token: string): boolean {
    const d = digest(token);
    let ok = false;
    for (const t of this.digests) ok = timingSafeEqual(d, t) || ok;
    return ok;
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
    return { authenticated: m !== null && this.verify(m[1]), presented: true };
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
