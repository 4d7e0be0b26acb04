/**
 * Prediction requests as files in the `streaming` repo and their answers in the `predict` repo.
 *
 * - `requestPredictions` starts ONE `streaming` commit C (streaming.ts), writes the request file
 *   `/<C>` (lines `user_id movie_id`) and finishes it: the request id is C's id (32 hex digits, a
 *   random UUID in both engines: 122 random bits, not guessable).
 * - The predict job of commit set C (`predict@C`) answers it with the model published in the
 *   `models` repo at that time (model-publisher.ts): its output commit `predict@C` holds the
 *   answer at `/<C>`. The result is the FIRST finished answer: normally `predict@C`'s. When
 *   `predict@C` has none (no model was published yet, or the job failed), the answer is the one of
 *   the first later finished `predict` commit that has it (the request stays at the head of
 *   `streaming` until answered, so every later predict job tries it again). Once answered, the
 *   request is retired from the head of `streaming` (streaming.ts): later jobs no longer see it,
 *   and nothing re-answers it.
 * - A job that ends FAILURE / KILLED / UNRUNNABLE finishes its output commit with an error: the
 *   result is then `ready` with that `error` — a subscriber never waits forever — unless a later
 *   job already answered the request (the answer wins; polling then gives it).
 * - The answer's model version is the `train` commit named by the `models` commit the job read
 *   (`/serving.json`); for answers of pipelines made by older versions (input `train`), the
 *   `train` commit itself.
 * - Request ids made by older versions (a random name in a one-off commit): found by a binary
 *   search over the `streaming` commits made before the first retire commit (nothing was deleted
 *   before it, so "holds the file" is monotone there), listed once per process.
 */
import { setMaxListeners } from 'node:events';
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { type CommitRef, isCommitId } from '../pachyderm/refs';
import { type CommitInfo, type JobInfo, JobState, isTerminalJobState } from '../pachyderm/types';
import { parseAnswers } from './answers';
import type { ResolvedServiceConfig } from './config';
import { NotFoundError } from './errors';
import type { PredictionsService } from './index';
import type { ModelPublisher } from './model-publisher';
import type { EventBus } from './pubsub';
import {
  REQUEST_DESCRIPTION,
  isRetireDescription,
  type Retirer,
  type StreamingWriter,
} from './streaming';
import { predictionHistory } from './prediction-history';
import type {
  Page,
  PredictionHistoryEntry,
  PredictionPair,
  PredictionRequestReceipt,
  PredictionResult,
} from './types';
import { validatePairs } from './validation';

/** Request ids: 32 lowercase hex digits. */
export const REQUEST_ID_RE = /^[0-9a-f]{32}$/;

/** At most this many request → commit entries are remembered per process (oldest dropped). */
export const REQUEST_CACHE_SIZE = 100_000;

/** How many later `predict` commits a look-up reads to find a late first answer. */
export const LATE_ANSWER_SCAN = 10_000;

/** The text of a request file (one `user_id movie_id` line per pair). */
export function requestFileText(pairs: readonly PredictionPair[]): string {
  let s = '';
  for (const p of pairs) s += `${p.userId} ${p.movieId}\n`;
  return s;
}

/** Where a result lookup stands (internal). */
interface Lookup {
  result: PredictionResult;
  /** predict@C finished without an answer: any later predict commit may bring it. */
  waitingForLater: boolean;
}

