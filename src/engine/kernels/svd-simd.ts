/**
 * SVD's SGD in f32 with four-lane SIMD (`sgdF32x4` of src/engine/kernels/assembly/svd.ts) over a
 * deterministic block schedule, on one or several threads.
 *
 * The schedule is DSGD's "stratified" SGD (R. Gemulla, E. Nijkamp, P. J. Haas, Y. Sismanis,
 * "Large-scale matrix factorization with distributed stochastic gradient descent", KDD 2011) as
 * FPSGD uses it on shared memory (W.-S. Chin, Y. Zhuang, Y.-C. Juan, C.-J. Lin, "A fast parallel
 * stochastic gradient method for matrix factorization in shared memory systems", ACM TIST 2015):
 * users are split into B contiguous blocks and items into B contiguous blocks, each holding about
 * nRatings / B ratings, which cuts the ratings into a B × B grid. An epoch is B sub-epochs; in
 * sub-epoch s the B blocks (b, (b + s) mod B), b = 0…B−1, are processed. Those B blocks share no
 * user and no item, so they touch disjoint rows of p, q, b_u and b_i: processing them in any
 * order, or at the same time on T threads (thread t takes b = t, t + T, …; T divides B), gives the
 * same bits. Within a block the ratings keep the trainset's order (by user, then as stored).
 * Threads meet at a barrier after each sub-epoch.
 *
 * So the result depends on B (and on the data, the initial factors and the rates), never on the
 * thread count or on timing. It is not Surprise's order, and f32 rounds differently from f64: the
 * factors differ from kernel 'exact', the RMSE on ml-100k u1 stays within ±0.002 of it
 * (test/engine/svd-simd.test.ts).
 *
 * Threads are node worker_threads kept for the life of the process (unref'd: they never keep it
 * alive) that instantiate the same module on the same shared WebAssembly memory; the calling
 * thread takes share t = 0 and waits at the barriers with `Atomics.wait`, so `svdSgdSimd` stays
 * synchronous.
 */
import { Worker } from 'node:worker_threads';
import type { NormalDraw, SvdKernelExports, SvdSgdInput } from '../algorithms/svd-kernel';
import { NORMAL_STATE_BYTES, fillNormalRows } from './init';
import { CHUNK_RATINGS, KernelMemory, instantiateKernel, kernelModule } from './module';

/** The ratings of a trainset reordered into the B × B block grid. */
export interface BlockGrid {
  /** B: the grid is B × B. */
  blocks: number;
  /** Inner user id, inner item id and rating of each rating, block after block (row-major). */
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  /** Block (ub, ib) holds positions blockStart[ub·B + ib] … blockStart[ub·B + ib + 1] − 1. */
  blockStart: Int32Array;
}

/**
 * Cuts `counts` (ratings per row, in row order) into `B` contiguous ranges of about equal rating
 * counts; returns the block of each row (0…B−1). O(rows).
 */
export function balancedBlocks(counts: ArrayLike<number>, total: number, B: number): Int32Array {
  const out = new Int32Array(counts.length);
  let before = 0;
  for (let r = 0; r < counts.length; r++) {
    out[r] = total === 0 ? 0 : Math.min(B - 1, Math.floor((before * B) / total));
    before += counts[r];
  }
  return out;
}

/** Where `blockGrid` writes the ratings: three arrays of nRatings elements. */
export type GridArrays = Pick<BlockGrid, 'users' | 'items' | 'ratings'>;

/**
 * The block grid of the trainset arrays in `a` (a counting sort by block, stable: the trainset's
 * order inside a block). O(nRatings + nUsers + nItems) time; 12 bytes per rating, in `into` when
 * given (e.g. views on a kernel's memory: no second copy), else in new arrays.
 * @throws RangeError when an array of `into` does not have nRatings elements.
 */
export function blockGrid(a: SvdSgdInput, B: number, into?: GridArrays): BlockGrid {
  const { nUsers, urOffsets, urItems, urRatings } = a;
  const n = urOffsets[nUsers];
  const nItems = a.bi.length;
  const userCounts = new Int32Array(nUsers);
  for (let u = 0; u < nUsers; u++) userCounts[u] = urOffsets[u + 1] - urOffsets[u];
  const itemCounts = new Int32Array(nItems);
  for (let k = 0; k < n; k++) itemCounts[urItems[k]]++;
  const ub = balancedBlocks(userCounts, n, B);
  const ib = balancedBlocks(itemCounts, n, B);
  const blockStart = new Int32Array(B * B + 1);
  for (let u = 0; u < nUsers; u++) {
    for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++)
      blockStart[ub[u] * B + ib[urItems[k]] + 1]++;
  }
  for (let b = 0; b < B * B; b++) blockStart[b + 1] += blockStart[b];
  const next = blockStart.slice(0, B * B);
  const { users, items, ratings } = into ?? {
    users: new Int32Array(n),
    items: new Int32Array(n),
    ratings: new Float32Array(n),
  };
  if (users.length !== n || items.length !== n || ratings.length !== n) {
    throw new RangeError(
      `blockGrid needs arrays of ${n} ratings, got ${users.length}, ${items.length}, ${ratings.length}`,
    );
  }
  for (let u = 0; u < nUsers; u++) {
    for (let k = urOffsets[u]; k < urOffsets[u + 1]; k++) {
      const at = next[ub[u] * B + ib[urItems[k]]]++;
      users[at] = u;
      items[at] = urItems[k];
      ratings[at] = urRatings[k];
    }
  }
  return { blocks: B, users, items, ratings, blockStart };
}

