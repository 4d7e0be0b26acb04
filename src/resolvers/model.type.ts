/** Output type of model versions. */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Job } from './job.type';

@ObjectType({
  description:
    'The ranker a train job fitted beside its rating model (its `ranker.json`); recommendations and similarMovies rank with it.',
})
export class RankerVersion {
  @Field({ description: 'Ranker name: EASE, iALS, BPR, ItemKNN or MostPopular.' })
  name!: string;

  @Field(() => GraphQLJSONObject, {
    description: 'Its hyper-parameters as the train job recorded them, e.g. {"lambda": 500}.',
  })
  params!: Record<string, unknown>;

  @Field(() => Float, { nullable: true, description: 'Wall time of its fit, seconds.' })
  fitSeconds!: number | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 (hex) of ranker.rgr.' })
  rankerSha256!: string | null;
}

@ObjectType({
  description:
    'A model version: a finished commit of the `train` repo holding model.rgm, with the figures of its metrics.json and manifest.json.',
})
export class ModelVersion {
  @Field(() => ID, { description: 'The version: the `train` commit id (32 hex).' })
  version!: string;

  @Field({ description: 'Algorithm (registry name), e.g. `SVD`.' })
  algorithm!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      'The hyper-parameters, e.g. {"nFactors": 100, "randomState": 0} (camelCase Surprise names).',
  })
  params!: Record<string, unknown>;

  @Field(() => Int, {
    description:
      'Ratings the model was fitted on (one per user and movie: the last one sent wins).',
  })
  ratingsCount!: number;

  @Field(() => Int, {
    nullable: true,
    description:
      'Rating lines of the training data dropped because a later rating of the same user and movie won (the last one sent wins); null for a model whose metrics do not say.',
  })
  duplicatesReplaced!: number | null;

  @Field(() => Int, { description: 'Users in the trainset.' })
  usersCount!: number;

  @Field(() => Int, { description: 'Movies in the trainset.' })
  itemsCount!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'RMSE on a seeded ~10% holdout (a separate fit on the other ~90%); a rating held out once stays held out in later versions, so versions compare. Null when either side would be empty (tiny data sets).',
  })
  holdoutRmse!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'MAE on the same holdout; null when holdoutRmse is.',
  })
  holdoutMae!: number | null;

  @Field(() => Int, { nullable: true, description: 'Number of holdout ratings.' })
  holdoutTestSize!: number | null;

  @Field(() => Float, { nullable: true, description: 'Wall time of the full fit, seconds.' })
  fitSeconds!: number | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The `training` commit the model was fitted on.',
  })
  trainingCommit!: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'The version of the train pipeline whose job fitted the model (it grows with each updatePipeline); null when unknown.',
  })
  pipelineVersion!: number | null;

  @Field(() => String, { nullable: true, description: 'SHA-256 (hex) of model.rgm.' })
  modelSha256!: string | null;

  @Field({ description: 'When the train commit was created (ISO 8601).' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the train commit finished (ISO 8601).' })
  finishedAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why this version serves, when it does: "newest successful train commit", or "pinned at <time>: <reason>" after serveModel. Null for a version that does not serve.',
  })
  servingReason!: string | null;

  @Field(() => RankerVersion, {
    nullable: true,
    description:
      'The ranker fitted beside the model in the same train commit (EASE by default, `REELGRAPH_RANKER`); null when the commit holds none: recommendations then rank by the rating model.',
  })
  ranker!: RankerVersion | null;

  @Field({ description: 'True when this version is the one serving predict/recommendations now.' })
  serving!: boolean;

  @Field(() => Job, {
    nullable: true,
    description:
      'On the serving version only: the newest train job when it ended FAILURE, KILLED or UNRUNNABLE after this version was made — the newest version failed and this one keeps serving (and answering prediction requests). Null when the newest train job succeeded, and on other versions.',
  })
  newerFailedJob!: Job | null;
}
