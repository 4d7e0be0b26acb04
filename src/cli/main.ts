#!/usr/bin/env node
/**
 * The `reelgraph` program (package bin → dist/cli/main.js after `npm run build`).
 *
 * Each command lives in src/cli/commands/<name>.ts and exports a commander `Command` (or a
 * function returning one); this file attaches them, gives every command `--help`, and turns
 * errors into one line on stderr and an exit code (see ./errors.ts): 0 success, 1 failure,
 * 2 usage error. Set `REELGRAPH_DEBUG=1` to print stack traces.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, exitCodeOf } from './errors';
import { evaluateCommand } from './commands/evaluate';
import { compareCommand } from './commands/compare';
import { recommendCommand } from './commands/recommend';
import { reposCommand } from './commands/repos';
import { commitsCommand } from './commands/commits';
import { initCommand } from './commands/init';
import { pipelinesCommand } from './commands/pipelines';
import { jobsCommand } from './commands/jobs';
import { workerCommand } from './commands/worker';
import { serveCommand } from './commands/serve';
import { pachdCommand } from './commands/pachd';
import { authCommand } from './commands/auth';
import { importCommand } from './commands/import';
import { modelsCommand } from './commands/models';
import { searchCommand } from './commands/search';
import { gcCommand } from './commands/gc';
import { collect } from './data-options';
import { loadAlgorithmPlugins, pluginsFromEnv } from '../engine/algorithms/plugins';

/**
 * The commands, in the order `--help` lists them. Each module under ./commands exports a factory
 * returning a commander Command; add new ones here.
 */
const COMMANDS: ReadonlyArray<() => Command> = [
  () => initCommand(),
  evaluateCommand,
  compareCommand,
  recommendCommand,
  () => searchCommand(),
  () => reposCommand(),
  () => commitsCommand(),
  () => pipelinesCommand(),
  () => importCommand(),
  () => modelsCommand(),
  () => jobsCommand(),
  () => gcCommand(),
  workerCommand,
  serveCommand,
  () => pachdCommand(),
  () => authCommand(),
];

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Applies `fn` to a command and all its sub-commands. */
function forEachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, fn);
}

/**
 * Builds the whole `reelgraph` program. Commander errors are turned into exceptions (exitOverride)
 * so that `main` chooses the exit code.
 */
export function buildProgram(): Command {
  const program = new Command('reelgraph')
    .description(
      "An open movie-recommendation service: Surprise's algorithms in TypeScript, a Pachyderm-style versioned pipeline, and a GraphQL API.",
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .option(
      '--plugin <module>',
      'load custom algorithms from a CommonJS module before running (repeatable; also $REELGRAPH_PLUGINS, separated by ' +
        `'${path.delimiter}')`,
      collect,
      [],
    )
    .hook('preAction', (root) => {
      loadAlgorithmPlugins([...pluginsFromEnv(), ...(root.opts().plugin as string[])]);
    });
  for (const make of COMMANDS) program.addCommand(make());
  forEachCommand(program, (c) => {
    c.exitOverride();
    c.helpCommand(false);
    c.showHelpAfterError(false);
  });
  return program;
}

/**
 * Runs the program on `argv` (node-style: `[node, script, ...args]`).
 * @returns the exit code: 0 success, 1 failure, 2 usage error.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help / version)
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (process.env.REELGRAPH_DEBUG && err instanceof Error && err.stack) {
      process.stderr.write(err.stack + '\n');
    }
    return exitCodeOf(err);
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
