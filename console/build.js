#!/usr/bin/env node
/**
 * Builds the web console into dist/console/ (index.html, assets/console.js, assets/console.css):
 * esbuild bundles console/src/main.tsx (preact, the typed client, graphql-ws) into one minified
 * ES module and copies the stylesheet; nothing is loaded from elsewhere at run time. Run by
 * scripts/build.js (`npm run build`); takes well under a second.
 *   node console/build.js [outDir]   (default dist/console)
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'console'));
fs.mkdirSync(path.join(out, 'assets'), { recursive: true });
esbuild.buildSync({
  entryPoints: [path.join(__dirname, 'src', 'main.tsx')],
  outfile: path.join(out, 'assets', 'console.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
fs.copyFileSync(path.join(__dirname, 'style.css'), path.join(out, 'assets', 'console.css'));
fs.copyFileSync(path.join(__dirname, 'index.html'), path.join(out, 'index.html'));
