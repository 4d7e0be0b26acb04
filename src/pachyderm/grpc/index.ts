/**
 * The gRPC adapter of the Pachyderm port: reelgraph's .proto subset of pachd 2.x (proto/), the
 * codec between the port's types and its messages, a client (`connectPachd`) and a server that
 * exposes any `Pachyderm` as a pachd stand-in (`startPachdServer`).
 */
export { DEFAULT_PACHD_NODE_PORT, parsePachdAddress, type PachdAddress } from './address';
export { connectPachd, GrpcPachyderm, type ConnectOptions, type PachdVersion } from './client';
export {
  AUTH_METADATA_KEY,
  MAX_MSG_PAYLOAD_SIZE,
  MAX_MSG_SIZE,
  loadProtos,
  protoDir,
} from './protos';
export {
  DEFAULT_PACHD_PORT,
  STAND_IN_VERSION,
  startPachdServer,
  type PachdServer,
  type PachdServerOptions,
} from './server';
export { fromGrpcError, toGrpcStatus } from './status';
