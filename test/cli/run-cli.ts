/**
 * Runs the real `reelgraph` program as a child process, on the current sources (through
 * scripts/ts-register.js, no build needed), and collects its exit code and output.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '../..');

/** The MovieLens data sets of this machine (never downloaded by tests). */
export const DATASETS = process.env.REELGRAPH_DATASETS ?? path.resolve(ROOT, '../shared/datasets');

/** What a run of the program gave. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` in the repository root with `env` added to this process's environment
 * (REELGRAPH_DATASETS defaults to {@link DATASETS}) and collects its exit code and output.
 * @throws (rejects) when the process cannot be started.
 */
export function runProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, REELGRAPH_DATASETS: DATASETS, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `reelgraph <args>` (src/cli/main.ts through scripts/ts-register.js) with `env` added to
 * this process's environment (REELGRAPH_DATASETS defaults to {@link DATASETS}).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const main = [
    '-r',
    path.join(ROOT, 'scripts/ts-register.js'),
    path.join(ROOT, 'src/cli/main.ts'),
  ];
  return runProcess(process.execPath, [...main, ...args], env);
}
