/**
 * The configuration of the API server, in one place: read from the environment, validated with
 * zod, with safe defaults (bind 127.0.0.1, every client-controlled size and count bounded).
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | HOST | 127.0.0.1 | interface to bind (`0.0.0.0` to listen on all) |
 * | PORT | 4000 | TCP port (0 = any free port) |
 * | REELGRAPH_DATA_DIR | ~/.reelgraph | the embedded engine's data directory |
 * | REELGRAPH_PACHD_ADDRESS | (none) | a pachd to use over gRPC instead of the embedded engine (`host[:port]`, `grpc://`, `grpcs://`, `unix://`; default port 30650) |
 * | REELGRAPH_PACHD_TOKEN | (none) | Pachyderm token sent to pachd as metadata `authn-token` |
 * | REELGRAPH_PACHD_CA | (none) | PEM file of extra root certificates for `grpcs://` |
 * | REELGRAPH_API_TOKENS | (none) | comma-separated bearer tokens; when any token is configured, mutations, subscriptions and the REST routes need one |
 * | REELGRAPH_API_TOKENS_FILE | (none) | file of tokens, one per line (`#` comments; `name=` and `expires=` attributes; re-read on change and SIGHUP: token-file.ts) |
 * | REELGRAPH_MAX_ITEMS | 10000 | items per `addRatings` / `requestPredictions` / REST call |
 * | REELGRAPH_MAX_BODY_BYTES | 1048576 | largest HTTP request body |
 * | REELGRAPH_MAX_DEPTH | 10 | deepest selection set of an operation |
 * | REELGRAPH_MAX_COMPLEXITY | 5000 | operation cost (1 per field, list fields × `first`) |
 * | REELGRAPH_MAX_INTROSPECTION_COMPLEXITY | 40000 | cost of the introspection in one operation (introspection-cost.ts) |
 * | REELGRAPH_MAX_TOKENS | 2000 | GraphQL lexer tokens per document |
 * | REELGRAPH_MAX_WS_PAYLOAD | 1048576 | largest WebSocket message, bytes |
 * | REELGRAPH_MAX_JSON_DEPTH | 64 | deepest JSON nesting of a body, `variables` or WebSocket message |
 * | REELGRAPH_DATASET | ml-100k | first start only: `ml-100k`, `ml-1m`, `ml-latest-small`, `none`, or a ratings file (services/initial-data.ts) |
 * | REELGRAPH_RATING_SCALE | the data set's | first start only: `lowest,highest`, e.g. `0.5,5` (stored in the `training` repo's settings) |
 * | LOG_LEVEL | info | pino level: fatal, error, warn, info, debug, trace, silent |
 *
 * `first` of every paginated field is capped at 100 by the services (`maxPageSize`).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { parsePachdAddress } from '../pachyderm/grpc/address';
import { DEFAULT_MAX_JSON_DEPTH } from './json-limits';
import { readTokenFile } from './token-file';

/** Why `address` is not a pachd address, or undefined when it is one. */
function pachdAddressProblem(address: string): string | undefined {
  try {
    parsePachdAddress(address);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The limits every transport enforces (HTTP, graphql-ws, the legacy protocol). */
export interface Limits {
  /** Items per mutation or REST call (ratings, pairs). */
  maxItems: number;
  /** Largest HTTP request body, bytes (express.json `limit`). */
  maxBodyBytes: number;
  /** Deepest selection set (graphql-armor max-depth; introspection is not counted). */
  maxDepth: number;
  /** Highest operation complexity (graphql-query-complexity; see limits.ts). */
  maxComplexity: number;
  /**
   * Highest cost of the introspection part of an operation (`__schema`, `__type` and below;
   * introspection-cost.ts prices each list by its size on the schema). The standard introspection
   * query of IDEs costs about 22 800 on reelgraph's schema (it grows with the schema).
   */
  maxIntrospectionComplexity: number;
  /** Most lexer tokens in one GraphQL document (graphql-js `parse` option `maxTokens`). */
  maxTokens: number;
  /** Largest WebSocket message, bytes (ws `maxPayload`; a bigger frame closes the socket, 1009). */
  maxWsPayload: number;
  /** Largest `first` of a paginated field (the API's ceiling, 100). */
  maxPageSize: number;
  /**
   * Deepest JSON nesting (arrays and objects) of an HTTP body, GET `variables` or a WebSocket
   * message, levels (json-limits.ts; deeper → HTTP 400, WebSocket close 1009).
   */
  maxJsonDepth: number;
}

/** The resolved server configuration. */
export interface ServerConfig {
  /** Interface to bind, default `127.0.0.1`. */
  host: string;
  /** TCP port, 0…65535 (0: any free port), default 4000. */
  port: number;
  /** The embedded engine's data directory (absolute). */
  dataDir: string;
  /** A pachd to use over gRPC instead of the embedded engine (absent: the embedded engine). */
  pachd?: { address: string; token?: string; caFile?: string };
  /** The accepted bearer tokens (empty: no authentication, unless `tokensFile` is set). */
  tokens: string[];
  /**
   * The token file (absolute), re-read while the server runs (token-file.ts: names, expiry,
   * revocation). When set, authentication stays on even if the file lists no token.
   */
  tokensFile?: string;
  limits: Limits;
  /** pino level. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The data set of a first start (`REELGRAPH_DATASET`; absent: ml-100k). */
  dataset?: string;
  /** The rating scale of a first start (`REELGRAPH_RATING_SCALE`; absent: the data set's). */
  ratingScale?: [number, number];
}

/** The default limits (see the module documentation). */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxItems: 10_000,
  maxBodyBytes: 1_048_576,
  maxDepth: 10,
  maxComplexity: 5_000,
  maxIntrospectionComplexity: 40_000,
  maxTokens: 2_000,
  maxWsPayload: 1_048_576,
  maxPageSize: 100,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
});

