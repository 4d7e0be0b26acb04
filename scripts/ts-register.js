/**
 * Runs TypeScript sources directly with Node: `node -r ./scripts/ts-register.js file.ts`.
 *
 * A require hook that compiles each `.ts` file with @swc/core (already a dev dependency, through
 * @swc/jest) to CommonJS, with the same options as jest.config.js (legacy decorators with
 * metadata). Used by the CLI tests (to run the real program on the current sources without a
 * build), by bin/reelgraph when there is no fresh build (pipeline workers), and by
 * `npm run bench:engine`. No type checking: run `npm run typecheck` for that.
 *
 * Also builds the AssemblyScript kernels when stale (scripts/build-kernels.js).
 *
 * Compiled output is cached in `node_modules/.cache/reelgraph-ts/` under the SHA-1 of (swc
 * version, options, file name, source), so a process starting on unchanged sources compiles
 * nothing and does not even load swc. Set `REELGRAPH_TS_CACHE=0` to disable the cache.
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const root = path.resolve(__dirname, '..');
const cacheDir =
  process.env.REELGRAPH_TS_CACHE === '0'
    ? null
    : path.join(root, 'node_modules', '.cache', 'reelgraph-ts');
let swc;
let salt;

function cacheSalt() {
  if (salt === undefined) {
    let version = '?';
    try {
      version = require('@swc/core/package.json').version;
    } catch {
      /* keep '?' */
    }
    salt = `${version}\0${JSON.stringify(options)}\0`;
  }
  return salt;
}

function compile(source, filename) {
  swc ??= require('@swc/core');
  return swc.transformSync(source, { ...options, filename }).code;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  if (!cacheDir) return module._compile(compile(source, filename), filename);
  const key = crypto
    .createHash('sha1')
    .update(cacheSalt() + filename + '\0' + source)
    .digest('hex');
  const file = path.join(cacheDir, key.slice(0, 2), `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(file, 'utf8');
  } catch {
    code = compile(source, filename);
    try {
      // write then rename: concurrent processes never read a partial file
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, file);
    } catch {
      /* a read-only tree: run without caching */
    }
  }
  module._compile(code, filename);
};
process.setSourceMapsEnabled?.(true);

// The AssemblyScript kernels the sources load (src/engine/kernels/wasm/*.wasm): rebuilt here when
// their sources changed (a content check of a few milliseconds otherwise).
require('./build-kernels').ensureKernels();
