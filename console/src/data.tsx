/**
 * Data: the repos, the commits of one repo live (`commitCreated`), the recent rating batches
 * (commits of `training`), and a form to add ratings that shows the train job it started, live.
 */
import { useRef, useState } from 'preact/hooks';
import type { CommitUpdatesSubscription, JobUpdatesSubscription } from '../../client/index';
import { AddRatingsDocument, RepoCommitsDocument, RepoListDocument } from '../../client/index';
import { api, describeError, short, time } from './api';
import { StateBadge } from './jobs';
import { useQuery, useStream } from './live';
import { Table } from './table';

type Commit = CommitUpdatesSubscription['commitCreated'];
type Job = JobUpdatesSubscription['jobUpdated'];

/** Lines `user movie rating` → ratings; throws naming the first bad line. */
export function parseRatings(text: string) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const p = line.split(/[\s,]+/);
    const rating = Number(p[2]);
    if (p.length !== 3 || !Number.isFinite(rating)) {
      throw new Error(`line ${i + 1}: expected "user movie rating", got "${line}"`);
    }
    out.push({ userId: p[0], movieId: p[1], rating });
  }
  if (!out.length) throw new Error('enter at least one line "user movie rating"');
  return out;
}

export function DataPage() {
  const repos = useQuery((c) => c.query(RepoListDocument));
  const [repo, setRepo] = useState('training');
  return (
    <div class="grid">
      <section class="card" aria-labelledby="add-title">
        <h2 id="add-title">Add ratings</h2>
        <AddRatings />
      </section>
      <section class="card" aria-labelledby="repos-title">
        <h2 id="repos-title">Repos</h2>
        {repos.error && <p class="error">{repos.error}</p>}
        <Table
          label="Repos table"
          columns={[
            'Repo',
            { label: 'Size', class: 'num' },
            { label: 'Description', class: 'hide-narrow' },
          ]}
          caption={<>{repos.data?.repos.length ?? 0} repos</>}
        >
          {repos.data?.repos.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td class="num">{(r.sizeBytes / 1024).toFixed(0)} KiB</td>
              <td class="hide-narrow">{r.description}</td>
            </tr>
          ))}
        </Table>
        <h3>
          <label for="repo-pick">Commits of</label>
        </h3>
        <select id="repo-pick" value={repo} onChange={(e) => setRepo(e.currentTarget.value)}>
          {(repos.data?.repos ?? [{ name: 'training' }]).map((r) => (
            <option key={r.name} value={r.name}>
              {r.name}
            </option>
          ))}
        </select>
        <Commits repo={repo} />
      </section>
    </div>
  );
}

function Commits({ repo }: { repo: string }) {
  const [commits, setCommits] = useState<Commit[]>([]);
  const first = useQuery(
    async (c) => {
      const r = await c.query(RepoCommitsDocument, { repo, first: 20 });
      setCommits(r.commits);
      return r;
    },
    [repo],
  );
  const streamError = useStream(
    (c) => c.commitUpdates({ repo }),
    (ci) => setCommits((old) => [ci, ...old.filter((o) => o.id !== ci.id)].slice(0, 50)),
    [repo],
  );
  return (
    <>
      {first.error && <p class="error">{first.error}</p>}
      {streamError && <p class="error">Live updates stopped: {streamError}</p>}
      <Table
        label={`Commits of ${repo}`}
        columns={[
          'Commit',
          'Origin',
          'Started',
          { label: 'Size', class: 'num hide-narrow' },
          { label: 'Description', class: 'hide-narrow' },
        ]}
        caption={
          <>Newest first, live{repo === 'training' ? ': each commit is one rating batch' : ''}</>
        }
        tableProps={{ id: 'commits-table' }}
      >
        {commits.map((c) => (
          <tr key={c.id} data-commit={c.id}>
            <td class="mono">{short(c.id)}</td>
            <td>{c.origin}</td>
            <td>{time(c.started)}</td>
            <td class="num hide-narrow">{c.sizeBytes}</td>
            <td class="hide-narrow">
              {c.error ? <span class="error">{c.error}</span> : c.description}
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function AddRatings() {
  const [text, setText] = useState('196 242 4\n196 302 5');
  const [error, setError] = useState('');
  const [batch, setBatch] = useState<{ commit: string; count: number } | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  // train jobs are followed from the moment the form is shown, so the batch's job is never missed
  // (it may be created, and even finish, before the mutation's answer arrives)
  const seen = useRef(new Map<string, Job>());
  const current = useRef<string | null>(null);
  const streamError = useStream(
    (c) => c.jobUpdates({ pipeline: 'train' }),
    (j) => {
      seen.current.set(j.id, j);
      if (seen.current.size > 100) seen.current.delete(seen.current.keys().next().value!);
      if (current.current === j.id) setJob(j);
    },
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const r = await api().mutate(AddRatingsDocument, { ratings: parseRatings(text) });
      current.current = r.addRatings.commit;
      setJob(seen.current.get(r.addRatings.commit) ?? null);
      setBatch({ commit: r.addRatings.commit, count: r.addRatings.count });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <form onSubmit={submit}>
        <label for="ratings">Ratings, one per line: user id, movie id, rating (1–5)</label>
        <textarea id="ratings" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Add ratings
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {streamError && (
        <p class="error" role="alert">
          Live job updates stopped: {streamError}
        </p>
      )}
      {batch && (
        <p
          id="train-job"
          class="status"
          aria-live="polite"
          data-job={batch.commit}
          data-state={job?.state ?? ''}
        >
          {batch.count} ratings committed as <code>training@{short(batch.commit)}</code>; train job{' '}
          <code>{short(batch.commit)}</code>: {job ? <StateBadge state={job.state} /> : 'waiting…'}
          {job?.reason ? <span class="error"> {job.reason}</span> : null}
        </p>
      )}
    </>
  );
}
