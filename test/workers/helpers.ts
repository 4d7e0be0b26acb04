/**
 * Runs the real `reelgraph` launcher (bin/reelgraph) as a child process on the current sources
 * (REELGRAPH_FROM_SOURCE=1), and builds temporary `/pfs` layouts for the worker programs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runProcess, type CliResult } from '../cli/run-cli';

export { DATASETS, ROOT } from '../cli/run-cli';

/** What a run gave. */
export type RunResult = CliResult;

/** Runs `bin/reelgraph <args>` on the current sources with `env` added to this process's environment. */
export function runReelgraph(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runProcess(path.join(ROOT, 'bin/reelgraph'), args, { REELGRAPH_FROM_SOURCE: '1', ...env });
}

/** A fresh temporary directory (removed by {@link removeTemp}). */
export function makeTemp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `reelgraph-${prefix}-`));
}

/** Removes a temporary directory. */
export function removeTemp(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes `files` (repo path → content) under `<pfsRoot>/<input>` and creates an empty `out`. */
export function layInput(pfsRoot: string, input: string, files: Record<string, string | Buffer>) {
  for (const [p, content] of Object.entries(files)) {
    const dest = path.join(pfsRoot, input, ...p.split('/').filter(Boolean));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, content);
  }
  fs.mkdirSync(path.join(pfsRoot, 'out'), { recursive: true });
}
