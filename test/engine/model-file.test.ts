/**
 * Model files: exact round trips, deterministic bytes, refusal of foreign, future, truncated and
 * altered files, atomic writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BaselineOnly,
  KNNBasic,
  NormalPredictor,
  SVD,
  type AlgoBase,
} from '../../src/engine/algorithms';
import {
  MODEL_MAGIC,
  ModelFileError,
  loadModel,
  readModelFile,
  readModelHeader,
  saveModel,
  writeModelFile,
} from '../../src/engine/model-file';
import { trainsetOf } from './helpers';

const REF = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/surprise-ref/svd_ref.json'), 'utf8'),
) as { cases: { ratings: [string, string, number][] }[] };

const ts = trainsetOf(REF.cases[1].ratings);
/** Every known pair, plus unknown user / item / both. */
const probes: [string, string][] = [
  ...ts.buildTestset().map(([u, i]) => [u, i] as [string, string]),
  ['u1', 'm11'],
  ['nobody', 'm10'],
  ['u1', 'nothing'],
  ['nobody', 'nothing'],
];

const models: [string, () => AlgoBase][] = [
  ['SVD', () => new SVD({ nFactors: 6, nEpochs: 4, randomState: 1 })],
  ['SVD unbiased', () => new SVD({ nFactors: 3, nEpochs: 2, biased: false, randomState: 2 })],
  ['BaselineOnly als', () => new BaselineOnly()],
  ['BaselineOnly sgd', () => new BaselineOnly({ bslOptions: { method: 'sgd', nEpochs: 3 } })],
  ['NormalPredictor', () => new NormalPredictor({ randomState: 9 })],
];

describe.each(models)('%s round trip', (_name, make) => {
  it('loads back an algorithm predicting bit for bit the same', () => {
    const bytes = saveModel(make().fit(ts));
    const fresh = make().fit(ts);
    const loaded = loadModel(bytes);
    expect(loaded.constructor).toBe(fresh.constructor);
    expect(loaded.params).toEqual(fresh.params);
    for (const [u, i] of probes) {
      const a = fresh.predict(u, i, null, false);
      const b = loaded.predict(u, i, null, false);
      expect(Object.is(a.est, b.est)).toBe(true);
      expect(b.details).toEqual(a.details);
    }
  });

  it('restores the trainset: ids, arrays, global mean', () => {
    const loaded = loadModel(saveModel(make().fit(ts)));
    const t = loaded.trainset;
    expect(t.nUsers).toBe(ts.nUsers);
    expect(t.nItems).toBe(ts.nItems);
    expect(t.globalMean).toBe(ts.globalMean);
    expect(t.ratingScale).toEqual(ts.ratingScale);
    expect(t.buildTestset()).toEqual(ts.buildTestset());
    // the item rows: the saved ones (raw order), or for the algorithms that never read them
    // (ITEM_ROWS_NOT_NEEDED) rebuilt on first use from the user rows: the same users per item
    const rowsOf = (x: typeof ts) =>
      Array.from({ length: x.nItems }, (_, i) => Array.from(x.ir(i).users).sort((a, b) => a - b));
    expect(rowsOf(t)).toEqual(rowsOf(ts));
    expect(t.toRawUid(3)).toBe(ts.toRawUid(3));
  });

  it('is deterministic: save(load(save(m))) equals save(m), and two fits give the same bytes', () => {
    const bytes = saveModel(make().fit(ts));
    expect(saveModel(loadModel(bytes)).equals(bytes)).toBe(true);
    expect(saveModel(make().fit(ts)).equals(bytes)).toBe(true);
  });
});

describe('format', () => {
  const svd = new SVD({ nFactors: 4, nEpochs: 2, randomState: 3 }).fit(ts);
  const bytes = saveModel(svd, { fitSeconds: 0.5 });

  it('starts with the magic bytes, version 2 and the header length; arrays 8-byte aligned', () => {
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('RGMODEL\n');
    expect(MODEL_MAGIC.length).toBe(8);
    expect(bytes.readUInt32LE(8)).toBe(2);
    const h = bytes.readUInt32LE(12);
    expect((16 + h) % 8).toBe(0);
    const header = readModelHeader(bytes);
    expect(bytes.length).toBe(16 + h + header.dataBytes);
    for (const a of header.arrays) expect(a.byteOffset % 8).toBe(0);
  });

  it('describes itself: algorithm, params, trainset, stats, arrays', () => {
    const header = readModelHeader(bytes);
    expect(header.formatVersion).toBe(2);
    expect(header.algorithm).toBe('SVD');
    expect(header.params).toMatchObject({ nFactors: 4, nEpochs: 2, randomState: 3, lrBu: null });
    expect(header.trainset).toMatchObject({
      nUsers: ts.nUsers,
      nItems: ts.nItems,
      nRatings: ts.nRatings,
      globalMean: ts.globalMean,
      ratingScale: [1, 5],
    });
    expect(header.trainset.rawUserIds[0]).toBe(ts.toRawUid(0));
    expect(header.stats).toMatchObject({
      nRatings: ts.nRatings,
      minRating: 1,
      maxRating: 5,
      fitSeconds: 0.5,
    });
    const names = header.arrays.map((a) => `${a.name}:${a.dtype}:${a.length}`);
    expect(names).toEqual([
      `trainset.urOffsets:int32:${ts.nUsers + 1}`,
      `trainset.urItems:int32:${ts.nRatings}`,
      `trainset.urRatings:float32:${ts.nRatings}`,
      `algo.bi:float64:${ts.nItems}`,
      `algo.bu:float64:${ts.nUsers}`,
      `algo.pu:float64:${ts.nUsers * 4}`,
      `algo.qi:float64:${ts.nItems * 4}`,
    ]);
  });

  it('stores the arrays little-endian at their offsets', () => {
    const header = readModelHeader(bytes);
    const start = 16 + bytes.readUInt32LE(12);
    const pu = header.arrays.find((a) => a.name === 'algo.pu')!;
    expect(bytes.readDoubleLE(start + pu.byteOffset + 8 * 5)).toBe(svd.pu[5]);
    const off = header.arrays.find((a) => a.name === 'trainset.urOffsets')!;
    expect(bytes.readInt32LE(start + off.byteOffset + 4 * 2)).toBe(ts.urOffsets[2]);
  });
});

