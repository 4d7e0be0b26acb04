/** addRatings: validate (ratings service), commit one batch, map. */
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from './context';
import { toRatingBatch } from './mappers';
import { RatingInput } from './rating.input';
import { RatingBatch } from './rating.type';

@Resolver()
export class RatingResolver {
  @Mutation(() => RatingBatch, {
    description:
      "Adds ratings: commits them as ONE batch file to the `training` repo, which starts a train job (the new model is announced by modelUpdated). At most 10 000 items (config). Errors: BAD_USER_INPUT naming every bad item's index and field (rating off the scale or not finite, empty/over-long/unsafe id, bad timestamp, empty or too long list); INSUFFICIENT_STORAGE (HTTP 507) when the data directory is full or below its free-space floor, naming it and its free space; nothing is committed then.",
  })
  async addRatings(
    @Arg('ratings', () => [RatingInput], { description: 'The ratings (1…10 000).' })
    ratings: RatingInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<RatingBatch> {
    return toRatingBatch(await ctx.services.ratings.addRatings(ratings));
  }
}
