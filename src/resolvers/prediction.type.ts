/** Output types of prediction requests, their results and online predictions. */
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Job } from './job.type';
import { PageInfo } from './page.type';
import { ModelSourceGql } from './enums';

@ObjectType({
  description:
    'A prediction request committed as one file at the root of the `streaming` repo; the predict job with the same id as its commit answers it (or, when no model existed yet, the job of the first model). Once answered it is retired from the head of `streaming`; its answer stays in the history.',
})
export class PredictionRequest {
  @Field(() => ID, {
    description:
      "The request id: 32 random hex digits (the id of the request's `streaming` commit), the request file's name, and the only way to read the answer (subscribeToPrediction, prediction).",
  })
  requestId!: string;

  @Field(() => ID, {
    description:
      'The `streaming` commit (32 hex) holding the request; also the id of the predict job that answers it.',
  })
  commit!: string;

  @Field(() => Int, { description: 'Number of pairs in the request (≥ 1).' })
  count!: number;
}

@ObjectType({ description: "One estimated rating (Surprise's Prediction)." })
export class Prediction {
  @Field(() => ID, { description: 'Raw user id, as requested.' })
  userId!: string;

  @Field(() => ID, { description: 'Raw movie id, as requested.' })
  movieId!: string;

  @Field(() => Float, {
    description: "The estimated rating (Surprise's `est`), clipped to the rating scale [1, 5].",
  })
  estimate!: number;

  @Field({
    description:
      "True when the user or the movie is unknown to the model: the estimate is then the algorithm's fallback (Surprise's `was_impossible`).",
  })
  wasImpossible!: boolean;

  @Field(() => ModelSourceGql, {
    description:
      "FOLDED_IN when the user rated since the model version's training commit and the estimate comes from their folded-in factors (reflecting those ratings at once; for a prediction request, the rating batches published with the model in the `models` repo when its predict job ran); TRAINED otherwise.",
  })
  modelSource!: ModelSourceGql;
}

@ObjectType({ description: 'A request line the predict program could not read.' })
export class PredictionLineError {
  @Field(() => Int, { description: '1-based line number in the request file.' })
  line!: number;

  @Field({ description: 'What is wrong with the line.' })
  message!: string;
}

@ObjectType({
  description:
    'The answer to a prediction request: pending (`ready: false`), answered (`predictions`), or failed (`ready: true` with `error`). The answer is the FIRST finished one: normally the output of the predict job covering the request (id = the request commit); when that job had no model yet (or failed), the first later job that answered it. Nothing re-answers it later.',
})
export class PredictionResult {
  @Field(() => ID, { description: 'The request id.' })
  requestId!: string;

  @Field({
    description:
      'True when answered, or failed with `error`. False while the predict job runs or the request waits for the first model.',
  })
  ready!: boolean;

  @Field(() => ID, {
    description: "The `streaming` commit holding the request (= the covering predict job's id).",
  })
  requestCommit!: string;

  @Field(() => [Prediction], {
    description: 'The estimates in request order (empty while pending or on error).',
  })
  predictions!: Prediction[];

  @Field(() => [PredictionLineError], {
    description: 'Request lines that could not be read (normally none).',
  })
  lineErrors!: PredictionLineError[];

  @Field(() => String, {
    nullable: true,
    description:
      'Why there is no answer: the predict job FAILED or was KILLED (with its reason) and no later job answered yet. Null otherwise.',
  })
  error!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The model version (`train` commit) whose model answered (named by the `models` commit the job read); null while pending or on error.',
  })
  modelVersion!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "The `training` commit of the newest rating batch folded into the model for this answer (the batches since the model's training commit, published with it in the `models` repo): its FOLDED_IN estimates reflect every batch up to that commit. Null when the answer is the trained model's alone, while pending or on error. Fixed forever, as the answer.",
  })
  foldedInThrough!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The `predict` commit holding the answer file; null while pending or on error.',
  })
  answerCommit!: string | null;

  @Field(() => Job, {
    nullable: true,
    description: 'The predict job covering the request; null before it exists.',
  })
  job!: Job | null;
}

@ObjectType({ description: 'An estimate computed online by the serving model.' })
export class OnlinePrediction extends Prediction {
  @Field(() => String, {
    nullable: true,
    description:
      'Why the estimate is a fallback (e.g. "User unknown"); null when wasImpossible is false.',
  })
  reason!: string | null;

  @Field(() => ID, { description: 'The model version (`train` commit) that answered.' })
  modelVersion!: string;
}

@ObjectType({
  description:
    'A past prediction request with its result: the answer and the model version that gave it (or pending / error).',
})
export class PastPrediction {
  @Field(() => ID, { description: 'The request id (= its `streaming` commit id).' })
  requestId!: string;

  @Field({ description: 'When the request was committed (ISO 8601).' })
  requestedAt!: Date;

  @Field(() => PredictionResult, {
    description: 'Its result, as `prediction(requestId)` gives it.',
  })
  result!: PredictionResult;
}

@ObjectType({ description: 'A past prediction request with its cursor.' })
export class PastPredictionEdge {
  @Field({ description: 'Opaque cursor: pass as `after` for the requests older than this one.' })
  cursor!: string;

  @Field(() => PastPrediction, { description: 'The request.' })
  node!: PastPrediction;
}

@ObjectType({
  description:
    'A page of past prediction requests, newest first. A page scans at most 1,000 requests: with a userId it may hold fewer than `first` (even none) while hasNextPage is true; go on from pageInfo.endCursor.',
})
export class PastPredictionConnection {
  @Field(() => [PastPredictionEdge], { description: 'The requests of this page with cursors.' })
  edges!: PastPredictionEdge[];

  @Field(() => [PastPrediction], { description: 'The requests of this page (same order).' })
  nodes!: PastPrediction[];

  @Field(() => PageInfo, {
    description: 'Whether more requests follow, and the cursor to get them.',
  })
  pageInfo!: PageInfo;
}
