/** Output types of jobs and commit references. */
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { JobStateGql } from './enums';
import { PageInfo } from './page.type';

@ObjectType({ description: 'A reference to a commit: repo and id.' })
export class CommitRef {
  @Field({ description: 'Repo name, e.g. `training`.' })
  repo!: string;

  @Field(() => ID, { description: 'Commit id (32 hex).' })
  id!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The branch the commit was made on (e.g. `master`).',
  })
  branch!: string | null;
}

@ObjectType({
  description:
    "A job of a pipeline (Pachyderm's JobInfo): one run over one commit set. Its id is the commit set id, equal to the input commit that triggered it and to its output commit.",
})
export class Job {
  @Field(() => ID, { description: 'The job id (32 hex) = commit set id.' })
  id!: string;

  @Field({ description: 'The pipeline: `train` or `predict`.' })
  pipeline!: string;

  @Field(() => Int, { description: 'Version of the pipeline spec the job ran with (from 1).' })
  pipelineVersion!: number;

  @Field(() => JobStateGql, { description: 'Current state.' })
  state!: JobStateGql;

  @Field({ description: 'Why the job FAILED, was KILLED or is UNRUNNABLE; empty otherwise.' })
  reason!: string;

  @Field({ description: 'When the job was created (ISO 8601).' })
  created!: Date;

  @Field(() => Date, { nullable: true, description: 'When it started running; null before.' })
  started!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When it reached a terminal state; null before.',
  })
  finished!: Date | null;

  @Field(() => Int, { description: 'Datums of the job.' })
  dataTotal!: number;

  @Field(() => Int, { description: 'Datums processed successfully by this job.' })
  dataProcessed!: number;

  @Field(() => Int, { description: 'Datums skipped: processed by an earlier job, unchanged.' })
  dataSkipped!: number;

  @Field(() => Int, { description: 'Datums that failed.' })
  dataFailed!: number;

  @Field(() => Int, { description: 'Datums that failed but were recovered by errCmd.' })
  dataRecovered!: number;

  @Field(() => Int, { description: 'How many times the job was restarted (e.g. after a crash).' })
  restart!: number;

  @Field(() => [CommitRef], {
    description: "The input commits the job read (its output commit's direct provenance).",
  })
  inputCommits!: CommitRef[];

  @Field(() => CommitRef, { description: 'The output commit (same id as the job).' })
  outputCommit!: CommitRef;
}

@ObjectType({ description: 'A job and its cursor.' })
export class JobEdge {
  @Field({ description: 'Opaque cursor: pass as `after` for the jobs after this one.' })
  cursor!: string;

  @Field(() => Job, { description: 'The job.' })
  node!: Job;
}

@ObjectType({ description: 'A page of jobs, newest first.' })
export class JobConnection {
  @Field(() => [JobEdge], { description: 'The jobs of this page with their cursors.' })
  edges!: JobEdge[];

  @Field(() => [Job], { description: 'The jobs of this page (same order as edges).' })
  nodes!: Job[];

  @Field(() => PageInfo, { description: 'Whether more jobs follow, and the cursor to get them.' })
  pageInfo!: PageInfo;
}
