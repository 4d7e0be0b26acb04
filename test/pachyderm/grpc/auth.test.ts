/**
 * Pachyderm auth on the stand-in, as a 2.12 pachd with auth activated (its Helm chart's default):
 * tokens, robot tokens made by the root user, role checks per call with Pachyderm's role names,
 * what pachd grants on creation, and the role bindings reelgraph documents for its API and init
 * Job (auth-client.ts `reelgraphRoleBindings`), exercised by the real services.
 */
import { PachCode } from '../../../src/pachyderm';
import { StandInAuth } from '../../../src/pachyderm/grpc/auth';
import {
  AuthClient,
  pachctlCommands,
  reelgraphRoleBindings,
} from '../../../src/pachyderm/grpc/auth-client';
import { connectPachd } from '../../../src/pachyderm/grpc/client';
import { embeddedPps } from '../../../src/pachyderm/embedded/pps';
import { expectPachError } from '../contract/pfs.contract';
import { grpcStack, removeTempDirs, tempDir, type GrpcStack } from './harness';
import * as fs from 'node:fs';
import * as path from 'node:path';

afterAll(removeTempDirs);

const ROOT_TOKEN = 'root-token-0123456789';

describe('the stand-in with Pachyderm auth on', () => {
  let stack: GrpcStack;
  let root: AuthClient;
  let stateFile: string;
  const address = () => `grpc://127.0.0.1:${stack.server.port}`;
  beforeEach(async () => {
    stateFile = path.join(tempDir(), 'auth.json');
    stack = await grpcStack({
      engine: { pps: embeddedPps() },
      auth: new StandInAuth({ rootToken: ROOT_TOKEN, stateFile }),
      client: { token: ROOT_TOKEN },
    });
    root = new AuthClient(address(), ROOT_TOKEN);
  });
  afterEach(async () => {
    root.close();
    await stack.close();
  });

  it('answers UNAUTHENTICATED without a token or with an unknown one; GetVersion needs none', async () => {
    const anon = connectPachd(address());
    const forged = connectPachd(address(), { token: 'not-a-token' });
    try {
      await expectPachError(
        anon.inspectRepo('x'),
        PachCode.UNAUTHENTICATED,
        /no authentication token/,
      );
      await expectPachError(
        forged.inspectRepo('x'),
        PachCode.UNAUTHENTICATED,
        /corrupted or has expired/,
      );
      expect((await anon.getVersion()).minor).toBe(12);
      expect(await root.whoAmI()).toBe('pach:root');
    } finally {
      await anon.close();
      await forged.close();
    }
  });

  it('gives robot tokens only to a clusterAdmin; a robot without a role is PERMISSION_DENIED naming the role', async () => {
    const token = await root.getRobotToken('api');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const robotAuth = new AuthClient(address(), token);
    const robot = connectPachd(address(), { token });
    try {
      expect(await robotAuth.whoAmI()).toBe('robot:api');
      await expectPachError(
        robotAuth.getRobotToken('other'),
        PachCode.PERMISSION_DENIED,
        /robot:api is not authorized to perform this operation - needs role robotUser on CLUSTER/,
      );
      await stack.client.createRepo('training');
      await expectPachError(
        robot.modifyFile('training@master', [{ op: 'put', path: '/a', data: 'x' }]),
        PachCode.PERMISSION_DENIED,
        /robot:api is not authorized .* needs role (repoReader|repoWriter) on REPO default\/training/,
      );
      await root.modifyRoleBinding({
        resource: { type: 'REPO', name: 'default/training' },
        principal: 'robot:api',
        roles: ['repoReader'],
      });
      await robot.inspectRepo('training');
      await expectPachError(
        robot.startCommit('training@master'),
        PachCode.PERMISSION_DENIED,
        /needs role repoWriter on REPO default\/training/,
      );
      // nothing was written by the refused calls
      expect((await stack.client.inspectRepo('training')).branches).toEqual([]);
      await root.modifyRoleBinding({
        resource: { type: 'REPO', name: 'default/training' },
        principal: 'robot:api',
        roles: ['repoWriter'],
      });
      const c = await robot.modifyFile('training@master', [{ op: 'put', path: '/a', data: 'x' }]);
      expect((await stack.client.readFile(`training@${c.id}:/a`)).toString()).toBe('x');
      await expectPachError(robot.deleteRepo('training'), PachCode.PERMISSION_DENIED, /repoOwner/);
      expect(await root.getRoleBinding({ type: 'REPO', name: 'default/training' })).toEqual({
        'robot:api': ['repoWriter'],
        'pach:root': ['repoOwner'],
      });
      // tokens and bindings survive a restart: they are in the state file, mode 0600
      expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
      const reloaded = new StandInAuth({ rootToken: ROOT_TOKEN, stateFile });
      expect(() =>
        reloaded.authorize(
          'pfs_v2',
          'StartCommit',
          { branch: { repo: { name: 'training' } } },
          reloaded.subjectOf(metadataOf(token)),
        ),
      ).not.toThrow();
    } finally {
      robotAuth.close();
      await robot.close();
    }
  });

  it('lets a projectWriter create repos and pipelines, which it then owns; inputs need repoReader', async () => {
    const init = connectPachd(address(), { token: await root.getRobotToken('init') });
    try {
      await expectPachError(
        init.createRepo('in'),
        PachCode.PERMISSION_DENIED,
        /needs role projectWriter on PROJECT default/,
      );
      await root.modifyRoleBinding({
        resource: { type: 'PROJECT', name: 'default' },
        principal: 'robot:init',
        roles: ['projectWriter'],
      });
      await init.createRepo('in');
      await stack.client.createRepo('secret');
      const spec = (repo: string) =>
        JSON.stringify({
          pipeline: { name: `copy-${repo}` },
          transform: { image: 'x', cmd: ['sh', '-c', 'true'] },
          input: { pfs: { repo, glob: '/' } },
        });
      await expectPachError(
        init.createPipeline(spec('secret')),
        PachCode.PERMISSION_DENIED,
        /needs role repoReader on REPO default\/secret/,
      );
      await init.createPipeline(spec('in'));
      const roles = await root.getRoleBinding({ type: 'REPO', name: 'default/copy-in' });
      expect(roles['robot:init']).toEqual(['repoOwner']);
      expect(roles['pipeline:default/copy-in']).toEqual(['repoWriter']);
      expect(
        (await root.getRoleBinding({ type: 'REPO', name: 'default/in' }))[
          'pipeline:default/copy-in'
        ],
      ).toEqual(['repoReader']);
      await init.deleteRepo('in', { force: true });
    } finally {
      await init.close();
    }
  });

  it('prints the pachctl commands of the bindings reelgraph needs', () => {
    expect(pachctlCommands(reelgraphRoleBindings())).toEqual([
      'pachctl auth set project default projectWriter robot:reelgraph-init',
      'pachctl auth set repo training repoWriter robot:reelgraph-api --project default',
      'pachctl auth set repo streaming repoWriter robot:reelgraph-api --project default',
      'pachctl auth set repo models repoWriter robot:reelgraph-api --project default',
      'pachctl auth set repo serving repoWriter robot:reelgraph-api --project default',
      'pachctl auth set repo train repoReader robot:reelgraph-api --project default',
      'pachctl auth set repo predict repoReader robot:reelgraph-api --project default',
    ]);
  });
});

function metadataOf(token: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const md = new grpc.Metadata();
  md.set('authn-token', token);
  return md;
}
