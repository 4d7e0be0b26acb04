/**
 * Model files: a fitted algorithm — its name, parameters, trainset (id maps and rating arrays) and
 * learned arrays — in one versioned, self-describing binary file that loads back to an algorithm
 * predicting exactly as the one saved.
 *
 * Layout (all integers little-endian):
 *
 * | offset | size | content |
 * |---|---|---|
 * | 0 | 8 | magic bytes `RGMODEL\n` |
 * | 8 | 4 | uint32 format version (currently 2; 1 is still read) |
 * | 12 | 4 | uint32 header length H in bytes |
 * | 16 | H | UTF-8 JSON header (padded with spaces so that the data starts on an 8-byte boundary) |
 * | 16 + H | … | the arrays, each at `byteOffset` (relative to the data start, 8-byte aligned), little-endian |
 *
 * Header (`ModelHeader`): `formatVersion`, `algorithm`, `params`, `trainset` {nUsers, nItems,
 * nRatings, globalMean, ratingScale, rawUserIds, rawItemIds}, `stats`, `values` (the algorithm's
 * scalars), `arrays` [{name, dtype, byteOffset, length}], `dataBytes`, `dataSha256`. The arrays
 * are the trainset's (`trainset.urOffsets`, `trainset.urItems`, `trainset.urRatings`, then
 * `trainset.irUsers`, `trainset.irRatings`) then the algorithm's (`algo.<name>`).
 *
 * Version 2 is the serving layout (issue 17: at 25M ratings version 1 stored ~1 GB of trainset a
 * factor model never reads):
 * - `trainset.urRatings` is float32 when every rating is exact in float32 (MovieLens's half stars
 *   are), float64 otherwise; the header's `trainset.globalMean` is used as is (not recomputed);
 * - the item rows (`trainset.irUsers`, `trainset.irRatings`) are left out for the algorithms
 *   whose predictions never read them ({@link ITEM_ROWS_NOT_NEEDED}: SVD, SVDpp, NMF,
 *   BaselineOnly, NormalPredictor); the loaded trainset builds them on first use if asked;
 * - what serving needs stays: the factors and biases (`algo.*`, float64, the model's own bits),
 *   the id maps (header) and each user's rated items as CSR (`urOffsets`, `urItems`, int32: the
 *   items to leave out of recommendations, and the ratings a fold-in re-solves a user from).
 * Both versions load the same way: every array is a view of the file's buffer when the buffer is
 * 8-byte aligned and the machine little-endian (no copy; the buffer must then not be changed),
 * a copy otherwise.
 *
 * Guarantees: the same model gives the same bytes (no timestamps; keys in a fixed order); loading
 * restores every float bit for bit; a file with another magic, an unknown version, a truncated
 * or altered body is refused with an error saying what was found and what was expected.
 * Raw numbers in `values` that are not finite (NaN, ±Infinity) are stored as `{"$number": "NaN"}`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import './algorithms/index';
import type { AlgoBase, AlgoState, StateArray } from './algorithms/base';
import { getAlgorithm } from './algorithms/registry';
import { Trainset } from './trainset';

/** The 8 magic bytes every model file starts with. */
export const MODEL_MAGIC = Buffer.from('RGMODEL\n', 'latin1');
/** The format version this build writes. */
export const MODEL_FORMAT_VERSION = 2;
/** The format versions this build reads. */
export const SUPPORTED_MODEL_FORMAT_VERSIONS: readonly number[] = [1, 2];

/**
 * Algorithms (registry names) whose `estimate` never reads the trainset's item rows: version 2
 * files of these leave the rows out. Every other algorithm (the KNN family, SlopeOne,
 * CoClustering, BayesianFM …) keeps them, in their saved (raw) order, which its answers may
 * depend on.
 */
export const ITEM_ROWS_NOT_NEEDED: ReadonlySet<string> = new Set([
  'SVD',
  'SVDpp',
  'NMF',
  'BaselineOnly',
  'NormalPredictor',
]);

/** Element types of stored arrays. */
export type ModelDtype = 'float64' | 'float32' | 'int32' | 'uint32' | 'uint8';

