/**
 * `reelgraph pachd` (the gRPC stand-in) as a child process for the benchmarks that compare the
 * embedded engine with the gRPC path (bench:grpc, bench:history, bench:cluster): started from the
 * sources (scripts/ts-register.js) on a free port with its own data directory and no token, run
 * with --expose-gc so that its SIGUSR2 memory report (src/cli/pachd-memory.ts) gives the heap
 * after a full GC.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { type MemoryReport, parseMemoryReport } from '../src/cli/pachd-memory';

const ROOT = path.resolve(__dirname, '..');

/** A running `reelgraph pachd` child; see {@link startPachd}. */
export interface PachdChild {
  child: ChildProcess;
  /** Its address, `grpc://127.0.0.1:PORT`. */
  address: string;
  /**
   * Its memory (RSS and V8 heap in use after a full GC, MiB): sends SIGUSR2 and waits for the
   * line it writes to stderr.
   * @throws when the process has exited or wrote no report
   */
  memory(): Promise<MemoryReport>;
  /** SIGTERM, resolving once the process has exited (at once if it has already). */
  stop(): Promise<void>;
}

/**
 * Starts `reelgraph pachd --port 0 --data-dir DATADIR [...extraArgs]` and resolves once it has
 * printed its address.
 * @param extraArgs more `reelgraph pachd` options, e.g. `['--finishing-window-ms', '50']`
 * @throws when the process exits before it listens (its stderr in the message)
 */
export async function startPachd(dataDir: string, extraArgs: string[] = []): Promise<PachdChild> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      path.join(ROOT, 'scripts/ts-register.js'),
      path.join(ROOT, 'src/cli/main.ts'),
      'pachd',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, REELGRAPH_PACHD_TOKEN: '' },
    },
  );
  let err = '';
  let partial = '';
  const reports: string[] = [];
  const onReport: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 100_000) err += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l.startsWith('reelgraph pachd: memory ')) reports.push(l);
    if (reports.length) onReport.splice(0).forEach((f) => f());
  });
  const address = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /on (\S+) \(/.exec(err);
      if (m) resolve(`grpc://${m[1]}`);
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`reelgraph pachd exited (${code}): ${err}`)));
  });
  const memory = async () => {
    if (child.exitCode !== null) throw new Error(`reelgraph pachd exited: ${err.slice(-2000)}`);
    const reported = new Promise<void>((resolve) => onReport.push(resolve));
    child.kill('SIGUSR2');
    await reported;
    const r = parseMemoryReport(reports.splice(0).join('\n'));
    if (!r) throw new Error(`reelgraph pachd wrote no memory report: ${err.slice(-2000)}`);
    return r;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.on('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { child, address, memory, stop };
}
