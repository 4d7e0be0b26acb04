import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import {
  resolveParams,
  parseParamAssignment,
  mergeParams,
  ParamError,
  type ParamSpecs,
} from '../../src/engine/params';
import { createAlgorithm } from '../../src/engine/algorithms';

// Raw order: users first seen b, a, c; items x, y, z.
const raw = new RawRatings(
  ['b', 'a', 'b', 'c', 'a'],
  ['x', 'x', 'y', 'z', 'z'],
  Float64Array.from([4, 2, 5, 3, 1]),
);

describe('Trainset (Surprise construct_trainset order)', () => {
  const ts = Trainset.build(raw, [1, 5]);

  test('inner ids follow first appearance', () => {
    expect([ts.toInnerUid('b'), ts.toInnerUid('a'), ts.toInnerUid('c')]).toEqual([0, 1, 2]);
    expect([ts.toInnerIid('x'), ts.toInnerIid('y'), ts.toInnerIid('z')]).toEqual([0, 1, 2]);
    expect(ts.toRawUid(2)).toBe('c');
    expect(ts.toRawIid(1)).toBe('y');
    expect([ts.nUsers, ts.nItems, ts.nRatings]).toEqual([3, 3, 5]);
  });

  test('global mean (4+2+5+3+1)/5 = 3', () => {
    expect(ts.globalMean).toBe(3);
  });

  test('ur and ir keep the raw order; allRatings goes user by user', () => {
    expect(Array.from(ts.ur(0).items)).toEqual([0, 1]); // b: x, y
    expect(Array.from(ts.ur(0).ratings)).toEqual([4, 5]);
    expect(Array.from(ts.ir(0).users)).toEqual([0, 1]); // x: b, a
    expect(Array.from(ts.ir(2).users)).toEqual([2, 1]); // z: c, a (raw order)
    expect([...ts.allRatings()]).toEqual([
      [0, 0, 4],
      [0, 1, 5],
      [1, 0, 2],
      [1, 2, 1],
      [2, 2, 3],
    ]);
    expect(ts.userDegree(1)).toBe(2);
    expect(ts.itemDegree(1)).toBe(1);
  });

  test('raw ids are strings: the user 196 written as a number is the same user', () => {
    const t = Trainset.build(new RawRatings(['196'], ['242'], Float64Array.from([3])), [1, 5]);
    expect(t.findUser(196 as unknown as string)).toBe(0);
    expect(t.findItem('999')).toBe(-1);
    expect(() => t.toInnerUid('7')).toThrow('User 7 is not part of the trainset.');
    expect(() => t.toRawIid(5)).toThrow(/not a valid inner id/);
  });

  test('knowsUser/knowsItem', () => {
    expect(ts.knowsUser(2)).toBe(true);
    expect(ts.knowsUser(3)).toBe(false);
    expect(ts.knowsUser(-1)).toBe(false);
    expect(ts.knowsItem(0)).toBe(true);
  });

  test('buildTestset and the anti-testset (unrated candidates)', () => {
    expect(ts.buildTestset()).toEqual([
      ['b', 'x', 4],
      ['b', 'y', 5],
      ['a', 'x', 2],
      ['a', 'z', 1],
      ['c', 'z', 3],
    ]);
    expect(Array.from(ts.unratedItems(2))).toEqual([0, 1]); // c rated only z
    expect(ts.buildAntiTestset()).toEqual([
      ['b', 'z', 3],
      ['a', 'y', 3],
      ['c', 'x', 3],
      ['c', 'y', 3],
    ]);
  });

  test('a subset by indices builds in the given order', () => {
    const t = Trainset.build(raw, [1, 5], [3, 0]);
    expect(t.toRawUid(0)).toBe('c');
    expect(t.nRatings).toBe(2);
    expect(t.globalMean).toBe(3.5);
  });

  test('state round trip gives the same arrays', () => {
    const t2 = Trainset.fromState(ts.state());
    expect(t2.globalMean).toBe(ts.globalMean);
    expect(Array.from(t2.irUsers)).toEqual(Array.from(ts.irUsers));
    expect(t2.buildTestset()).toEqual(ts.buildTestset());
  });

  test('refuses zero ratings and non-finite ratings', () => {
    expect(() => Trainset.build(raw, [1, 5], [])).toThrow(/zero ratings/);
    const bad = new RawRatings(['u'], ['i'], Float64Array.from([NaN]));
    expect(() => Trainset.build(bad, [1, 5])).toThrow(/user u, item i\) is NaN/);
  });
});