/** Where one array lies in the data section. */
export interface ModelArrayEntry {
  /** `trainset.<field>` or `algo.<name>`. */
  name: string;
  dtype: ModelDtype;
  /** Offset from the start of the data section, in bytes; a multiple of 8. */
  byteOffset: number;
  /** Number of elements. */
  length: number;
}

/** The JSON header of a model file (format versions 1 and 2). */
export interface ModelHeader {
  formatVersion: number;
  /** Registry name of the algorithm (e.g. "SVD"). */
  algorithm: string;
  /** The algorithm's resolved hyper-parameters. */
  params: Record<string, unknown>;
  trainset: {
    nUsers: number;
    nItems: number;
    nRatings: number;
    globalMean: number;
    ratingScale: [number, number];
    /** Raw user id of each inner user id. */
    rawUserIds: string[];
    /** Raw item id of each inner item id. */
    rawItemIds: string[];
  };
  /** Training statistics: the trainset's (see `trainsetStats`) merged with the caller's. */
  stats: Record<string, unknown>;
  /** The algorithm's saved scalars (`exportState().values`). */
  values: Record<string, unknown>;
  arrays: ModelArrayEntry[];
  /** Length of the data section in bytes. */
  dataBytes: number;
  /** SHA-256 (hex) of the data section. */
  dataSha256: string;
}

/** A model file that cannot be read: bad magic, unsupported version, truncated, corrupt. */
export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

const DTYPES: Record<ModelDtype, { ctor: new (n: number) => StateArray; bytes: number }> = {
  float64: { ctor: Float64Array, bytes: 8 },
  float32: { ctor: Float32Array, bytes: 4 },
  int32: { ctor: Int32Array, bytes: 4 },
  uint32: { ctor: Uint32Array, bytes: 4 },
  uint8: { ctor: Uint8Array, bytes: 1 },
};

function dtypeOf(a: StateArray, name: string): ModelDtype {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Uint8Array) return 'uint8';
  throw new TypeError(
    `model array '${name}' is a ${(a as object)?.constructor?.name}; expected Float64Array, Float32Array, Int32Array, Uint32Array or Uint8Array`,
  );
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The bytes of `a` in little-endian order (a view when the machine is little-endian). */
function leBytes(a: StateArray): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(view);
  const w = a.BYTES_PER_ELEMENT;
  for (let p = 0; p < out.length; p += w) out.subarray(p, p + w).reverse();
  return out;
}

/** Statistics of a trainset stored in every model file's header. */
export function trainsetStats(ts: Trainset): Record<string, number> {
  const r = ts.urRatings;
  let lo = Infinity;
  let hi = -Infinity;
  let ss = 0;
  for (let p = 0; p < r.length; p++) {
    const v = r[p];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    const d = v - ts.globalMean;
    ss += d * d;
  }
  return {
    nUsers: ts.nUsers,
    nItems: ts.nItems,
    nRatings: ts.nRatings,
    globalMean: ts.globalMean,
    ratingStd: Math.sqrt(ss / ts.nRatings),
    minRating: lo,
    maxRating: hi,
    density: ts.nRatings / (ts.nUsers * ts.nItems),
  };
}

/** JSON with object keys sorted and non-finite numbers encoded, so that equal values give equal text. */
function canonicalJson(value: unknown, where: string): string {
  return JSON.stringify(canonical(value, where));
}

function canonical(v: unknown, where: string): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x, k) => canonical(x, `${where}[${k}]`));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x, `${where}.${k}`);
    }
    return out;
  }
  throw new TypeError(
    `cannot store ${where} in a model file: expected JSON values (numbers, strings, booleans, null, arrays, plain objects), got ${typeof v === 'object' ? (v as object).constructor?.name : typeof v}`,
  );
}

