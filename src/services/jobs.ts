/**
 * Job history of the pipelines, newest first, with opaque cursors.
 *
 * Paging follows the port's `listJob` (newest first, `paginationMarker` = "created strictly
 * before"): a cursor holds the last job's creation time (ms) and id; the next page lists from
 * that millisecond on and skips, among the jobs of that same millisecond, those up to and
 * including the cursor's job — so jobs created in the same millisecond are neither lost nor
 * repeated.
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import type { DatumInfo, JobInfo, JobState, LogMessage } from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import { decodeCursor, encodeCursor } from './cursor';
import { NotFoundError, ValidationError } from './errors';
import type { JobsService } from './index';
import type { Page } from './types';
import { validateFirst, validateHexId, validateName } from './validation';

const KIND = 'job';
/** Most log lines one `logs` call returns. */
export const MAX_LOG_LINES = 1000;

/** The cursor of a job in the history. */
export function jobCursor(j: JobInfo): string {
  return encodeCursor(KIND, [j.created.getTime(), j.job.pipeline.name, j.job.id]);
}

function parseCursor(after: string): { ms: number; pipeline: string; id: string } {
  const v = decodeCursor(KIND, after);
  if (
    Array.isArray(v) &&
    v.length === 3 &&
    Number.isInteger(v[0]) &&
    typeof v[1] === 'string' &&
    typeof v[2] === 'string'
  ) {
    return { ms: v[0] as number, pipeline: v[1], id: v[2] };
  }
  return decodeCursor(KIND, '') as never; // throws the standard cursor error
}

/** {@link JobsService} on a Pachyderm port. */
export class Jobs implements JobsService {
  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
  ) {}

  async jobHistory(
    opts: {
      pipeline?: string | null;
      state?: JobState | null;
      first?: number | null;
      after?: string | null;
    } = {},
  ): Promise<Page<JobInfo>> {
    // an empty name is a bad name, not "every pipeline" (that is null / absent)
    if (opts.pipeline != null) validateName(opts.pipeline, 'pipeline');
    const first = validateFirst(opts.first, this.config.maxPageSize, 20);
    const cursor = opts.after ? parseCursor(opts.after) : null;
    const items: Page<JobInfo>['items'] = [];
    let hasNextPage = false;
    let skipping = cursor !== null;
    for await (const j of this.pach.listJob({
      ...(opts.pipeline != null ? { pipeline: opts.pipeline } : {}),
      ...(opts.state !== undefined && opts.state !== null ? { state: [opts.state] } : {}),
      ...(cursor ? { paginationMarker: new Date(cursor.ms + 1) } : {}),
    })) {
      if (skipping && cursor) {
        const ms = j.created.getTime();
        if (ms === cursor.ms) {
          if (j.job.id === cursor.id && j.job.pipeline.name === cursor.pipeline) skipping = false;
          continue;
        }
        if (ms > cursor.ms) continue;
        skipping = false; // the cursor's job is gone: go on from the next older one
      }
      if (items.length === first) {
        hasNextPage = true;
        break;
      }
      items.push({ node: j, cursor: jobCursor(j) });
    }
    return { items, hasNextPage };
  }

  async checkPipeline(pipeline: string): Promise<string> {
    const name = validateName(pipeline, 'pipeline');
    try {
      await this.pach.inspectPipeline({ name });
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) throw new NotFoundError('pipeline', name);
      throw e;
    }
    return name;
  }

  async jobsSince(after: string, pipeline?: string | null): Promise<JobInfo[]> {
    validateHexId(after, 'after');
    if (pipeline != null) await this.checkPipeline(pipeline);
    const limit = this.config.maxPageSize;
    const out: JobInfo[] = [];
    for await (const j of this.pach.listJob(pipeline != null ? { pipeline } : {})) {
      out.push(j);
      if (j.job.id === after) return out.reverse();
      if (out.length > limit) {
        throw new ValidationError('arguments', [
          {
            index: null,
            field: 'after',
            message: `more than ${limit} jobs were created since job ${after}: read them with jobHistory, then subscribe with a newer after`,
          },
        ]);
      }
    }
    throw new NotFoundError('job', after);
  }

  async datums(pipeline: string, id: string, first?: number | null): Promise<DatumInfo[]> {
    const job = await this.known(pipeline, id);
    const n = validateFirst(first, this.config.maxPageSize, 20);
    const out: DatumInfo[] = [];
    for await (const d of this.pach.listDatum(job, { number: n })) {
      out.push(d);
      if (out.length === n) break;
    }
    return out;
  }

  async logs(pipeline: string, id: string, first?: number | null): Promise<LogMessage[]> {
    const job = await this.known(pipeline, id);
    const n = validateFirst(first, MAX_LOG_LINES, 100);
    const out: LogMessage[] = [];
    for await (const l of this.pach.getLogs({ job, tail: n })) {
      out.push(l);
      if (out.length === n) break;
    }
    return out;
  }

  /** The job's reference after checking that it exists. */
  private async known(pipeline: string, id: string): Promise<{ pipeline: string; id: string }> {
    validateName(pipeline, 'pipeline');
    validateHexId(id, 'id');
    await this.job(id, pipeline);
    return { pipeline, id };
  }

  async job(id: string, pipeline?: string | null): Promise<JobInfo> {
    if (pipeline != null) {
      validateName(pipeline, 'pipeline');
      try {
        return await this.pach.inspectJob({ pipeline, id });
      } catch (e) {
        if (isPachError(e, PachCode.NOT_FOUND) || isPachError(e, PachCode.INVALID_ARGUMENT)) {
          throw new NotFoundError('job', `${pipeline}@${id}`);
        }
        throw e;
      }
    }
    const found: JobInfo[] = [];
    for await (const p of this.pach.listPipeline()) {
      try {
        found.push(await this.pach.inspectJob({ pipeline: p.pipeline.name, id }));
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND) && !isPachError(e, PachCode.INVALID_ARGUMENT))
          throw e;
      }
    }
    if (found.length === 0) throw new NotFoundError('job', id);
    if (found.length > 1) {
      throw new ValidationError('arguments', [
        {
          index: null,
          field: 'pipeline',
          message: `job id ${id} exists in the pipelines ${found.map((j) => j.job.pipeline.name).join(', ')} (a commit set spans pipelines): give pipeline`,
        },
      ]);
    }
    return found[0];
  }
}
