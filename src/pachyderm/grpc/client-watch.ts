/**
 * The gRPC client's `watchJobs` (every state change of the jobs of one pipeline or of all), made
 * of pachd's own RPCs, since pachd has no state-change feed: SubscribeJob per pipeline (each open
 * job once; pipelines listed with ListPipeline, re-listed after 1 s, backing off to every 30 s
 * while none appears; for a pipeline that appears later, its jobs so far from ListJob), each job
 * emitted when first seen and at its end through one InspectJob{wait} per job; with `pollMs` > 0
 * InspectJob is also polled at that interval and each state seen to change is emitted. The states
 * emitted for a job are in order, each once, ending with its terminal state. The streams are
 * opened once per watch, never per job.
 */
import { PachCode, isPachError, unavailable } from '../errors';
import type { Cancellable, ListJobOptions } from '../port';
import { type JobRef, type PipelineRef, toPipeline } from '../refs';
import { type JobInfo, type Pipeline, type PipelineInfo, isTerminalJobState } from '../types';
import { PushQueue, sleep } from './streams';

/** The RPCs {@link watchJobsOver} is made of (the gRPC client's). */
export interface JobWatchSource {
  inspectJob(job: JobRef, opts?: { wait?: boolean } & Cancellable): Promise<JobInfo>;
  subscribeJob(pipeline: PipelineRef, opts?: Cancellable): AsyncIterable<JobInfo>;
  listJob(opts?: ListJobOptions): AsyncIterable<JobInfo>;
  listPipeline(): AsyncIterable<PipelineInfo>;
}

/**
 * The job feed of `src` (see the module documentation), as one async iterator per call; `signal`
 * or leaving the loop ends it, an error of a stream fails it.
 * @param pollMs InspectJob polling interval in ms (0: none, only the terminal state is waited for)
 */
export function watchJobsOver(
  src: JobWatchSource,
  pollMs: number,
  opts: { pipeline?: PipelineRef } & Cancellable = {},
): AsyncIterableIterator<JobInfo> {
  const ctl = new AbortController();
  const queue = new PushQueue<JobInfo>(() => ctl.abort());
  const onAbort = () => queue.end();
  if (opts.signal?.aborted) queue.end();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  ctl.signal.addEventListener('abort', () => opts.signal?.removeEventListener('abort', onAbort));
  const seen = new Set<string>();
  const watching = new Set<string>();
  const follow = (first: JobInfo) => {
    let last = first.state;
    const emit = (j: JobInfo) => {
      if (j.state === last || isTerminalJobState(last)) return;
      last = j.state;
      queue.push(j);
    };
    src.inspectJob(first.job, { wait: true, signal: ctl.signal }).then(emit, () => undefined);
    if (pollMs <= 0) return;
    void (async () => {
      while (!ctl.signal.aborted && !isTerminalJobState(last)) {
        await sleep(pollMs, ctl.signal);
        if (ctl.signal.aborted || isTerminalJobState(last)) return;
        try {
          emit(await src.inspectJob(first.job, { signal: ctl.signal }));
        } catch {
          return; // deleted job, closed client, cancelled: the wait reports the rest
        }
      }
    })();
  };
  const consider = (key: string, j: JobInfo) => {
    const id = `${key}@${j.job.id}`;
    if (seen.has(id)) return;
    seen.add(id);
    queue.push(j);
    if (!isTerminalJobState(j.state)) follow(j);
  };
  /**
   * SubscribeJob for `p`; `catchUp` (a pipeline that appeared after the watch started): also
   * every job ListJob already has for it, since all of them are news to this watch (a job
   * that ended before the subscription began is invisible to SubscribeJob).
   */
  const watchPipeline = (p: Pipeline, catchUp: boolean) => {
    const key = `${p.project.name}/${p.name}`;
    if (watching.has(key)) return;
    watching.add(key);
    void (async () => {
      try {
        // subscribe first (the call starts now and buffers), then catch up, then follow it
        const live = src.subscribeJob(p, { signal: ctl.signal })[Symbol.asyncIterator]();
        if (catchUp) {
          for await (const j of src.listJob({ pipeline: p, reverse: true })) consider(key, j);
        }
        for (;;) {
          const r = await live.next();
          if (r.done) break;
          consider(key, r.value);
        }
        // pachd ended the stream (e.g. it is shutting down): an interruption for the
        // consumer, who resubscribes and catches up, not the end of the watch
        if (!ctl.signal.aborted) {
          throw unavailable(`SubscribeJob of ${key} ended by pachd`);
        }
      } catch (e) {
        watching.delete(key);
        if (!isPachError(e, PachCode.NOT_FOUND)) queue.fail(e);
      }
    })();
  };
  if (opts.pipeline) {
    watchPipeline(toPipeline(opts.pipeline), false);
  } else {
    void (async () => {
      // re-listed after 1 s, backing off to 30 s while no pipeline appears
      for (let first = true, wait = 1000; !ctl.signal.aborted; first = false) {
        const before = watching.size;
        try {
          for await (const p of src.listPipeline()) watchPipeline(p.pipeline, !first);
        } catch (e) {
          if (!ctl.signal.aborted) queue.fail(e);
          return;
        }
        wait = watching.size > before ? 1000 : Math.min(30_000, wait * 2);
        await sleep(first ? 1000 : wait, ctl.signal);
      }
    })();
  }
  return queue;
}
