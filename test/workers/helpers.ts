/**
 * Runs the real `reelgraph` launcher (bin/reelgraph) as a child process on the current sources
 * (REELGRAPH_FROM_SOURCE=1), and builds temporary `/pfs` layouts for the worker programs.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '../..');

/** The MovieLens data sets of this machine (never downloaded by tests). */
export const DATASETS = process.env.REELGRAPH_DATASETS ?? path.resolve(ROOT, '../shared/datasets');

/** What a run gave. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/reelgraph <args>` with `env` added to this process's environment. */
export function runReelgraph(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'bin/reelgraph'), args, {
      cwd: ROOT,
      env: { ...process.env, REELGRAPH_FROM_SOURCE: '1', REELGRAPH_DATASETS: DATASETS, ...env },
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
