/**
 * A small RFC 4180 field splitter: comma-separated fields, fields optionally enclosed in double
 * quotes, a doubled quote (`""`) inside a quoted field standing for one quote. Used for the
 * MovieLens CSV files (`movies.csv` titles such as `"American President, The (1995)"`).
 *
 * Records here are single lines: a quoted field may not span lines (MovieLens files never do), and
 * a quote left open at the end of a line is reported as a problem.
 */

/**
 * Splits one CSV line into fields (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180).
 *
 * @param line one line without its line break.
 * @param sep the one-character field separator (default `,`).
 * @returns the fields, quotes removed and `""` unescaped; or a string describing the problem
 *   (an unterminated quoted field, or text after a closing quote) — the caller adds file and line.
 */
export function splitCsvLine(line: string, sep = ','): string[] | { problem: string } {
  const out: string[] = [];
  const sepCode = sep.charCodeAt(0);
  const n = line.length;
  let pos = 0;
  for (;;) {
    if (pos < n && line.charCodeAt(pos) === 34 /* " */) {
      // Quoted field.
      let value = '';
      let start = pos + 1;
      let k = start;
      for (;;) {
        const q = line.indexOf('"', k);
        if (q < 0) {
          return { problem: `unterminated quoted field starting at column ${pos + 1}` };
        }
        if (q + 1 < n && line.charCodeAt(q + 1) === 34) {
          value += line.slice(start, q + 1);
          k = start = q + 2;
          continue;
        }
        value += line.slice(start, q);
        pos = q + 1;
        break;
      }
      out.push(value);
      if (pos === n) return out;
      if (line.charCodeAt(pos) !== sepCode) {
        return {
          problem: `unexpected text after the closing quote at column ${pos} (expected "${sep}")`,
        };
      }
      pos++;
    } else {
      const e = line.indexOf(sep, pos);
      if (e < 0) {
        out.push(line.slice(pos));
        return out;
      }
      out.push(line.slice(pos, e));
      pos = e + 1;
    }
  }
}
