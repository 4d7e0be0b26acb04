/**
 * The codec's PFS half (codec.ts is the entry point): `pfs_v2` infos (ProjectInfo, RepoInfo,
 * BranchInfo, CommitInfo, FileInfo) and the `ModifyFileRequest` stream of a port `modifyFile`
 * call (see codec.ts for the conventions).
 */
import {
  type Commit,
  type CommitInfo,
  type FileInfo,
  type ProjectInfo,
  type RepoInfo,
  type BranchInfo,
} from '../types';
import { invalidArgument } from '../errors';
import type { FileData, FileOp } from '../port';
import { toFile } from '../refs';
import {
  originKindToWire,
  originKindFromWire,
  fileTypeToWire,
  fileTypeFromWire,
} from './codec-enums';
import {
  type WireMessage,
  timestampToWire,
  timestampFromWire,
  hexToBytes,
  bytesToHex,
  projectToWire,
  projectFromWire,
  repoToWire,
  repoFromWire,
  branchToWire,
  branchFromWire,
  commitToWire,
  commitFromWire,
  fileToWire,
  fileFromWire,
} from './codec-wire';

// ---------------------------------------------------------------------------------------------
// PFS infos
// ---------------------------------------------------------------------------------------------

/** {@link ProjectInfo} → `pfs_v2.ProjectInfo`. */
export function projectInfoToWire(p: ProjectInfo): WireMessage {
  return {
    project: projectToWire(p.project),
    description: p.description,
    created_at: timestampToWire(p.createdAt),
  };
}

/** `pfs_v2.ProjectInfo` → {@link ProjectInfo} (an unset `created_at` reads as the epoch). */
export function projectInfoFromWire(m: WireMessage): ProjectInfo {
  return {
    project: projectFromWire(m.project),
    description: m.description ?? '',
    createdAt: timestampFromWire(m.created_at) ?? new Date(0),
  };
}

/** {@link RepoInfo} → `pfs_v2.RepoInfo`. */
export function repoInfoToWire(r: RepoInfo): WireMessage {
  return {
    repo: repoToWire(r.repo),
    created: timestampToWire(r.created),
    size_bytes_upper_bound: r.sizeBytesUpperBound,
    description: r.description,
    branches: r.branches.map(branchToWire),
  };
}

/** `pfs_v2.RepoInfo` → {@link RepoInfo}. */
export function repoInfoFromWire(m: WireMessage): RepoInfo {
  return {
    repo: repoFromWire(m.repo),
    created: timestampFromWire(m.created) ?? new Date(0),
    sizeBytesUpperBound: Number(m.size_bytes_upper_bound ?? 0),
    description: m.description ?? '',
    branches: ((m.branches ?? []) as WireMessage[]).map(branchFromWire),
  };
}

/** {@link BranchInfo} → `pfs_v2.BranchInfo`. */
export function branchInfoToWire(b: BranchInfo): WireMessage {
  return {
    branch: branchToWire(b.branch),
    head: b.head ? commitToWire(b.head) : null,
    provenance: b.provenance.map(branchToWire),
    subvenance: b.subvenance.map(branchToWire),
    direct_provenance: b.directProvenance.map(branchToWire),
    created_at: timestampToWire(b.createdAt),
    updated_at: timestampToWire(b.updatedAt),
  };
}

/** `pfs_v2.BranchInfo` → {@link BranchInfo}. */
export function branchInfoFromWire(m: WireMessage): BranchInfo {
  const list = (v: unknown) => ((v ?? []) as WireMessage[]).map(branchFromWire);
  return {
    branch: branchFromWire(m.branch ?? {}),
    head: m.head ? commitFromWire(m.head) : null,
    provenance: list(m.provenance),
    subvenance: list(m.subvenance),
    directProvenance: list(m.direct_provenance),
    createdAt: timestampFromWire(m.created_at) ?? new Date(0),
    updatedAt: timestampFromWire(m.updated_at) ?? new Date(0),
  };
}

/**
 * {@link CommitInfo} → `pfs_v2.CommitInfo`: `sizeBytes` goes to `details.size_bytes`,
 * `sizeBytesUpperBound` to `size_bytes_upper_bound`.
 */
export function commitInfoToWire(c: CommitInfo): WireMessage {
  return {
    commit: commitToWire(c.commit),
    origin: { kind: originKindToWire(c.origin.kind) },
    description: c.description,
    parent_commit: c.parentCommit ? commitToWire(c.parentCommit) : null,
    child_commits: c.childCommits.map(commitToWire),
    started: timestampToWire(c.started),
    finishing: timestampToWire(c.finishing),
    finished: timestampToWire(c.finished),
    direct_provenance: c.directProvenance.map(commitToWire),
    direct_subvenance: c.directSubvenance.map(commitToWire),
    error: c.error,
    size_bytes_upper_bound: c.sizeBytesUpperBound,
    details: { size_bytes: c.sizeBytes },
  };
}

