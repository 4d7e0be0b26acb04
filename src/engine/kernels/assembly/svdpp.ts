/**
 * SVD++'s epoch in its reorganised form (`svdppSgd` in algorithms/svdpp.ts: the implicit feedback
 * kept current, the y_j rows of a user's items updated once per user through an accumulated
 * affine map) in AssemblyScript, compiled to src/engine/kernels/wasm/svdpp.wasm by
 * scripts/build-kernels.js. Same operations in the same order as `svdppSgd`, hence the same bits
 * (test/engine/svdpp.test.ts).
 *
 * Per user u (ratings start…end−1, n = end − start, s = √n), a = 1 − lrYj·regYj:
 *
 *   impl_f = Σ_k y_{items[k],f} / s  (k in order);  C_f = 0;  A = 1
 *   for k: i = items[k]
 *     dot = Σ_f q_if·(p_uf + impl_f)   (increasing f)
 *     err = r − (((μ + b_u) + b_i) + dot)
 *     b_u += lrBu·(err − regBu·b_u);  b_i += lrBi·(err − regBi·b_i)
 *     g = (lrYj·err)/s;  gImpl = (n·g)/s
 *     p_uf ← p_uf + lrPu·(err·q_if − regPu·p_uf);  q_if ← q_if + lrQi·(err·(p_uf + impl_f) − regQi·q_if)
 *     C_f ← a·C_f + g·q_if;  impl_f ← a·impl_f + gImpl·q_if      (old p_uf, q_if, impl_f)
 *     A ← A·a
 *   for k: y_{items[k],f} ← A·y_{items[k],f} + C_f
 *
 * Scheduling (same bits): element-wise work two lanes at a time in f64x2; the update of rating k
 * shares its pass with the dot product of the user's next rating (q_{i'} loaded after the stores),
 * as in svd.ts's `sgdExact`.
 *
 * @param yj f64[nItems×nF]; @param impl, C f64[nF] scratch; other arrays as `sgdExact`'s.
 */
