/** Repos and commits. */
import { filter, pipe } from '@graphql-yoga/subscription';
import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import type { CommitInfo } from '../pachyderm/types';
import { replayThenLive } from '../services/replay';
import type { GraphQLContext } from './context';
import { toCommit, toRepo } from './mappers';
import { Commit, Repo } from './repo.type';

@Resolver()
export class RepoResolver {
  @Query(() => [Repo], {
    description: 'The repos (user repos: training, streaming, train, predict), by name.',
  })
  async repos(@Ctx() ctx: GraphQLContext): Promise<Repo[]> {
    return (await ctx.services.repos.repos()).map(toRepo);
  }

  @Query(() => [Commit], {
    description:
      'Commits of a repo, newest first. Errors: NOT_FOUND for an unknown repo; BAD_USER_INPUT for first outside 1…100 or a repo that is not a plain name.',
  })
  async commits(
    @Arg('repo', {
      description:
        'Repo name, e.g. `train`: a plain name `[A-Za-z0-9_-]{1,51}` (no `project/` prefix).',
    })
    repo: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20, description: 'How many, 1…100.' }) first?: number,
  ): Promise<Commit[]> {
    return (await ctx.services.repos.commits(repo, { first })).map(toCommit);
  }

  @Subscription(() => Commit, {
    description:
      'Pushes each new commit of a repo once, when it is started (Pachyderm SubscribeCommit, state STARTED), from now on; with `after`, first replays the commits created after that one, oldest first, then goes live with no gap and no duplicate. Errors (before the stream starts): NOT_FOUND for an unknown repo or commit; BAD_USER_INPUT for a repo that is not a plain name, an `after` that is not 32 hex digits, or more than 100 commits since `after` (read them with commits).',
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<unknown, { repo: string; after?: string | null }, GraphQLContext>) => {
      const repo = await context.services.repos.checkRepo(args.repo);
      const live = pipe(
        context.services.events.subscribe('COMMIT_CREATED'),
        filter((c: CommitInfo) => c.commit.repo.name === repo),
      );
      if (args.after == null) return live;
      const after = args.after;
      return replayThenLive<CommitInfo>({
        live,
        history: () => context.services.repos.commitsSince(repo, after),
        covered: (history) => {
          const ids = new Set(history.map((c) => c.commit.id));
          return (c) => ids.has(c.commit.id);
        },
      });
    },
  })
  commitCreated(
    @Root() commit: CommitInfo,
    @Arg('repo', {
      description:
        'Repo name, e.g. `training`: a plain name `[A-Za-z0-9_-]{1,51}` (no `project/` prefix).',
    })
    _repo: string,
    @Arg('after', () => ID, {
      nullable: true,
      description:
        'A commit id (32 hex) of the repo: replay the commits created after it (excluded) before going live. At most 100 commits may have been created since.',
    })
    _after?: string | null,
  ): Commit {
    return toCommit(commit);
  }
}
