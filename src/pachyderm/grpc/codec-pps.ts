/**
 * The codec's PPS half (codec.ts is the entry point): `pps_v2` spec blocks (Transform, Input,
 * ResourceSpec) and infos (PipelineInfo, JobInfo, DatumInfo, ProcessStats, LogMessage) (see
 * codec.ts for the conventions).
 */
import {
  type Commit,
  type CronInput,
  type DatumInfo,
  type Input,
  type JobInfo,
  type LogMessage,
  type PfsInput,
  type PipelineInfo,
  type PipelineInfoDetails,
  type PipelineMetadata,
  type ProcessStats,
  type RepoType,
  type ResourceSpec,
  type Transform,
} from '../types';
import { EXTRA_FIELDS } from '../spec';
import { fileInfoFromWire, fileInfoToWire } from './codec-pfs';
import {
  jobStateToWire,
  jobStateFromWire,
  datumStateToWire,
  datumStateFromWire,
  pipelineStateToWire,
  pipelineStateFromWire,
  pipelineTypeToWire,
  pipelineTypeFromWire,
} from './codec-enums';
import {
  type WireMessage,
  timestampToWire,
  timestampFromWire,
  durationToWire,
  durationFromWire,
  durationMsFromWire,
  durationMsToWire,
  hexToBytes,
  bytesToHex,
  repoFromWire,
  commitToWire,
  commitFromWire,
  pipelineToWire,
  pipelineFromWire,
  jobToWire,
  jobFromWire,
  datumToWire,
  datumFromWire,
} from './codec-wire';

// ---------------------------------------------------------------------------------------------
// PPS spec blocks
// ---------------------------------------------------------------------------------------------

/** {@link Transform} → `pps_v2.Transform`. */
export function transformToWire(t: Transform): WireMessage {
  return {
    image: t.image,
    cmd: t.cmd,
    err_cmd: t.errCmd,
    env: t.env,
    secrets: t.secrets.map((s) => ({
      name: s.name,
      key: s.key,
      mount_path: s.mountPath,
      env_var: s.envVar,
    })),
    image_pull_secrets: t.imagePullSecrets,
    stdin: t.stdin,
    err_stdin: t.errStdin,
    accept_return_code: t.acceptReturnCode,
    debug: t.debug,
    user: t.user,
    working_dir: t.workingDir,
    dockerfile: t.dockerfile,
    memory_volume: t.memoryVolume,
    datum_batching: t.datumBatching,
  };
}

/** `pps_v2.Transform` → {@link Transform} (unset → pachd's defaults: empty lists and strings). */
export function transformFromWire(m: WireMessage | null | undefined): Transform {
  const t = m ?? {};
  return {
    image: t.image ?? '',
    cmd: t.cmd ?? [],
    errCmd: t.err_cmd ?? [],
    env: { ...(t.env ?? {}) },
    secrets: ((t.secrets ?? []) as WireMessage[]).map((s) => ({
      name: s.name ?? '',
      key: s.key ?? '',
      mountPath: s.mount_path ?? '',
      envVar: s.env_var ?? '',
    })),
    imagePullSecrets: t.image_pull_secrets ?? [],
    stdin: t.stdin ?? [],
    errStdin: t.err_stdin ?? [],
    acceptReturnCode: ((t.accept_return_code ?? []) as number[]).map(Number),
    debug: !!t.debug,
    user: t.user ?? '',
    workingDir: t.working_dir ?? '',
    dockerfile: t.dockerfile ?? '',
    memoryVolume: !!t.memory_volume,
    datumBatching: !!t.datum_batching,
  };
}

/** {@link PfsInput} → `pps_v2.PFSInput`. */
export function pfsInputToWire(p: PfsInput): WireMessage {
  return {
    project: p.project,
    name: p.name,
    repo: p.repo,
    repo_type: p.repoType,
    branch: p.branch,
    commit: p.commit,
    glob: p.glob,
    join_on: p.joinOn,
    outer_join: p.outerJoin,
    group_by: p.groupBy,
    lazy: p.lazy,
    empty_files: p.emptyFiles,
    s3: p.s3,
    reference: p.reference,
  };
}

