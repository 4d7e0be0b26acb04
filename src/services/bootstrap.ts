/**
 * The first start of reelgraph's data pipeline, idempotent: the repos `training` and `streaming`,
 * the chosen data set (MovieLens 100K by default, or another, a ratings file, or none) and the
 * service's settings as the first training commit, the pipelines `train` and `predict`, and the
 * first model. Used by `reelgraph init` and by the API's start-up; running it again changes
 * nothing (no commit, no pipeline update, hence no job).
 *
 * Steps (each skipped when already done):
 * 1. create the repos `training`, `streaming`, `models` and `serving` (the serving-model pin,
 *    serving-pin.ts) (pachyderm `CreateRepo`): on a pachd with auth on only the init Job's robot
 *    (projectWriter) may create repos, while the API's robot holds repoWriter on them;
 * 2. commit the data set's files and `/settings.json` (see initial-data.ts) on `training@master`
 *    when the branch has neither the settings nor MovieLens 100K's `/base/ml-100k.txt` (a data
 *    directory made before the settings existed); built-in data sets are found (or downloaded and
 *    verified) as the engine's are, and their SHA-256 is checked;
 * 3. create the pipelines from `workers/train/pipeline.json` and `workers/predict/pipeline.json`
 *    (with the deployment's worker image; on the embedded engine, `predict` with datum batching:
 *    {@link pipelineSpecFor}); a `predict` pipeline made by an older version (crossing `train`
 *    instead of `models`) is updated to the new input (Pachyderm's UpdatePipeline:
 *    `createPipeline` with `update`);
 * 4. wait for the first model: the newest successful `train` job's output (waiting for a running
 *    one), publish it to the `models` repo (model-publisher.ts; nothing when it already serves)
 *    and wait for the `predict` job of that `models` commit.
 *
 * Several processes may run it at once (API replicas and the set-up Job of k8s/): a repo or
 * pipeline that another process created between the check and the call (ALREADY_EXISTS) counts as
 * done, and while another process's commit on `training@master` is open this one commits nothing.
 * (Two processes that check at the same instant may still both commit the base file: the second
 * commit holds the same bytes and costs one more train job on the same data.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveBuiltin, verifyBuiltin, type BuiltinOptions } from '../engine/dataset/builtin';
import { isPachError, PachCode } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { type Commit, type JobInfo, JobState, isTerminalJobState } from '../pachyderm/types';
import { EmbeddedPachyderm, type EmbeddedOptions } from '../pachyderm/embedded';
import { embeddedPps, type PpsOptions } from '../pachyderm/embedded/pps';
import { connectPachd } from '../pachyderm/grpc/client';
import { pfsInputs } from '../pachyderm/spec';
import { MANIFEST_FILE, METRICS_FILE, MODEL_FILE } from '../workers/files';
import { MODELS_REPO, ModelPublisher } from './model-publisher';
import { SERVING_REPO, SERVING_REPO_DESCRIPTION } from './serving-pin';
import { type WorkerImageConfig, withWorkerImage, workerImageFromEnv } from './pipeline-specs';
import type { RatingScale } from '../engine/dataset/raw-ratings';
import { SETTINGS_PATH } from '../workers/data-settings';
import { BASE_TRAINING_FILE, initialData } from './initial-data';
import type { TrainManifest, TrainMetrics } from '../workers/train';

/** The repo of ratings (input of `train`). */
export const TRAINING_REPO = 'training';
/** The repo of prediction requests (input of `predict`). */
export const STREAMING_REPO = 'streaming';
/** The repo of published models (input of `predict`; see model-publisher.ts). */
export { MODELS_REPO } from './model-publisher';
/** The pipelines, in creation order. */
export const PIPELINES = ['train', 'predict'] as const;
export { BASE_TRAINING_FILE };

/** The package root (two levels up from src/services and dist/services). */
const ROOT = path.resolve(__dirname, '../..');

/** The directory of the `reelgraph` launcher that pipeline specs call (`bin/`). */
export function workerBinDir(): string {
  return path.join(ROOT, 'bin');
}

