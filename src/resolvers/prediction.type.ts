/** Output types of prediction requests, their results and online predictions. */
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Job } from './job.type';

@ObjectType({
  description:
    'A prediction request committed as one file at the root of the `streaming` repo; the predict job with the same id as its commit answers it.',
})
export class PredictionRequest {
  @Field(() => ID, {
    description:
      "The request id: 32 random hex digits, the request file's name, and the only way to read the answer (subscribeToPrediction, prediction).",
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
    'The answer to a prediction request: pending (`ready: false`), answered (`predictions`), or failed (`ready: true` with `error`). The answer is the FIRST finished one: the output of the predict job covering the request (id = the request commit); later re-answers after a retrain do not change it.',
})
export class PredictionResult {
  @Field(() => ID, { description: 'The request id.' })
  requestId!: string;

  @Field({
    description:
      'True when the result is final: answered, or failed with `error`. False while the predict job runs.',
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
      'Why there is no answer: the predict job FAILED, was KILLED or is UNRUNNABLE (with its reason). Null otherwise.',
  })
  error!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'The model version (`train` commit) whose model answered; null while pending or on error.',
  })
  modelVersion!: string | null;

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
