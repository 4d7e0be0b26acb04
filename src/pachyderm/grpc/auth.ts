/**
 * Pachyderm auth for the pachd stand-in, as a 2.12 pachd with auth activated (its Helm chart's
 * default since 2.12): every call but Health/Check, GetVersion and WhoAmI needs a token
 * (metadata `authn-token`), and each call needs a role on the resource it touches.
 *
 * Subjects and tokens (Pachyderm 2.12 src/auth/auth.go): the root token is `pach:root`
 * (clusterAdmin); `auth_v2.API/GetRobotToken{robot, ttl}` (clusterAdmin, or the robotUser role)
 * makes a token for `robot:<robot>`; pipelines run as `pipeline:<project>/<name>` (the stand-in
 * runs them inside the engine, unchecked).
 *
 * Roles (2.12 src/server/auth/server/roles.go), by what they allow here:
 * - `repoReader` on REPO `project/repo`: inspect and list commits, branches, files; subscribe;
 *   and, on a pipeline's output repo, inspect the pipeline, its jobs, datums and logs;
 * - `repoWriter` ⊇ repoReader: StartCommit, FinishCommit, ModifyFile, Create/DeleteBranch, and on
 *   a pipeline's output repo Stop/StartPipeline, StopJob, and CreatePipeline with `update`;
 * - `repoOwner` ⊇ repoWriter: DeleteRepo, DeletePipeline, and ModifyRoleBinding on the repo;
 * - `projectWriter` on PROJECT `project`: CreateRepo and CreatePipeline in it (the creator then
 *   becomes repoOwner of the new repo, as in pachd); `projectOwner` ⊇ projectWriter plus
 *   repoOwner on every repo of the project; `projectCreator` on CLUSTER: CreateProject;
 * - `clusterAdmin` on CLUSTER: everything.
 * CreatePipeline also needs repoReader on every input repo, and gives the pipeline's principal
 * repoReader on its inputs and repoWriter on its output (pachd does the same).
 *
 * Errors: no token → UNAUTHENTICATED "no authentication token (try logging in)"; an unknown or
 * revoked token → UNAUTHENTICATED "provided auth token is corrupted or has expired"; a missing role
 * → PERMISSION_DENIED "robot:api is not authorized to perform this operation - needs role
 * repoWriter on REPO default/training" (pachd's wording names permissions; the gist is the same).
 *
 * State (robot tokens, role bindings) lives in memory and, with `stateFile`, in a JSON file
 * (mode 0600) that survives restarts. The root token is never stored.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { PachCode, PachError, invalidArgument } from '../errors';
import { parsePipelineSpec, pfsInputs, requestFlags } from '../spec';
import type { WireMessage } from './codec';
import { AUTH_METADATA_KEY } from './protos';

/** The roles the stand-in knows, by Pachyderm's names. */
export const ROLES = [
  'repoReader',
  'repoWriter',
  'repoOwner',
  'projectViewer',
  'projectWriter',
  'projectOwner',
  'projectCreator',
  'robotUser',
  'clusterAdmin',
] as const;
/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** A resource type of `auth_v2.Resource` (the subset used here). */
export type ResourceType = 'CLUSTER' | 'PROJECT' | 'REPO';

/** Options of {@link StandInAuth}. */
export interface StandInAuthOptions {
  /** The root token (subject `pach:root`, clusterAdmin). At least 16 characters. */
  rootToken: string;
  /** A JSON file keeping robot tokens and role bindings across restarts (written 0600). */
  stateFile?: string;
}

interface State {
  /** token → subject (`robot:<name>`) and expiry (ms since epoch, 0 = never). */
  tokens: Record<string, { subject: string; expires: number }>;
  /** `TYPE:name` → principal → roles. */
  bindings: Record<string, Record<string, Role[]>>;
}

/** What a call needs: a role on a resource (or only a valid token). */
type Need = { type: ResourceType; name: string; role: Role } | 'authenticated' | 'none';

const IMPLIED: Record<Role, Role[]> = {
  repoReader: ['repoReader'],
  repoWriter: ['repoReader', 'repoWriter'],
  repoOwner: ['repoReader', 'repoWriter', 'repoOwner'],
  projectViewer: ['projectViewer'],
  projectWriter: ['projectViewer', 'projectWriter'],
  projectOwner: [
    'projectViewer',
    'projectWriter',
    'projectOwner',
    'repoReader',
    'repoWriter',
    'repoOwner',
  ],
  projectCreator: ['projectCreator'],
  robotUser: ['robotUser'],
  clusterAdmin: [...ROLES],
};

