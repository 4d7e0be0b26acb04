/**
 * Ratings as the bytes of a training batch file (services/ratings.ts and workers/training-data.ts:
 * lines `user_id movie_id rating [timestamp]`), written straight into a byte buffer: no string per
 * line nor for the whole file, so no V8 string limit (~512 MiB) applies to the ratings path. Used
 * by `reelgraph import ratings` (one chunk at a time) and by the first start's base file
 * (initial-data.ts).
 */
import type { RawRatings } from '../engine/dataset/raw-ratings';

/** `"00"…"99"` as ASCII digit pairs: DIGIT_PAIRS[2v], DIGIT_PAIRS[2v + 1] for 0 ≤ v < 100. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, k) =>
  k % 2 === 0 ? 48 + Math.floor(k / 20) : 48 + (((k - 1) / 2) % 10),
);

/**
 * The UTF-8 bytes of each distinct id of one id table, made once and kept in one flat pool,
 * indexed by the id's code (no object per id).
 */
class IdBytes {
  private table: readonly string[] | null = null;
  private offset = new Int32Array(0);
  private length = new Int32Array(0);
  pool = new Uint8Array(1 << 16);
  private used = 0;

  /** Starts again when `table` is not the table seen before (codes mean other ids then). */
  use(table: readonly string[]): void {
    if (table === this.table && this.offset.length >= table.length) return;
    if (table !== this.table) {
      this.table = table;
      this.offset = new Int32Array(0);
      this.used = 0;
    }
    const next = new Int32Array(Math.max(table.length, 1024)).fill(-1);
    next.set(this.offset);
    const nextLen = new Int32Array(next.length);
    nextLen.set(this.length.subarray(0, Math.min(this.length.length, nextLen.length)));
    this.offset = next;
    this.length = nextLen;
  }

  /** Offset of the bytes of id `code` in {@link pool}; −2 when the id holds whitespace. */
  offsetOf(code: number): number {
    const o = this.offset[code];
    if (o !== -1) return o;
    const id = this.table![code];
    if (/\s/.test(id)) return -2;
    const b = Buffer.from(id, 'utf8');
    if (this.used + b.length > this.pool.length) {
      let size = this.pool.length * 2;
      while (size < this.used + b.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.pool.subarray(0, this.used));
      this.pool = next;
    }
    this.pool.set(b, this.used);
    this.offset[code] = this.used;
    this.length[code] = b.length;
    this.used += b.length;
    return this.offset[code];
  }

  /** Byte length of id `code` (after {@link offsetOf}). */
  lengthOf(code: number): number {
    return this.length[code];
  }
}

/**
 * Turns chunks of ratings into batch-file bytes (training layout: `user movie rating [timestamp]`,
 * one line each, rating as the shortest decimal that reads back to the same number — JavaScript's
 * `String(number)` — and the timestamp in whole seconds when known), writing bytes straight into
 * one growing buffer: no string per line or per chunk. The UTF-8 bytes of each distinct id are made
 * once and kept by the id's code in a flat pool (the parser's id tables are shared across chunks,
 * so codes are stable; another table starts the cache again), as are those of up to 4 096
 * distinct rating values.
 */
export class ChunkEncoder {
  private readonly users = new IdBytes();
  private readonly items = new IdBytes();
  private readonly ratingBytes = new Map<number, Uint8Array>();
  private buf = Buffer.allocUnsafe(1 << 20);

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
    const users = this.users;
    const items = this.items;
    users.use(userIds);
    items.use(itemIds);
    const ratings = raw.ratings;
    const ts = raw.timestamps;
    let p = 0;
    let lastR = NaN;
    let lastRb: Uint8Array = new Uint8Array(0);
    for (let k = 0; k < raw.length; k++) {
      const uc = userCodes[k];
      const ic = itemCodes[k];
      const uo = users.offsetOf(uc);
      const io = items.offsetOf(ic);
      if (uo < 0 || io < 0) {
        throw new RangeError(
          `rating ${firstRating + k + 1}: user id ${JSON.stringify(userIds[uc])} or movie id ` +
            `${JSON.stringify(itemIds[ic])} holds whitespace; the training layout needs ids without spaces or tabs`,
        );
      }
      const ul = users.lengthOf(uc);
      const il = items.lengthOf(ic);
      const r = ratings[k];
      let rb = r === lastR ? lastRb : this.ratingBytes.get(r);
      if (rb === undefined) {
        rb = Buffer.from(String(r), 'latin1');
        if (this.ratingBytes.size < 4096) this.ratingBytes.set(r, rb);
      }
      lastR = r;
      lastRb = rb;
      // id bytes + rating + a timestamp of at most 24 characters + 4 separators
      if (p + ul + il + rb.length + 28 > this.buf.length) this.ensure(ul + il + rb.length + 28, p);
      const buf = this.buf;
      // byte loops: ids are a few bytes, where TypedArray#set's call costs more than the copy
      const up = users.pool;
      for (let j = 0; j < ul; j++) buf[p++] = up[uo + j];
      buf[p++] = 32;
      const ip = items.pool;
      for (let j = 0; j < il; j++) buf[p++] = ip[io + j];
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
  if (!(v >= 0 && v < 2147483648)) return p + buf.write(String(v), p, 'latin1');
  // 32-bit integer arithmetic, two digits at a time (every MovieLens timestamp)
  let x = v | 0;
  const digits =
    x < 10
      ? 1
      : x < 100
        ? 2
        : x < 1000
          ? 3
          : x < 10000
            ? 4
            : x < 100000
              ? 5
              : x < 1000000
                ? 6
                : x < 10000000
                  ? 7
                  : x < 100000000
                    ? 8
                    : x < 1000000000
                      ? 9
                      : 10;
  let e = p + digits;
  while (x >= 100) {
    const q = (x / 100) | 0;
    const r2 = (x - q * 100) << 1;
    buf[--e] = DIGIT_PAIRS[r2 + 1];
    buf[--e] = DIGIT_PAIRS[r2];
    x = q;
  }
  if (x >= 10) {
    buf[--e] = DIGIT_PAIRS[(x << 1) + 1];
    buf[--e] = DIGIT_PAIRS[x << 1];
  } else buf[--e] = 48 + x;
  return p + digits;
}
