/**
 * SVD's stochastic gradient descent (Surprise 1.1.4, matrix_factorization.pyx, `SVD.sgd`) in
 * AssemblyScript, compiled to src/engine/kernels/wasm/svd.wasm by scripts/build-kernels.js (run by
 * `npm run build`, by jest's global setup and by scripts/ts-register.js; see docs/engine.md).
 *
 * Two kernels over one linear memory that the caller fills (addresses are byte offsets into it;
 * the memory is imported and shared, so several threads can run `sgdF32x4` on it at once):
 *
 * - `sgdExact`: f64, Surprise's order, operation for operation: the same bits as the TypeScript
 *   reference `svdSgdJs` (WebAssembly f64 arithmetic is IEEE 754 binary64, round to nearest,
 *   never fused, and Binaryen does not reorder float operations).
 * - `sgdF32x4`: f32 in four-lane v128 SIMD over a list of ratings (u, i, r) in any order the
 *   caller chooses (svd-simd.ts passes them in DSGD blocks); factor rows are padded to a multiple
 *   of four lanes with zeros, which stay zero (their gradient is 0·err − reg·0).
 *
 * Update of one rating (both kernels):
 *   err = r − (μ + b_u + b_i + q_iᵀp_u)
 *   b_u += lrBu·(err − regBu·b_u);  b_i += lrBi·(err − regBi·b_i)      (when biased)
 *   p_uf += lrPu·(err·q_if − regPu·p_uf);  q_if += lrQi·(err·p_uf − regQi·q_if)  (old p_uf, q_if)
 */

/**
 * Runs SGD over users uStart…uEnd−1 (all their ratings, in the trainset's order), once.
 *
 * @param offsets i32[nUsers+1]: the trainset's urOffsets
 * @param items i32[nRatings]: urItems; @param ratings f64[nRatings]: urRatings
 * @param bu f64[nUsers], bi f64[nItems]; @param pu f64[nUsers×nF], qi f64[nItems×nF] (row-major)
 */
export function sgdExact(
  uStart: i32,
  uEnd: i32,
  offsets: usize,
  items: usize,
  ratings: usize,
  bu: usize,
  bi: usize,
  pu: usize,
  qi: usize,
  nF: i32,
  biased: bool,
  mu: f64,
  lrBu: f64,
  lrBi: f64,
  lrPu: f64,
  lrQi: f64,
  regBu: f64,
  regBi: f64,
  regPu: f64,
  regQi: f64,
): void {
  const rowBytes = (<usize>nF) << 3;
  for (let u = uStart; u < uEnd; u++) {
    const pRow = pu + <usize>u * rowBytes;
    const buAt = bu + ((<usize>u) << 3);
    const end = load<i32>(offsets + ((<usize>(u + 1)) << 2));
    for (let k = load<i32>(offsets + ((<usize>u) << 2)); k < end; k++) {
      const i = load<i32>(items + ((<usize>k) << 2));
      const qRow = qi + <usize>i * rowBytes;
      const biAt = bi + ((<usize>i) << 3);
      // dot = Σ_f q_if·p_uf, added in increasing f (Surprise's order; kept for the bits)
      let dot: f64 = 0;
      for (let f: usize = 0; f < rowBytes; f += 8) {
        dot += load<f64>(qRow + f) * load<f64>(pRow + f);
      }
      const err =
        load<f64>(ratings + ((<usize>k) << 3)) - (mu + load<f64>(buAt) + load<f64>(biAt) + dot);
      if (biased) {
        const bU = load<f64>(buAt);
        store<f64>(buAt, bU + lrBu * (err - regBu * bU));
        const bI = load<f64>(biAt);
        store<f64>(biAt, bI + lrBi * (err - regBi * bI));
      }
      for (let f: usize = 0; f < rowBytes; f += 8) {
        const puf = load<f64>(pRow + f);
        const qif = load<f64>(qRow + f);
        store<f64>(pRow + f, puf + lrPu * (err * qif - regPu * puf));
        store<f64>(qRow + f, qif + lrQi * (err * puf - regQi * qif));
      }
    }
  }
}

/**
 * Runs SGD once over the ratings kStart…kEnd−1 of a rating list, in f32 with four-lane SIMD.
 *
 * @param users i32[], items i32[]: inner ids of each rating; @param ratings f32[]
 * @param bu f32[nUsers], bi f32[nItems]; @param pu f32[nUsers×nF4], qi f32[nItems×nF4] (row-major,
 *   nF4 a multiple of 4, padding lanes zero)
 */
export function sgdF32x4(
  kStart: i32,
  kEnd: i32,
  users: usize,
  items: usize,
  ratings: usize,
  bu: usize,
  bi: usize,
  pu: usize,
  qi: usize,
  nF4: i32,
  biased: bool,
  mu: f32,
  lrBu: f32,
  lrBi: f32,
  lrPu: f32,
  lrQi: f32,
  regBu: f32,
  regBi: f32,
  regPu: f32,
  regQi: f32,
): void {
  const rowBytes = (<usize>nF4) << 2;
  const vLrPu = f32x4.splat(lrPu);
  const vLrQi = f32x4.splat(lrQi);
  const vRegPu = f32x4.splat(regPu);
  const vRegQi = f32x4.splat(regQi);
  for (let k = kStart; k < kEnd; k++) {
    const u = load<i32>(users + ((<usize>k) << 2));
    const i = load<i32>(items + ((<usize>k) << 2));
    const pRow = pu + <usize>u * rowBytes;
    const qRow = qi + <usize>i * rowBytes;
    const buAt = bu + ((<usize>u) << 2);
    const biAt = bi + ((<usize>i) << 2);
    // dot product in two four-lane accumulators (two independent addition chains), then summed
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    let f: usize = 0;
    for (; f + 32 <= rowBytes; f += 32) {
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qRow + f), v128.load(pRow + f)));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(qRow + f, 16), v128.load(pRow + f, 16)));
    }
    if (f < rowBytes) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qRow + f), v128.load(pRow + f)));
    const acc = f32x4.add(acc0, acc1);
    const dot =
      f32x4.extract_lane(acc, 0) +
      f32x4.extract_lane(acc, 1) +
      (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    const err =
      load<f32>(ratings + ((<usize>k) << 2)) - (mu + load<f32>(buAt) + load<f32>(biAt) + dot);
    if (biased) {
      const bU = load<f32>(buAt);
      store<f32>(buAt, bU + lrBu * (err - regBu * bU));
      const bI = load<f32>(biAt);
      store<f32>(biAt, bI + lrBi * (err - regBi * bI));
    }
    const vErr = f32x4.splat(err);
    for (let g: usize = 0; g < rowBytes; g += 16) {
      const p = v128.load(pRow + g);
      const q = v128.load(qRow + g);
      v128.store(
        pRow + g,
        f32x4.add(p, f32x4.mul(vLrPu, f32x4.sub(f32x4.mul(vErr, q), f32x4.mul(vRegPu, p)))),
      );
      v128.store(
        qRow + g,
        f32x4.add(q, f32x4.mul(vLrQi, f32x4.sub(f32x4.mul(vErr, p), f32x4.mul(vRegQi, q)))),
      );
    }
  }
}
