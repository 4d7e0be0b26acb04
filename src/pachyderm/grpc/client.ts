/**
 * The gRPC adapter of the Pachyderm port: a {@link Pachyderm} that talks to a real pachd 2.x (or
 * to reelgraph's stand-in, server.ts) over `pfs_v2.API` / `pps_v2.API` with reelgraph's .proto
 * subset. Every port method is one RPC, except the ones the port adds on top of Pachyderm's API,
 * composed from real RPCs so that they work against a real pachd as well:
 *
 * - `readFile`: GetFile's chunks, concatenated.
 * - `modifyFile` returns the commit written into, which pachd's ModifyFile (answer `Empty`) does
 *   not tell. A commit id is used as is. For a branch head the client first inspects the head:
 *   open → the modification goes into that commit, by id; FINISHING, finished or missing → pachd's own
 *   one-off commit (`set_commit` = the branch, atomic on pachd's side), then the new commit is
 *   found by walking back from the new head to the child of the previous head. Calls on one branch
 *   are serialised within this client, so the answer is exact for a single writer process; two
 *   processes auto-committing to the same branch at the same instant may get each other's id;
 *   writers that need the exact id with several processes use `commitFiles` (own-commit.ts),
 *   which writes into a commit it started. A head that finishes between the look and the write
 *   ("has already finished") is retried with backoff (own-commit.ts `retryWithBackoff`).
 * - `watchJobs` (every state change): pachd's SubscribeJob sends each non-terminal job once only,
 *   and InspectJob{wait} returns only at a terminal state. So the client subscribes to each
 *   pipeline's jobs (all pipelines: ListPipeline, re-listed after 1 s, backing off to every 30 s
 *   while none appears; for a pipeline that appears later, its jobs so far come from ListJob, as
 *   they may have ended before the subscription began), emits a job when first seen, and its
 *   terminal state through InspectJob{wait}. By default nothing is polled (pachd streams no
 *   intermediate job state); with `watchPollMs` > 0 InspectJob is also polled at that interval
 *   and each state seen to change is emitted. The states emitted for a job are in order, each
 *   once, ending with its terminal state.
 * - `listJob({state})`: pachd filters with jq; the client filters by state itself (and applies
 *   `number` after the filter).
 * - `JobInfo.inputCommits`: read from `JobInfo.details.input` (details are always requested).
 *
 * Cancellation: a port `signal` cancels the underlying call (a wait rejects with CANCELLED, a
 * subscription ends quietly); leaving a `for await` early (`break`, `return()`) cancels the
 * stream. `close()` cancels every open call and closes the channel; later calls fail UNAVAILABLE.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { PachCode, invalidArgument, isPachError, unavailable } from '../errors';
import type {
  Cancellable,
  FileOp,
  GetLogsOptions,
  ListCommitOptions,
  ListDatumOptions,
  ListJobOptions,
  Pachyderm,
  SubscribeCommitOptions,
} from '../port';
import {
  toBranch,
  toCommit,
  toDatum,
  toFile,
  toJob,
  toPipeline,
  toProject,
  toRepo,
  type BranchRef,
  type CommitRef,
  type DatumRef,
  type FileRef,
  type JobRef,
  type PipelineRef,
  type ProjectRef,
  type RepoRef,
} from '../refs';
import {
  type BranchInfo,
  type Commit,
  type CommitInfo,
  CommitState,
  type DatumInfo,
  type FileInfo,
  type JobInfo,
  type LogMessage,
  type PipelineInfo,
  type ProjectInfo,
  type RepoInfo,
  type RepoType,
} from '../types';
import { parsePachdAddress, type PachdAddress } from './address';
import {
  branchInfoFromWire,
  branchToWire,
  commitFromWire,
  commitInfoFromWire,
  commitStateToWire,
  commitToWire,
  datumInfoFromWire,
  datumStateToWire,
  datumToWire,
  durationMsToWire,
  fileInfoFromWire,
  fileOpsToWire,
  fileToWire,
  jobInfoFromWire,
  jobToWire,
  logMessageFromWire,
  originKindToWire,
  pipelineInfoFromWire,
  pipelineToWire,
  projectInfoFromWire,
  projectToWire,
  repoInfoFromWire,
  repoToWire,
  timestampToWire,
  type WireMessage,
} from './codec';
import { AUTH_METADATA_KEY, CHANNEL_OPTIONS, MAX_MSG_PAYLOAD_SIZE, loadProtos } from './protos';
import { fromGrpcError } from './status';
import { retryWithBackoff } from '../own-commit';
import { assertSupportedVersion } from './version';
import { CallIterator } from './streams';
import { watchJobsOver } from './client-watch';

/** Options of {@link connectPachd}. */
export interface ConnectOptions {
  /** A Pachyderm token, sent as metadata `authn-token` with every call. */
  token?: string;
  /** A PEM file of extra root certificates for TLS (`grpcs://`, `https://`), added to the system's. */
  caFile?: string;
  /** PEM bytes of extra root certificates (as `caFile`). */
  ca?: Buffer | string;
  /**
   * Poll interval of {@link GrpcPachyderm.watchJobs} for a running job's intermediate states, in
   * milliseconds; default 0: no polling (each job is seen when SubscribeJob sends it and at its
   * end through InspectJob{wait}, which is all pachd streams).
   */
  watchPollMs?: number;
}

