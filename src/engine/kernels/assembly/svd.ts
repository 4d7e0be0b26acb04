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
 *   of eight lanes (two v128 per step) with zeros, which stay zero (0·keep + 0·step).
 *
 * Update of one rating (Surprise's; `sgdF32x4` regroups the factor update, see there):
 *   err = r − (μ + b_u + b_i + q_iᵀp_u)
 *   b_u += lrBu·(err − regBu·b_u);  b_i += lrBi·(err − regBi·b_i)      (when biased)
 *   p_uf += lrPu·(err·q_if − regPu·p_uf);  q_if += lrQi·(err·p_uf − regQi·q_if)  (old p_uf, q_if)
 */

/**
 * Runs SGD over users uStart…uEnd−1 (all their ratings, in the trainset's order), once, with
 * Surprise's operations in Surprise's order: the same bits as the TypeScript loop `svdSgdJs`.
 *
 * Scheduling (the bits do not change): the factor update is done two lanes at a time in f64x2
 * (each lane does the scalar operations, rounded the same way), and the update of rating k shares
 * one pass over the factors with the dot product of the user's next rating k+1: at factor f the
 * new p_uf and q_if are stored first, then q_{i'}f·p_uf is added to the next dot product (q_{i'} is
 * loaded after the store, so i' = i also sees the updated value). Every addend is the value a
 * separate pass would use, added in increasing f (Surprise's order); the additions' chain, which
 * bounds the loop, now overlaps the update's work.
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
  const pairBytes = rowBytes & ~(<usize>15); // the lanes done two at a time
  const vLrPu = f64x2.splat(lrPu);
  const vLrQi = f64x2.splat(lrQi);
  const vRegPu = f64x2.splat(regPu);
  const vRegQi = f64x2.splat(regQi);
  for (let u = uStart; u < uEnd; u++) {
    const pRow = pu + <usize>u * rowBytes;
    const buAt = bu + ((<usize>u) << 3);
    const start = load<i32>(offsets + ((<usize>u) << 2));
    const end = load<i32>(offsets + ((<usize>(u + 1)) << 2));
    if (start >= end) continue;
    // dot = Σ_f q_if·p_uf of the user's first rating, in increasing f
    let qRow = qi + <usize>load<i32>(items + ((<usize>start) << 2)) * rowBytes;
    let dot: f64 = 0;
    for (let f: usize = 0; f < rowBytes; f += 8) {
      dot += load<f64>(qRow + f) * load<f64>(pRow + f);
    }
    for (let k = start; k < end; k++) {
      const i = load<i32>(items + ((<usize>k) << 2));
      const biAt = bi + ((<usize>i) << 3);
      const err =
        load<f64>(ratings + ((<usize>k) << 3)) - (mu + load<f64>(buAt) + load<f64>(biAt) + dot);
      if (biased) {
        const bU = load<f64>(buAt);
        store<f64>(buAt, bU + lrBu * (err - regBu * bU));
        const bI = load<f64>(biAt);
        store<f64>(biAt, bI + lrBi * (err - regBi * bI));
      }
      // the next rating's item row (the last rating re-reads its own; that dot is not used)
      const next = k + 1 < end ? k + 1 : k;
      const qNext = qi + <usize>load<i32>(items + ((<usize>next) << 2)) * rowBytes;
      const vErr = f64x2.splat(err);
      let nextDot: f64 = 0;
      let f: usize = 0;
      for (; f < pairBytes; f += 16) {
        const p = v128.load(pRow + f);
        const q = v128.load(qRow + f);
        // p_uf + lrPu·(err·q_if − regPu·p_uf), q_if + lrQi·(err·p_uf − regQi·q_if)
        const p2 = f64x2.add(
          p,
          f64x2.mul(vLrPu, f64x2.sub(f64x2.mul(vErr, q), f64x2.mul(vRegPu, p))),
        );
        const q2 = f64x2.add(
          q,
          f64x2.mul(vLrQi, f64x2.sub(f64x2.mul(vErr, p), f64x2.mul(vRegQi, q))),
        );
        v128.store(pRow + f, p2);
        v128.store(qRow + f, q2);
        const m = f64x2.mul(v128.load(qNext + f), p2);
        nextDot += f64x2.extract_lane(m, 0);
        nextDot += f64x2.extract_lane(m, 1);
      }
      for (; f < rowBytes; f += 8) {
        const puf = load<f64>(pRow + f);
        const qif = load<f64>(qRow + f);
        const p1 = puf + lrPu * (err * qif - regPu * puf);
        store<f64>(pRow + f, p1);
        store<f64>(qRow + f, qif + lrQi * (err * puf - regQi * qif));
        nextDot += load<f64>(qNext + f) * p1;
      }
      dot = nextDot;
      qRow = qNext;
    }
  }
}

/**
 * Runs SGD once over the ratings kStart…kEnd−1 of a rating list, in f32 with four-lane SIMD.
 *
 * Per rating (u, i, r), with the rows of p and q padded to nF8 lanes (a multiple of 8):
 *   dot = Σ q_i·p_u in two four-lane accumulators (acc0 takes lanes 8j…8j+3, acc1 lanes
 *         8j+4…8j+7), then acc = acc0 + acc1 lane-wise, dot = (acc₀ + acc₁) + (acc₂ + acc₃)
 *   err = r − (((μ + b_u) + b_i) + dot)
 *   b_u += lrBu·(err − regBu·b_u);  b_i += lrBi·(err − regBi·b_i)        (when biased)
 *   p_u ← p_u·(1 − lrPu·regPu) + q_i·(lrPu·err);  q_i ← q_i·(1 − lrQi·regQi) + p_u·(lrQi·err)
 *         (old p_u and q_i on the right; algebraically Surprise's update, with fewer roundings)
 * every operation rounded to f32 (test/engine/svd-simd.test.ts re-computes it in TypeScript).
 *
 * Scheduling: the update of rating k and the dot product of rating k+1 are one pass over the
 * lanes: at lanes g…g+7, first the update of rating k is stored, then q_{i'}·p_{u'} of the next
 * rating is loaded and accumulated. Lanes g only depend on lanes g of the previous rating, so the
 * next dot sees exactly the values a separate pass would (also when u' = u or i' = i) and adds
 * them in the same order: the same bits, with the loads and the addition chain of the dot product
 * hidden under the update's work. When the next rating has the same user (about 95 % of them on
 * ml-100k: blocks keep a user's ratings together), the next dot product multiplies the new p_u
 * straight from the registers instead of re-loading the row just stored (the same values, so the
 * same bits; measured on u1.base: a third less time for the whole kernel, 70 → 47 ms of CPU,
 * more than the two loads per step saved would explain: re-loading 16 bytes just stored stalls).
 *
 * @param users i32[], items i32[]: inner ids of each rating; @param ratings f32[]
 * @param bu f32[nUsers], bi f32[nItems]; @param pu f32[nUsers×nF8], qi f32[nItems×nF8] (row-major,
 *   padding lanes zero: they stay zero)
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
  nF8: i32,
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
  if (kStart >= kEnd) return;
  const rowBytes = (<usize>nF8) << 2;
  const keepPu = f32x4.splat(<f32>1 - lrPu * regPu);
  const keepQi = f32x4.splat(<f32>1 - lrQi * regQi);
  // the dot product of the first rating, alone
  let pRow = pu + <usize>load<i32>(users + ((<usize>kStart) << 2)) * rowBytes;
  let qRow = qi + <usize>load<i32>(items + ((<usize>kStart) << 2)) * rowBytes;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  for (let g: usize = 0; g < rowBytes; g += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qRow + g), v128.load(pRow + g)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(qRow + g, 16), v128.load(pRow + g, 16)));
  }
  for (let k = kStart; k < kEnd; k++) {
    const u = load<i32>(users + ((<usize>k) << 2));
    const i = load<i32>(items + ((<usize>k) << 2));
    const buAt = bu + ((<usize>u) << 2);
    const biAt = bi + ((<usize>i) << 2);
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
    const stepPu = f32x4.splat(lrPu * err);
    const stepQi = f32x4.splat(lrQi * err);
    // the next rating's rows (the last rating re-reads its own rows; that dot is not used)
    const next = k + 1 < kEnd ? k + 1 : k;
    const pNext = pu + <usize>load<i32>(users + ((<usize>next) << 2)) * rowBytes;
    const qNext = qi + <usize>load<i32>(items + ((<usize>next) << 2)) * rowBytes;
    acc0 = f32x4.splat(0);
    acc1 = f32x4.splat(0);
    if (pNext == pRow) {
      // the same user next (most ratings: a block holds its users' ratings one user after the
      // other): the next dot product takes the new p_u from the registers, not from memory
      for (let g: usize = 0; g < rowBytes; g += 32) {
        const p0 = v128.load(pRow + g);
        const q0 = v128.load(qRow + g);
        const p1 = v128.load(pRow + g, 16);
        const q1 = v128.load(qRow + g, 16);
        const p0New = f32x4.add(f32x4.mul(p0, keepPu), f32x4.mul(q0, stepPu));
        const p1New = f32x4.add(f32x4.mul(p1, keepPu), f32x4.mul(q1, stepPu));
        v128.store(pRow + g, p0New);
        v128.store(qRow + g, f32x4.add(f32x4.mul(q0, keepQi), f32x4.mul(p0, stepQi)));
        v128.store(pRow + g, p1New, 16);
        v128.store(qRow + g, f32x4.add(f32x4.mul(q1, keepQi), f32x4.mul(p1, stepQi)), 16);
        acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qNext + g), p0New));
        acc1 = f32x4.add(acc1, f32x4.mul(v128.load(qNext + g, 16), p1New));
      }
    } else {
      for (let g: usize = 0; g < rowBytes; g += 32) {
        const p0 = v128.load(pRow + g);
        const q0 = v128.load(qRow + g);
        const p1 = v128.load(pRow + g, 16);
        const q1 = v128.load(qRow + g, 16);
        v128.store(pRow + g, f32x4.add(f32x4.mul(p0, keepPu), f32x4.mul(q0, stepPu)));
        v128.store(qRow + g, f32x4.add(f32x4.mul(q0, keepQi), f32x4.mul(p0, stepQi)));
        v128.store(pRow + g, f32x4.add(f32x4.mul(p1, keepPu), f32x4.mul(q1, stepPu)), 16);
        v128.store(qRow + g, f32x4.add(f32x4.mul(q1, keepQi), f32x4.mul(p1, stepQi)), 16);
        acc0 = f32x4.add(acc0, f32x4.mul(v128.load(qNext + g), v128.load(pNext + g)));
        acc1 = f32x4.add(acc1, f32x4.mul(v128.load(qNext + g, 16), v128.load(pNext + g, 16)));
      }
    }
    pRow = pNext;
    qRow = qNext;
  }
}
