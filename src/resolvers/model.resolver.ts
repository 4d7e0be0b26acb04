/** Model versions and online answers of the serving model. */
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { ModelVersion as ModelVersionData } from '../services/types';
import { ModelNotReadyError } from '../services/errors';
import type { GraphQLContext } from './context';
import { toModelVersion, toMovie, toOnlinePrediction, toRecommendations } from './mappers';
import { ModelVersion } from './model.type';
import { Recommendations, SimilarMovies } from './movie.type';
import { OnlinePrediction } from './prediction.type';

@Resolver()
export class ModelResolver {
  @Query(() => ModelVersion, {
    description:
      'One model version; without `version`, the serving one. Errors: NOT_FOUND for a version that is not a finished train commit with a model; MODEL_NOT_READY when no model is served yet.',
  })
  async model(
    @Ctx() ctx: GraphQLContext,
    @Arg('version', () => ID, { nullable: true, description: 'A `train` commit id (32 hex).' })
    version?: string | null,
  ): Promise<ModelVersion> {
    const models = ctx.services.models;
    const v = version ?? models.currentVersion();
    if (v === null) throw new ModelNotReadyError();
    return toModelVersion(
      await models.model(v),
      models.currentVersion(),
      models.servingReason(),
      models.newerFailedJob(),
    );
  }

  @Mutation(() => ModelVersion, {
    nullable: true,
    description:
      'Pins the serving model to `version` (a rollback to an older model, or holding one while newer ones are trained), or unpins it with `version: null` (the newest model serves again). The pin is committed to the `serving` repo (/pin.json), so every replica and every restart agree; modelUpdated pushes the model now serving with its servingReason. Answers the model now serving (null when unpinned before any model exists). Errors: NOT_FOUND when `version` is not a finished train commit with a model (nothing changes).',
  })
  async serveModel(
    @Ctx() ctx: GraphQLContext,
    @Arg('version', () => ID, {
      nullable: true,
      description: 'A model version (`train` commit id, 32 hex); null to unpin.',
    })
    version: string | null,
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why (kept with the pin, at most 500 characters).',
    })
    reason?: string | null,
  ): Promise<ModelVersion | null> {
    const models = ctx.services.models;
    const v = await models.serveModel(version ?? null, reason);
    return v === null
      ? null
      : toModelVersion(await models.model(v), v, models.servingReason(), models.newerFailedJob());
  }

  @Query(() => [ModelVersion], {
    description: 'Model versions, newest first. Errors: BAD_USER_INPUT for first outside 1…100.',
  })
  async models(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20, description: 'How many, 1…100.' }) first?: number,
  ): Promise<ModelVersion[]> {
    const current = ctx.services.models.currentVersion();
    const reason = ctx.services.models.servingReason();
    const failed = ctx.services.models.newerFailedJob();
    return (await ctx.services.models.models({ first })).map((m) =>
      toModelVersion(m, current, reason, failed),
    );
  }

  @Subscription(() => ModelVersion, {
    description:
      'Pushes each model version once it is served: after a train job finished and its model was loaded and swapped in, or after serveModel pinned or unpinned one (servingReason says which); and the serving version again when a newer train job failed (its newerFailedJob says which; the serving version keeps answering).',
    subscribe: async ({ context }: SubscribeResolverData<unknown, object, GraphQLContext>) =>
      context.services.events.subscribe('MODEL_UPDATED'),
  })
  modelUpdated(@Root() model: ModelVersionData, @Ctx() ctx: GraphQLContext): ModelVersion {
    return toModelVersion(
      model,
      model.version,
      model.servingReason ?? null,
      ctx.services.models.newerFailedJob(),
    );
  }

  @Query(() => OnlinePrediction, {
    description:
      "The serving model's estimate for one (user, movie) pair — the same value the predict pipeline computes with that model version. Errors: BAD_USER_INPUT for a bad id; MODEL_NOT_READY.",
  })
  async predict(
    @Arg('userId', () => ID, { description: 'Raw user id.' }) userId: string,
    @Arg('movieId', () => ID, { description: 'Raw movie id.' }) movieId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<OnlinePrediction> {
    return toOnlinePrediction(await ctx.services.models.predict(userId, movieId));
  }

  @Query(() => Recommendations, {
    description:
      "Top-N movies for a user by the serving model, with titles: ranked by the ranker of the serving model version when the train pipeline fitted one (EASE by default; `rankedBy` says which), else by the rating model's estimates; each with `because` (the user's rated movies behind it). Errors: BAD_USER_INPUT for a bad id or first outside 1…100; MODEL_NOT_READY.",
  })
  async recommendations(
    @Arg('userId', () => ID, { description: 'Raw user id.' }) userId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many movies, 1…100.' })
    first?: number,
    @Arg('excludeRated', {
      defaultValue: true,
      description: 'Leave out the movies the user rated.',
    })
    excludeRated?: boolean,
    @Arg('genre', () => String, {
      nullable: true,
      description: 'Only movies of this genre (case-insensitive, as `movies(genre)`).',
    })
    genre?: string | null,
  ): Promise<Recommendations> {
    return toRecommendations(
      await ctx.services.models.recommendations(userId, { first, excludeRated, genre }),
    );
  }

  @Query(() => SimilarMovies, {
    description:
      'The movies most similar to one movie by the ranker of the serving model version (EASE: the largest item-item weights; iALS/BPR: the nearest item factors; ItemKNN: its neighbours). Errors: BAD_USER_INPUT for a bad id or first outside 1…100; MODEL_NOT_READY; NOT_FOUND when the serving model has no ranker or does not know the movie.',
  })
  async similarMovies(
    @Arg('movieId', () => ID, { description: 'Raw movie id.' }) movieId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 10, description: 'How many movies, 1…100.' })
    first?: number,
  ): Promise<SimilarMovies> {
    const r = await ctx.services.models.similarMovies(movieId, { first });
    return {
      ...r,
      items: r.items.map((s) => ({ ...s, movie: s.movie ? toMovie(s.movie) : null })),
    };
  }
}
