/**
 * The kernel memory of the by-user kernels (SVD's `sgdExact`, SVD++'s `svdppPass`, NMF's
 * `nmfPass`): the trainset's user rows (offsets i32, items i32, ratings f64), the model's f64
 * arrays copied in, and zeroed f64 scratch arrays, all in one fresh `KernelMemory`; then the
 * model's arrays copied back. Also the cutting of an epoch into calls of about `CHUNK_RATINGS`
 * ratings (short calls let V8's optimised tier take over within the first epoch; the order of the
 * updates is that of one long loop).
 */
import { CHUNK_RATINGS, KernelMemory, MAX_KERNEL_BYTES } from './module';

/** The trainset's user rows: `urOffsets` (length ≥ nUsers + 1), `urItems`, `urRatings`. */
export interface UserRows {
  nUsers: number;
  urOffsets: Int32Array;
  urItems: Int32Array;
  urRatings: Float64Array;
}

/** An array in kernel memory: its byte address (passed to the kernel) and a view on it. */
export interface Placed<T> {
  address: number;
  view: T;
}

/** The layout `layOutUserRows` made. */
export interface UserRowsMemory<M extends string, S extends string> {
  mem: KernelMemory;
  offsets: Placed<Int32Array>;
  items: Placed<Int32Array>;
  ratings: Placed<Float64Array>;
  /** The model's arrays, copied in. */
  model: Record<M, Placed<Float64Array>>;
  /** The scratch arrays, zeroed. */
  scratch: Record<S, Placed<Float64Array>>;
  /** Copies every model array back into the caller's array it was copied from. */
  copyBack(): void;
}

/**
 * Lays `rows` and the f64 arrays `model` (copied in) and `scratch` (lengths; zeroed) out in one
 * fresh kernel memory, in that order.
 * @returns null (and allocates nothing) when they would need more than 4 GiB; the caller then
 *   runs its TypeScript loop.
 */
export function layOutUserRows<M extends string, S extends string>(
  rows: UserRows,
  model: Record<M, Float64Array>,
  scratch: Record<S, number>,
): UserRowsMemory<M, S> | null {
  const { nUsers, urOffsets, urItems, urRatings } = rows;
  const n = urItems.length;
  const modelNames = Object.keys(model) as M[];
  const scratchNames = Object.keys(scratch) as S[];
  const bytes =
    KernelMemory.size(nUsers + 1, 4) +
    KernelMemory.size(n, 4) +
    KernelMemory.size(n, 8) +
    modelNames.reduce((s, k) => s + KernelMemory.size(model[k].length, 8), 0) +
    scratchNames.reduce((s, k) => s + KernelMemory.size(scratch[k], 8), 0);
  if (bytes > MAX_KERNEL_BYTES) return null;
  const mem = new KernelMemory(bytes);
  const offsets = mem.place(Int32Array, nUsers + 1, urOffsets.subarray(0, nUsers + 1));
  const items = mem.place(Int32Array, n, urItems);
  const ratings = mem.place(Float64Array, n, urRatings);
  const placedModel = {} as Record<M, Placed<Float64Array>>;
  for (const k of modelNames) placedModel[k] = mem.place(Float64Array, model[k].length, model[k]);
  const placedScratch = {} as Record<S, Placed<Float64Array>>;
  for (const k of scratchNames) placedScratch[k] = mem.place(Float64Array, scratch[k]);
  return {
    mem,
    offsets,
    items,
    ratings,
    model: placedModel,
    scratch: placedScratch,
    copyBack: () => {
      for (const k of modelNames) model[k].set(placedModel[k].view);
    },
  };
}

/**
 * Calls `run(u0, u1)` for consecutive ranges of users covering 0…nUsers−1 in order, each range
 * holding about `CHUNK_RATINGS` ratings (at least one user).
 */
export function forEachUserChunk(
  urOffsets: Int32Array,
  nUsers: number,
  run: (uStart: number, uEnd: number) => void,
): void {
  let u0 = 0;
  while (u0 < nUsers) {
    let u1 = u0 + 1;
    while (u1 < nUsers && urOffsets[u1 + 1] - urOffsets[u0] <= CHUNK_RATINGS) u1++;
    run(u0, u1);
    u0 = u1;
  }
}
