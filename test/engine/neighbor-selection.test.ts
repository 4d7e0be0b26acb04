/**
 * The stable top-k of src/engine/neighbor-selection.ts against its definition — the first k of a
 * stable descending sort of the candidates (Array.prototype.sort is stable) — on seeded random
 * similarities with many ties, every k from 1 to past the number of candidates; and kthLargest
 * against the sorted array.
 */
import { StableTopK, kthLargest } from '../../src/engine/neighbor-selection';
import { RandomState } from '../../src/engine/random';

const SEED = 17;
console.log(`neighbor-selection: RandomState seed ${SEED}`);

/** The definition: positions start…end−1 stably sorted by descending sim, the first k. */
function reference(sim: Float64Array, xs: Int32Array, start: number, end: number, k: number) {
  const pos = Array.from({ length: end - start }, (_, q) => start + q);
  pos.sort((a, b) => sim[xs[b]] - sim[xs[a]]);
  return pos.slice(0, k);
}

describe('StableTopK', () => {
  it('selects the first k of a stable descending sort, ties in candidate order', () => {
    const rng = new RandomState(SEED);
    const nX = 300;
    let checked = 0;
    for (let trial = 0; trial < 200; trial++) {
      // few distinct values (many ties) in half the trials, continuous ones in the others
      const levels = trial % 2 === 0 ? 1 + rng.randint(0, 6) : 0;
      const sim = Float64Array.from({ length: nX }, () =>
        levels ? rng.randint(-levels, levels + 1) / levels : rng.normal(0, 1),
      );
      const n = rng.randint(0, 120);
      const xs = Int32Array.from({ length: n + 10 }, () => rng.randint(0, nX));
      const start = 5;
      const end = start + n;
      const top = new StableTopK(n);
      for (const k of [1, 2, 5, 40, n, n + 3].filter((v) => v >= 1)) {
        const outPos = new Int32Array(k);
        const outSim = new Float64Array(k);
        const cnt = top.select(sim, 0, xs, start, end, k, outPos, outSim);
        const want = reference(sim, xs, start, end, k);
        expect(Array.from(outPos.subarray(0, cnt))).toEqual(want);
        expect(Array.from(outSim.subarray(0, cnt))).toEqual(want.map((p) => sim[xs[p]]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(900);
  });

  it('reads each candidate at row + xs[p], and takes the insertion order when a similarity is NaN', () => {
    // row 1 of a 2 × 4 matrix: sims 0.5, NaN, 0.9, 0.5 for x = 0…3
    const sim = Float64Array.of(9, 9, 9, 9, 0.5, NaN, 0.9, 0.5);
    const xs = Int32Array.of(3, 1, 0, 2);
    const outPos = new Int32Array(3);
    const outSim = new Float64Array(3);
    const top = new StableTopK(4);
    const cnt = top.select(sim, 4, xs, 0, 4, 3, outPos, outSim);
    // insertion: 0.5 (p0); NaN (p1) appended; 0.5 (p2) appended; 0.9 (p3) replaces the last
    // (p2) and stops behind NaN (NaN < 0.9 is false)
    expect(cnt).toBe(3);
    expect(Array.from(outPos)).toEqual([0, 1, 3]);
    expect(Array.from(outSim)).toEqual([0.5, NaN, 0.9]);
  });
});

describe('kthLargest', () => {
  it('answers the k-th largest of the sorted values, for every k', () => {
    const rng = new RandomState(SEED + 1);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.randint(0, 60);
      const values = Array.from({ length: n }, () => rng.randint(0, 8) / 4);
      const sorted = [...values].sort((a, b) => b - a);
      for (let k = 1; k <= n; k++) {
        expect(kthLargest(Float64Array.from(values), n, k)).toBe(sorted[k - 1]);
      }
    }
  });
});
