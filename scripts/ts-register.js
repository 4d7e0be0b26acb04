/**
 * Runs TypeScript sources directly with Node: `node -r ./scripts/ts-register.js file.ts`.
 *
 * A require hook that compiles each `.ts` file with @swc/core (already a dev dependency, through
 * @swc/jest) to CommonJS, with the same options as jest.config.js (legacy decorators with
 * metadata). Used by the CLI tests (to run the real program on the current sources without a
 * build) and by `npm run bench:engine`. No type checking: run `npm run typecheck` for that.
 */
'use strict';
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...options, filename });
  module._compile(code, filename);
};
process.setSourceMapsEnabled?.(true);
