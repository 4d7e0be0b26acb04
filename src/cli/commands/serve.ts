/**
 * `reelgraph serve [--host H] [--port P] [--data-dir DIR]`: the API server, as `npm start`
 * (bootstraps an empty data directory first; stops gracefully on SIGTERM/SIGINT). The options
 * win over HOST, PORT and REELGRAPH_DATA_DIR; everything else comes from the environment (see
 * src/server/config.ts).
 */
import { Command } from 'commander';
import { UsageError } from '../errors';
import { addDataDirOption, type DataDirOptions } from '../pach-options';
import { ConfigError, loadConfig } from '../../server/config';
import type * as StartModule from '../../server/start';

/** The options of `reelgraph serve`. */
export interface ServeOptions extends DataDirOptions {
  host?: string;
  port?: string;
  dataset?: string;
  ratingScale?: string;
}

/** Build the `serve` command. */
export function serveCommand(): Command {
  const cmd = new Command('serve').description(
    'Serve the GraphQL API (HTTP + WebSocket), the REST routes, GraphQL Playground and GraphiQL; bootstraps an empty data directory first.',
  );
  return addDataDirOption(cmd)
    .option('--host <host>', 'interface to bind (default: $HOST or 127.0.0.1)')
    .option('--port <port>', 'TCP port, 0 for any free port (default: $PORT or 4000)')
    .option(
      '--dataset <name|file>',
      'first start only: ml-100k (default), ml-1m, ml-latest-small, none, or a ratings file ($REELGRAPH_DATASET)',
    )
    .option(
      '--rating-scale <lo,hi>',
      "first start only: the rating scale, e.g. 0.5,5 (default: the data set's, else 1,5; $REELGRAPH_RATING_SCALE)",
    )
    .action(async (opts: ServeOptions) => {
      const env = {
        ...process.env,
        ...(opts.host !== undefined ? { HOST: opts.host } : {}),
        ...(opts.port !== undefined ? { PORT: opts.port } : {}),
        ...(opts.dataDir !== undefined ? { REELGRAPH_DATA_DIR: opts.dataDir } : {}),
        ...(opts.pachdAddress !== undefined ? { REELGRAPH_PACHD_ADDRESS: opts.pachdAddress } : {}),
        ...(opts.dataset !== undefined ? { REELGRAPH_DATASET: opts.dataset } : {}),
        ...(opts.ratingScale !== undefined ? { REELGRAPH_RATING_SCALE: opts.ratingScale } : {}),
      };
      let config;
      try {
        config = loadConfig(env);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // a value given as an option is named as the option, not as the variable it sets
        const given: [string | undefined, string, string][] = [
          [opts.host, 'HOST', '--host'],
          [opts.port, 'PORT', '--port'],
          [opts.dataDir, 'REELGRAPH_DATA_DIR', '--data-dir'],
          [opts.pachdAddress, 'REELGRAPH_PACHD_ADDRESS', '--pachd-address'],
          [opts.dataset, 'REELGRAPH_DATASET', '--dataset'],
          [opts.ratingScale, 'REELGRAPH_RATING_SCALE', '--rating-scale'],
        ];
        let message = e.message;
        for (const [value, variable, option] of given) {
          if (value !== undefined) message = message.replaceAll(`${variable}=`, `${option} `);
        }
        throw new UsageError(message);
      }
      // loaded here, not at the CLI's start: NODE_ENV must be set before graphql-js is loaded
      // (server/node-env.ts), and the other commands do not need the server
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../server/node-env');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { serveUntilSignal } = require('../../server/start') as typeof StartModule;
      await serveUntilSignal(config);
    });
}
