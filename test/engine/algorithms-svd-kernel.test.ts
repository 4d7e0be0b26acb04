/**
 * The exact WebAssembly SGD loop of SVD (AssemblyScript `sgdExact`, kernel 'exact') gives
 * bit-identical results to the TypeScript reference loop (svdSgdJs), which itself is checked
 * against Surprise's formulas in algorithms.test.ts.
 */
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import { svdSgdJs, svdSgdWasm } from '../../src/engine/algorithms/svd-kernel';
import { randomTrainset, svdSgdInput } from '../helpers/svd-sgd-input';

const hex = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('SVD SGD kernel: the exact WebAssembly kernel equals the TypeScript loop bit for bit', () => {
  const ts = randomTrainset(1, 400, 250, 12000);

  it.each([
    [7, true],
    [7, false],
    [1, true],
    [0, true],
    [0, false],
    [2, true],
    [10, true],
  ] as const)('answers the same bits with nFactors %d, biased %s', (nF, biased) => {
    const a = svdSgdInput(ts, nF, biased, 5);
    const b = svdSgdInput(ts, nF, biased, 5);
    svdSgdJs(a);
    expect(svdSgdWasm(b)).toBe(true);
    expect(hex(b.pu)).toBe(hex(a.pu));
    expect(hex(b.qi)).toBe(hex(a.qi));
    expect(hex(b.bu)).toBe(hex(a.bu));
    expect(hex(b.bi)).toBe(hex(a.bi));
    // Training changed something (the comparison is not between two untouched copies).
    if (biased) expect(b.bu.some((x) => x !== 0)).toBe(true);
    if (nF > 0) expect(hex(b.pu)).not.toBe(hex(svdSgdInput(ts, nF, biased, 5).pu));
  });

  it('leaves the trainset arrays untouched', () => {
    const before = Buffer.from(ts.urRatings.buffer).toString('hex');
    svdSgdWasm(svdSgdInput(ts, 3, true, 1));
    expect(Buffer.from(ts.urRatings.buffer).toString('hex')).toBe(before);
  });
});

describe('SVD SGD kernel: a user who rated the same item twice in a row', () => {
  // The fused pass reads the next rating's item row after storing the current one's: when both
  // are the same item, the dot product must see the updated row, as the plain loop does.
  const raw = new RawRatings(
    ['a', 'a', 'a', 'b', 'b', 'a'],
    ['x', 'x', 'y', 'x', 'y', 'y'],
    Float64Array.of(5, 3, 1, 4, 2, 2),
  );
  const ts = Trainset.build(raw, [1, 5]);

  it('the trainset keeps both ratings (the case is real)', () => {
    expect(Array.from(ts.urItems.subarray(ts.urOffsets[0], ts.urOffsets[1]))).toEqual([0, 0, 1, 1]);
  });

  it('the exact kernel equals the TypeScript loop bit for bit', () => {
    for (const nF of [1, 2, 5, 8]) {
      const a = svdSgdInput(ts, nF, true, 3);
      const b = svdSgdInput(ts, nF, true, 3);
      svdSgdJs(a);
      expect(svdSgdWasm(b)).toBe(true);
      expect(hex(b.pu)).toBe(hex(a.pu));
      expect(hex(b.qi)).toBe(hex(a.qi));
      expect(hex(b.bi)).toBe(hex(a.bi));
    }
  });
});
