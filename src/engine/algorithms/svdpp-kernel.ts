/**
 * The reorganised SVD++ epoch (`svdppSgd` in svdpp.ts: implicit feedback kept current, the y_j
 * rows of a user's items updated once per user through an accumulated affine map) in
 * WebAssembly, compiled from the AssemblyScript source src/engine/kernels/assembly/svdpp.ts
 * (`svdppPass`; see docs/engine.md, "SGD kernels"). It performs the operations of `svdppSgd` in
 * the same order, so both give the same bits (test/engine/svdpp.test.ts), without bounds checks,
 * two factors at a time in f64x2 (each lane does the scalar operation), and with the factor
 * update of a rating done in the same pass as the dot product of the user's next rating.
 */
import {
  CHUNK_RATINGS,
  KernelMemory,
  MAX_KERNEL_BYTES,
  instantiateKernel,
} from '../kernels/module';
import type { SvdppSgdInput } from './svdpp';

/** The export of the AssemblyScript SVD++ module. */
interface SvdppKernelExports {
  svdppPass(
    uStart: number,
    uEnd: number,
    offsets: number,
    items: number,
    ratings: number,
    bu: number,
    bi: number,
    pu: number,
    qi: number,
    yj: number,
    impl: number,
    C: number,
    nF: number,
    mu: number,
    lrBu: number,
    lrBi: number,
    lrPu: number,
    lrQi: number,
    lrYj: number,
    regBu: number,
    regBi: number,
    regPu: number,
    regQi: number,
    a: number,
  ): void;
}

/**
 * Runs `svdppSgd`'s loop in WebAssembly: copies the arrays into a fresh kernel memory, runs each
 * epoch over the users in calls of about `CHUNK_RATINGS` ratings, copies the biases and factors
 * (pu, qi, yj) back. Requires, like `svdppSgd`, that no user rated the same item twice.
 * @returns false (and changes nothing) when the data would need more than 4 GiB; the caller then
 *   runs the TypeScript loop.
 */
export function svdppSgdWasm(a: SvdppSgdInput): boolean {
  const { nUsers, nFactors: nF, urOffsets, urItems, urRatings, bu, bi, pu, qi, yj } = a;
  const n = urItems.length;
  const bytes =
    KernelMemory.size(nUsers + 1, 4) +
    KernelMemory.size(n, 4) +
    KernelMemory.size(n, 8) +
    KernelMemory.size(bu.length, 8) +
    KernelMemory.size(bi.length, 8) +
    KernelMemory.size(pu.length, 8) +
    KernelMemory.size(qi.length, 8) +
    KernelMemory.size(yj.length, 8) +
    2 * KernelMemory.size(nF, 8);
  if (bytes > MAX_KERNEL_BYTES) return false;
  const mem = new KernelMemory(bytes);
  const offsets = mem.place(Int32Array, nUsers + 1, urOffsets.subarray(0, nUsers + 1));
  const items = mem.place(Int32Array, n, urItems);
  const ratings = mem.place(Float64Array, n, urRatings);
  const m = {
    bu: mem.place(Float64Array, bu.length, bu),
    bi: mem.place(Float64Array, bi.length, bi),
    pu: mem.place(Float64Array, pu.length, pu),
    qi: mem.place(Float64Array, qi.length, qi),
    yj: mem.place(Float64Array, yj.length, yj),
  };
  const impl = mem.place(Float64Array, nF);
  const C = mem.place(Float64Array, nF);
  const decay = 1 - a.lrYj * a.regYj; // the y_j decay of one update, as svdppSgd computes it
  const k = instantiateKernel<SvdppKernelExports>('svdpp', mem.memory);
  for (let epoch = 0; epoch < a.nEpochs; epoch++) {
    let u0 = 0;
    while (u0 < nUsers) {
      let u1 = u0 + 1;
      while (u1 < nUsers && urOffsets[u1 + 1] - urOffsets[u0] <= CHUNK_RATINGS) u1++;
      k.svdppPass(
        u0,
        u1,
        offsets.address,
        items.address,
        ratings.address,
        m.bu.address,
        m.bi.address,
        m.pu.address,
        m.qi.address,
        m.yj.address,
        impl.address,
        C.address,
        nF,
        a.mu,
        a.lrBu,
        a.lrBi,
        a.lrPu,
        a.lrQi,
        a.lrYj,
        a.regBu,
        a.regBi,
        a.regPu,
        a.regQi,
        decay,
      );
      u0 = u1;
    }
  }
  bu.set(m.bu.view);
  bi.set(m.bi.view);
  pu.set(m.pu.view);
  qi.set(m.qi.view);
  yj.set(m.yj.view);
  return true;
}
