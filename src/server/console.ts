/**
 * The web console at `/` (console/, built by `npm run build` into dist/console/): `GET /` is its
 * page, `/assets/*` its script, stylesheet and source map, served from local files with a
 * Content-Security-Policy that allows this origin only (scripts, styles, and the API over HTTP and
 * WebSocket on the same host: CSP3 `'self'` covers `ws:`/`wss:` of the same origin). When the
 * console is not built, `GET /` gets the landing page (landing.ts) with that remark.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import express, { Router } from 'express';
import { exampleTabs } from './ide';
import { landingPage } from './landing';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The console's build folder: `dist/console` beside the compiled server (dist/server → ../console)
 * or, when the server runs from src/ (tests, ts-register), the project's dist/console; null when
 * neither holds an index.html.
 */
export function consoleDir(): string | null {
  for (const dir of [
    path.resolve(__dirname, '../console'),
    path.resolve(__dirname, '../../dist/console'),
  ]) {
    if (fs.existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return null;
}

/** The router of `/` and `/assets/*` (see the module documentation). */
export function consoleRouter(graphqlPath: string, dir = consoleDir()): Router {
  const router = Router();
  const headers = (res: express.Response) =>
    res
      .setHeader('Content-Security-Policy', CSP)
      .setHeader('X-Content-Type-Options', 'nosniff')
      .setHeader('Referrer-Policy', 'no-referrer');
  if (!dir) {
    let page: string | undefined;
    router.get('/', (_req, res) => {
      page ??= landingPage(
        graphqlPath,
        exampleTabs().map((t) => t.name),
      ).replace(
        '<h2>Tools</h2>',
        '<p><strong>The console is not built:</strong> run <code>npm run build</code>.</p>\n<h2>Tools</h2>',
      );
      res
        .status(200)
        .setHeader('Content-Type', 'text/html; charset=utf-8')
        .setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(page);
    });
    return router;
  }
  const index = fs.readFileSync(path.join(dir, 'index.html'));
  router.get('/', (_req, res) => {
    headers(res).status(200).setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache').send(index);
  });
  router.use(
    '/assets',
    (_req, res, next) => {
      headers(res);
      next();
    },
    express.static(path.join(dir, 'assets'), {
      index: false,
      fallthrough: false,
      dotfiles: 'deny',
      maxAge: '5m',
    }),
  );
  return router;
}
