/**
 * Jobs: the pipelines' jobs, live (`jobHistory` then `jobUpdated` from the newest one), failed
 * jobs and their reason first, then running ones, then the rest newest first; a job's detail
 * (its datum counts, inputs and output, timings).
 */
import { useState } from 'preact/hooks';
import type { JobsPageQuery } from '../../client/index';
import { JobDetailDocument, JobsPageDocument } from '../../client/index';
import { duration, short, time } from './api';
import { useQuery, useStream } from './live';
import { Table } from './table';

type Job = JobsPageQuery['jobHistory']['nodes'][number];
const FAILED = new Set(['FAILURE', 'KILLED', 'UNRUNNABLE']);
const DONE = new Set(['SUCCESS', ...FAILED]);

/** Failed first, then unfinished, then finished; newest first within each group. */
export function jobOrder(a: Job, b: Job): number {
  const rank = (j: Job) => (FAILED.has(j.state) ? 0 : DONE.has(j.state) ? 2 : 1);
  return rank(a) - rank(b) || Date.parse(b.created) - Date.parse(a.created);
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

export function JobsPage() {
  const [jobs, setJobs] = useState<Map<string, Job>>(new Map());
  const [selected, setSelected] = useState<Job | null>(null);
  const upsert = (list: Job[]) =>
    setJobs((old) => {
      const next = new Map(old);
      for (const j of list) next.set(`${j.pipeline}@${j.id}`, j);
      return next;
    });
  const first = useQuery(async (c) => {
    const page = await c.query(JobsPageDocument, { first: 50 });
    upsert(page.jobHistory.nodes);
    return page;
  });
  const streamError = useStream(
    (c) => c.jobUpdates(),
    (j) => upsert([j]),
  );
  const list = [...jobs.values()].sort(jobOrder);
  return (
    <div class="grid">
      <section class="card" aria-labelledby="jobs-title">
        <h2 id="jobs-title">Jobs</h2>
        {first.error && (
          <p class="error" role="alert">
            {first.error}
          </p>
        )}
        {streamError && (
          <p class="error" role="alert">
            Live updates stopped: {streamError}
          </p>
        )}
        <p class="muted">
          Live: state changes are pushed by <code>jobUpdated</code>. Failed jobs come first. Select
          a row (or press Enter on it) for its detail.
        </p>
        <Table
          label="Jobs table"
          columns={[
            'Pipeline',
            'Job',
            'State',
            { label: 'Datums', class: 'num' },
            { label: 'Created', class: 'hide-narrow' },
            { label: 'Duration', class: 'num hide-narrow' },
            'Reason',
          ]}
          caption={<>{list.length} jobs</>}
          tableProps={{ id: 'jobs-table' }}
        >
          {list.map((j) => (
            <tr
              key={`${j.pipeline}@${j.id}`}
              data-job={j.id}
              data-pipeline={j.pipeline}
              data-state={j.state}
              tabindex={0}
              aria-selected={selected?.id === j.id && selected.pipeline === j.pipeline}
              onClick={() => setSelected(j)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  setSelected(j);
                }
              }}
            >
              <td>{j.pipeline}</td>
              <td class="mono">{short(j.id)}</td>
              <td>
                <StateBadge state={j.state} />
              </td>
              <td class="num">
                {j.dataProcessed + j.dataSkipped}/{j.dataTotal}
                {j.dataFailed ? <span class="error"> ({j.dataFailed} failed)</span> : null}
              </td>
              <td class="hide-narrow">{time(j.created)}</td>
              <td class="num hide-narrow">{duration(j.started ?? j.created, j.finished)}</td>
              <td>{j.reason || <span class="muted">—</span>}</td>
            </tr>
          ))}
        </Table>
      </section>
      {selected && <JobDetail job={selected} />}
    </div>
  );
}

function JobDetail({ job }: { job: Job }) {
  const detail = useQuery(
    (c) => c.query(JobDetailDocument, { id: job.id, pipeline: job.pipeline }),
    [job.id, job.pipeline, job.state],
  );
  const j = detail.data?.job ?? job;
  return (
    <section class="card" aria-labelledby="job-detail-title" aria-live="polite">
      <h2 id="job-detail-title">
        Job {j.pipeline}@{short(j.id)}
      </h2>
      {detail.error && <p class="error">{detail.error}</p>}
      <dl>
        <dt>Id</dt>
        <dd class="mono">{j.id}</dd>
        <dt>State</dt>
        <dd>
          <StateBadge state={j.state} />
        </dd>
        {j.reason && (
          <>
            <dt>Reason</dt>
            <dd class="error">{j.reason}</dd>
          </>
        )}
        <dt>Datums</dt>
        <dd>
          {j.dataTotal} total: {j.dataProcessed} processed, {j.dataSkipped} skipped, {j.dataFailed}{' '}
          failed, {j.dataRecovered} recovered
        </dd>
        <dt>Restarts</dt>
        <dd>{j.restart}</dd>
        <dt>Created</dt>
        <dd>{time(j.created)}</dd>
        <dt>Started</dt>
        <dd>{time(j.started)}</dd>
        <dt>Finished</dt>
        <dd>
          {time(j.finished)} ({duration(j.started ?? j.created, j.finished)})
        </dd>
        <dt>Inputs</dt>
        <dd class="mono">
          {j.inputCommits.map((c) => `${c.repo}@${short(c.id)}`).join(', ') || '—'}
        </dd>
        <dt>Output</dt>
        <dd class="mono">
          {j.outputCommit.repo}@{short(j.outputCommit.id)}
        </dd>
      </dl>
      {detail.data && (
        <>
          <h3>Datums</h3>
          <Table
            label="Datums of the job"
            columns={['Datum', 'State', 'Input files', { label: 'Seconds', class: 'num' }]}
            caption={<>{detail.data.job.datums.length} datums (first 50)</>}
            tableProps={{ id: 'job-datums' }}
          >
            {detail.data.job.datums.map((d) => (
              <tr key={d.id}>
                <td class="mono">{short(d.id)}</td>
                <td>{d.state}</td>
                <td class="mono params">{d.files.join(' ')}</td>
                <td class="num">{d.processSeconds?.toFixed(2) ?? '—'}</td>
              </tr>
            ))}
          </Table>
          <h3>Logs</h3>
          {detail.data.job.logs.length === 0 ? (
            <p class="muted">No log lines.</p>
          ) : (
            <pre class="logs" id="job-logs" tabindex={0} aria-label="Log lines of the job">
              {detail.data.job.logs
                .map((l) => `${l.ts}${l.datumId ? ` [${short(l.datumId)}]` : ''} ${l.message}`)
                .join('\n')}
            </pre>
          )}
        </>
      )}
    </section>
  );
}
