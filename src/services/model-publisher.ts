/**
 * The `models` repo: the ONE input through which `predict` gets its model.
 *
 * Why: on Pachyderm a failed job finishes its output commit with an error, and every downstream
 * job whose commit set holds that commit is UNRUNNABLE. Crossing `streaming/*` with `train/`
 * directly therefore stopped every prediction request after one failed train job. Instead the
 * service copies each SUCCESSFUL model into the `models` repo (a plain input repo, no upstream
 * pipeline), and `predict` crosses `streaming/*` with `models/`: a failed train job never reaches
 * `predict`, the last published model keeps answering.
 *
 * A `models` commit holds:
 * - `/model.rgm`: a copy (pachd `copy_file`, no bytes re-uploaded) of `train@<version>:/model.rgm`;
 * - `/serving.json`: `{"version": "<train commit id>", "pinned": false, "reason": null}` (pinned:
 *   set by an operator through {@link ModelPublisher.publish} with `pin` and a `description`
 *   kept as `reason`; the automatic publishing never replaces a pinned model — issue 13's
 *   `serveModel` belongs here), plus `"foldIn"` when rating batches are published with it;
 * - `/fold-in/`: the rating batches committed since the model's `training` commit, folded in by
 *   the predict program (services/fold-in-publisher.ts, workers/predict-fold-in.ts). Publishing a
 *   model (a retrain, a pin) deletes it in the same commit: a model starts without batches.
 *
 * Publishing is idempotent: the head's `serving.json` is read first and nothing is committed when
 * it already names the version (several API replicas, restarts and `reelgraph init` all publish
 * the same newest model; at worst two replicas racing commit the same bytes twice, which gives a
 * predict job whose datums are all skipped). The automatic publisher only moves FORWARD: a train
 * commit started before the published one is never published over it.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { isCommitId } from '../pachyderm/refs';
import { StorageFullError } from '../pachyderm/storage-error';
import type { CommitInfo } from '../pachyderm/types';
import type { FileRef } from '../pachyderm/refs';
import { FOLD_IN_DIR, MODEL_FILE, SERVING_FILE } from '../workers/files';
import { NotFoundError } from './errors';
import type { EventBus } from './pubsub';
import { finishAbandoned } from './streaming';

/** The repo of published models (input of `predict`). */
export const MODELS_REPO = 'models';

/** What `/serving.json` of a `models` commit says. */
export interface ServingRecord {
  /** The `train` commit id (32 hex) whose `/model.rgm` this commit holds. */
  version: string;
  /** True when an operator pinned this version: automatic publishing leaves it in place. */
  pinned: boolean;
  /** Why it was published, when the publisher said (e.g. a pin's reason); null otherwise. */
  reason: string | null;
  /**
   * The rating batches published with the model in `/fold-in/` (services/fold-in-publisher.ts):
   * `through` the `training` commit of the newest, `last` its file name, how many files and
   * their bytes. Absent or null: none (the trained model alone answers).
   */
  foldIn?: FoldInRecord | null;
}

/** What `/serving.json` says of the batches in `/fold-in/` (see {@link ServingRecord}). */
export interface FoldInRecord {
  through: string;
  last: string;
  batches: number;
  bytes: number;
}

/** The fold-in record of a parsed `serving.json` (null when absent or malformed). */
function foldInRecordOf(v: unknown): FoldInRecord | null {
  if (!v || typeof v !== 'object') return null;
  const f = v as Partial<FoldInRecord>;
  if (typeof f.through !== 'string' || typeof f.last !== 'string') return null;
  return {
    through: f.through,
    last: f.last,
    batches: typeof f.batches === 'number' ? f.batches : 0,
    bytes: typeof f.bytes === 'number' ? f.bytes : 0,
  };
}

/** How many `models` commit → record entries are cached per process (commits are immutable). */
const RECORD_CACHE_SIZE = 10_000;

/** How long a publish waits while another process holds the `models` branch open. */
const PUBLISH_PATIENCE_MS = 30_000;

/** The description of a `models` commit (publish). */
const SERVE_DESCRIPTION = 'reelgraph: serve model train@';
/** The description of a `models` commit that adds rating batches (publishFoldIn). */
const FOLD_IN_DESCRIPTION = 'reelgraph: fold in training@';

