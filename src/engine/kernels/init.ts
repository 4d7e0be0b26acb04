/**
 * Initial factors drawn straight into a kernel's memory as f32 rows (the AssemblyScript
 * `fillNormalF32` of src/engine/kernels/assembly/random.ts), continuing a `RandomState`'s stream:
 * the values are exactly `RandomState.fillNormal`'s rounded to f32 (Surprise's
 * `rng.normal(init_mean, init_std, (rows, n_factors))`), and the generator ends where
 * `fillNormal` would have left it. On u1.base (SVD, 100 factors) this takes about half the
 * time of drawing f64 arrays in TypeScript and copying them into the kernel's f32 rows.
 */
import type { RandomState } from '../random';
import { KernelMemory, kernelModule } from './module';

/** Bytes of the generator state record in kernel memory (key, position, cached gauss). */
const STATE_BYTES = 2512;

/** Kernel memory `fillNormalRows` needs beside the rows (reserve it in the KernelMemory size). */
export const NORMAL_STATE_BYTES = KernelMemory.size(STATE_BYTES, 1);

/** A matrix of f32 rows in kernel memory to fill: `rows` rows from `address` (row length: `stride`). */
export interface RowsTarget {
  address: number;
  rows: number;
}

interface RandomExports {
  fillNormalF32(
    out: number,
    rows: number,
    cols: number,
    stride: number,
    loc: number,
    scale: number,
    state: number,
  ): void;
}

/**
 * Fills each target in turn with rows × `cols` normal draws loc + scale·N(0, 1) from `rng`
 * (row-major, rounded to f32; lanes cols…stride−1 untouched), as successive
 * `rng.fillNormal(new Float64Array(rows × cols), loc, scale)` calls would, and advances `rng`
 * accordingly. Reserves `NORMAL_STATE_BYTES` of `mem` for the generator's state.
 */
export function fillNormalRows(
  rng: RandomState,
  mem: KernelMemory,
  targets: readonly RowsTarget[],
  cols: number,
  stride: number,
  loc: number,
  scale: number,
): void {
  const state = mem.place(Int32Array, STATE_BYTES / 4);
  const s = rng.getState();
  const words = new Uint32Array(mem.memory.buffer, state.address, 624);
  words.set(s.key);
  state.view[624] = s.pos;
  state.view[625] = s.hasGauss ? 1 : 0;
  const gaussAt = new Float64Array(mem.memory.buffer, state.address + 2504, 1);
  gaussAt[0] = s.gaussValue;
  const k = new WebAssembly.Instance(kernelModule('random'), {
    env: { memory: mem.memory },
    random: { hostLog: Math.log },
  }).exports as unknown as RandomExports;
  for (const t of targets)
    k.fillNormalF32(t.address, t.rows, cols, stride, loc, scale, state.address);
  rng.setState({
    key: words,
    pos: state.view[624],
    hasGauss: state.view[625] !== 0,
    gaussValue: gaussAt[0],
  });
}
