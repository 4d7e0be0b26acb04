/**
 * The API token file (`REELGRAPH_API_TOKENS_FILE`): its format, and the watcher that re-reads it
 * while the server runs, so that a token removed from the file (or expired) is refused from then
 * on — and its open WebSockets closed (ws.ts `revoke`) — without a restart.
 *
 * Format: UTF-8 text; `#` starts a comment; tokens are separated by newlines, spaces or commas
 * (as before). A token may be followed, on the same line, by attributes:
 *
 * ```
 * # token                              attributes (optional)
 * 3f9c0d…at-least-16-visible-ASCII     name=ci-deploy
 * 8a71be…another-token                 name=alice expires=2027-01-31T00:00:00Z
 * ```
 *
 * - `name=<visible ASCII, ≤ 64>`: shown in the logs instead of the token (never the token
 *   itself); default `token-<n>` (its position in the file).
 * - `expires=<ISO 8601 date or date-time>`: from that instant on the token is refused, and its
 *   WebSockets are closed (4403) within one check interval.
 *
 * Re-reading: `fs.watch` on the file's directory (editors replace files by renaming), plus a
 * `stat` every `pollMs` (default 2 s) as a fallback where watching is unreliable (network file
 * systems, some containers), plus {@link TokenFileWatcher.reload} (SIGHUP, start.ts). A file
 * that cannot be read or parsed keeps the last good token set (and logs why): an editing mistake
 * never opens the API nor locks everyone out silently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, MIN_TOKEN_LENGTH } from './config';

/** One configured token. */
export interface TokenEntry {
  /** The secret. */
  token: string;
  /** For logs: the `name=` attribute, else `token-<n>`. */
  name: string;
  /** Refused from this instant on (epoch ms), when set. */
  expiresAt?: number;
}

/** The largest token file read, bytes: a bigger one is refused (bounded parsing). */
export const MAX_TOKEN_FILE_BYTES = 1 << 20;

const NAME = /^[\x21-\x7e]{1,64}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses a token file (see the module documentation).
 * @param source the file name, for error messages
 * @throws ConfigError naming the source, the line and what was expected (never the token itself)
 */
export function parseTokenFile(text: string, source: string): TokenEntry[] {
  const entries: (TokenEntry & { lineIndex: number })[] = [];
  text.split(/\r?\n/).forEach((raw, lineIndex) => {
    const line = raw.replace(/#.*$/, '');
    const where = `${source}: line ${lineIndex + 1}`;
    for (const field of line.split(/[\s,]+/).filter(Boolean)) {
      const attr = /^(name|expires)=(.*)$/.exec(field);
      if (attr) {
        const last = entries[entries.length - 1];
        if (!last || last.lineIndex !== lineIndex) {
          throw new ConfigError(`${where}: ${attr[1]}= must follow a token on the same line`);
        }
        if (attr[1] === 'name') {
          if (!NAME.test(attr[2])) {
            throw new ConfigError(
              `${where}: name= expects 1 to 64 visible ASCII characters, got ${JSON.stringify(attr[2].slice(0, 80))}`,
            );
          }
          last.name = attr[2];
        } else {
          const t = ISO_DATE.test(attr[2]) ? Date.parse(attr[2]) : NaN;
          if (!Number.isFinite(t)) {
            throw new ConfigError(
              `${where}: expires= expects an ISO 8601 date or date-time (2027-01-31 or 2027-01-31T00:00:00Z), got ${JSON.stringify(attr[2].slice(0, 80))}`,
            );
          }
          last.expiresAt = t;
        }
        continue;
      }
      if (field.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(field)) {
        throw new ConfigError(
          `${where}: token ${entries.length + 1} is invalid: expected at least ${MIN_TOKEN_LENGTH} visible ASCII characters`,
        );
      }
      entries.push({ token: field, name: `token-${entries.length + 1}`, lineIndex });
    }
  });
  return entries.map(({ lineIndex, ...e }) => {
    void lineIndex;
    return e;
  });
}

/** Reads and parses the token file (at most {@link MAX_TOKEN_FILE_BYTES}). @throws ConfigError */
export function readTokenFile(file: string): TokenEntry[] {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_TOKEN_FILE_BYTES) {
      throw new Error(`it holds ${size} bytes, more than ${MAX_TOKEN_FILE_BYTES}`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `REELGRAPH_API_TOKENS_FILE: cannot read ${file}: ${(err as Error).message}`,
    );
  }
  return parseTokenFile(text, file);
}

/** Options of {@link TokenFileWatcher}. */
export interface TokenFileWatcherOptions {
  /** The token file. */
  file: string;
  /** Called with the new entries after each successful read that changed something. */
  onChange: (entries: TokenEntry[]) => void;
  /** Called when the file cannot be read or parsed (the last good set stays). */
  onError: (err: Error) => void;
  /** The stat fallback interval, ms (default 2 000). */
  pollMs?: number;
}

/** Re-reads the token file on change (watch + stat poll) and on demand. */
export class TokenFileWatcher {
  private watcher?: fs.FSWatcher;
  private readonly timer: NodeJS.Timeout;
  private lastStamp = '';
  private lastText = '';

  constructor(private readonly opts: TokenFileWatcherOptions) {
    this.lastStamp = this.stamp();
    try {
      this.lastText = fs.readFileSync(opts.file, 'utf8');
    } catch {
      this.lastText = '';
    }
    const base = path.basename(opts.file);
    try {
      this.watcher = fs.watch(path.dirname(opts.file), { persistent: false }, (_e, name) => {
        if (name === null || name === base || name.toString() === base) this.check();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined; // the stat poll goes on
      });
    } catch {
      this.watcher = undefined;
    }
    this.timer = setInterval(() => this.check(), opts.pollMs ?? 2_000);
    this.timer.unref();
  }

  /** mtime, size and inode: what changes when the file is edited or replaced. */
  private stamp(): string {
    try {
      const s = fs.statSync(this.opts.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  }

  /** Re-reads the file when its stamp changed. */
  private check(): void {
    const stamp = this.stamp();
    if (stamp === this.lastStamp) return;
    this.lastStamp = stamp;
    this.reload(false);
  }

  /**
   * Reads the file now (SIGHUP); calls `onChange` when its content changed (always when `force`).
   * @returns true when the file was read and parsed
   */
  reload(force = true): boolean {
    let entries: TokenEntry[];
    let text: string;
    try {
      entries = readTokenFile(this.opts.file);
      text = fs.readFileSync(this.opts.file, 'utf8');
    } catch (err) {
      this.opts.onError(err as Error);
      return false;
    }
    if (!force && text === this.lastText) return true;
    this.lastText = text;
    this.opts.onChange(entries);
    return true;
  }

  /** Stops watching. */
  close(): void {
    clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
