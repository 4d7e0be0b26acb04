/**
 * A pachd stand-in: serves ANY {@link Pachyderm} (the embedded engine in practice) over Pachyderm
 * 2.x's gRPC protocol — `pfs_v2.API`, `pps_v2.API` (the subset in proto/), `versionpb_v2.API/
 * GetVersion` and `grpc.health.v1.Health/Check` — so that pachctl-style clients, reelgraph's own
 * gRPC client (client.ts) and tests can talk to it as to a real pachd.
 *
 * Stream semantics follow pachd (shared/pachyderm-api.md §2.4, §2.6, §7):
 * - List*, Walk/GlobFile, InspectCommitSet, ListDatum: every item, then the stream closes;
 * - SubscribeCommit / SubscribeJob / GetLogs{follow}: never end by themselves; a client cancel
 *   stops them (the port's iterator is returned);
 * - ModifyFile: a client stream whose first message must be `set_commit` ("first message must be
 *   a commit"; a later one fails with "cannot set commit"); the modifications are collected and
 *   applied at the end of the stream as ONE port `modifyFile` call (atomic; a branch head that is
 *   finished or missing gets a one-off commit, as pachd does), then `Empty` is answered;
 * - GetFile: `BytesValue` chunks of at most 19 MiB (`MaxMsgPayloadSize`);
 * - InspectCommit{wait} / InspectJob{wait} / InspectCommitSet{wait} block; a client cancel
 *   cancels the wait.
 * Errors are the port's {@link PachError}s with their gRPC code and message (status.ts).
 *
 * Optional authentication: with `token` set, every call must carry the metadata `authn-token`
 * equal to it (pachd's `constants.ContextTokenKey`), else `UNAUTHENTICATED`. Health/Check stays
 * open (probes carry no token). With `auth` instead: Pachyderm's auth as a 2.12 pachd with auth
 * activated — robot tokens, role bindings, a role check per call, `auth_v2.API` (auth.ts).
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PachCode, invalidArgument, isPachError, unimplemented } from '../errors';
import type { FileOp, Pachyderm } from '../port';
import type { ProjectRef } from '../refs';
import {
  branchFromWire,
  branchInfoToWire,
  commitFromWire,
  commitInfoToWire,
  commitStateFromWire,
  commitToWire,
  datumFromWire,
  datumInfoToWire,
  datumStateFromWire,
  durationMsFromWire,
  fileFromWire,
  fileInfoToWire,
  jobFromWire,
  jobInfoToWire,
  logMessageToWire,
  originKindFromWire,
  pipelineFromWire,
  pipelineInfoToWire,
  projectFromWire,
  projectInfoToWire,
  repoFromWire,
  repoInfoToWire,
  timestampFromWire,
  type WireMessage,
} from './codec';
import { AUTH_METADATA_KEY, CHANNEL_OPTIONS, MAX_MSG_PAYLOAD_SIZE, loadProtos } from './protos';
import { pumpStream } from './server-stream';
import { toGrpcStatus } from './status';
import type { StandInAuth } from './auth';
import { CommitState, OriginKind } from '../types';

/** pachd's default gRPC port (`PORT`, container `api-grpc-port`; shared/pachyderm-api.md §3.1). */
export const DEFAULT_PACHD_PORT = 1650;

/** Options of {@link startPachdServer}. */
export interface PachdServerOptions {
  /** Interface to bind (default `127.0.0.1`: local only; `0.0.0.0` for every interface). */
  host?: string;
  /** TCP port (default {@link DEFAULT_PACHD_PORT}); 0 = any free port (see `PachdServer.port`). */
  port?: number;
  /** Serve on this Unix socket path instead of `host:port` (dial it as `unix:///path`). */
  unixSocket?: string;
  /** When set, every call but Health/Check must send metadata `authn-token` with this value. */
  token?: string;
  /**
   * Pachyderm auth as a 2.12 pachd with auth activated: robot tokens, role bindings and a role
   * check on every call, plus `auth_v2.API` (auth.ts). Takes the place of `token`.
   */
  auth?: StandInAuth;
  /**
   * The version GetVersion reports (default {@link STAND_IN_VERSION}); tests set an old one to
   * check that clients refuse it.
   */
  version?: { major: number; minor: number; micro: number; additional?: string };
  /** Server credentials (default plaintext, as pachd without TLS certificates). */
  credentials?: grpc.ServerCredentials;
}