export function svdppPass(
  uStart: i32,
  uEnd: i32,
  offsets: usize,
  items: usize,
  ratings: usize,
  bu: usize,
  bi: usize,
  pu: usize,
  qi: usize,
  yj: usize,
  impl: usize,
  C: usize,
  nF: i32,
  mu: f64,
  lrBu: f64,
  lrBi: f64,
  lrPu: f64,
  lrQi: f64,
  lrYj: f64,
  regBu: f64,
  regBi: f64,
  regPu: f64,
  regQi: f64,
  a: f64,
): void {
  const rowBytes = (<usize>nF) << 3;
  const pairBytes = rowBytes & ~(<usize>15);
  const vA = f64x2.splat(a);
  const vLrPu = f64x2.splat(lrPu);
  const vLrQi = f64x2.splat(lrQi);
  const vRegPu = f64x2.splat(regPu);
  const vRegQi = f64x2.splat(regQi);
  for (let u = uStart; u < uEnd; u++) {
    const start = load<i32>(offsets + ((<usize>u) << 2));
    const end = load<i32>(offsets + ((<usize>(u + 1)) << 2));
    const n = end - start;
    if (n === 0) continue;
    const s = Math.sqrt(<f64>n);
    const pRow = pu + <usize>u * rowBytes;
    const buAt = bu + ((<usize>u) << 3);
    // impl = Σ_j y_j / s over u's items, in order
    memory.fill(impl, 0, rowBytes);
    memory.fill(C, 0, rowBytes);
    const vS = f64x2.splat(s);
    for (let k = start; k < end; k++) {
      const yRow = yj + <usize>load<i32>(items + ((<usize>k) << 2)) * rowBytes;
      let f: usize = 0;
      for (; f < pairBytes; f += 16) {
        v128.store(impl + f, f64x2.add(v128.load(impl + f), f64x2.div(v128.load(yRow + f), vS)));
      }
      for (; f < rowBytes; f += 8)
        store<f64>(impl + f, load<f64>(impl + f) + load<f64>(yRow + f) / s);
    }
    let A: f64 = 1;
    // the first rating's dot product
    let qRow = qi + <usize>load<i32>(items + ((<usize>start) << 2)) * rowBytes;
    let dot: f64 = 0;
    for (let f: usize = 0; f < rowBytes; f += 8) {
      dot += load<f64>(qRow + f) * (load<f64>(pRow + f) + load<f64>(impl + f));
    }
    for (let k = start; k < end; k++) {
      const i = load<i32>(items + ((<usize>k) << 2));
      const biAt = bi + ((<usize>i) << 3);
      const err =
        load<f64>(ratings + ((<usize>k) << 3)) - (mu + load<f64>(buAt) + load<f64>(biAt) + dot);
      const bU = load<f64>(buAt);
      store<f64>(buAt, bU + lrBu * (err - regBu * bU));
      const bI = load<f64>(biAt);
      store<f64>(biAt, bI + lrBi * (err - regBi * bI));
      const g = (lrYj * err) / s;
      const gImpl = (<f64>n * g) / s;
      const next = k + 1 < end ? k + 1 : k;
      const qNext = qi + <usize>load<i32>(items + ((<usize>next) << 2)) * rowBytes;
      const vErr = f64x2.splat(err);
      const vG = f64x2.splat(g);
      const vGImpl = f64x2.splat(gImpl);
      let nextDot: f64 = 0;
      let f: usize = 0;
      for (; f < pairBytes; f += 16) {
        const p = v128.load(pRow + f);
        const q = v128.load(qRow + f);
        const im = v128.load(impl + f);
        const p2 = f64x2.add(
          p,
          f64x2.mul(vLrPu, f64x2.sub(f64x2.mul(vErr, q), f64x2.mul(vRegPu, p))),
        );
        const q2 = f64x2.add(
          q,
          f64x2.mul(vLrQi, f64x2.sub(f64x2.mul(vErr, f64x2.add(p, im)), f64x2.mul(vRegQi, q))),
        );
        const im2 = f64x2.add(f64x2.mul(vA, im), f64x2.mul(vGImpl, q));
        v128.store(pRow + f, p2);
        v128.store(qRow + f, q2);
        v128.store(C + f, f64x2.add(f64x2.mul(vA, v128.load(C + f)), f64x2.mul(vG, q)));
        v128.store(impl + f, im2);
        const m = f64x2.mul(v128.load(qNext + f), f64x2.add(p2, im2));
        nextDot += f64x2.extract_lane(m, 0);
        nextDot += f64x2.extract_lane(m, 1);
      }
      for (; f < rowBytes; f += 8) {
        const p = load<f64>(pRow + f);
        const q = load<f64>(qRow + f);
        const im = load<f64>(impl + f);
        const p2 = p + lrPu * (err * q - regPu * p);
        const im2 = a * im + gImpl * q;
        store<f64>(pRow + f, p2);
        store<f64>(qRow + f, q + lrQi * (err * (p + im) - regQi * q));
        store<f64>(C + f, a * load<f64>(C + f) + g * q);
        store<f64>(impl + f, im2);
        nextDot += load<f64>(qNext + f) * (p2 + im2);
      }
      dot = nextDot;
      qRow = qNext;
      A *= a;
    }
    // y_j = A·y_j + C for u's items
    const vAcc = f64x2.splat(A);
    for (let k = start; k < end; k++) {
      const yRow = yj + <usize>load<i32>(items + ((<usize>k) << 2)) * rowBytes;
      let f: usize = 0;
      for (; f < pairBytes; f += 16) {
        v128.store(yRow + f, f64x2.add(f64x2.mul(vAcc, v128.load(yRow + f)), v128.load(C + f)));
      }
      for (; f < rowBytes; f += 8) store<f64>(yRow + f, A * load<f64>(yRow + f) + load<f64>(C + f));
    }
  }
}
