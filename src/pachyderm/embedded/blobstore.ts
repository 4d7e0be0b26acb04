/**
 * The embedded engine's content-addressed store of file contents.
 *
 * A blob is the content of one file write, named by its SHA-256 (hex). New blobs of one
 * modification are written together into one *pack* file, itself named by the SHA-256 of its
 * bytes: `objects/<first 2 hex>/<64 hex>`. A pack is written to `objects/tmp/`, fsynced, renamed
 * into place and its directory fsynced, so a pack that is visible is complete and durable; the
 * metadata that points at it (hash → pack, offset, size) is committed afterwards in SQLite by the
 * caller. A crash between the two leaves an unreferenced pack (garbage, never a dangling
 * reference). Content whose hash is already stored is never written again: identical content is
 * stored once. Packing makes a modification of 10,000 small files cost one fsync instead of 10,000.
 *
 * The empty content has a location with `pack = ""` and no bytes on disk.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** Where a blob's bytes are: `size` bytes at `offset` in pack `pack` (`""` for empty content). */
export interface BlobLocation {
  /** SHA-256 of the content, 64 lowercase hex digits. */
  hash: string;
  pack: string;
  offset: number;
  size: number;
}

/** Content to store: bytes in memory, or a local file (streamed, never loaded whole). */
export type BlobSource = Buffer | { fromPath: string };

/** SHA-256 of the empty content. */
export const EMPTY_HASH = createHash('sha256').digest('hex');

/** Read chunk size of streams from the store: 1 MiB. */
export const READ_CHUNK = 1 << 20;

/** Buffers at most this large are gathered and written with one call. */
const GATHER_LIMIT = 1 << 20;

/** The content-addressed blob store under one directory. */
export class BlobStore {
  private readonly inflight = new Map<string, Promise<BlobLocation>>();

  private constructor(readonly root: string) {}

  /**
   * Open the store at `root` (created if missing); leftovers of interrupted writes in `tmp/` (of
   * processes no longer running) are removed. `readonly` opens without creating or cleaning.
   */
  static async open(root: string, opts: { readonly?: boolean } = {}): Promise<BlobStore> {
    if (opts.readonly) return new BlobStore(root);
    await fsp.mkdir(path.join(root, 'tmp'), { recursive: true });
    for (const f of await fsp.readdir(path.join(root, 'tmp'))) {
      // Temporary files are named `<pid>-<uuid>`: remove those of processes that are gone.
      const pid = Number(f.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
        await fsp.rm(path.join(root, 'tmp', f), { force: true });
      }
    }
    return new BlobStore(root);
  }

  /** Path of a pack file. */
  packPath(pack: string): string {
    return path.join(this.root, pack.slice(0, 2), pack);
  }

  /**
   * Store `sources` durably (see module doc) and return one location per source, in order.
   * @param lookup the locations of the already stored hashes among those given (from the metadata)
   */
  async put(
    sources: readonly BlobSource[],
    lookup: (hashes: string[]) => Map<string, BlobLocation>,
  ): Promise<BlobLocation[]> {
    const hashes = await Promise.all(sources.map((s) => hashSource(s)));
    const stored = lookup([...new Set(hashes.filter((h) => h.size > 0).map((h) => h.hash))]);
    const result: (BlobLocation | Promise<BlobLocation> | undefined)[] = new Array(sources.length);
    const toWrite: { index: number; hash: string; size: number }[] = [];
    const mine = new Map<string, number>();
    hashes.forEach(({ hash, size }, i) => {
      if (size === 0) {
        result[i] = { hash, pack: '', offset: 0, size: 0 };
        return;
      }
      const known = stored.get(hash) ?? this.inflight.get(hash);
      if (known) {
        result[i] = known;
      } else if (!mine.has(hash)) {
        mine.set(hash, toWrite.length);
        toWrite.push({ index: i, hash, size });
      }
    });
    if (toWrite.length > 0) {
      const packDone = this.writePack(
        toWrite.map((w) => sources[w.index]),
        toWrite,
      );
      for (const w of toWrite) {
        const p = packDone.then((locs) => locs[mine.get(w.hash)!]);
        // whoever awaits p sees a failure; an unawaited p must not become an unhandled
        // rejection (a full disk used to end the process here: issue 11)
        p.catch(() => undefined);
        this.inflight.set(w.hash, p);
      }
      try {
        await packDone;
      } catch (e) {
        for (const w of toWrite) this.inflight.delete(w.hash);
        throw e;
      }
    }
    const out = await Promise.all(hashes.map((h, i) => result[i] ?? this.inflight.get(h.hash)!));
    return out;
  }

  /** Forget in-flight locations once the metadata recording them is committed. */
  settle(hashes: Iterable<string>): void {
    for (const h of hashes) this.inflight.delete(h);
  }

