/**
 * The .proto files are found wherever reelgraph runs: from the TypeScript sources, from the
 * compiled `dist/` tree (which `tsc` fills without the .proto files), and in the worker image
 * (workers/Dockerfile copies them next to `dist/`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { transformFileSync } from '@swc/core';
import { DockerfileParser } from 'dockerfile-ast';
import { PROTO_FILES, protoDir } from '../../../src/pachyderm/grpc/protos';

const ROOT = path.resolve(__dirname, '../../..');
const SRC_PROTOS = path.join(ROOT, 'src/pachyderm/grpc/proto');

it('from the sources: next to protos.ts, with every file of the subset', () => {
  expect(protoDir()).toBe(SRC_PROTOS);
  for (const f of PROTO_FILES) expect(fs.existsSync(path.join(SRC_PROTOS, f))).toBe(true);
});

it('from a compiled tree laid out as dist/ (package root = three levels up)', () => {
  // a package root inside the repository (so that node_modules resolves), with src/ linked and
  // protos.ts compiled to dist/pachyderm/grpc/protos.js, as `npm run build` lays it out
  const pkg = fs.mkdtempSync(path.join(ROOT, '.tmp-protos-'));
  try {
    fs.symlinkSync(path.join(ROOT, 'src'), path.join(pkg, 'src'));
    const out = path.join(pkg, 'dist/pachyderm/grpc');
    fs.mkdirSync(out, { recursive: true });
    const js = transformFileSync(path.join(ROOT, 'src/pachyderm/grpc/protos.ts'), {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    }).code;
    fs.writeFileSync(path.join(out, 'protos.js'), js);
    const run = spawnSync(
      process.execPath,
      [
        '-e',
        'const p = require(process.argv[1]); const s = p.loadProtos(); console.log(p.protoDir(), Object.keys(s.pfs.service).length)',
        path.join(out, 'protos.js'),
      ],
      { encoding: 'utf8', env: { ...process.env, REELGRAPH_PROTO_DIR: '' } },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(`${path.join(pkg, 'src/pachyderm/grpc/proto')} 24`);
  } finally {
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});

it('in the worker image: the final stage copies the .proto files to /app/src/…/proto', () => {
  const df = DockerfileParser.parse(fs.readFileSync(path.join(ROOT, 'workers/Dockerfile'), 'utf8'));
  const froms = df.getFROMs();
  const finalStart = froms[froms.length - 1].getRange().start.line;
  const copies = df
    .getCOPYs()
    .filter((c) => c.getRange().start.line > finalStart)
    .map((c) => c.getArgumentsContent());
  expect(copies).toContain('src/pachyderm/grpc/proto ./src/pachyderm/grpc/proto');
  expect(copies.some((c) => /\/app\/dist \.\/dist$/.test(c ?? ''))).toBe(true);
  const workdir = df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'WORKDIR')
    .pop();
  expect(workdir?.getArgumentsContent()).toBe('/app');
});