/** A running stand-in; see {@link startPachdServer}. */
export interface PachdServer {
  /** The bound address, `host:port` (IPv6 hosts in brackets), or `unix:///path`. */
  readonly address: string;
  /** The bound port (the real one when 0 was asked; 0 for a Unix socket). */
  readonly port: number;
  /**
   * Stops accepting calls, cancels the open streams (subscriptions, follows) and waits for the
   * calls in flight to end (at most `graceMs`, default 5000 ms, then forces). Does not close the
   * served `Pachyderm`.
   */
  close(graceMs?: number): Promise<void>;
}

/** The version reported by `versionpb_v2.API/GetVersion`: the pachd release the subset follows. */
export const STAND_IN_VERSION = {
  major: 2,
  minor: 12,
  micro: 0,
  additional: `-reelgraph.${packageVersion()}`,
  git_commit: '',
};

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../../package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

type Handler = grpc.UntypedHandleCall;
type ServerCall =
  | grpc.ServerUnaryCall<WireMessage, WireMessage>
  | grpc.ServerWritableStream<WireMessage, WireMessage>
  | grpc.ServerReadableStream<WireMessage, WireMessage>;

/** Calls whose stream must be cancelled at close. */
interface Tracked {
  cancel(): void;
}

/**
 * Starts a pachd stand-in serving `pach` (see the module documentation).
 * @returns once bound; `address`/`port` tell where
 * @throws Error when the address cannot be bound (e.g. `EADDRINUSE`), naming it
 */
