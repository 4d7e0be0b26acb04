/**
 * Byte counts for people: the one `formatBytes` of the engine, used by the download progress of
 * the built-in data sets (decimal units, as the sizes GroupLens publishes) and by the similarity
 * memory-budget messages (binary units, as the budget `REELGRAPH_MEMORY_BUDGET` is parsed).
 * Unit names follow IEC 80000-13 (kB = 10^3 bytes, MB = 10^6; KiB = 2^10, MiB = 2^20, …).
 */

/** `'decimal'`: kB and MB (powers of 1000); `'binary'`: bytes, KiB, MiB, GiB, TiB (powers of 1024). */
export type ByteUnits = 'decimal' | 'binary';

const BINARY_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Formats a byte count (a whole number ≥ 0) with one decimal.
 *
 * - `'decimal'` (default): MB from 10^6 bytes on, else kB — `1234567` → `"1.2 MB"`,
 *   `2048` → `"2.0 kB"`, `500` → `"0.5 kB"`.
 * - `'binary'`: the largest unit (up to TiB) the count reaches, plain bytes below 1024 —
 *   `1023` → `"1023 bytes"`, `1536` → `"1.5 KiB"`, `3 × 2^30` → `"3.0 GiB"`.
 */
export function formatBytes(bytes: number, units: ByteUnits = 'decimal'): string {
  if (units === 'decimal') {
    return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
  }
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < BINARY_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(1)} ${BINARY_UNITS[u]}`;
}