function decodeNumbers(v: unknown): unknown {
  if (Array.isArray(v)) {
    // id lists (rawUserIds, rawItemIds: 220,000 strings at 25M) need no decoding
    if (v.every((x) => typeof x !== 'object' || x === null)) return v;
    return v.map(decodeNumbers);
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$number' && typeof o.$number === 'string') {
      return Number(o.$number);
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = decodeNumbers(o[k]);
    return out;
  }
  return v;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The ratings as float32 when each one is exact in float32 (half stars are), else as they are. */
function compactRatings(r: Float64Array | Float32Array): Float64Array | Float32Array {
  if (r instanceof Float32Array) return r;
  const f = new Float32Array(r.length);
  for (let k = 0; k < r.length; k++) {
    f[k] = r[k];
    if (f[k] !== r[k]) return r;
  }
  return f;
}

/**
 * Serialises a fitted algorithm.
 *
 * @param stats extra training statistics to store (JSON values, e.g. fit time or cross-validation
 *   scores); merged over the trainset's statistics. Leave out anything that changes between runs
 *   if the bytes must be reproducible.
 * @param opts.formatVersion 2 (default: the serving layout) or 1 (the previous layout: whole
 *   trainset, float64 ratings; for files that older builds must read, and for comparisons)
 * @returns the model file's bytes; the same model and stats always give the same bytes.
 * @throws Error when the algorithm is not fitted; TypeError when its state holds a value that is
 *   not JSON or an array of an unsupported type; RangeError for another format version.
 */
export function saveModel(
  algo: AlgoBase,
  stats: Record<string, unknown> = {},
  opts: { formatVersion?: number } = {},
): Buffer {
  const version = opts.formatVersion ?? MODEL_FORMAT_VERSION;
  if (version !== 1 && version !== 2) {
    throw new RangeError(`model file format version ${version}: expected 1 or 2`);
  }
  const ts = algo.trainset;
  const itemRows = version === 1 || !ITEM_ROWS_NOT_NEEDED.has(algo.name);
  const tsState = ts.state({ itemRows });
  const algoState = algo.exportState();
  const named: [string, StateArray][] = [
    ['trainset.urOffsets', tsState.urOffsets],
    ['trainset.urItems', tsState.urItems],
    ['trainset.urRatings', version === 1 ? ts.urRatings : compactRatings(tsState.urRatings)],
  ];
  if (itemRows) {
    named.push(['trainset.irUsers', tsState.irUsers!], ['trainset.irRatings', tsState.irRatings!]);
  }
  for (const name of Object.keys(algoState.arrays).sort()) {
    named.push([`algo.${name}`, algoState.arrays[name]]);
  }
  const entries: ModelArrayEntry[] = [];
  let offset = 0;
  for (const [name, a] of named) {
    const dtype = dtypeOf(a, name);
    entries.push({ name, dtype, byteOffset: offset, length: a.length });
    offset = align8(offset + a.byteLength);
  }
  const dataBytes = offset;
  const data = Buffer.alloc(dataBytes);
  for (let k = 0; k < named.length; k++) {
    data.set(leBytes(named[k][1]), entries[k].byteOffset);
  }
  const header: ModelHeader = {
    formatVersion: version,
    algorithm: algo.name,
    params: algo.params,
    trainset: {
      nUsers: ts.nUsers,
      nItems: ts.nItems,
      nRatings: ts.nRatings,
      globalMean: ts.globalMean,
      ratingScale: [ts.ratingScale[0], ts.ratingScale[1]],
      rawUserIds: tsState.rawUserIds,
      rawItemIds: tsState.rawItemIds,
    },
    stats: { ...trainsetStats(ts), ...stats },
    values: algoState.values,
    arrays: entries,
    dataBytes,
    dataSha256: crypto.createHash('sha256').update(data).digest('hex'),
  };
  let json = Buffer.from(canonicalJson(header, 'header'), 'utf8');
  const padded = align8(16 + json.length) - 16;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const pre = Buffer.alloc(16);
  MODEL_MAGIC.copy(pre, 0);
  pre.writeUInt32LE(version, 8);
  pre.writeUInt32LE(json.length, 12);
  return Buffer.concat([pre, json, data]);
}

/**
 * Reads and checks the header of a model file without building the model (for listings).
 * @throws ModelFileError for a wrong magic, an unsupported version, a truncated or corrupt file.
 */
export function readModelHeader(buf: Uint8Array): ModelHeader {
  return parse(buf, false).header;
}

function parse(buf: Uint8Array, checkData: boolean): { header: ModelHeader; dataStart: number } {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 16 || !b.subarray(0, 8).equals(MODEL_MAGIC)) {
    throw new ModelFileError(
      `not a reelgraph model file: expected the magic bytes "RGMODEL\\n" at the start, found ${JSON.stringify(
        b.subarray(0, Math.min(8, b.length)).toString('latin1'),
      )}`,
    );
  }
  const version = b.readUInt32LE(8);
  if (!SUPPORTED_MODEL_FORMAT_VERSIONS.includes(version)) {
    throw new ModelFileError(
      `unsupported model file format version ${version}; this build reads version ${SUPPORTED_MODEL_FORMAT_VERSIONS.join(', ')}`,
    );
  }
  const headerLength = b.readUInt32LE(12);
  if (16 + headerLength > b.length) {
    throw new ModelFileError(
      `truncated model file: header of ${headerLength} bytes announced, ${b.length - 16} present`,
    );
  }
  let header: ModelHeader;
  try {
    header = decodeNumbers(
      JSON.parse(b.subarray(16, 16 + headerLength).toString('utf8')),
    ) as ModelHeader;
  } catch (err) {
    throw new ModelFileError(
      `corrupt model file: header is not valid JSON (${(err as Error).message})`,
    );
  }
  if (!header || typeof header !== 'object' || header.formatVersion !== version) {
    throw new ModelFileError(
      `corrupt model file: header formatVersion ${JSON.stringify(header?.formatVersion)} differs from the file's version ${version}`,
    );
  }
  const dataStart = 16 + headerLength;
  const present = b.length - dataStart;
  if (typeof header.dataBytes !== 'number' || present < header.dataBytes) {
    throw new ModelFileError(
      `truncated model file: ${header.dataBytes} bytes of arrays announced, ${present} present`,
    );
  }
  if (present > header.dataBytes) {
    throw new ModelFileError(
      `corrupt model file: ${present - header.dataBytes} unexpected bytes after the arrays`,
    );
  }
  if (checkData) {
    const sha = crypto
      .createHash('sha256')
      .update(b.subarray(dataStart, dataStart + header.dataBytes))
      .digest('hex');
    if (sha !== header.dataSha256) {
      throw new ModelFileError(
        `corrupt model file: the arrays' SHA-256 is ${sha}, the header says ${header.dataSha256}`,
      );
    }
  }
  return { header, dataStart };
}

