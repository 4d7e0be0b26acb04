/**
 * Errors raised while reading rating files and finding the built-in data sets.
 *
 * Every error names what is wrong and where, so that a user can fix the file or the directory
 * without reading the code. A malformed file never yields a NaN that reaches training: parsing
 * stops at the first bad line with a {@link DatasetFormatError}.
 */

/**
 * A line of a data file cannot be read: wrong number of fields, a rating that is not a number or
 * lies outside the rating scale, a bad timestamp, an empty id, an unterminated quoted field.
 *
 * The message is `<file>:<line>: <problem>` (line numbers start at 1 and count every physical line
 * of the file, header lines included), e.g.
 * `u.data:17: rating "6" is outside the rating scale [1, 5]`.
 */
export class DatasetFormatError extends Error {
  /**
   * @param file the file (path or name) that holds the line.
   * @param line 1-based line number in that file.
   * @param problem what is wrong, and what was expected.
   */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'DatasetFormatError';
  }
}

/**
 * A built-in data set is neither in the configured directory nor in the cache, and could not be
 * downloaded (offline, HTTP error, or downloading disabled). The message names the data set, every
 * directory searched, why the download failed, and what to do.
 */
export class DatasetNotFoundError extends Error {
  /**
   * @param dataset the data set's name (e.g. `ml-100k`).
   * @param searched the directories that were searched, in order.
   * @param url where the data set's zip can be downloaded.
   * @param cacheDir the directory where an unzipped copy is looked for (and written).
   * @param reason why the download did not happen or failed.
   */
  constructor(
    readonly dataset: string,
    readonly searched: readonly string[],
    readonly url: string,
    readonly cacheDir: string,
    readonly reason: string,
  ) {
    super(
      `Data set ${dataset} was not found. Searched: ${searched.join(', ') || '(nothing)'}. ` +
        `Downloading it failed: ${reason}. ` +
        `Download it from ${url} and unzip it into ${cacheDir}, or set REELGRAPH_DATASETS ` +
        `to a directory that contains ${dataset}/.`,
    );
    this.name = 'DatasetNotFoundError';
  }
}

/**
 * A downloaded file does not have the SHA-256 (or, for a GroupLens zip, the MD5) recorded for it:
 * the download was corrupted or the file changed upstream. Nothing is cached when this is thrown.
 */
export class ChecksumError extends Error {
  /**
   * @param file the file checked (path inside the archive, e.g. `ml-100k/u.data`).
   * @param expected the recorded SHA-256 (hex).
   * @param actual the SHA-256 of the bytes received (hex).
   * @param url where the archive came from.
   * @param algorithm the hash: `SHA-256` (default) or `MD5` (GroupLens' published zip sums).
   */
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    readonly url: string,
    readonly algorithm: 'SHA-256' | 'MD5' = 'SHA-256',
  ) {
    super(
      `${algorithm} of ${file} (downloaded from ${url}) is ${actual}, expected ${expected}; ` +
        `the download was refused and nothing was cached`,
    );
    this.name = 'ChecksumError';
  }
}
