/**
 * The reelgraph web console: Jobs, Models, Predict, Data, Tokens, one page each (hash routes
 * `#/jobs` …), on the typed client (client/index.ts) and nothing of the server's code. Built by
 * console/build.js (esbuild) and served at `/` by the API server.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { DataPage } from './data';
import { JobsPage } from './jobs';
import { ModelsPage } from './models';
import { PredictPage } from './predict';
import { TokensPage } from './tokens';

const PAGES = {
  jobs: { title: 'Jobs', view: JobsPage },
  models: { title: 'Models', view: ModelsPage },
  predict: { title: 'Predict', view: PredictPage },
  data: { title: 'Data', view: DataPage },
  tokens: { title: 'Tokens', view: TokensPage },
} as const;
type PageName = keyof typeof PAGES;

const current = (): PageName => {
  const name = location.hash.replace(/^#\/?/, '');
  return name in PAGES ? (name as PageName) : 'jobs';
};

function App() {
  const [page, setPage] = useState<PageName>(current());
  useEffect(() => {
    const on = () => setPage(current());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    document.title = `${PAGES[page].title} — reelgraph console`;
  }, [page]);
  const View = PAGES[page].view;
  return (
    <>
      <header>
        <h1>reelgraph</h1>
        <nav aria-label="Console pages">
          <ul>
            {(Object.keys(PAGES) as PageName[]).map((p) => (
              <li key={p}>
                <a href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>
                  {PAGES[p].title}
                </a>
              </li>
            ))}
            <li>
              <a href="/graphql">API</a>
            </li>
          </ul>
        </nav>
      </header>
      <main id={`page-${page}`}>
        <View />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