/** `pps_v2.PFSInput` → {@link PfsInput}. */
export function pfsInputFromWire(m: WireMessage): PfsInput {
  return {
    project: m.project ?? '',
    name: m.name ?? '',
    repo: m.repo ?? '',
    repoType: (m.repo_type || 'user') as RepoType,
    branch: m.branch ?? '',
    commit: m.commit ?? '',
    glob: m.glob ?? '',
    joinOn: m.join_on ?? '',
    outerJoin: !!m.outer_join,
    groupBy: m.group_by ?? '',
    lazy: !!m.lazy,
    emptyFiles: !!m.empty_files,
    s3: !!m.s3,
    reference: !!m.reference,
  };
}

function cronToWire(c: CronInput): WireMessage {
  return {
    name: c.name,
    project: c.project,
    repo: c.repo,
    commit: c.commit,
    spec: c.spec,
    overwrite: c.overwrite,
    start: timestampToWire(c.start),
  };
}

function cronFromWire(m: WireMessage): CronInput {
  return {
    name: m.name ?? '',
    project: m.project ?? '',
    repo: m.repo ?? '',
    commit: m.commit ?? '',
    spec: m.spec ?? '',
    overwrite: !!m.overwrite,
    start: timestampFromWire(m.start),
  };
}

/** {@link Input} → `pps_v2.Input` (recursive; unset members omitted). */
export function inputToWire(i: Input): WireMessage {
  const out: WireMessage = {};
  if (i.pfs) out.pfs = pfsInputToWire(i.pfs);
  if (i.cron) out.cron = cronToWire(i.cron);
  for (const k of ['cross', 'union', 'join', 'group'] as const) {
    const list = i[k];
    if (list) out[k] = list.map(inputToWire);
  }
  return out;
}

/** `pps_v2.Input` → {@link Input} (recursive; only the members that are set). */
export function inputFromWire(m: WireMessage | null | undefined): Input {
  const out: Input = {};
  if (!m) return out;
  if (m.pfs) out.pfs = pfsInputFromWire(m.pfs);
  if (m.cron) out.cron = cronFromWire(m.cron);
  for (const k of ['cross', 'union', 'join', 'group'] as const) {
    const list = m[k] as WireMessage[] | undefined;
    if (list && list.length) out[k] = list.map(inputFromWire);
  }
  return out;
}

/** {@link ResourceSpec} → `pps_v2.ResourceSpec`; undefined → `null`. */
export function resourceSpecToWire(r: ResourceSpec | undefined): WireMessage | null {
  if (!r) return null;
  return {
    cpu: r.cpu ?? 0,
    memory: r.memory ?? '',
    disk: r.disk ?? '',
    gpu: r.gpu ? { type: r.gpu.type, number: r.gpu.number } : null,
  };
}

/** `pps_v2.ResourceSpec` → {@link ResourceSpec} (zero values omitted); unset → undefined. */
export function resourceSpecFromWire(m: WireMessage | null | undefined): ResourceSpec | undefined {
  if (!m) return undefined;
  const out: ResourceSpec = {};
  if (m.cpu) out.cpu = Math.round(Number(m.cpu) * 1e6) / 1e6; // proto `float`: 7 digits
  if (m.memory) out.memory = m.memory;
  if (m.disk) out.disk = m.disk;
  if (m.gpu) out.gpu = { type: m.gpu.type ?? '', number: Number(m.gpu.number ?? 0) };
  return out;
}

function metadataFromWire(m: WireMessage | null | undefined): PipelineMetadata | undefined {
  if (!m) return undefined;
  return { annotations: { ...(m.annotations ?? {}) }, labels: { ...(m.labels ?? {}) } };
}

// ---------------------------------------------------------------------------------------------
// PPS infos
// ---------------------------------------------------------------------------------------------

