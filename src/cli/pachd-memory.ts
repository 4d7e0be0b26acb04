/**
 * The memory report of `reelgraph pachd` (issue 10): on SIGUSR2 the stand-in writes one line to
 * stderr with its V8 heap in use after a full garbage collection beside its RSS and where the RSS
 * is, so a benchmark (bench/history.bench.ts) or an operator can tell memory that JavaScript keeps
 * (a leak: the heap grows) from memory SQLite's page cache or the allocator holds (the heap stays
 * flat while the RSS rises). No RPC is added to the served API for it.
 *
 * The line, all figures in MiB with one decimal:
 * `reelgraph pachd: memory gc=yes rss=143.2 heapUsed=15.1 heapTotal=24.0 external=3.2
 * arrayBuffers=0.4 rssAnon=110.0 rssFile=33.2 rssShmem=0.0`
 * `gc=no` when Node was started without `--expose-gc` (start it with `node --expose-gc` or
 * `NODE_OPTIONS=--expose-gc`): the heap figure then includes garbage not yet collected. The
 * `rss*` parts come from Linux's /proc/self/status (RssAnon: malloc'd and V8 memory; RssFile:
 * mapped files; RssShmem: shared mappings such as SQLite's WAL index); NaN elsewhere.
 */
import * as fs from 'node:fs';

/** The signal that makes `reelgraph pachd` report its memory. */
export const MEMORY_SIGNAL = 'SIGUSR2';

/** One memory report; every size in MiB (2^20 bytes). */
export interface MemoryReport {
  /** Whether a full GC ran first (Node started with `--expose-gc`). */
  gc: boolean;
  /** Resident set size (`process.memoryUsage().rss`). */
  rss: number;
  /** V8 heap in use (`heapUsed`): what JavaScript keeps alive, after the GC when `gc`. */
  heapUsed: number;
  /** V8 heap committed (`heapTotal`). */
  heapTotal: number;
  /** Memory of C++ objects bound to JavaScript objects (`external`, includes `arrayBuffers`). */
  external: number;
  /** ArrayBuffers and Buffers (`arrayBuffers`). */
  arrayBuffers: number;
  /** RssAnon of /proc/self/status (NaN when unreadable). */
  rssAnon: number;
  /** RssFile of /proc/self/status (NaN when unreadable). */
  rssFile: number;
  /** RssShmem of /proc/self/status (NaN when unreadable). */
  rssShmem: number;
}

const MiB = 1048576;

/**
 * Measures this process's memory, after a full garbage collection when `global.gc` exists.
 * @returns the figures in MiB
 */
export function measureMemory(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  let status = '';
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: the parts stay NaN
  }
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return {
    gc: gc !== undefined,
    rss: m.rss / MiB,
    heapUsed: m.heapUsed / MiB,
    heapTotal: m.heapTotal / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
    rssAnon: kb('RssAnon') / 1024,
    rssFile: kb('RssFile') / 1024,
    rssShmem: kb('RssShmem') / 1024,
  };
}

/** The report as its stderr line (without the newline); see the module documentation. */
export function formatMemoryReport(r: MemoryReport): string {
  const f = (v: number) => v.toFixed(1);
  return (
    `reelgraph pachd: memory gc=${r.gc ? 'yes' : 'no'} rss=${f(r.rss)} heapUsed=${f(r.heapUsed)} ` +
    `heapTotal=${f(r.heapTotal)} external=${f(r.external)} arrayBuffers=${f(r.arrayBuffers)} ` +
    `rssAnon=${f(r.rssAnon)} rssFile=${f(r.rssFile)} rssShmem=${f(r.rssShmem)}`
  );
}

/**
 * Parses the last memory line in `text` (e.g. a child's stderr) back into a report.
 * @returns undefined when `text` holds no such line
 */
export function parseMemoryReport(text: string): MemoryReport | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith('reelgraph pachd: memory '));
  const line = lines[lines.length - 1];
  if (!line) return undefined;
  const field = (k: string) => Number(new RegExp(`\\b${k}=(\\S+)`).exec(line)?.[1] ?? NaN);
  return {
    gc: /\bgc=yes\b/.test(line),
    rss: field('rss'),
    heapUsed: field('heapUsed'),
    heapTotal: field('heapTotal'),
    external: field('external'),
    arrayBuffers: field('arrayBuffers'),
    rssAnon: field('rssAnon'),
    rssFile: field('rssFile'),
    rssShmem: field('rssShmem'),
  };
}

/**
 * Writes a memory report to `stderr` on every {@link MEMORY_SIGNAL}.
 * @returns a function that removes the handler
 */
export function reportMemoryOnSignal(stderr: NodeJS.WritableStream): () => void {
  const onSignal = () => stderr.write(`${formatMemoryReport(measureMemory())}\n`);
  process.on(MEMORY_SIGNAL, onSignal);
  return () => process.off(MEMORY_SIGNAL, onSignal);
}
