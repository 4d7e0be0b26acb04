/**
 * First contact: a browser that opens `/graphql` (a GET asking for HTML, without a `query`
 * parameter) gets a page linking the tools — the console, GraphQL Playground, GraphiQL, the
 * example operations, `/metrics`, the health probes — as Apollo's own landing page does, instead of
 * Apollo's JSON answer to a GET without a query (a CSRF-prevention error for a browser). API
 * clients are unaffected: a GET with `?query=…` or asking for JSON, and every POST, reach Apollo.
 * The page has no script; its Content-Security-Policy allows only this origin's styles (inline).
 */
import { Router, type Request, type Response, type NextFunction } from 'express';
import { exampleTabs } from './ide';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The landing page's HTML.
 * @param graphqlPath the endpoint's path (`/graphql`)
 * @param examples names of the example files (`schema/examples/*.graphql` without the extension)
 */
export function landingPage(graphqlPath: string, examples: readonly string[]): string {
  const tools: [string, string, string][] = [
    ['/', 'Console', 'jobs, models, predictions and data, live'],
    ['/playground', 'GraphQL Playground', 'the example operations open as tabs'],
    ['/graphiql', 'GraphiQL', 'the example operations open as tabs'],
    ['/metrics', 'Metrics', 'Prometheus text format'],
    ['/readyz', 'Readiness', 'which model serves'],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reelgraph — GraphQL API</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f;background:#fff}
code{font:14px ui-monospace,monospace;background:#f1f1f4;padding:.1rem .3rem;border-radius:3px}
a{color:#0b57d0}li{margin:.3rem 0}
</style>
</head>
<body>
<main>
<h1>reelgraph GraphQL API</h1>
<p>This is the GraphQL endpoint: send operations with <code>POST ${escape(graphqlPath)}</code>
(JSON, <code>Content-Type: application/json</code>), or subscribe over WebSocket on the same path
(<code>graphql-transport-ws</code>, or the legacy <code>graphql-ws</code> protocol).</p>
<h2>Tools</h2>
<ul>
${tools.map(([href, name, what]) => `<li><a href="${href}">${name}</a> — ${what}</li>`).join('\n')}
</ul>
<h2>Example operations</h2>
<ul>
${examples.map((e) => `<li><code>schema/examples/${escape(e)}.graphql</code></li>`).join('\n')}
</ul>
</main>
</body>
</html>
`;
}

/**
 * The router answering a browser's `GET <graphqlPath>` with {@link landingPage}; every other
 * request goes on (`next()`) to the GraphQL server.
 */
export function landingRouter(graphqlPath: string): Router {
  const router = Router();
  let page: string | undefined;
  router.get(graphqlPath, (req: Request, res: Response, next: NextFunction) => {
    const hasQuery =
      typeof req.query.query === 'string' || typeof req.query.extensions === 'string';
    if (hasQuery || req.accepts(['application/json', 'text/html']) !== 'text/html') return next();
    page ??= landingPage(
      graphqlPath,
      exampleTabs().map((t) => t.name),
    );
    res
      .status(200)
      .setHeader('Content-Type', 'text/html; charset=utf-8')
      .setHeader('Content-Security-Policy', CSP)
      .setHeader('X-Content-Type-Options', 'nosniff')
      .send(page);
  });
  return router;
}
