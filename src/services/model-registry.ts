/**
 * The model registry: the serving model is the newest finished `train` commit that holds a model
 * (`/model.rgm`, engine/model-file.ts format; its version is the commit id) — unless an operator
 * pinned a version with `serveModel` (serving-pin.ts: `serving@master:/pin.json`, so replicas and
 * restarts agree; while pinned, newer models are kept but not served). It is loaded once,
 * then swapped in atomically (one reference assignment) when a newer train commit finishes;
 * queries in flight keep the model object they started with. Loads run one at a time, in the
 * order the commits finish; a commit older than the serving one (by start time) never replaces it.
 * Before a model is swapped in it is published to the `models` repo (model-publisher.ts), the
 * predict pipeline's model input — pinned when a pin serves it — so online answers and pipeline
 * answers come from the same model, and a request committed after `modelUpdated` is answered by
 * that model.
 *
 * A failed train job changes nothing of what serves: the newest train job that ended FAILURE,
 * KILLED or UNRUNNABLE after the serving model's commit started is remembered
 * ({@link ModelRegistry.newerFailedJob}) and MODEL_UPDATED is published again with the serving
 * model, so `modelUpdated` subscribers learn that the newest version failed and which one serves.
 * The next model swapped in clears it.
 *
 * Online answers use the same call as the predict program (`algo.predict(user, movie)`, clipped
 * to the rating scale), so they equal the pipeline's answers for the same model version.
 * Recommendations use engine `recommend()` (top-N of the trainset's items), with titles from the
 * ml-100k catalogue.
 *
 * When the train commit also holds a ranker (`/ranker.rgr`, workers/train-ranker.ts),
 * recommendations rank with it instead and say so (`rankedBy`), with `because` per movie, and
 * `similarMovies` answers from it (services/ranked-recommendations.ts).
 *
 * Model versions' facts come from `/metrics.json` and `/manifest.json` of each train commit
 * (written by workers/train.ts), cached per commit (commits are immutable).
 */
import '../engine/algorithms/index';
import type { AlgoBase } from '../engine/algorithms/base';
import { loadModel } from '../engine/model-file';
import { recommend } from '../engine/top-n';
import { estimateFoldedResult, recommendFolded } from '../engine/fold-in';
import { factorRecommend, isFactorModel, prepareServing } from '../engine/factor-top-n';
import { FoldInOverlay } from '../engine/fold-in-overlay';
import { loadRanker, type RankerBase } from '../engine/rankers';
import { rankedRecommendations, similarMoviesOf } from './ranked-recommendations';
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { isCommitId } from '../pachyderm/refs';
import { type CommitInfo, type JobInfo, JobState, isTerminalJobState } from '../pachyderm/types';
import type { Catalog } from './catalog';
import type { ModelPublisher } from './model-publisher';
import type { ResolvedServiceConfig } from './config';
import { ModelNotReadyError, NotFoundError } from './errors';
import type { ModelsService } from './index';
import type { EventBus } from './pubsub';
import { readPin, writePin, type ServingPin, SERVING_REPO } from './serving-pin';
import type {
  ModelVersion,
  OnlinePrediction,
  RankerVersion,
  Recommendations,
  SimilarMovie,
} from './types';
import { CommitState } from '../pachyderm/types';
import { validateFirst, validateId } from './validation';

/** The model file, metrics and manifest names in the `train` repo (workers/files.ts). */
export const MODEL_PATH = '/model.rgm';
export const METRICS_PATH = '/metrics.json';
export const MANIFEST_PATH = '/manifest.json';
/** The ranker's facts in a train commit (workers/train-ranker.ts RANKER_INFO_FILE). */
export const RANKER_INFO_PATH = '/ranker.json';
/** The ranker file of a train commit (workers/train-ranker.ts), when the pipeline fits one. */
export const RANKER_PATH = '/ranker.rgr';

/** The model being served. */
export interface ServingModel {
  /** The train commit id. */
  version: string;
  algo: AlgoBase;
  /** The ranker of the same commit, or null when the commit holds none. */
  ranker?: RankerBase | null;
  info: ModelVersion;
  /** Start time of the train commit (ms), to order versions. */
  startedMs: number;
  /** Why it serves: "newest model" or the pin's reason. */
  reason: string;
  /**
   * The users folded in since its `training` commit (engine/fold-in-overlay.ts): their answers come
   * from it (`modelSource: FOLDED_IN`); replaced, keeping only batches it did not see, by the
   * next model.
   */
  foldIn: FoldInOverlay;
}