/** The pipeline spec of `name` (`workers/<name>/pipeline.json`), parsed. @throws when unreadable */
export function loadPipelineSpec(name: string): Record<string, unknown> {
  const file = path.join(ROOT, 'workers', name, 'pipeline.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/**
 * The spec {@link bootstrap} creates for pipeline `name` on `pach`: the committed file
 * (`workers/<name>/pipeline.json`) with the deployment's worker image (`image`, default
 * `REELGRAPH_WORKER_IMAGE` and `REELGRAPH_WORKER_PULL_SECRETS`: pipeline-specs.ts). The same
 * spec runs everywhere: `predict` says `datumBatching: true`, and the worker SDK serves its
 * datums through the embedded engine's channel or, on a cluster, the worker's gRPC `NextDatum`
 * (worker-sdk.ts), so one process answers every request of a job.
 * @throws when the spec file is unreadable
 */
export function pipelineSpecFor(
  name: string,
  _pach: Pachyderm,
  image: WorkerImageConfig = workerImageFromEnv(),
): Record<string, unknown> {
  return withWorkerImage(loadPipelineSpec(name), image);
}

/**
 * Makes `reelgraph` (bin/) and this Node (its directory) resolvable by the embedded engine's
 * child processes, which inherit this process's environment: both are prepended to `env.PATH`
 * when missing. Idempotent.
 */
export function ensureWorkerPath(env: NodeJS.ProcessEnv = process.env): void {
  const parts = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const add = [workerBinDir(), path.dirname(process.execPath)].filter((d) => !parts.includes(d));
  if (add.length) env.PATH = [...add, ...parts].join(path.delimiter);
}

/**
 * Opens the embedded engine on `dataDir` with its PPS half running jobs, the worker launcher on
 * PATH (see {@link ensureWorkerPath}).
 * @throws the errors of `EmbeddedPachyderm.open` (e.g. another writer holds the directory)
 */
export async function openEmbeddedEngine(
  dataDir: string,
  opts: { pps?: PpsOptions } & Omit<EmbeddedOptions, 'pps' | 'readonly'> = {},
): Promise<EmbeddedPachyderm> {
  ensureWorkerPath();
  const { pps, ...rest } = opts;
  return EmbeddedPachyderm.open(dataDir, { ...rest, pps: embeddedPps(pps ?? {}) });
}

/**
 * Where the Pachyderm port comes from; the adapter is chosen once, at start-up (DESIGN.md): a pachd
 * address means the gRPC adapter to that pachd, none means the embedded engine in `dataDir`.
 */
export interface EngineSelection {
  /** The embedded engine's data directory (used when `pachdAddress` is unset). */
  dataDir: string;
  /** A pachd address, `pachctl connect` syntax (host, host:port, grpc://, grpcs://, unix://…). */
  pachdAddress?: string;
  /** A Pachyderm token, sent as gRPC metadata `authn-token`. */
  pachdToken?: string;
  /** A PEM file of extra root certificates for `grpcs://` / `https://`. */
  pachdCaFile?: string;
}

/**
 * The pachd settings of the environment: `REELGRAPH_PACHD_ADDRESS`, `REELGRAPH_PACHD_TOKEN`,
 * `REELGRAPH_PACHD_CA` (empty values count as unset).
 */
export function pachdFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Omit<EngineSelection, 'dataDir'> {
  const v = (name: string) => env[name]?.trim() || undefined;
  return {
    pachdAddress: v('REELGRAPH_PACHD_ADDRESS'),
    pachdToken: v('REELGRAPH_PACHD_TOKEN'),
    pachdCaFile: v('REELGRAPH_PACHD_CA'),
  };
}

/**
 * Opens the Pachyderm port chosen by `sel`: with `pachdAddress`, the gRPC client to that pachd,
 * after a Health/Check (so that a wrong address fails here, naming it) and a version check
 * (pachd ≥ 2.8.0, grpc/version.ts); otherwise
 * {@link openEmbeddedEngine} on `sel.dataDir` (`opts` apply to it only).
 * @throws PachError INVALID_ARGUMENT for a malformed address, UNAVAILABLE / DEADLINE_EXCEEDED
 *   "pachd at … is not reachable" when pachd does not answer within 10 s; FAILED_PRECONDITION
 *   "pachd at … is version X; reelgraph needs pachd 2.8.0 or newer" for an older pachd; the errors of
 *   {@link openEmbeddedEngine}
 */
export async function openEngine(
  sel: EngineSelection,
  opts: { pps?: PpsOptions } & Omit<EmbeddedOptions, 'pps' | 'readonly'> = {},
): Promise<Pachyderm> {
  if (sel.pachdAddress) {
    const pach = connectPachd(sel.pachdAddress, { token: sel.pachdToken, caFile: sel.pachdCaFile });
    try {
      await pach.checkHealth();
      await pach.checkVersion();
    } catch (e) {
      await pach.close();
      throw e;
    }
    return pach;
  }
  return openEmbeddedEngine(sel.dataDir, opts);
}

/** The first (or current) model: the output of a successful `train` job. */
export interface ModelInfo {
  /** The `train` job (its id is the commit set id). */
  job: JobInfo;
  /** The `train` output commit holding the model. */
  commit: string;
  metrics: TrainMetrics;
  manifest: TrainManifest;
}

/** Options of {@link bootstrap}. */
export interface BootstrapOptions {
  /** Where to find or fetch MovieLens 100K (see `BuiltinOptions`; default: the environment). */
  datasets?: BuiltinOptions;
  /**
   * The data set of a first start: `ml-100k` (default), `ml-1m`, `ml-latest-small`, `none`, or a
   * ratings file (initial-data.ts). Ignored once the repo is initialised.
   */
  dataset?: string;
  /** The rating scale of a first start (default: the data set's, else [1, 5]). */
  ratingScale?: RatingScale;
  /** Wait for the first model (default true). */
  waitForModel?: boolean;
  /** Give up waiting after this many milliseconds (default 10 minutes). */
  timeoutMs?: number;
  /** Progress lines ("created repo training", …). */
  log?: (line: string) => void;
}

/** What {@link bootstrap} did and found. */
export interface BootstrapResult {
  /** Repos created by this run. */
  createdRepos: string[];
  /** The training commit made by this run, or null when the repo was already initialised. */
  baseCommit: string | null;
  /** What that commit holds (e.g. "ml-100k ratings and catalogue"), null when none was made. */
  baseDescription: string | null;
  /** The paths that commit put (ratings, catalogue, `/settings.json`); empty when none. */
  baseFiles: string[];
  /** Pipelines created by this run. */
  createdPipelines: string[];
  /** Pipelines updated by this run (a `predict` made by an older version). */
  updatedPipelines: string[];
  /** The first model (null when `waitForModel` is false). */
  model: ModelInfo | null;
}

async function exists(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (isPachError(e, PachCode.NOT_FOUND)) return false;
    throw e;
  }
}