/**
 * `pfs_v2.CommitInfo` → {@link CommitInfo}. Without `details` (pachd fills it only on request),
 * `sizeBytes` is `size_bytes_upper_bound`.
 */
export function commitInfoFromWire(m: WireMessage): CommitInfo {
  const list = (v: unknown) => ((v ?? []) as WireMessage[]).map(commitFromWire);
  const upper = Number(m.size_bytes_upper_bound ?? 0);
  return {
    commit: commitFromWire(m.commit ?? {}),
    origin: { kind: originKindFromWire(m.origin?.kind ?? 0) },
    description: m.description ?? '',
    parentCommit: m.parent_commit ? commitFromWire(m.parent_commit) : null,
    childCommits: list(m.child_commits),
    started: timestampFromWire(m.started) ?? new Date(0),
    finishing: timestampFromWire(m.finishing),
    finished: timestampFromWire(m.finished),
    directProvenance: list(m.direct_provenance),
    directSubvenance: list(m.direct_subvenance),
    error: m.error ?? '',
    sizeBytes: m.details ? Number(m.details.size_bytes ?? 0) : upper,
    sizeBytesUpperBound: upper,
  };
}

/** {@link FileInfo} → `pfs_v2.FileInfo` (hash hex → raw bytes). */
export function fileInfoToWire(f: FileInfo): WireMessage {
  return {
    file: fileToWire(f.file),
    file_type: fileTypeToWire(f.fileType),
    committed: timestampToWire(f.committed),
    size_bytes: f.sizeBytes,
    hash: hexToBytes(f.hash),
  };
}

/** `pfs_v2.FileInfo` → {@link FileInfo} (hash raw bytes → hex). */
export function fileInfoFromWire(m: WireMessage): FileInfo {
  return {
    file: fileFromWire(m.file ?? {}),
    fileType: fileTypeFromWire(m.file_type ?? 0),
    committed: timestampFromWire(m.committed),
    sizeBytes: Number(m.size_bytes ?? 0),
    hash: bytesToHex(m.hash),
  };
}

// ---------------------------------------------------------------------------------------------
// ModifyFile requests
// ---------------------------------------------------------------------------------------------

/** Bytes of a port {@link FileData} (strings are UTF-8). */
function toBytes(d: FileData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * The `ModifyFileRequest` messages of one port `modifyFile(commit, ops)` call, in order, as
 * pachyderm's Go client writes them (src/internal/client/pfs_file.go): `set_commit` first; `put`
 * = `delete_file` + `add_file` (overwrite); `append` = `add_file`; `delete` = `delete_file`; `copy`
 * = `copy_file`. Content is cut into `add_file.raw` chunks of at most `chunkSize` bytes (pachd's
 * 19 MiB `MaxMsgPayloadSize`); empty content is one empty chunk (an empty file). `datum` is `''`
 * when unset. Paths are sent as given (pachd cleans them).
 * @throws PachError INVALID_ARGUMENT for an op of unknown kind
 */
export function* fileOpsToWire(
  commit: Commit,
  ops: readonly FileOp[],
  chunkSize: number,
): Generator<WireMessage> {
  yield { set_commit: commitToWire(commit) };
  const addFile = function* (path: string, data: FileData, datum: string) {
    const bytes = toBytes(data);
    let off = 0;
    do {
      const end = Math.min(bytes.length, off + chunkSize);
      yield { add_file: { path, datum, raw: { value: bytes.subarray(off, end) } } };
      off = end;
    } while (off < bytes.length);
  };
  for (const op of ops) {
    const datum = op.datum ?? '';
    switch (op.op) {
      case 'put':
        yield { delete_file: { path: op.path, datum } };
        yield* addFile(op.path, op.data, datum);
        break;
      case 'append':
        yield* addFile(op.path, op.data, datum);
        break;
      case 'delete':
        yield { delete_file: { path: op.path, datum } };
        break;
      case 'copy':
        yield {
          copy_file: { dst: op.dst, datum, src: fileToWire(toFile(op.src)), append: !!op.append },
        };
        break;
      default:
        throw invalidArgument(
          `file operation ${JSON.stringify((op as { op: unknown }).op)} is invalid: expected put, append, delete or copy`,
        );
    }
  }
}
