/** updatePipeline: the train pipeline's algorithm and parameters (Pachyderm's UpdatePipeline). */
import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { validateName } from '../services/validation';
import { ValidationError } from '../services/errors';
import type { GraphQLContext } from './context';

@ObjectType({
  description:
    'The train pipeline after an update: its new version, whose first job refits the model on the current training data.',
})
export class PipelineUpdate {
  @Field({ description: 'The pipeline (`train`).' })
  pipeline!: string;

  @Field(() => Int, {
    description: 'Its new version (jobs and models show it as pipelineVersion).',
  })
  version!: number;

  @Field({ description: 'The algorithm (registry name), e.g. `SVDpp`.' })
  algorithm!: string;

  @Field(() => GraphQLJSONObject, { description: 'The hyper-parameters as given.' })
  params!: Record<string, unknown>;

  @Field(() => Int, { description: 'The seed (REELGRAPH_SEED) of the pipeline after the update.' })
  seed!: number;
}

@Resolver()
export class PipelineResolver {
  @Mutation(() => PipelineUpdate, {
    description:
      "Changes the train pipeline's algorithm and hyper-parameters: Pachyderm's UpdatePipeline with reprocess — a new pipeline version, and a train job that refits on the current training data (the new model is announced by modelUpdated; its `algorithm` and `pipelineVersion` say so). The parameters are checked against the algorithm's parameter specs first. Errors: BAD_USER_INPUT naming `algorithm` (unknown), `params.<name>` (unknown parameter or bad value) or `seed`, with nothing changed; NOT_FOUND for a pipeline other than train.",
  })
  async updatePipeline(
    @Ctx() ctx: GraphQLContext,
    @Arg('algorithm', { description: 'Registry name, e.g. SVD, SVDpp, NMF, KNNBaseline.' })
    algorithm: string,
    @Arg('params', () => GraphQLJSONObject, {
      nullable: true,
      description: 'Hyper-parameters, camelCase Surprise names, e.g. {"nFactors": 50}; default {}.',
    })
    params?: Record<string, unknown> | null,
    @Arg('seed', () => Int, {
      nullable: true,
      description: 'The random seed (0…2³²−1; GraphQL Int stops at 2³¹−1); default: unchanged.',
    })
    seed?: number | null,
    @Arg('pipeline', { defaultValue: 'train', description: 'The pipeline: only `train`.' })
    pipeline?: string,
  ): Promise<PipelineUpdate> {
    const name = validateName(pipeline ?? 'train', 'pipeline');
    if (name !== ctx.services.config.trainRepo) {
      throw new ValidationError('arguments', [
        {
          index: null,
          field: 'pipeline',
          message: `only the train pipeline (${ctx.services.config.trainRepo}) takes an algorithm, got ${JSON.stringify(name)}`,
        },
      ]);
    }
    return ctx.services.pipelines.updateTrain({ algorithm, params: params ?? {}, seed });
  }
}