/** B of SVD's 'simd' kernel: a 4 × 4 grid, so 1, 2 and 4 threads give the same bits. */
export const SIMD_BLOCKS = 4;

/**
 * Rating-lane updates (ratings × factor lanes) a thread must have per sub-epoch for more threads
 * to pay: below, a sub-epoch's share takes less than about 0.1 ms, the order of a barrier's cost on
 * a busy machine. u1.base at 100 factors (104 lanes) has 80 000 / 4 × 104 / 2 = 1 040 000 per
 * sub-epoch and thread with 2 threads: two pay.
 */
export const MIN_LANES_PER_THREAD = 1 << 18;

/**
 * The threads SVD's 'simd' kernel runs on for `requested` threads and this data: fewer (down to
 * one) when each would get less than `MIN_LANES_PER_THREAD` per sub-epoch. The result is the same
 * bits for every thread count, so this choice changes only the time.
 *
 * @param requested the `threads` parameter (a divisor of `blocks`)
 * @param nRatings ratings of the trainset; @param nFactors factors (rows padded to 8 lanes)
 * @returns a divisor of `blocks`, 1 ≤ result ≤ requested
 */
export function simdThreads(
  requested: number,
  nRatings: number,
  nFactors: number,
  blocks = SIMD_BLOCKS,
): number {
  const lanes = (nRatings / blocks) * Math.max(8, Math.ceil(nFactors / 8) * 8);
  let t = requested;
  while (t > 1 && lanes / t < MIN_LANES_PER_THREAD) {
    t--;
    while (blocks % t !== 0) t--;
  }
  return t;
}

/** Slots of the control array (Int32, in the shared memory). */
const CTL = { arrived: 0, generation: 1, failed: 2, length: 4 } as const;

/**
 * Thread t's share of the schedule: every epoch, every sub-epoch s, the blocks (b, (b + s) mod B)
 * for b = t, t + T, …, in calls of about `chunk` ratings, then the barrier.
 *
 * Self-contained on purpose (no reference outside its body): worker threads run its source text.
 *
 * @returns milliseconds this thread waited at the first barrier (the other threads starting)
 *   and at all the later ones
 * @param args [kStart/kEnd are computed here] users, items, ratings, bu, bi, pu, qi addresses, nF8,
 *   biased, then the ten f32 values mu, lrBu, lrBi, lrPu, lrQi, regBu, regBi, regPu, regQi
 */
export function runShare(
  sgd: (...args: number[]) => void,
  ctl: Int32Array,
  blockStart: Int32Array,
  args: number[],
  nEpochs: number,
  t: number,
  T: number,
  chunk: number,
): number[] {
  const B = blockStart.length - 1 === 0 ? 0 : Math.round(Math.sqrt(blockStart.length - 1));
  // milliseconds waited at the first barrier (the other threads starting) and at the others
  const waited = [0, 0];
  const barrier = () => {
    if (T === 1) return;
    const t0 = performance.now();
    const gen = Atomics.load(ctl, 1);
    if (Atomics.add(ctl, 0, 1) === T - 1) {
      Atomics.store(ctl, 0, 0);
      Atomics.add(ctl, 1, 1);
      Atomics.notify(ctl, 1);
    } else {
      // spin a little first (1 500 loads, about 10 µs measured): the other threads are usually
      // about to arrive, and waking from Atomics.wait costs more than that
      for (let spin = 0; spin < 1500 && Atomics.load(ctl, 1) === gen; spin++);
      while (Atomics.load(ctl, 1) === gen) {
        if (Atomics.load(ctl, 2) !== 0) throw new Error('a kernel thread failed');
        Atomics.wait(ctl, 1, gen, 1000);
      }
    }
    waited[gen === 0 ? 0 : 1] += performance.now() - t0;
  };
  for (let epoch = 0; epoch < nEpochs; epoch++) {
    for (let s = 0; s < B; s++) {
      for (let b = t; b < B; b += T) {
        const blk = b * B + ((b + s) % B);
        const end = blockStart[blk + 1];
        for (let k = blockStart[blk]; k < end; k += chunk) {
          sgd(k, Math.min(end, k + chunk), ...args);
        }
      }
      barrier();
    }
  }
  return waited;
}