  private async writePack(
    sources: BlobSource[],
    entries: { hash: string; size: number }[],
  ): Promise<BlobLocation[]> {
    const tmp = path.join(this.root, 'tmp', `${process.pid}-${randomUUID()}`);
    try {
      return await this.writePackAt(tmp, sources, entries);
    } catch (e) {
      // a failed write (a full disk…) leaves nothing behind: the space is given back at once
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  private async writePackAt(
    tmp: string,
    sources: BlobSource[],
    entries: { hash: string; size: number }[],
  ): Promise<BlobLocation[]> {
    const fh = await fsp.open(tmp, 'wx');
    const packHash = createHash('sha256');
    const offsets: number[] = [];
    let offset = 0;
    try {
      let gather: Buffer[] = [];
      let gathered = 0;
      const flush = async () => {
        if (gathered === 0) return;
        const b = gather.length === 1 ? gather[0] : Buffer.concat(gather, gathered);
        packHash.update(b);
        await writeAll(fh, b);
        gather = [];
        gathered = 0;
      };
      for (let i = 0; i < sources.length; i++) {
        const s = sources[i];
        offsets.push(offset);
        if (Buffer.isBuffer(s) && s.length <= GATHER_LIMIT) {
          gather.push(s);
          gathered += s.length;
          if (gathered >= GATHER_LIMIT) await flush();
        } else {
          await flush();
          if (Buffer.isBuffer(s)) {
            packHash.update(s);
            await writeAll(fh, s);
          } else {
            const n = await copyFileInto(s.fromPath, fh, packHash);
            if (n !== entries[i].size) {
              throw new Error(`file ${s.fromPath} changed while being stored`);
            }
          }
        }
        offset += entries[i].size;
      }
      await flush();
      await fh.datasync();
    } finally {
      await fh.close();
    }
    const pack = packHash.digest('hex');
    const dir = path.join(this.root, pack.slice(0, 2));
    let created = false;
    try {
      await fsp.mkdir(dir);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (created) await fsyncDir(this.root);
    await fsp.rename(tmp, path.join(dir, pack));
    await fsyncDir(dir);
    return entries.map((e, i) => ({ hash: e.hash, pack, offset: offsets[i], size: e.size }));
  }

  /**
   * Remove every pack that `isReferenced` does not claim (packs written by a modification that
   * failed or was interrupted before its metadata was committed). Call it only when no write of
   * any process is in flight in this store (the engine does it on open, holding the writer lock).
   * @returns how many packs and bytes were removed
   */
  async removeUnreferenced(
    isReferenced: (pack: string) => boolean,
  ): Promise<{ packs: number; bytes: number }> {
    let packs = 0;
    let bytes = 0;
    for (const shard of await fsp.readdir(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await fsp.readdir(path.join(this.root, shard))) {
        if (isReferenced(name)) continue;
        const file = path.join(this.root, shard, name);
        bytes += (await fsp.stat(file)).size;
        await fsp.rm(file, { force: true });
        packs++;
      }
    }
    return { packs, bytes };
  }

  /**
   * Stream a blob's bytes from `start` (inclusive, default 0) in chunks of at most
   * {@link READ_CHUNK} bytes.
   */
  async *read(loc: BlobLocation, start = 0): AsyncGenerator<Buffer> {
    if (loc.size === 0 || start >= loc.size) return;
    const stream = fs.createReadStream(this.packPath(loc.pack), {
      start: loc.offset + start,
      end: loc.offset + loc.size - 1,
      highWaterMark: READ_CHUNK,
    });
    for await (const chunk of stream) yield chunk as Buffer;
  }

  /** The whole content of a blob, read synchronously. */
  readSync(loc: BlobLocation): Buffer {
    const buf = Buffer.allocUnsafe(loc.size);
    if (loc.size === 0) return buf;
    const fd = fs.openSync(this.packPath(loc.pack), 'r');
    try {
      let done = 0;
      while (done < loc.size) {
        const n = fs.readSync(fd, buf, done, loc.size - done, loc.offset + done);
        if (n === 0) throw new Error(`pack ${loc.pack} is shorter than expected`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  }
}

async function hashSource(s: BlobSource): Promise<{ hash: string; size: number }> {
  if (Buffer.isBuffer(s)) {
    return { hash: createHash('sha256').update(s).digest('hex'), size: s.length };
  }
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(s.fromPath, { highWaterMark: READ_CHUNK })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: h.digest('hex'), size };
}

async function writeAll(fh: fsp.FileHandle, b: Buffer): Promise<void> {
  let done = 0;
  while (done < b.length) {
    const { bytesWritten } = await fh.write(b, done, b.length - done);
    done += bytesWritten;
  }
}

async function copyFileInto(
  from: string,
  fh: fsp.FileHandle,
  hash: ReturnType<typeof createHash>,
): Promise<number> {
  let n = 0;
  for await (const chunk of fs.createReadStream(from, { highWaterMark: READ_CHUNK })) {
    hash.update(chunk as Buffer);
    await writeAll(fh, chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a directory, so that a rename or creation inside it is durable (POSIX). */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
