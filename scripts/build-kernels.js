#!/usr/bin/env node
/**
 * Compiles the AssemblyScript kernels, src/engine/kernels/assembly/*.ts, to
 * src/engine/kernels/wasm/<name>.wasm (generated, not committed), only when their content changed.
 *
 *   node scripts/build-kernels.js           compile what is stale (the usual call)
 *   node scripts/build-kernels.js --force   compile everything
 *
 * Called by `npm run build` (scripts/build.js, which then copies the .wasm files into dist/), by
 * jest's global setup (scripts/jest-global-setup.js) and by scripts/ts-register.js, so tests,
 * benches and `node -r ./scripts/ts-register.js` always load kernels built from the current
 * sources. Staleness is decided by a content stamp beside each .wasm: the SHA-256 of the source,
 * the asc flags, the AssemblyScript version and this script. Checking costs a few milliseconds;
 * compiling one kernel takes 3–6 s on a loaded 2-core machine. Writes are atomic (temporary file,
 * then rename), so concurrent callers at worst compile twice.
 *
 * The flags: -O3 with --noAssert (release build), the stub runtime (the kernels allocate nothing),
 * SIMD and threads, and an imported shared memory of at most 65536 pages (4 GiB) so that several
 * worker threads can run a kernel on the same memory (svd-simd.ts).
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const SRC = path.join(root, 'src', 'engine', 'kernels', 'assembly');
const OUT = path.join(root, 'src', 'engine', 'kernels', 'wasm');
const FLAGS = [
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--enable',
  'simd',
  '--enable',
  'threads',
  '--importMemory',
  '--sharedMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
];

function stampOf(source) {
  const h = crypto.createHash('sha256');
  h.update(fs.readFileSync(__filename));
  h.update(require('assemblyscript/package.json').version);
  h.update(FLAGS.join(' '));
  h.update(fs.readFileSync(source));
  return h.digest('hex');
}

/**
 * Compiles every stale kernel; returns the names compiled. Throws (with asc's output) when asc
 * fails. `dirs` (for tests) replaces the source and output folders.
 */
function ensureKernels(force = false, dirs = { src: SRC, out: OUT }) {
  const compiled = [];
  let names;
  try {
    names = fs.readdirSync(dirs.src).filter((f) => f.endsWith('.ts'));
  } catch {
    return compiled; // no kernel sources (a dist-only install)
  }
  fs.mkdirSync(dirs.out, { recursive: true });
  for (const file of names.sort()) {
    const name = file.slice(0, -3);
    const source = path.join(dirs.src, file);
    const wasm = path.join(dirs.out, `${name}.wasm`);
    const stampFile = path.join(dirs.out, `${name}.stamp`);
    const stamp = stampOf(source);
    let old = '';
    try {
      old = fs.readFileSync(stampFile, 'utf8').trim();
    } catch {
      // never built
    }
    if (!force && old === stamp && fs.existsSync(wasm)) continue;
    const tmp = `${wasm}.${process.pid}.tmp`;
    const asc = require.resolve('assemblyscript/bin/asc.js');
    const r = spawnSync(process.execPath, [asc, source, '-o', tmp, ...FLAGS], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`asc failed on ${path.relative(root, source)}:\n${r.stdout}${r.stderr}`);
    }
    fs.renameSync(tmp, wasm);
    fs.writeFileSync(`${stampFile}.${process.pid}.tmp`, `${stamp}\n`);
    fs.renameSync(`${stampFile}.${process.pid}.tmp`, stampFile);
    compiled.push(name);
  }
  return compiled;
}

module.exports = { ensureKernels, KERNEL_OUT: OUT };

if (require.main === module) {
  const t0 = Date.now();
  const done = ensureKernels(process.argv.includes('--force'));
  process.stderr.write(
    done.length
      ? `kernels: compiled ${done.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`
      : 'kernels: up to date\n',
  );
}
