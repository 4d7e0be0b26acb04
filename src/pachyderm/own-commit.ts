/**
 * Writes in a commit of the writer's own: StartCommit on the branch → ModifyFile into that commit
 * by id → FinishCommit. This is how a writer learns the exact id of the commit holding its write
 * whatever the number of writers (several API replicas), and it never writes into a commit that
 * is FINISHING — a real pachd refuses that ("commit X has already finished", 2.12
 * `server_file.go`), while a branch head stays FINISHING for a while after every FinishCommit.
 *
 * Contention: pachd refuses StartCommit while the branch head is open ("parent commit X has not
 * been finished", 2.12 `server_commit.go` startCommit) — another writer is between its
 * StartCommit and its FinishCommit. Then {@link commitFiles} waits with exponential backoff and
 * jitter and tries again ({@link retryWithBackoff}). A FINISHING head is a valid parent, so
 * back-to-back writes of one writer never wait.
 *
 * Works with any {@link Pachyderm} adapter (embedded engine, gRPC client of a real pachd).
 */
import { isPachError, PachCode } from './errors';
import type { FileOp, Pachyderm } from './port';
import type { BranchRef } from './refs';
import type { Commit } from './types';

/** Options of {@link retryWithBackoff} and {@link commitFiles}. */
export interface BackoffOptions {
  /** Attempts in all, ≥ 1 (default 12). */
  attempts?: number;
  /** Delay before the second attempt, in ms (default 20); doubles each time. */
  baseDelayMs?: number;
  /** Largest delay between two attempts, in ms (default 1000). */
  maxDelayMs?: number;
  /** Random source in [0, 1) for the jitter (default Math.random); tests pass a seeded one. */
  random?: () => number;
  /** Cancels the waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * True for the errors a retry can cure: a branch head that another writer holds open ("parent
 * commit X has not been finished"), a commit that finished between a look and a write ("has
 * already finished"), and a pachd that is briefly unreachable (UNAVAILABLE).
 */
export function isRetryableWriteError(e: unknown): boolean {
  if (isPachError(e, PachCode.UNAVAILABLE)) return true;
  if (!isPachError(e, PachCode.FAILED_PRECONDITION) && !isPachError(e, PachCode.UNKNOWN))
    return false;
  return /has not been finished|has already finished/.test((e as Error).message);
}

/**
 * Runs `fn` until it resolves, retrying when `retryable(error)` (default
 * {@link isRetryableWriteError}) after a delay of `min(maxDelayMs, baseDelayMs·2^k)` scaled by a
 * jitter in [0.5, 1) (attempt k = 0, 1, …). The last error is thrown after `attempts` tries.
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { retryable?: (e: unknown) => boolean } = {},
): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 12);
  const base = opts.baseDelayMs ?? 20;
  const max = opts.maxDelayMs ?? 1000;
  const random = opts.random ?? Math.random;
  const retryable = opts.retryable ?? isRetryableWriteError;
  for (let k = 0; ; k++) {
    try {
      return await fn(k);
    } catch (e) {
      if (k + 1 >= attempts || !retryable(e)) throw e;
      const delay = Math.min(max, base * 2 ** k) * (0.5 + random() / 2);
      await abortableDelay(delay, opts.signal);
    }
  }
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Applies `ops` to `branch` in a new commit of the caller's own (StartCommit → ModifyFile by id →
 * FinishCommit) and returns that commit. StartCommit is retried with backoff while another
 * writer holds the head open (see the module documentation). When the ModifyFile fails, the
 * commit is finished with the error text (Pachyderm's FinishCommit `error`; nothing of `ops` is
 * in it, the write is atomic) so the branch is not left blocked, and the error is rethrown.
 * @throws PachError of the write (e.g. NOT_FOUND for a missing repo or copy source), or the last
 *   FAILED_PRECONDITION "parent commit X has not been finished" after every attempt
 */
export async function commitFiles(
  pach: Pachyderm,
  branch: BranchRef,
  ops: FileOp[],
  opts: BackoffOptions & { description?: string } = {},
): Promise<Commit> {
  const commit = await retryWithBackoff(
    () => pach.startCommit(branch, { description: opts.description }),
    opts,
  );
  try {
    await pach.modifyFile({ repo: commit.repo, id: commit.id }, ops);
  } catch (e) {
    await pach
      .finishCommit(commit, { error: `write failed: ${(e as Error).message}` })
      .catch(() => undefined);
    throw e;
  }
  await pach.finishCommit(commit);
  return commit;
}
