/**
 * The enum half of codec.ts: the port's enums (../types.ts) ↔ the names of Pachyderm 2.x's proto
 * enums, exhaustive (`switch` with a `never` default: a port enum member without a mapping fails
 * to compile; a name a newer pachd sends that the subset does not know decodes as the enum's
 * UNKNOWN member). Re-exported by codec.ts.
 */
import {
  CommitState,
  DatumState,
  FileType,
  JobState,
  OriginKind,
  PipelineState,
  PipelineType,
} from '../types';
import type {
  CommitStateName,
  DatumStateName,
  FileTypeName,
  JobStateName,
  OriginKindName,
  PipelineStateName,
  PipelineTypeName,
} from './codec';

// ---------------------------------------------------------------------------------------------
// Enums (exhaustive)
// ---------------------------------------------------------------------------------------------

/** {@link CommitState} → its `pfs_v2.CommitState` name. */
export function commitStateToWire(s: CommitState): CommitStateName {
  switch (s) {
    case CommitState.COMMIT_STATE_UNKNOWN:
      return 'COMMIT_STATE_UNKNOWN';
    case CommitState.STARTED:
      return 'STARTED';
    case CommitState.READY:
      return 'READY';
    case CommitState.FINISHING:
      return 'FINISHING';
    case CommitState.FINISHED:
      return 'FINISHED';
    default:
      return unreachable(s, 'CommitState');
  }
}

/** A `pfs_v2.CommitState` name (or number) → {@link CommitState}; unknown → COMMIT_STATE_UNKNOWN. */
export function commitStateFromWire(name: string | number): CommitState {
  const n = enumName<CommitStateName>(name, CommitState);
  switch (n) {
    case 'COMMIT_STATE_UNKNOWN':
      return CommitState.COMMIT_STATE_UNKNOWN;
    case 'STARTED':
      return CommitState.STARTED;
    case 'READY':
      return CommitState.READY;
    case 'FINISHING':
      return CommitState.FINISHING;
    case 'FINISHED':
      return CommitState.FINISHED;
    default:
      return tolerate(n, CommitState.COMMIT_STATE_UNKNOWN);
  }
}

/** {@link OriginKind} → its `pfs_v2.OriginKind` name. */
export function originKindToWire(k: OriginKind): OriginKindName {
  switch (k) {
    case OriginKind.ORIGIN_KIND_UNKNOWN:
      return 'ORIGIN_KIND_UNKNOWN';
    case OriginKind.USER:
      return 'USER';
    case OriginKind.AUTO:
      return 'AUTO';
    case OriginKind.FSCK:
      return 'FSCK';
    default:
      return unreachable(k, 'OriginKind');
  }
}

/** A `pfs_v2.OriginKind` name (or number) → {@link OriginKind}; unknown → ORIGIN_KIND_UNKNOWN. */
export function originKindFromWire(name: string | number): OriginKind {
  const n = enumName<OriginKindName>(name, OriginKind);
  switch (n) {
    case 'ORIGIN_KIND_UNKNOWN':
      return OriginKind.ORIGIN_KIND_UNKNOWN;
    case 'USER':
      return OriginKind.USER;
    case 'AUTO':
      return OriginKind.AUTO;
    case 'FSCK':
      return OriginKind.FSCK;
    default:
      return tolerate(n, OriginKind.ORIGIN_KIND_UNKNOWN);
  }
}

/** {@link FileType} → its `pfs_v2.FileType` name. */
export function fileTypeToWire(t: FileType): FileTypeName {
  switch (t) {
    case FileType.RESERVED:
      return 'RESERVED';
    case FileType.FILE:
      return 'FILE';
    case FileType.DIR:
      return 'DIR';
    default:
      return unreachable(t, 'FileType');
  }
}

/** A `pfs_v2.FileType` name (or number) → {@link FileType}; unknown → RESERVED. */
export function fileTypeFromWire(name: string | number): FileType {
  const n = enumName<FileTypeName>(name, FileType);
  switch (n) {
    case 'RESERVED':
      return FileType.RESERVED;
    case 'FILE':
      return FileType.FILE;
    case 'DIR':
      return FileType.DIR;
    default:
      return tolerate(n, FileType.RESERVED);
  }
}

