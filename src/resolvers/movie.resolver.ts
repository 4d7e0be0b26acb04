/** The movie catalogue and users. */
import { Arg, Ctx, FieldResolver, Float, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { ValidationError } from '../services/errors';
import type { GraphQLContext } from './context';
import { toMovie, toMovieConnection, toUser } from './mappers';
import { Movie, MovieConnection, User, UserRating } from './movie.type';

@Resolver(() => Movie)
export class MovieResolver {
  @Query(() => MovieConnection, {
    description:
      'Movies of the catalogue in id order, filtered by title and genre, with cursor pagination. Errors: BAD_USER_INPUT for first outside 1…100 or a foreign cursor.',
  })
  async movies(
    @Ctx() ctx: GraphQLContext,
    @Arg('search', () => String, {
      nullable: true,
      description: 'Case-insensitive substring of the title.',
    })
    search?: string | null,
    @Arg('genre', () => String, {
      nullable: true,
      description: 'A genre name (case-insensitive), e.g. "Comedy".',
    })
    genre?: string | null,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size, 1…100.' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'A cursor from a previous page.' })
    after?: string | null,
  ): Promise<MovieConnection> {
    return toMovieConnection(await ctx.services.movies.movies({ search, genre, first, after }));
  }

  @Query(() => Movie, {
    nullable: true,
    description: 'One movie; null when the catalogue has no such id.',
  })
  async movie(
    @Arg('id', () => ID, { description: 'Raw movie id.' }) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Movie | null> {
    const m = await ctx.services.movies.movie(id);
    return m ? toMovie(m) : null;
  }

  @Query(() => [String], {
    description: 'The genres of the catalogue (e.g. "Comedy", "Film-Noir"), sorted by name.',
  })
  async genres(@Ctx() ctx: GraphQLContext): Promise<string[]> {
    return ctx.services.movies.genres();
  }

  @FieldResolver(() => Int, {
    description: "Number of ratings of the movie in the serving model's trainset.",
  })
  ratingsCount(@Root() movie: Movie, @Ctx() ctx: GraphQLContext): number {
    return ctx.services.movies.movieStats(movie.id).ratingsCount;
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description: "Mean rating of the movie in the serving model's trainset; null when unrated.",
  })
  meanRating(@Root() movie: Movie, @Ctx() ctx: GraphQLContext): number | null {
    return ctx.services.movies.movieStats(movie.id).meanRating;
  }
}

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, {
    nullable: true,
    description:
      "A user: demographics (u.user) and the ratings the serving model was fitted on (empty for a user only u.user knows); null when no such user (unknown to both the serving model's trainset and u.user). Errors: BAD_USER_INPUT for a bad id.",
  })
  async user(
    @Arg('id', () => ID, { description: 'Raw user id.' }) id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<User | null> {
    const u = await ctx.services.movies.user(id);
    return u ? toUser(u) : null;
  }

  @FieldResolver(() => [UserRating], {
    description: "The user's ratings in trainset order, `first` (1…100) after skipping `skip`.",
  })
  ratings(
    @Root() user: User,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 100, description: 'How many, 1…100.' }) first: number,
    @Arg('skip', () => Int, { defaultValue: 0, description: 'How many to skip (≥ 0).' })
    skip: number,
  ): UserRating[] {
    const max = ctx.services.config.maxPageSize;
    if (
      !Number.isInteger(first) ||
      first < 1 ||
      first > max ||
      !Number.isInteger(skip) ||
      skip < 0
    ) {
      throw new ValidationError('arguments', [
        {
          index: null,
          field: first < 1 || first > max ? 'first' : 'skip',
          message: `first must be in 1…${max} and skip >= 0, got first=${first}, skip=${skip}`,
        },
      ]);
    }
    return user.allRatings.slice(skip, skip + first);
  }
}

@Resolver(() => UserRating)
export class UserRatingResolver {
  @FieldResolver(() => Movie, {
    nullable: true,
    description: 'The rated movie; null when the catalogue lacks the id.',
  })
  async movie(@Root() r: UserRating, @Ctx() ctx: GraphQLContext): Promise<Movie | null> {
    const m = await ctx.services.movies.movie(r.movieId);
    return m ? toMovie(m) : null;
  }
}
