/** Prediction requests: the mutation, the polling query and the one-shot subscription. */
import { Arg, Ctx, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { PredictionResult as PredictionResultData } from '../services/types';
import type { GraphQLContext } from './context';
import { toPredictionRequest, toPredictionResult } from './mappers';
import { PredictionPairInput } from './prediction.input';
import { PredictionRequest, PredictionResult } from './prediction.type';

@Resolver()
export class PredictionResolver {
  @Mutation(() => PredictionRequest, {
    description:
      "Requests predictions: commits ONE request file to the `streaming` repo, which starts a predict job. Read the answer with subscribeToPrediction (pushed when the job finishes) or prediction (polling). Errors: BAD_USER_INPUT naming every bad pair's index; INSUFFICIENT_STORAGE (HTTP 507) when the data directory is full or below its free-space floor, naming it and its free space; nothing is committed then.",
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
      'The result of a prediction request by polling: `ready: false` while its predict job runs. Errors: NOT_FOUND for an unknown request id.',
  })
  async prediction(
    @Arg('requestId', () => ID, { description: 'The id returned by requestPredictions.' })
    requestId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PredictionResult> {
    return toPredictionResult(await ctx.services.predictions.getResult(requestId));
  }

  @Subscription(() => PredictionResult, {
    description:
      'Pushes the result of a prediction request ONCE, as soon as the predict job covering it finishes — at once if it already has (so a client that reconnects and subscribes again still gets it) — then completes. A FAILED, KILLED or UNRUNNABLE job pushes a result with `error`: never an endless wait. Errors: NOT_FOUND for an unknown request id.',
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