/** {@link JobState} → its `pps_v2.JobState` name. */
export function jobStateToWire(s: JobState): JobStateName {
  switch (s) {
    case JobState.JOB_STATE_UNKNOWN:
      return 'JOB_STATE_UNKNOWN';
    case JobState.JOB_CREATED:
      return 'JOB_CREATED';
    case JobState.JOB_STARTING:
      return 'JOB_STARTING';
    case JobState.JOB_RUNNING:
      return 'JOB_RUNNING';
    case JobState.JOB_FAILURE:
      return 'JOB_FAILURE';
    case JobState.JOB_SUCCESS:
      return 'JOB_SUCCESS';
    case JobState.JOB_KILLED:
      return 'JOB_KILLED';
    case JobState.JOB_EGRESSING:
      return 'JOB_EGRESSING';
    case JobState.JOB_FINISHING:
      return 'JOB_FINISHING';
    case JobState.JOB_UNRUNNABLE:
      return 'JOB_UNRUNNABLE';
    default:
      return unreachable(s, 'JobState');
  }
}

/** A `pps_v2.JobState` name (or number) → {@link JobState}; unknown → JOB_STATE_UNKNOWN. */
export function jobStateFromWire(name: string | number): JobState {
  const n = enumName<JobStateName>(name, JobState);
  switch (n) {
    case 'JOB_STATE_UNKNOWN':
      return JobState.JOB_STATE_UNKNOWN;
    case 'JOB_CREATED':
      return JobState.JOB_CREATED;
    case 'JOB_STARTING':
      return JobState.JOB_STARTING;
    case 'JOB_RUNNING':
      return JobState.JOB_RUNNING;
    case 'JOB_FAILURE':
      return JobState.JOB_FAILURE;
    case 'JOB_SUCCESS':
      return JobState.JOB_SUCCESS;
    case 'JOB_KILLED':
      return JobState.JOB_KILLED;
    case 'JOB_EGRESSING':
      return JobState.JOB_EGRESSING;
    case 'JOB_FINISHING':
      return JobState.JOB_FINISHING;
    case 'JOB_UNRUNNABLE':
      return JobState.JOB_UNRUNNABLE;
    default:
      return tolerate(n, JobState.JOB_STATE_UNKNOWN);
  }
}

/** {@link DatumState} → its `pps_v2.DatumState` name. */
export function datumStateToWire(s: DatumState): DatumStateName {
  switch (s) {
    case DatumState.UNKNOWN:
      return 'UNKNOWN';
    case DatumState.FAILED:
      return 'FAILED';
    case DatumState.SUCCESS:
      return 'SUCCESS';
    case DatumState.SKIPPED:
      return 'SKIPPED';
    case DatumState.STARTING:
      return 'STARTING';
    case DatumState.RECOVERED:
      return 'RECOVERED';
    default:
      return unreachable(s, 'DatumState');
  }
}

/** A `pps_v2.DatumState` name (or number) → {@link DatumState}; unknown → UNKNOWN. */
export function datumStateFromWire(name: string | number): DatumState {
  const n = enumName<DatumStateName>(name, DatumState);
  switch (n) {
    case 'UNKNOWN':
      return DatumState.UNKNOWN;
    case 'FAILED':
      return DatumState.FAILED;
    case 'SUCCESS':
      return DatumState.SUCCESS;
    case 'SKIPPED':
      return DatumState.SKIPPED;
    case 'STARTING':
      return DatumState.STARTING;
    case 'RECOVERED':
      return DatumState.RECOVERED;
    default:
      return tolerate(n, DatumState.UNKNOWN);
  }
}