export async function startPachdServer(
  pach: Pachyderm,
  opts: PachdServerOptions = {},
): Promise<PachdServer> {
  const protos = loadProtos();
  const host = opts.host ?? '127.0.0.1';
  // 20 MiB messages both ways; the server pings idle clients every 20 s (grpc-js servers accept
  // client pings at any rate, unlike pachd, which wants at least 5 s between them)
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const open = new Set<Tracked>();
  const token = opts.token;

  const auth = opts.auth;
  auth?.useRepoLookup(async (name) => {
    const [project, repo] = name.split('/');
    try {
      await pach.inspectRepo({ name: repo, project: { name: project }, type: 'user' });
      return true;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return false;
      throw e;
    }
  });
  const authorized = (call: ServerCall): boolean => {
    if (!token || auth) return true;
    const got = call.metadata.get(AUTH_METADATA_KEY)[0];
    return got !== undefined && String(got) === token;
  };
  const authError = (call: ServerCall): grpc.ServiceError => {
    const got = call.metadata.get(AUTH_METADATA_KEY)[0];
    const details =
      got === undefined
        ? 'no authentication token (try logging in)'
        : 'provided auth token is corrupted or has expired (try logging in again)';
    return Object.assign(new Error(details), {
      code: grpc.status.UNAUTHENTICATED,
      details,
      metadata: new grpc.Metadata(),
    });
  };
  const statusError = (e: unknown): grpc.ServiceError => {
    const s = toGrpcStatus(e);
    return Object.assign(new Error(s.details), {
      ...s,
      metadata: s.metadata ?? new grpc.Metadata(),
    });
  };

  /**
   * With `auth`: each handler of `impl` first checks the caller's token and role (auth.ts), and a
   * successful unary call then grants what it implies (the creator owns a new repo). Client
   * streams (ModifyFile) check themselves once their commit is known.
   */
  const guarded = (
    pkg: string,
    def: grpc.ServiceDefinition,
    impl: grpc.UntypedServiceImplementation,
  ): grpc.UntypedServiceImplementation => {
    if (!auth) return impl;
    const out: grpc.UntypedServiceImplementation = {};
    for (const [name, h] of Object.entries(impl)) {
      const m = def[name];
      if (!m || m.requestStream) {
        out[name] = h;
        continue;
      }
      const handler = h as (call: ServerCall, cb?: grpc.sendUnaryData<WireMessage>) => void;
      out[name] = ((call: ServerCall, cb?: grpc.sendUnaryData<WireMessage>) => {
        const check = async () => {
          if (auth.isOpen(pkg, name)) return undefined;
          const subject = auth.subjectOf(call.metadata);
          return auth.authorize(pkg, name, (call as { request: WireMessage }).request, subject);
        };
        check().then(
          (grant) => {
            if (m.responseStream || !grant) return handler(call, cb);
            handler(call, (err, res) => {
              if (!err) grant();
              cb!(err, res);
            });
          },
          (e: unknown) => {
            if (m.responseStream) call.emit('error', statusError(e));
            else cb!(statusError(e));
          },
        );
      }) as Handler;
    }
    return out;
  };

  /** A unary RPC: `fn` maps the request to the response (errors become statuses). */
  const unary =
    (fn: (req: WireMessage, signal: AbortSignal) => Promise<WireMessage>): Handler =>
    (call: grpc.ServerUnaryCall<WireMessage, WireMessage>, cb: grpc.sendUnaryData<WireMessage>) => {
      if (!authorized(call)) return cb(authError(call));
      const ctl = new AbortController();
      const t: Tracked = { cancel: () => ctl.abort() };
      open.add(t);
      call.on('cancelled', () => ctl.abort());
      fn(call.request, ctl.signal).then(
        (res) => {
          open.delete(t);
          cb(null, res);
        },
        (e) => {
          open.delete(t);
          cb(statusError(e));
        },
      );
    };

  /** A server-streaming RPC: every item of `fn`'s iterable is written, then the stream ends. */
  const stream =
    (fn: (req: WireMessage, signal: AbortSignal) => AsyncIterable<WireMessage>): Handler =>
    (call: grpc.ServerWritableStream<WireMessage, WireMessage>) => {
      if (!authorized(call)) {
        call.emit('error', authError(call));
        return;
      }
      const ctl = new AbortController();
      const t: Tracked = { cancel: () => ctl.abort() };
      open.add(t);
      call.on('cancelled', () => ctl.abort());
      void (async () => {
        let it: AsyncIterator<WireMessage> | undefined;
        try {
          it = fn(call.request, ctl.signal)[Symbol.asyncIterator]();
          const sink = {
            write: (m: WireMessage) => call.write(m),
            drained: () => once(call, 'drain', { signal: ctl.signal }).then(() => undefined),
          };
          const how = await pumpStream(it, sink, ctl.signal);
          if (how === 'ended' && !ctl.signal.aborted) call.end();
        } catch (e) {
          if (!ctl.signal.aborted) call.emit('error', statusError(e));
        } finally {
          open.delete(t);
          if (ctl.signal.aborted) {
            // a cancelled call or a closing server: release the port's iterator (subscriptions)
            void it?.return?.()?.catch(() => undefined);
            if (!call.cancelled) call.end();
          }
        }
      })();
    };

  const projects = (list: unknown): ProjectRef[] | undefined => {
    const ps = ((list ?? []) as WireMessage[]).map(projectFromWire);
    return ps.length ? ps : undefined;
  };
  const map = <A, B>(src: AsyncIterable<A>, f: (a: A) => B): AsyncIterable<B> => ({
    async *[Symbol.asyncIterator]() {
      for await (const a of src) yield f(a);
    },
  });
  const empty = {};

  // ----- pfs_v2.API ---------------------------------------------------------------------------
  const pfs: grpc.UntypedServiceImplementation = {
    CreateProject: unary(async (r) => {
      await pach.createProject(projectFromWire(r.project), {
        description: r.description,
        update: r.update,
      });
      return empty;
    }),
    InspectProject: unary(async (r) =>
      projectInfoToWire(await pach.inspectProject(projectFromWire(r.project))),
    ),
    ListProject: stream(() => map(pach.listProject(), projectInfoToWire)),
    DeleteProject: unary(async (r) => {
      await pach.deleteProject(projectFromWire(r.project), { force: r.force });
      return empty;
    }),

    CreateRepo: unary(async (r) => {
      await pach.createRepo(repoFromWire(r.repo), {
        description: r.description,
        update: r.update,
      });
      return empty;
    }),
    InspectRepo: unary(async (r) => repoInfoToWire(await pach.inspectRepo(repoFromWire(r.repo)))),
    ListRepo: stream((r) =>
      map(
        pach.listRepo({
          type: (r.type ?? '') as '' | 'user' | 'spec' | 'meta',
          projects: projects(r.projects),
        }),
        repoInfoToWire,
      ),
    ),
    DeleteRepo: unary(async (r) => pach.deleteRepo(repoFromWire(r.repo), { force: r.force })),

    StartCommit: unary(async (r) => {
      if (!r.branch) throw invalidArgument('branch is required to start a commit');
      const c = await pach.startCommit(branchFromWire(r.branch), {
        parent: r.parent ? commitFromWire(r.parent) : undefined,
        description: r.description,
      });
      return commitToWire(c);
    }),
    FinishCommit: unary(async (r) => {
      // an empty description keeps StartCommit's (pachd overwrites only with a non-empty one)
      await pach.finishCommit(commitFromWire(r.commit ?? {}), {
        description: r.description || undefined,
        error: r.error || undefined,
        force: r.force,
      });
      return empty;
    }),
    InspectCommit: unary(async (r, signal) =>
      commitInfoToWire(
        await pach.inspectCommit(commitFromWire(r.commit ?? {}), {
          wait: commitStateFromWire(r.wait ?? 0) || CommitState.STARTED,
          signal,
        }),
      ),
    ),
    ListCommit: stream((r) => {
      const originKind = originKindFromWire(r.origin_kind ?? 0);
      return map(
        pach.listCommit(repoFromWire(r.repo), {
          from: r.from ? commitFromWire(r.from) : undefined,
          to: r.to ? commitFromWire(r.to) : undefined,
          number: Number(r.number ?? 0),
          reverse: r.reverse,
          all: r.all,
          originKind: originKind === OriginKind.ORIGIN_KIND_UNKNOWN ? undefined : originKind,
          startedTime: timestampFromWire(r.started_time) ?? undefined,
        }),
        commitInfoToWire,
      );
    }),
    SubscribeCommit: stream((r, signal) => {
      const originKind = originKindFromWire(r.origin_kind ?? 0);
      return map(
        pach.subscribeCommit(repoFromWire(r.repo), {
          branch: r.branch || undefined,
          from: r.from ? commitFromWire(r.from) : undefined,
          state: commitStateFromWire(r.state ?? 0) || CommitState.STARTED,
          all: r.all,
          originKind: originKind === OriginKind.ORIGIN_KIND_UNKNOWN ? undefined : originKind,
          signal,
        }),
        commitInfoToWire,
      );
    }),
    InspectCommitSet: stream((r, signal) =>
      map(
        pach.inspectCommitSet(r.commit_set?.id ?? '', { wait: r.wait, signal }),
        commitInfoToWire,
      ),
    ),

    CreateBranch: unary(async (r) => {
      if (!r.branch) throw invalidArgument('branch is required');
      await pach.createBranch(branchFromWire(r.branch), {
        head: r.head ? commitFromWire(r.head) : undefined,
        provenance: ((r.provenance ?? []) as WireMessage[]).map(branchFromWire),
        newCommitSet: r.new_commit_set,
      });
      return empty;
    }),
    InspectBranch: unary(async (r) =>
      branchInfoToWire(await pach.inspectBranch(branchFromWire(r.branch ?? {}))),
    ),
    ListBranch: stream((r) =>
      map(pach.listBranch(repoFromWire(r.repo), { reverse: r.reverse }), branchInfoToWire),
    ),
    DeleteBranch: unary(async (r) => {
      await pach.deleteBranch(branchFromWire(r.branch ?? {}), { force: r.force });
      return empty;
    }),

    ModifyFile: (
      call: grpc.ServerReadableStream<WireMessage, WireMessage>,
      cb: grpc.sendUnaryData<WireMessage>,
    ) => {
      if (!authorized(call)) {
        cb(authError(call));
        return;
      }
      let subject = '';
      try {
        if (auth) subject = auth.subjectOf(call.metadata);
      } catch (e) {
        cb(statusError(e));
        return;
      }
      const t: Tracked = { cancel: () => undefined };
      open.add(t);
      const collected = new ModifyFileCollector();
      let failure: unknown;
      call.on('data', (req: WireMessage) => {
        if (failure) return;
        try {
          collected.add(req);
        } catch (e) {
          failure = e;
        }
      });
      call.on('error', () => open.delete(t));
      call.on('cancelled', () => open.delete(t)); // a cancelled stream may never end
      call.on('end', () => {
        const finish = async () => {
          if (failure) throw failure;
          const { commit, ops } = collected.result();
          await auth?.authorize('pfs_v2', 'ModifyFile', { commit } as WireMessage, subject);
          await pach.modifyFile(commit, ops);
        };
        finish().then(
          () => {
            open.delete(t);
            cb(null, empty);
          },
          (e) => {
            open.delete(t);
            cb(statusError(e));
          },
        );
      });
    },
    GetFile: stream((r) => {
      if (r.URL) throw unimplemented('GetFile with URL (egress)');
      return rechunk(
        pach.getFile(fileFromWire(r.file ?? {}), { offset: Number(r.offset ?? 0) }),
        MAX_MSG_PAYLOAD_SIZE,
      );
    }),
    InspectFile: unary(async (r) =>
      fileInfoToWire(await pach.inspectFile(fileFromWire(r.file ?? {}))),
    ),
    ListFile: stream((r) =>
      map(
        pach.listFile(fileFromWire(r.file ?? {}), {
          paginationMarker: r.paginationMarker?.path || undefined,
          number: Number(r.number ?? 0),
          reverse: r.reverse,
        }),
        fileInfoToWire,
      ),
    ),
    WalkFile: stream((r) => map(pach.walkFile(fileFromWire(r.file ?? {})), fileInfoToWire)),
    GlobFile: stream((r) =>
      map(pach.globFile(commitFromWire(r.commit ?? {}), r.pattern ?? ''), fileInfoToWire),
    ),
  };

  // ----- pps_v2.API ---------------------------------------------------------------------------
  const pps: grpc.UntypedServiceImplementation = {
    CreatePipelineV2: unary(async (r) => {
      const res = await pach.createPipeline(r.create_pipeline_request_json ?? '', {
        update: r.update,
        reprocess: r.reprocess,
        dryRun: r.dry_run,
      });
      return { effective_create_pipeline_request_json: res.effectiveCreatePipelineRequestJson };
    }),
    InspectPipeline: unary(async (r) =>
      pipelineInfoToWire(await pach.inspectPipeline(pipelineFromWire(r.pipeline))),
    ),
    ListPipeline: stream((r) =>
      map(
        pach.listPipeline({
          pipeline: r.pipeline?.name ? pipelineFromWire(r.pipeline) : undefined,
          history: Number(r.history ?? 0),
          projects: projects(r.projects),
        }),
        pipelineInfoToWire,
      ),
    ),
    DeletePipeline: unary(async (r) => {
      await pach.deletePipeline(pipelineFromWire(r.pipeline), {
        force: r.force,
        keepRepo: r.keep_repo,
        mustExist: r.must_exist,
      });
      return empty;
    }),
    StartPipeline: unary(async (r) => {
      await pach.startPipeline(pipelineFromWire(r.pipeline));
      return empty;
    }),
    StopPipeline: unary(async (r) => {
      await pach.stopPipeline(pipelineFromWire(r.pipeline), { mustExist: r.must_exist });
      return empty;
    }),
    InspectJob: unary(async (r, signal) =>
      jobInfoToWire(await pach.inspectJob(jobFromWire(r.job), { wait: r.wait, signal })),
    ),
    ListJob: stream((r) =>
      map(
        pach.listJob({
          pipeline: r.pipeline?.name ? pipelineFromWire(r.pipeline) : undefined,
          projects: projects(r.projects),
          inputCommit: ((r.input_commit ?? []) as WireMessage[]).map(commitFromWire),
          history: Number(r.history ?? 0),
          paginationMarker: timestampFromWire(r.paginationMarker) ?? undefined,
          number: Number(r.number ?? 0),
          reverse: r.reverse,
        }),
        jobInfoToWire,
      ),
    ),
    SubscribeJob: stream((r, signal) =>
      map(pach.subscribeJob(pipelineFromWire(r.pipeline), { signal }), jobInfoToWire),
    ),
    StopJob: unary(async (r) => {
      await pach.stopJob(jobFromWire(r.job), { reason: r.reason || undefined });
      return empty;
    }),
    InspectDatum: unary(async (r) =>
      datumInfoToWire(await pach.inspectDatum(datumFromWire(r.datum))),
    ),
    ListDatum: stream((r) => {
      if (r.input) throw unimplemented('ListDatum with an input (datum dry run)');
      const states = ((r.filter?.state ?? []) as (string | number)[]).map(datumStateFromWire);
      return map(
        pach.listDatum(jobFromWire(r.job), {
          filter: states.length ? { state: states } : undefined,
          paginationMarker: r.paginationMarker || undefined,
          number: Number(r.number ?? 0),
          reverse: r.reverse,
        }),
        datumInfoToWire,
      );
    }),
    GetLogs: stream((r, signal) =>
      map(
        pach.getLogs({
          pipeline: r.pipeline?.name ? pipelineFromWire(r.pipeline) : undefined,
          job: r.job?.id ? jobFromWire(r.job) : undefined,
          datum: r.datum?.id ? datumFromWire(r.datum) : undefined,
          dataFilters: r.data_filters?.length ? r.data_filters : undefined,
          master: r.master,
          follow: r.follow,
          tail: Number(r.tail ?? 0),
          sinceMs: r.since ? durationMsFromWire(r.since) : undefined,
          signal,
        }),
        logMessageToWire,
      ),
    ),
  };

  server.addService(protos.pfs.service, guarded('pfs_v2', protos.pfs.service, pfs));
  server.addService(protos.pps.service, guarded('pps_v2', protos.pps.service, pps));
  server.addService(
    protos.version.service,
    guarded('versionpb_v2', protos.version.service, {
      GetVersion: unary(async () =>
        opts.version ? { additional: '', git_commit: '', ...opts.version } : STAND_IN_VERSION,
      ),
    }),
  );
  if (auth) {
    const withSubject =
      (fn: (subject: string, req: WireMessage) => WireMessage): Handler =>
      (
        call: grpc.ServerUnaryCall<WireMessage, WireMessage>,
        cb: grpc.sendUnaryData<WireMessage>,
      ) => {
        try {
          cb(null, fn(auth.subjectOf(call.metadata), call.request));
        } catch (e) {
          cb(statusError(e));
        }
      };
    server.addService(protos.auth.service, {
      WhoAmI: withSubject(auth.api.WhoAmI),
      GetRobotToken: withSubject(auth.api.GetRobotToken),
      ModifyRoleBinding: withSubject(auth.api.ModifyRoleBinding),
      GetRoleBinding: withSubject(auth.api.GetRoleBinding),
      RevokeAuthToken: withSubject(auth.api.RevokeAuthToken),
    });
  }
  server.addService(protos.health.service, {
    Check: (
      _call: grpc.ServerUnaryCall<WireMessage, WireMessage>,
      cb: grpc.sendUnaryData<WireMessage>,
    ) => cb(null, { status: 'SERVING' }),
  });

  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const target = opts.unixSocket
    ? `unix://${opts.unixSocket}`
    : `${bindHost}:${opts.port ?? DEFAULT_PACHD_PORT}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      target,
      opts.credentials ?? grpc.ServerCredentials.createInsecure(),
      (err, p) =>
        err
          ? reject(new Error(`cannot serve pachd's API on ${target}: ${err.message}`))
          : resolve(p),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    address: opts.unixSocket ? target : `${bindHost}:${port}`,
    port,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        for (const t of [...open]) t.cancel();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

/**
 * Collects the messages of one ModifyFile stream into a commit and port {@link FileOp}s, with
 * pachd's rules (src/server/pfs/server/api_server.go `ModifyFile`): the first message sets the
 * commit, `add_file` appends (a missing source writes an empty file), `delete_file` deletes,
 * `copy_file` copies. A `delete_file` immediately followed by `add_file`s of the same path and
 * datum (the Go client's overwriting PutFile) becomes one `put` with the chunks concatenated.
 */
export class ModifyFileCollector {
  private commit: ReturnType<typeof commitFromWire> | null = null;
  private readonly ops: (FileOp & { chunks?: Buffer[] })[] = [];

  /**
   * Adds one `ModifyFileRequest`.
   * @throws PachError INVALID_ARGUMENT "first message must be a commit" / "cannot set commit";
   *   UNIMPLEMENTED for `add_file.url`
   */
  add(req: WireMessage): void {
    const body = req.body as string | undefined;
    if (body === 'set_commit') {
      if (this.commit) throw invalidArgument('cannot set commit: the commit is already set');
      this.commit = commitFromWire(req.set_commit ?? {});
      return;
    }
    if (!this.commit) throw invalidArgument('first message must be a commit (set_commit)');
    if (body === 'add_file') {
      const a = req.add_file as WireMessage;
      if (a.source === 'url') throw unimplemented('AddFile from a URL');
      const data: Buffer = a.raw?.value ?? Buffer.alloc(0);
      const datum = (a.datum as string) || undefined;
      const last = this.ops[this.ops.length - 1];
      if (
        last &&
        (last.op === 'put' || last.op === 'append') &&
        last.path === a.path &&
        last.datum === datum &&
        last.chunks
      ) {
        last.chunks.push(data);
      } else if (last && last.op === 'delete' && last.path === a.path && last.datum === datum) {
        this.ops[this.ops.length - 1] = { op: 'put', path: a.path, data, datum, chunks: [data] };
      } else {
        this.ops.push({ op: 'append', path: a.path, data, datum, chunks: [data] });
      }
    } else if (body === 'delete_file') {
      const d = req.delete_file as WireMessage;
      this.ops.push({ op: 'delete', path: d.path, datum: (d.datum as string) || undefined });
    } else if (body === 'copy_file') {
      const c = req.copy_file as WireMessage;
      if (!c.src) throw invalidArgument('copy_file.src is required');
      this.ops.push({
        op: 'copy',
        src: fileFromWire(c.src),
        dst: c.dst,
        append: c.append,
        datum: (c.datum as string) || undefined,
      });
    } else {
      throw invalidArgument(`ModifyFileRequest has no body (got ${JSON.stringify(body)})`);
    }
  }

  /**
   * The commit and the operations, in order.
   * @throws PachError INVALID_ARGUMENT "first message must be a commit" for an empty stream
   */
  result(): { commit: ReturnType<typeof commitFromWire>; ops: FileOp[] } {
    if (!this.commit) throw invalidArgument('first message must be a commit (set_commit)');
    const ops = this.ops.map((o): FileOp => {
      if (o.op === 'put' || o.op === 'append') {
        const { chunks, ...rest } = o;
        const data = chunks && chunks.length > 1 ? Buffer.concat(chunks) : rest.data;
        const out = { ...rest, data } as FileOp;
        if (out.datum === undefined) delete out.datum;
        return out;
      }
      if ('datum' in o && o.datum === undefined) {
        const { datum: _d, ...rest } = o;
        void _d;
        return rest as FileOp;
      }
      return o;
    });
    return { commit: this.commit, ops };
  }
}

/** Re-cuts a byte stream into `BytesValue` messages of at most `max` bytes. */
async function* rechunk(src: AsyncIterable<Buffer>, max: number): AsyncGenerator<WireMessage> {
  for await (const chunk of src) {
    for (let off = 0; off < chunk.length; off += max) {
      yield { value: chunk.subarray(off, Math.min(chunk.length, off + max)) };
    }
  }
}
