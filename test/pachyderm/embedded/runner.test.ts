import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import type { DatumInput } from '../../../src/pachyderm/datums';
import {
  rewritePfsPaths,
  runBatch,
  runDatum,
  type DatumTask,
  type RunContext,
} from '../../../src/pachyderm/embedded/runner';
import type { Transform } from '../../../src/pachyderm/types';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function transform(t: Partial<Transform>): Transform {
  return {
    image: 'ubuntu:20.04',
    cmd: [],
    errCmd: [],
    env: {},
    secrets: [],
    imagePullSecrets: [],
    stdin: [],
    errStdin: [],
    acceptReturnCode: [],
    debug: false,
    user: '',
    workingDir: '',
    dockerfile: '',
    memoryVolume: false,
    datumBatching: false,
    ...t,
  };
}

const contents: Record<string, string> = { h1: 'one\n', h2: 'two\n', m: 'model' };

function input(name: string, matchedPath: string, files: string[][], commit = 'c0'): DatumInput {
  return {
    name,
    project: 'default',
    repo: name,
    branch: 'master',
    commit,
    glob: '/*',
    matchedPath,
    isDir: false,
    files: files.map(([p, h]) => ({ path: p, hash: h })),
  };
}

function context(t: Partial<Transform>, logs: string[] = [], extra: Partial<RunContext> = {}) {
  const ctl = new AbortController();
  const ctx: RunContext = {
    jobId: 'job1',
    outputCommitId: 'job1',
    project: 'default',
    pipeline: 'pipe',
    transform: transform(t),
    workDir: tmp,
    materialize: async (_i, f, dest) => fs.writeFileSync(dest, contents[f.hash]),
    onLog: (d, s, l) => logs.push(`${d}|${s}|${l}`),
    signal: ctl.signal,
    ...extra,
  };
  return { ctx, ctl };
}

const task: DatumTask = {
  datumId: 'd1',
  inputs: [
    input('streaming', '/r1', [['/r1', 'h1']], 'sc'),
    input('train', '/', [['/sub/model.bin', 'm']], 'tc'),
  ],
};

describe('runDatum', () => {
  it('lays out the inputs at their full path, an empty out, and Pachyderm variables', async () => {
    const logs: string[] = [];
    const script = [
      'set -e',
      'ls -A /pfs/out | wc -l >&2',
      'cat "$streaming"',
      'cat "$train/sub/model.bin" > /pfs/out/copy',
      'echo "$PACH_JOB_ID $PACH_DATUM_ID $PACH_OUTPUT_COMMIT_ID $PPS_PIPELINE_NAME" >&2',
      'echo "$streaming_COMMIT $train_COMMIT $MY" >&2',
      'test "$REELGRAPH_PFS_ROOT" = /pfs',
    ].join('\n');
    const { ctx } = context({ cmd: ['sh'], stdin: [script], env: { MY: 'x' } }, logs);
    const r = await runDatum(ctx, task);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const root = path.join(tmp, 'pfs');
    expect(fs.readFileSync(path.join(r.outDir, 'copy'), 'utf8')).toBe('model');
    expect(r.outDir).toBe(path.join(root, 'out'));
    // stdout and stderr are two pipes: the order within each stream is kept, not across them
    const stream = (name: string) => logs.filter((l) => l.startsWith(`d1|${name}|`));
    expect(stream('stdout')).toEqual(['d1|stdout|one']);
    expect(stream('stderr')).toEqual([
      'd1|stderr|0',
      'd1|stderr|job1 d1 job1 pipe',
      'd1|stderr|sc tc x',
    ]);
    expect(logs).toHaveLength(4);
  });

  it('sets <name> to <root>/<name>/<matched path> and the pfs root', async () => {
    const logs: string[] = [];
    const { ctx } = context(
      {
        cmd: [
          'node',
          '-e',
          'console.log(process.env.streaming, process.env.train, process.env.REELGRAPH_PFS_ROOT)',
        ],
      },
      logs,
    );
    await runDatum(ctx, task);
    const root = path.join(tmp, 'pfs');
    expect(logs).toEqual([`d1|stdout|${root}/streaming/r1 ${root}/train ${root}`]);
  });

  it('reports the exit code, honours acceptReturnCode and errCmd', async () => {
    const { ctx } = context({ cmd: ['sh', '-c', 'exit 3'] });
    const r = await runDatum(ctx, task);
    expect(r).toMatchObject({ ok: false, recovered: false, error: 'sh exited with code 3' });

    const ok = await runDatum(
      context({ cmd: ['sh', '-c', 'exit 3'], acceptReturnCode: [3] }).ctx,
      task,
    );
    expect(ok.ok).toBe(true);

    const rec = await runDatum(
      context({ cmd: ['sh', '-c', 'exit 1'], errCmd: ['true'] }).ctx,
      task,
    );
    expect(rec).toMatchObject({ ok: false, recovered: true });
  });

  it('a missing program is a failure naming it', async () => {
    const r = await runDatum(context({ cmd: ['no-such-program-xyz'] }).ctx, task);
    expect(r.ok).toBe(false);
    expect(r.error).toContain('cannot run "no-such-program-xyz"');
  });

  it('kills a datum that exceeds its timeout, and on abort', async () => {
    const { ctx } = context({ cmd: ['sleep', '30'] }, [], { datumTimeoutMs: 100 });
    const r = await runDatum(ctx, task);
    expect(r).toMatchObject({ ok: false, error: 'datum timed out after 100 ms' });

    // abort once the program runs: it says so on stdout
    const k = context({ cmd: ['sh', '-c', 'echo running; sleep 30; echo never'] }, [], {
      onLog: (_d, _s, line) => {
        if (line === 'running') k.ctl.abort();
      },
    });
    const killed = await runDatum(k.ctx, task);
    expect(killed).toMatchObject({ ok: false, error: 'killed' });
  });
});

