/**
 * Writing to the `streaming` repo: prediction requests in, answered requests out.
 *
 * - **Requests.** Each request is ONE commit C started with StartCommit on `streaming@master`;
 *   its file is `/<C's id>`, so the request id IS the commit id (32 hex digits; pachd and the
 *   embedded engine both make it from a random UUID: 122 random bits) and no look-up is needed to
 *   go from a request to its commit. The commit's description is {@link REQUEST_DESCRIPTION}.
 * - **Retiring.** Once a finished `predict` commit holds the answer to a request that is still at
 *   the head of `streaming`, the request file is deleted from the head (many deletions in ONE
 *   commit): in the next request commit of this process when one comes within
 *   {@link RETIRE_CARRY_MS} (description {@link REQUEST_RETIRE_DESCRIPTION}), else in a commit of
 *   its own (description {@link RETIRE_DESCRIPTION}). Under a flow of requests there are then no
 *   retire-only commits, whose predict jobs would sit between two requests' jobs (on a pachd a
 *   pipeline's job waits for the one before it, finishing window included). The datums of `predict` are then only the
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
/** Description of a request commit that also retires answered requests (they rode along). */
export const REQUEST_RETIRE_DESCRIPTION = 'reelgraph: prediction request; retire answered requests';

/** True for the description of a commit that adds a prediction request. */
export function isRequestDescription(d: string): boolean {
  return d === REQUEST_DESCRIPTION || d === REQUEST_RETIRE_DESCRIPTION;
}

/** True for the description of a commit that deletes answered requests. */
export function isRetireDescription(d: string): boolean {
  return d === RETIRE_DESCRIPTION || d === REQUEST_RETIRE_DESCRIPTION;
}
/** Most request files deleted by one retire commit (more make more commits). */
export const RETIRE_BATCH = 5_000;
/**
 * Retire runs start at least this long apart: under a steady flow of requests, one retire commit
 * (and the predict job it makes, whose datums are all skipped) per interval, not per request.
 */
export const RETIRE_INTERVAL_MS = 200;
/**
 * How long answered requests wait to ride along in the next request commit before they are
 * retired in a commit of their own. Under a flow of requests no retire commit is made at all: a
 * retire commit's predict job would run between two requests' jobs, and on a pachd each job waits
 * for the one before it to end (its output commit FINISHED, after the finishing window).
 */
export const RETIRE_CARRY_MS = 200;
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

