/**
 * Predict: send (user, movie) pairs and watch the answer pushed live with its latency
 * (`requestPredictions` then `subscribeToPrediction`, the typed client's `predictSteps`); a
 * user's recommendations with titles, genres and scores; a user's ratings.
 */
import { useState } from 'preact/hooks';
import type { PredictionAnswer } from '../../client/index';
import { UserRatingsDocument, UserRecommendationsDocument } from '../../client/index';
import { api, describeError, short } from './api';
import { useQuery } from './live';
import { Table } from './table';

/** Lines `user movie` (spaces, commas or tabs) → pairs; throws naming the first bad line. */
export function parsePairs(text: string): { userId: string; movieId: string }[] {
  const pairs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const parts = line.split(/[\s,]+/);
    if (parts.length !== 2) throw new Error(`line ${i + 1}: expected "user movie", got "${line}"`);
    pairs.push({ userId: parts[0], movieId: parts[1] });
  }
  if (!pairs.length) throw new Error('enter at least one line "user movie"');
  return pairs;
}

export function PredictPage() {
  const [text, setText] = useState('196 242\n1 50\n943 1330');
  const [status, setStatus] = useState<string>('');
  const [answer, setAnswer] = useState<PredictionAnswer | null>(null);
  const [error, setError] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [user, setUser] = useState('196');
  const [shownUser, setShownUser] = useState('196');

  const send = async (e: Event) => {
    e.preventDefault();
    setError('');
    setAnswer(null);
    setBusy(true);
    try {
      for await (const s of api().predictSteps(parsePairs(text))) {
        if (s.step === 'requested') {
          setStatus(
            `request ${short(s.request.requestId)} committed; waiting for its predict job…`,
          );
        } else {
          setAnswer(s.answer);
          setStatus(`answer pushed after ${s.answer.latencyMs} ms`);
        }
      }
    } catch (err) {
      setError(describeError(err));
      setStatus('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="grid">
      <section class="card" aria-labelledby="predict-title">
        <h2 id="predict-title">Predict</h2>
        <form onSubmit={send}>
          <label for="pairs">Pairs, one per line: user id, movie id</label>
          <textarea id="pairs" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" disabled={busy}>
            Send
          </button>
        </form>
        <p class="status" id="predict-status" aria-live="polite">
          {status}
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {answer && (
          <Table
            label="Prediction answer"
            columns={['User', 'Movie', { label: 'Estimate', class: 'num' }, 'Fallback']}
            caption={
              <>
                Model {short(answer.modelVersion)}
                {answer.error ? <span class="error"> — {answer.error}</span> : null}
              </>
            }
            tableProps={{ id: 'predict-answer', 'data-latency': answer.latencyMs }}
          >
            {answer.predictions.map((p, i) => (
              <tr key={i}>
                <td>{p.userId}</td>
                <td>{p.movieId}</td>
                <td class="num">{p.estimate.toFixed(3)}</td>
                <td>{p.wasImpossible ? 'yes' : ''}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <section class="card" aria-labelledby="user-title">
        <h2 id="user-title">A user</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setShownUser(user.trim());
          }}
        >
          <div class="row">
            <div>
              <label for="user-id">User id</label>
              <input id="user-id" value={user} onInput={(e) => setUser(e.currentTarget.value)} />
            </div>
            <button type="submit">Show</button>
          </div>
        </form>
        {shownUser && <UserPanel userId={shownUser} />}
      </section>
    </div>
  );
}

function UserPanel({ userId }: { userId: string }) {
  const recs = useQuery(
    (c) => c.query(UserRecommendationsDocument, { userId, first: 10 }),
    [userId],
  );
  const ratings = useQuery(
    (c) => c.query(UserRatingsDocument, { id: userId, first: 20 }),
    [userId],
  );
  const u = ratings.data?.user;
  return (
    <>
      <h3>Recommendations for user {userId}</h3>
      {recs.error && <p class="error">{recs.error}</p>}
      {recs.data && (
        <Table
          label="Recommendations"
          columns={[
            { label: '#', class: 'num' },
            'Title',
            { label: 'Genres', class: 'hide-narrow' },
            { label: 'Score', class: 'num' },
          ]}
          caption={
            <>
              Top {recs.data.recommendations.items.length}
              {recs.data.recommendations.knownUser ? '' : ' (unknown user: fallback scores)'}
            </>
          }
          tableProps={{ id: 'recommendations' }}
        >
          {recs.data.recommendations.items.map((r) => (
            <tr key={r.movieId}>
              <td class="num">{r.rank}</td>
              <td>{r.title ?? r.movieId}</td>
              <td class="hide-narrow">{r.movie?.genres.join(', ')}</td>
              <td class="num">{r.score.toFixed(3)}</td>
            </tr>
          ))}
        </Table>
      )}
      <h3>Ratings of user {userId}</h3>
      {ratings.error && <p class="error">{ratings.error}</p>}
      {ratings.data && !u && <p class="muted">No such user.</p>}
      {u && (
        <Table
          label="Ratings"
          columns={['Title', { label: 'Rating', class: 'num' }]}
          caption={
            <>
              {u.ratingsCount} ratings{u.age ? `; ${u.age}, ${u.gender}, ${u.occupation}` : ''}{' '}
              (first {u.ratings.length} shown)
            </>
          }
          tableProps={{ id: 'user-ratings' }}
        >
          {u.ratings.map((r) => (
            <tr key={r.movieId}>
              <td>{r.movie?.title ?? r.movieId}</td>
              <td class="num">{r.rating}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