/** {@link PipelineInfo} → `pps_v2.PipelineInfo` (with `details`). */
export function pipelineInfoToWire(p: PipelineInfo): WireMessage {
  const d = p.details;
  return {
    pipeline: pipelineToWire(p.pipeline),
    version: p.version,
    spec_commit: p.specCommit ? commitToWire(p.specCommit) : null,
    stopped: p.stopped,
    state: pipelineStateToWire(p.state),
    reason: p.reason,
    last_job_state: jobStateToWire(p.lastJobState),
    parallelism: p.parallelism,
    type: pipelineTypeToWire(p.type),
    details: {
      transform: transformToWire(d.transform),
      parallelism_spec: { constant: d.parallelismSpec.constant },
      created_at: timestampToWire(d.createdAt),
      updated_at: timestampToWire(d.updatedAt),
      recent_error: d.recentError,
      workers_requested: d.workersRequested,
      workers_available: d.workersAvailable,
      output_branch: d.outputBranch,
      resource_requests: resourceSpecToWire(d.resourceRequests),
      resource_limits: resourceSpecToWire(d.resourceLimits),
      sidecar_resource_limits: resourceSpecToWire(d.sidecarResourceLimits),
      sidecar_resource_requests: resourceSpecToWire(d.sidecarResourceRequests),
      input: inputToWire(d.input),
      description: d.description,
      salt: d.salt,
      reason: d.reason,
      datum_timeout: durationToWire(d.datumTimeout),
      job_timeout: durationToWire(d.jobTimeout),
      datum_tries: d.datumTries,
      s3_out: d.s3Out,
      metadata: d.metadata
        ? { annotations: d.metadata.annotations, labels: d.metadata.labels }
        : null,
      reprocess_spec: d.reprocessSpec,
      autoscaling: d.autoscaling,
    },
    user_spec_json: p.userSpecJson,
    effective_spec_json: p.effectiveSpecJson,
  };
}

/**
 * `pps_v2.PipelineInfo` → {@link PipelineInfo}. `details.extra` (egress, service, …, which the
 * subset does not model) is read from `effective_spec_json` when that JSON holds any.
 */
export function pipelineInfoFromWire(m: WireMessage): PipelineInfo {
  const d: WireMessage = m.details ?? {};
  const details: PipelineInfoDetails = {
    description: d.description ?? '',
    transform: transformFromWire(d.transform),
    input: inputFromWire(d.input),
    parallelismSpec: { constant: Number(d.parallelism_spec?.constant ?? 0) || 1 },
    datumTries: Number(d.datum_tries ?? 0),
    reprocessSpec: d.reprocess_spec === 'every_job' ? 'every_job' : 'until_success',
    outputBranch: d.output_branch ?? '',
    autoscaling: !!d.autoscaling,
    salt: d.salt ?? '',
    s3Out: !!d.s3_out,
    createdAt: timestampFromWire(d.created_at) ?? new Date(0),
    updatedAt: timestampFromWire(d.updated_at) ?? new Date(0),
    recentError: d.recent_error ?? '',
    workersRequested: Number(d.workers_requested ?? 0),
    workersAvailable: Number(d.workers_available ?? 0),
    reason: d.reason ?? '',
  };
  const rr = resourceSpecFromWire(d.resource_requests);
  if (rr) details.resourceRequests = rr;
  const rl = resourceSpecFromWire(d.resource_limits);
  if (rl) details.resourceLimits = rl;
  const srl = resourceSpecFromWire(d.sidecar_resource_limits);
  if (srl) details.sidecarResourceLimits = srl;
  const srr = resourceSpecFromWire(d.sidecar_resource_requests);
  if (srr) details.sidecarResourceRequests = srr;
  const jt = durationFromWire(d.job_timeout);
  if (jt) details.jobTimeout = jt;
  const dt = durationFromWire(d.datum_timeout);
  if (dt) details.datumTimeout = dt;
  const md = metadataFromWire(d.metadata);
  if (md) details.metadata = md;
  const extra = extraFromSpecJson(m.effective_spec_json);
  if (extra) details.extra = extra;
  return {
    pipeline: pipelineFromWire(m.pipeline),
    version: Number(m.version ?? 0),
    specCommit: m.spec_commit ? commitFromWire(m.spec_commit) : null,
    stopped: !!m.stopped,
    state: pipelineStateFromWire(m.state ?? 0),
    reason: m.reason ?? '',
    lastJobState: jobStateFromWire(m.last_job_state ?? 0),
    parallelism: Number(m.parallelism ?? 0),
    type: pipelineTypeFromWire(m.type ?? 0),
    details,
    userSpecJson: m.user_spec_json ?? '',
    effectiveSpecJson: m.effective_spec_json ?? '',
  };
}

