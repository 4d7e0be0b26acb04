/**
 * Every rating batch committed to `training`, by whoever (this API replica, another one,
 * `reelgraph import`, a client of pachd), folded in at once — online and in the predict pipeline.
 *
 * - **Own batches** (`addRatings` of this replica): {@link FoldInFeed.committed} folds the batch
 *   into the serving model (model-registry.ts `foldIn`, engine/fold-in-overlay.ts) and publishes
 *   it to the `models` repo next to the model (model-publisher.ts `publishFoldIn`) before the
 *   mutation answers: an online `predict` and a `requestPredictions` made after it both reflect it.
 * - **Other writers' batches**: each finished `training` commit (TRAINING_COMMIT_FINISHED, the
 *   process's one upstream watch) is compared with its parent over the `/batches/` names of the
 *   last {@link FOLD_IN_LOOKBACK_MS} (a batch file is named `<13-digit epoch ms>-…`, at most
 *   {@link FOLD_IN_LIST_MAX} names listed at each of the two commits): a file new or changed in
 *   the commit is read (at most {@link FOLD_IN_MAX_FILE_BYTES}; a larger one — an import chunk —
 *   waits for the retrain) and folded in and published the same way; a file the commit deleted
 *   (`removeRatingBatch` elsewhere) is taken out of the overlay.
 * - **Once per batch**: both paths meet at one in-flight map by batch id, so a batch this replica
 *   committed and the watch then sees is folded once, and `addRatings` waits for whichever came
 *   first. At most {@link FOLD_IN_SEEN_MAX} batch ids are remembered.
 * - **A new model** (MODEL_UPDATED): the batches committed after its `training` commit started
 *   (held here, at most {@link FOLD_IN_PUBLISH_CAPS}`.maxBatches`) are published again with it
 *   (publishing a model clears `/fold-in/`): the retrain clears what it learned.
 * - **Bounded** per model version: {@link FOLD_IN_PUBLISH_CAPS} files and bytes in `/fold-in/`
 *   (past them the pipeline answers those users from the trained model until the retrain), and
 *   the overlay's own caps online.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import type { CommitInfo, FileInfo } from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import type { FoldInCaps, FoldInFile, ModelPublisher } from './model-publisher';
import type { ModelRegistry } from './model-registry';
import type { EventBus } from './pubsub';
import { parseBatchText } from '../workers/predict-fold-in';
import { batchFileText } from './ratings';
import type { RatingItem } from './types';

/** How far back (ms before a commit started) batch names are compared with the parent's. */
export const FOLD_IN_LOOKBACK_MS = 10 * 60_000;
/** Names listed at each of a commit and its parent when looking for its new batches. */
export const FOLD_IN_LIST_MAX = 2_000;
/** A batch file larger than this is not folded in (an import chunk): the retrain brings it. */
export const FOLD_IN_MAX_FILE_BYTES = 4 * 1024 * 1024;
/** What is published in `/fold-in/` of one model version at most. */
export const FOLD_IN_PUBLISH_CAPS: FoldInCaps = { maxBatches: 1_000, maxBytes: 8 * 1024 * 1024 };
/** Batch ids remembered as folded (oldest forgotten first). */
export const FOLD_IN_SEEN_MAX = 100_000;

/** A batch as this feed holds it (for publishing again with a newer model). */
interface HeldBatch extends FoldInFile {
  /** Start time of its `training` commit, epoch ms. */
  startedMs: number;
  /** Its batch id (the file name without `.txt`). */
  batchId: string;
}

/** The batch id of a batch path (`/batches/<id>.txt` → `<id>`). */
export function batchIdOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.endsWith('.txt') ? base.slice(0, -4) : base;
}

/** The `/fold-in/` name of a batch: `<13-digit start ms>-<training commit>-<file name>`. */
export function foldInName(startedMs: number, commit: string, path: string): string {
  return `${String(startedMs).padStart(13, '0')}-${commit}-${path.slice(path.lastIndexOf('/') + 1)}`;
}

/** See the module comment. */
export class FoldInFeed {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly seen = new Set<string>();
  private held: HeldBatch[] = [];
  /** The model version the held batches were last published again with. */
  private republished: string | null = null;
  private readonly stop = new AbortController();
  /** Batches folded in (for tests and logs). */
  folded = 0;

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
    private readonly registry: ModelRegistry,
    private readonly publisher: ModelPublisher,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /** Follows finished `training` commits and model swaps (returns at once). */
  start(): void {
    const commits = this.events.subscribe('TRAINING_COMMIT_FINISHED')[Symbol.asyncIterator]();
    const models = this.events.subscribe('MODEL_UPDATED')[Symbol.asyncIterator]();
    this.stop.signal.addEventListener('abort', () => {
      void commits.return?.();
      void models.return?.();
    });
    void (async () => {
      for (let r = await commits.next(); !r.done; r = await commits.next()) {
        const ci = r.value;
        void this.fromCommit(ci).catch((e: Error) =>
          this.log(`fold-in of training@${ci.commit.id}: ${e.message}`),
        );
      }
    })();
    void (async () => {
      for (let r = await models.next(); !r.done; r = await models.next()) {
        void this.republish().catch((e: Error) =>
          this.log(`publishing the fold-in with model ${r.value.version}: ${e.message}`),
        );
      }
    })();
  }

  /** Stops following. */
  close(): void {
    this.stop.abort();
  }

