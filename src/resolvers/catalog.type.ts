/** Output type of upsertMovies and upsertUsers. */
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    'Catalogue rows committed as one CSV file to the `training` repo (`/movies/<name>.csv` or `/users/<name>.csv`).',
})
export class CatalogUpdate {
  @Field({ description: 'Path of the new file in the `training` repo.' })
  path!: string;

  @Field(() => ID, { description: 'The `training` commit (32 hex) holding the file.' })
  commit!: string;

  @Field(() => Int, { description: 'Number of rows written (≥ 1).' })
  count!: number;

  @Field(() => Int, {
    description: 'How many of them replace a movie (or user) the catalogue already had.',
  })
  replaced!: number;
}
