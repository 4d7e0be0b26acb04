/**
 * Imported first by the server's entry points (src/main.ts, `reelgraph serve`), before graphql-js,
 * express or Apollo are loaded: NODE_ENV defaults to `production` for a running server. graphql-js
 * then skips its development-only `instanceOf` checks (a few percent of the CPU of a small query,
 * see bench/api.bench.ts); the server's behaviour does not otherwise depend on it (introspection,
 * stack traces and the landing page are set explicitly in app.ts). An explicit NODE_ENV (e.g.
 * `development`, or `test` under jest) is kept.
 */
process.env.NODE_ENV ??= 'production';

export {};
