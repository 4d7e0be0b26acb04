/**
 * The GraphQL IDEs, served from local files only (nothing from a CDN, no web fonts):
 * - `/playground`: GraphQL Playground (`@apollographql/graphql-playground-react`'s build, page
 *   from `@apollographql/graphql-playground-html`), queries over HTTP on `/graphql`,
 *   subscriptions over the legacy `graphql-ws` subprotocol on the same `/graphql` path;
 * - `/graphiql`: GraphiQL (`@graphql-yoga/render-graphiql`, one self-contained page),
 *   subscriptions over graphql-ws (`graphql-transport-ws`) on `/graphql`.
 * Both pages are rendered once and served with a Content-Security-Policy that allows only this
 * origin (plus inline scripts and styles, which the pages need, and `ws:`/`wss:` connections).
 * Both open with one tab per example file of `schema/examples/` (its operations, and the
 * variables of its first `# Variables: {…}` comment), unless the browser kept tabs of its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderPlaygroundPage } from '@apollographql/graphql-playground-html';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import express, { Router } from 'express';

/** URL prefix of the Playground's static files. */
export const PLAYGROUND_ASSETS = '/playground/assets';

/** The directory of the Playground's build (index.css, middleware.js, favicon). */
export function playgroundBuildDir(): string {
  return path.join(
    path.dirname(require.resolve('@apollographql/graphql-playground-react/package.json')),
    'build',
  );
}

const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self' ws: wss:",
].join('; ');

/** The folder of the example operations (`schema/examples`, beside src/ and dist/). */
export const EXAMPLES_DIR = path.resolve(__dirname, '../../schema/examples');

/** One example file as an IDE tab. */
export interface ExampleTab {
  /** The file's name without `.graphql`, e.g. `predictions`. */
  name: string;
  /** The file's text (its operations and comments). */
  query: string;
  /** The JSON of its first `# Variables: {…}` comment, or `{}`. */
  variables: string;
}

/**
 * The example files of `dir` as tabs, sorted by name; an absent folder gives none. A
 * `# Variables:` comment that is not a JSON object is left out (the tab gets `{}`).
 */
export function exampleTabs(dir = EXAMPLES_DIR): ExampleTab[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.graphql'));
  } catch {
    return [];
  }
  return files.sort().map((f) => {
    const query = fs.readFileSync(path.join(dir, f), 'utf8');
    let variables = '{}';
    const m = /^#\s*Variables:\s*(\{.*\})\s*$/m.exec(query);
    if (m) {
      try {
        variables = JSON.stringify(JSON.parse(m[1]), null, 2);
      } catch {
        // not JSON: the tab opens without variables
      }
    }
    return { name: f.replace(/\.graphql$/, ''), query, variables };
  });
}

/** The Playground page: assets from {@link PLAYGROUND_ASSETS}, the web-font link removed. */
export function playgroundPage(endpoint = '/graphql', tabs = exampleTabs()): string {
  const page = renderPlaygroundPage({
    endpoint,
    tabs: tabs.map((t) => ({ endpoint, name: t.name, query: t.query, variables: t.variables })),
    subscriptionEndpoint: endpoint,
    title: 'reelgraph — GraphQL Playground',
    // version undefined → "<cdnUrl>/<package>/build/…": served below from the local build
    cdnUrl: PLAYGROUND_ASSETS,
    faviconUrl: `${PLAYGROUND_ASSETS}/@apollographql/graphql-playground-react/build/favicon.png`,
    settings: { 'request.credentials': 'same-origin', 'schema.polling.enable': false },
  });
  return page.replace(/<link[^>]*fonts\.googleapis\.com[^>]*>/g, '');
}

/** The GraphiQL page (self-contained: its JavaScript and CSS are inlined). */
export function graphiqlPage(endpoint = '/graphql', tabs = exampleTabs()): string {
  return renderGraphiQL({
    endpoint,
    defaultTabs: tabs.map((t) => ({ query: t.query, variables: t.variables })),
    title: 'reelgraph — GraphiQL',
    subscriptionsProtocol: 'WS',
  });
}

/** The router of `/playground` (page + assets) and `/graphiql`. Pages are rendered lazily, once. */
export function ideRouter(endpoint = '/graphql'): Router {
  const router = Router();
  let playground: string | undefined;
  let graphiql: string | undefined;
  const send = (res: express.Response, html: string) =>
    res
      .status(200)
      .setHeader('Content-Type', 'text/html; charset=utf-8')
      .setHeader('Content-Security-Policy', CSP)
      .setHeader('X-Content-Type-Options', 'nosniff')
      .send(html);
  router.get('/playground', (_req, res) => {
    send(res, (playground ??= playgroundPage(endpoint)));
  });
  router.use(
    `${PLAYGROUND_ASSETS}/@apollographql/graphql-playground-react/build`,
    express.static(playgroundBuildDir(), { index: false, fallthrough: false, maxAge: '1h' }),
  );
  router.get('/graphiql', (_req, res) => {
    send(res, (graphiql ??= graphiqlPage(endpoint)));
  });
  return router;
}
