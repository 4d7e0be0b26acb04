import { PachCode, PachError } from '../../src/pachyderm/errors';
import {
  effectiveSpecJson,
  parsePipelineSpec,
  pfsInputs,
  requestFlags,
} from '../../src/pachyderm/spec';

/** pachyderm-api.md §4, first example. */
const TRAIN = {
  pipeline: { name: 'train', project: { name: 'default' } },
  description: 'Trains a model from everything in the training repo.',
  transform: {
    image: 'my-registry/trainer:1.0',
    cmd: ['python3', '/code/train.py', '--input', '/pfs/training', '--output', '/pfs/out'],
    env: { EPOCHS: '10' },
  },
  input: { pfs: { repo: 'training', branch: 'master', glob: '/' } },
  parallelismSpec: { constant: 1 },
  resourceRequests: { cpu: 1, memory: '2Gi', disk: '10Gi' },
  datumTries: 3,
  autoscaling: true,
};

/** pachyderm-api.md §4, second example. */
const PREDICT = {
  pipeline: { name: 'predict', project: { name: 'default' } },
  transform: {
    image: 'my-registry/predictor:1.0',
    cmd: ['python3', '/code/predict.py', '--data', '/pfs/streaming', '--model', '/pfs/train'],
  },
  input: {
    cross: [
      { pfs: { repo: 'streaming', branch: 'master', glob: '/*' } },
      { pfs: { repo: 'train', branch: 'master', glob: '/' } },
    ],
  },
  parallelismSpec: { constant: 2 },
  resourceRequests: { cpu: 0.5, memory: '512Mi' },
  datumTries: 3,
  autoscaling: true,
};

function refusal(spec: unknown): string {
  try {
    parsePipelineSpec(spec as object);
  } catch (e) {
    expect(e).toBeInstanceOf(PachError);
    expect((e as PachError).code).toBe(PachCode.INVALID_ARGUMENT);
    return (e as PachError).message;
  }
  throw new Error('spec was accepted');
}

describe('parsePipelineSpec: the examples of pachyderm-api.md §4', () => {
  it('train: keeps the given values and fills the defaults', () => {
    const s = parsePipelineSpec(JSON.stringify(TRAIN));
    expect(s.pipeline).toEqual({ name: 'train', project: { name: 'default' } });
    expect(s.transform.image).toBe('my-registry/trainer:1.0');
    expect(s.transform.env).toEqual({ EPOCHS: '10' });
    expect(s.input).toEqual({
      pfs: {
        name: 'training',
        project: 'default',
        repo: 'training',
        repoType: 'user',
        branch: 'master',
        commit: '',
        glob: '/',
        joinOn: '',
        outerJoin: false,
        groupBy: '',
        lazy: false,
        emptyFiles: false,
        s3: false,
        reference: false,
      },
    });
    expect(s.parallelismSpec).toEqual({ constant: 1 });
    expect(s.outputBranch).toBe('master');
    expect(s.datumTries).toBe(3);
    expect(s.reprocessSpec).toBe('until_success');
    expect(s.resourceRequests).toEqual({ cpu: 1, memory: '2Gi', disk: '10Gi' });
    expect(s.autoscaling).toBe(true);
  });

  it('predict: a cross of two named PFS inputs', () => {
    const s = parsePipelineSpec(PREDICT);
    expect(pfsInputs(s.input).map((p) => [p.name, p.glob, p.branch])).toEqual([
      ['streaming', '/*', 'master'],
      ['train', '/', 'master'],
    ]);
    expect(s.parallelismSpec.constant).toBe(2);
  });
});

describe('parsePipelineSpec: protojson names and defaults', () => {
  it('accepts snake_case and gives the same spec as camelCase', () => {
    const snake = {
      pipeline: { name: 'p' },
      transform: { cmd: ['sh'], err_cmd: ['true'], datum_batching: true, env: { MY_VAR: 'x' } },
      input: { pfs: { repo: 'r', glob: '*', join_on: '$1', repo_type: 'user' } },
      parallelism_spec: { constant: '4' },
      datum_tries: '5',
      output_branch: 'out',
      reprocess_spec: 'every_job',
      resource_requests: { cpu: 1 },
    };
    const camel = {
      pipeline: { name: 'p' },
      transform: { cmd: ['sh'], errCmd: ['true'], datumBatching: true, env: { MY_VAR: 'x' } },
      input: { pfs: { repo: 'r', glob: '*', joinOn: '$1', repoType: 'user' } },
      parallelismSpec: { constant: 4 },
      datumTries: 5,
      outputBranch: 'out',
      reprocessSpec: 'every_job',
      resourceRequests: { cpu: 1 },
    };
    const a = parsePipelineSpec(snake);
    expect(a).toEqual(parsePipelineSpec(camel));
    // map keys are user data: not camelCased
    expect(a.transform.env).toEqual({ MY_VAR: 'x' });
    expect(a.datumTries).toBe(5);
    expect(a.parallelismSpec.constant).toBe(4);
  });

  it('applies every built-in default to a minimal spec', () => {
    const s = parsePipelineSpec({
      pipeline: { name: 'm' },
      transform: { cmd: ['true'] },
      input: { pfs: { repo: 'data', glob: '/*/' } },
      datumTries: 0,
      parallelismSpec: { constant: 0 },
    });
    expect(JSON.parse(effectiveSpecJson(s))).toEqual({
      pipeline: { name: 'm', project: { name: 'default' } },
      transform: { cmd: ['true'], image: 'ubuntu:20.04' },
      parallelismSpec: { constant: 1 },
      outputBranch: 'master',
      datumTries: 3,
      reprocessSpec: 'until_success',
      input: {
        pfs: {
          name: 'data',
          project: 'default',
          repo: 'data',
          repoType: 'user',
          branch: 'master',
          glob: '/*',
        },
      },
    });
  });

  it('input project defaults to the pipeline project; explicit input name kept', () => {
    const s = parsePipelineSpec({
      pipeline: { name: 'm', project: { name: 'proj' } },
      transform: { cmd: ['true'] },
      input: {
        union: [{ pfs: { repo: 'a', name: 'left', glob: '/' } }, { pfs: { repo: 'a', glob: '/' } }],
      },
    });
    expect(pfsInputs(s.input).map((p) => [p.name, p.project])).toEqual([
      ['left', 'proj'],
      ['a', 'proj'],
    ]);
  });

  it('effective JSON omits unpopulated values; request flags are read apart', () => {
    const json = JSON.stringify({
      ...TRAIN,
      update: true,
      dry_run: true,
      egress: { URL: 's3://b' },
    });
    const eff = JSON.parse(effectiveSpecJson(parsePipelineSpec(json)));
    expect(eff).not.toHaveProperty('update');
    expect(eff.egress).toEqual({ URL: 's3://b' });
    expect(eff.transform).toEqual({
      image: 'my-registry/trainer:1.0',
      cmd: TRAIN.transform.cmd,
      env: { EPOCHS: '10' },
    });
    expect(requestFlags(json)).toEqual({ update: true, reprocess: false, dryRun: true });
  });
});

