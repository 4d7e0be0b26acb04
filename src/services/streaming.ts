/**
 * Writing to the `streaming` repo: prediction requests in, answered requests out.
 *
 * - **Requests.** Each request is ONE commit C started with StartCommit on `streaming@master`;
 *   its file is `/<C's id>`, so the request id IS the commit id (32 hex digits; pachd and the
 *   embedded engine both make it from a random UUID: 122 random bits) and no look-up is needed to
 *   go from a request to its commit. The commit's description is {@link REQUEST_DESCRIPTION}.
 * - **Retiring.** Once a finished `predict` commit holds the answer to a request that is still at
 *   the head of `streaming`, the request file is deleted from the head (many deletions in ONE
 *   commit, description {@link RETIRE_DESCRIPTION}). The datums of `predict` are then only the
 *   pending requests, so a retrain's job costs O(pending), not O(requests ever made), while each
 *   answer stays in the history at `predict@<C>` (commits are immutable).
 *
 * Pachyderm allows one open commit per branch: StartCommit fails with FAILED_PRECONDITION
 * ("parent commit … has not been finished") while another is open. In one process the writes are
 * queued; between processes (API replicas) a refused StartCommit is retried after a short random
 * pause. Retiring is idempotent: deleting a file that another replica already deleted changes
 * nothing, and a retire that loses the race is re-tried on the next finished `predict` commit (and
 * after {@link RETIRE_RETRY_MS}), and at every start-up ({@link Retirer.catchUp}), so a crash
 * between an answer and its retirement leaves nothing pending forever.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { FileOp, Pachyderm } from '../pachyderm/port';
import type { CommitRef } from '../pachyderm/refs';
import type { Commit, CommitInfo } from '../pachyderm/types';
import { FileType } from '../pachyderm/types';

/** Description of a request commit. */
export const REQUEST_DESCRIPTION = 'reelgraph: prediction request';
/** Description of a commit that retires answered requests. */
export const RETIRE_DESCRIPTION = 'reelgraph: retire answered requests';
/** Most request files deleted by one retire commit (more make more commits). */
export const RETIRE_BATCH = 5_000;
/**
 * Retire runs start at least this long apart: under a steady flow of requests, one retire commit
 * (and the predict job it makes, whose datums are all skipped) per interval, not per request.
 */
export const RETIRE_INTERVAL_MS = 200;
/** A retire that lost the branch to another process is tried again after this long. */
export const RETIRE_RETRY_MS = 1_000;
/** How long a write waits for another process's open commit before giving up. */
const WRITE_PATIENCE_MS = 30_000;
/**
 * An open commit of ours (by description) older than this was abandoned by a process that died
 * between StartCommit and FinishCommit (SIGKILL, power loss): it is finished so the branch can
 * move again. A live writer holds a commit open for milliseconds.
 */
export const ABANDONED_COMMIT_MS = 15_000;

/**
 * Finishes the open head of `branch` when `ours(description)` and it was started more than
 * {@link ABANDONED_COMMIT_MS} ago (see there). Its content is complete or absent
 * (ModifyFile is atomic), so it is finished as it is.
 * @returns true when it finished one.
 */
export async function finishAbandoned(
  pach: Pachyderm,
  branch: string,
  ours: (description: string) => boolean,
  now = Date.now(),
): Promise<boolean> {
  let head: CommitInfo;
  try {
    head = await pach.inspectCommit(branch);
  } catch (e) {
    if (isPachError(e, PachCode.NOT_FOUND)) return false;
    throw e;
  }
  if (head.finished || !ours(head.description)) return false;
  if (now - head.started.getTime() < ABANDONED_COMMIT_MS) return false;
  try {
    await pach.finishCommit(head.commit);
    return true;
  } catch (e) {
    if (isPachError(e, PachCode.FAILED_PRECONDITION)) return false; // finished meanwhile
    throw e;
  }
}

/** One writer of `streaming@master` per process: commits one at a time, retried across replicas. */
export class StreamingWriter {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pach: Pachyderm,
    private readonly repo: string,
  ) {}

  /**
   * Starts a commit on `<repo>@master` (waiting while another process holds it open), lets
   * `write` fill it, and finishes it. Writes of this process run one after the other.
   * @returns the commit
   * @throws the error of `write` (the commit is then finished unchanged: ModifyFile is atomic);
   *   PachError FAILED_PRECONDITION when the branch stayed open for 30 s.
   */
  commit(description: string, write: (commit: Commit) => Promise<void>): Promise<Commit> {
    const run = this.chain.then(() => this.commitNow(description, write));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async commitNow(
    description: string,
    write: (commit: Commit) => Promise<void>,
  ): Promise<Commit> {
    const deadline = Date.now() + WRITE_PATIENCE_MS;
    let commit: Commit;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      try {
        commit = await this.pach.startCommit(`${this.repo}@master`, { description });
        break;
      } catch (e) {
        if (!isPachError(e, PachCode.FAILED_PRECONDITION) || Date.now() > deadline) throw e;
        const branch = `${this.repo}@master`;
        const ours = (d: string) => d === REQUEST_DESCRIPTION || d === RETIRE_DESCRIPTION;
        if (await finishAbandoned(this.pach, branch, ours)) {
          continue;
        }
        await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
      }
    }
    try {
      await write(commit);
    } finally {
      await this.pach.finishCommit(commit);
    }
    return commit;
  }
}

