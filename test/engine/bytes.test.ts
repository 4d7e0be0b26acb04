/**
 * formatBytes (src/engine/bytes.ts) in binary units, the form of the similarity memory-budget
 * messages; the decimal form of the download progress is checked in dataset-download.test.ts.
 * Expected strings worked by hand from the unit definitions (KiB = 2^10 bytes, GiB = 2^30).
 */
import { formatBytes } from '../../src/engine/bytes';

describe('formatBytes, binary units', () => {
  it('counts below 1024 stay in bytes', () => {
    expect(formatBytes(0, 'binary')).toBe('0 bytes');
    expect(formatBytes(1023, 'binary')).toBe('1023 bytes');
  });

  it('the largest unit reached, one decimal', () => {
    expect(formatBytes(1024, 'binary')).toBe('1.0 KiB');
    expect(formatBytes(1536, 'binary')).toBe('1.5 KiB'); // 1536 / 1024
    expect(formatBytes(5 * 1024 ** 2 + 256 * 1024, 'binary')).toBe('5.3 MiB'); // 5.25 → 5.3
    expect(formatBytes(3 * 1024 ** 3, 'binary')).toBe('3.0 GiB');
    expect(formatBytes(2048 * 1024 ** 4, 'binary')).toBe('2048.0 TiB'); // TiB is the last unit
  });

  it('decimal units below 1 MB are kB', () => {
    expect(formatBytes(500)).toBe('0.5 kB');
    expect(formatBytes(999999)).toBe('1000.0 kB');
    expect(formatBytes(1e6)).toBe('1.0 MB');
  });
});