  /**
   * A batch this replica committed (`addRatings`): folded in and published (see the module
   * comment); resolves when both are done, or when the same batch, already under way through the
   * watch, is. Never rejects (failures are logged: the batch is committed whatever happens).
   */
  committed(items: readonly RatingItem[], commit: string, path: string): Promise<void> {
    return this.once(batchIdOf(path), async () => {
      const ci = await this.pach.inspectCommit({ repo: this.config.trainingRepo, id: commit });
      // the file's size from its text (ratings.ts writes exactly this): no read of the commit
      await this.fold(items, ci, path, Buffer.byteLength(batchFileText(items)));
    });
  }

  /** Runs `fn` for batch `batchId` once per process (a second call waits for the first). */
  private once(batchId: string, fn: () => Promise<void>): Promise<void> {
    const running = this.inFlight.get(batchId);
    if (running) return running;
    if (this.seen.has(batchId)) return Promise.resolve();
    this.seen.add(batchId);
    if (this.seen.size > FOLD_IN_SEEN_MAX) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const run = fn()
      .catch((e: Error) => this.log(`fold-in of batch ${batchId}: ${e.message}`))
      .finally(() => this.inFlight.delete(batchId));
    this.inFlight.set(batchId, run);
    return run;
  }

  /** Folds one batch into the serving model and publishes it with that model. */
  private async fold(
    items: ReadonlyArray<{ userId: string; movieId: string; rating: number }>,
    ci: CommitInfo,
    path: string,
    bytes: number,
  ): Promise<void> {
    const startedMs = ci.started.getTime();
    const users = await this.registry.foldIn(items, ci.commit.id, batchIdOf(path), startedMs);
    const serving = this.registry.current();
    if (users === 0 || !serving) return;
    this.folded++;
    const batch: HeldBatch = {
      name: foldInName(startedMs, ci.commit.id, path),
      src: { commit: { repo: this.config.trainingRepo, id: ci.commit.id }, path },
      commit: ci.commit.id,
      bytes,
      startedMs,
      batchId: batchIdOf(path),
    };
    this.held.push(batch);
    this.held.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (this.held.length > FOLD_IN_PUBLISH_CAPS.maxBatches) this.held.shift();
    await this.publisher.publishFoldIn(serving.version, [batch], FOLD_IN_PUBLISH_CAPS);
  }

  /**
   * After a model swap: the held batches it did not see, published with it (once per version:
   * MODEL_UPDATED also repeats the serving model when a newer train job failed).
   */
  private async republish(): Promise<void> {
    const serving = this.registry.current();
    if (!serving || serving.version === this.republished) return;
    this.republished = serving.version;
    const from = serving.foldIn.trainedFromMs;
    this.held = this.held.filter((b) => b.startedMs > from);
    if (this.held.length === 0) return;
    await this.publisher.publishFoldIn(serving.version, this.held, FOLD_IN_PUBLISH_CAPS);
  }

  /** The batches a finished `training` commit added (folded in) and deleted (taken out). */
  private async fromCommit(ci: CommitInfo): Promise<void> {
    if (ci.error || !ci.finished) return;
    const marker = `/batches/${String(Math.max(0, ci.started.getTime() - FOLD_IN_LOOKBACK_MS)).padStart(13, '0')}`;
    const now = await this.batchFiles(ci.commit.id, marker);
    const before = ci.parentCommit ? await this.batchFiles(ci.parentCommit.id, marker) : new Map();
    for (const [path, info] of now) {
      if (before.get(path)?.hash === info.hash) continue;
      void this.once(batchIdOf(path), async () => {
        if (info.sizeBytes > FOLD_IN_MAX_FILE_BYTES) {
          this.log(
            `fold-in: ${path} of training@${ci.commit.id} has ${info.sizeBytes} bytes, more than ${FOLD_IN_MAX_FILE_BYTES}: left to the retrain`,
          );
          return;
        }
        const text = (await this.pach.readFile({ commit: ci.commit, path })).toString('utf8');
        await this.fold(parseBatchText(text), ci, path, info.sizeBytes);
      });
    }
    for (const path of before.keys()) {
      if (!now.has(path)) await this.removed(batchIdOf(path));
    }
  }

  /**
   * A rating batch removed from `training` (`removeRatingBatch` here or elsewhere): taken out of
   * the overlay at once and deleted from the `/fold-in/` published with the serving model.
   */
  async removed(batchId: string): Promise<void> {
    this.registry.unfold(batchId);
    const gone = this.held.filter((b) => b.batchId === batchId);
    if (gone.length === 0) return;
    this.held = this.held.filter((b) => !gone.includes(b));
    const serving = this.registry.current();
    if (!serving) return;
    await this.publisher
      .publishFoldIn(
        serving.version,
        [],
        FOLD_IN_PUBLISH_CAPS,
        gone.map((b) => b.name),
      )
      .catch((e: Error) => this.log(`removing batch ${batchId} from the fold-in: ${e.message}`));
  }

  /** The batch files of a `training` commit named after `marker` (at most FOLD_IN_LIST_MAX). */
  private async batchFiles(commit: string, marker: string): Promise<Map<string, FileInfo>> {
    const out = new Map<string, FileInfo>();
    try {
      for await (const f of this.pach.listFile(
        { commit: { repo: this.config.trainingRepo, id: commit }, path: '/batches/' },
        { paginationMarker: marker, number: FOLD_IN_LIST_MAX },
      )) {
        if (f.file.path.endsWith('/')) continue;
        out.set(f.file.path, f);
        if (out.size >= FOLD_IN_LIST_MAX) break;
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return out;
  }
}