/** The names of the files at the root of a commit (request ids), bounded by the caller's use. */
async function rootNames(pach: Pachyderm, commit: CommitRef): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    for await (const f of pach.listFile({ commit, path: '/' })) {
      if (f.fileType !== FileType.FILE) continue;
      names.add(f.file.path.replace(/^\//, ''));
    }
  } catch (e) {
    if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
  }
  return names;
}

/** Retires answered requests from the head of `streaming` (see the module documentation). */
export class Retirer {
  private running: Promise<void> | null = null;
  private again: string | null | undefined;
  private timer: NodeJS.Timeout | null = null;
  /** The wait before the next run (see {@link RETIRE_INTERVAL_MS}). */
  private pause: NodeJS.Timeout | null = null;
  private lastRun = 0;
  private closed = false;

  constructor(
    private readonly pach: Pachyderm,
    private readonly writer: StreamingWriter,
    private readonly repos: { streaming: string; predict: string },
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  /**
   * Retires the requests answered in the finished `predict` commit `answerCommit` (or, when
   * omitted, in the newest finished one). Calls made while a retire runs, or within
   * {@link RETIRE_INTERVAL_MS} of the last run's start, are merged into one more run.
   */
  schedule(answerCommit?: string): void {
    if (this.closed) return;
    if (this.running || this.pause) {
      // one more run after this one, with the newest commit asked for
      this.again = answerCommit ?? this.again ?? null;
      return;
    }
    const wait = this.lastRun + RETIRE_INTERVAL_MS - Date.now();
    if (wait > 0) {
      // batch: at most one retire commit per interval (each one makes a predict job)
      this.again = answerCommit ?? this.again ?? null;
      this.pause = setTimeout(() => {
        this.pause = null;
        const next = this.again ?? undefined;
        this.again = undefined;
        this.schedule(next);
      }, wait);
      this.pause.unref?.();
      return;
    }
    this.lastRun = Date.now();
    this.running = this.retire(answerCommit)
      .catch((e: Error) => {
        if (isPachError(e, PachCode.FAILED_PRECONDITION) && !this.closed) {
          this.retryLater();
        } else if (!this.closed) {
          this.log(`retiring answered requests: ${e.message}`);
          this.retryLater();
        }
      })
      .finally(() => {
        this.running = null;
        if (this.again !== undefined) {
          const next = this.again ?? undefined;
          this.again = undefined;
          this.schedule(next);
        }
      });
  }

  /** Start-up catch-up: retires what the newest finished `predict` commit answered. */
  async catchUp(): Promise<void> {
    this.schedule();
    await this.idle();
  }

  /** Resolves when no retire runs (nor waits for its interval). */
  async idle(): Promise<void> {
    while (this.running || this.pause) {
      await (this.running ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  /** Stops retrying (a running retire finishes). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pause) clearTimeout(this.pause);
    this.pause = null;
  }

  private retryLater(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, RETIRE_RETRY_MS);
    this.timer.unref?.();
  }

  /** The newest finished, error-free `predict` commit (null when there is none). */
  private async newestAnswers(): Promise<CommitInfo | null> {
    try {
      for await (const ci of this.pach.listCommit(this.repos.predict, { number: 20 })) {
        if (ci.finished && !ci.error) return ci;
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return null;
  }

  private async retire(answerCommit?: string): Promise<void> {
    const answers = answerCommit ?? (await this.newestAnswers())?.commit.id;
    if (!answers) return;
    // the newest FINISHED streaming commit (the head may be another process's open commit)
    let head: CommitInfo;
    try {
      head = await this.pach.inspectCommit(`${this.repos.streaming}@master`);
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return;
      throw e;
    }
    const finished = head.finished ? head.commit : head.parentCommit;
    if (!finished) return;
    const pending = await rootNames(this.pach, { repo: this.repos.streaming, id: finished.id });
    if (pending.size === 0) return;
    const answered = await rootNames(this.pach, { repo: this.repos.predict, id: answers });
    const done = [...pending].filter((n) => answered.has(n));
    for (let k = 0; k < done.length; k += RETIRE_BATCH) {
      const ops: FileOp[] = done
        .slice(k, k + RETIRE_BATCH)
        .map((n) => ({ op: 'delete', path: `/${n}` }));
      await this.writer.commit(RETIRE_DESCRIPTION, async (c) => {
        await this.pach.modifyFile(c, ops);
      });
    }
  }
}
