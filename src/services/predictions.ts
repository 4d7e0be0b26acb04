/**
 * Prediction requests as files in the `streaming` repo and their answers in the `predict` repo.
 *
 * - `requestPredictions` writes ONE file `/<requestId>` (lines `user_id movie_id`) in ONE
 *   `streaming` commit C (an atomic one-off commit). `requestId` is 32 random hex digits (128 bits
 *   from the OS's CSPRNG): unique and not guessable.
 * - The predict job covering the request is the job of commit set C (`predict@C`): its output
 *   commit `predict@C` holds the answer at `/<requestId>`. The result is the FIRST finished
 *   answer: the one of `predict@C`. (Later jobs, e.g. after a retrain, re-answer every request
 *   with the new model; they do not change the result.) Only when `predict@C` finished without
 *   the file (no model existed yet, so the job had no datum) is the answer taken from the
 *   newest finished `predict` commit that has it.
 * - A job that ends FAILURE / KILLED / UNRUNNABLE finishes its output commit with an error (in
 *   the same transaction as its state): the result is then `ready` with that `error` — a
 *   subscriber never waits forever for a failed job.
 * - From a request id to its commit C: a per-process map for the requests made here; otherwise
 *   (another replica, a restart) a binary search over the `streaming` commits, oldest first, for
 *   the first one holding the file (request files are never deleted): O(log n) file look-ups.
 */
import { commitFiles } from '../pachyderm/own-commit';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import type { CommitRef } from '../pachyderm/refs';
import { type CommitInfo, type JobInfo, JobState, isTerminalJobState } from '../pachyderm/types';
import { parseAnswers } from './answers';
import type { ResolvedServiceConfig } from './config';
import { NotFoundError } from './errors';
import type { PredictionsService } from './index';
import type { EventBus } from './pubsub';
import type { PredictionPair, PredictionRequestReceipt, PredictionResult } from './types';
import { validatePairs } from './validation';

/** Request ids: 32 lowercase hex digits. */
export const REQUEST_ID_RE = /^[0-9a-f]{32}$/;

/** At most this many request → commit entries are remembered per process (oldest dropped). */
export const REQUEST_CACHE_SIZE = 100_000;

/** A new request id: 16 random bytes as hex. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

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

  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
    private readonly events: EventBus,
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
    const requestId = newRequestId();
    const commit = await commitFiles(this.pach, `${this.config.streamingRepo}@master`, [
      { op: 'put', path: `/${requestId}`, data: requestFileText(valid) },
    ]);
    this.remember(requestId, commit.id);
    return { requestId, commit: commit.id, count: valid.length };
  }

  async getResult(requestId: string): Promise<PredictionResult> {
    return (await this.lookup(requestId)).result;
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
        if (isPachError(e, PachCode.NOT_FOUND)) return false;
        throw e;
      }
    };
    // an id that is not in the branch head was never requested (files are never deleted from
    // `streaming`): answered without listing the history, which costs O(commits)
    let atHead: boolean;
    try {
      atHead = await has({ repo, branch: 'master' });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND))
        throw new NotFoundError('prediction request', requestId);
      throw e;
    }
    if (!atHead) throw new NotFoundError('prediction request', requestId);
    let ids: string[];
    try {
      ids = [];
      for await (const ci of this.pach.listCommit(repo, { reverse: true })) {
        if (ci.finished) ids.push(ci.commit.id);
      }
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND))
        throw new NotFoundError('prediction request', requestId);
      throw e;
    }
    // the first commit that has the file: files are never deleted from `streaming`
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

  private modelOf(ci: CommitInfo): string | null {
    const train = ci.directProvenance.find((c) => c.repo.name === this.config.trainRepo);
    return train ? train.id : null;
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
      answerCommit: null,
      job: null,
    };
    const job = await this.job(commit);
    base.job = job;
    const out = await this.commitInfo(commit);
    // a job that ended without success is final, even when its output commit was never started
    // (a job stopped before it ran) or is not finished yet
    const failed =
      job !== null && isTerminalJobState(job.state) && job.state !== JobState.JOB_SUCCESS;
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
    if (!out || !out.finished) return { result: base, waitingForLater: false };
    let answerCommit: CommitInfo | null = out;
    let text = await this.answerIn(commit, requestId);
    if (text === null) {
      // predict@C had no datum for the request (no model yet): take the newest finished answer
      answerCommit = null;
      try {
        const head = await this.pach.inspectCommit(`${this.config.predictRepo}@master`);
        if (head.finished && !head.error) {
          text = await this.answerIn(head.commit.id, requestId);
          if (text !== null) answerCommit = head;
        }
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
    }
    if (text === null || !answerCommit) return { result: base, waitingForLater: true };
    const { predictions, lineErrors } = parseAnswers(text);
    return {
      result: {
        ...base,
        ready: true,
        predictions,
        lineErrors,
        text,
        modelVersion: this.modelOf(answerCommit),
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
    await Promise.all([
      (async () => {
        for await (const ci of commits) await this.settle(ci.commit.id);
      })(),
      (async () => {
        for await (const j of jobs) {
          // a terminal job's output commit is normally finished in the same transaction; a job
          // stopped before it started has no output commit: its state change is the only event
          if (j.job.pipeline.name === pipeline && isTerminalJobState(j.state)) {
            await this.settle(j.job.id);
          }
        }
      })(),
    ]);
  }
}
