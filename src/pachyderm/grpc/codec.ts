/**
 * Pure mapping between the port's types (../types.ts, ../refs.ts) and the messages of reelgraph's
 * .proto subset of Pachyderm 2.x (proto/*.proto), as @grpc/proto-loader presents them with
 * `LOADER_OPTIONS` (protos.ts): proto field names (`size_bytes_upper_bound`), enums as their names
 * (`'JOB_SUCCESS'`), int64 as numbers, bytes as Buffers, timestamps as `{seconds, nanos}`.
 *
 * `xToWire` builds the message a sender writes; `xFromWire` reads a received message (every field
 * present, as `defaults: true` decodes them: absent sub-messages are `null`). Field lists follow
 * shared/pachyderm-api.md §2.3 and §2.5. Enum mappers are exhaustive (`switch` with a `never`
 * default): adding a member to a port enum without mapping it fails to compile; an enum name the
 * subset does not know (a newer pachd) decodes as the enum's UNKNOWN member.
 */
//
// Split by concern (no behaviour of its own): codec-wire.ts (shapes, scalars, references),
// codec-pfs.ts (PFS infos, ModifyFile requests), codec-pps.ts (PPS spec blocks and infos),
// codec-enums.ts (enums).
export * from './codec-enums';
export * from './codec-wire';
export * from './codec-pfs';
export * from './codec-pps';
