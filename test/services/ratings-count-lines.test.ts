/**
 * countNonBlankLines (src/services/ratings.ts), the count removeBatch reports, on bytes: against
 * the string definition it replaced (`text.split('\n').filter((l) => l.trim() !== '')`) on seeded
 * random ASCII texts of ratings lines, blank lines, whitespace runs and CRLF endings.
 */
import { countNonBlankLines } from '../../src/services/ratings';

describe('countNonBlankLines', () => {
  it('counts the lines holding more than whitespace, as the string split did', () => {
    const seed = 99;
    process.stdout.write(`seed ${seed}\n`);
    let x = seed;
    const rand = (m: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % m;
    const pieces = ['1 2 3 4', '', ' ', '\t', '\r', '  7 8 4.5  ', '\x0b', '\x0c', 'é 1 2'];
    for (let run = 0; run < 200; run++) {
      const lines = Array.from({ length: rand(12) }, () => pieces[rand(pieces.length)]);
      const text = lines.join(rand(2) ? '\n' : '\r\n') + (rand(2) ? '\n' : '');
      const want = text.split('\n').filter((l) => l.trim() !== '').length;
      expect(countNonBlankLines(Buffer.from(text))).toBe(want);
    }
    expect(countNonBlankLines(Buffer.from('1 2 3\n\n4 5 1'))).toBe(2);
    expect(countNonBlankLines(new Uint8Array(0))).toBe(0);
  });
});
