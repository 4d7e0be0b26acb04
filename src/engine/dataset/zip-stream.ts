/**
 * Reading a zip archive from a file in bounded memory: the central directory is read from the end
 * of the file, then each wanted entry is streamed from its local header through Node's raw
 * inflate (`zlib.createInflateRaw`) into a file, its size and CRC-32 checked and its SHA-256
 * computed on the way. Memory: the central directory (bounded by {@link MAX_CENTRAL_DIRECTORY})
 * plus the streams' buffers (tens of KiB), whatever the size of an entry — MovieLens 25M's
 * `ratings.csv` (~678 MB) never sits in memory.
 *
 * Format facts (PKWARE APPNOTE.TXT 6.3.x): end of central directory record `PK\5\6` (§4.3.16),
 * central directory headers `PK\1\2` (§4.3.12), local file headers `PK\3\4` (§4.3.7); methods 0
 * (stored) and 8 (deflate) are read; encrypted entries (flag bit 0) and ZIP64 archives (§4.3.14,
 * sizes or offsets of 0xFFFFFFFF) are refused with an error naming them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';

/** Largest central directory read (64 MiB: ~500 000 entries of MovieLens-like names). */
export const MAX_CENTRAL_DIRECTORY = 64 << 20;
/** Most entries accepted in one archive. */
export const MAX_ENTRIES = 1_000_000;

/** One file of an archive, as its central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive (`/`-separated; UTF-8 when flagged, else Latin-1). */
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  /** Bytes in the archive. */
  compressedSize: number;
  /** Bytes once extracted. */
  size: number;
  /** CRC-32 of the extracted bytes (unsigned). */
  crc32: number;
  /** Offset of the entry's local header in the archive file. */
  localHeaderOffset: number;
}

/** The archive is not a zip this module reads; the message names the archive and the reason. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * The entries of the zip archive in `file`, in central-directory order.
 * @param label how errors name the archive (e.g. its URL; default the file).
 * @throws ZipFormatError when the file is not a zip (no end record), is ZIP64, or its central
 *   directory is malformed or larger than {@link MAX_CENTRAL_DIRECTORY}.
 */
export function listZipEntries(file: string, label: string = file): ZipEntry[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    // the end record (22 bytes) is followed by a comment of at most 65 535 bytes
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = readAt(fd, tailLen, size - tailLen);
    let eocd = -1;
    for (let k = tail.length - 22; k >= 0; k--) {
      if (tail.readUInt32LE(k) === 0x06054b50) {
        eocd = k;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError(`${label}: no end of central directory record`);
    const total = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new ZipFormatError(`${label}: ZIP64 archives are not supported`);
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY) {
      throw new ZipFormatError(
        `${label}: central directory of ${cdSize} bytes, more than ${MAX_CENTRAL_DIRECTORY}`,
      );
    }
    if (cdOffset + cdSize > size) {
      throw new ZipFormatError(`${label}: central directory beyond the end of the file`);
    }
    const cd = readAt(fd, cdSize, cdOffset);
    const entries: ZipEntry[] = [];
    let p = 0;
    while (p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50) {
      if (entries.length >= MAX_ENTRIES) {
        throw new ZipFormatError(`${label}: more than ${MAX_ENTRIES} entries`);
      }
      const flags = cd.readUInt16LE(p + 8);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      if (p + 46 + nameLen > cd.length) {
        throw new ZipFormatError(`${label}: truncated central directory`);
      }
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      const entry: ZipEntry = {
        name,
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      };
      if (flags & 1) throw new ZipFormatError(`${label}: entry "${name}" is encrypted`);
      if (
        entry.compressedSize === 0xffffffff ||
        entry.size === 0xffffffff ||
        entry.localHeaderOffset === 0xffffffff
      ) {
        throw new ZipFormatError(`${label}: entry "${name}" needs ZIP64, which is not supported`);
      }
      entries.push(entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
    if (entries.length !== total) {
      throw new ZipFormatError(
        `${label}: central directory lists ${entries.length} entries, its end record ${total}`,
      );
    }
    return entries;
  } finally {
    fs.closeSync(fd);
  }
}

/** What {@link extractZipEntry} measured on the extracted bytes. */
export interface ExtractedEntry {
  /** Bytes written. */
  size: number;
  /** SHA-256 of the bytes written, hex. */
  sha256: string;
}

/** CRC-32 (IEEE 802.3, the zip one) table, for Node versions before 20.15 without `zlib.crc32`. */
let crcTable: Int32Array | null = null;

/** `zlib.crc32(data, value)`, or {@link crc32ByTable} where Node lacks it. */
function crc32(data: Uint8Array, value: number): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  return typeof native === 'function' ? native(data, value) : crc32ByTable(data, value);
}

/**
 * CRC-32 of `data` continuing from `value` (0 to start), unsigned — what `zlib.crc32` gives, by
 * the byte table of the reflected polynomial 0xEDB88320.
 */
export function crc32ByTable(data: Uint8Array, value: number): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~value;
  for (let k = 0; k < data.length; k++) c = crcTable[(c ^ data[k]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Counts, hashes and CRCs the bytes passing through; refuses more than `limit` bytes. */
class Meter extends Transform {
  size = 0;
  crc = 0;
  readonly hash = createHash('sha256');
  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) {
      done(new ZipFormatError(`${this.what}: more bytes than the ${this.limit} announced`));
      return;
    }
    this.hash.update(chunk);
    this.crc = crc32(chunk, this.crc);
    done(null, chunk);
  }
}

/**
 * Extracts one entry of the archive `file` into `dest` (created or overwritten), streamed.
 * @param label how errors name the archive (e.g. its URL).
 * @returns the size and SHA-256 of the extracted bytes.
 * @throws ZipFormatError for an unsupported method, a bad local header, inflated data longer or
 *   shorter than announced, or a CRC-32 mismatch (`dest` may then hold partial bytes: extract into
 *   a temporary directory); Error from zlib for corrupt deflate data; file system errors.
 */
export async function extractZipEntry(
  file: string,
  entry: ZipEntry,
  dest: string,
  label: string = file,
): Promise<ExtractedEntry> {
  const what = `${label}: entry "${entry.name}"`;
  if (entry.method !== 0 && entry.method !== 8) {
    throw new ZipFormatError(`${what} uses compression method ${entry.method} (expected 0 or 8)`);
  }
  const fd = fs.openSync(file, 'r');
  let dataStart: number;
  try {
    const local = readAt(fd, 30, entry.localHeaderOffset);
    if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) {
      throw new ZipFormatError(`${what}: no local file header at ${entry.localHeaderOffset}`);
    }
    dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  } finally {
    fs.closeSync(fd);
  }
  const meter = new Meter(entry.size, what);
  const sink = fs.createWriteStream(dest);
  if (entry.compressedSize === 0) {
    await new Promise<void>((resolve, reject) => {
      sink.on('error', reject);
      sink.end(resolve);
    });
  } else {
    const source = fs.createReadStream(file, {
      start: dataStart,
      end: dataStart + entry.compressedSize - 1,
      highWaterMark: 1 << 20,
    });
    if (entry.method === 8) await pipeline(source, zlib.createInflateRaw(), meter, sink);
    else await pipeline(source, meter, sink);
  }
  if (meter.size !== entry.size) {
    throw new ZipFormatError(`${what}: ${meter.size} bytes extracted, ${entry.size} announced`);
  }
  if (meter.crc >>> 0 !== entry.crc32) {
    throw new ZipFormatError(`${what}: CRC-32 mismatch (corrupt archive)`);
  }
  return { size: meter.size, sha256: meter.hash.digest('hex') };
}
