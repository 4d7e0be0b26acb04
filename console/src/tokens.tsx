/**
 * Tokens: sign in with a bearer token when the server requires them (REELGRAPH_API_TOKENS). The
 * token is kept in this tab's sessionStorage only and sent as `Authorization: Bearer` (HTTP) and
 * in the graphql-ws connection parameters.
 */
import { useState } from 'preact/hooks';
import { getToken, setToken } from './api';

export function TokensPage() {
  const [value, setValue] = useState('');
  const [signedIn, setSignedIn] = useState(getToken() !== null);
  return (
    <section class="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Tokens</h2>
      <p>
        When the server requires tokens, adding ratings, requesting predictions and live updates
        need one. It is kept in this tab only (sessionStorage) and forgotten when the tab closes.
      </p>
      <p aria-live="polite" id="token-state">
        {signedIn ? 'Signed in: a token is set for this tab.' : 'No token set.'}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) return;
          setToken(value.trim());
          setValue('');
          setSignedIn(true);
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="row">
          <button type="submit">Sign in</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setToken(null);
              setSignedIn(false);
            }}
          >
            Sign out
          </button>
        </div>
      </form>
    </section>
  );
}