/** The source run by each kernel thread: instantiate on the shared memory, run its share. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const runShare = ${runShare.toString()};
parentPort.on('message', (job) => {
  const ctl = new Int32Array(job.memory.buffer, job.ctl, ${CTL.length});
  try {
    const inst = new WebAssembly.Instance(job.module, { env: { memory: job.memory } });
    const blockStart = new Int32Array(job.memory.buffer, job.blockStart, job.nBlocks + 1);
    runShare(inst.exports.sgdF32x4, ctl, blockStart, job.args, job.nEpochs, job.t, job.T, job.chunk);
  } catch (e) {
    Atomics.store(ctl, ${CTL.failed}, 1);
    Atomics.notify(ctl, ${CTL.generation});
    parentPort.postMessage(String(e && e.stack || e));
  }
});
`;

const helpers: Worker[] = [];

/** The persistent helper threads 1…n (created on first use, unref'd). */
function helperThreads(n: number): Worker[] {
  while (helpers.length < n) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', (m) => process.emitWarning(`kernel thread: ${m}`));
    // after the listener: adding a 'message' listener refs the worker's port again, and a ref'd
    // port keeps the process alive after its work is done (a CLI or train worker never exits)
    w.unref();
    helpers.push(w);
  }
  return helpers.slice(0, n);
}

/**
 * Ends the kernel threads (they are unref'd and never keep a process alive, but a test runner
 * that waits for its handles wants them gone). The next multi-thread run starts new ones.
 */
export async function closeKernelThreads(): Promise<void> {
  const all = helpers.splice(0);
  await Promise.all(all.map((w) => w.terminate()));
}

/**
 * Milliseconds spent in each phase of the last `svdSgdSimd` call of this thread (read by
 * bench:kernels; phases of the calling thread, whose share of the SGD includes its waits).
 */
export const lastSimdPhases = {
  /** Creating (or reusing) the kernel memory, zeroing what needs it, copying the biases in. */
  layout: 0,
  /** Cutting the ratings into the block grid (`blockGrid`), straight into the kernel memory. */
  grid: 0,
  /** Drawing the initial factors in kernel memory (or copying them in, for a call without `draw`). */
  draw: 0,
  /** Posting the job to the helper threads and instantiating the module on this thread. */
  start: 0,
  /** This thread's share of the epochs, waits included. */
  sgd: 0,
  /** Of `sgd`: waiting at the first barrier (the helper threads starting their share). */
  firstWait: 0,
  /** Of `sgd`: waiting at the later barriers (the per-sub-epoch syncs). */
  waits: 0,
  /** Copying the biases and factors back into the f64 arrays. */
  copyBack: 0,
};

/**
 * Kernel memories up to this size are kept for the next fit of this thread (created once, reused
 * while big enough): creating a shared WebAssembly memory and faulting its pages in is a visible
 * part of a small fit (u1.base at 100 factors needs 2.3 MiB). Larger ones are dropped after their
 * fit, so a thread keeps at most this much.
 */
export const KEEP_KERNEL_MEMORY_BYTES = 64 * 2 ** 20;

let keptMemory: KernelMemory | null = null;

/** A kernel memory of at least `bytes`, laid out from the start: the kept one when it is enough. */
function simdMemory(bytes: number): KernelMemory {
  if (keptMemory && keptMemory.capacity >= bytes + 16) {
    keptMemory.reset();
    return keptMemory;
  }
  const mem = new KernelMemory(bytes);
  if (bytes <= KEEP_KERNEL_MEMORY_BYTES) keptMemory = mem;
  return mem;
}

/** Bytes of f32 rows of `n` × `nF8` plus alignment. */
const f32Size = (n: number) => KernelMemory.size(n, 4);

/**
 * Runs `a.nEpochs` epochs of the f32x4 SIMD kernel over the B × B block grid on `threads`
 * threads, in place: reads a's f64 biases and factors, writes back the trained ones (f32 values
 * widened to f64).
 *
 * @param threads whole number ≥ 1 dividing `blocks`
 * @param blocks B, whole number ≥ 1
 * @param draw when given, the initial factors are not read from `a.pu` and `a.qi` but drawn from
 *   `draw.rng` straight into the kernel's f32 rows (kernels/init.ts): p first, then q, the values
 *   of `rng.fillNormal(a.pu, mean, std)` then `rng.fillNormal(a.qi, mean, std)` rounded to f32 —
 *   so the same result as drawing them in TypeScript first, in less time.
 * @throws RangeError naming the value when `threads` or `blocks` is invalid (nothing changed), or
 *   when the data needs more than 4 GiB of kernel memory.
 */
