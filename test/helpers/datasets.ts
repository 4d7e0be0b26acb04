/**
 * The one policy of the suite for MovieLens: tests that need it read it from `$REELGRAPH_DATASETS`
 * (default `../shared/datasets` beside the repository) and FAIL, loudly, when it is missing —
 * never skip. The check runs when a test (or its `beforeAll`) asks for a file, never while jest
 * collects the tests, so a suite that only lists its tests reads nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The data sets of this machine: `$REELGRAPH_DATASETS`, else `../shared/datasets`. */
export const DATASETS =
  process.env.REELGRAPH_DATASETS ?? path.resolve(__dirname, '../../../shared/datasets');

/**
 * The path of a file or folder under {@link DATASETS} (e.g. `requireDataset('ml-100k',
 * 'u1.base')`), checked to exist.
 * @throws Error naming the missing path and `$REELGRAPH_DATASETS` (never a skip)
 */
export function requireDataset(...parts: string[]): string {
  const p = path.join(DATASETS, ...parts);
  if (!fs.existsSync(p)) {
    throw new Error(
      `MovieLens data missing: ${p} does not exist. Set $REELGRAPH_DATASETS to the folder that ` +
        `holds ml-100k/ and ml-latest-small/ (now ${process.env.REELGRAPH_DATASETS === undefined ? 'unset, so ' + DATASETS : JSON.stringify(process.env.REELGRAPH_DATASETS)}).`,
    );
  }
  return p;
}
