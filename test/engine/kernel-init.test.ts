/**
 * The initial factors drawn inside kernel memory (src/engine/kernels/init.ts, AssemblyScript
 * `fillNormalF32`): the values of `RandomState.fillNormal` rounded to f32, in the same order, with
 * the generator left where `fillNormal` leaves it; NumPy's first normal draws for seed 0 pin the
 * stream itself (test/fixtures/numpy-ref/random_ref.json); and SVD's 'simd' fit, which draws this
 * way, equals the fit that is handed the same draws made in TypeScript; and `RandomState.setState`
 * refuses a state of the wrong size.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RandomState } from '../../src/engine/random';
import { KernelMemory } from '../../src/engine/kernels/module';
import { NORMAL_STATE_BYTES, fillNormalRows } from '../../src/engine/kernels/init';
import { svdSgd } from '../../src/engine/algorithms/svd-kernel';
import { SVD } from '../../src/engine/algorithms';
import { randomTrainset, svdSgdInput } from '../helpers/svd-sgd-input';

const ref = JSON.parse(
  readFileSync(path.join(__dirname, '../fixtures/numpy-ref/random_ref.json'), 'utf8'),
) as { cases: { seed: number; normal: number[] }[] };

/** rows × stride f32 rows in a fresh kernel memory, filled by fillNormalRows from `rng`. */
function drawInKernel(
  rng: RandomState,
  shapes: number[],
  cols: number,
  stride: number,
  loc: number,
  scale: number,
): Float32Array[] {
  const mem = new KernelMemory(
    NORMAL_STATE_BYTES + shapes.reduce((s, rows) => s + KernelMemory.size(rows * stride, 4), 0),
  );
  const views = shapes.map((rows) => mem.place(Float32Array, rows * stride));
  // padding lanes must be left as they are: mark them
  views.forEach((v) => v.view.fill(-7));
  fillNormalRows(
    rng,
    mem,
    views.map((v, k) => ({ address: v.address, rows: shapes[k] })),
    cols,
    stride,
    loc,
    scale,
  );
  return views.map((v) => v.view.slice());
}

describe('initial factors drawn in kernel memory', () => {
  it("answers NumPy's normal draws (seed 0, rounded to f32)", () => {
    const c = ref.cases.find((x) => x.seed === 0)!;
    const [got] = drawInKernel(new RandomState(0), [1], 7, 8, 0, 0.1);
    c.normal.forEach((v, k) =>
      expect(Math.abs(got[k] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -24),
    );
    expect(got[7]).toBe(-7);
  });

  it.each([
    [0, 5, 3, 7, 8, 0, 0.1],
    [1, 4, 6, 10, 12, 0.5, 2],
    [12345, 300, 200, 100, 104, 0, 0.1],
  ])(
    'answers fillNormal rounded to f32 and leaves the generator where fillNormal does (seed %d, %d + %d rows of %d in %d lanes)',
    (seed, rowsP, rowsQ, cols, stride, loc, scale) => {
      const a = new RandomState(seed);
      const b = new RandomState(seed);
      // an odd number of normals before: the polar method's cached value must carry over
      a.normal();
      b.normal();
      const p = a.fillNormal(new Float64Array(rowsP * cols), loc, scale);
      const q = a.fillNormal(new Float64Array(rowsQ * cols), loc, scale);
      const [gp, gq] = drawInKernel(b, [rowsP, rowsQ], cols, stride, loc, scale);
      const expected = (m: Float64Array, rows: number) => {
        const out = new Float32Array(rows * stride).fill(-7);
        for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols, (r + 1) * cols), r * stride);
        return Array.from(out);
      };
      expect(Array.from(gp)).toEqual(expected(p, rowsP));
      expect(Array.from(gq)).toEqual(expected(q, rowsQ));
      expect([b.normal(), b.random(), b.nextUint32()]).toEqual([
        a.normal(),
        a.random(),
        a.nextUint32(),
      ]);
    },
  );

  it('refuses a generator state of the wrong size, naming it, and keeps its own', () => {
    const g = new RandomState(2);
    const next = new RandomState(2).random();
    const s = g.getState();
    expect(() => g.setState({ ...s, key: s.key.subarray(0, 600) })).toThrow(
      /624 key words and a position in \[0, 624\], got 600 words and 624/,
    );
    expect(() => g.setState({ ...s, pos: 625 })).toThrow(/got 624 words and 625/);
    expect(g.random()).toBe(next);
  });

  it("answers the same SVD 'simd' fit as one handed the same draws made in TypeScript", () => {
    const ts = randomTrainset(3, 60, 40, 900);
    const nF = 12;
    // svdSgdInput's factors are replaced: drawn by the kernel, or by fillNormal from seed 5
    const drawn = svdSgdInput(ts, nF, true, 0);
    svdSgd(drawn, 'simd', { draw: { rng: new RandomState(5), mean: 0, std: 0.1 } });
    const handed = svdSgdInput(ts, nF, true, 0);
    const g = new RandomState(5);
    g.fillNormal(handed.pu, 0, 0.1);
    g.fillNormal(handed.qi, 0, 0.1);
    svdSgd(handed, 'simd');
    expect(Array.from(drawn.pu)).toEqual(Array.from(handed.pu));
    expect(Array.from(drawn.qi)).toEqual(Array.from(handed.qi));
    expect(Array.from(drawn.bu)).toEqual(Array.from(handed.bu));
    expect(Array.from(drawn.bi)).toEqual(Array.from(handed.bi));
  });

  it("answers in SVD's 'simd' fit the factors of the kernel run on TypeScript draws", () => {
    const ts = randomTrainset(4, 60, 40, 900);
    const nF = 6;
    const algo = new SVD({ nFactors: nF, nEpochs: 3, kernel: 'simd', randomState: 9 }).fit(ts);
    const a = svdSgdInput(ts, nF, true, 9);
    Object.assign(a, { lrBu: 0.005, lrBi: 0.005, lrPu: 0.005, lrQi: 0.005 });
    Object.assign(a, { regBu: 0.02, regBi: 0.02, regPu: 0.02, regQi: 0.02 });
    // svdSgdInput drew p then q with N(0, 0.1) from seed 9: SVD's defaults
    svdSgd(a, 'simd');
    expect(Array.from(algo.pu)).toEqual(Array.from(a.pu));
    expect(Array.from(algo.qi)).toEqual(Array.from(a.qi));
  });
});
