/**
 * `reelgraph auth`: Pachyderm auth for reelgraph on a pachd with auth on (a real 2.12 cluster or
 * `reelgraph pachd --auth`), through `auth_v2.API` with the token in `REELGRAPH_PACHD_TOKEN`
 * (the root token or a clusterAdmin's for everything but `whoami`) at `--pachd-address` (else
 * `REELGRAPH_PACHD_ADDRESS`):
 *
 * - `reelgraph auth whoami` — the subject of the token (`pachctl auth whoami`);
 * - `reelgraph auth robot-token NAME [--ttl SECONDS]` — prints a new token for `robot:NAME`
 *   (`pachctl auth get-robot-token NAME`);
 * - `reelgraph auth setup [--api-robot reelgraph-api] [--init-robot reelgraph-init] [--print]` —
 *   binds the roles reelgraph needs (grpc/auth-client.ts `reelgraphRoleBindings`), or with
 *   `--print` only prints the equivalent `pachctl auth set …` commands.
 */
import { Command } from 'commander';
import {
  AuthClient,
  pachctlCommands,
  reelgraphRoleBindings,
} from '../../pachyderm/grpc/auth-client';
import { pachdFromEnv } from '../../services/bootstrap';
import { UsageError } from '../errors';

interface AuthOptions {
  pachdAddress?: string;
}

function client(opts: AuthOptions): AuthClient {
  const env = pachdFromEnv();
  const address = opts.pachdAddress?.trim() || env.pachdAddress;
  if (!address)
    throw new UsageError('no pachd: pass --pachd-address or set REELGRAPH_PACHD_ADDRESS');
  return new AuthClient(address, env.pachdToken ?? '');
}

async function using<T>(opts: AuthOptions, fn: (c: AuthClient) => Promise<T>): Promise<T> {
  const c = client(opts);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

const ROBOT = /^[A-Za-z0-9_.-]{1,63}$/;
function robotName(option: string, v: string): string {
  if (!ROBOT.test(v))
    throw new UsageError(
      `${option} ${JSON.stringify(v)} is invalid: expected 1-63 letters, digits, _ . -`,
    );
  return v;
}

/** Build the `auth` command; `io.stdout` receives the output (default: the process's). */
export function authCommand(io: { stdout: NodeJS.WritableStream } = process): Command {
  const cmd = new Command('auth').description(
    'Pachyderm auth for reelgraph: whoami, robot tokens, the role bindings reelgraph needs (token in REELGRAPH_PACHD_TOKEN).',
  );
  const address = (c: Command) =>
    c.option('--pachd-address <address>', 'the pachd (default: $REELGRAPH_PACHD_ADDRESS)');
  cmd.addCommand(
    address(
      new Command('whoami').description('Print the subject of REELGRAPH_PACHD_TOKEN.'),
    ).action(async (opts: AuthOptions) => {
      io.stdout.write((await using(opts, (c) => c.whoAmI())) + '\n');
    }),
  );
  cmd.addCommand(
    address(
      new Command('robot-token')
        .description(
          'Print a new token for robot:NAME (needs clusterAdmin), like `pachctl auth get-robot-token NAME`.',
        )
        .argument('<name>', 'the robot (robot:<name>)')
        .option('--ttl <seconds>', 'lifetime in seconds (default: no expiry)', '0'),
    ).action(async (name: string, opts: AuthOptions & { ttl: string }) => {
      robotName('robot name', name);
      if (!/^\d{1,10}$/.test(opts.ttl))
        throw new UsageError(
          `--ttl ${JSON.stringify(opts.ttl)} is invalid: expected whole seconds`,
        );
      io.stdout.write((await using(opts, (c) => c.getRobotToken(name, Number(opts.ttl)))) + '\n');
    }),
  );
  cmd.addCommand(
    address(
      new Command('setup')
        .description(
          "Bind the roles reelgraph needs: projectWriter on the project for the init Job's robot; repoWriter on training, streaming, models and serving and repoReader on train and predict for the API's robot.",
        )
        .option('--api-robot <name>', "the API's robot", 'reelgraph-api')
        .option('--init-robot <name>', "the init Job's robot", 'reelgraph-init')
        .option('--project <name>', 'the Pachyderm project', 'default')
        .option('--print', 'only print the equivalent pachctl commands'),
    ).action(
      async (
        opts: AuthOptions & {
          apiRobot: string;
          initRobot: string;
          project: string;
          print?: boolean;
        },
      ) => {
        const bindings = reelgraphRoleBindings({
          apiRobot: robotName('--api-robot', opts.apiRobot),
          initRobot: robotName('--init-robot', opts.initRobot),
          project: opts.project,
        });
        if (opts.print) {
          io.stdout.write(pachctlCommands(bindings).join('\n') + '\n');
          return;
        }
        await using(opts, async (c) => {
          for (const b of bindings) {
            await c.modifyRoleBinding(b);
            io.stdout.write(
              `${b.principal}: ${b.roles.join(',')} on ${b.resource.type} ${b.resource.name}\n`,
            );
          }
        });
      },
    ),
  );
  return cmd;
}
