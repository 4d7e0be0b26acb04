/**
 * The upstream watches of a process: ONE stream per source, whatever the number of subscribers,
 * fanned out through the event bus (pubsub.ts):
 * - `subscribeCommit(train, FINISHED)` → TRAIN_COMMIT_FINISHED (the model registry swaps models);
 * - `subscribeCommit(predict, FINISHED)` → PREDICT_COMMIT_FINISHED (prediction results);
 * - `watchJobs()` (every state change of every job) → JOB_UPDATED.
 *
 * `subscribeCommit` first replays the repo's existing commits: those finished more than
 * {@link REPLAY_MARGIN_MS} before the watch started are not published (the services read the
 * state they need before listening; see predictions.ts and model-registry.ts). A stream that
 * fails (e.g. the repo does not exist yet, before bootstrap) is retried every `retryMs` until the
 * watch is closed; errors go to `log`.
 */
import type { Pachyderm } from '../pachyderm/port';
import { CommitState, type CommitInfo } from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import type { EventBus } from './pubsub';

/** Replayed commits finished this long before the start are still published (clock skew). */
export const REPLAY_MARGIN_MS = 60_000;

/** The running watches; stop them with {@link UpstreamWatch.close}. */
export class UpstreamWatch {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly retryMs = 1000,
  ) {}

  /** Starts the three streams (returns at once). */
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
      this.follow('job states', async () => {
        for await (const j of this.pach.watchJobs({ signal: this.abort.signal })) {
          this.events.publish('JOB_UPDATED', j);
        }
      }),
    );
  }

  /** Stops every stream and waits for them to end. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async commits(repo: string, publish: (ci: CommitInfo) => void): Promise<void> {
    const since = this.startedAt - REPLAY_MARGIN_MS;
    for await (const ci of this.pach.subscribeCommit(repo, {
      state: CommitState.FINISHED,
      signal: this.abort.signal,
    })) {
      if (ci.finished && ci.finished.getTime() < since) continue;
      publish(ci);
    }
  }

  private async follow(what: string, run: () => Promise<void>): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await run();
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
