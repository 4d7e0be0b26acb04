/** Prediction requests: the mutation, the polling query and the one-shot subscription. */
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { PredictionResult as PredictionResultData } from '../services/types';
import type { GraphQLContext } from './context';
import { toPastPredictionConnection, toPredictionRequest, toPredictionResult } from './mappers';
import { PredictionPairInput } from './prediction.input';
import { PastPredictionConnection, PredictionRequest, PredictionResult } from './prediction.type';

@Resolver()
export class PredictionResolver {
  @Mutation(() => PredictionRequest, {
    description:
      "Requests predictions: commits ONE request file to the `streaming` repo, which starts a predict job answering it with the published model (the last successful train job's, or the pinned one; a failed train job changes nothing). Before the first model exists the request waits for it. Read the answer with subscribeToPrediction (pushed when the job finishes) or prediction (polling). Errors: BAD_USER_INPUT naming every bad pair's index; INSUFFICIENT_STORAGE (HTTP 507) when the data directory is full or below its free-space floor, naming it and its free space; nothing is committed then.",
  })
  async requestPredictions(
    @Arg('pairs', () => [PredictionPairInput], {
      description: 'The (user, movie) pairs (1…10 000).',
    })
    pairs: PredictionPairInput[],
    @Ctx() ctx: GraphQLContext,
  ): Promise<PredictionRequest> {
    return toPredictionRequest(await ctx.services.predictions.requestPredictions(pairs));
  }

  @Query(() => PredictionResult, {
    description:
      'The result of a prediction request by polling: `ready: false` while it waits for its predict job (or for the first model); once answered, always the answer and model version first given. Errors: NOT_FOUND for an unknown request id.',
  })
  async prediction(
    @Arg('requestId', () => ID, { description: 'The id returned by requestPredictions.' })
    requestId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PredictionResult> {
    return toPredictionResult(await ctx.services.predictions.getResult(requestId));
  }

  @Query(() => PastPredictionConnection, {
    description:
      'Past prediction requests, newest first, with their answers and the model version that gave each (the answer first given: a later model never changes it). Cursor pagination; a page scans at most 1,000 requests, so with userId it may be short (even empty) while pageInfo.hasNextPage is true. Requests made before the version that keeps this history are not listed (they stay readable with prediction). Errors: BAD_USER_INPUT for a bad userId, first outside 1…100 or a foreign cursor.',
  })
  async predictionHistory(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID, {
      nullable: true,
      description: 'Only requests with at least one pair of this user (raw id).',
    })
    userId?: string | null,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size, 1…100.' }) first?: number,
    @Arg('after', () => String, {
      nullable: true,
      description: 'A cursor from a previous page (pageInfo.endCursor): older requests.',
    })
    after?: string | null,
  ): Promise<PastPredictionConnection> {
    return toPastPredictionConnection(
      await ctx.services.predictions.history({ userId, first, after }),
    );
  }

  @Subscription(() => PredictionResult, {
    description:
      'Pushes the result of a prediction request ONCE, as soon as a predict job answered it — at once if one already has, however old the request (a late subscriber gets the answer and model version first given) — then completes. A request made before any model exists waits for the first model. A FAILED or KILLED predict job pushes a result with `error`: never an endless wait. Errors: NOT_FOUND for an unknown request id.',
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<unknown, { requestId: string }, GraphQLContext>) =>
      context.services.predictions.watchResult(args.requestId),
  })
  subscribeToPrediction(
    @Root() result: PredictionResultData,
    @Arg('requestId', () => ID, { description: 'The id returned by requestPredictions.' })
    _requestId: string,
  ): PredictionResult {
    return toPredictionResult(result);
  }
}
