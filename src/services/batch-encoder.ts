/**
 * Ratings as the bytes of a training batch file (services/ratings.ts and workers/training-data.ts:
 * lines `user_id movie_id rating [timestamp]`), written straight into a byte buffer: no string per
 * line nor for the whole file, so no V8 string limit (~512 MiB) applies to the ratings path. Used
 * by `reelgraph import ratings` (one chunk at a time) and by the first start's base file
 * (initial-data.ts).
 */
import type { RawRatings } from '../engine/dataset/raw-ratings';

/**
 * Turns chunks of ratings into batch-file bytes (training layout: `user movie rating [timestamp]`,
 * one line each, rating as the shortest decimal that reads back to the same number — JavaScript's
 * `String(number)` — and the timestamp in whole seconds when known), writing bytes straight into
 * one growing buffer: no string per line or per chunk. The UTF-8 bytes of each distinct id are made
 * once and kept by the id's code (an array indexed by code: the parser's id tables are shared
 * across chunks, so codes are stable), as are those of up to 4 096 distinct rating values.
 */
export class ChunkEncoder {
  private userBytes: (Uint8Array | undefined)[] = [];
  private itemBytes: (Uint8Array | undefined)[] = [];
  private readonly ratingBytes = new Map<number, Uint8Array>();
  private buf = Buffer.allocUnsafe(1 << 20);

  private static idBytes(
    cache: (Uint8Array | undefined)[],
    ids: readonly string[],
    code: number,
  ): Uint8Array | null {
    let b = cache[code];
    if (b === undefined) {
      const id = ids[code];
      if (/\s/.test(id)) return null;
      b = Buffer.from(id, 'utf8');
      cache[code] = b;
    }
    return b;
  }

  private ensure(extra: number, used: number): void {
    if (used + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < used + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, used);
    this.buf = next;
  }

  /**
   * The batch-file bytes of `raw` (a view into this encoder's buffer, valid until the next call).
   * @param firstRating how many ratings of the file came before `raw` (for error messages).
   * @throws RangeError naming the rating (1-based, in the file) when an id holds whitespace (the
   *   layout separates fields by it).
   */
  encode(raw: RawRatings, firstRating: number): Buffer {
    const { userCodes, userIds, itemCodes, itemIds } = raw.interned();
    const ratings = raw.ratings;
    const ts = raw.timestamps;
    let p = 0;
    let lastR = NaN;
    let lastRb: Uint8Array = new Uint8Array(0);
    for (let k = 0; k < raw.length; k++) {
      const u = ChunkEncoder.idBytes(this.userBytes, userIds, userCodes[k]);
      const i = ChunkEncoder.idBytes(this.itemBytes, itemIds, itemCodes[k]);
      if (u === null || i === null) {
        throw new RangeError(
          `rating ${firstRating + k + 1}: user id ${JSON.stringify(userIds[userCodes[k]])} or movie id ` +
            `${JSON.stringify(itemIds[itemCodes[k]])} holds whitespace; the training layout needs ids without spaces or tabs`,
        );
      }
      const r = ratings[k];
      let rb = r === lastR ? lastRb : this.ratingBytes.get(r);
      if (rb === undefined) {
        rb = Buffer.from(String(r), 'latin1');
        if (this.ratingBytes.size < 4096) this.ratingBytes.set(r, rb);
      }
      lastR = r;
      lastRb = rb;
      // id bytes + rating + a timestamp of at most 24 characters + 4 separators
      this.ensure(u.length + i.length + rb.length + 28, p);
      const buf = this.buf;
      // byte loops: ids are a few bytes, where TypedArray#set's call costs more than the copy
      for (let j = 0; j < u.length; j++) buf[p++] = u[j];
      buf[p++] = 32;
      for (let j = 0; j < i.length; j++) buf[p++] = i[j];
      buf[p++] = 32;
      for (let j = 0; j < rb.length; j++) buf[p++] = rb[j];
      const t = ts ? ts[k] : NaN;
      if (!Number.isNaN(t)) {
        buf[p++] = 32;
        p = writeInteger(buf, p, Math.floor(t));
      }
      buf[p++] = 10;
    }
    return this.buf.subarray(0, p);
  }
}

/** Writes `String(v)` of an integer-valued `v` at `p` (ASCII); @returns the position after it. */
function writeInteger(buf: Buffer, p: number, v: number): number {
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) return p + buf.write(String(v), p, 'latin1');
  if (v < 2147483648) {
    // 32-bit integer arithmetic (every MovieLens timestamp)
    let digits = 1;
    for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
    let x = v | 0;
    for (let d = digits - 1; d >= 0; d--) {
      const q = (x / 10) | 0;
      buf[p + d] = 48 + x - q * 10;
      x = q;
    }
    return p + digits;
  }
  if (v === 0) {
    buf[p] = 48;
    return p + 1;
  }
  let digits = 0;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
  let x = v;
  for (let d = digits - 1; d >= 0; d--) {
    const q = Math.floor(x / 10);
    buf[p + d] = 48 + (x - q * 10);
    x = q;
  }
  return p + digits;
}