function extraFromSpecJson(json: unknown): Record<string, unknown> | undefined {
  if (typeof json !== 'string' || !json) return undefined;
  let spec: Record<string, unknown>;
  try {
    spec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const k of EXTRA_FIELDS) if (spec && spec[k] !== undefined) out[k] = spec[k];
  return Object.keys(out).length ? out : undefined;
}

/**
 * {@link JobInfo} → `pps_v2.JobInfo`. The port's `inputCommits` travel as pachd carries a job's
 * input commits, in `details.input`: one PFS input per input commit with its `commit` set (a
 * `cross` of them when there are several). This is the stand-in's input tree, not the pipeline's
 * (no globs); {@link jobInfoFromWire} reads the commits back from either.
 */
export function jobInfoToWire(j: JobInfo): WireMessage {
  const pfs = j.inputCommits.map((c) => ({
    pfs: {
      project: c.repo.project.name,
      name: c.repo.name,
      repo: c.repo.name,
      repo_type: c.repo.type,
      branch: c.branch?.name ?? '',
      commit: c.id,
    },
  }));
  const input = pfs.length === 1 ? pfs[0] : pfs.length > 1 ? { cross: pfs } : null;
  return {
    job: jobToWire(j.job),
    pipeline_version: j.pipelineVersion,
    output_commit: commitToWire(j.outputCommit),
    restart: j.restart,
    data_processed: j.dataProcessed,
    data_skipped: j.dataSkipped,
    data_total: j.dataTotal,
    data_failed: j.dataFailed,
    data_recovered: j.dataRecovered,
    state: jobStateToWire(j.state),
    reason: j.reason,
    created: timestampToWire(j.created),
    started: timestampToWire(j.started),
    finished: timestampToWire(j.finished),
    details: input ? { input } : null,
  };
}

/**
 * The input commits of a job from `JobInfo.details.input` (pachd fills each PFS input's `commit`
 * with the commit the job read — pachyderm `ppsutil.JobInput`): one per distinct repo and id, in
 * input order. Empty when the message has no details.
 */