describe('format version 2: the serving layout', () => {
  const samePredictions = (a: AlgoBase, b: AlgoBase) => {
    for (const [u, i] of probes) {
      const x = a.predict(u, i, null, false);
      const y = b.predict(u, i, null, false);
      expect(Object.is(x.est, y.est)).toBe(true);
      expect(y.details).toEqual(x.details);
    }
  };

  it('answers bit for bit the same from a version 1 file, whose item rows keep their raw order', () => {
    const svd = new SVD({ nFactors: 5, nEpochs: 3, randomState: 4 }).fit(ts);
    const v1 = saveModel(svd, {}, { formatVersion: 1 });
    expect(v1.readUInt32LE(8)).toBe(1);
    expect(
      readModelHeader(v1)
        .arrays.map((a) => `${a.name}:${a.dtype}`)
        .slice(0, 5),
    ).toEqual([
      'trainset.urOffsets:int32',
      'trainset.urItems:int32',
      'trainset.urRatings:float64',
      'trainset.irUsers:int32',
      'trainset.irRatings:float64',
    ]);
    const fromV1 = loadModel(v1);
    samePredictions(svd, fromV1);
    expect(Array.from(fromV1.trainset.irUsers)).toEqual(Array.from(ts.irUsers));
    // and a version 1 model saved again is written in version 2, predicting the same
    samePredictions(svd, loadModel(saveModel(fromV1)));
    expect(saveModel(fromV1).equals(saveModel(svd))).toBe(true);
  });

  it('is smaller than version 1 by the item rows and half the ratings (20 bytes per rating)', () => {
    const svd = new SVD({ nFactors: 5, nEpochs: 3, randomState: 4 }).fit(ts);
    const h1 = readModelHeader(saveModel(svd, {}, { formatVersion: 1 }));
    const h2 = readModelHeader(saveModel(svd));
    // irUsers (4 B) + irRatings (8 B) + float64 → float32 ratings (4 B), each array 8-aligned
    const a8 = (n: number) => Math.ceil(n / 8) * 8;
    const n = ts.nRatings;
    expect(h1.dataBytes - h2.dataBytes).toBe(a8(4 * n) + a8(8 * n) + 8 * n - a8(4 * n));
  });

  it('keeps the item rows, in raw order, for an algorithm that reads them (KNN)', () => {
    const knn = new KNNBasic({ k: 3, minK: 1 }).fit(ts);
    const bytes = saveModel(knn);
    const names = readModelHeader(bytes).arrays.map((a) => a.name);
    expect(names).toContain('trainset.irUsers');
    expect(names).toContain('trainset.irRatings');
    const loaded = loadModel(bytes);
    expect(Array.from(loaded.trainset.irUsers)).toEqual(Array.from(ts.irUsers));
    samePredictions(knn, loaded);
  });

  it('stores the ratings as float64 when one is not exact in float32', () => {
    const odd = trainsetOf([
      ['a', 'x', 3.1],
      ['a', 'y', 4],
      ['b', 'x', 2],
      ['b', 'y', 5],
    ]);
    const svd = new SVD({ nFactors: 2, nEpochs: 2, randomState: 1 }).fit(odd);
    const bytes = saveModel(svd);
    const r = readModelHeader(bytes).arrays.find((a) => a.name === 'trainset.urRatings')!;
    expect(r.dtype).toBe('float64');
    const loaded = loadModel(bytes);
    expect(loaded.trainset.ur(0).ratings[0]).toBe(3.1);
    expect(loaded.trainset.globalMean).toBe(odd.globalMean);
  });

  it('restores float32 ratings exactly, and the trainset builds its item rows only when asked', () => {
    const loaded = loadModel(saveModel(new SVD({ nFactors: 2, nEpochs: 1 }).fit(ts)));
    const t = loaded.trainset;
    for (let u = 0; u < ts.nUsers; u++) {
      expect(Array.from(t.ur(u).ratings)).toEqual(Array.from(ts.ur(u).ratings));
    }
    expect(Array.from(t.urRatings)).toEqual(Array.from(ts.urRatings));
    for (let i = 0; i < ts.nItems; i++) {
      const { count, sum } = t.itemRatingSum(i);
      const own = Array.from(ts.ir(i).ratings);
      expect(count).toBe(own.length);
      expect(sum).toBeCloseTo(
        own.reduce((a, b) => a + b, 0),
        12,
      );
    }
  });

  it('loads the arrays as views of an 8-byte aligned buffer (no copy)', () => {
    const svd = new SVD({ nFactors: 5, nEpochs: 3, randomState: 4 }).fit(ts);
    const bytes = saveModel(svd);
    const aligned = Buffer.from(new ArrayBuffer(bytes.length)); // byteOffset 0
    bytes.copy(aligned);
    const loaded = loadModel(aligned) as SVD;
    expect(loaded.qi.buffer).toBe(aligned.buffer);
    expect(loaded.trainset.urItems.buffer).toBe(aligned.buffer);
    samePredictions(svd, loaded);
    // an unaligned buffer is copied instead, with the same answers
    const shifted = Buffer.alloc(bytes.length + 1).subarray(1);
    bytes.copy(shifted);
    const copied = loadModel(shifted) as SVD;
    expect(copied.qi.buffer).not.toBe(shifted.buffer);
    samePredictions(svd, copied);
  });
});