describe('parsePipelineSpec: refusals name the field', () => {
  const base = { pipeline: { name: 'p' }, transform: { cmd: ['true'] } };

  it.each<[string, unknown, string]>([
    ['bad JSON', '{"pipeline":', '(spec): not valid JSON'],
    [
      'no name',
      { ...base, pipeline: {}, input: { pfs: { repo: 'r', glob: '/' } } },
      'pipeline.name: required',
    ],
    [
      'bad name',
      { ...base, pipeline: { name: 'a b' }, input: { pfs: { repo: 'r', glob: '/' } } },
      'pipeline.name: name (a b) invalid',
    ],
    [
      'long name',
      { ...base, pipeline: { name: 'x'.repeat(52) }, input: { pfs: { repo: 'r', glob: '/' } } },
      'is 1 characters longer than the 51 max',
    ],
    [
      'no transform',
      { pipeline: { name: 'p' }, input: { pfs: { repo: 'r', glob: '/' } } },
      'transform: required',
    ],
    [
      'empty cmd',
      { pipeline: { name: 'p' }, transform: { cmd: [] }, input: { pfs: { repo: 'r', glob: '/' } } },
      'transform.cmd: required',
    ],
    ['no input', base, 'input: required'],
    [
      'two kinds in one node',
      { ...base, input: { pfs: { repo: 'r', glob: '/' }, cross: [] } },
      'input: exactly one of pfs, cross, union, join, group, cron must be set, got pfs, cross',
    ],
    [
      'no glob deep in a cross',
      { ...base, input: { cross: [{ pfs: { repo: 'a', glob: '/' } }, { pfs: { repo: 'b' } }] } },
      'input.cross[1].pfs.glob: required',
    ],
    ['no repo', { ...base, input: { pfs: { glob: '/' } } }, 'input.pfs.repo: required'],
    [
      'duplicate input name',
      {
        ...base,
        input: { cross: [{ pfs: { repo: 'a', glob: '/' } }, { pfs: { repo: 'a', glob: '/*' } }] },
      },
      'input.cross[1].pfs.name: input name "a" is already used by input.cross[0].pfs',
    ],
    [
      'unknown field',
      { ...base, input: { pfs: { repo: 'a', glob: '/' } }, colour: 1 },
      'colour: unknown field',
    ],
    [
      'wrong type',
      { ...base, transform: { cmd: 'true' }, input: { pfs: { repo: 'a', glob: '/' } } },
      'transform.cmd: expected array',
    ],
    [
      'bad datumTries',
      { ...base, datumTries: 1.5, input: { pfs: { repo: 'a', glob: '/' } } },
      'datumTries: expected a whole number ≥ 0',
    ],
    [
      'bad reprocessSpec',
      { ...base, reprocessSpec: 'never', input: { pfs: { repo: 'a', glob: '/' } } },
      'reprocessSpec: expected "until_success" or "every_job", got "never"',
    ],
    [
      'join without joinOn',
      {
        ...base,
        input: {
          join: [
            { pfs: { repo: 'a', glob: '/*', joinOn: '$1' } },
            { pfs: { repo: 'b', glob: '/*' } },
          ],
        },
      },
      'input.join[1].pfs.joinOn: required in a join input',
    ],
    [
      'bad glob',
      { ...base, input: { pfs: { repo: 'a', glob: '/[x' } } },
      'input.pfs.glob: glob "/[x": unclosed "["',
    ],
    [
      'same field twice',
      { ...base, input: { pfs: { repo: 'a', glob: '/' } }, datum_tries: 1, datumTries: 2 },
      'datumTries: given twice',
    ],
  ])('%s', (_label, spec, expected) => {
    const message = refusal(spec);
    expect(message).toContain('invalid pipeline spec: ');
    expect(message).toContain(expected);
  });
});