export function inputCommitsFromWire(input: WireMessage | null | undefined): Commit[] {
  const out: Commit[] = [];
  const seen = new Set<string>();
  const visit = (i: WireMessage | null | undefined) => {
    if (!i) return;
    if (i.pfs && i.pfs.commit) {
      const repo = repoFromWire({
        name: i.pfs.repo,
        type: i.pfs.repo_type,
        project: { name: i.pfs.project },
      });
      const key = `${repo.project.name}/${repo.name}.${repo.type}@${i.pfs.commit as string}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({
          repo,
          id: i.pfs.commit,
          branch: i.pfs.branch ? { repo, name: i.pfs.branch } : null,
        });
      }
    }
    for (const k of ['cross', 'union', 'join', 'group']) {
      for (const sub of (i[k] ?? []) as WireMessage[]) visit(sub);
    }
  };
  visit(input);
  return out;
}

/** `pps_v2.JobInfo` → {@link JobInfo} (`inputCommits` from `details.input`, see {@link inputCommitsFromWire}). */
export function jobInfoFromWire(m: WireMessage): JobInfo {
  return {
    job: jobFromWire(m.job),
    pipelineVersion: Number(m.pipeline_version ?? 0),
    outputCommit: commitFromWire(m.output_commit ?? {}),
    restart: Number(m.restart ?? 0),
    dataProcessed: Number(m.data_processed ?? 0),
    dataSkipped: Number(m.data_skipped ?? 0),
    dataTotal: Number(m.data_total ?? 0),
    dataFailed: Number(m.data_failed ?? 0),
    dataRecovered: Number(m.data_recovered ?? 0),
    state: jobStateFromWire(m.state ?? 0),
    reason: m.reason ?? '',
    created: timestampFromWire(m.created) ?? new Date(0),
    started: timestampFromWire(m.started),
    finished: timestampFromWire(m.finished),
    inputCommits: inputCommitsFromWire(m.details?.input),
  };
}

/** {@link ProcessStats} (milliseconds) → `pps_v2.ProcessStats` (Durations); null → null. */
export function processStatsToWire(s: ProcessStats | null): WireMessage | null {
  if (!s) return null;
  return {
    download_time: durationMsToWire(s.downloadTimeMs),
    process_time: durationMsToWire(s.processTimeMs),
    upload_time: durationMsToWire(s.uploadTimeMs),
    download_bytes: s.downloadBytes,
    upload_bytes: s.uploadBytes,
  };
}

/** `pps_v2.ProcessStats` → {@link ProcessStats}; unset → null. */
export function processStatsFromWire(m: WireMessage | null | undefined): ProcessStats | null {
  if (!m) return null;
  return {
    downloadTimeMs: durationMsFromWire(m.download_time),
    processTimeMs: durationMsFromWire(m.process_time),
    uploadTimeMs: durationMsFromWire(m.upload_time),
    downloadBytes: Number(m.download_bytes ?? 0),
    uploadBytes: Number(m.upload_bytes ?? 0),
  };
}

/** {@link DatumInfo} → `pps_v2.DatumInfo`. */
export function datumInfoToWire(d: DatumInfo): WireMessage {
  return {
    datum: datumToWire(d.datum),
    state: datumStateToWire(d.state),
    stats: processStatsToWire(d.stats),
    data: d.data.map(fileInfoToWire),
  };
}

/** `pps_v2.DatumInfo` → {@link DatumInfo}. */
export function datumInfoFromWire(m: WireMessage): DatumInfo {
  return {
    datum: datumFromWire(m.datum),
    state: datumStateFromWire(m.state ?? 0),
    stats: processStatsFromWire(m.stats),
    data: ((m.data ?? []) as WireMessage[]).map(fileInfoFromWire),
  };
}

/** {@link LogMessage} → `pps_v2.LogMessage` (input hashes hex → bytes). */
export function logMessageToWire(l: LogMessage): WireMessage {
  return {
    project_name: l.projectName,
    pipeline_name: l.pipelineName,
    job_id: l.jobId,
    worker_id: l.workerId,
    datum_id: l.datumId,
    master: l.master,
    data: l.data.map((f) => ({ path: f.path, hash: hexToBytes(f.hash) })),
    user: l.user,
    ts: timestampToWire(l.ts),
    message: l.message,
  };
}

/** `pps_v2.LogMessage` → {@link LogMessage}. */
export function logMessageFromWire(m: WireMessage): LogMessage {
  return {
    projectName: m.project_name ?? '',
    pipelineName: m.pipeline_name ?? '',
    jobId: m.job_id ?? '',
    workerId: m.worker_id ?? '',
    datumId: m.datum_id ?? '',
    master: !!m.master,
    data: ((m.data ?? []) as WireMessage[]).map((f) => ({
      path: f.path ?? '',
      hash: bytesToHex(f.hash),
    })),
    user: !!m.user,
    ts: timestampFromWire(m.ts) ?? new Date(0),
    message: m.message ?? '',
  };
}