const ROOT = 'pach:root';
const repoName = (r: WireMessage | null | undefined): string =>
  `${r?.project?.name || 'default'}/${r?.name ?? ''}`;

/** The stand-in's auth service and per-call checks; see the module documentation. */
export class StandInAuth {
  private readonly state: State;
  private repoExists: (name: string) => Promise<boolean> = async () => true;

  /**
   * Lets the checks ask whether a repo (`project/repo`) exists: a call on a missing repo is let
   * through, so that the engine answers NOT_FOUND as pachd does, instead of PERMISSION_DENIED.
   * The server calls it with its engine.
   */
  useRepoLookup(exists: (name: string) => Promise<boolean>): void {
    this.repoExists = exists;
  }

  /** @throws PachError INVALID_ARGUMENT for a root token shorter than 16 characters */
  constructor(private readonly opts: StandInAuthOptions) {
    if (!opts.rootToken || opts.rootToken.length < 16)
      throw invalidArgument('the root token must have at least 16 characters');
    this.state = { tokens: {}, bindings: {} };
    if (opts.stateFile && fs.existsSync(opts.stateFile)) {
      const saved = JSON.parse(fs.readFileSync(opts.stateFile, 'utf8')) as Partial<State>;
      Object.assign(this.state.tokens, saved.tokens ?? {});
      Object.assign(this.state.bindings, saved.bindings ?? {});
    }
  }

