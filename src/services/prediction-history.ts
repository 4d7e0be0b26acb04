/**
 * The history of prediction requests, newest first, with their answers and the model version
 * that gave them — the browsable form of what the Flask version kept in files.
 *
 * The history IS the `streaming` repo's commits: each request of this version is one commit
 * whose description is a request's (`isRequestDescription` of streaming.ts: a request, or a request
 * that also retired answered ones) and whose file `/<commit id>` is the request
 * (streaming.ts). A page walks the commits newest first from the cursor (Pachyderm ListCommit
 * with `to` = the cursor's commit and `number`), skipping the retire commits, and looks up each
 * request's result as `prediction(requestId)` does. With a `userId`, only requests with at least
 * one pair of that user are listed: each scanned request file is read.
 *
 * Cost per page is bounded whatever the history's length: at most {@link HISTORY_SCAN} commits
 * are scanned. A page that reaches that bound before it is full ends early with
 * `hasNextPage: true` and an `endCursor` at the scan point (possibly with no items: follow the
 * cursor). Requests made by versions before the retiring design (one-off commits without the
 * description) are not listed; they stay answerable by id.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import { isCommitId } from '../pachyderm/refs';
import type { ResolvedServiceConfig } from './config';
import { decodeCursor, encodeCursor } from './cursor';
import { NotFoundError, ValidationError } from './errors';
import { isRequestDescription } from './streaming';
import type { Page, PredictionHistoryEntry, PredictionResult } from './types';
import { validateFirst, validateId } from './validation';

/** Most `streaming` commits one page reads. */
export const HISTORY_SCAN = 1_000;

const KIND = 'prediction';

function badCursor(after: string): ValidationError {
  return new ValidationError('arguments', [
    {
      index: null,
      field: 'after',
      message: `after ${JSON.stringify(after.slice(0, 80))} is not a cursor of this list (use a cursor returned by it)`,
    },
  ]);
}

/** True when the request text (lines `user_id movie_id`) has a pair of `userId`. */
export function requestHasUser(text: string, userId: string): boolean {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[ \t]+/);
    if (f[0] === userId) return true;
  }
  return false;
}

/**
 * One page of the history (see the module documentation).
 * @param getResult the result of a request (Predictions.getResult)
 * @throws ValidationError for a bad `userId`, `first` (1…maxPageSize) or `after`.
 */
export async function predictionHistory(
  pach: Pachyderm,
  config: ResolvedServiceConfig,
  getResult: (requestId: string) => Promise<PredictionResult>,
  opts: { userId?: string | null; first?: number | null; after?: string | null } = {},
): Promise<Page<PredictionHistoryEntry>> {
  const userId = opts.userId != null ? validateId(opts.userId, 'userId', config.maxIdLength) : null;
  const first = validateFirst(opts.first, config.maxPageSize, 20);
  let from: string | null = null;
  if (opts.after) {
    const v = decodeCursor(KIND, opts.after);
    if (typeof v !== 'string' || !isCommitId(v)) throw badCursor(opts.after);
    from = v;
  }
  const repo = config.streamingRepo;
  const page: Page<PredictionHistoryEntry> = { items: [], hasNextPage: false };
  let scanned = 0;
  let last: string | null = null;
  try {
    for await (const ci of pach.listCommit(repo, {
      ...(from ? { to: { repo, id: from } } : {}),
      number: HISTORY_SCAN + (from ? 2 : 1),
    })) {
      const id = ci.commit.id;
      if (id === from) continue; // the cursor's own commit
      if (scanned === HISTORY_SCAN) {
        page.hasNextPage = true;
        page.endCursor = last ? encodeCursor(KIND, last) : (opts.after ?? null);
        break;
      }
      scanned++;
      last = id;
      if (!isRequestDescription(ci.description) || !ci.finished) continue;
      if (userId !== null) {
        let text: string;
        try {
          text = (await pach.readFile({ commit: { repo, id }, path: `/${id}` })).toString('utf8');
        } catch (e) {
          if (isPachError(e, PachCode.NOT_FOUND)) continue;
          throw e;
        }
        if (!requestHasUser(text, userId)) continue;
      }
      if (page.items.length === first) {
        page.hasNextPage = true;
        break;
      }
      let result: PredictionResult;
      try {
        result = await getResult(id);
      } catch (e) {
        // a request commit without its file (its write failed; the commit was finished empty)
        if (e instanceof NotFoundError) continue;
        throw e;
      }
      page.items.push({
        node: { requestId: id, requestedAt: ci.started, result },
        cursor: encodeCursor(KIND, id),
      });
    }
  } catch (e) {
    if (isPachError(e, PachCode.NOT_FOUND)) {
      if (from) throw badCursor(opts.after!);
      return page; // no `streaming` repo yet: no history
    }
    throw e;
  }
  return page;
}