/** Answered requests waiting to be deleted (see {@link StreamingWriter.retire}). */
interface Carried {
  names: string[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** One writer of `streaming@master` per process: commits one at a time, retried across replicas. */
export class StreamingWriter {
  private chain: Promise<unknown> = Promise.resolve();
  /** Deletions waiting for the next request commit, or for {@link RETIRE_CARRY_MS}. */
  private carried: Carried[] = [];
  private carryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pach: Pachyderm,
    private readonly repo: string,
    private readonly carryMs = RETIRE_CARRY_MS,
  ) {}

  /**
   * Starts a commit on `<repo>@master` (waiting while another process holds it open), lets
   * `write` fill it, and finishes it. Writes of this process run one after the other. With
   * `carry` (request commits), the answered requests waiting in {@link retire} are deleted in
   * the same commit (at most {@link RETIRE_BATCH}), whose description is then
   * {@link REQUEST_RETIRE_DESCRIPTION}.
   * @returns the commit
   * @throws the error of `write` (the commit is then finished unchanged: ModifyFile is atomic);
   *   PachError FAILED_PRECONDITION when the branch stayed open for 30 s.
   */
  commit(
    description: string,
    write: (commit: Commit) => Promise<void>,
    opts: { carry?: boolean } = {},
  ): Promise<Commit> {
    const run = this.chain.then(() => this.commitNow(description, write, !!opts.carry));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Deletes the request files `names` from the head of `<repo>@master`: in the next request
   * commit of this process when one comes within `carryMs` (default {@link RETIRE_CARRY_MS}),
   * else in commits of their own ({@link RETIRE_DESCRIPTION}, at most {@link RETIRE_BATCH} files
   * each). Deleting a file that is gone already changes nothing.
   * @returns resolves once the deletions are committed; rejects with the error of a retire
   *   commit of their own
   */
  retire(names: readonly string[]): Promise<void> {
    if (names.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.carried.push({ names: [...names], resolve, reject });
      this.armCarry();
    });
  }

  /**
   * Drops the carried deletions (they are retired at the next start-up, `Retirer.catchUp`) and
   * stops the carry timer; their `retire` promises reject with `reason`.
   */
  close(reason: Error = new Error('streaming writer closed')): void {
    if (this.carryTimer) clearTimeout(this.carryTimer);
    this.carryTimer = null;
    for (const c of this.carried.splice(0)) c.reject(reason);
  }

  /** Commits the carried deletions now, in commits of their own. */
  flushRetired(): Promise<void> {
    if (this.carryTimer) clearTimeout(this.carryTimer);
    this.carryTimer = null;
    const all = this.carried.splice(0);
    if (all.length === 0) return Promise.resolve();
    const names = [...new Set(all.flatMap((c) => c.names))];
    const run = (async () => {
      for (let k = 0; k < names.length; k += RETIRE_BATCH) {
        const ops: FileOp[] = names
          .slice(k, k + RETIRE_BATCH)
          .map((n) => ({ op: 'delete', path: `/${n}` }));
        await this.commit(RETIRE_DESCRIPTION, async (c) => {
          await this.pach.modifyFile(c, ops);
        });
      }
    })();
    run.then(
      () => all.forEach((c) => c.resolve()),
      (e: unknown) => all.forEach((c) => c.reject(e)),
    );
    return run.catch(() => undefined);
  }

  private armCarry(): void {
    if (this.carryTimer || this.carried.length === 0) return;
    this.carryTimer = setTimeout(() => {
      this.carryTimer = null;
      void this.flushRetired();
    }, this.carryMs);
    this.carryTimer.unref?.();
  }

  /** Takes up to {@link RETIRE_BATCH} carried names (whole entries) for a request commit. */
  private takeCarried(): Carried[] {
    const taken: Carried[] = [];
    let n = 0;
    while (this.carried.length > 0 && n + this.carried[0].names.length <= RETIRE_BATCH) {
      const c = this.carried.shift()!;
      n += c.names.length;
      taken.push(c);
    }
    if (this.carried.length === 0 && this.carryTimer) {
      clearTimeout(this.carryTimer);
      this.carryTimer = null;
    }
    return taken;
  }

  private async commitNow(
    description: string,
    write: (commit: Commit) => Promise<void>,
    carry: boolean,
  ): Promise<Commit> {
    const carried = carry ? this.takeCarried() : [];
    const giveBack = () => {
      if (carried.length === 0) return;
      this.carried.unshift(...carried);
      this.armCarry();
    };
    const deadline = Date.now() + WRITE_PATIENCE_MS;
    let commit: Commit;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      try {
        commit = await this.pach.startCommit(`${this.repo}@master`, {
          description: carried.length > 0 ? REQUEST_RETIRE_DESCRIPTION : description,
        });
        break;
      } catch (e) {
        if (!isPachError(e, PachCode.FAILED_PRECONDITION) || Date.now() > deadline) {
          giveBack();
          throw e;
        }
        const branch = `${this.repo}@master`;
        const ours = (d: string) => isRequestDescription(d) || isRetireDescription(d);
        if (await finishAbandoned(this.pach, branch, ours).catch(() => false)) {
          continue;
        }
        await new Promise((r) => setTimeout(r, pause * (0.5 + Math.random())));
      }
    }
    // the carried deletions never fail the write they ride with: when they cannot be made here,
    // they go back to wait for the next commit
    let deleted = false;
    let failed: { error: unknown } | null = null;
    try {
      await write(commit);
      if (carried.length > 0) {
        const names = [...new Set(carried.flatMap((c) => c.names))];
        await this.pach
          .modifyFile(
            commit,
            names.map((n) => ({ op: 'delete' as const, path: `/${n}` })),
          )
          .then(
            () => (deleted = true),
            () => undefined,
          );
      }
    } catch (e) {
      failed = { error: e };
    }
    try {
      await this.pach.finishCommit(commit);
    } catch (e) {
      giveBack();
      throw failed ? failed.error : e;
    }
    if (deleted) carried.forEach((c) => c.resolve());
    else giveBack();
    if (failed) throw failed.error;
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
    // in the next request commit, or in commits of their own after RETIRE_CARRY_MS
    await this.writer.retire(done);
  }
}
