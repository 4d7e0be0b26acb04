/**
 * The upstream watches of a process: ONE stream per source, whatever the number of subscribers,
 * fanned out through the event bus (pubsub.ts):
 * - `subscribeCommit(train, FINISHED)` → TRAIN_COMMIT_FINISHED (the model publisher);
 * - `subscribeCommit(predict, FINISHED)` → PREDICT_COMMIT_FINISHED (prediction results);
 * - `subscribeCommit(training, FINISHED)` → TRAINING_COMMIT_FINISHED (fold-in of rating batches
 *   made by any writer: fold-in-feed.ts);
 * - `subscribeCommit(repo, STARTED)` of each user repo (training, streaming, train, predict) →
 *   COMMIT_CREATED, each commit once, only those created since the watch started;
 * - `watchJobs()` (every state change of every job) → JOB_UPDATED, each state of a job once; after
 *   an interruption (pachd restarted…) the newest jobs are listed and what changed meanwhile is
 *   published first.
 *
 * `subscribeCommit` first replays the repo's existing commits: those finished more than
 * {@link REPLAY_MARGIN_MS} before the watch started are not published, and the first subscription
 * starts `from` the newest commit finished before that (so a start-up does not replay the
 * history); after an interruption it resumes after the last commit seen (`from`), publishing
 * nothing twice (the services read the
 * state they need before listening; see predictions.ts and model-registry.ts). A stream that
 * fails (e.g. the repo does not exist yet, before bootstrap) is retried every `retryMs` until the
 * watch is closed; errors go to `log`.
 */
import { setMaxListeners } from 'node:events';
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import {
  CommitState,
  type CommitInfo,
  type JobInfo,
  type JobState,
  isTerminalJobState,
} from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import type { EventBus } from './pubsub';

/** Replayed commits finished this long before the start are still published (clock skew). */
export const REPLAY_MARGIN_MS = 60_000;
/** Jobs whose last published state is remembered (to publish each state once). */
const JOB_STATES_KEPT = 10_000;
/** Commits whose creation was published, remembered to publish each once across restarts. */
const COMMITS_KEPT = 1_000;
/** Commits looked at to find where a first FINISHED subscription starts (see finishedBefore). */
const RESUME_SCAN = 100;
/** Jobs listed to catch up after the job watch was interrupted. */
const CATCH_UP_JOBS = 200;

/** A job's key in {@link UpstreamWatch}'s state map: `project/pipeline@id`. */
const jobKey = (j: JobInfo) => `${j.job.pipeline.project.name}/${j.job.pipeline.name}@${j.job.id}`;

