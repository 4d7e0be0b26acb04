/**
 * Introspection counts (issue 11): on reelgraph's real schema, an introspection list costs its
 * size on the schema times its fields (src/server/introspection-cost.ts), within
 * REELGRAPH_MAX_INTROSPECTION_COMPLEXITY; the standard introspection query of IDEs fits, 100
 * aliases of `__schema { types { name fields { name args { name } } } }` (744 KB of answer
 * before) are refused with 400 on HTTP and over WebSocket; and costly introspection runs one at a
 * time through the server's gate, other requests served in between.
 */
import 'reflect-metadata';
import { getIntrospectionQuery, type GraphQLSchema, parse } from 'graphql';
import { buildSchema } from '../../src/resolvers/schema';
import { createServer, type RunningServer } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { Gate } from '../../src/server/gate';
import { introspectionSizes } from '../../src/server/introspection-cost';
import { operationComplexity } from '../../src/server/limits';
import { createLogger } from '../../src/server/logging';
import type { Services } from '../../src/services';
import { modernClient, modernSubscribe, postGraphQL, until } from './clients';

const ONE = '__schema { types { name fields { name args { name } } } }';
const aliases = (n: number) =>
  '{ ' + Array.from({ length: n }, (_, i) => `a${i}: ${ONE}`).join(' ') + ' }';

let schema: GraphQLSchema;
let server: RunningServer;
beforeAll(async () => {
  schema = await buildSchema();
  server = await createServer({
    schema,
    // introspection reads no service; /readyz reads the model version
    services: { models: { currentVersion: () => 'fixture-model' } } as unknown as Services,
    config: loadConfig({ PORT: '0' }),
    logger: createLogger('silent'),
  });
});
afterAll(() => server.close());

describe('the price of introspection', () => {
  test('prices a list by its mean size on the schema: types × (1 + fields × (1 + args × 1))', () => {
    const s = introspectionSizes(schema);
    // counted independently from the schema's type map
    const types = Object.values(schema.getTypeMap());
    expect(s.types).toBe(types.length);
    let fields = 0;
    let args = 0;
    for (const t of types) {
      const f = 'getFields' in t && !('parseValue' in t) ? t.getFields() : {};
      for (const x of Object.values(f) as { args?: unknown[] }[]) {
        if (!x.args) continue; // input fields have no args and are not `fields`
        fields++;
        args += x.args.length;
      }
    }
    expect(s.fields).toBe(Math.ceil(fields / types.length));
    expect(s.fieldArgs).toBe(Math.max(1, Math.ceil(args / fields)));
    // { __schema { types { name fields { name args { name } } } } }:
    // __schema 1 + types (1 + T × (name 1 + fields (1 + F × (name 1 + args (1 + A × 1)))))
    const perField = 1 + (1 + s.fieldArgs * 1);
    const perType = 1 + (1 + s.fields * perField);
    const expected = 1 + (1 + s.types * perType);
    expect(operationComplexity(schema, parse(`{ ${ONE} }`), {}, null)).toEqual({
      ordinary: 0,
      introspection: expected,
    });
    expect(operationComplexity(schema, parse(aliases(100)), {}, null)).toEqual({
      ordinary: 0,
      introspection: 100 * expected,
    });
  });
});

describe('introspection limits over HTTP and WebSocket', () => {
  test('answers the standard introspection query of IDEs (it fits the limit)', async () => {
    const a = await postGraphQL(server.graphqlUrl, getIntrospectionQuery());
    expect(a.status).toBe(200);
    expect(a.body.errors).toBeUndefined();
    const cost = operationComplexity(schema, parse(getIntrospectionQuery()), {}, null)!;
    expect(cost.introspection).toBeLessThanOrEqual(
      loadConfig({}).limits.maxIntrospectionComplexity,
    );
  });

  test('refuses 100 aliases of __schema { types { fields { args } } } with 400 COMPLEXITY_LIMIT_EXCEEDED', async () => {
    const a = await postGraphQL(server.graphqlUrl, aliases(100));
    expect(a.status).toBe(400);
    expect(a.body.errors?.[0].extensions?.code).toBe('COMPLEXITY_LIMIT_EXCEEDED');
    const cost = operationComplexity(schema, parse(aliases(100)), {}, null)!;
    expect(a.body.errors?.[0].message).toBe(
      `introspection complexity ${cost.introspection} exceeds the maximum of ${loadConfig({}).limits.maxIntrospectionComplexity} (REELGRAPH_MAX_INTROSPECTION_COMPLEXITY; an introspection list costs its size on this schema times its fields; the standard introspection query fits)`,
    );
  });

  test('refuses the same over graphql-ws', async () => {
    const client = modernClient(server.wsUrl);
    try {
      const sub = modernSubscribe(client, aliases(100));
      await until(() => sub.errors.length > 0 || sub.completed, 10_000, 'an answer');
      expect(sub.results).toEqual([]);
      expect(sub.errors[0].extensions?.code).toBe('COMPLEXITY_LIMIT_EXCEEDED');
    } finally {
      await client.dispose();
    }
  });

  test('serves a health probe while costly introspection queries queue (between two of them)', async () => {
    // 6 costly queries at once, each as big as the limit allows; the probe sent after them
    // answers before the last one does
    const one = operationComplexity(schema, parse(`{ ${ONE} }`), {}, null)!.introspection;
    const query = aliases(Math.floor(loadConfig({}).limits.maxIntrospectionComplexity / one));
    const order: string[] = [];
    const costly = Array.from({ length: 6 }, (_, i) =>
      postGraphQL(server.graphqlUrl, query).then((a) => {
        expect(a.status).toBe(200);
        order.push(`introspection ${i}`);
      }),
    );
    const probe = fetch(`${server.url}/readyz`).then((r) => {
      expect(r.status).toBe(200);
      order.push('probe');
    });
    await Promise.all([...costly, probe]);
    expect(order.indexOf('probe')).toBeLessThan(order.length - 1);
  });
});

describe('Gate', () => {
  test('lets one holder at a time, in arrival order, and I/O between two holders', async () => {
    const gate = new Gate(1);
    const log: string[] = [];
    const a = gate.run(async () => {
      log.push('a start');
      await new Promise((r) => setImmediate(r));
      log.push('a end');
    });
    const b = gate.run(() => {
      log.push('b');
    });
    expect([gate.active + gate.queued]).toEqual([2]);
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'a end', 'b']);
    expect([gate.active, gate.queued]).toEqual([0, 0]);
    expect(() => new Gate(0)).toThrow('concurrency must be a whole number ≥ 1, got 0');
  });
});
