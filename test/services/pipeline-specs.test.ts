/**
 * The worker image set once for a deployment (REELGRAPH_WORKER_IMAGE, REELGRAPH_WORKER_PULL_SECRETS)
 * reaches the pipelines reelgraph creates, and `applyPipelines` (`reelgraph pipelines apply`)
 * creates missing pipelines, updates changed ones (a new spec version), and leaves equal ones
 * alone — over gRPC, against the stand-in.
 */
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { PIPELINES, pipelineSpecFor } from '../../src/services/bootstrap';
import {
  applyPipelines,
  workerImageFromEnv,
  withWorkerImage,
} from '../../src/services/pipeline-specs';
import { grpcStack, removeTempDirs, type GrpcStack } from '../pachyderm/grpc/harness';

afterAll(removeTempDirs);

describe('worker image configuration', () => {
  it('reads the image and pull secrets, and refuses malformed values by variable name', () => {
    expect(
      workerImageFromEnv({
        REELGRAPH_WORKER_IMAGE: 'registry.example.com:5000/rg/worker:0.2.0',
        REELGRAPH_WORKER_PULL_SECRETS: 'regcred, other-cred',
      }),
    ).toEqual({
      image: 'registry.example.com:5000/rg/worker:0.2.0',
      pullSecrets: ['regcred', 'other-cred'],
    });
    expect(workerImageFromEnv({})).toEqual({ image: undefined, pullSecrets: undefined });
    expect(() => workerImageFromEnv({ REELGRAPH_WORKER_IMAGE: 'bad image' })).toThrow(
      /REELGRAPH_WORKER_IMAGE "bad image" is invalid/,
    );
    expect(() => workerImageFromEnv({ REELGRAPH_WORKER_PULL_SECRETS: 'Reg_Cred' })).toThrow(
      /REELGRAPH_WORKER_PULL_SECRETS: "Reg_Cred" is not a Kubernetes Secret name/,
    );
  });

  it('sets transform.image and imagePullSecrets and keeps the rest of the spec', () => {
    const spec = { pipeline: { name: 'p' }, transform: { image: 'a', cmd: ['x'] } };
    expect(withWorkerImage(spec, { image: 'b', pullSecrets: ['s'] })).toEqual({
      pipeline: { name: 'p' },
      transform: { image: 'b', cmd: ['x'], imagePullSecrets: ['s'] },
    });
    expect(spec.transform.image).toBe('a');
  });
});

describe('applyPipelines over gRPC', () => {
  let stack: GrpcStack;
  beforeAll(async () => {
    stack = await grpcStack({ engine: { pps: embeddedPps() } });
    await stack.client.createRepo('training');
    await stack.client.createRepo('streaming');
  });
  afterAll(() => stack.close());

  const specs = (env: NodeJS.ProcessEnv) =>
    PIPELINES.map((n) => pipelineSpecFor(n, stack.client, workerImageFromEnv(env)));

  it('creates, then leaves equal specs alone, then updates to a new worker image', async () => {
    expect(await applyPipelines(stack.client, specs({}))).toEqual([
      { name: 'train', action: 'created', version: 1 },
      { name: 'predict', action: 'created', version: 1 },
    ]);
    expect((await stack.client.inspectPipeline('train')).details.transform.image).toBe(
      'reelgraph/worker:0.1.0',
    );
    expect(await applyPipelines(stack.client, specs({}))).toEqual([
      { name: 'train', action: 'unchanged', version: 1 },
      { name: 'predict', action: 'unchanged', version: 1 },
    ]);
    const env = {
      REELGRAPH_WORKER_IMAGE: 'reg.example/rg/worker:0.2.0',
      REELGRAPH_WORKER_PULL_SECRETS: 'regcred',
    };
    expect(await applyPipelines(stack.client, specs(env), { dryRun: true })).toEqual([
      { name: 'train', action: 'updated', version: 1 },
      { name: 'predict', action: 'updated', version: 1 },
    ]);
    expect((await stack.client.inspectPipeline('train')).version).toBe(1);
    expect(await applyPipelines(stack.client, specs(env))).toEqual([
      { name: 'train', action: 'updated', version: 2 },
      { name: 'predict', action: 'updated', version: 2 },
    ]);
    const t = (await stack.client.inspectPipeline('predict')).details.transform;
    expect(t.image).toBe('reg.example/rg/worker:0.2.0');
    expect(t.imagePullSecrets).toEqual(['regcred']);
    // reprocess updates even an equal spec
    expect((await applyPipelines(stack.client, specs(env), { reprocess: true }))[0]).toEqual({
      name: 'train',
      action: 'updated',
      version: 3,
    });
  });
});
