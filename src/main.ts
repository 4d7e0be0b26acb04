#!/usr/bin/env node
/**
 * `npm start`: the reelgraph API in one process. Reads the configuration from the environment
 * (src/server/config.ts: HOST, PORT, REELGRAPH_DATA_DIR, REELGRAPH_API_TOKENS, limits, LOG_LEVEL),
 * bootstraps the data directory when it is empty (as `reelgraph init`), serves GraphQL over HTTP
 * and WebSocket, the REST routes and the IDE pages, prints its URLs, and stops gracefully on
 * SIGTERM/SIGINT (exit code 0). A bad configuration value or a failed start exits with code 1
 * and one line on stderr.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from './server/config';
import { serveUntilSignal } from './server/start';

/** Runs the API until a termination signal; resolves with the exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