/** The running watches; stop them with {@link UpstreamWatch.close}. */
export class UpstreamWatch {
  private readonly abort = new AbortController();
  /** The last state published per job (`project/pipeline@id`), most recent jobs last. */
  private readonly jobStates = new Map<string, JobState>();
  private readonly loops: Promise<void>[] = [];
  private readonly startedAt = Date.now();
  /** Commits published as created (`repo@id`), most recent last. */
  private readonly created = new Set<string>();
  /** Per repo, the last commit its subscription delivered: a reconnect resumes after it. */
  private readonly lastCommit = new Map<string, { id: string; started: number }>();
  /** Per repo, the last commit its STARTED subscription delivered (or the start point). */
  private readonly lastCreated = new Map<string, string>();

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly retryMs = 1000,
  ) {
    // one listener per stream (and per retry wait): more than Node's default warning limit of 10
    setMaxListeners(0, this.abort.signal);
  }

  /** Starts the streams (returns at once). */
  start(): void {
    this.loops.push(
      this.follow(`commits of ${this.config.trainRepo}`, () =>
        this.commits(this.config.trainRepo, (ci) =>
          this.events.publish('TRAIN_COMMIT_FINISHED', ci),
        ),
      ),
      this.follow(`commits of ${this.config.predictRepo}`, () =>
        this.commits(this.config.predictRepo, (ci) =>
          this.events.publish('PREDICT_COMMIT_FINISHED', ci),
        ),
      ),
      this.follow(`commits of ${this.config.trainingRepo}`, () =>
        this.commits(this.config.trainingRepo, (ci) =>
          this.events.publish('TRAINING_COMMIT_FINISHED', ci),
        ),
      ),
      ...[
        this.config.trainingRepo,
        this.config.streamingRepo,
        this.config.trainRepo,
        this.config.predictRepo,
      ].map((repo) => this.follow(`created commits of ${repo}`, () => this.createdCommits(repo))),
      this.follow('job states', async (restart) => {
        const watch = this.pach.watchJobs({ signal: this.abort.signal })[Symbol.asyncIterator]();
        const first = watch.next(); // the watch starts now …
        first.catch(() => undefined); // (its failure is awaited below, not unhandled meanwhile)
        try {
          // … then, after an interruption (e.g. pachd restarted), the states it missed
          if (restart) await this.catchUpJobs();
          for (let r = await first; !r.done; r = await watch.next()) this.publishJob(r.value);
        } finally {
          void watch.return?.();
        }
      }),
    );
  }

  /** Stops every stream and waits for them to end. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  /**
   * Publishes the finished commits of `repo`. The first subscription replays the repo's commits
   * (only those finished since {@link REPLAY_MARGIN_MS} before the start are published); a
   * resubscription (after pachd restarted…) passes the last commit seen as `from` and publishes
   * only what came after it. pachd 2.12 still sends the rest of the repo on the wire (its `from`
   * only leaves out that one commit: `subscribeCommit` in pfs server_commit.go), so commits
   * started before the last one seen are skipped here as well.
   */
  private async commits(repo: string, publish: (ci: CommitInfo) => void): Promise<void> {
    const since = this.startedAt - REPLAY_MARGIN_MS;
    if (!this.lastCommit.has(repo)) {
      const start = await this.finishedBefore(repo, since);
      if (start) this.lastCommit.set(repo, start);
    }
    const last = this.lastCommit.get(repo);
    try {
      for await (const ci of this.pach.subscribeCommit(repo, {
        state: CommitState.FINISHED,
        from: last ? { repo, id: last.id } : undefined,
        signal: this.abort.signal,
      })) {
        const started = ci.started.getTime();
        if (last && (ci.commit.id === last.id || started < last.started)) continue;
        this.lastCommit.set(repo, { id: ci.commit.id, started });
        if (ci.finished && ci.finished.getTime() < since) continue;
        publish(ci);
      }
    } catch (e) {
      // the commit to resume from is gone (deleted): the next try replays, filtered by time
      if (last && isPachError(e, PachCode.NOT_FOUND)) this.lastCommit.delete(repo);
      throw e;
    }
  }

  /**
   * Where the first FINISHED subscription of `repo` may start: the newest commit started at or
   * before `since` that was finished before `since` (a pipeline's jobs, hence its output commits,
   * finish in order, and an input branch's commit starts only once its parent is finished, so
   * every older commit was finished before `since` too and nothing older is to be published).
   * Looks at most {@link RESUME_SCAN} commits; null when none fits (the subscription then replays
   * the whole repo, filtered by time).
   */
  private async finishedBefore(
    repo: string,
    since: number,
  ): Promise<{ id: string; started: number } | null> {
    let n = 0;
    try {
      for await (const ci of this.pach.listCommit(repo, { startedTime: new Date(since) })) {
        if (ci.finished && ci.finished.getTime() < since) {
          return { id: ci.commit.id, started: ci.started.getTime() };
        }
        if (++n >= RESUME_SCAN) break;
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return null;
  }

  /**
   * COMMIT_CREATED for each commit of `repo` started since the watch started, once. The
   * subscription starts after the newest commit started before the watch (then after the last one
   * delivered): a (re)connect does not replay the history (on the embedded engine and the
   * stand-in; pachd 2.12 sends it anyway, and the start-time filter drops it).
   */
  private async createdCommits(repo: string): Promise<void> {
    if (!this.lastCreated.has(repo)) {
      try {
        for await (const ci of this.pach.listCommit(repo, {
          number: 1,
          startedTime: new Date(this.startedAt - 1),
        })) {
          this.lastCreated.set(repo, ci.commit.id);
        }
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
    }
    const from = this.lastCreated.get(repo);
    for await (const ci of this.pach.subscribeCommit(repo, {
      state: CommitState.STARTED,
      from: from ? { repo, id: from } : undefined,
      signal: this.abort.signal,
    })) {
      this.lastCreated.set(repo, ci.commit.id);
      const key = `${repo}@${ci.commit.id}`;
      if (ci.started.getTime() < this.startedAt || this.created.has(key)) continue;
      this.created.add(key);
      if (this.created.size > COMMITS_KEPT) {
        const oldest = this.created.values().next().value;
        if (oldest !== undefined) this.created.delete(oldest);
      }
      this.events.publish('COMMIT_CREATED', ci);
    }
  }

  /**
   * Publishes a job state unless it was the last one published for that job, or that job was
   * already published in a terminal state (a late, older state after a catch-up).
   */
  private publishJob(j: JobInfo): void {
    const key = jobKey(j);
    const last = this.jobStates.get(key);
    if (last === j.state || (last !== undefined && isTerminalJobState(last))) return;
    this.jobStates.delete(key); // re-insert: the map keeps the most recent jobs last
    this.jobStates.set(key, j.state);
    if (this.jobStates.size > JOB_STATES_KEPT) {
      const oldest = this.jobStates.keys().next().value;
      if (oldest !== undefined) this.jobStates.delete(oldest);
    }
    this.events.publish('JOB_UPDATED', j);
  }

  /**
   * After the job watch was interrupted: the {@link CATCH_UP_JOBS} newest jobs, oldest first,
   * published when their state changed since last published (or, for a job not seen yet, when it
   * was created after this watch started) — so a job that ended while the watch was down still
   * reaches `jobUpdated` with its final state.
   */
  private async catchUpJobs(): Promise<void> {
    const recent: JobInfo[] = [];
    for await (const j of this.pach.listJob({ number: CATCH_UP_JOBS })) recent.push(j);
    for (const j of recent.reverse()) {
      const key = jobKey(j);
      if (this.jobStates.has(key) || j.created.getTime() >= this.startedAt) this.publishJob(j);
    }
  }

  private async follow(what: string, run: (restart: boolean) => Promise<void>): Promise<void> {
    const signal = this.abort.signal;
    for (let restart = false; !signal.aborted; restart = true) {
      try {
        await run(restart);
      } catch (e) {
        if (signal.aborted) return;
        this.log(
          `upstream watch (${what}): ${(e as Error).message}; retrying in ${this.retryMs} ms`,
        );
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, this.retryMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
