/**
 * What the `reelgraph` commands that read Pachyderm share: the `--data-dir` option (else
 * `REELGRAPH_DATA_DIR`, else `~/.reelgraph`) and the `--pachd-address` option (else
 * `REELGRAPH_PACHD_ADDRESS`: when set, a real pachd over gRPC instead of the embedded engine,
 * with `REELGRAPH_PACHD_TOKEN` / `REELGRAPH_PACHD_CA`), opening the engine read-only, and
 * pachctl-style table cells (relative times, binary sizes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { DB_FILE, EmbeddedPachyderm } from '../pachyderm/embedded';
import { embeddedPps } from '../pachyderm/embedded/pps';
import type { Pachyderm } from '../pachyderm/port';
import { openEngine, pachdFromEnv, type EngineSelection } from '../services/bootstrap';

/** Options added by {@link addDataDirOption}. */
export interface DataDirOptions {
  dataDir?: string;
  /** `--pachd-address`: use this pachd over gRPC instead of the embedded engine. */
  pachdAddress?: string;
}

/** The data directory used when neither `--data-dir` nor `REELGRAPH_DATA_DIR` is set. */
export const DEFAULT_DATA_DIR = path.join(os.homedir(), '.reelgraph');

/** Add `--data-dir <dir>` and `--pachd-address <address>` to a command. */
export function addDataDirOption(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      `the embedded engine's data directory (default: $REELGRAPH_DATA_DIR or ${DEFAULT_DATA_DIR})`,
    )
    .option(
      '--pachd-address <address>',
      'use this pachd over gRPC instead of the embedded engine: host[:port], grpc://, grpcs://, unix:// (default port 30650; default: $REELGRAPH_PACHD_ADDRESS)',
    );
}

/**
 * The adapter a command uses: `--pachd-address` (else `REELGRAPH_PACHD_ADDRESS`, with
 * `REELGRAPH_PACHD_TOKEN` and `REELGRAPH_PACHD_CA`) for a pachd over gRPC, else the embedded
 * engine in {@link resolveDataDir}.
 */
export function resolveEngine(
  opts: DataDirOptions,
  env: NodeJS.ProcessEnv = process.env,
): EngineSelection {
  const fromEnv = pachdFromEnv(env);
  return {
    ...fromEnv,
    dataDir: resolveDataDir(opts, env),
    pachdAddress: opts.pachdAddress?.trim() || fromEnv.pachdAddress,
  };
}

/** The data directory: `--data-dir`, else `REELGRAPH_DATA_DIR`, else `~/.reelgraph`. */
export function resolveDataDir(opts: DataDirOptions, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(opts.dataDir || env.REELGRAPH_DATA_DIR || DEFAULT_DATA_DIR);
}

/**
 * Open the engine, run `fn`, close. With a pachd address (see {@link resolveEngine}): the gRPC
 * client. Otherwise the embedded engine read-only (safe next to a running server: SQLite WAL
 * readers do not block its writer; the PPS half answers queries and runs no job).
 * @throws Error "no reelgraph data in DIR …" when the directory holds no database; PachError
 *   UNAVAILABLE "pachd at … is not reachable"
 */
export async function withEngine<T>(
  opts: DataDirOptions,
  fn: (pach: Pachyderm) => Promise<T>,
): Promise<T> {
  const sel = resolveEngine(opts);
  if (sel.pachdAddress) {
    const remote = await openEngine(sel);
    try {
      return await fn(remote);
    } finally {
      await remote.close();
    }
  }
  const dir = sel.dataDir;
  if (!fs.existsSync(path.join(dir, DB_FILE))) {
    throw new Error(
      `no reelgraph data in ${dir} (expected ${DB_FILE}); set --data-dir or REELGRAPH_DATA_DIR`,
    );
  }
  // the PPS half read-only too: answers pipeline/job/log queries, runs no job
  const pach = await EmbeddedPachyderm.open(dir, {
    readonly: true,
    pps: embeddedPps({ runJobs: false }),
  });
  try {
    return await fn(pach);
  } finally {
    await pach.close();
  }
}

/** "just now", "12 seconds ago", "3 minutes ago", "2 hours ago", "5 days ago"; "-" for null. */
export function ago(d: Date | null, now: Date = new Date()): string {
  if (!d) return '-';
  const s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  const unit = (n: number, u: string) => `${n} ${u}${n === 1 ? '' : 's'} ago`;
  if (s < 1) return 'just now';
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.floor(s / 60), 'minute');
  if (s < 86400) return unit(Math.floor(s / 3600), 'hour');
  return unit(Math.floor(s / 86400), 'day');
}

/** Bytes in binary units as pachctl prints them: "0B", "512B", "1.5KiB", "2.25MiB", … */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${Number(v.toFixed(2))}${units[i]}`;
}

/** A left-aligned text table: a header row, then rows; columns separated by two spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}
