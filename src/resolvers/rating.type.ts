/** Output type of addRatings. */
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    'A batch of ratings committed as one file to the `training` repo; its commit starts a train job with the same id.',
})
export class RatingBatch {
  @Field(() => ID, {
    description: 'Batch id `<13-digit epoch ms>-<16 hex>`; the file is /batches/<id>.txt.',
  })
  id!: string;

  @Field({ description: 'Path of the batch file in the `training` repo.' })
  path!: string;

  @Field(() => ID, {
    description:
      'The `training` commit (32 hex) holding the batch; also the id of the train job it starts.',
  })
  commit!: string;

  @Field(() => Int, { description: 'Number of ratings in the batch (≥ 1).' })
  count!: number;

  @Field(() => Int, {
    description:
      "How many of these ratings replace a rating of the same user and movie that the serving model was fitted on: the last rating sent wins, whatever the timestamps, so they take the old ones' place in the next model. 0 before the first model.",
  })
  replaced!: number;

  @Field(() => [Int], {
    description:
      'Indexes (0-based) of ratings superseded by a later rating of the same user and movie in this same call: committed, but the later one counts. Empty when every pair is distinct.',
  })
  superseded!: number[];
}

@ObjectType({
  description:
    'A rating batch removed from the `training` repo: a new commit without its file (the history keeps it), which starts a train job with the same id.',
})
export class RatingBatchRemoval {
  @Field(() => ID, { description: 'The batch id.' })
  id!: string;

  @Field({ description: 'Path of the removed file.' })
  path!: string;

  @Field(() => ID, {
    description: 'The new `training` commit (32 hex); also the id of the train job that refits.',
  })
  commit!: string;

  @Field(() => Int, { description: 'Number of ratings the batch held.' })
  count!: number;
}