/** The version a pachd reports (`versionpb_v2.Version`). */
export interface PachdVersion {
  major: number;
  minor: number;
  micro: number;
  additional: string;
  gitCommit: string;
}

/**
 * Connects to pachd at `address` (syntax of `pachctl connect`, see address.ts; default port
 * 30650; `grpcs://`/`https://` → TLS with the system roots plus `caFile`/`ca`; `unix:///path`).
 * The connection is made lazily, on the first call; use {@link GrpcPachyderm.checkHealth} to
 * check it at start-up.
 * @throws PachError INVALID_ARGUMENT for a malformed address, or a `caFile` that is unreadable or
 *   holds no PEM certificate
 */
export function connectPachd(address: string, opts: ConnectOptions = {}): GrpcPachyderm {
  return new GrpcPachyderm(parsePachdAddress(address), opts);
}

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type Unary = (
  req: WireMessage,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: WireMessage) => void,
) => grpc.ClientUnaryCall;
type ServerStream = (req: WireMessage, md: grpc.Metadata) => grpc.ClientReadableStream<WireMessage>;

/**
 * The extra root certificates of `file` (REELGRAPH_PACHD_CA): PEM text with at least one
 * certificate.
 * @throws PachError INVALID_ARGUMENT naming the file when it cannot be read or holds no PEM
 *   certificate
 */
function readCaFile(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (e) {
    throw invalidArgument(
      `cannot read the CA file ${file} (REELGRAPH_PACHD_CA): ${(e as Error).message}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw invalidArgument(
      `the CA file ${file} (REELGRAPH_PACHD_CA) holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
    );
  }
  return pem;
}

/** The port over gRPC; see the module documentation. */
export class GrpcPachyderm implements Pachyderm {
  /** The parsed address this client dials. */
  readonly address: PachdAddress;
  private readonly channel: grpc.Channel;
  private readonly pfs: Client;
  private readonly pps: Client;
  private readonly versionApi: Client;
  private readonly health: Client;
  private readonly token?: string;
  private readonly pollMs: number;
  private readonly open = new Set<{ cancel(): void }>();
  private readonly branchLocks = new Map<string, Promise<unknown>>();
  private closed = false;
  /** RPCs started, by method name (see {@link GrpcPachyderm.rpcCounts}). */
  private readonly calls = new Map<string, number>();