/** The reason of a model served because it is the newest. */
export const NEWEST_REASON = 'newest successful train commit';

type Json = Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The ranker facts of a `ranker.json` (null when absent or without a ranker name; pure). */
export function rankerVersionOf(info: Json | null): RankerVersion | null {
  if (!info || typeof info.ranker !== 'string' || info.ranker === '') return null;
  const params = info.params;
  return {
    name: info.ranker,
    params: params && typeof params === 'object' && !Array.isArray(params) ? (params as Json) : {},
    fitSeconds: num(info.fitSeconds),
    rankerSha256: typeof info.rankerSha256 === 'string' ? info.rankerSha256 : null,
  };
}

/**
 * Builds a {@link ModelVersion} from a train commit and its JSON files (pure): `metrics.json`,
 * `manifest.json` and, when the commit holds a ranker, `ranker.json`.
 */
export function modelVersionOf(
  ci: CommitInfo,
  metrics: Json | null,
  manifest: Json | null,
  rankerInfo: Json | null = null,
): ModelVersion {
  const m = metrics ?? {};
  const f = manifest ?? {};
  const h = m.holdout as Json | null | undefined;
  return {
    version: ci.commit.id,
    algorithm: String(m.algorithm ?? f.algorithm ?? 'unknown'),
    params: ((m.params ?? f.params) as Json | undefined) ?? {},
    ratingsCount: num(m.ratings) ?? 0,
    duplicatesReplaced: num(m.duplicatesReplaced),
    usersCount: num(m.users) ?? 0,
    itemsCount: num(m.items) ?? 0,
    holdout:
      h && num(h.rmse) !== null && num(h.mae) !== null
        ? {
            rmse: h.rmse as number,
            mae: h.mae as number,
            testSize: num(h.testSize) ?? 0,
            seed: num(h.seed) ?? 0,
          }
        : null,
    fitSeconds: num(m.fitSeconds),
    trainingCommit: typeof f.trainingCommit === 'string' ? f.trainingCommit : null,
    pipelineVersion: null,
    modelSha256: typeof f.modelSha256 === 'string' ? f.modelSha256 : null,
    createdAt: ci.started,
    finishedAt: ci.finished,
    ranker: rankerVersionOf(rankerInfo),
  };
}

/** The serving reason of a pin. */
function pinReason(pin: ServingPin): string {
  return `pinned${pin.at ? ` at ${pin.at}` : ''}: ${pin.reason}`;
}