/**
 * Rebuilds a fitted algorithm from model-file bytes, through the algorithm registry.
 *
 * @returns an algorithm of the saved class with the saved parameters, trainset and state; its
 *   predictions equal the saved model's bit for bit. Its arrays are views of `buf` when `buf` is
 *   8-byte aligned (little-endian machines): do not change `buf` afterwards.
 * @throws ModelFileError for a wrong magic, an unsupported version, a truncated or corrupt file,
 *   or a missing array; ParamError for an algorithm that is not registered.
 */
export function loadModel(buf: Uint8Array): AlgoBase {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { header, dataStart } = parse(b, true);
  const arrays = new Map<string, StateArray>();
  for (const e of header.arrays ?? []) {
    const dt = DTYPES[e.dtype];
    if (!dt)
      throw new ModelFileError(
        `corrupt model file: array '${e.name}' has unknown dtype ${e.dtype}`,
      );
    const nbytes = e.length * dt.bytes;
    if (e.byteOffset < 0 || e.byteOffset + nbytes > header.dataBytes) {
      throw new ModelFileError(
        `corrupt model file: array '${e.name}' lies outside the data section`,
      );
    }
    const at = b.byteOffset + dataStart + e.byteOffset;
    if (LITTLE_ENDIAN && at % dt.bytes === 0) {
      // a view of the file's bytes: no copy (the arrays are read-only in serving)
      const View = dt.ctor as unknown as new (
        buf: ArrayBufferLike,
        off: number,
        n: number,
      ) => StateArray;
      arrays.set(e.name, new View(b.buffer, at, e.length));
      continue;
    }
    const a = new dt.ctor(e.length);
    const bytes = new Uint8Array(a.buffer);
    bytes.set(b.subarray(dataStart + e.byteOffset, dataStart + e.byteOffset + nbytes));
    if (!LITTLE_ENDIAN && dt.bytes > 1) {
      for (let p = 0; p < bytes.length; p += dt.bytes) bytes.subarray(p, p + dt.bytes).reverse();
    }
    arrays.set(e.name, a);
  }
  const need = <T extends StateArray>(name: string, ...ctors: (new (n: number) => T)[]): T => {
    const a = arrays.get(name);
    if (!ctors.some((c) => a instanceof c)) {
      throw new ModelFileError(
        `corrupt model file: array '${name}' (${ctors.map((c) => c.name).join(' or ')}) is missing`,
      );
    }
    return a as T;
  };
  const t = header.trainset;
  const v2 = header.formatVersion >= 2;
  const urRatings = v2
    ? need<Float64Array | Float32Array>('trainset.urRatings', Float64Array, Float32Array)
    : need('trainset.urRatings', Float64Array);
  const rows =
    !v2 || arrays.has('trainset.irUsers')
      ? {
          irUsers: need('trainset.irUsers', Int32Array),
          irRatings: need('trainset.irRatings', Float64Array),
        }
      : {};
  const Cls = getAlgorithm(header.algorithm);
  if (v2 && !rows.irUsers && !ITEM_ROWS_NOT_NEEDED.has(header.algorithm)) {
    throw new ModelFileError(
      `corrupt model file: ${header.algorithm} needs the trainset's item rows ('trainset.irUsers', 'trainset.irRatings'), which are missing`,
    );
  }
  let trainset: Trainset;
  try {
    trainset = Trainset.fromState({
      rawUserIds: t.rawUserIds,
      rawItemIds: t.rawItemIds,
      ratingScale: t.ratingScale,
      urOffsets: need('trainset.urOffsets', Int32Array),
      urItems: need('trainset.urItems', Int32Array),
      urRatings,
      ...(v2 && typeof t.globalMean === 'number' ? { globalMean: t.globalMean } : {}),
      ...rows,
    });
  } catch (err) {
    throw new ModelFileError(`corrupt model file: ${(err as Error).message}`);
  }
  if (trainset.nItems !== t.nItems || trainset.nRatings !== t.nRatings) {
    throw new ModelFileError(
      `corrupt model file: trainset of ${trainset.nItems} items and ${trainset.nRatings} ratings, header says ${t.nItems} and ${t.nRatings}`,
    );
  }
  const algo = new Cls(header.params);
  const state: AlgoState = { values: header.values ?? {}, arrays: {} };
  for (const [name, a] of arrays) {
    if (name.startsWith('algo.')) state.arrays[name.slice(5)] = a;
  }
  try {
    algo.restore(trainset, state);
  } catch (err) {
    throw new ModelFileError(`corrupt model file: ${(err as Error).message}`);
  }
  return algo;
}

/**
 * Writes a model file atomically: to a temporary file in the same directory, flushed to disk
 * (fsync), then renamed over `file`; readers never see a partial file.
 * @throws the errors of `saveModel`, and file-system errors (the temporary file is removed).
 */
export function writeModelFile(
  file: string,
  algo: AlgoBase,
  stats: Record<string, unknown> = {},
): void {
  const bytes = saveModel(algo, stats);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Directories cannot be fsynced on every platform; the rename itself is atomic.
  }
}

/**
 * Reads a model file written by `writeModelFile` (or any `saveModel` bytes).
 * @throws ModelFileError naming the file for a bad file; file-system errors when unreadable.
 */
export function readModelFile(file: string): AlgoBase {
  const bytes = fs.readFileSync(file);
  try {
    return loadModel(bytes);
  } catch (err) {
    if (err instanceof ModelFileError) throw new ModelFileError(`${file}: ${err.message}`);
    throw err;
  }
}
