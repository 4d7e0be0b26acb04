/**
 * The float32 first pass of factor-model top-N (src/engine/factor-top-n.ts) in AssemblyScript,
 * compiled to src/engine/kernels/wasm/topn.wasm by scripts/build-kernels.js.
 *
 * For every item i of 0…nItems−1 (addresses are byte offsets into the imported memory):
 *
 *   out_i = Σ_f q_if · p_f        (f32x4 lanes over the row, two accumulators, then the lanes)
 *
 * `q` is the item-factor matrix in float32, row-major with rows padded with zeros to nF4 (a
 * multiple of 4) factors, `p` the user vector padded the same way, `out` f32[nItems]. The sums
 * are float32 and in another order than the model's: the caller bounds the difference and
 * re-scores the survivors exactly in float64 (see factor-top-n.ts for the bound).
 */
export function scoreItems(q: usize, p: usize, nItems: i32, nF4: i32, out: usize): void {
  const rowBytes = (<usize>nF4) << 2;
  const pairEnd = rowBytes & ~(<usize>31);
  for (let i = 0; i < nItems; i++) {
    const row = q + <usize>i * rowBytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let f: usize = 0;
    for (; f < pairEnd; f += 32) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load(row + f), v128.load(p + f)));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(row + f + 16), v128.load(p + f + 16)));
    }
    if (f < rowBytes) a0 = f32x4.add(a0, f32x4.mul(v128.load(row + f), v128.load(p + f)));
    const a = f32x4.add(a0, a1);
    const s =
      f32x4.extract_lane(a, 0) +
      f32x4.extract_lane(a, 1) +
      (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
    store<f32>(out + ((<usize>i) << 2), s);
  }
}
