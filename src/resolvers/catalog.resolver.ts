/** upsertMovies, upsertUsers: validate (catalogue service), commit one CSV file, map. */
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from './context';
import { MovieInput, UserInput } from './catalog.input';
import { CatalogUpdate } from './catalog.type';

@Resolver()
export class CatalogResolver {
  @Mutation(() => CatalogUpdate, {
    description:
      "Adds or replaces movies of the catalogue: commits them as ONE `/movies/<epoch ms>-<hex>.csv` file (header movieId,title,genres,year[,extra…]) to the `training` repo; later files override earlier rows with the same id. The movies serve `movies`, `movie` and the titles of `recommendations` at once. At most 10 000 items (config). Errors: BAD_USER_INPUT naming every bad item's index and field (id, title, genres, year, extra); nothing is committed then.",
  })
  async upsertMovies(
    @Arg('movies', () => [MovieInput], { description: 'The movies (1…10 000).' })
    movies: MovieInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<CatalogUpdate> {
    return { ...(await ctx.services.movies.upsertMovies(movies)) };
  }

  @Mutation(() => CatalogUpdate, {
    description:
      "Adds or replaces users of the catalogue (their attributes): commits them as ONE `/users/<epoch ms>-<hex>.csv` file (header userId[,attribute…]) to the `training` repo. At most 10 000 items (config). Errors: BAD_USER_INPUT naming every bad item's index and field; nothing is committed then.",
  })
  async upsertUsers(
    @Arg('users', () => [UserInput], { description: 'The users (1…10 000).' })
    users: UserInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<CatalogUpdate> {
    return { ...(await ctx.services.movies.upsertUsers(users)) };
  }
}
