/**
 * Ranker files: a fitted ranker — its name, parameters, trainset and learned arrays — in one
 * versioned binary file that loads back to a ranker ranking exactly as the one saved. The train
 * pipeline writes one (`ranker.rgr`) beside the rating model (`model.rgm`, engine/model-file.ts)
 * in the same `train` commit.
 *
 * Layout (integers little-endian), as model files:
 *
 * | offset | size | content |
 * |---|---|---|
 * | 0 | 8 | magic bytes `RGRANKR\n` |
 * | 8 | 4 | uint32 format version (1) |
 * | 12 | 4 | uint32 header length H |
 * | 16 | H | UTF-8 JSON header, padded with spaces to a multiple of 8 |
 * | 16 + H | … | the arrays, each at its `byteOffset` (8-byte aligned) |
 *
 * Header: `formatVersion`, `ranker`, `params`, `trainset` {rawUserIds, rawItemIds, ratingScale},
 * `arrays` [{name, dtype, byteOffset, length}] (`trainset.urOffsets`, `trainset.urItems`,
 * `trainset.urRatings`, then `ranker.<name>`), `dataBytes`, `dataSha256`. The same ranker gives
 * the same bytes; a file with another magic or version, or an altered body, is refused naming what
 * was found and what was expected.
 */
import * as crypto from 'node:crypto';
import { Trainset } from '../trainset';
import type { RankerArray, RankerBase } from './base';
import { createRanker } from './index';

/** The magic bytes of a ranker file. */
export const RANKER_MAGIC = Buffer.from('RGRANKR\n', 'latin1');
/** The format version written and read. */
export const RANKER_FORMAT_VERSION = 1;

type Dtype = 'float64' | 'float32' | 'int32';
const CTORS = { float64: Float64Array, float32: Float32Array, int32: Int32Array } as const;

interface Entry {
  name: string;
  dtype: Dtype;
  byteOffset: number;
  length: number;
}

/** The JSON header of a ranker file. */
export interface RankerHeader {
  formatVersion: number;
  ranker: string;
  params: Record<string, unknown>;
  trainset: { rawUserIds: string[]; rawItemIds: string[]; ratingScale: [number, number] };
  arrays: Entry[];
  dataBytes: number;
  dataSha256: string;
}

/** A ranker file that cannot be read: says what was found and what was expected. */
export class RankerFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RankerFileError';
  }
}

function dtypeOf(a: RankerArray): Dtype {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  return 'int32';
}

/**
 * The bytes of a fitted ranker. @throws Error when the ranker is not fitted.
 */
export function saveRanker(ranker: RankerBase): Buffer {
  const ts = ranker.trainset;
  const st = ts.state();
  const named: Array<[string, RankerArray]> = [
    ['trainset.urOffsets', st.urOffsets],
    ['trainset.urItems', st.urItems],
    ['trainset.urRatings', st.urRatings],
    ...Object.entries(ranker.stateArrays()).map(
      ([n, a]) => [`ranker.${n}`, a] as [string, RankerArray],
    ),
  ];
  const arrays: Entry[] = [];
  let offset = 0;
  for (const [name, a] of named) {
    arrays.push({ name, dtype: dtypeOf(a), byteOffset: offset, length: a.length });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const data = Buffer.alloc(offset);
  named.forEach(([, a], k) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(data, arrays[k].byteOffset);
  });
  const header: RankerHeader = {
    formatVersion: RANKER_FORMAT_VERSION,
    ranker: ranker.name,
    params: ranker.params,
    trainset: {
      rawUserIds: st.rawUserIds,
      rawItemIds: st.rawItemIds,
      ratingScale: st.ratingScale,
    },
    arrays,
    dataBytes: offset,
    dataSha256: crypto.createHash('sha256').update(data).digest('hex'),
  };
  let json = JSON.stringify(header);
  const pad = (8 - ((16 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const head = Buffer.alloc(16);
  RANKER_MAGIC.copy(head, 0);
  head.writeUInt32LE(RANKER_FORMAT_VERSION, 8);
  head.writeUInt32LE(Buffer.byteLength(json), 12);
  return Buffer.concat([head, Buffer.from(json, 'utf8'), data]);
}

/**
 * A ranker from its bytes, ranking exactly as the one saved.
 * @throws RankerFileError for another magic or version, a truncated or altered file;
 *   ParamError for an unknown ranker or parameter.
 */
export function loadRanker(buf: Uint8Array): RankerBase {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 16 || !b.subarray(0, 8).equals(RANKER_MAGIC)) {
    throw new RankerFileError(
      `not a ranker file: expected the magic bytes ${JSON.stringify(RANKER_MAGIC.toString('latin1'))}, ` +
        `found ${JSON.stringify(b.subarray(0, 8).toString('latin1'))}`,
    );
  }
  const version = b.readUInt32LE(8);
  if (version !== RANKER_FORMAT_VERSION) {
    throw new RankerFileError(
      `ranker file format version ${version} is not supported: expected ${RANKER_FORMAT_VERSION}`,
    );
  }
  const h = b.readUInt32LE(12);
  if (16 + h > b.length) throw new RankerFileError('ranker file is truncated (header)');
  const header = JSON.parse(b.subarray(16, 16 + h).toString('utf8')) as RankerHeader;
  const data = b.subarray(16 + h);
  if (data.length !== header.dataBytes) {
    throw new RankerFileError(
      `ranker file data is ${data.length} bytes: expected ${header.dataBytes} (truncated or altered)`,
    );
  }
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  if (sha !== header.dataSha256) {
    throw new RankerFileError(`ranker file data SHA-256 is ${sha}: expected ${header.dataSha256}`);
  }
  const arrays: Record<string, RankerArray> = {};
  for (const e of header.arrays) {
    const Ctor = CTORS[e.dtype];
    const bytes = e.length * Ctor.BYTES_PER_ELEMENT;
    if (!Ctor || e.byteOffset % 8 !== 0 || e.byteOffset + bytes > data.length) {
      throw new RankerFileError(`ranker file array ${e.name} lies outside the data`);
    }
    // Copy into an aligned buffer of its own (the file buffer may not be 8-byte aligned).
    const copy = new Ctor(e.length);
    Buffer.from(copy.buffer).set(data.subarray(e.byteOffset, e.byteOffset + bytes));
    arrays[e.name] = copy;
  }
  const trainset = Trainset.fromState({
    rawUserIds: header.trainset.rawUserIds,
    rawItemIds: header.trainset.rawItemIds,
    ratingScale: header.trainset.ratingScale,
    urOffsets: arrays['trainset.urOffsets'] as Int32Array,
    urItems: arrays['trainset.urItems'] as Int32Array,
    urRatings: arrays['trainset.urRatings'] as Float64Array,
  });
  const own: Record<string, RankerArray> = {};
  for (const [name, a] of Object.entries(arrays)) {
    if (name.startsWith('ranker.')) own[name.slice('ranker.'.length)] = a;
  }
  return createRanker(header.ranker, header.params).restore(trainset, own);
}
