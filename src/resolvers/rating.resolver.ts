/** addRatings: validate (ratings service), commit one batch, map. */
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from './context';
import { toRatingBatch } from './mappers';
import { RatingInput } from './rating.input';
import { RatingBatch, RatingBatchRemoval } from './rating.type';

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

  @Mutation(() => RatingBatchRemoval, {
    description:
      'Rolls the training data back by removing one rating batch (an addRatings call, or a POST /train): a new `training` commit deletes /batches/<id>.txt — history is never rewritten, older commits and models keep it — and its train job fits a new model without those ratings (announced by modelUpdated). Errors: BAD_USER_INPUT for a malformed id; NOT_FOUND when the training head has no such batch.',
  })
  async removeRatingBatch(
    @Arg('id', () => ID, { description: 'The batch id `<13-digit epoch ms>-<16 hex>`.' })
    id: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RatingBatchRemoval> {
    const r = await ctx.services.ratings.removeBatch(id);
    return { id: r.batchId, path: r.path, commit: r.commit, count: r.count };
  }
}