/** {@link PredictionsService} on a Pachyderm port and the process's event bus. */
export class Predictions implements PredictionsService {
  private readonly commits = new Map<string, string>();
  /** Requests with open subscriptions: request id → commit C and subscriber count. */
  private readonly interest = new Map<string, { commit: string; count: number; later: boolean }>();
  private readonly stop = new AbortController();
  /** Results found in a later commit than the request's own (request id → answer commit). */
  private readonly late = new Map<string, string>();
  /** The request commits made before the first retire commit, oldest first (legacy ids). */
  private legacy: Promise<string[]> | null = null;

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
    private readonly writer: StreamingWriter,
    private readonly publisher: ModelPublisher,
    private readonly retirer: Retirer | null = null,
  ) {
    // every open subscription listens for the stop: no "possible leak" warning past 10
    setMaxListeners(0, this.stop.signal);
    void this.consume();
  }

  /** Stops listening to the event bus (open watches end when their subscribers leave). */
  close(): void {
    this.stop.abort();
  }

  async requestPredictions(pairs: readonly unknown[]): Promise<PredictionRequestReceipt> {
    const valid = validatePairs(pairs, this.config);
    const text = requestFileText(valid);
    // answered requests waiting to be retired ride along (one predict job, not two)
    const commit = await this.writer.commit(
      REQUEST_DESCRIPTION,
      async (c) => {
        await this.pach.modifyFile(c, [{ op: 'put', path: `/${c.id}`, data: text }]);
      },
      { carry: true },
    );
    // known: a watch that follows needs no look-up (pachd would make a read of the commit, still
    // FINISHING, wait for its finishing window)
    this.remember(commit.id, commit.id);
    return { requestId: commit.id, commit: commit.id, count: valid.length };
  }

  async getResult(requestId: string): Promise<PredictionResult> {
    return (await this.lookup(requestId)).result;
  }

  history(
    opts: { userId?: string | null; first?: number | null; after?: string | null } = {},
  ): Promise<Page<PredictionHistoryEntry>> {
    return predictionHistory(this.pach, this.config, (id) => this.getResult(id), opts);
  }

  async watchResult(
    requestId: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<AsyncIterableIterator<PredictionResult>> {
    const commit = await this.commitOf(requestId);
    // 1. listen (the Repeater attaches its listener on the first next(), called here) …
    const it = this.events.subscribe('PREDICTION_READY', requestId)[Symbol.asyncIterator]();
    const event = it.next();
    const entry = this.interest.get(requestId) ?? { commit, count: 0, later: false };
    entry.count++;
    this.interest.set(requestId, entry);
    let cancel!: () => void;
    const cancelled = new Promise<undefined>((resolve) => {
      cancel = () => resolve(undefined);
    });
    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      cancel();
      opts.signal?.removeEventListener('abort', cleanup);
      this.stop.signal.removeEventListener('abort', cleanup);
      if (--entry.count <= 0 && this.interest.get(requestId) === entry) {
        this.interest.delete(requestId);
      }
      void it.return?.();
    };
    if (opts.signal?.aborted) cleanup();
    opts.signal?.addEventListener('abort', cleanup, { once: true });
    this.stop.signal.addEventListener('abort', cleanup, { once: true });
    // 2. … then look up the current state: an answer that exists already is delivered at once
    const result = (async (): Promise<PredictionResult | undefined> => {
      const now = await this.lookup(requestId);
      if (now.result.ready) return now.result;
      if (now.waitingForLater) entry.later = true;
      const r = await Promise.race([event, cancelled]);
      return r && !r.done ? r.value : undefined;
    })();
    result.then(cleanup, cleanup);
    let done = false;
    const iterator: AsyncIterableIterator<PredictionResult> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next(): Promise<IteratorResult<PredictionResult>> {
        if (done) return { done: true, value: undefined };
        done = true;
        const v = await Promise.race([result, cancelled]);
        cleanup();
        return v ? { done: false, value: v } : { done: true, value: undefined };
      },
      async return(): Promise<IteratorResult<PredictionResult>> {
        done = true;
        cleanup();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** The `streaming` commit C holding request `requestId`. @throws NotFoundError */
  async commitOf(requestId: string): Promise<string> {
    if (typeof requestId !== 'string' || !REQUEST_ID_RE.test(requestId)) {
      throw new NotFoundError('prediction request', String(requestId));
    }
    const known = this.commits.get(requestId);
    if (known) return known;
    const repo = this.config.streamingRepo;
    const path = `/${requestId}`;
    const has = async (commit: CommitRef) => {
      try {
        await this.pach.inspectFile({ commit, path });
        return true;
      } catch (e) {
        if (isPachError(e, PachCode.NOT_FOUND) || isPachError(e, PachCode.INVALID_ARGUMENT)) {
          return false;
        }
        throw e;
      }
    };
    // a request of this version: its commit has its id and holds the file (one look-up)
    if (isCommitId(requestId) && (await has({ repo, id: requestId }))) {
      this.remember(requestId, requestId);
      return requestId;
    }
    // a request of an older version: binary search in the commits before the first retire
    const ids = await this.legacyCommits();
    if (ids.length === 0 || !(await has({ repo, id: ids[ids.length - 1] }))) {
      throw new NotFoundError('prediction request', requestId);
    }
    let lo = 0;
    let hi = ids.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (await has({ repo, id: ids[mid] })) hi = mid;
      else lo = mid + 1;
    }
    this.remember(requestId, ids[lo]);
    return ids[lo];
  }

  /**
   * The finished `streaming` commits before the first retire commit, oldest first (listed once
   * per process; the list stops growing once this version retired anything).
   */
  private legacyCommits(): Promise<string[]> {
    if (this.legacy) return this.legacy;
    const run = (async () => {
      const ids: string[] = [];
      let retired = false;
      try {
        for await (const ci of this.pach.listCommit(this.config.streamingRepo, { reverse: true })) {
          if (isRetireDescription(ci.description)) {
            retired = true;
            break;
          }
          if (ci.finished) ids.push(ci.commit.id);
        }
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
      // before any retire the list may still grow: do not keep it
      if (!retired) this.legacy = null;
      return ids;
    })();
    this.legacy = run;
    run.catch(() => {
      this.legacy = null;
    });
    return run;
  }

  private remember(requestId: string, commit: string): void {
    this.commits.set(requestId, commit);
    if (this.commits.size > REQUEST_CACHE_SIZE) {
      const oldest = this.commits.keys().next().value;
      if (oldest !== undefined) this.commits.delete(oldest);
    }
  }

  private async job(commit: string): Promise<JobInfo | null> {
    try {
      return await this.pach.inspectJob({ pipeline: this.config.predictRepo, id: commit });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  private async commitInfo(id: string): Promise<CommitInfo | null> {
    try {
      return await this.pach.inspectCommit({ repo: this.config.predictRepo, id });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  /** The answer file in a finished predict commit, or null when it has none. */
  private async answerIn(commit: string, requestId: string): Promise<string | null> {
    try {
      const buf = await this.pach.readFile({
        commit: { repo: this.config.predictRepo, id: commit },
        path: `/${requestId}`,
      });
      return buf.toString('utf8');
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return null;
      throw e;
    }
  }

  /**
   * The model version (a `train` commit id) that answered in predict commit `ci`, and the
   * `training` commit of the newest batch folded into it (the `models` commit's fold-in).
   */
  private async modelOf(
    ci: CommitInfo,
  ): Promise<{ modelVersion: string | null; foldedInThrough: string | null }> {
    const models = ci.directProvenance.find((c) => c.repo.name === this.publisher.repoName);
    if (models) {
      const rec = await this.publisher.record(models.id);
      return { modelVersion: rec?.version ?? null, foldedInThrough: rec?.foldIn?.through ?? null };
    }
    const train = ci.directProvenance.find((c) => c.repo.name === this.config.trainRepo);
    return { modelVersion: train ? train.id : null, foldedInThrough: null };
  }

  /**
   * The first finished, error-free `predict` commit after `commit` that holds the answer to
   * `requestId`, or null. Cheap when the request is still pending: while it is at the head of
   * `streaming`, every predict job carries its answer once it has one, so the newest finished
   * predict commit decides; only a retired request (answered, with its answer not in its own
   * commit) walks the predict commits of its pending period, once per process.
   */
  private async answerAfter(commit: string, requestId: string): Promise<CommitInfo | null> {
    const cached = this.late.get(requestId);
    if (cached) return this.commitInfo(cached);
    const repo = this.config.predictRepo;
    let head: CommitInfo | null = null;
    try {
      head = await this.pach.inspectCommit(`${repo}@master`);
      if (!head.finished && head.parentCommit) {
        head = await this.pach.inspectCommit({ repo, id: head.parentCommit.id });
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    const pending = await this.atStreamingHead(requestId);
    if (pending && (!head || !head.finished || head.error)) return null;
    if (pending && head && (await this.answerIn(head.commit.id, requestId)) === null) return null;
    let n = 0;
    const later = this.pach.listCommit(repo, {
      from: { repo, id: commit },
      reverse: true,
      number: LATE_ANSWER_SCAN,
    });
    try {
      for await (const ci of later) {
        if (++n > LATE_ANSWER_SCAN || !ci.finished) break;
        if (ci.error) continue;
        if ((await this.answerIn(ci.commit.id, requestId)) !== null) {
          this.late.set(requestId, ci.commit.id);
          if (this.late.size > REQUEST_CACHE_SIZE) {
            const oldest = this.late.keys().next().value;
            if (oldest !== undefined) this.late.delete(oldest);
          }
          return ci;
        }
      }
    } catch (e) {
      // predict@C was never started (its job was stopped before it ran): nothing to walk from
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return null;
  }

  /** True when request `requestId` is still at the head of `streaming` (not retired). */
  private async atStreamingHead(requestId: string): Promise<boolean> {
    try {
      await this.pach.inspectFile({
        commit: `${this.config.streamingRepo}@master`,
        path: `/${requestId}`,
      });
      return true;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return false;
      throw e;
    }
  }

  private async lookup(requestId: string): Promise<Lookup> {
    const commit = await this.commitOf(requestId);
    const base: PredictionResult = {
      requestId,
      ready: false,
      requestCommit: commit,
      predictions: [],
      lineErrors: [],
      text: null,
      error: null,
      modelVersion: null,
      foldedInThrough: null,
      answerCommit: null,
      job: null,
    };
    // two independent look-ups, at once (one round trip to pachd instead of two)
    const [job, out] = await Promise.all([this.job(commit), this.commitInfo(commit)]);
    base.job = job;
    // a job that ended without success is final, even when its output commit was never started
    // (a job stopped before it ran) or is not finished yet
    const failed =
      job !== null && isTerminalJobState(job.state) && job.state !== JobState.JOB_SUCCESS;
    let answerCommit: CommitInfo | null = null;
    let text: string | null = null;
    if (!failed && !out?.error) {
      if (!out || !out.finished) return { result: base, waitingForLater: false };
      text = await this.answerIn(commit, requestId);
      if (text !== null) answerCommit = out;
    }
    if (text === null) {
      // predict@C gave no answer (no model yet, or it failed): a later job may have
      answerCommit = await this.answerAfter(commit, requestId);
      if (answerCommit) text = await this.answerIn(answerCommit.commit.id, requestId);
    }
    if (text === null || !answerCommit) {
      if (failed || out?.error) {
        const how = job ? `ended ${JobState[job.state].replace(/^JOB_/, '')}` : 'failed';
        return {
          result: {
            ...base,
            ready: true,
            error: `predict job ${commit} ${how}: ${job?.reason || out?.error || 'no reason given'}`,
          },
          waitingForLater: false,
        };
      }
      return { result: base, waitingForLater: true };
    }
    const { predictions, lineErrors } = parseAnswers(text);
    return {
      result: {
        ...base,
        ready: true,
        predictions,
        lineErrors,
        text,
        ...(await this.modelOf(answerCommit)),
        answerCommit: answerCommit.commit.id,
      },
      waitingForLater: false,
    };
  }

  /** Recomputes the results of the subscribed requests a finished predict commit may answer. */
  private async settle(commitId: string): Promise<void> {
    for (const [requestId, entry] of [...this.interest]) {
      if (entry.commit !== commitId && !entry.later) continue;
      try {
        const { result, waitingForLater } = await this.lookup(requestId);
        if (result.ready) this.events.publish('PREDICTION_READY', requestId, result);
        else if (waitingForLater) entry.later = true;
      } catch (e) {
        const error = `cannot read the answer: ${(e as Error).message}`;
        this.events.publish('PREDICTION_READY', requestId, {
          requestId,
          ready: true,
          requestCommit: entry.commit,
          predictions: [],
          lineErrors: [],
          text: null,
          error,
          modelVersion: null,
          foldedInThrough: null,
          answerCommit: null,
          job: null,
        });
      }
    }
  }

  /** Listens to finished predict commits and predict job state changes (one loop per process). */
  private async consume(): Promise<void> {
    const stopSignal = this.stop.signal;
    const commits = this.events.subscribe('PREDICT_COMMIT_FINISHED');
    const jobs = this.events.subscribe('JOB_UPDATED');
    stopSignal.addEventListener('abort', () => {
      void commits.return();
      void jobs.return();
    });
    const pipeline = this.config.predictRepo;
    // The loops below take events as fast as they come (a consumer that awaited each settle
    // would let the bus's buffer overflow under a burst, e.g. the watch's replay after a
    // restart); the commits to settle wait in a set, settled one at a time by one drain.
    const pending = new Set<string>();
    /** Answer commits whose requests to retire once their subscribers have their push. */
    const toRetire = new Set<string>();
    let draining = false;
    const drain = async () => {
      if (draining) return;
      draining = true;
      try {
        for (let next = pending.values().next(); !next.done; next = pending.values().next()) {
          pending.delete(next.value);
          if (stopSignal.aborted) return;
          await this.settle(next.value);
          // retiring reads the repos too: after the push, not in its way
          if (toRetire.delete(next.value)) this.retirer?.schedule(next.value);
        }
      } finally {
        draining = false;
      }
    };
    const settleLater = (commitId: string) => {
      pending.add(commitId);
      void drain();
    };
    await Promise.all([
      (async () => {
        for await (const ci of commits) {
          if (!ci.error && this.retirer) toRetire.add(ci.commit.id);
          settleLater(ci.commit.id);
        }
      })(),
      (async () => {
        for await (const j of jobs) {
          // a terminal job's output commit is normally finished in the same transaction; a job
          // stopped before it started has no output commit: its state change is the only event
          if (j.job.pipeline.name === pipeline && isTerminalJobState(j.state)) {
            settleLater(j.job.id);
          }
        }
      })(),
    ]);
  }
}