/**
 * Runs a create call; false when it failed with ALREADY_EXISTS, i.e. another process (an API
 * replica, the set-up Job) created the object between our check and our call.
 */
async function created(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (isPachError(e, PachCode.ALREADY_EXISTS)) return false;
    throw e;
  }
}

/**
 * The bytes of MovieLens 100K's `u.data`, checked against its recorded SHA-256.
 * @throws DatasetNotFoundError when it is nowhere and cannot be downloaded; Error on a checksum
 *   mismatch
 */
export async function movieLens100kRatings(opts: BuiltinOptions = {}): Promise<Buffer> {
  const dir = await resolveBuiltin('ml-100k', { progress: false, ...opts });
  const check = verifyBuiltin('ml-100k', dir).find((c) => c.file === 'u.data');
  if (check && !check.ok) {
    throw new Error(
      `${path.join(dir, 'u.data')} is not MovieLens 100K's u.data: SHA-256 ${check.actual ?? '(missing)'}, expected ${check.expected}`,
    );
  }
  return fs.readFileSync(path.join(dir, 'u.data'));
}

/**
 * Runs the idempotent first start (see the module documentation) on any Pachyderm (the embedded
 * engine with PPS, or a cluster).
 * @throws Error when the first train job fails (with its reason) or the wait times out; the
 *   errors of the port and of {@link movieLens100kRatings}
 */
