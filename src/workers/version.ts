/**
 * The package version, for `createdBy` in train manifests: read from package.json two levels up
 * (from both src/workers and dist/workers); `0.0.0` when it cannot be read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The `version` of reelgraph's package.json, e.g. `0.1.0`. */
export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const file = path.resolve(__dirname, '../../package.json');
      cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
