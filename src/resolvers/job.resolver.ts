/** Jobs: history with cursors, one job, state changes. */
import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { isTerminalJobState, type JobInfo, JobState } from '../pachyderm/types';
import { replayThenLive } from '../services/replay';
import type { GraphQLContext } from './context';
import { JobStateGql } from './enums';
import { fromJobStateGql, toJob, toJobConnection } from './mappers';
import { Job, JobConnection } from './job.type';

@Resolver()
export class JobResolver {
  @Query(() => JobConnection, {
    description:
      'Jobs of the pipelines, newest first, with cursor pagination. Errors: BAD_USER_INPUT for first outside 1…100, a foreign cursor or a pipeline that is not a plain name; NOT_FOUND for an unknown pipeline.',
  })
  async jobHistory(
    @Ctx() ctx: GraphQLContext,
    @Arg('pipeline', () => String, {
      nullable: true,
      description:
        'Only this pipeline (`train`, `predict`). A plain pipeline name `[A-Za-z0-9_-]{1,51}` (no `project/` prefix).',
    })
    pipeline?: string | null,
    @Arg('state', () => JobStateGql, { nullable: true, description: 'Only jobs in this state.' })
    state?: JobStateGql | null,
    @Arg('first', () => Int, { defaultValue: 20, description: 'Page size, 1…100.' }) first?: number,
    @Arg('after', () => String, {
      nullable: true,
      description: 'A cursor from a previous page: jobs after (older than) it.',
    })
    after?: string | null,
  ): Promise<JobConnection> {
    return toJobConnection(
      await ctx.services.jobs.jobHistory({
        pipeline,
        state: state ? fromJobStateGql(state) : null,
        first,
        after,
      }),
    );
  }

  @Query(() => Job, {
    description:
      "One job by id (= its commit set id): a training commit's id names its train job, a request's or a `models` commit's id its predict job. Errors: NOT_FOUND; BAD_USER_INPUT when the id names jobs of several pipelines (a commit set reaching more than one) and pipeline is missing.",
  })
  async job(
    @Arg('id', () => ID, { description: 'The job id (32 hex).' }) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('pipeline', () => String, {
      nullable: true,
      description:
        'The pipeline, when the id is ambiguous. A plain pipeline name `[A-Za-z0-9_-]{1,51}` (no `project/` prefix).',
    })
    pipeline?: string | null,
  ): Promise<Job> {
    return toJob(await ctx.services.jobs.job(id, pipeline));
  }

  @Subscription(() => Job, {
    description:
      "Pushes every state change of every job (or of one pipeline's jobs), from now on; with `after`, first replays the job `after` and every job created since, oldest first, in their current state, then goes live with no gap and no duplicate. Errors (before the stream starts): NOT_FOUND for an unknown pipeline or job; BAD_USER_INPUT for a pipeline that is not a plain name, an `after` that is not 32 hex digits, or more than 100 jobs since `after` (read them with jobHistory).",
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<
      unknown,
      { pipeline?: string | null; after?: string | null },
      GraphQLContext
    >) => {
      // Before the stream starts: an unknown pipeline is NOT_FOUND, a bad name BAD_USER_INPUT.
      if (args.pipeline != null) await context.services.jobs.checkPipeline(args.pipeline);
      const live = pipe(
        context.services.events.subscribe('JOB_UPDATED'),
        filter((j: JobInfo) => args.pipeline == null || j.job.pipeline.name === args.pipeline),
      );
      if (args.after == null) return live;
      const after = args.after;
      return replayThenLive<JobInfo>({
        live,
        history: () => context.services.jobs.jobsSince(after, args.pipeline),
        covered: (history) => {
          // a live state no later than the replayed one of the same job adds nothing
          const replayed = new Map(history.map((j) => [jobKey(j), stateRank(j.state)]));
          return (j) => (replayed.get(jobKey(j)) ?? 0) >= stateRank(j.state);
        },
      });
    },
  })
  jobUpdated(
    @Root() job: JobInfo,
    @Arg('pipeline', () => String, {
      nullable: true,
      description:
        'Only this pipeline. A plain pipeline name `[A-Za-z0-9_-]{1,51}` (no `project/` prefix).',
    })
    _pipeline?: string | null,
    @Arg('after', () => ID, {
      nullable: true,
      description:
        'A job id (32 hex): replay from this job (included; the newest job with that id) before going live. At most 100 jobs may have been created since.',
    })
    _after?: string | null,
  ): Job {
    return toJob(job);
  }
}

/** A job's key: `pipeline@id`. */
const jobKey = (j: JobInfo) => `${j.job.pipeline.name}@${j.job.id}`;

/**
 * The order of job states in a job's life (Pachyderm's JobState): CREATED < STARTING < RUNNING <
 * EGRESSING < FINISHING < any terminal state.
 */
function stateRank(s: JobState): number {
  if (isTerminalJobState(s)) return 6;
  switch (s) {
    case JobState.JOB_CREATED:
      return 1;
    case JobState.JOB_STARTING:
      return 2;
    case JobState.JOB_RUNNING:
      return 3;
    case JobState.JOB_EGRESSING:
      return 4;
    case JobState.JOB_FINISHING:
      return 5;
    default:
      return 0;
  }
}
