/**
 * NMF's pass over the ratings (Surprise 1.1.4, matrix_factorization.pyx, `NMF.sgd`) in
 * AssemblyScript, compiled to src/engine/kernels/wasm/nmf.wasm by scripts/build-kernels.js. The
 * caller (algorithms/nmf-kernel.ts) zeroes the item accumulators before each epoch's pass and
 * applies the item update after it.
 *
 * For each user u of uStart…uEnd−1 (addresses are byte offsets into the imported memory):
 *
 *   num = den = 0                                              (the user's, nF each)
 *   for (i, r) in ur[u]:
 *     dot = Σ_f q_if·p_uf (increasing f);  num_f += q_if·r;  itemNum_if += p_uf·r
 *     est = ((μ + b_u) + b_i) + dot;  err = r − est
 *     if biased: b_u += lrBu·(err − regBu·b_u);  b_i += lrBi·(err − regBi·b_i)
 *     den_f += q_if·est;  itemDen_if += p_uf·est
 *   p_uf *= num_f / (den_f + |I_u|·regPu·p_uf)
 *
 * f64, each operation as in Surprise and the TypeScript loop `nmfSgdJs` (the same bits; the
 * element-wise parts run two lanes at a time in f64x2, each lane rounding as the scalar operation;
 * the dot product is added lane by lane in increasing f).
 *
 * @param acc f64[nItems × 2 × nF]: item i's numerators at 2·i·nF, its denominators at 2·i·nF + nF
 * @param num, den f64[nF]: the user's scratch
 */
export function nmfPass(
  uStart: i32,
  uEnd: i32,
  offsets: usize,
  items: usize,
  ratings: usize,
  bu: usize,
  bi: usize,
  pu: usize,
  qi: usize,
  acc: usize,
  num: usize,
  den: usize,
  nF: i32,
  biased: bool,
  mu: f64,
  lrBu: f64,
  lrBi: f64,
  regBu: f64,
  regBi: f64,
  regPu: f64,
): void {
  const rowBytes = (<usize>nF) << 3;
  const pairBytes = rowBytes & ~(<usize>15);
  for (let u = uStart; u < uEnd; u++) {
    const pRow = pu + <usize>u * rowBytes;
    const buAt = bu + ((<usize>u) << 3);
    const start = load<i32>(offsets + ((<usize>u) << 2));
    const end = load<i32>(offsets + ((<usize>(u + 1)) << 2));
    memory.fill(num, 0, rowBytes);
    memory.fill(den, 0, rowBytes);
    for (let k = start; k < end; k++) {
      const i = load<i32>(items + ((<usize>k) << 2));
      const qRow = qi + <usize>i * rowBytes;
      const biAt = bi + ((<usize>i) << 3);
      const aNum = acc + <usize>i * (rowBytes << 1);
      const aDen = aNum + rowBytes;
      const r = load<f64>(ratings + ((<usize>k) << 3));
      const vR = f64x2.splat(r);
      let dot: f64 = 0;
      let f: usize = 0;
      for (; f < pairBytes; f += 16) {
        const q = v128.load(qRow + f);
        const p = v128.load(pRow + f);
        const m = f64x2.mul(q, p);
        dot += f64x2.extract_lane(m, 0);
        dot += f64x2.extract_lane(m, 1);
        v128.store(num + f, f64x2.add(v128.load(num + f), f64x2.mul(q, vR)));
        v128.store(aNum + f, f64x2.add(v128.load(aNum + f), f64x2.mul(p, vR)));
      }
      for (; f < rowBytes; f += 8) {
        const q = load<f64>(qRow + f);
        const p = load<f64>(pRow + f);
        dot += q * p;
        store<f64>(num + f, load<f64>(num + f) + q * r);
        store<f64>(aNum + f, load<f64>(aNum + f) + p * r);
      }
      const est = mu + load<f64>(buAt) + load<f64>(biAt) + dot;
      if (biased) {
        const err = r - est;
        const bU = load<f64>(buAt);
        store<f64>(buAt, bU + lrBu * (err - regBu * bU));
        const bI = load<f64>(biAt);
        store<f64>(biAt, bI + lrBi * (err - regBi * bI));
      }
      const vEst = f64x2.splat(est);
      f = 0;
      for (; f < pairBytes; f += 16) {
        v128.store(den + f, f64x2.add(v128.load(den + f), f64x2.mul(v128.load(qRow + f), vEst)));
        v128.store(aDen + f, f64x2.add(v128.load(aDen + f), f64x2.mul(v128.load(pRow + f), vEst)));
      }
      for (; f < rowBytes; f += 8) {
        store<f64>(den + f, load<f64>(den + f) + load<f64>(qRow + f) * est);
        store<f64>(aDen + f, load<f64>(aDen + f) + load<f64>(pRow + f) * est);
      }
    }
    // p_uf *= num_f / (den_f + |I_u|·regPu·p_uf)
    const c = <f64>(end - start) * regPu;
    for (let f: usize = 0; f < rowBytes; f += 8) {
      const p = load<f64>(pRow + f);
      store<f64>(pRow + f, p * (load<f64>(num + f) / (load<f64>(den + f) + c * p)));
    }
  }
}