/** {@link ModelsService}: the registry on a Pachyderm port. */
export class ModelRegistry implements ModelsService {
  private serving: ServingModel | null = null;
  private readonly waiters = new Set<() => void>();
  private chain: Promise<void> = Promise.resolve();
  private readonly infos = new Map<string, ModelVersion | null>();
  private readonly stop = new AbortController();
  private pin: ServingPin | null = null;
  private failure: JobInfo | null = null;

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
    private readonly catalog: Catalog,
    private readonly publisher: ModelPublisher,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /**
   * Loads the newest model, then follows TRAIN_COMMIT_FINISHED events. A missing `train` repo
   * is not an error (no model yet).
   */
  async start(): Promise<void> {
    const commits = this.events.subscribe('TRAIN_COMMIT_FINISHED');
    const it = commits[Symbol.asyncIterator]();
    let first = it.next();
    const jobs = this.events.subscribe('JOB_UPDATED')[Symbol.asyncIterator]();
    let firstJob = jobs.next();
    this.stop.signal.addEventListener('abort', () => {
      void it.return?.();
      void jobs.return?.();
    });
    try {
      this.pin = await readPin(this.pach);
      if (this.pin?.version) await this.servePinned(this.pin);
      else await this.serveNewest();
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) this.log(`model registry: ${(e as Error).message}`);
    }
    try {
      for await (const j of this.pach.listJob({ pipeline: this.config.trainRepo, number: 1 })) {
        this.noteJob(j, false);
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) this.log(`model registry: ${(e as Error).message}`);
    }
    void (async () => {
      for (;;) {
        const r = await firstJob;
        if (r.done) return;
        this.noteJob(r.value, true);
        firstJob = jobs.next();
      }
    })();
    void this.followPins();
    void (async () => {
      for (;;) {
        const r = await first;
        if (r.done) return;
        const ci = r.value;
        this.chain = this.chain.then(() =>
          this.consider(ci).then(
            () => undefined,
            (e: Error) =>
              this.log(`model registry: cannot load train@${ci.commit.id}: ${e.message}`),
          ),
        );
        first = it.next();
      }
    })();
  }

  /** Stops following train commits; rejects pending `ready()` calls. */
  close(): void {
    this.stop.abort();
    for (const w of this.waiters) w();
  }

  /**
   * The newest train job, when it ended without success after the serving model's commit
   * started (the serving model then keeps serving); null otherwise.
   */
  newerFailedJob(): JobInfo | null {
    return this.failure;
  }

  /** Remembers a train job that failed after the serving model; publishes MODEL_UPDATED. */
  private noteJob(j: JobInfo, publish: boolean): void {
    if (j.job.pipeline.name !== this.config.trainRepo || !isTerminalJobState(j.state)) return;
    if (j.state === JobState.JOB_SUCCESS) return;
    const cur = this.serving;
    if (cur && j.created.getTime() < cur.startedMs) return;
    if (this.failure && this.failure.created.getTime() > j.created.getTime()) return;
    this.failure = j;
    if (publish && cur)
      this.events.publish('MODEL_UPDATED', { ...cur.info, servingReason: cur.reason });
  }

  /** The serving model (null before the first). */
  current(): ServingModel | null {
    return this.serving;
  }

  currentVersion(): string | null {
    return this.serving?.version ?? null;
  }

  ready(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    if (this.serving) return Promise.resolve(this.serving.version);
    return new Promise<string>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.waiters.delete(done);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', done);
        if (this.serving) resolve(this.serving.version);
        else
          reject(
            new ModelNotReadyError(
              opts.signal?.aborted ? 'waiting for a model was cancelled' : undefined,
            ),
          );
      };
      this.waiters.add(done);
      opts.signal?.addEventListener('abort', done, { once: true });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(done, opts.timeoutMs);
        timer.unref?.();
      }
    });
  }

  /**
   * Loads `ci`'s model and swaps it in if it is newer than the serving one (not while a pin
   * holds: the model is then only recorded).
   * @param force swap it in even when older (a pin, an unpin)
   * @returns true when `ci` is (now) the serving model.
   */
  private async consider(ci: CommitInfo, force = false, reason = NEWEST_REASON): Promise<boolean> {
    if (ci.error || !ci.finished) return false;
    if (this.pin?.version && !force) {
      await this.info(ci);
      return false;
    }
    const cur = this.serving;
    if (!force && cur && (cur.version === ci.commit.id || ci.started.getTime() < cur.startedMs)) {
      return cur.version === ci.commit.id;
    }
    const buf = await this.read(ci.commit.id, MODEL_PATH);
    if (!buf) return false;
    const algo = loadModel(buf);
    prepareServing(algo); // the float32 item side of a factor model, before the first request
    const rankerBuf = await this.read(ci.commit.id, RANKER_PATH);
    const ranker = rankerBuf ? loadRanker(rankerBuf) : null;
    const info = await this.info(ci);
    if (!info) return false;
    const trainedFromMs = await this.trainingStartedMs(info, ci);
    const now = this.serving;
    if (!force && now && ci.started.getTime() < now.startedMs) return false;
    // the predict pipeline's model input first, so a request committed after modelUpdated is
    // answered by this model (model-publisher.ts: idempotent, only forward unless forced)
    try {
      await this.publisher.publish(
        ci.commit.id,
        force ? { pin: !!this.pin?.version, description: reason } : { onlyIfNewer: true },
      );
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      this.log(`model registry: cannot publish train@${ci.commit.id}: ${(e as Error).message}`);
    }
    const prev = this.serving;
    const target = { algo, ranker };
    this.serving = {
      version: ci.commit.id,
      algo,
      ranker,
      info,
      startedMs: ci.started.getTime(),
      reason,
      foldIn: prev
        ? prev.foldIn.rebase(target, trainedFromMs)
        : new FoldInOverlay(target, trainedFromMs),
    };
    if (this.failure && this.failure.created.getTime() < ci.started.getTime()) this.failure = null;
    for (const w of [...this.waiters]) w();
    this.events.publish('MODEL_UPDATED', { ...info, servingReason: reason });
    return true;
  }

  /**
   * Start time (epoch ms) of the `training` commit a model was trained on (its manifest's
   * `trainingCommit`); when unknown, the train commit's own start (which follows it).
   */
  private async trainingStartedMs(info: ModelVersion, ci: CommitInfo): Promise<number> {
    if (info.trainingCommit) {
      try {
        const t = await this.pach.inspectCommit({
          repo: this.config.trainingRepo,
          id: info.trainingCommit,
        });
        return t.started.getTime();
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
    }
    return ci.started.getTime();
  }

  /**
   * Folds a rating batch committed to `training` into the serving model at once
   * (engine/fold-in-overlay.ts): after this resolves, `predict` and `recommendations` for its users answer from
   * their folded-in factors (`modelSource: FOLDED_IN`) until a model trained on it serves.
   * Nothing happens before the first model, or for a batch the serving model already includes.
   * @param commit the batch's `training` commit id (its start time orders it against models)
   * @param startedMs that commit's start time (epoch ms) when the caller knows it (else looked up)
   * @returns how many users were folded
   */
  async foldIn(
    items: ReadonlyArray<{ userId: string; movieId: string; rating: number }>,
    commit: string,
    batchId: string | null = null,
    startedMs?: number,
  ): Promise<number> {
    if (!this.serving || items.length === 0) return 0;
    const started =
      startedMs ??
      (
        await this.pach.inspectCommit({ repo: this.config.trainingRepo, id: commit })
      ).started.getTime();
    // read after the await: a model swapped in meanwhile gets the batch (or already has it)
    return this.serving?.foldIn.add(items, started, batchId).length ?? 0;
  }

  /**
   * Takes a removed batch out of the fold-in overlay (`removeBatch`), so that its users are no
   * longer answered from its ratings. @returns how many users held it
   */
  unfold(batchId: string): number {
    return this.serving?.foldIn.remove(batchId) ?? 0;
  }

  /** Serves the newest finished train commit with a model (none: nothing changes). */
  private async serveNewest(force = false): Promise<void> {
    for await (const ci of this.pach.listCommit(this.config.trainRepo)) {
      if (!ci.finished || ci.error) continue;
      if (await this.consider(ci, force)) return;
    }
  }

  /** Serves the pinned version. @throws NotFoundError when it is not a model version */
  private async servePinned(pin: ServingPin): Promise<void> {
    const ci = await this.modelCommit(pin.version!);
    await this.consider(ci, true, pinReason(pin));
  }

  /** The finished train commit of a model version. @throws NotFoundError otherwise */
  private async modelCommit(version: string): Promise<CommitInfo> {
    if (typeof version !== 'string' || !isCommitId(version))
      throw new NotFoundError('model version', String(version));
    let ci: CommitInfo;
    try {
      ci = await this.pach.inspectCommit({ repo: this.config.trainRepo, id: version });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) throw new NotFoundError('model version', version);
      throw e;
    }
    if (!ci.finished || ci.error || !(await this.info(ci))) {
      throw new NotFoundError('model version', version);
    }
    return ci;
  }

  /**
   * Follows the pin's commits (other replicas' `serveModel` calls) and applies each. Ends with
   * the registry; a missing `serving` repo (never pinned) ends it at once — the process that
   * creates it applies its pin itself, the others at their next start.
   */
  private async followPins(): Promise<void> {
    try {
      const head = (await this.pach.inspectBranch(`${SERVING_REPO}@master`)).head;
      for await (const ci of this.pach.subscribeCommit(SERVING_REPO, {
        branch: 'master',
        state: CommitState.FINISHED,
        signal: this.stop.signal,
        ...(head ? { from: head } : {}),
      })) {
        void ci;
        const pin = await readPin(this.pach);
        const same = (pin?.version ?? null) === (this.pin?.version ?? null);
        this.pin = pin;
        if (same && pin?.version) continue;
        this.chain = this.chain.then(() =>
          (pin?.version ? this.servePinned(pin) : this.serveNewest(true)).catch((e: Error) =>
            this.log(`model registry: cannot apply the pin: ${e.message}`),
          ),
        );
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND) && !this.stop.signal.aborted) {
        this.log(`model registry: pin watch ended: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Pins the serving model to `version`, or unpins it (`null`: the newest model serves again).
   * The pin is committed to `serving@master` first (so replicas and restarts agree), then served.
   * @param reason why (kept with the pin; shown by `modelUpdated.servingReason`)
   * @returns the model version now served (null: unpinned before any model exists)
   * @throws NotFoundError when `version` is not a finished train commit with a model (nothing
   *   is changed then)
   */
  async serveModel(version: string | null, reason?: string | null): Promise<string | null> {
    if (version !== null) await this.modelCommit(version); // checked before anything changes
    const why = (reason ?? '').trim().slice(0, 500);
    const pin: ServingPin = {
      version,
      reason: why || (version ? 'pinned by serveModel' : 'unpinned by serveModel'),
      at: new Date().toISOString(),
    };
    await writePin(this.pach, pin);
    this.pin = pin;
    await (this.chain = this.chain.then(() =>
      version ? this.servePinned(pin) : this.serveNewest(true),
    ));
    return this.serving?.version ?? null;
  }

  /** The pin in force, or null when the newest model serves. */
  pinned(): ServingPin | null {
    return this.pin?.version ? this.pin : null;
  }

  /** Why the serving model serves (null before the first model). */
  servingReason(): string | null {
    return this.serving?.reason ?? null;
  }

  private async read(commit: string, path: string): Promise<Buffer | null> {
    try {
      return await this.pach.readFile({
        commit: { repo: this.config.trainRepo, id: commit },
        path,
      });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  private async readJson(commit: string, path: string): Promise<Json | null> {
    const b = await this.read(commit, path);
    if (!b) return null;
    try {
      const v = JSON.parse(b.toString('utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
    } catch {
      return null;
    }
  }

  /** The model version of a finished train commit, or null when it holds no model. */
  private async info(ci: CommitInfo): Promise<ModelVersion | null> {
    const id = ci.commit.id;
    if (this.infos.has(id)) return this.infos.get(id) ?? null;
    let v: ModelVersion | null = null;
    try {
      await this.pach.inspectFile({
        commit: { repo: this.config.trainRepo, id },
        path: MODEL_PATH,
      });
      v = modelVersionOf(
        ci,
        await this.readJson(id, METRICS_PATH),
        await this.readJson(id, MANIFEST_PATH),
        await this.readJson(id, RANKER_INFO_PATH),
      );
      v.pipelineVersion = await this.pipelineVersionOf(id);
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    this.infos.set(id, v);
    return v;
  }

  /** The version of the train pipeline whose job made commit `id` (null when unknown). */
  private async pipelineVersionOf(id: string): Promise<number | null> {
    try {
      return (await this.pach.inspectJob({ pipeline: this.config.trainRepo, id })).pipelineVersion;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  private require(): ServingModel {
    const m = this.serving;
    if (!m) throw new ModelNotReadyError();
    return m;
  }

  /**
   * How many of `items` rate a (user, movie) pair that the serving model's trainset holds a
   * rating of (0 before the first model). Cost: one look-up per item plus one pass over the
   * ratings of each distinct user named.
   */
  countRated(items: readonly { userId: string; movieId: string }[]): number {
    const ts = this.serving?.algo.trainset;
    if (!ts) return 0;
    const rated = new Map<number, Set<number>>();
    let n = 0;
    for (const { userId, movieId } of items) {
      const u = ts.findUser(userId);
      const i = ts.findItem(movieId);
      if (u < 0 || i < 0) continue;
      let set = rated.get(u);
      if (!set) rated.set(u, (set = new Set(ts.ur(u).items)));
      if (set.has(i)) n++;
    }
    return n;
  }

  async predict(userId: string, movieId: string): Promise<OnlinePrediction> {
    const u = validateId(userId, 'userId', this.config.maxIdLength);
    const i = validateId(movieId, 'movieId', this.config.maxIdLength);
    const m = this.require();
    const folded = m.foldIn.get(u)?.folded;
    if (folded) {
      const ts = m.algo.trainset;
      const r = estimateFoldedResult(m.algo, folded, ts.findItem(i));
      const [lo, hi] = ts.ratingScale;
      return {
        userId: u,
        movieId: i,
        estimate: Math.min(hi, Math.max(lo, r.est)),
        wasImpossible: r.impossible,
        reason: r.reason,
        modelVersion: m.version,
        modelSource: 'FOLDED_IN',
      };
    }
    const p = m.algo.predict(u, i);
    return {
      userId: u,
      movieId: i,
      estimate: p.est,
      wasImpossible: p.details.wasImpossible,
      reason: p.details.reason ?? null,
      modelVersion: m.version,
      modelSource: 'TRAINED',
    };
  }

  async recommendations(
    userId: string,
    opts: { first?: number | null; excludeRated?: boolean | null; genre?: string | null } = {},
  ): Promise<Recommendations> {
    const u = validateId(userId, 'userId', this.config.maxIdLength);
    const k = validateFirst(opts.first, this.config.maxPageSize, 10);
    const genre =
      opts.genre == null ? null : validateId(opts.genre, 'genre', this.config.maxIdLength);
    const m = this.require();
    const catalog = await this.catalog.get();
    const foldedEntry = m.foldIn.get(u);
    if (m.ranker) {
      const folded = foldedEntry?.ranker ?? null;
      const r = rankedRecommendations(
        m.ranker,
        catalog,
        u,
        { k, excludeRated: opts.excludeRated ?? true, genre },
        folded,
      );
      return {
        userId: u,
        modelVersion: m.version,
        modelSource: folded ? 'FOLDED_IN' : 'TRAINED',
        rankedBy: m.ranker.name,
        ...r,
      };
    }
    const ofGenre = (id: string) =>
      genre === null ||
      (catalog.byId.get(id)?.genres.some((g) => g.toLowerCase() === genre.toLowerCase()) ?? false);
    const ts = m.algo.trainset;
    const folded = foldedEntry?.folded ?? null;
    const keep = genre === null ? null : (i: number) => ofGenre(ts.toRawIid(i));
    const inner = ts.findUser(u);
    const recs = folded
      ? recommendFolded(m.algo, folded, k, opts.excludeRated ?? true, keep)
      : inner >= 0 && isFactorModel(m.algo)
        ? // one tight pass over the item factors (62 000 movies: engine/factor-top-n.ts)
          factorRecommend(m.algo, inner, k, opts.excludeRated ?? true, keep)
        : recommend(m.algo, u, {
            // with a genre: every movie ranked, then filtered (rating models have no candidate mask)
            k: genre === null ? k : ts.nItems,
            excludeRated: opts.excludeRated ?? true,
          })
            .filter((r) => ofGenre(r.iid))
            .slice(0, k);
    return {
      userId: u,
      modelVersion: m.version,
      modelSource: folded ? 'FOLDED_IN' : 'TRAINED',
      knownUser: folded !== null || ts.findUser(u) >= 0,
      rankedBy: m.algo.name,
      items: recs.map((r, n) => ({
        rank: n + 1,
        movieId: r.iid,
        score: r.est,
        movie: catalog.byId.get(r.iid) ?? null,
      })),
    };
  }

  /**
   * The movies most similar to `movieId` by the serving ranker.
   * @throws ValidationError for a bad id or `first`; ModelNotReadyError; NotFoundError when the
   *   serving model has no ranker or its trainset does not know the movie.
   */
  async similarMovies(
    movieId: string,
    opts: { first?: number | null } = {},
  ): Promise<{ movieId: string; modelVersion: string; rankedBy: string; items: SimilarMovie[] }> {
    const i = validateId(movieId, 'movieId', this.config.maxIdLength);
    const k = validateFirst(opts.first, this.config.maxPageSize, 10);
    const m = this.require();
    if (!m.ranker) throw new NotFoundError('ranker of model version', m.version);
    const catalog = await this.catalog.get();
    return {
      movieId: i,
      modelVersion: m.version,
      rankedBy: m.ranker.name,
      items: similarMoviesOf(m.ranker, catalog, i, k),
    };
  }

  async model(version: string): Promise<ModelVersion> {
    return (await this.info(await this.modelCommit(version)))!;
  }

  /**
   * The bytes of a model version's `model.rgm` (engine/model-file.ts format; `loadModel` reads
   * it back). @throws NotFoundError when `version` is not a model version
   */
  async modelFile(version: string): Promise<Buffer> {
    await this.modelCommit(version);
    const buf = await this.read(version, MODEL_PATH);
    if (!buf) throw new NotFoundError('model version', version);
    return buf;
  }

  async models(opts: { first?: number | null } = {}): Promise<ModelVersion[]> {
    const first = validateFirst(opts.first, this.config.maxPageSize, 20);
    const out: ModelVersion[] = [];
    try {
      for await (const ci of this.pach.listCommit(this.config.trainRepo)) {
        if (!ci.finished || ci.error) continue;
        const info = await this.info(ci);
        if (info) out.push(info);
        if (out.length >= first) break;
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return out;
  }
}
