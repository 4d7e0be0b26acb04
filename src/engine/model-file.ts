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
 * | 8 | 4 | uint32 format version (currently 1) |
 * | 12 | 4 | uint32 header length H in bytes |
 * | 16 | H | UTF-8 JSON header (padded with spaces so that the data starts on an 8-byte boundary) |
 * | 16 + H | … | the arrays, each at `byteOffset` (relative to the data start, 8-byte aligned), little-endian |
 *
 * Header (`ModelHeader`): `formatVersion`, `algorithm`, `params`, `trainset` {nUsers, nItems,
 * nRatings, globalMean, ratingScale, rawUserIds, rawItemIds}, `stats`, `values` (the algorithm's
 * scalars), `arrays` [{name, dtype, byteOffset, length}], `dataBytes`, `dataSha256`. The arrays
 * are the trainset's (`trainset.urOffsets`, `trainset.urItems`, `trainset.urRatings`,
 * `trainset.irUsers`, `trainset.irRatings`) then the algorithm's (`algo.<name>`).
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
export const MODEL_FORMAT_VERSION = 1;
/** The format versions this build reads. */
export const SUPPORTED_MODEL_FORMAT_VERSIONS: readonly number[] = [1];

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

/** The JSON header of a model file (format version 1). */
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
  if (Array.isArray(v)) return v.map(decodeNumbers);
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

/**
 * Serialises a fitted algorithm.
 *
 * @param stats extra training statistics to store (JSON values, e.g. fit time or cross-validation
 *   scores); merged over the trainset's statistics. Leave out anything that changes between runs
 *   if the bytes must be reproducible.
 * @returns the model file's bytes; the same model and stats always give the same bytes.
 * @throws Error when the algorithm is not fitted; TypeError when its state holds a value that is
 *   not JSON or an array of an unsupported type.
 */
export function saveModel(algo: AlgoBase, stats: Record<string, unknown> = {}): Buffer {
  const ts = algo.trainset;
  const tsState = ts.state();
  const algoState = algo.exportState();
  const named: [string, StateArray][] = [
    ['trainset.urOffsets', tsState.urOffsets],
    ['trainset.urItems', tsState.urItems],
    ['trainset.urRatings', tsState.urRatings],
    ['trainset.irUsers', tsState.irUsers ?? ts.irUsers],
    ['trainset.irRatings', tsState.irRatings ?? ts.irRatings],
  ];
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
    formatVersion: MODEL_FORMAT_VERSION,
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
  pre.writeUInt32LE(MODEL_FORMAT_VERSION, 8);
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
 *   predictions equal the saved model's bit for bit.
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
    const a = new dt.ctor(e.length);
    const bytes = new Uint8Array(a.buffer);
    bytes.set(b.subarray(dataStart + e.byteOffset, dataStart + e.byteOffset + nbytes));
    if (!LITTLE_ENDIAN && dt.bytes > 1) {
      for (let p = 0; p < bytes.length; p += dt.bytes) bytes.subarray(p, p + dt.bytes).reverse();
    }
    arrays.set(e.name, a);
  }
  const need = <T extends StateArray>(name: string, ctor: new (n: number) => T): T => {
    const a = arrays.get(name);
    if (!(a instanceof ctor)) {
      throw new ModelFileError(`corrupt model file: array '${name}' (${ctor.name}) is missing`);
    }
    return a;
  };
  const t = header.trainset;
  const trainset = Trainset.fromState({
    rawUserIds: t.rawUserIds,
    rawItemIds: t.rawItemIds,
    ratingScale: t.ratingScale,
    urOffsets: need('trainset.urOffsets', Int32Array),
    urItems: need('trainset.urItems', Int32Array),
    urRatings: need('trainset.urRatings', Float64Array),
    irUsers: need('trainset.irUsers', Int32Array),
    irRatings: need('trainset.irRatings', Float64Array),
  });
  if (trainset.nItems !== t.nItems || trainset.nRatings !== t.nRatings) {
    throw new ModelFileError(
      `corrupt model file: trainset of ${trainset.nItems} items and ${trainset.nRatings} ratings, header says ${t.nItems} and ${t.nRatings}`,
    );
  }
  const Cls = getAlgorithm(header.algorithm);
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