/** One rating batch to publish with a model (see {@link ModelPublisher.publishFoldIn}). */
export interface FoldInFile {
  /** Its name under `/fold-in/`: `<13-digit commit start ms>-<training commit>-<batch file>`. */
  name: string;
  /** The batch file in `training` (copied: no bytes re-uploaded). */
  src: FileRef;
  /** Its `training` commit. */
  commit: string;
  /** Its size in bytes. */
  bytes: number;
}

/** Bounds of what is published in `/fold-in/` per model version. */
export interface FoldInCaps {
  maxBatches: number;
  maxBytes: number;
}

/** Reads and writes the `models` repo. */
export class ModelPublisher {
  private readonly records = new Map<string, ServingRecord | null>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pach: Pachyderm,
    private readonly opts: { modelsRepo?: string; trainRepo?: string } = {},
  ) {}

  /** The name of the models repo. */
  get repoName(): string {
    return this.opts.modelsRepo ?? MODELS_REPO;
  }

  private get repo(): string {
    return this.repoName;
  }

  private get trainRepo(): string {
    return this.opts.trainRepo ?? 'train';
  }

  /**
   * The record of a `models` commit (by id, or the branch head when `commit` is omitted).
   * @returns null when the commit holds no `serving.json` (or the repo / branch has no commit).
   */
  async record(commit?: string): Promise<ServingRecord | null> {
    if (commit && this.records.has(commit)) return this.records.get(commit) ?? null;
    let rec: ServingRecord | null = null;
    try {
      const buf = await this.pach.readFile({
        commit: commit ? { repo: this.repo, id: commit } : `${this.repo}@master`,
        path: `/${SERVING_FILE}`,
      });
      const v = JSON.parse(buf.toString('utf8')) as Partial<ServingRecord>;
      if (typeof v.version === 'string') {
        rec = {
          version: v.version,
          pinned: v.pinned === true,
          reason: typeof v.reason === 'string' ? v.reason : null,
          foldIn: foldInRecordOf(v.foldIn),
        };
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND) && !(e instanceof SyntaxError)) throw e;
    }
    if (commit) {
      this.records.set(commit, rec);
      if (this.records.size > RECORD_CACHE_SIZE) {
        const oldest = this.records.keys().next().value;
        if (oldest !== undefined) this.records.delete(oldest);
      }
    }
    return rec;
  }

  /**
   * Publishes the model of `train@version` as the head of `models@master` (one commit), unless
   * the head already serves it. Calls run one at a time per process.
   * @param opts.pin an operator's choice: publish even over a newer or pinned model, and mark it
   *   pinned. Without `pin` (and without `onlyIfNewer`) the version is published unpinned, over
   *   a pinned head too: that is how a pin is lifted.
   * @param opts.onlyIfNewer (automatic publishing) skip when the head is pinned or serves a train
   *   commit started after `version`'s.
   * @param opts.description why (e.g. who pinned it and why): kept as `reason` in serving.json
   *   and appended to the commit's description (`reelgraph: serve model train@<version>: …`).
   * @returns true when a commit was made.
   * @throws NotFoundError when `version` is not a commit id; PachError NOT_FOUND when
   *   `train@version` has no model file (nothing is committed then).
   */
  publish(
    version: string,
    opts: { pin?: boolean; onlyIfNewer?: boolean; description?: string } = {},
  ): Promise<boolean> {
    if (typeof version !== 'string' || !isCommitId(version)) {
      return Promise.reject(new NotFoundError('model version', String(version)));
    }
    const run = this.chain.then(() => this.publishNow(version, opts));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async publishNow(
    version: string,
    opts: { pin?: boolean; onlyIfNewer?: boolean; description?: string },
  ): Promise<boolean> {
    const pinned = opts.pin === true;
    const record: ServingRecord = { version, pinned, reason: opts.description ?? null };
    // the model must exist before a commit is started (NOT_FOUND passes through)
    await this.pach.inspectFile({
      commit: { repo: this.trainRepo, id: version },
      path: `/${MODEL_FILE}`,
    });
    const deadline = Date.now() + PUBLISH_PATIENCE_MS;
    for (;;) {
      const head = await this.record();
      if (head && head.version === version && head.pinned === pinned) return false;
      if (opts.onlyIfNewer && head) {
        if (head.pinned) return false;
        if (await this.startedAfter(head.version, version)) return false;
      }
      let commit;
      try {
        commit = await this.pach.startCommit(`${this.repo}@master`, {
          description: `${SERVE_DESCRIPTION}${version}${opts.description ? `: ${opts.description}` : ''}`,
        });
      } catch (e) {
        // another process is publishing right now: read its result and decide again
        if (isPachError(e, PachCode.FAILED_PRECONDITION) && Date.now() < deadline) {
          const ours = (d: string) => d.startsWith(SERVE_DESCRIPTION);
          if (await finishAbandoned(this.pach, `${this.repo}@master`, ours)) continue;
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
          continue;
        }
        throw e;
      }
      try {
        await this.pach.modifyFile(commit, [
          {
            op: 'copy',
            src: { commit: { repo: this.trainRepo, id: version }, path: `/${MODEL_FILE}` },
            dst: `/${MODEL_FILE}`,
          },
          // a model starts without fold-in: the registry publishes the batches it did not see
          { op: 'delete', path: `/${FOLD_IN_DIR}/` },
          {
            op: 'put',
            path: `/${SERVING_FILE}`,
            data: `${JSON.stringify(record satisfies ServingRecord)}\n`,
          },
        ]);
      } catch (e) {
        // ModifyFile is atomic: the open commit still equals its parent. Finish it as such (an
        // errored input commit would make every later predict job UNRUNNABLE).
        await this.pach.finishCommit(commit).catch(() => undefined);
        throw e;
      }
      await this.pach.finishCommit(commit);
      this.records.set(commit.id, record);
      return true;
    }
  }

  /**
   * Adds rating batches to the `/fold-in/` of the published model (one `models` commit with a
   * `copy` per new batch and `serving.json`'s `foldIn` updated), when the head still serves
   * `version`: the predict program folds them in (workers/predict-fold-in.ts). Batches already
   * there are skipped (several replicas publish the same ones), and so is everything past the
   * caps (those users are answered by the trained model until the retrain). Calls run one at a
   * time per process, in turn with {@link ModelPublisher.publish}.
   * @param files in commit order
   * @param remove names to delete from `/fold-in/` in the same commit (a removed rating batch)
   * @returns the names published (none, and nothing removed: nothing committed)
   */
  publishFoldIn(
    version: string,
    files: readonly FoldInFile[],
    caps: FoldInCaps,
    remove: readonly string[] = [],
  ): Promise<string[]> {
    const run = this.chain.then(() => this.publishFoldInNow(version, files, caps, remove));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async publishFoldInNow(
    version: string,
    files: readonly FoldInFile[],
    caps: FoldInCaps,
    remove: readonly string[],
  ): Promise<string[]> {
    const deadline = Date.now() + PUBLISH_PATIENCE_MS;
    for (;;) {
      const head = await this.record();
      if (!head || head.version !== version) return [];
      const cur = head.foldIn ?? { through: '', last: '', batches: 0, bytes: 0 };
      const next = { ...cur };
      const gone: string[] = [];
      for (const name of remove) {
        const size = await this.sizeAt(`/${FOLD_IN_DIR}/${name}`);
        if (size === null) continue;
        gone.push(name);
        next.batches--;
        next.bytes -= size;
      }
      const add: FoldInFile[] = [];
      for (const f of files) {
        if (next.batches + 1 > caps.maxBatches || next.bytes + f.bytes > caps.maxBytes) break;
        if ((await this.sizeAt(`/${FOLD_IN_DIR}/${f.name}`)) !== null) continue;
        add.push(f);
        next.batches++;
        next.bytes += f.bytes;
        if (f.name > next.last) {
          next.last = f.name;
          next.through = f.commit;
        }
      }
      if (add.length === 0 && gone.length === 0) return [];
      let commit;
      try {
        commit = await this.pach.startCommit(`${this.repo}@master`, {
          description:
            `${FOLD_IN_DESCRIPTION}${add.map((f) => f.commit).join(',')}${gone.length ? ` (${gone.length} removed)` : ''}`.slice(
              0,
              500,
            ),
        });
      } catch (e) {
        if (isPachError(e, PachCode.FAILED_PRECONDITION) && Date.now() < deadline) {
          const ours = (d: string) =>
            d.startsWith(SERVE_DESCRIPTION) || d.startsWith(FOLD_IN_DESCRIPTION);
          if (await finishAbandoned(this.pach, `${this.repo}@master`, ours)) continue;
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
          continue;
        }
        throw e;
      }
      const record: ServingRecord = { ...head, foldIn: next };
      try {
        await this.pach.modifyFile(commit, [
          ...gone.map((name) => ({ op: 'delete' as const, path: `/${FOLD_IN_DIR}/${name}` })),
          ...add.map((f) => ({
            op: 'copy' as const,
            src: f.src,
            dst: `/${FOLD_IN_DIR}/${f.name}`,
          })),
          { op: 'put', path: `/${SERVING_FILE}`, data: `${JSON.stringify(record)}\n` },
        ]);
      } catch (e) {
        await this.pach.finishCommit(commit).catch(() => undefined);
        throw e;
      }
      await this.pach.finishCommit(commit);
      this.records.set(commit.id, record);
      return add.map((f) => f.name);
    }
  }

  /** The size of `path` at the head of `models@master`, or null when it does not exist. */
  private async sizeAt(path: string): Promise<number | null> {
    try {
      return (await this.pach.inspectFile({ commit: `${this.repo}@master`, path })).sizeBytes;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  /** True when train commit `a` started after train commit `b` (unknown commits: false). */
  private async startedAfter(a: string, b: string): Promise<boolean> {
    try {
      const [ca, cb] = await Promise.all([
        this.pach.inspectCommit({ repo: this.trainRepo, id: a }),
        this.pach.inspectCommit({ repo: this.trainRepo, id: b }),
      ]);
      return ca.started.getTime() > cb.started.getTime();
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return false;
      throw e;
    }
  }

  /**
   * Publishes the newest successful model of the `train` repo unless a newer one or a pinned one
   * is published (start-up catch-up: a model that finished while no service ran).
   * @returns the `train` commit that serves now (null when there is no model at all).
   */
  async catchUp(): Promise<string | null> {
    let newest: CommitInfo | null = null;
    try {
      for await (const ci of this.pach.listCommit(this.trainRepo)) {
        if (!ci.finished || ci.error) continue;
        if (await this.hasModel(ci.commit.id)) {
          newest = ci;
          break;
        }
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    if (newest) await this.publish(newest.commit.id, { onlyIfNewer: true });
    return (await this.record())?.version ?? null;
  }

  /**
   * Publishes a finished `train` commit if it succeeded, holds a model and is newer than the
   * published one (the train watch calls this for each finished commit).
   * @returns true when a commit was made.
   */
  async offer(ci: CommitInfo): Promise<boolean> {
    if (!ci.finished || ci.error) return false;
    if (!(await this.hasModel(ci.commit.id))) return false;
    return this.publish(ci.commit.id, { onlyIfNewer: true });
  }

  private async hasModel(trainCommit: string): Promise<boolean> {
    try {
      await this.pach.inspectFile({
        commit: { repo: this.trainRepo, id: trainCommit },
        path: `/${MODEL_FILE}`,
      });
      return true;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return false;
      throw e;
    }
  }
}

/** The first and the longest delay before publishing again after a full data store, ms. */
export const PUBLISH_RETRY_MS = { first: 250, max: 30_000 };

/**
 * Publishes each finished `train` commit to the `models` repo when it succeeded with a model and
 * is newer than the published one (one at a time, in finishing order). A publish refused because
 * the data store is full ({@link StorageFullError}: 507) is tried again after 250 ms, then at
 * doubling delays up to 30 s, until it succeeds (the model is served as soon as space returns,
 * without a restart) or another error says why not; every other failure is logged and skipped.
 * @param log told of each failure and each wait
 * @returns a function that stops following (and ends a wait)
 */
export function followTrainCommits(
  events: EventBus,
  publisher: ModelPublisher,
  log: (msg: string) => void,
): () => void {
  const it = events.subscribe('TRAIN_COMMIT_FINISHED')[Symbol.asyncIterator]();
  let stopped = false;
  let wake: () => void = () => undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  void (async () => {
    for (let r = await it.next(); !r.done && !stopped; r = await it.next()) {
      const ci = r.value;
      for (let delay = PUBLISH_RETRY_MS.first; !stopped;) {
        try {
          await publisher.offer(ci);
          break;
        } catch (e) {
          const what = `cannot publish the model of train@${ci.commit.id}: ${(e as Error).message}`;
          if (!(e instanceof StorageFullError)) {
            log(what);
            break;
          }
          log(`${what}; trying again in ${delay} ms`);
          await pause(delay);
          delay = Math.min(delay * 2, PUBLISH_RETRY_MS.max);
        }
      }
    }
  })();
  return () => {
    stopped = true;
    wake();
    void it.return?.();
  };
}
