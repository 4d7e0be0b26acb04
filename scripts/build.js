#!/usr/bin/env node
/**
 * `npm run build` and the first half of `npm start`: compiles the project into dist/ and records
 * what it compiled in a stamp, so that a start with unchanged sources compiles nothing.
 *
 *   node scripts/build.js               always build, then write the stamp
 *   node scripts/build.js --if-changed  build only when the stamp differs from the sources
 *
 * Run from the package root (npm runs scripts there). The steps, each only when its input exists:
 * 0. `node scripts/build-kernels.js` (the AssemblyScript kernels: src/engine/kernels/wasm/, copied
 *    to dist/engine/kernels/wasm/ after step 1);
 * 1. `tsc -p tsconfig.build.json` (the server, CLI, services: dist/);
 * 2. `node client/build.js` (the typed client);
 * 3. `node console/build.js` (the web console: dist/console/).
 *
 * The stamp, `dist/.build-stamp`, is the SHA-256 over the relative path and the bytes of every
 * file under src/, client/ and console/ (except their generated output folders) and of
 * package.json, package-lock.json, tsconfig.json, tsconfig.build.json and this script. Content,
 * not modification times: a `git checkout` that rewrites files with the same bytes does not force a
 * rebuild, and a change of any byte does. Hashing the ~200 source files takes a few milliseconds;
 * `tsc` takes 1–3 minutes on a loaded 2-core machine.
 *
 * Prints one line on stderr saying whether it compiles and why. Exits with the failing step's
 * code (the stamp is then removed, so that the next start compiles again).
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = process.cwd();
const STAMP = path.join(root, 'dist', '.build-stamp');
const TREES = ['src', 'client', 'console'];
/** Folders inside the trees that are outputs, not inputs. */
const SKIP = new Set(['node_modules', 'dist', 'generated-out', 'wasm']);
const FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** Every input file, relative to the root, sorted. */
function inputs() {
  const out = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // absent tree
    }
    for (const e of entries) {
      const r = path.posix.join(rel, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) walk(r);
      } else if (e.isFile()) out.push(r);
    }
  };
  for (const t of TREES) walk(t);
  for (const f of FILES) if (fs.existsSync(path.join(root, f))) out.push(f);
  return out.sort();
}

/** The SHA-256 (hex) of the inputs' paths and bytes, and of this script. */
function sourceHash() {
  const h = crypto.createHash('sha256');
  h.update(fs.readFileSync(__filename));
  for (const f of inputs()) {
    h.update(`\0${f}\0`);
    h.update(fs.readFileSync(path.join(root, f)));
  }
  return h.digest('hex');
}

function run(label, args) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    fs.rmSync(STAMP, { force: true });
    process.stderr.write(`build: ${label} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
  process.stderr.write(`build: ${label} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

function build() {
  run('kernels', [path.join(__dirname, 'build-kernels.js')]);
  run('tsc -p tsconfig.build.json', [
    require.resolve('typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
  ]);
  const { KERNEL_OUT } = require('./build-kernels');
  const kernelDist = path.join(root, 'dist', 'engine', 'kernels', 'wasm');
  fs.mkdirSync(kernelDist, { recursive: true });
  for (const f of fs.readdirSync(KERNEL_OUT)) {
    if (f.endsWith('.wasm')) fs.copyFileSync(path.join(KERNEL_OUT, f), path.join(kernelDist, f));
  }
  for (const part of ['client', 'console']) {
    const script = path.join(root, part, 'build.js');
    if (fs.existsSync(script)) run(`${part}/build.js`, [script]);
  }
}

function main() {
  const ifChanged = process.argv.includes('--if-changed');
  const hash = sourceHash();
  if (ifChanged) {
    let old = '';
    try {
      old = fs.readFileSync(STAMP, 'utf8').trim();
    } catch {
      // no stamp: never built by this script
    }
    if (old === hash && fs.existsSync(path.join(root, 'dist', 'main.js'))) {
      process.stderr.write(
        `build: dist/ is up to date (sources ${hash.slice(0, 12)}): not compiling\n`,
      );
      return;
    }
    process.stderr.write(
      `build: ${old ? 'sources changed since the last build' : 'no build stamp'}: compiling (sources ${hash.slice(0, 12)})\n`,
    );
  } else {
    process.stderr.write(`build: compiling (sources ${hash.slice(0, 12)})\n`);
  }
  fs.rmSync(STAMP, { force: true });
  build();
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, `${hash}\n`);
}

main();