describe('refusals', () => {
  const bytes = saveModel(new BaselineOnly().fit(ts));

  it('refuses a file that is not a model file', () => {
    expect(() => loadModel(Buffer.from('user item rating\n1 2 3\n'))).toThrow(ModelFileError);
    expect(() => loadModel(Buffer.from('user item rating\n1 2 3\n'))).toThrow(/magic bytes/);
    expect(() => loadModel(Buffer.alloc(0))).toThrow(/magic bytes/);
  });

  it('refuses an unknown format version, naming it and the supported ones', () => {
    const future = Buffer.from(bytes);
    future.writeUInt32LE(7, 8);
    expect(() => loadModel(future)).toThrow(
      /unsupported model file format version 7; this build reads version 1/,
    );
    expect(() => readModelHeader(future)).toThrow(/version 7/);
  });

  it('refuses truncated files', () => {
    for (const cut of [12, 20, bytes.length - 1, bytes.length - 100]) {
      expect(() => loadModel(bytes.subarray(0, cut))).toThrow(ModelFileError);
    }
    expect(() => loadModel(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
  });

  it('refuses trailing bytes and altered arrays', () => {
    expect(() => loadModel(Buffer.concat([bytes, Buffer.alloc(8)]))).toThrow(/unexpected bytes/);
    const altered = Buffer.from(bytes);
    altered[altered.length - 3] ^= 0x40;
    expect(() => loadModel(altered)).toThrow(/SHA-256/);
  });

  it('refuses an unregistered algorithm by name', () => {
    const text = bytes
      .toString('latin1')
      .replace('"algorithm":"BaselineOnly"', '"algorithm":"BaselineOnlX"');
    expect(() => loadModel(Buffer.from(text, 'latin1'))).toThrow(
      /unknown algorithm 'BaselineOnlX'/,
    );
  });

  it('refuses saving an algorithm that is not fitted', () => {
    expect(() => saveModel(new SVD())).toThrow(/not fitted/);
  });
});

describe('model files on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-model-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes atomically (no temporary file left) and reads back', () => {
    const file = path.join(dir, 'model.rgm');
    const svd = new SVD({ nFactors: 3, nEpochs: 2, randomState: 4 }).fit(ts);
    writeModelFile(file, svd);
    expect(fs.readdirSync(dir)).toEqual(['model.rgm']);
    expect(fs.readFileSync(file).equals(saveModel(svd))).toBe(true);
    const loaded = readModelFile(file);
    expect(loaded.predict('u1', 'm10').est).toBe(svd.predict('u1', 'm10').est);
    // Overwrite an existing file.
    const bsl = new BaselineOnly().fit(ts);
    writeModelFile(file, bsl);
    expect(readModelFile(file)).toBeInstanceOf(BaselineOnly);
    expect(fs.readdirSync(dir)).toEqual(['model.rgm']);
  });

  it('names the file in read errors', () => {
    const file = path.join(dir, 'bad.rgm');
    fs.writeFileSync(file, 'nope');
    expect(() => readModelFile(file)).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a reelgraph model file`),
    );
  });

  it('leaves nothing behind when the directory does not exist', () => {
    const file = path.join(dir, 'missing', 'model.rgm');
    expect(() => writeModelFile(file, new BaselineOnly().fit(ts))).toThrow(/ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
