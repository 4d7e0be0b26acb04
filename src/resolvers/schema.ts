/**
 * The executable GraphQL schema, built by type-graphql from the resolvers of this folder, and its
 * SDL (`schema/schema.graphql`, committed; `npm run schema` rewrites it; a test fails when it
 * drifts).
 *
 * Operations run with a context `{services}` ({@link GraphQLContext}); subscriptions read the
 * services' PubSub from it, so the schema holds no state and one schema serves any number of
 * transports (HTTP, graphql-ws, the legacy protocol). Errors are mapped to GraphQL codes in one
 * place: every resolver is wrapped once by `mapSchemaErrors` (errors.ts).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPubSub } from '@graphql-yoga/subscription';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema as buildTypeGraphQLSchema } from 'type-graphql';
import { mapSchemaErrors } from './errors';
import { CatalogResolver } from './catalog.resolver';
import { JobDetailResolver } from './job-detail.resolver';
import { PipelineResolver } from './pipeline.resolver';
import { JobResolver } from './job.resolver';
import { ModelResolver } from './model.resolver';
import { MovieResolver, UserRatingResolver, UserResolver } from './movie.resolver';
import { PredictionResolver } from './prediction.resolver';
import { RatingResolver } from './rating.resolver';
import { RepoResolver } from './repo.resolver';

export type { GraphQLContext } from './context';

/** Where the committed SDL lives. */
export const SCHEMA_FILE = path.resolve(__dirname, '../../schema/schema.graphql');

/** Header of the SDL file. */
const HEADER =
  '# The reelgraph GraphQL API. GENERATED from src/resolvers by `npm run schema`: do not edit.\n\n';

/** Options of {@link buildSchema}. */
export interface BuildSchemaOptions {
  /** Also write the SDL to this file (`true` = schema/schema.graphql). */
  emitSchemaFile?: string | boolean;
}

/** The SDL of a schema as committed: sorted, with the header. */
export function schemaSdl(schema: GraphQLSchema): string {
  return HEADER + printSchema(lexicographicSortSchema(schema)) + '\n';
}

/** Descriptions of the root types (type-graphql has no option for them). */
const ROOT_DESCRIPTIONS = {
  query:
    'Reads: prediction results, jobs, model versions, online predictions and recommendations of the serving model, the movie catalogue, users, repos and commits.',
  mutation:
    'Writes: each mutation commits ONE file to a repo (ratings to `training`, prediction requests to `streaming`), which starts a pipeline job. Invalid input commits nothing.',
  subscription:
    'Pushes: the answer to a prediction request, job state changes, new model versions.',
};

function describeRoots(schema: GraphQLSchema): void {
  const roots = [
    [schema.getQueryType(), ROOT_DESCRIPTIONS.query],
    [schema.getMutationType(), ROOT_DESCRIPTIONS.mutation],
    [schema.getSubscriptionType(), ROOT_DESCRIPTIONS.subscription],
  ] as const;
  for (const [type, description] of roots) if (type) type.description = description;
}

/** Builds the schema; see the module documentation. */
export async function buildSchema(opts: BuildSchemaOptions = {}): Promise<GraphQLSchema> {
  const schema = await buildTypeGraphQLSchema({
    resolvers: [
      RatingResolver,
      PredictionResolver,
      JobResolver,
      JobDetailResolver,
      ModelResolver,
      MovieResolver,
      UserResolver,
      UserRatingResolver,
      RepoResolver,
      CatalogResolver,
      PipelineResolver,
    ],
    // subscriptions use `subscribe` functions on the context's services; type-graphql requires a
    // PubSub all the same
    pubSub: createPubSub(),
    validate: false,
  });
  mapSchemaErrors(schema);
  describeRoots(schema);
  if (opts.emitSchemaFile) {
    const file = opts.emitSchemaFile === true ? SCHEMA_FILE : path.resolve(opts.emitSchemaFile);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, schemaSdl(schema));
  }
  return schema;
}
