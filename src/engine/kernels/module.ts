/**
 * Loading the compiled AssemblyScript kernels and laying typed arrays out in their memory.
 *
 * The kernels' sources are src/engine/kernels/assembly/*.ts; scripts/build-kernels.js compiles
 * each to wasm/<name>.wasm beside this file (src/ when running from sources, dist/ after
 * `npm run build`). Every kernel imports one shared linear memory (`env.memory`, at most 65536
 * pages of 64 KiB = 4 GiB), so several worker threads can run on the same arrays.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const modules = new Map<string, WebAssembly.Module>();

/**
 * The compiled module of kernel `name` (e.g. 'svd'), compiled once per process.
 * @throws Error naming the missing file and the command that builds it.
 */
export function kernelModule(name: string): WebAssembly.Module {
  let m = modules.get(name);
  if (!m) {
    const file = path.join(__dirname, 'wasm', `${name}.wasm`);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(fs.readFileSync(file));
    } catch {
      throw new Error(
        `kernel ${name}: ${file} is missing; build the kernels with \`node scripts/build-kernels.js\` (or \`npm run build\`)`,
      );
    }
    m = new WebAssembly.Module(bytes);
    modules.set(name, m);
  }
  return m;
}

/** Largest memory a kernel can import: 65536 pages of 64 KiB (4 GiB, wasm32's address space). */
export const MAX_KERNEL_BYTES = 65536 * 65536;

/** A typed array's constructor, for `KernelMemory.place`. */
type ArrayKind = Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;

/**
 * One shared kernel memory with a bump layout: `place` reserves an aligned region for n elements
 * (16-byte aligned, so v128 rows of f32 stay aligned) and returns its address and a view.
 */
export class KernelMemory {
  /** The WebAssembly memory (shared: its buffer is a SharedArrayBuffer). */
  readonly memory: WebAssembly.Memory;
  private next = 16;

  /**
   * @param bytes the total size the arrays will need (sum of their byte lengths + 16 per array)
   * @throws RangeError when `bytes` exceeds 4 GiB (the caller then falls back or reports it).
   */
  constructor(bytes: number) {
    const pages = Math.ceil((bytes + 16) / 65536);
    if (pages > 65536) throw new RangeError(`kernel memory of ${bytes} bytes exceeds 4 GiB`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  }

  /** The memory's size in bytes (what `place` can hand out, less 16). */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Forgets every placement, for a new layout in the same memory (whose contents stay: the caller
   * writes or zeroes what it places).
   */
  reset(): void {
    this.next = 16;
  }

  /** Bytes to reserve for `n` elements of `bytesPerElement` each (with alignment slack). */
  static size(n: number, bytesPerElement: number): number {
    return Math.ceil((n * bytesPerElement) / 16) * 16 + 16;
  }

  /** Reserves `n` elements of `kind`; copies `init` into them when given. */
  place<K extends ArrayKind>(
    kind: K,
    n: number,
    init?: ArrayLike<number>,
  ): { address: number; view: InstanceType<K> } {
    const address = this.next;
    const view = new kind(this.memory.buffer, address, n) as InstanceType<K>;
    if (init) view.set(init);
    this.next = address + Math.ceil((n * kind.BYTES_PER_ELEMENT) / 16) * 16;
    return { address, view };
  }
}

/** The instance of kernel `name` on `memory`, with its exports typed as `T`. */
export function instantiateKernel<T>(name: string, memory: WebAssembly.Memory): T {
  return new WebAssembly.Instance(kernelModule(name), { env: { memory } }).exports as T;
}

/** Ratings per call into WebAssembly: short calls let V8's optimised tier take over early. */
export const CHUNK_RATINGS = 4096;
