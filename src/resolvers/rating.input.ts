/** Input of addRatings. Validation (scale, ids, limits) is done by the ratings service. */
import { Field, Float, ID, InputType } from 'type-graphql';

@InputType({
  description:
    'One rating. Ids: 1–64 characters of letters, digits and _ . : @ - (no whitespace). Invalid items are reported as BAD_USER_INPUT naming their index; nothing of the call is committed then.',
})
export class RatingInput {
  @Field(() => ID, { description: 'Raw user id (MovieLens: 1…943).' })
  userId!: string;

  @Field(() => ID, { description: 'Raw movie id (MovieLens: 1…1682).' })
  movieId!: string;

  @Field(() => Float, {
    description:
      'The rating: a finite number within the rating scale, default [1, 5] (bounds included).',
  })
  rating!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'When the rating was given: whole seconds since 1970, 0…253402300799 (a Float so that dates after 2038 fit); default: now. The last rating sent for a (user, movie) pair wins, whatever its timestamp.',
  })
  timestamp?: number | null;
}