/** {@link PipelineState} → its `pps_v2.PipelineState` name. */
export function pipelineStateToWire(s: PipelineState): PipelineStateName {
  switch (s) {
    case PipelineState.PIPELINE_STATE_UNKNOWN:
      return 'PIPELINE_STATE_UNKNOWN';
    case PipelineState.PIPELINE_STARTING:
      return 'PIPELINE_STARTING';
    case PipelineState.PIPELINE_RUNNING:
      return 'PIPELINE_RUNNING';
    case PipelineState.PIPELINE_RESTARTING:
      return 'PIPELINE_RESTARTING';
    case PipelineState.PIPELINE_FAILURE:
      return 'PIPELINE_FAILURE';
    case PipelineState.PIPELINE_PAUSED:
      return 'PIPELINE_PAUSED';
    case PipelineState.PIPELINE_STANDBY:
      return 'PIPELINE_STANDBY';
    case PipelineState.PIPELINE_CRASHING:
      return 'PIPELINE_CRASHING';
    default:
      return unreachable(s, 'PipelineState');
  }
}

/** A `pps_v2.PipelineState` name (or number) → {@link PipelineState}; unknown → PIPELINE_STATE_UNKNOWN. */
export function pipelineStateFromWire(name: string | number): PipelineState {
  const n = enumName<PipelineStateName>(name, PipelineState);
  switch (n) {
    case 'PIPELINE_STATE_UNKNOWN':
      return PipelineState.PIPELINE_STATE_UNKNOWN;
    case 'PIPELINE_STARTING':
      return PipelineState.PIPELINE_STARTING;
    case 'PIPELINE_RUNNING':
      return PipelineState.PIPELINE_RUNNING;
    case 'PIPELINE_RESTARTING':
      return PipelineState.PIPELINE_RESTARTING;
    case 'PIPELINE_FAILURE':
      return PipelineState.PIPELINE_FAILURE;
    case 'PIPELINE_PAUSED':
      return PipelineState.PIPELINE_PAUSED;
    case 'PIPELINE_STANDBY':
      return PipelineState.PIPELINE_STANDBY;
    case 'PIPELINE_CRASHING':
      return PipelineState.PIPELINE_CRASHING;
    default:
      return tolerate(n, PipelineState.PIPELINE_STATE_UNKNOWN);
  }
}

/** {@link PipelineType} → its `PipelineInfo.PipelineType` name (0 is `PIPELINT_TYPE_UNKNOWN`, sic). */
export function pipelineTypeToWire(t: PipelineType): PipelineTypeName {
  switch (t) {
    case PipelineType.PIPELINT_TYPE_UNKNOWN:
      return 'PIPELINT_TYPE_UNKNOWN';
    case PipelineType.PIPELINE_TYPE_TRANSFORM:
      return 'PIPELINE_TYPE_TRANSFORM';
    case PipelineType.PIPELINE_TYPE_SPOUT:
      return 'PIPELINE_TYPE_SPOUT';
    case PipelineType.PIPELINE_TYPE_SERVICE:
      return 'PIPELINE_TYPE_SERVICE';
    default:
      return unreachable(t, 'PipelineType');
  }
}

/** A `PipelineInfo.PipelineType` name (or number) → {@link PipelineType}; unknown → PIPELINT_TYPE_UNKNOWN. */
export function pipelineTypeFromWire(name: string | number): PipelineType {
  const n = enumName<PipelineTypeName>(name, PipelineType);
  switch (n) {
    case 'PIPELINT_TYPE_UNKNOWN':
      return PipelineType.PIPELINT_TYPE_UNKNOWN;
    case 'PIPELINE_TYPE_TRANSFORM':
      return PipelineType.PIPELINE_TYPE_TRANSFORM;
    case 'PIPELINE_TYPE_SPOUT':
      return PipelineType.PIPELINE_TYPE_SPOUT;
    case 'PIPELINE_TYPE_SERVICE':
      return PipelineType.PIPELINE_TYPE_SERVICE;
    default:
      return tolerate(n, PipelineType.PIPELINT_TYPE_UNKNOWN);
  }
}

/** A number is read through the TypeScript enum's reverse mapping; a string is kept. */
function enumName<N extends string>(v: string | number, e: Record<number, string>): N {
  return (typeof v === 'number' ? (e[v] ?? String(v)) : v) as N;
}

function unreachable(v: never, what: string): never {
  throw new Error(`unmapped ${what} ${String(v)}`);
}

/** Compile-time exhaustiveness (`n` is `never` here) with a run-time fallback for new names. */
function tolerate<T>(n: never, fallback: T): T {
  void n;
  return fallback;
}