/** A configuration value that cannot be used: names the variable and what was expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const positiveInt = (name: string, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `${name} must be between 1 and ${max}`);

const envSchema = z.object({
  HOST: z
    .string()
    .trim()
    .min(1, 'HOST must not be empty')
    .regex(/^[A-Za-z0-9.:[\]-]+$/, 'HOST must be a host name or an IP address')
    .default('127.0.0.1'),
  PORT: z
    .string()
    .trim()
    .regex(/^\d+$/, 'PORT must be a whole number')
    .transform(Number)
    .refine((n) => n <= 65535, 'PORT must be between 0 and 65535')
    .default(4000),
  REELGRAPH_DATA_DIR: z.string().trim().min(1).optional(),
  REELGRAPH_PACHD_ADDRESS: z
    .string()
    .trim()
    .optional()
    .superRefine((a, ctx) => {
      const problem = a ? pachdAddressProblem(a) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  REELGRAPH_PACHD_TOKEN: z.string().trim().optional(),
  REELGRAPH_PACHD_CA: z.string().trim().optional(),
  REELGRAPH_API_TOKENS: z.string().optional(),
  REELGRAPH_API_TOKENS_FILE: z.string().trim().min(1).optional(),
  REELGRAPH_MAX_ITEMS: positiveInt('REELGRAPH_MAX_ITEMS', 1_000_000).optional(),
  REELGRAPH_MAX_BODY_BYTES: positiveInt('REELGRAPH_MAX_BODY_BYTES', 1 << 30).optional(),
  REELGRAPH_MAX_DEPTH: positiveInt('REELGRAPH_MAX_DEPTH', 1000).optional(),
  REELGRAPH_MAX_COMPLEXITY: positiveInt('REELGRAPH_MAX_COMPLEXITY').optional(),
  REELGRAPH_MAX_INTROSPECTION_COMPLEXITY: positiveInt(
    'REELGRAPH_MAX_INTROSPECTION_COMPLEXITY',
  ).optional(),
  REELGRAPH_MAX_TOKENS: positiveInt('REELGRAPH_MAX_TOKENS', 10_000_000).optional(),
  REELGRAPH_MAX_WS_PAYLOAD: positiveInt('REELGRAPH_MAX_WS_PAYLOAD', 1 << 30).optional(),
  REELGRAPH_MAX_JSON_DEPTH: positiveInt('REELGRAPH_MAX_JSON_DEPTH', 1000).optional(),
  REELGRAPH_DATASET: z.string().trim().min(1).optional(),
  REELGRAPH_RATING_SCALE: z
    .string()
    .trim()
    .transform((t) => t.split(',').map((x) => (x.trim() === '' ? NaN : Number(x))))
    .refine(
      (p) => p.length === 2 && p.every(Number.isFinite) && p[0] < p[1],
      'REELGRAPH_RATING_SCALE must be two numbers "lowest,highest" with lowest < highest, e.g. 1,5 or 0.5,5',
    )
    .optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

/** The shortest accepted token: shorter ones are guessable. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Splits a token list (commas, whitespace or newlines; `#` starts a comment in a file) and checks
 * each token: at least {@link MIN_TOKEN_LENGTH} visible ASCII characters.
 * @param source where the list came from, for the error message
 * @throws ConfigError naming the source and the position of a bad token (never the token itself)
 */