  private save(): void {
    if (!this.opts.stateFile) return;
    const tmp = `${this.opts.stateFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    fs.renameSync(tmp, this.opts.stateFile);
  }

  /**
   * The subject of the call's token.
   * @throws PachError UNAUTHENTICATED when there is none or it is unknown, revoked or expired
   */
  subjectOf(md: grpc.Metadata): string {
    const got = md.get(AUTH_METADATA_KEY)[0];
    if (got === undefined)
      throw new PachError(PachCode.UNAUTHENTICATED, 'no authentication token (try logging in)');
    const token = String(got);
    if (token === this.opts.rootToken) return ROOT;
    const t = this.state.tokens[token];
    if (!t || (t.expires && t.expires < Date.now()))
      throw new PachError(
        PachCode.UNAUTHENTICATED,
        'provided auth token is corrupted or has expired (try logging in again)',
      );
    return t.subject;
  }

  /** The roles `subject` holds on a resource, with those implied by roles on enclosing ones. */
  private rolesOn(subject: string, type: ResourceType, name: string): Set<Role> {
    const held = new Set<Role>();
    const add = (key: string) => {
      for (const r of this.state.bindings[key]?.[subject] ?? [])
        for (const i of IMPLIED[r]) held.add(i);
    };
    if (subject === ROOT) for (const r of ROLES) held.add(r);
    add('CLUSTER:');
    if (type === 'PROJECT') add(`PROJECT:${name}`);
    if (type === 'REPO') {
      add(`PROJECT:${name.split('/')[0]}`);
      add(`REPO:${name}`);
    }
    return held;
  }

  /** @throws PachError PERMISSION_DENIED naming the subject, role and resource */
  private require(subject: string, need: Need): void {
    if (need === 'none' || need === 'authenticated') return;
    if (this.rolesOn(subject, need.type, need.name).has(need.role)) return;
    throw new PachError(
      PachCode.PERMISSION_DENIED,
      `${subject} is not authorized to perform this operation - needs role ${need.role} on ${need.type} ${need.name}`,
    );
  }

  /** Binds `roles` (replacing the principal's earlier ones; empty = remove) on a resource. */
  bind(type: ResourceType, name: string, principal: string, roles: Role[]): void {
    const key = `${type}:${type === 'CLUSTER' ? '' : name}`;
    const entry = (this.state.bindings[key] ??= {});
    if (roles.length) entry[principal] = [...new Set(roles)];
    else delete entry[principal];
    this.save();
  }

  /** True for calls that need no token at all (pachd: GetVersion, WhoAmI checks itself). */
  isOpen(service: string, method: string): boolean {
    return (
      (service === 'versionpb_v2' && method === 'GetVersion') ||
      (service === 'auth_v2' && method === 'WhoAmI')
    );
  }

  /**
   * Checks that `subject` may make the call `method` of `service` (`pfs_v2`, `pps_v2`) with
   * request `req` (for ModifyFile: `{commit}` from its `set_commit`), and returns what to grant
   * once it succeeds (CreateRepo, CreatePipelineV2). A role on a repo that does not exist is not
   * required (see {@link useRepoLookup}).
   * @throws PachError PERMISSION_DENIED; INVALID_ARGUMENT for a pipeline spec that does not parse
   */
  async authorize(
    service: string,
    method: string,
    req: WireMessage,
    subject: string,
  ): Promise<() => void> {
    const needs: Need[] = [];
    let grant = () => undefined as void;
    const repoNeed = (repo: WireMessage | null | undefined, role: Role): Need => ({
      type: 'REPO',
      name: repoName(repo),
      role,
    });
    const pipelineRepo = (p: WireMessage | null | undefined) =>
      ({ name: p?.name ?? '', project: { name: p?.project?.name || 'default' } }) as WireMessage;
    const read = (repo: WireMessage | null | undefined) => needs.push(repoNeed(repo, 'repoReader'));
    if (service === 'pfs_v2') {
      switch (method) {
        case 'CreateProject':
          needs.push({ type: 'CLUSTER', name: '', role: 'projectCreator' });
          grant = () => this.bind('PROJECT', req.project?.name ?? '', subject, ['projectOwner']);
          break;
        case 'DeleteProject':
          needs.push({ type: 'PROJECT', name: req.project?.name ?? '', role: 'projectOwner' });
          break;
        case 'CreateRepo':
          needs.push({
            type: 'PROJECT',
            name: req.repo?.project?.name || 'default',
            role: 'projectWriter',
          });
          grant = () => this.bind('REPO', repoName(req.repo), subject, ['repoOwner']);
          break;
        case 'DeleteRepo':
          needs.push(repoNeed(req.repo, 'repoOwner'));
          break;
        case 'InspectRepo':
          read(req.repo);
          break;
        case 'StartCommit':
        case 'CreateBranch':
        case 'DeleteBranch':
          needs.push(repoNeed(req.branch?.repo, 'repoWriter'));
          break;
        case 'FinishCommit':
        case 'ModifyFile':
          needs.push(repoNeed(req.commit?.repo ?? req.commit?.branch?.repo, 'repoWriter'));
          break;
        case 'InspectCommit':
          read(req.commit?.repo ?? req.commit?.branch?.repo);
          break;
        case 'ListCommit':
        case 'SubscribeCommit':
        case 'ListBranch':
          read(req.repo);
          break;
        case 'InspectBranch':
          read(req.branch?.repo);
          break;
        case 'GetFile':
        case 'InspectFile':
        case 'ListFile':
        case 'WalkFile':
          read(req.file?.commit?.repo ?? req.file?.commit?.branch?.repo);
          break;
        case 'GlobFile':
          read(req.commit?.repo ?? req.commit?.branch?.repo);
          break;
        default:
          needs.push('authenticated'); // listings, InspectProject, InspectCommitSet
      }
    } else if (service === 'pps_v2') {
      switch (method) {
        case 'CreatePipelineV2': {
          const json = String(req.create_pipeline_request_json ?? '');
          const spec = parsePipelineSpec(json);
          const flags = requestFlags(json);
          const project = spec.pipeline.project.name;
          const out = { name: spec.pipeline.name, project: { name: project } };
          if (req.update || flags.update) needs.push(repoNeed(out, 'repoWriter'));
          else needs.push({ type: 'PROJECT', name: project, role: 'projectWriter' });
          const inputs = pfsInputs(spec.input).map((i) => `${i.project || project}/${i.repo}`);
          for (const name of inputs) needs.push({ type: 'REPO', name, role: 'repoReader' });
          grant = () => {
            if (!(req.update || flags.update))
              this.bind('REPO', repoName(out), subject, ['repoOwner']);
            const principal = `pipeline:${project}/${spec.pipeline.name}`;
            for (const name of inputs) this.bind('REPO', name, principal, ['repoReader']);
            this.bind('REPO', repoName(out), principal, ['repoWriter']);
          };
          break;
        }
        case 'DeletePipeline':
          needs.push(repoNeed(pipelineRepo(req.pipeline), 'repoOwner'));
          break;
        case 'StopPipeline':
        case 'StartPipeline':
          needs.push(repoNeed(pipelineRepo(req.pipeline), 'repoWriter'));
          break;
        case 'StopJob':
          needs.push(repoNeed(pipelineRepo(req.job?.pipeline), 'repoWriter'));
          break;
        case 'InspectPipeline':
        case 'SubscribeJob':
          read(pipelineRepo(req.pipeline));
          break;
        case 'InspectJob':
        case 'ListDatum':
          read(pipelineRepo(req.job?.pipeline));
          break;
        case 'InspectDatum':
          read(pipelineRepo(req.datum?.job?.pipeline));
          break;
        case 'ListJob':
        case 'GetLogs':
          if (req.pipeline?.name) read(pipelineRepo(req.pipeline));
          else if (req.job?.pipeline?.name) read(pipelineRepo(req.job.pipeline));
          else needs.push('authenticated');
          break;
        default:
          needs.push('authenticated'); // ListPipeline
      }
    } else {
      needs.push('authenticated');
    }
    for (const n of needs) {
      if (n !== 'none' && n !== 'authenticated' && n.type === 'REPO') {
        if (this.rolesOn(subject, n.type, n.name).has(n.role)) continue;
        if (!(await this.repoExists(n.name))) continue; // NOT_FOUND from the engine
      }
      this.require(subject, n);
    }
    return grant;
  }

  /** `auth_v2.API` handlers (WhoAmI, GetRobotToken, ModifyRoleBinding, GetRoleBinding, RevokeAuthToken). */
  readonly api = {
    WhoAmI: (subject: string): WireMessage => ({ username: subject, expiration: null }),
    GetRobotToken: (subject: string, req: WireMessage): WireMessage => {
      this.require(subject, { type: 'CLUSTER', name: '', role: 'robotUser' });
      const robot = String(req.robot ?? '');
      if (!/^[A-Za-z0-9_.-]{1,63}$/.test(robot))
        throw invalidArgument(
          `robot ${JSON.stringify(robot)} is invalid: expected 1-63 letters, digits, _ . -`,
        );
      const ttl = Number(req.ttl ?? 0);
      const token = randomBytes(16).toString('hex');
      this.state.tokens[token] = {
        subject: `robot:${robot}`,
        expires: ttl > 0 ? Date.now() + ttl * 1000 : 0,
      };
      this.save();
      return { token };
    },
    ModifyRoleBinding: (subject: string, req: WireMessage): WireMessage => {
      const { type, name } = this.resourceOf(req.resource);
      const principal = String(req.principal ?? '');
      if (!/^(robot|pipeline|user|group):.+|^pach:root$/.test(principal))
        throw invalidArgument(
          `invalid principal "${principal}"; must start with one of "pipeline:", "robot:", "user:" or "group:"`,
        );
      const roles = ((req.roles ?? []) as string[]).map((r) => {
        if (!(ROLES as readonly string[]).includes(r))
          throw invalidArgument(
            `unknown role ${JSON.stringify(r)}: expected one of ${ROLES.join(', ')}`,
          );
        return r as Role;
      });
      const owner: Role =
        type === 'CLUSTER' ? 'clusterAdmin' : type === 'PROJECT' ? 'projectOwner' : 'repoOwner';
      this.require(subject, { type, name, role: owner });
      this.bind(type, name, principal, roles);
      return {};
    },
    GetRoleBinding: (subject: string, req: WireMessage): WireMessage => {
      const { type, name } = this.resourceOf(req.resource);
      const entries: Record<string, WireMessage> = {};
      const key = `${type}:${type === 'CLUSTER' ? '' : name}`;
      for (const [p, roles] of Object.entries(this.state.bindings[key] ?? {}))
        entries[p] = { roles: Object.fromEntries(roles.map((r) => [r, true])) };
      if (type === 'CLUSTER') entries[ROOT] = { roles: { clusterAdmin: true } };
      void subject;
      return { binding: { entries } };
    },
    RevokeAuthToken: (subject: string, req: WireMessage): WireMessage => {
      const token = String(req.token ?? '');
      const t = this.state.tokens[token];
      if (!t) return { number: 0 };
      if (t.subject !== subject)
        this.require(subject, { type: 'CLUSTER', name: '', role: 'clusterAdmin' });
      delete this.state.tokens[token];
      this.save();
      return { number: 1 };
    },
  };

  private resourceOf(r: WireMessage | null | undefined): { type: ResourceType; name: string } {
    const type = String(r?.type ?? '');
    if (type !== 'CLUSTER' && type !== 'PROJECT' && type !== 'REPO')
      throw invalidArgument(
        `resource type ${JSON.stringify(type)} is not supported: expected CLUSTER, PROJECT or REPO`,
      );
    const name = String(r?.name ?? '');
    if (type === 'REPO' && !name.includes('/')) return { type, name: `default/${name}` };
    return { type, name };
  }
}
