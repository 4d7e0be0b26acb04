/**
 * The executable GraphQL schema, built by type-graphql from the resolvers of this folder.
 *
 * Operations run with a context `{services}` ({@link GraphQLContext}); subscriptions read the
 * services' PubSub from it, so the schema itself holds no state and one schema serves any number
 * of transports (HTTP, graphql-ws, the legacy protocol).
 */
import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';

export type { GraphQLContext } from './context';

/** Options of {@link buildSchema}. */
export interface BuildSchemaOptions {
  /** Also write the SDL to this file (`true` = schema/schema.graphql). */
  emitSchemaFile?: string | boolean;
}

/** Builds the schema (type-graphql 2, validation of inputs by the services). */
export async function buildSchema(opts: BuildSchemaOptions = {}): Promise<GraphQLSchema> {
  void opts;
  throw new Error('buildSchema: not implemented yet');
}
