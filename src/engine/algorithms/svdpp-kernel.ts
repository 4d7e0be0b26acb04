/**
 * The reorganised SVD++ epoch (`svdppSgd` in svdpp.ts: implicit feedback kept current, the y_j
 * rows of a user's items updated once per user through an accumulated affine map) in
 * WebAssembly, compiled from the AssemblyScript source src/engine/kernels/assembly/svdpp.ts
 * (`svdppPass`; see docs/engine.md, "SGD kernels"). It performs the operations of `svdppSgd` in
 * the same order, so both give the same bits (test/engine/svdpp.test.ts), without bounds checks,
 * two factors at a time in f64x2 (each lane does the scalar operation), and with the factor
 * update of a rating done in the same pass as the dot product of the user's next rating.
 */
import { instantiateKernel } from '../kernels/module';
import { forEachUserChunk, layOutUserRows } from '../kernels/user-rows';
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
  const { bu, bi, pu, qi, yj } = a;
  const nF = a.nFactors;
  const m = layOutUserRows(a, { bu, bi, pu, qi, yj }, { impl: nF, C: nF });
  if (!m) return false;
  const { offsets, items, ratings, model, scratch } = m;
  const decay = 1 - a.lrYj * a.regYj; // the y_j decay of one update, as svdppSgd computes it
  const k = instantiateKernel<SvdppKernelExports>('svdpp', m.mem.memory);
  for (let epoch = 0; epoch < a.nEpochs; epoch++) {
    forEachUserChunk(a.urOffsets, a.nUsers, (u0, u1) =>
      k.svdppPass(
        u0,
        u1,
        offsets.address,
        items.address,
        ratings.address,
        model.bu.address,
        model.bi.address,
        model.pu.address,
        model.qi.address,
        model.yj.address,
        scratch.impl.address,
        scratch.C.address,
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
      ),
    );
  }
  m.copyBack();
  return true;
}
