/**
 * `reelgraph pachd`'s memory report (src/cli/pachd-memory.ts): a real child process
 * answers SIGUSR2 with one stderr line whose RSS agrees with what Linux reports for the process
 * (/proc/<pid>/status, read around the signal) and whose heap comes after a full GC when Node runs
 * with --expose-gc; without it the line says gc=no. The process keeps serving and stops cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatMemoryReport,
  parseMemoryReport,
  type MemoryReport,
} from '../../src/cli/pachd-memory';
import { ROOT } from './run-cli';

jest.setTimeout(60_000);

interface Pachd {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches `re`. */
  until(re: RegExp): Promise<string>;
}

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function startPachd(nodeFlags: string[]): Pachd {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-pachd-memory-'));
  dirs.push(dir);
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      '-r',
      path.join(ROOT, 'scripts/ts-register.js'),
      path.join(ROOT, 'src/cli/main.ts'),
      'pachd',
      '--port',
      '0',
      '--data-dir',
      dir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  children.push(child);
  let err = '';
  const waiters: { re: RegExp; resolve(m: string): void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of [...waiters]) {
      const m = w.re.exec(err);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[0]);
      }
    }
  });
  return {
    child,
    stderr: () => err,
    until: (re) =>
      new Promise((resolve, reject) => {
        const m = re.exec(err);
        if (m) return resolve(m[0]);
        waiters.push({ re, resolve });
        child.once('exit', (code) =>
          reject(
            new Error(`reelgraph pachd exited (${code}, ${child.signalCode}) before ${re}: ${err}`),
          ),
        );
      }),
  };
}

/** VmRSS of `pid` in MiB (Linux). */
function vmRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

describe('reelgraph pachd on SIGUSR2', () => {
  it('writes its RSS and its heap after a full GC when run with --expose-gc', async () => {
    const pachd = startPachd(['--expose-gc']);
    await pachd.until(/serving pachd's gRPC API on \S+/);
    const before = vmRssMiB(pachd.child.pid!);
    pachd.child.kill('SIGUSR2');
    const line = await pachd.until(/reelgraph pachd: memory [^\n]*\n/);
    const after = vmRssMiB(pachd.child.pid!);
    const r = parseMemoryReport(line)!;
    expect(r).toBeDefined();
    expect(r.gc).toBe(true);
    // the process's RSS as Linux counts it, within what a GC may free or grow meanwhile
    expect(r.rss).toBeGreaterThan(Math.min(before, after) - 16);
    expect(r.rss).toBeLessThan(Math.max(before, after) + 16);
    // its parts add up to it (RssAnon + RssFile + RssShmem = VmRSS, proc(5))
    expect(r.rssAnon + r.rssFile + r.rssShmem).toBeCloseTo(r.rss, -1);
    expect(r.heapUsed).toBeGreaterThan(1);
    expect(r.heapUsed).toBeLessThanOrEqual(r.heapTotal);
    expect(r.heapTotal).toBeLessThan(r.rss);
    expect(r.arrayBuffers).toBeLessThanOrEqual(r.external);

    // a second signal gives a second line, and the server still stops cleanly on SIGTERM
    pachd.child.kill('SIGUSR2');
    await pachd.until(/(reelgraph pachd: memory [^\n]*\n[^]*){2}/);
    const exited = new Promise<number | null>((resolve) => pachd.child.once('exit', resolve));
    pachd.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(pachd.stderr()).toMatch(/reelgraph pachd: stopped/);
  });

  it('says gc=no when Node runs without --expose-gc', async () => {
    const pachd = startPachd([]);
    await pachd.until(/serving pachd's gRPC API on \S+/);
    pachd.child.kill('SIGUSR2');
    const line = await pachd.until(/reelgraph pachd: memory [^\n]*\n/);
    expect(line).toMatch(/^reelgraph pachd: memory gc=no rss=\d+\.\d /);
    const exited = new Promise<number | null>((resolve) => pachd.child.once('exit', resolve));
    pachd.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('parseMemoryReport', () => {
  it('reads back the last line formatMemoryReport wrote, to 0.1 MiB', () => {
    const a: MemoryReport = {
      gc: true,
      rss: 143.26,
      heapUsed: 15.04,
      heapTotal: 24,
      external: 3.21,
      arrayBuffers: 0.44,
      rssAnon: 110.02,
      rssFile: 33.2,
      rssShmem: 0,
    };
    const b = { ...a, gc: false, rss: 404.04 };
    const text = `noise\n${formatMemoryReport(a)}\nmore\n${formatMemoryReport(b)}\n`;
    expect(parseMemoryReport(text)).toEqual({
      gc: false,
      rss: 404,
      heapUsed: 15,
      heapTotal: 24,
      external: 3.2,
      arrayBuffers: 0.4,
      rssAnon: 110,
      rssFile: 33.2,
      rssShmem: 0,
    });
    expect(parseMemoryReport('no report here')).toBeUndefined();
  });
});