export async function bootstrap(
  pach: Pachyderm,
  opts: BootstrapOptions = {},
): Promise<BootstrapResult> {
  const log = opts.log ?? (() => undefined);
  const result: BootstrapResult = {
    createdRepos: [],
    baseCommit: null,
    baseDescription: null,
    baseFiles: [],
    createdPipelines: [],
    updatedPipelines: [],
    model: null,
  };
  const descriptions: Record<string, string> = {
    [TRAINING_REPO]: 'Ratings: one file per batch, lines "user_id movie_id rating [timestamp]".',
    [STREAMING_REPO]:
      'Prediction requests: one file per PENDING request, lines "user_id movie_id"; answered ones are retired (they stay in the history).',
    [MODELS_REPO]:
      "The model predict answers with: a copy of a successful train commit's model.rgm and serving.json {version, pinned}.",
    [SERVING_REPO]: SERVING_REPO_DESCRIPTION,
  };
  // the data first: when it cannot be found, nothing is created
  const at = (p: string) => ({ commit: `${TRAINING_REPO}@master`, path: p });
  const initialised =
    (await exists(() => pach.inspectFile(at(SETTINGS_PATH)))) ||
    (await exists(() => pach.inspectFile(at(BASE_TRAINING_FILE))));
  const data = initialised
    ? null
    : await initialData({
        dataset: opts.dataset,
        ratingScale: opts.ratingScale,
        datasets: opts.datasets,
      });
  for (const repo of [TRAINING_REPO, STREAMING_REPO, MODELS_REPO, SERVING_REPO]) {
    if (await exists(() => pach.inspectRepo(repo))) continue;
    if (await created(() => pach.createRepo(repo, { description: descriptions[repo] }))) {
      result.createdRepos.push(repo);
      log(`created repo ${repo}`);
    }
  }

  if (data) {
    let commit: Commit | null = null;
    try {
      commit = await pach.startCommit(`${TRAINING_REPO}@master`, {
        description: data.description,
      });
    } catch (e) {
      // "parent commit … has not been finished": another process is committing right now (the
      // base ratings, as this one would); its commit starts the first train job
      if (!isPachError(e, PachCode.FAILED_PRECONDITION)) throw e;
      log(`${TRAINING_REPO}@master has an open commit: another process is committing the ratings`);
    }
    if (commit) {
      await pach.modifyFile(
        commit,
        data.files.map((f) => ({ op: 'put' as const, path: f.path, data: f.data })),
      );
      await pach.finishCommit(commit);
      result.baseCommit = commit.id;
      result.baseDescription = data.description;
      result.baseFiles = data.files.map((f) => f.path);
      log(
        `committed ${data.files.map((f) => `${f.path} (${f.data.length} bytes)`).join(', ')} ` +
          `as ${TRAINING_REPO}@${commit.id}: ${data.description}, ${data.ratings} ratings, ` +
          `rating scale [${data.settings.ratingScale.join(', ')}]`,
      );
    }
  }

  for (const name of PIPELINES) {
    let info;
    try {
      info = await pach.inspectPipeline(name);
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    if (!info) {
      if (await created(() => pach.createPipeline(pipelineSpecFor(name, pach)))) {
        result.createdPipelines.push(name);
        log(`created pipeline ${name}`);
      }
      continue;
    }
    if (await upgradePipeline(pach, name, info.details.input, log)) {
      result.updatedPipelines.push(name);
    }
  }

  if ((opts.waitForModel ?? true) && !(data && data.ratings === 0)) {
    result.model = await waitForModel(pach, { timeoutMs: opts.timeoutMs });
  } else if (data && data.ratings === 0) {
    log('no ratings yet: the first model comes with the first ratings');
  }
  return result;
}

/**
 * Updates a pipeline made by an older version whose PFS inputs (repo names) differ from the
 * committed spec's: today only `predict`, which crossed `train` and now crosses `models`.
 * Pachyderm's UpdatePipeline (`createPipeline` with `update`, without `reprocess`): the next job
 * computes the datums of the new input. Pipelines whose inputs match are left alone (no job).
 * @returns true when it updated the pipeline.
 */
export async function upgradePipeline(
  pach: Pachyderm,
  name: string,
  input: Parameters<typeof pfsInputs>[0],
  log: (line: string) => void = () => undefined,
): Promise<boolean> {
  const spec = pipelineSpecFor(name, pach);
  const want = JSON.stringify(
    pfsInputs(spec.input as Parameters<typeof pfsInputs>[0])
      .map((i) => i.repo)
      .sort(),
  );
  const have = JSON.stringify(
    pfsInputs(input)
      .map((i) => i.repo)
      .sort(),
  );
  if (want === have) return false;
  if (name === 'predict') {
    // the model input must be there before the pipeline reads it
    await created(() => pach.createRepo(MODELS_REPO)).catch(() => undefined);
  }
  await pach.createPipeline(spec, { update: true });
  log(`updated pipeline ${name}: inputs ${have} → ${want}`);
  return true;
}

/**
 * The newest model: waits for the newest `train` job to end and returns its output when it
 * succeeded with a model, else the newest earlier one that did; then publishes it to the
 * `models` repo (unless a newer or pinned model serves there) and waits for the commit set of the
 * `models` head (its `predict` job) to finish.
 * @returns null when train jobs succeeded but none wrote a model (no ratings yet)
 * @throws Error "train job X failed: reason" when no train job succeeded; Error on timeout
 */
export async function waitForModel(
  pach: Pachyderm,
  opts: { timeoutMs?: number } = {},
): Promise<ModelInfo | null> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const jobs: JobInfo[] = [];
    for await (const j of pach.listJob({ pipeline: 'train' })) jobs.push(j);
    if (jobs.length === 0) throw new Error('the train pipeline has no job yet');
    let last: JobInfo | undefined;
    let succeeded = false;
    for (const j of jobs) {
      const info = isTerminalJobState(j.state)
        ? j
        : await pach.inspectJob(j.job, { wait: true, signal: ac.signal });
      last ??= info;
      if (info.state !== JobState.JOB_SUCCESS) continue;
      succeeded = true;
      const commit = { repo: 'train', id: info.outputCommit.id };
      const read = async (file: string) =>
        JSON.parse((await pach.readFile({ commit, path: `/${file}` })).toString('utf8')) as unknown;
      if (!(await exists(() => pach.inspectFile({ commit, path: `/${MODEL_FILE}` })))) continue;
      const model: ModelInfo = {
        job: info,
        commit: info.outputCommit.id,
        metrics: (await read(METRICS_FILE)) as TrainMetrics,
        manifest: (await read(MANIFEST_FILE)) as TrainManifest,
      };
      // serve it: publish it to `models` (if no newer or pinned one serves) and wait for the
      // predict job of the `models` head
      const publisher = new ModelPublisher(pach);
      await publisher.publish(model.commit, { onlyIfNewer: true });
      // the head's id only: InspectBranch, not InspectCommit, whose subvenance list of a
      // `models` commit grows with every predict job that read it
      const head = (await pach.inspectBranch(`${MODELS_REPO}@master`)).head;
      if (!head) throw new Error(`${MODELS_REPO}@master has no commit after publishing`);
      for await (const c of pach.inspectCommitSet(head.id, {
        wait: true,
        signal: ac.signal,
      })) {
        void c;
      }
      return model;
    }
    if (succeeded) return null;
    throw new Error(
      `no train job succeeded: train job ${last!.job.id} ended ${JobState[last!.state]}` +
        (last!.reason ? `: ${last!.reason}` : ''),
    );
  } catch (e) {
    if (ac.signal.aborted) {
      throw new Error(
        `no model after ${Math.round(timeoutMs / 1000)} s of waiting for the train job`,
      );
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
