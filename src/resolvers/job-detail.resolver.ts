/** A job's detail: its datums and log lines, as fields of Job (read only when asked for). */
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { DatumState } from '../pachyderm/types';
import type { GraphQLContext } from './context';
import { Datum, LogLine } from './job-detail.type';
import { Job } from './job.type';

/** `repo@commit:/path` of a datum's input file. */
function fileName(f: { file: { commit: { repo: { name: string }; id: string }; path: string } }) {
  return `${f.file.commit.repo.name}@${f.file.commit.id}:${f.file.path}`;
}

@Resolver(() => Job)
export class JobDetailResolver {
  @FieldResolver(() => [Datum], {
    description:
      "The job's datums (Pachyderm ListDatum), at most `first`. Errors: BAD_USER_INPUT for first outside 1…100.",
  })
  async datums(
    @Root() job: Job,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20, description: 'How many, 1…100.' }) first: number,
  ): Promise<Datum[]> {
    const list = await ctx.services.jobs.datums(job.pipeline, job.id, first);
    return list.map((d) => ({
      id: d.datum.id,
      state: DatumState[d.state] ?? 'UNKNOWN',
      files: d.data.map(fileName),
      processSeconds: d.stats ? d.stats.processTimeMs / 1000 : null,
    }));
  }

  @FieldResolver(() => [LogLine], {
    description:
      "The job's last `last` log lines (Pachyderm GetLogs), oldest first. Errors: BAD_USER_INPUT for last outside 1…1000.",
  })
  async logs(
    @Root() job: Job,
    @Ctx() ctx: GraphQLContext,
    @Arg('last', () => Int, { defaultValue: 100, description: 'How many, 1…1000.' }) last: number,
  ): Promise<LogLine[]> {
    const lines = await ctx.services.jobs.logs(job.pipeline, job.id, last);
    return lines.map((l) => ({
      ts: l.ts.toISOString(),
      message: l.message,
      datumId: l.datumId || null,
      user: l.user,
    }));
  }
}
