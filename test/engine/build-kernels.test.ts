/**
 * scripts/build-kernels.js: a kernel is compiled when its source has no build or its content
 * changed, and only then (the content stamp); a compile error names the file; the compiled module
 * runs. Works on a temporary folder with a tiny AssemblyScript kernel.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureKernels } = require('../../scripts/build-kernels.js') as {
  ensureKernels: (force: boolean, dirs: { src: string; out: string }) => string[];
};

describe('build-kernels', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-kernels-'));
  const dirs = { src: path.join(dir, 'assembly'), out: path.join(dir, 'wasm') };
  fs.mkdirSync(dirs.src);
  const source = path.join(dirs.src, 'twice.ts');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (x: number) => {
    const mod = new WebAssembly.Module(fs.readFileSync(path.join(dirs.out, 'twice.wasm')));
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const inst = new WebAssembly.Instance(mod, { env: { memory } });
    return (inst.exports.twice as (x: number) => number)(x);
  };

  it('compiles a new kernel, skips it when unchanged, recompiles it when its content changes', () => {
    fs.writeFileSync(source, 'export function twice(x: f64): f64 { return x * 2; }\n');
    expect(ensureKernels(false, dirs)).toEqual(['twice']);
    expect(run(21)).toBe(42);
    const stamp = fs.readFileSync(path.join(dirs.out, 'twice.stamp'), 'utf8');
    expect(stamp).toMatch(/^[0-9a-f]{64}\n$/);
    // unchanged: nothing compiled (the positive signal: the same call compiled it just before)
    expect(ensureKernels(false, dirs)).toEqual([]);
    // same bytes written again (a checkout): still nothing
    fs.writeFileSync(source, 'export function twice(x: f64): f64 { return x * 2; }\n');
    expect(ensureKernels(false, dirs)).toEqual([]);
    // changed content: compiled again, and the new code runs
    fs.writeFileSync(source, 'export function twice(x: f64): f64 { return x * 2 + 1; }\n');
    expect(ensureKernels(false, dirs)).toEqual(['twice']);
    expect(run(21)).toBe(43);
    expect(fs.readFileSync(path.join(dirs.out, 'twice.stamp'), 'utf8')).not.toBe(stamp);
  });

  it('names the file when the source does not compile, and keeps the last good build', () => {
    fs.writeFileSync(source, 'export function twice(x: f64): f64 { return y; }\n');
    expect(() => ensureKernels(false, dirs)).toThrow(/asc failed on .*twice\.ts/);
    expect(run(21)).toBe(43);
    expect(fs.readdirSync(dirs.out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

/** The ids of the sections of a WebAssembly binary, in order (1 type, 2 import, 11 data, …). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    ids.push(id);
    at += size;
  }
  return ids;
}

describe('the project kernels (src/engine/kernels/wasm, built by the global setup)', () => {
  it("import their memory and carry no data segment (they share the caller's memory)", () => {
    const out = path.join(__dirname, '../../src/engine/kernels/wasm');
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.wasm'));
    // svd, svdpp, nmf, random at least
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(out, f)));
      const mod = new WebAssembly.Module(bytes);
      expect([f, WebAssembly.Module.imports(mod).some((i) => i.kind === 'memory')]).toEqual([
        f,
        true,
      ]);
      // section 11 holds data segments, 12 their count
      expect([f, sectionIds(bytes).filter((id) => id === 11 || id === 12)]).toEqual([f, []]);
    }
  });
});
