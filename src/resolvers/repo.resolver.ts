/** Repos and commits. */
import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
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
}
