#!/usr/bin/env node
/**
 * `npm start`: the reelgraph API in one process. Reads the configuration from the environment
 * (src/server/config.ts: HOST, PORT, REELGRAPH_DATA_DIR, REELGRAPH_API_TOKENS, limits, LOG_LEVEL),
 * bootstraps the data directory when it is empty (as `reelgraph init`), serves GraphQL over HTTP
 * and WebSocket, the REST routes and the IDE pages, prints its URLs, and stops gracefully on
 * SIGTERM/SIGINT (exit code 0). A bad configuration value or a failed start exits with code 1
 * and one line on stderr.
 */
import './server/node-env';
import 'reflect-metadata';
import { ConfigError, loadConfig } from './server/config';
import { serveUntilSignal } from './server/start';

/** What `--help` / `-h` prints (stdout). */
export const USAGE = `Usage: node dist/main.js [--help]   (npm start)

Runs the reelgraph API in one process: GraphQL over HTTP and WebSocket (/graphql), the REST
routes /train, /predict and /result, the IDE pages, /healthz and /readyz. An empty data
directory is bootstrapped first (MovieLens 100K, pipelines, a first model). Stops on
SIGTERM/SIGINT.

Configured by the environment:
  HOST                       interface to bind (default 127.0.0.1)
  PORT                       TCP port (default 4000; 0 = any free port)
  REELGRAPH_DATA_DIR         data directory (default ~/.reelgraph)
  REELGRAPH_DATASETS         folder holding the MovieLens datasets (else the cache or a download)
  REELGRAPH_API_TOKENS       bearer tokens, comma- or space-separated (mutations, subscriptions, REST)
  REELGRAPH_API_TOKENS_FILE  file of tokens, separated by newlines, spaces or commas; # comments;
                             name=… expires=… after a token; re-read on change and on SIGHUP
  REELGRAPH_PACHD_ADDRESS    a pachd to use over gRPC instead of the embedded engine
                             (host[:port], grpc://, grpcs://, unix://; default port 30650)
  REELGRAPH_PACHD_TOKEN      its Pachyderm token (sent as authn-token)
  REELGRAPH_PACHD_CA         PEM file of extra root certificates for grpcs://
  REELGRAPH_MIN_FREE_BYTES   free-space floor of the data directory (default 32 MiB; 0: none):
                             below it new commits are refused with 507
  LOG_LEVEL                  fatal, error, warn, info (default), debug, trace, silent
  NODE_ENV                   default production (graphql-js skips its development checks)
  (limits: REELGRAPH_MAX_ITEMS, REELGRAPH_MAX_BODY_BYTES, REELGRAPH_MAX_DEPTH,
   REELGRAPH_MAX_COMPLEXITY, REELGRAPH_MAX_INTROSPECTION_COMPLEXITY, REELGRAPH_MAX_TOKENS,
   REELGRAPH_MAX_WS_PAYLOAD, REELGRAPH_MAX_JSON_DEPTH)

The same server with command-line options: see reelgraph serve --help
`;

/**
 * Runs the API until a termination signal; resolves with the exit code: 0 after a graceful stop
 * or `--help`/`-h` (usage on stdout), 1 for a bad configuration or a failed start, 2 for an
 * unknown argument (one line on stderr; nothing is started).
 * @param argv the command-line arguments (without node and the script)
 */
export async function main(
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): Promise<number> {
  if (argv.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (argv.length) {
    process.stderr.write(
      `error: unknown argument ${JSON.stringify(argv[0])}: this entry takes no arguments (configure it with environment variables; see --help)\n`,
    );
    return 2;
  }
  try {
    await serveUntilSignal(loadConfig(env));
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (!(err instanceof ConfigError) && env.REELGRAPH_DEBUG && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