export function svdSgdSimd(
  a: SvdSgdInput,
  threads: number,
  blocks: number,
  draw?: NormalDraw,
): void {
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > 64) {
    throw new RangeError(`blocks must be a whole number in [1, 64], got ${blocks}`);
  }
  if (!Number.isInteger(threads) || threads < 1 || blocks % threads !== 0) {
    throw new RangeError(
      `threads must be a whole number ≥ 1 dividing the ${blocks} blocks, got ${threads}`,
    );
  }
  const { nUsers, nFactors: nF } = a;
  const nItems = a.bi.length;
  const nF8 = Math.ceil(nF / 8) * 8;
  const ph = lastSimdPhases;
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - t;
    t = now;
    return ms;
  };
  const n = a.urOffsets[nUsers];
  const bytes =
    KernelMemory.size(CTL.length, 4) +
    KernelMemory.size(blocks * blocks + 1, 4) +
    3 * f32Size(n) +
    f32Size(nUsers) +
    f32Size(nItems) +
    f32Size(nUsers * nF8) +
    f32Size(nItems * nF8) +
    NORMAL_STATE_BYTES;
  const mem = simdMemory(bytes);
  const ctl = mem.place(Int32Array, CTL.length);
  // a kept memory holds the last fit's values: zero what is read before it is written (the
  // barrier's counters, and the factor rows, whose padding lanes must be zero)
  ctl.view.fill(0);
  const blockStart = mem.place(Int32Array, blocks * blocks + 1);
  const users = mem.place(Int32Array, n);
  const items = mem.place(Int32Array, n);
  const ratings = mem.place(Float32Array, n);
  const bu = mem.place(Float32Array, nUsers, a.bu);
  const bi = mem.place(Float32Array, nItems, a.bi);
  const pu = mem.place(Float32Array, nUsers * nF8);
  const qi = mem.place(Float32Array, nItems * nF8);
  pu.view.fill(0);
  qi.view.fill(0);
  ph.layout = lap();
  // the grid straight into the kernel's memory
  const grid = blockGrid(a, blocks, {
    users: users.view,
    items: items.view,
    ratings: ratings.view,
  });
  blockStart.view.set(grid.blockStart);
  ph.grid = lap();
  if (draw) {
    const rows = [
      { address: pu.address, rows: nUsers },
      { address: qi.address, rows: nItems },
    ];
    fillNormalRows(draw.rng, mem, rows, nF, nF8, draw.mean, draw.std);
  } else {
    for (let u = 0; u < nUsers; u++) pu.view.set(a.pu.subarray(u * nF, (u + 1) * nF), u * nF8);
    for (let i = 0; i < nItems; i++) qi.view.set(a.qi.subarray(i * nF, (i + 1) * nF), i * nF8);
  }
  const args = [
    users.address,
    items.address,
    ratings.address,
    bu.address,
    bi.address,
    pu.address,
    qi.address,
    nF8,
    a.biased ? 1 : 0,
    ...[a.mu, a.lrBu, a.lrBi, a.lrPu, a.lrQi, a.regBu, a.regBi, a.regPu, a.regQi].map(Math.fround),
  ];
  const job = {
    module: kernelModule('svd'),
    memory: mem.memory,
    ctl: ctl.address,
    blockStart: blockStart.address,
    nBlocks: blocks * blocks,
    args,
    nEpochs: a.nEpochs,
    T: threads,
    chunk: CHUNK_RATINGS,
  };
  ph.draw = lap();
  helperThreads(threads - 1).forEach((w, k) => w.postMessage({ ...job, t: k + 1 }));
  const k = instantiateKernel<SvdKernelExports>('svd', mem.memory);
  ph.start = lap();
  [ph.firstWait, ph.waits] = runShare(
    k.sgdF32x4 as (...args: number[]) => void,
    ctl.view,
    blockStart.view,
    args,
    a.nEpochs,
    0,
    threads,
    CHUNK_RATINGS,
  );
  ph.sgd = lap();
  a.bu.set(bu.view);
  a.bi.set(bi.view);
  for (let u = 0; u < nUsers; u++) a.pu.set(pu.view.subarray(u * nF8, u * nF8 + nF), u * nF);
  for (let i = 0; i < nItems; i++) a.qi.set(qi.view.subarray(i * nF8, i * nF8 + nF), i * nF);
  ph.copyBack = lap();
}
