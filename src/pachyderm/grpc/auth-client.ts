/**
 * A client of pachd's `auth_v2.API` (the calls behind `pachctl auth whoami`,
 * `pachctl auth get-robot-token NAME` and `pachctl auth set …`), and the role bindings reelgraph's
 * processes need on a pachd with auth on ({@link reelgraphRoleBindings}).
 *
 * Works against a real pachd 2.x and the stand-in (auth.ts). Errors are the port's PachErrors
 * (status.ts): UNAUTHENTICATED without a valid token, PERMISSION_DENIED without the role,
 * UNIMPLEMENTED when auth is not activated.
 */
import * as grpc from '@grpc/grpc-js';
import { parsePachdAddress } from './address';
import type { WireMessage } from './codec';
import { AUTH_METADATA_KEY, CHANNEL_OPTIONS, loadProtos } from './protos';
import { fromGrpcError } from './status';

/** A resource of a role binding: the cluster, a project (`default`) or a repo (`default/training`). */
export interface AuthResource {
  type: 'CLUSTER' | 'PROJECT' | 'REPO';
  /** Empty for CLUSTER; `project` for PROJECT; `project/repo` for REPO. */
  name: string;
}

/** One role binding: `principal` holds `roles` on `resource`. */
export interface RoleBindingSpec {
  resource: AuthResource;
  /** `robot:<name>`, `pipeline:<project>/<name>`, `user:…`, `group:…`. */
  principal: string;
  roles: string[];
}

/** A connection to `auth_v2.API` with one token. Close it with {@link AuthClient.close}. */
export class AuthClient {
  private readonly client: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  private readonly address: string;

  /**
   * @param address pachd's address (syntax of `pachctl connect`, address.ts)
   * @param token the caller's token (`authn-token`)
   * @throws PachError INVALID_ARGUMENT for a malformed address
   */
  constructor(
    address: string,
    private readonly token: string,
  ) {
    const a = parsePachdAddress(address);
    this.address = a.qualified;
    const creds = a.secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    this.client = new (loadProtos().auth)(a.target, creds, CHANNEL_OPTIONS) as typeof this.client;
  }

  private call(method: string, req: WireMessage): Promise<WireMessage> {
    const md = new grpc.Metadata();
    if (this.token) md.set(AUTH_METADATA_KEY, this.token);
    return new Promise((resolve, reject) =>
      (
        this.client[method] as (
          r: WireMessage,
          m: grpc.Metadata,
          cb: (e: grpc.ServiceError | null, r: WireMessage) => void,
        ) => void
      ).call(this.client, req, md, (e, r) =>
        e ? reject(fromGrpcError(e, this.address)) : resolve(r),
      ),
    );
  }

  /** `WhoAmI`: the subject of this client's token (`pach:root`, `robot:api`, …). */
  async whoAmI(): Promise<string> {
    return String((await this.call('WhoAmI', {})).username ?? '');
  }

  /**
   * `GetRobotToken`: a new token for `robot:<robot>` (needs clusterAdmin or robotUser).
   * @param ttlSeconds lifetime in seconds; 0 (default) = no expiry
   */
  async getRobotToken(robot: string, ttlSeconds = 0): Promise<string> {
    return String((await this.call('GetRobotToken', { robot, ttl: ttlSeconds })).token ?? '');
  }

  /** `ModifyRoleBinding`: `principal` holds exactly `roles` on the resource (empty removes). */
  async modifyRoleBinding(b: RoleBindingSpec): Promise<void> {
    await this.call('ModifyRoleBinding', {
      resource: { type: b.resource.type, name: b.resource.name },
      principal: b.principal,
      roles: b.roles,
    });
  }

  /** `GetRoleBinding`: principal → roles on the resource. */
  async getRoleBinding(resource: AuthResource): Promise<Record<string, string[]>> {
    const r = await this.call('GetRoleBinding', { resource });
    const out: Record<string, string[]> = {};
    const entries = (r.binding?.entries ?? {}) as Record<
      string,
      { roles?: Record<string, boolean> }
    >;
    for (const [p, roles] of Object.entries(entries))
      out[p] = Object.keys(roles.roles ?? {}).filter((k) => roles.roles![k]);
    return out;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

/**
 * Names of reelgraph's repos (services/config.ts defaults: training, streaming, models, serving,
 * train, predict).
 */
export interface ReelgraphRepos {
  project?: string;
  trainingRepo?: string;
  streamingRepo?: string;
  modelsRepo?: string;
  servingRepo?: string;
  trainRepo?: string;
  predictRepo?: string;
}

/**
 * The role bindings reelgraph needs on a pachd with auth on, least privilege:
 * - the init Job's robot (`initRobot`): `projectWriter` on the project — it creates the input
 *   repos and the pipelines, and pachd makes it repoOwner of what it creates (so it can also
 *   update the pipelines later, `reelgraph pipelines apply`);
 * - the API's robot (`apiRobot`): `repoWriter` on the input repos (rating batches into
 *   `training`, prediction requests into `streaming` and their retirement, the serving model into
 *   `models`: services/model-publisher.ts, the serving-model pin into `serving`:
 *   services/serving-pin.ts — all created by the init Job), `repoReader` on the pipelines' output
 *   repos (`train`: models, metrics; `predict`: answers, jobs).
 * The pipelines need nothing here: pachd gives each pipeline's principal repoReader on its
 * inputs and repoWriter on its output when it is created.
 */
export function reelgraphRoleBindings(
  opts: { apiRobot?: string; initRobot?: string } & ReelgraphRepos = {},
): RoleBindingSpec[] {
  const project = opts.project ?? 'default';
  const api = `robot:${opts.apiRobot ?? 'reelgraph-api'}`;
  const init = `robot:${opts.initRobot ?? 'reelgraph-init'}`;
  const repo = (name: string): AuthResource => ({ type: 'REPO', name: `${project}/${name}` });
  return [
    { resource: { type: 'PROJECT', name: project }, principal: init, roles: ['projectWriter'] },
    { resource: repo(opts.trainingRepo ?? 'training'), principal: api, roles: ['repoWriter'] },
    { resource: repo(opts.streamingRepo ?? 'streaming'), principal: api, roles: ['repoWriter'] },
    { resource: repo(opts.modelsRepo ?? 'models'), principal: api, roles: ['repoWriter'] },
    { resource: repo(opts.servingRepo ?? 'serving'), principal: api, roles: ['repoWriter'] },
    { resource: repo(opts.trainRepo ?? 'train'), principal: api, roles: ['repoReader'] },
    { resource: repo(opts.predictRepo ?? 'predict'), principal: api, roles: ['repoReader'] },
  ];
}

/**
 * The `pachctl` commands that make {@link reelgraphRoleBindings} on a real cluster (run them as
 * the root user or a clusterAdmin), e.g. `pachctl auth set repo training repoWriter
 * robot:reelgraph-api --project default`.
 */
export function pachctlCommands(bindings: RoleBindingSpec[]): string[] {
  return bindings.map((b) => {
    const roles = b.roles.join(',');
    if (b.resource.type === 'CLUSTER') return `pachctl auth set cluster ${roles} ${b.principal}`;
    if (b.resource.type === 'PROJECT')
      return `pachctl auth set project ${b.resource.name} ${roles} ${b.principal}`;
    const [project, repo] = b.resource.name.split('/');
    return `pachctl auth set repo ${repo} ${roles} ${b.principal} --project ${project}`;
  });
}