describe('rewritePfsPaths', () => {
  it.each([
    ['/pfs/out', '/R/out'],
    ['/pfs', '/R'],
    ['--output=/pfs/out', '--output=/R/out'],
    ['cp /pfs/in/a /pfs/out/', 'cp /R/in/a /R/out/'],
    ['/pfsx/a', '/pfsx/a'],
    ['/data/pfs/a', '/data/pfs/a'],
  ])('%s → %s', (s, want) => expect(rewritePfsPaths(s, '/R')).toBe(want));
});

describe('runBatch with the worker SDK', () => {
  it('one process serves every datum through nextDatum', async () => {
    // compile the real SDK for the child process
    const sdkTs = fs.readFileSync(
      path.resolve(__dirname, '../../../src/pachyderm/worker-sdk.ts'),
      'utf8',
    );
    const js = ts.transpileModule(sdkTs, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const sdk = path.join(tmp, 'sdk.js');
    fs.writeFileSync(sdk, js);
    const worker = `
      const fs = require('fs');
      const { nextDatum, isBatching } = require(${JSON.stringify(sdk)});
      (async () => {
        if (!isBatching()) process.exit(9);
        for (let d = await nextDatum(); d; d = await nextDatum()) {
          const text = fs.readFileSync(process.env.streaming, 'utf8');
          fs.writeFileSync(d.pfsRoot + '/out/' + d.datumId, process.pid + ' ' + text);
          console.log('did', d.datumId);
        }
      })();`;
    const tasks: DatumTask[] = [
      { datumId: 'a', inputs: [input('streaming', '/r1', [['/r1', 'h1']])] },
      { datumId: 'b', inputs: [input('streaming', '/r2', [['/r2', 'h2']])] },
    ];
    const logs: string[] = [];
    const { ctx } = context({ cmd: ['node', '-e', worker], datumBatching: true }, logs);
    const outputs: string[] = [];
    const queue = [...tasks];
    const r = await runBatch(
      ctx,
      async () => queue.shift() ?? null,
      async (t, o) => {
        expect(o.ok).toBe(true);
        const files = fs.readdirSync(o.outDir);
        expect(files).toEqual([t.datumId]); // out is emptied between datums
        outputs.push(fs.readFileSync(path.join(o.outDir, files[0]), 'utf8'));
      },
    );
    expect(r).toEqual({ served: 2, error: undefined });
    const pids = outputs.map((o) => o.split(' ')[0]);
    expect(new Set(pids).size).toBe(1);
    expect(outputs.map((o) => o.split(' ')[1])).toEqual(['one\n', 'two\n']);
    expect(logs).toEqual(['a|stdout|did a', 'b|stdout|did b']);
  });

  it("one process serves every datum through the worker's gRPC NextDatum, as in a cluster", async () => {
    // the real SDK from the sources: it finds PPS_WORKER_GRPC_PORT and no PACH_DATUM_ID
    const root = path.resolve(__dirname, '../../..');
    const sdk = path.join(root, 'src/pachyderm/worker-sdk.ts');
    const worker = `
      const fs = require('fs');
      const { nextDatum, isBatching } = require(${JSON.stringify(sdk)});
      (async () => {
        if (!isBatching()) process.exit(9);
        let n = 0;
        for (let d = await nextDatum(); d; d = await nextDatum(n++ === 0 ? { error: 'bad a' } : {})) {
          const text = fs.readFileSync(process.env.streaming, 'utf8');
          fs.writeFileSync(d.pfsRoot + '/out/' + d.datumId, process.pid + ' ' + text);
          console.log('did', d.datumId, process.env.PPS_WORKER_GRPC_PORT > 0);
        }
        console.log('ended');
      })();`;
    const queue: DatumTask[] = [
      { datumId: 'a', inputs: [input('streaming', '/r1', [['/r1', 'h1']])] },
      { datumId: 'b', inputs: [input('streaming', '/r2', [['/r2', 'h2']])] },
    ];
    const logs: string[] = [];
    const { ctx } = context(
      {
        cmd: ['node', '-r', path.join(root, 'scripts/ts-register.js'), '-e', worker],
        datumBatching: true,
      },
      logs,
    );
    const outcomes: [string, boolean, string | undefined, string][] = [];
    const r = await runBatch(
      ctx,
      async () => queue.shift() ?? null,
      async (t, o) => {
        const files = fs.readdirSync(o.outDir);
        outcomes.push([
          t.datumId,
          o.ok,
          o.error,
          files.map((f) => fs.readFileSync(path.join(o.outDir, f), 'utf8')).join(),
        ]);
      },
      'grpc',
    );
    expect(r).toEqual({ served: 2, error: undefined });
    // the error reported with the second NextDatum belongs to the first datum
    expect(outcomes.map(([d, ok, e]) => [d, ok, e])).toEqual([
      ['a', false, 'datum reported failure: bad a'],
      ['b', true, undefined],
    ]);
    const pids = outcomes.map(([, , , text]) => text.split(' ')[0]);
    expect(new Set(pids).size).toBe(1);
    expect(logs).toEqual(['a|stdout|did a true', 'b|stdout|did b true', '|stdout|ended']);
  });

  it('between datums, only the difference is laid out (shared files stay, others go)', async () => {
    // each datum: one request file + the same model; the worker lists what it sees
    const worker = `
      const fs = require('fs');
      const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(d + '/' + e.name).map((x) => e.name + '/' + x) : [e.name]);
      const next = () => new Promise((r) => { process.once('message', r); process.send({ type: 'nextDatum' }); });
      (async () => {
        for (;;) {
          const m = await next();
          if (m.type !== 'datum') { process.disconnect(); return; }
          console.log(walk(m.pfsRoot).sort().join(' '));
          fs.writeFileSync(m.pfsRoot + '/out/x', 'y');
        }
      })();`;
    const model = input('train', '/', [['/sub/model.bin', 'm']]);
    const queue: DatumTask[] = [
      { datumId: 'a', inputs: [input('streaming', '/r1', [['/r1', 'h1']]), model] },
      { datumId: 'b', inputs: [input('streaming', '/q/r2', [['/q/r2', 'h2']]), model] },
      { datumId: 'c', inputs: [input('streaming', '/r1', [['/r1', 'h1']]), model] },
    ];
    const materialized: string[] = [];
    const logs: string[] = [];
    const { ctx } = context({ cmd: ['node', '-e', worker], datumBatching: true }, logs, {
      materialize: async (_i, f, dest) => {
        materialized.push(f.path);
        fs.writeFileSync(dest, contents[f.hash]);
      },
    });
    const r = await runBatch(
      ctx,
      async () => queue.shift() ?? null,
      async () => undefined,
    );
    expect(r.served).toBe(3);
    expect(materialized).toEqual(['/r1', '/sub/model.bin', '/q/r2', '/r1']);
    expect(logs).toEqual([
      'a|stdout|streaming/r1 train/sub/model.bin',
      'b|stdout|streaming/q/r2 train/sub/model.bin',
      'c|stdout|streaming/r1 train/sub/model.bin',
    ]);
  });

  it('a process that dies fails its current datum', async () => {
    const worker = `process.send({type:'nextDatum'}); process.on('message', () => process.exit(4));`;
    const { ctx } = context({ cmd: ['node', '-e', worker], datumBatching: true });
    const queue: DatumTask[] = [task];
    const outcomes: string[] = [];
    const r = await runBatch(
      ctx,
      async () => queue.shift() ?? null,
      async (t, o) => void outcomes.push(`${t.datumId}:${o.ok}:${o.error}`),
    );
    expect(r.served).toBe(1);
    expect(outcomes).toEqual(['d1:false:node exited with code 4']);
  });
});
