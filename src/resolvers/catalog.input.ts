/** Inputs of upsertMovies and upsertUsers. Validation (ids, lengths, limits) is the catalogue's. */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int } from 'type-graphql';

@InputType({
  description:
    'One movie of the catalogue: a row of a `/movies/*.csv` file of the `training` repo. An id the catalogue has is replaced (every field, extra columns included). Invalid items are BAD_USER_INPUT naming their index and field; nothing of the call is committed then.',
})
export class MovieInput {
  @Field(() => ID, {
    description:
      'Raw movie id, as in the ratings: 1–64 characters of letters, digits and _ . : @ - ("0101" and "101" are two movies).',
  })
  id!: string;

  @Field({ description: 'The title, 1–500 characters, no line break, e.g. "Toy Story (1995)".' })
  title!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Genre names (at most 32, each 1–64 characters without "|"); default none.',
  })
  genres?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Release year, 0…9999; null when unknown.' })
  year?: number | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Extra columns, name → text (at most 32; names [A-Za-z][A-Za-z0-9_]{0,63} other than movieId, title, genres, year; values at most 1000 characters, no line break), e.g. {"director": "John Lasseter"}.',
  })
  extra?: Record<string, unknown> | null;
}

@InputType({
  description:
    'One user of the catalogue: a row of a `/users/*.csv` file of the `training` repo. An id the catalogue has gets these attributes (replacing the old ones). Invalid items are BAD_USER_INPUT naming their index and field; nothing is committed then.',
})
export class UserInput {
  @Field(() => ID, {
    description:
      'Raw user id, as in the ratings (1–64 characters of letters, digits and _ . : @ -).',
  })
  id!: string;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Attributes, name → text or number (at most 32; names [A-Za-z][A-Za-z0-9_]{0,63} other than userId; values at most 1000 characters, no line break), e.g. {"age": 24, "gender": "M", "occupation": "technician", "zip": "85711"}.',
  })
  attributes?: Record<string, unknown> | null;
}