  /** Use {@link connectPachd}. */
  constructor(address: PachdAddress, opts: ConnectOptions = {}) {
    this.address = address;
    this.token = opts.token || undefined;
    this.pollMs = opts.watchPollMs ?? 0;
    let creds = grpc.credentials.createInsecure();
    if (address.secure) {
      const extra = opts.caFile ? readCaFile(opts.caFile) : opts.ca;
      const roots = extra
        ? Buffer.from(tls.rootCertificates.join('\n') + '\n' + extra.toString())
        : undefined;
      creds = grpc.credentials.createSsl(roots);
    }
    const protos = loadProtos();
    this.channel = new grpc.Channel(address.target, creds, CHANNEL_OPTIONS);
    const make = (ctor: grpc.ServiceClientConstructor) =>
      new ctor(address.target, creds, {
        ...CHANNEL_OPTIONS,
        channelOverride: this.channel,
      }) as Client;
    this.pfs = make(protos.pfs);
    this.pps = make(protos.pps);
    this.versionApi = make(protos.version);
    this.health = make(protos.health);
  }

  // ----- plumbing -----------------------------------------------------------------------------

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set(AUTH_METADATA_KEY, this.token);
    return md;
  }

  private ensureOpen(): void {
    if (this.closed)
      throw unavailable(`the connection to pachd ${this.address.qualified} is closed`);
  }

  /** One unary call; `signal` cancels it (CANCELLED). */
  private unary(client: Client, method: string, req: WireMessage, signal?: AbortSignal) {
    return new Promise<WireMessage>((resolve, reject) => {
      if (this.closed)
        return reject(unavailable(`the connection to pachd ${this.address.qualified} is closed`));
      this.count(method);
      const fn = (client[method] as Unary).bind(client);
      const onAbort = () => call.cancel();
      const tracked = { cancel: onAbort };
      const call = fn(req, this.metadata(), (err, res) => {
        this.open.delete(tracked);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(fromGrpcError(err, this.address.qualified));
        else resolve(res);
      });
      this.open.add(tracked);
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * A server stream as a lazy async iterable (each iteration makes one call). `quiet`: a
   * cancelled call (signal, `return()`, close) ends the iteration instead of failing it.
   */
  private stream<T>(
    client: Client,
    method: string,
    req: () => WireMessage,
    decode: (m: WireMessage) => T,
    signal?: AbortSignal,
  ): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        this.ensureOpen();
        this.count(method);
        const fn = (client[method] as ServerStream).bind(client);
        const call = fn(req(), this.metadata());
        return new CallIterator(call, decode, this.open, signal, this.address.qualified);
      },
    };
  }

  private count(method: string): void {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  /**
   * How many RPCs this client has started, by pachd method name (`SubscribeCommit`,
   * `InspectJob`, `ModifyFile`…), since it connected: a diagnostic of what a use costs on pachd
   * (e.g. that a request opens no watch of its own). A snapshot; counts only grow.
   */
  rpcCounts(): Record<string, number> {
    return Object.fromEntries([...this.calls].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Runs `fn` after the previous call holding `key` ends (per-branch serialisation). */
  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.branchLocks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.branchLocks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.branchLocks.get(key) === tail) this.branchLocks.delete(key);
    }
  }

  /** `versionpb_v2.API/GetVersion`. */
  async getVersion(): Promise<PachdVersion> {
    const v = await this.unary(this.versionApi, 'GetVersion', {});
    return {
      major: Number(v.major),
      minor: Number(v.minor),
      micro: Number(v.micro),
      additional: v.additional ?? '',
      gitCommit: v.git_commit ?? '',
    };
  }

  /**
   * GetVersion, refusing a pachd older than 2.8.0 (version.ts). Call once at connect.
   * @returns the version found
   * @throws PachError FAILED_PRECONDITION naming the version found and the one needed
   */
  async checkVersion(): Promise<PachdVersion> {
    const v = await this.getVersion();
    assertSupportedVersion(v, this.address.qualified);
    return v;
  }

  /**
   * `grpc.health.v1.Health/Check`: resolves when pachd answers SERVING within `timeoutMs`
   * (default 10 000 ms).
   * @throws PachError UNAVAILABLE / DEADLINE_EXCEEDED naming the address when it does not
   */
  async checkHealth(timeoutMs = 10_000): Promise<void> {
    this.ensureOpen();
    const res = await new Promise<WireMessage>((resolve, reject) => {
      (
        this.health.Check as unknown as (
          r: WireMessage,
          md: grpc.Metadata,
          o: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, r: WireMessage) => void,
        ) => void
      )({ service: '' }, this.metadata(), { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(fromGrpcError(e)) : resolve(r),
      );
    }).catch((e: unknown) => {
      const pe = fromGrpcError(e);
      pe.message = `pachd at ${this.address.qualified} is not reachable: ${pe.message}`;
      throw pe;
    });
    if (res.status !== 'SERVING') {
      throw unavailable(`pachd at ${this.address.qualified} is ${String(res.status)}`);
    }
  }

  // ----- projects -----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createProject} */
  async createProject(project: ProjectRef, opts: { description?: string; update?: boolean } = {}) {
    await this.unary(this.pfs, 'CreateProject', {
      project: projectToWire(toProject(project)),
      description: opts.description ?? '',
      update: !!opts.update,
    });
  }

  /** {@inheritDoc Pachyderm.inspectProject} */
  async inspectProject(project: ProjectRef): Promise<ProjectInfo> {
    const m = await this.unary(this.pfs, 'InspectProject', {
      project: projectToWire(toProject(project)),
    });
    return projectInfoFromWire(m);
  }

  /** {@inheritDoc Pachyderm.listProject} */
  listProject(): AsyncIterable<ProjectInfo> {
    return this.stream(this.pfs, 'ListProject', () => ({}), projectInfoFromWire);
  }

  /** {@inheritDoc Pachyderm.deleteProject} */
  async deleteProject(project: ProjectRef, opts: { force?: boolean } = {}) {
    await this.unary(this.pfs, 'DeleteProject', {
      project: projectToWire(toProject(project)),
      force: !!opts.force,
    });
  }

  // ----- repos --------------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createRepo} */
  async createRepo(repo: RepoRef, opts: { description?: string; update?: boolean } = {}) {
    await this.unary(this.pfs, 'CreateRepo', {
      repo: repoToWire(toRepo(repo)),
      description: opts.description ?? '',
      update: !!opts.update,
    });
  }

  /** {@inheritDoc Pachyderm.inspectRepo} */
  async inspectRepo(repo: RepoRef): Promise<RepoInfo> {
    return repoInfoFromWire(
      await this.unary(this.pfs, 'InspectRepo', { repo: repoToWire(toRepo(repo)) }),
    );
  }

  /** {@inheritDoc Pachyderm.listRepo} */
  listRepo(opts: { type?: RepoType | ''; projects?: ProjectRef[] } = {}): AsyncIterable<RepoInfo> {
    return this.stream(
      this.pfs,
      'ListRepo',
      () => ({
        type: opts.type ?? 'user',
        projects: (opts.projects ?? []).map((p) => projectToWire(toProject(p))),
      }),
      repoInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.deleteRepo} */
  async deleteRepo(repo: RepoRef, opts: { force?: boolean } = {}): Promise<{ deleted: boolean }> {
    const m = await this.unary(this.pfs, 'DeleteRepo', {
      repo: repoToWire(toRepo(repo)),
      force: !!opts.force,
    });
    return { deleted: !!m.deleted };
  }

  // ----- branches -----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createBranch} */
  async createBranch(
    branch: BranchRef,
    opts: { head?: CommitRef; provenance?: BranchRef[]; newCommitSet?: boolean } = {},
  ) {
    await this.unary(this.pfs, 'CreateBranch', {
      branch: branchToWire(toBranch(branch)),
      head: opts.head ? commitToWire(toCommit(opts.head)) : null,
      provenance: (opts.provenance ?? []).map((b) => branchToWire(toBranch(b))),
      new_commit_set: !!opts.newCommitSet,
    });
  }

  /** {@inheritDoc Pachyderm.inspectBranch} */
  async inspectBranch(branch: BranchRef): Promise<BranchInfo> {
    return branchInfoFromWire(
      await this.unary(this.pfs, 'InspectBranch', { branch: branchToWire(toBranch(branch)) }),
    );
  }

  /** {@inheritDoc Pachyderm.listBranch} */
  listBranch(repo: RepoRef, opts: { reverse?: boolean } = {}): AsyncIterable<BranchInfo> {
    return this.stream(
      this.pfs,
      'ListBranch',
      () => ({ repo: repoToWire(toRepo(repo)), reverse: !!opts.reverse }),
      branchInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.deleteBranch} */
  async deleteBranch(branch: BranchRef, opts: { force?: boolean } = {}) {
    await this.unary(this.pfs, 'DeleteBranch', {
      branch: branchToWire(toBranch(branch)),
      force: !!opts.force,
    });
  }

  // ----- commits ------------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.startCommit} */
  async startCommit(
    branch: BranchRef,
    opts: { parent?: CommitRef; description?: string } = {},
  ): Promise<Commit> {
    const m = await this.unary(this.pfs, 'StartCommit', {
      branch: branchToWire(toBranch(branch)),
      parent: opts.parent ? commitToWire(toCommit(opts.parent)) : null,
      description: opts.description ?? '',
    });
    return commitFromWire(m);
  }

  /** {@inheritDoc Pachyderm.finishCommit} */
  async finishCommit(
    commit: CommitRef,
    opts: { description?: string; error?: string; force?: boolean } = {},
  ) {
    await this.unary(this.pfs, 'FinishCommit', {
      commit: commitToWire(toCommit(commit)),
      description: opts.description ?? '',
      error: opts.error ?? '',
      force: !!opts.force,
    });
  }

  /** {@inheritDoc Pachyderm.inspectCommit} */
  async inspectCommit(
    commit: CommitRef,
    opts: { wait?: CommitState } & Cancellable = {},
  ): Promise<CommitInfo> {
    const m = await this.unary(
      this.pfs,
      'InspectCommit',
      {
        commit: commitToWire(toCommit(commit)),
        wait: commitStateToWire(opts.wait ?? CommitState.STARTED),
      },
      opts.signal,
    );
    return commitInfoFromWire(m);
  }

  /** {@inheritDoc Pachyderm.listCommit} */
  listCommit(repo: RepoRef, opts: ListCommitOptions = {}): AsyncIterable<CommitInfo> {
    return this.stream(
      this.pfs,
      'ListCommit',
      () => ({
        repo: repoToWire(toRepo(repo)),
        from: opts.from ? commitToWire(toCommit(opts.from)) : null,
        to: opts.to ? commitToWire(toCommit(opts.to)) : null,
        number: opts.number ?? 0,
        reverse: !!opts.reverse,
        all: !!opts.all,
        origin_kind: opts.originKind ? originKindToWire(opts.originKind) : 'ORIGIN_KIND_UNKNOWN',
        started_time: timestampToWire(opts.startedTime),
      }),
      commitInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.subscribeCommit} */
  subscribeCommit(repo: RepoRef, opts: SubscribeCommitOptions = {}): AsyncIterable<CommitInfo> {
    return this.stream(
      this.pfs,
      'SubscribeCommit',
      () => ({
        repo: repoToWire(toRepo(repo)),
        branch: opts.branch ?? '',
        from: opts.from ? commitToWire(toCommit(opts.from)) : null,
        state: commitStateToWire(opts.state ?? CommitState.STARTED),
        all: !!opts.all,
        origin_kind: opts.originKind ? originKindToWire(opts.originKind) : 'ORIGIN_KIND_UNKNOWN',
      }),
      commitInfoFromWire,
      opts.signal,
    );
  }

  /** {@inheritDoc Pachyderm.inspectCommitSet} */
  inspectCommitSet(
    id: string,
    opts: { wait?: boolean } & Cancellable = {},
  ): AsyncIterable<CommitInfo> {
    return this.stream(
      this.pfs,
      'InspectCommitSet',
      () => ({ commit_set: { id }, wait: !!opts.wait }),
      commitInfoFromWire,
      opts.signal,
    );
  }

  // ----- files --------------------------------------------------------------------------------

  /** One ModifyFile call: the messages of {@link fileOpsToWire}, streamed with back-pressure. */
  private sendModifyFile(commit: Commit, ops: readonly FileOp[]): Promise<void> {
    this.ensureOpen();
    this.count('ModifyFile');
    return new Promise<void>((resolve, reject) => {
      const tracked = { cancel: () => call.cancel() };
      const call = (
        this.pfs.ModifyFile as unknown as (
          md: grpc.Metadata,
          cb: (e: grpc.ServiceError | null) => void,
        ) => grpc.ClientWritableStream<WireMessage>
      )(this.metadata(), (err) => {
        this.open.delete(tracked);
        if (err) reject(fromGrpcError(err, this.address.qualified));
        else resolve();
      });
      this.open.add(tracked);
      void (async () => {
        try {
          for (const msg of fileOpsToWire(commit, ops, MAX_MSG_PAYLOAD_SIZE)) {
            if (!call.write(msg)) await once(call, 'drain');
          }
          call.end();
        } catch (e) {
          call.cancel();
          reject(fromGrpcError(e, this.address.qualified));
        }
      })();
    });
  }

  /**
   * {@inheritDoc Pachyderm.modifyFile}
   * Over gRPC: InspectCommit of the branch head, ModifyFile, then InspectCommit again to learn the
   * commit written into (see the module documentation: exact for one writer process).
   */
  async modifyFile(commit: CommitRef, ops: FileOp[]): Promise<Commit> {
    const target = toCommit(commit);
    if (target.id) {
      await this.sendModifyFile(target, ops);
      return target;
    }
    const key = `${target.repo.project.name}/${target.repo.name}.${target.repo.type}@${target.branch!.name}`;
    return this.serialized(key, () =>
      retryWithBackoff(async () => {
        const head = await this.inspectCommit(target).catch((e: unknown) => {
          if (isPachError(e, PachCode.NOT_FOUND)) return null;
          throw e;
        });
        // open (not even FINISHING): write into it by id. A FINISHING head refuses writes by id
        // on a real pachd, so it is written through the branch (pachd makes a child commit).
        if (head && !head.finishing) {
          await this.sendModifyFile({ repo: target.repo, id: head.commit.id, branch: null }, ops);
          return head.commit;
        }
        await this.sendModifyFile(target, ops);
        return this.childOf(target, head?.commit.id ?? null);
      }),
    );
  }

  /** The commit on `branch` whose parent is `parentId` (null: the root), walking back from the head. */
  private async childOf(branch: Commit, parentId: string | null): Promise<Commit> {
    let c = await this.inspectCommit(branch);
    for (let i = 0; i < 1000 && c.parentCommit && c.parentCommit.id !== parentId; i++) {
      c = await this.inspectCommit({ repo: branch.repo, id: c.parentCommit.id });
    }
    return c.commit;
  }

  /** {@inheritDoc Pachyderm.getFile} */
  getFile(file: FileRef, opts: { offset?: number } = {}): AsyncIterable<Buffer> {
    return this.stream(
      this.pfs,
      'GetFile',
      () => ({ file: fileToWire(toFile(file)), offset: opts.offset ?? 0 }),
      (m) => (m.value as Buffer) ?? Buffer.alloc(0),
    );
  }

  /** {@inheritDoc Pachyderm.readFile} Over gRPC: GetFile's chunks, concatenated. */
  async readFile(file: FileRef): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.getFile(file)) chunks.push(c);
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** {@inheritDoc Pachyderm.listFile} */
  listFile(
    file: FileRef,
    opts: { paginationMarker?: string; number?: number; reverse?: boolean } = {},
  ): AsyncIterable<FileInfo> {
    return this.stream(
      this.pfs,
      'ListFile',
      () => {
        const f = toFile(file);
        return {
          file: fileToWire(f),
          paginationMarker: opts.paginationMarker
            ? fileToWire({ commit: f.commit, path: opts.paginationMarker })
            : null,
          number: opts.number ?? 0,
          reverse: !!opts.reverse,
        };
      },
      fileInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.inspectFile} */
  async inspectFile(file: FileRef): Promise<FileInfo> {
    return fileInfoFromWire(
      await this.unary(this.pfs, 'InspectFile', { file: fileToWire(toFile(file)) }),
    );
  }

  /** {@inheritDoc Pachyderm.walkFile} */
  walkFile(file: FileRef): AsyncIterable<FileInfo> {
    return this.stream(
      this.pfs,
      'WalkFile',
      () => ({ file: fileToWire(toFile(file)) }),
      fileInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.globFile} */
  globFile(commit: CommitRef, pattern: string): AsyncIterable<FileInfo> {
    return this.stream(
      this.pfs,
      'GlobFile',
      () => ({ commit: commitToWire(toCommit(commit)), pattern }),
      fileInfoFromWire,
    );
  }

  // ----- pipelines ----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.createPipeline} */
  async createPipeline(
    spec: string | object,
    opts: { update?: boolean; reprocess?: boolean; dryRun?: boolean } = {},
  ): Promise<{ effectiveCreatePipelineRequestJson: string }> {
    const m = await this.unary(this.pps, 'CreatePipelineV2', {
      create_pipeline_request_json: typeof spec === 'string' ? spec : JSON.stringify(spec),
      dry_run: !!opts.dryRun,
      update: !!opts.update,
      reprocess: !!opts.reprocess,
    });
    return { effectiveCreatePipelineRequestJson: m.effective_create_pipeline_request_json ?? '' };
  }

  /** {@inheritDoc Pachyderm.inspectPipeline} */
  async inspectPipeline(pipeline: PipelineRef): Promise<PipelineInfo> {
    const m = await this.unary(this.pps, 'InspectPipeline', {
      pipeline: pipelineToWire(toPipeline(pipeline)),
      details: true,
    });
    return pipelineInfoFromWire(m);
  }

  /** {@inheritDoc Pachyderm.listPipeline} */
  listPipeline(
    opts: { pipeline?: PipelineRef; history?: number; projects?: ProjectRef[] } = {},
  ): AsyncIterable<PipelineInfo> {
    return this.stream(
      this.pps,
      'ListPipeline',
      () => ({
        pipeline: opts.pipeline ? pipelineToWire(toPipeline(opts.pipeline)) : null,
        history: opts.history ?? 0,
        details: true,
        projects: (opts.projects ?? []).map((p) => projectToWire(toProject(p))),
      }),
      pipelineInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.deletePipeline} */
  async deletePipeline(
    pipeline: PipelineRef,
    opts: { force?: boolean; keepRepo?: boolean; mustExist?: boolean } = {},
  ) {
    await this.unary(this.pps, 'DeletePipeline', {
      pipeline: pipelineToWire(toPipeline(pipeline)),
      force: !!opts.force,
      keep_repo: !!opts.keepRepo,
      must_exist: !!opts.mustExist,
    });
  }

  /** {@inheritDoc Pachyderm.stopPipeline} */
  async stopPipeline(pipeline: PipelineRef, opts: { mustExist?: boolean } = {}) {
    await this.unary(this.pps, 'StopPipeline', {
      pipeline: pipelineToWire(toPipeline(pipeline)),
      must_exist: !!opts.mustExist,
    });
  }

  /** {@inheritDoc Pachyderm.startPipeline} */
  async startPipeline(pipeline: PipelineRef) {
    await this.unary(this.pps, 'StartPipeline', {
      pipeline: pipelineToWire(toPipeline(pipeline)),
    });
  }

  // ----- jobs, datums, logs -------------------------------------------------------------------

  /**
   * {@inheritDoc Pachyderm.listJob}
   * Over gRPC: the `state` filter (and then `number`) is applied by the client.
   */
  listJob(opts: ListJobOptions = {}): AsyncIterable<JobInfo> {
    const states = opts.state?.length ? new Set(opts.state) : null;
    const inner = this.stream(
      this.pps,
      'ListJob',
      () => ({
        projects: (opts.projects ?? []).map((p) => projectToWire(toProject(p))),
        pipeline: opts.pipeline ? pipelineToWire(toPipeline(opts.pipeline)) : null,
        input_commit: (opts.inputCommit ?? []).map((c) => commitToWire(toCommit(c))),
        history: opts.history ?? -1,
        details: true,
        paginationMarker: timestampToWire(opts.paginationMarker),
        number: states ? 0 : (opts.number ?? 0),
        reverse: !!opts.reverse,
      }),
      jobInfoFromWire,
    );
    if (!states) return inner;
    const limit = opts.number ?? 0;
    return {
      async *[Symbol.asyncIterator]() {
        let n = 0;
        for await (const j of inner) {
          if (!states.has(j.state)) continue;
          yield j;
          if (limit && ++n >= limit) return;
        }
      },
    };
  }

  /** {@inheritDoc Pachyderm.inspectJob} */
  async inspectJob(job: JobRef, opts: { wait?: boolean } & Cancellable = {}): Promise<JobInfo> {
    const m = await this.unary(
      this.pps,
      'InspectJob',
      { job: jobToWire(toJob(job)), wait: !!opts.wait, details: true },
      opts.signal,
    );
    return jobInfoFromWire(m);
  }

  /** {@inheritDoc Pachyderm.subscribeJob} */
  subscribeJob(pipeline: PipelineRef, opts: Cancellable = {}): AsyncIterable<JobInfo> {
    return this.stream(
      this.pps,
      'SubscribeJob',
      () => ({ pipeline: pipelineToWire(toPipeline(pipeline)), details: true }),
      jobInfoFromWire,
      opts.signal,
    );
  }

  /**
   * {@inheritDoc Pachyderm.watchJobs}
   * Over gRPC: SubscribeJob + InspectJob{wait} (+ InspectJob polling every `watchPollMs`); states
   * shorter than the poll interval may be skipped (client-watch.ts).
   */
  watchJobs(opts: { pipeline?: PipelineRef } & Cancellable = {}): AsyncIterable<JobInfo> {
    return {
      [Symbol.asyncIterator]: () => {
        this.ensureOpen();
        return watchJobsOver(this, this.pollMs, opts);
      },
    };
  }

  /** {@inheritDoc Pachyderm.stopJob} */
  async stopJob(job: JobRef, opts: { reason?: string } = {}) {
    await this.unary(this.pps, 'StopJob', {
      job: jobToWire(toJob(job)),
      reason: opts.reason ?? '',
    });
  }

  /** {@inheritDoc Pachyderm.listDatum} */
  listDatum(job: JobRef, opts: ListDatumOptions = {}): AsyncIterable<DatumInfo> {
    return this.stream(
      this.pps,
      'ListDatum',
      () => ({
        job: jobToWire(toJob(job)),
        filter: opts.filter?.state ? { state: opts.filter.state.map(datumStateToWire) } : null,
        paginationMarker: opts.paginationMarker ?? '',
        number: opts.number ?? 0,
        reverse: !!opts.reverse,
      }),
      datumInfoFromWire,
    );
  }

  /** {@inheritDoc Pachyderm.inspectDatum} */
  async inspectDatum(datum: DatumRef): Promise<DatumInfo> {
    return datumInfoFromWire(
      await this.unary(this.pps, 'InspectDatum', { datum: datumToWire(toDatum(datum)) }),
    );
  }

  /** {@inheritDoc Pachyderm.getLogs} */
  getLogs(opts: GetLogsOptions): AsyncIterable<LogMessage> {
    return this.stream(
      this.pps,
      'GetLogs',
      () => ({
        pipeline: opts.pipeline ? pipelineToWire(toPipeline(opts.pipeline)) : null,
        job: opts.job ? jobToWire(toJob(opts.job)) : null,
        datum: opts.datum ? datumToWire(toDatum(opts.datum)) : null,
        data_filters: opts.dataFilters ?? [],
        master: !!opts.master,
        follow: !!opts.follow,
        tail: opts.tail ?? 0,
        since: opts.sinceMs !== undefined ? durationMsToWire(opts.sinceMs) : null,
      }),
      logMessageFromWire,
      opts.signal,
    );
  }

  // ----- lifecycle ----------------------------------------------------------------------------

  /** {@inheritDoc Pachyderm.close} */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.open]) c.cancel();
    this.open.clear();
    for (const c of [this.pfs, this.pps, this.versionApi, this.health]) c.close();
    this.channel.close();
  }
}
