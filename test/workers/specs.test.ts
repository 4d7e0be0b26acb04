/**
 * The pipeline specs (against workers/pipeline-spec.schema.json and the engine's own spec
 * parser), the worker image's Dockerfile (project rules, with dockerfile-ast), the launcher, and
 * the layering rule "workers import the engine and nothing of the server".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import * as os from 'node:os';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { connectPachd } from '../../src/pachyderm/grpc/client';
import { parsePipelineSpec } from '../../src/pachyderm/spec';
import { pipelineSpecFor } from '../../src/services/bootstrap';
import { ROOT } from './helpers';

const readJson = (p: string) => JSON.parse(fs.readFileSync(path.join(ROOT, p), 'utf8'));
const VERSION: string = readJson('package.json').version;
const SCHEMA = readJson('workers/pipeline-spec.schema.json');
const TRAIN = readJson('workers/train/pipeline.json');
const PREDICT = readJson('workers/predict/pipeline.json');

describe('pipeline specs', () => {
  const validate = new Ajv({ allErrors: true }).compile(SCHEMA);
  const errors = (spec: unknown) =>
    validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

  it('both specs validate against the schema of the fields we use', () => {
    expect(errors(TRAIN)).toEqual([]);
    expect(errors(PREDICT)).toEqual([]);
  });

  it('the schema refuses what it should (so the check above can fail)', () => {
    const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
    const noTries = clone(TRAIN);
    delete noTries.datumTries;
    expect(errors(noTries)).toEqual([" must have required property 'datumTries'"]);
    const latest = clone(TRAIN);
    latest.transform.image = 'reelgraph/worker:latest';
    expect(errors(latest).join()).toContain('/transform/image');
    const untagged = clone(TRAIN);
    untagged.transform.image = 'reelgraph/worker';
    expect(errors(untagged).join()).toContain('/transform/image must match pattern');
    const snake = clone(PREDICT);
    snake.datum_tries = snake.datumTries;
    expect(errors(snake)).toEqual([' must NOT have additional properties']);
    const oneCross = clone(PREDICT);
    oneCross.input.cross.pop();
    expect(errors(oneCross)).toEqual(['/input/cross must NOT have fewer than 2 items']);
    const badMemory = clone(PREDICT);
    badMemory.resourceRequests.memory = '512 MB';
    expect(errors(badMemory).join()).toContain('/resourceRequests/memory must match pattern');
  });

  it('train: input training with glob "/", `reelgraph worker train`, SVD seeded by default', () => {
    const spec = parsePipelineSpec(TRAIN);
    expect(spec.pipeline).toEqual({ name: 'train', project: { name: 'default' } });
    expect(spec.input).toMatchObject({ pfs: { repo: 'training', glob: '/', branch: 'master' } });
    expect(spec.transform.cmd).toEqual(['reelgraph', 'worker', 'train']);
    expect(spec.transform.env).toEqual({
      REELGRAPH_ALGO: 'SVD',
      REELGRAPH_PARAMS: '{}',
      REELGRAPH_RANKER: 'EASE',
      REELGRAPH_RANKER_PARAMS: '{}',
      REELGRAPH_SEED: '0',
    });
    expect(spec.transform.datumBatching).toBe(false);
    expect(spec.datumTries).toBeGreaterThanOrEqual(1);
    expect(spec.resourceRequests).toBeDefined();
  });

  it('predict: cross of streaming "/*" and models "/", `reelgraph worker predict`, datum batching on', () => {
    const spec = parsePipelineSpec(PREDICT);
    expect(spec.pipeline.name).toBe('predict');
    const cross = (spec.input as { cross: { pfs: { repo: string; glob: string } }[] }).cross;
    expect(cross.map((c) => [c.pfs.repo, c.pfs.glob])).toEqual([
      ['streaming', '/*'],
      ['models', '/'],
    ]);
    expect(spec.transform.cmd).toEqual(['reelgraph', 'worker', 'predict']);
    // the worker SDK speaks the cluster worker's gRPC NextDatum as well as the embedded
    // engine's channel: one process answers every request of a job everywhere
    expect(spec.transform.datumBatching).toBe(true);
  });

  it('both run the image of this version', () => {
    expect(TRAIN.transform.image).toBe(`reelgraph/worker:${VERSION}`);
    expect(PREDICT.transform.image).toBe(`reelgraph/worker:${VERSION}`);
  });
});

describe('the specs bootstrap creates', () => {
  it('are the files, on the embedded engine and on a cluster alike', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-specs-'));
    const embedded = await EmbeddedPachyderm.open(dir);
    const cluster = connectPachd('127.0.0.1:1'); // not dialled until a call
    try {
      for (const pach of [embedded, cluster]) {
        expect(pipelineSpecFor('predict', pach, {})).toEqual(PREDICT);
        expect(pipelineSpecFor('train', pach, {})).toEqual(TRAIN);
      }
    } finally {
      await cluster.close();
      await embedded.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('worker image Dockerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'workers/Dockerfile'), 'utf8');
  const df = DockerfileParser.parse(text);
  const all = df.getInstructions();
  const froms = df.getFROMs();
  const finalStart = froms[froms.length - 1].getRange().start.line;
  const finalStage = all.filter((i) => i.getRange().start.line >= finalStart);
  const args = (i: Instruction) => i.getArgumentsContent() ?? '';

  it('is multi-stage on a base given by ARG NODE_IMAGE, by default a pinned Node LTS slim image', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    // every stage starts FROM the build argument …
    for (const f of froms) expect(args(f).split(/\s+/)[0]).toBe('${NODE_IMAGE}');
    // … whose default (an ARG before the first FROM) is the official image, fully pinned
    const arg = all.find((i) => i.getKeyword() === 'ARG' && /^NODE_IMAGE=/.test(args(i)))!;
    expect(arg.getRange().start.line).toBeLessThan(froms[0].getRange().start.line);
    const [name, tag] = args(arg)
      .replace(/^NODE_IMAGE=/, '')
      .split(':');
    expect(name).toBe('node');
    // a full version (no floating "22" or "lts" tags), an even (LTS) major ≥ 22, a slim variant
    expect(tag).toMatch(/^(22|24|26)\.\d+\.\d+-[a-z]+-slim$/);
  });

  it('the API image starts from the worker image (ARG WORKER_IMAGE) as `reelgraph serve`', () => {
    const api = DockerfileParser.parse(fs.readFileSync(path.join(ROOT, 'api/Dockerfile'), 'utf8'));
    const ins = api.getInstructions();
    const arg = ins.find((i) => i.getKeyword() === 'ARG')!;
    expect(args(arg)).toBe(`WORKER_IMAGE=reelgraph/worker:${VERSION}`);
    expect(args(api.getFROMs()[0])).toBe('${WORKER_IMAGE}');
    const cmd = ins.find((i) => i.getKeyword() === 'CMD')!;
    expect(JSON.parse(args(cmd))).toEqual(['reelgraph', 'serve']);
    const users = ins.filter((i) => i.getKeyword() === 'USER');
    expect(args(users[users.length - 1])).toBe('node');
  });

  it('runs as a non-root user', () => {
    const users = finalStage.filter((i) => i.getKeyword() === 'USER');
    expect(users).toHaveLength(1);
    expect(args(users[0])).not.toMatch(/^(root|0)(:|$)/);
    // USER comes after the last RUN of the final stage
    const lastRun = Math.max(
      ...finalStage.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getRange().start.line),
    );
    expect(users[0].getRange().start.line).toBeGreaterThan(lastRun);
  });

  it('uses COPY, never ADD', () => {
    expect(all.filter((i) => i.getKeyword() === 'ADD')).toEqual([]);
  });

  it('has CMD (and ENTRYPOINT, if any) in JSON form', () => {
    const execs = all.filter((i) => ['CMD', 'ENTRYPOINT'].includes(i.getKeyword()));
    expect(execs.length).toBeGreaterThanOrEqual(1);
    for (const i of execs) {
      expect(() => JSON.parse(args(i))).not.toThrow();
      expect(Array.isArray(JSON.parse(args(i)))).toBe(true);
    }
  });

  it('ships production dependencies only, and reelgraph on PATH', () => {
    /** The instructions of the stage that starts at FROM `f`. */
    const stageOf = (f: (typeof froms)[number]) => {
      const from = f.getRange().start.line;
      const next = froms.map((g) => g.getRange().start.line).find((l) => l > from) ?? Infinity;
      return all.filter((i) => i.getRange().start.line > from && i.getRange().start.line < next);
    };
    const copies = df.getCOPYs().filter((c) => c.getRange().start.line > finalStart);
    const nodeModules = copies.find((c) => /node_modules/.test(args(c)));
    const stage = nodeModules?.getFromFlag()?.getValue();
    expect(stage).toBeTruthy();
    const source = froms.find((f) => f.getBuildStage() === stage)!;
    const runs = (insts: Instruction[]) =>
      insts
        .filter((i) => i.getKeyword() === 'RUN')
        .map(args)
        .join('\n');
    expect(runs(stageOf(source))).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(runs(finalStage)).not.toMatch(/npm (ci|install)/);
    expect(runs(finalStage)).toMatch(/ln -s \/app\/bin\/reelgraph \/usr\/local\/bin\/reelgraph/);
    expect(copies.map(args)).toEqual(expect.arrayContaining(['bin ./bin']));
  });
});

describe('launcher and layering', () => {
  it('bin/reelgraph is an executable POSIX shell script', () => {
    const file = path.join(ROOT, 'bin/reelgraph');
    expect(fs.statSync(file).mode & 0o111).not.toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
  });

  it('the worker programs import the engine, the worker SDK and node only', () => {
    const dir = path.join(ROOT, 'src/workers');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(
        /^(?:import|export)\b[^;]*?from '([^']+)'|^import '([^']+)'/gm,
      )) {
        const spec = m[1] ?? m[2];
        expect([f, spec]).toEqual([
          f,
          expect.stringMatching(/^(node:|\.\/|\.\.\/engine\/|\.\.\/pachyderm\/worker-sdk$)/),
        ]);
      }
    }
  });
});
