/**
 * Loading reelgraph's .proto subset of Pachyderm 2.x (`proto/`: pfs_v2, pps_v2, versionpb_v2,
 * auth_v2, grpc.health.v1) with @grpc/proto-loader, and the channel options pachd uses.
 *
 * The .proto files live next to this module in the sources (`src/pachyderm/grpc/proto`); `tsc`
 * does not copy them, so the compiled module (`dist/pachyderm/grpc`) finds them in the package's
 * `src/` tree, which the worker image also ships (workers/Dockerfile).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The gRPC metadata key of a Pachyderm token (pachyderm `constants.ContextTokenKey`). */
export const AUTH_METADATA_KEY = 'authn-token';

/** The .proto files of the subset, in load order. */
export const PROTO_FILES = [
  'pfs.proto',
  'pps.proto',
  'version.proto',
  'health.proto',
  'auth.proto',
] as const;

/**
 * pachd's message limit for both directions, client and server: 20 MiB
 * (pachyderm `src/internal/grpcutil` `MaxMsgSize`; shared/pachyderm-api.md §3.5).
 */
export const MAX_MSG_SIZE = 20 * 1024 * 1024;

/**
 * Chunk size of byte streams (GetFile, ModifyFile `add_file`): 19 MiB (pachyderm `grpcutil`
 * `MaxMsgPayloadSize`), leaving room for the envelope under {@link MAX_MSG_SIZE}.
 */
export const MAX_MSG_PAYLOAD_SIZE = 19 * 1024 * 1024;

/**
 * Options for `protoLoader.loadSync` (STACK.md): proto field names kept (`keepCase`, so messages
 * are written with the wire names `size_bytes_upper_bound`, `set_commit`…), enums as their names,
 * int64 as JavaScript numbers (exact up to 2^53 − 1: sizes below 8 PiB, counts, seconds — larger
 * values lose precision, knowingly), bytes as Buffers, missing fields filled with their defaults,
 * and a virtual field naming the member set in each oneof (`body: 'add_file'`).
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: false,
  oneofs: true,
};

/**
 * Channel options shared by the client and the server: 20 MiB messages both ways; client
 * keepalive pings every 20 s with a 20 s timeout, allowed without calls (pachd's Go client
 * values; pachd refuses pings more frequent than every 5 s with GOAWAY `too_many_pings`), and a
 * 4 MiB HTTP/2 flow-control window on the client's connections (grpc-js's default is 64 KiB, which
 * stalls large byte streams such as GetFile every 64 KiB).
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MSG_SIZE,
  'grpc.max_send_message_length': MAX_MSG_SIZE,
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  // HTTP/2 flow-control window of 4 MiB (default 64 KiB): fewer stalls on 19 MiB byte streams
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
};

/**
 * The directory holding the .proto files: next to this module (sources), else in the package's
 * `src/` tree (compiled `dist/`, the worker image). `REELGRAPH_PROTO_DIR` overrides both.
 * @throws Error naming the directories searched when none holds `pfs.proto`
 */
export function protoDir(): string {
  const candidates = [
    process.env.REELGRAPH_PROTO_DIR,
    path.join(__dirname, 'proto'),
    path.resolve(__dirname, '../../../src/pachyderm/grpc/proto'),
  ].filter((d): d is string => !!d);
  for (const d of candidates) {
    if (fs.existsSync(path.join(d, 'pfs.proto'))) return d;
  }
  throw new Error(
    `reelgraph's .proto files (pfs.proto …) not found; searched ${candidates.join(', ')}`,
  );
}

/** The service constructors of the loaded subset. */
export interface PachProtos {
  pfs: grpc.ServiceClientConstructor;
  pps: grpc.ServiceClientConstructor;
  version: grpc.ServiceClientConstructor;
  health: grpc.ServiceClientConstructor;
  /** `auth_v2.API` (WhoAmI, robot tokens, role bindings; proto/auth.proto). */
  auth: grpc.ServiceClientConstructor;
}

let cached: PachProtos | undefined;

/**
 * Loads the subset once per process (see {@link LOADER_OPTIONS}) and returns the service
 * constructors `pfs_v2.API`, `pps_v2.API`, `versionpb_v2.API` and `grpc.health.v1.Health`.
 * @throws Error when the .proto files are missing or do not parse
 */
export function loadProtos(): PachProtos {
  if (cached) return cached;
  const dir = protoDir();
  const def = protoLoader.loadSync(
    PROTO_FILES.map((f) => path.join(dir, f)),
    { ...LOADER_OPTIONS, includeDirs: [dir] },
  );
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    pfs_v2: { API: grpc.ServiceClientConstructor };
    pps_v2: { API: grpc.ServiceClientConstructor };
    versionpb_v2: { API: grpc.ServiceClientConstructor };
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    auth_v2: { API: grpc.ServiceClientConstructor };
  };
  cached = {
    pfs: pkg.pfs_v2.API,
    pps: pkg.pps_v2.API,
    version: pkg.versionpb_v2.API,
    health: pkg.grpc.health.v1.Health,
    auth: pkg.auth_v2.API,
  };
  return cached;
}