describe('parameter specs', () => {
  const specs: ParamSpecs = {
    nFactors: { type: 'int', default: 100, min: 1, doc: 'factors' },
    lrBu: { type: 'float', default: null, nullable: true, doc: 'lr' },
    biased: { type: 'bool', default: true, doc: 'biased' },
    bslOptions: {
      type: 'object',
      doc: 'baseline',
      fields: { method: { type: 'enum', values: ['als', 'sgd'], default: 'als', doc: 'method' } },
    },
  };

  test('defaults are filled in, nested too', () => {
    expect(resolveParams(specs, { nFactors: 5 }, 'SVD')).toEqual({
      nFactors: 5,
      lrBu: null,
      biased: true,
      bslOptions: { method: 'als' },
    });
  });

  test('unknown names, wrong types and ranges are refused with the name', () => {
    expect(() => resolveParams(specs, { nFactor: 5 }, 'SVD')).toThrow(
      "unknown parameter 'nFactor' for SVD; expected one of: nFactors, lrBu, biased, bslOptions",
    );
    expect(() => resolveParams(specs, { nFactors: 0 }, 'SVD')).toThrow(
      /'nFactors' of SVD must be ≥ 1/,
    );
    expect(() => resolveParams(specs, { nFactors: 2.5 }, 'SVD')).toThrow(/whole number/);
    expect(() => resolveParams(specs, { bslOptions: { method: 'x' } }, 'SVD')).toThrow(
      /'bslOptions.method' of SVD must be one of als, sgd/,
    );
  });

  test('an algorithm without parameters says so instead of listing nothing', () => {
    const none: ParamSpecs = {};
    expect(resolveParams(none, {}, 'SlopeOne')).toEqual({});
    expect(() => resolveParams(none, { k: 40 }, 'SlopeOne')).toThrow(
      new ParamError('k', "unknown parameter 'k' for SlopeOne; SlopeOne takes no parameters"),
    );
    expect(() => parseParamAssignment(none, 'k=40', 'SlopeOne')).toThrow(
      "unknown parameter 'k' for SlopeOne; SlopeOne takes no parameters",
    );
    expect(() => createAlgorithm('SlopeOne', { k: 40 })).toThrow(
      "unknown parameter 'k' for SlopeOne; SlopeOne takes no parameters",
    );
    // An object parameter without fields is named as such.
    const empty: ParamSpecs = { opts: { type: 'object', doc: 'no fields', fields: {} } };
    expect(() => resolveParams(empty, { opts: { x: 1 } }, 'Algo')).toThrow(
      "unknown parameter 'opts.x' for Algo; 'opts' of Algo takes no parameters",
    );
    expect(() => parseParamAssignment(empty, 'opts.x=1', 'Algo')).toThrow(
      "unknown parameter 'opts.x' for Algo; 'opts' of Algo takes no parameters",
    );
  });

  test('textual assignments are typed by the spec, dotted names reach nested fields', () => {
    expect(parseParamAssignment(specs, 'nFactors=50', 'SVD')).toEqual({ nFactors: 50 });
    expect(parseParamAssignment(specs, 'biased=false', 'SVD')).toEqual({ biased: false });
    expect(parseParamAssignment(specs, 'lrBu=null', 'SVD')).toEqual({ lrBu: null });
    expect(parseParamAssignment(specs, 'bslOptions.method=sgd', 'SVD')).toEqual({
      bslOptions: { method: 'sgd' },
    });
    expect(() => parseParamAssignment(specs, 'nFactors=abc', 'SVD')).toThrow(
      /must be a number, got 'abc'/,
    );
    expect(() => parseParamAssignment(specs, 'nFactors', 'SVD')).toThrow(/expected name=value/);
    expect(mergeParams({ bslOptions: { method: 'sgd' } }, { bslOptions: { nEpochs: 3 } })).toEqual({
      bslOptions: { method: 'sgd', nEpochs: 3 },
    });
  });
});
