#!/usr/bin/env node
/**
 * Builds the typed client for Node and bundlers: `tsc -p client/tsconfig.json` → dist/client/
 * (CommonJS + .d.ts). Run by scripts/build.js (`npm run build`). The console bundles the sources
 * itself (console/build.js).
 */
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const r = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.json')],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
