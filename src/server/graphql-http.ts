/**
 * The hot path of GraphQL over HTTP: `POST /graphql` with a JSON body goes straight from the
 * Node HTTP server to Apollo's `executeHTTPGraphQLRequest` — the same call
 * `@as-integrations/express5` makes — without express' router and body-parser layers (they cost
 * more CPU than the operation itself for small queries: see bench/api.bench.ts). Everything Apollo
 * does still applies (CSRF prevention, parse limits, validation rules, plugins, error statuses);
 * the body limit is enforced here (413), as `express.json({limit})` does on the express path, and
 * so is the JSON nesting limit (400, json-limits.ts),
 * which keeps serving every other request to /graphql (GET, other content types).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ApolloServer,
  type ApolloServerPlugin,
  type BaseContext,
  HeaderMap,
} from '@apollo/server';
import { GraphQLError } from 'graphql';
import { jsonNestingDepth } from './json-limits';
import { type Logger, logRequest } from './logging';

/** Options of {@link graphqlFastPath}. */
export interface FastPathOptions<C extends BaseContext> {
  /** The endpoint's path (`/graphql`). */
  path: string;
  /** Largest body, bytes; bigger → 413 `{"error": "request body too large"}`. */
  maxBodyBytes: number;
  /** Deepest JSON nesting of the body, levels; deeper → 400 before it is parsed (json-limits.ts). */
  maxJsonDepth: number;
  logger: Logger;
  /** The context of one operation. */
  context: (req: IncomingMessage, ids: { id: string; log: Logger }) => Promise<C> | C;
}

/**
 * The Apollo plugin refusing subscriptions over HTTP (both the fast path and the express path go
 * through Apollo, so this is the one place): HTTP 400, code `BAD_REQUEST`, naming the WebSocket
 * URL (`ws://<Host header>/graphql`; the path alone without a Host header) and its protocols.
 * Without it Apollo would execute the subscription's resolver once as a query and answer 200
 * with an internal error.
 * @param path the GraphQL endpoint's path (`/graphql`)
 */
export function httpSubscriptionPlugin<C extends BaseContext>(path: string): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation?.operation !== 'subscription') return;
          const host = request.http?.headers.get('host');
          const url = host ? `ws://${host}${path}` : path;
          throw new GraphQLError(
            `subscriptions are served over WebSocket at ${url} (graphql-transport-ws or the legacy graphql-ws protocol), not over HTTP`,
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
      };
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Returns a handler that serves `POST <path>` requests with an uncompressed UTF-8 JSON body
 * (`application/json`, optionally `; charset=utf-8`) and returns true, or returns false (the
 * caller passes the request on to express).
 */
export function graphqlFastPath<C extends BaseContext>(
  apollo: ApolloServer<C>,
  opts: FastPathOptions<C>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { path, maxBodyBytes } = opts;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
    // plain UTF-8 JSON only: another charset or a compressed body goes to express, whose
    // body-parser decodes it (or answers 415 for an unsupported charset)
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;\s*charset=("?)utf-8\2\s*)?$/i.test(type)) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    const ids = logRequest(opts.logger, req, res, path);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBodyBytes) {
      sendJson(res, 413, { error: `request body too large: more than ${maxBodyBytes} bytes` });
      req.resume();
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        sendJson(res, 413, { error: `request body too large: more than ${maxBodyBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
    });
    req.on('end', () => {
      if (refused) return;
      const raw = Buffer.concat(chunks, size);
      if (jsonNestingDepth(raw, opts.maxJsonDepth) > opts.maxJsonDepth) {
        sendJson(res, 400, {
          error: `request body nests JSON deeper than ${opts.maxJsonDepth} levels (REELGRAPH_MAX_JSON_DEPTH)`,
        });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        sendJson(res, 400, { error: 'request body is not valid JSON' });
        return;
      }
      void execute(body);
    });
    const execute = async (body: unknown) => {
      try {
        const headers = new HeaderMap();
        for (const [key, value] of Object.entries(req.headers)) {
          if (value !== undefined)
            headers.set(key, Array.isArray(value) ? value.join(', ') : value);
        }
        const answer = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: 'POST',
            headers,
            search: q < 0 ? '' : url.slice(q),
            body,
          },
          context: async () => opts.context(req, ids),
        });
        for (const [key, value] of answer.headers) res.setHeader(key, value);
        res.statusCode = answer.status ?? 200;
        if (answer.body.kind === 'complete') {
          res.setHeader('Content-Length', Buffer.byteLength(answer.body.string));
          res.end(answer.body.string);
          return;
        }
        for await (const chunk of answer.body.asyncIterator) res.write(chunk);
        res.end();
      } catch (err) {
        ids.log.error({ err }, 'GraphQL request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error', requestId: ids.id });
        else res.destroy();
      }
    };
    return true;
  };
}