export function parseTokens(text: string, source: string): string[] {
  const tokens = text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter(Boolean);
  tokens.forEach((t, i) => {
    if (t.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(t)) {
      throw new ConfigError(
        `${source}: token ${i + 1} is invalid: expected at least ${MIN_TOKEN_LENGTH} visible ASCII characters`,
      );
    }
  });
  return tokens;
}

/**
 * Reads and checks the configuration from `env` (default `process.env`).
 * @param overrides values that win over the environment (tests, `reelgraph serve` options)
 * @throws ConfigError naming the variable and what was expected; for an unreadable token file
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Omit<ServerConfig, 'limits'>> & { limits?: Partial<Limits> } = {},
): ServerConfig {
  const relevant = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? '');
    throw new ConfigError(
      `invalid configuration: ${name}=${JSON.stringify(relevant[name] ?? '')}: ${issue.message}`,
    );
  }
  const e = parsed.data;
  const tokens = e.REELGRAPH_API_TOKENS
    ? parseTokens(e.REELGRAPH_API_TOKENS, 'REELGRAPH_API_TOKENS')
    : [];
  const tokensFile = e.REELGRAPH_API_TOKENS_FILE
    ? path.resolve(e.REELGRAPH_API_TOKENS_FILE)
    : undefined;
  if (tokensFile) tokens.push(...readTokenFile(tokensFile).map((t) => t.token));
  const limits: Limits = {
    maxItems: e.REELGRAPH_MAX_ITEMS ?? DEFAULT_LIMITS.maxItems,
    maxBodyBytes: e.REELGRAPH_MAX_BODY_BYTES ?? DEFAULT_LIMITS.maxBodyBytes,
    maxDepth: e.REELGRAPH_MAX_DEPTH ?? DEFAULT_LIMITS.maxDepth,
    maxComplexity: e.REELGRAPH_MAX_COMPLEXITY ?? DEFAULT_LIMITS.maxComplexity,
    maxIntrospectionComplexity:
      e.REELGRAPH_MAX_INTROSPECTION_COMPLEXITY ?? DEFAULT_LIMITS.maxIntrospectionComplexity,
    maxTokens: e.REELGRAPH_MAX_TOKENS ?? DEFAULT_LIMITS.maxTokens,
    maxWsPayload: e.REELGRAPH_MAX_WS_PAYLOAD ?? DEFAULT_LIMITS.maxWsPayload,
    maxPageSize: DEFAULT_LIMITS.maxPageSize,
    maxJsonDepth: e.REELGRAPH_MAX_JSON_DEPTH ?? DEFAULT_LIMITS.maxJsonDepth,
    ...overrides.limits,
  };
  const { limits: _ignored, ...rest } = overrides;
  void _ignored;
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.REELGRAPH_DATA_DIR ?? path.join(os.homedir(), '.reelgraph')),
    ...(e.REELGRAPH_PACHD_ADDRESS
      ? {
          pachd: {
            address: e.REELGRAPH_PACHD_ADDRESS,
            token: e.REELGRAPH_PACHD_TOKEN || undefined,
            caFile: e.REELGRAPH_PACHD_CA ? path.resolve(e.REELGRAPH_PACHD_CA) : undefined,
          },
        }
      : {}),
    tokens: [...new Set(tokens)],
    ...(tokensFile ? { tokensFile } : {}),
    limits,
    logLevel: e.LOG_LEVEL,
    ...(e.REELGRAPH_DATASET ? { dataset: e.REELGRAPH_DATASET } : {}),
    ...(e.REELGRAPH_RATING_SCALE
      ? {
          ratingScale: [e.REELGRAPH_RATING_SCALE[0], e.REELGRAPH_RATING_SCALE[1]] as [
            number,
            number,
          ],
        }
      : {}),
    ...rest,
  };
}
