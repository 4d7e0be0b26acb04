/** Input of requestPredictions. Validation is done by the predictions service. */
import { Field, ID, InputType } from 'type-graphql';

@InputType({
  description:
    'One (user, movie) pair to estimate. Ids: 1–64 characters of letters, digits and _ . : @ -.',
})
export class PredictionPairInput {
  @Field(() => ID, { description: 'Raw user id.' })
  userId!: string;

  @Field(() => ID, { description: 'Raw movie id.' })
  movieId!: string;
}
