/**
 * A small GraphQL schema for the transport tests (HTTP, graphql-ws, legacy protocol): what the
 * server does with ANY schema — limits, auth, routing, shutdown — is tested on it without the
 * engine. The reelgraph schema itself is exercised end to end in e2e.test.ts.
 *
 * ```graphql
 * type Query { hello: String!  authenticated: Boolean!  requestId: String!  slow(ms: Int!): String!
 *              node: Node!  items(first: Int): [Item!]! }
 * type Node { depth: Int!  child: Node! }        # arbitrarily deep selections
 * type Item { a: Int!  b: Int! }                 # complexity 1 + first × 3 for items { a b }
 * type Mutation { announce(message: String!): String! }
 * type Subscription { announced: String! }       # each announce is pushed
 * ```
 */
import { createPubSub } from '@graphql-yoga/subscription';
import {
  GraphQLBoolean,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLNullableType,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';

interface Ctx {
  auth: { authenticated: boolean };
  requestId: string;
}

export function fixtureSchema() {
  const pubsub = createPubSub<{ ANNOUNCED: [string] }>();
  const nonNull = <T extends GraphQLNullableType>(t: T) => new GraphQLNonNull(t);
  const Node: GraphQLObjectType = new GraphQLObjectType({
    name: 'Node',
    fields: () => ({
      depth: { type: nonNull(GraphQLInt), resolve: (d: number) => d },
      child: { type: nonNull(Node), resolve: (d: number) => d + 1 },
    }),
  });
  const Item = new GraphQLObjectType({
    name: 'Item',
    fields: {
      a: { type: nonNull(GraphQLInt), resolve: (i: number) => i },
      b: { type: nonNull(GraphQLInt), resolve: (i: number) => i * i },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        hello: { type: nonNull(GraphQLString), resolve: () => 'world' },
        authenticated: {
          type: nonNull(GraphQLBoolean),
          resolve: (_s, _a, ctx: Ctx) => ctx.auth.authenticated,
        },
        requestId: { type: nonNull(GraphQLString), resolve: (_s, _a, ctx: Ctx) => ctx.requestId },
        slow: {
          type: nonNull(GraphQLString),
          args: { ms: { type: nonNull(GraphQLInt) } },
          resolve: async (_s, { ms }: { ms: number }) => {
            await new Promise((r) => setTimeout(r, ms));
            return `slept ${ms}`;
          },
        },
        node: { type: nonNull(Node), resolve: () => 1 },
        items: {
          type: nonNull(new GraphQLList(nonNull(Item))),
          args: { first: { type: GraphQLInt } },
          resolve: (_s, { first }: { first?: number }) =>
            Array.from({ length: first ?? 20 }, (_, i) => i),
        },
      },
    }),
    mutation: new GraphQLObjectType({
      name: 'Mutation',
      fields: {
        announce: {
          type: nonNull(GraphQLString),
          args: { message: { type: nonNull(GraphQLString) } },
          resolve: (_s, { message }: { message: string }) => {
            pubsub.publish('ANNOUNCED', message);
            return message;
          },
        },
      },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        announced: {
          type: nonNull(GraphQLString),
          subscribe: () => pubsub.subscribe('ANNOUNCED'),
          resolve: (m: string) => m,
        },
      },
    }),
  });
  return { schema, pubsub };
}
