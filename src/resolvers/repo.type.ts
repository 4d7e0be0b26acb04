/** Output types of repos and commits. */
import { Field, Float, ID, ObjectType } from 'type-graphql';
import { CommitOriginGql } from './enums';
import { CommitRef } from './job.type';

@ObjectType({
  description: "A repo (Pachyderm's RepoInfo): `training`, `streaming`, `train`, `predict`.",
})
export class Repo {
  @Field({ description: 'Repo name.' })
  name!: string;

  @Field({ description: 'Description (empty when none).' })
  description!: string;

  @Field({ description: 'When the repo was created (ISO 8601).' })
  created!: Date;

  @Field(() => Float, {
    description: 'Size in bytes of the head of `master` (an upper bound; 0 when empty).',
  })
  sizeBytes!: number;

  @Field(() => [String], { description: 'Branch names, sorted.' })
  branches!: string[];
}

@ObjectType({ description: "A commit (Pachyderm's CommitInfo)." })
export class Commit {
  @Field(() => ID, { description: 'Commit id (32 hex).' })
  id!: string;

  @Field({ description: 'Repo name.' })
  repo!: string;

  @Field(() => String, { nullable: true, description: 'Branch it was made on.' })
  branch!: string | null;

  @Field(() => CommitOriginGql, { description: 'USER (a client) or AUTO (a pipeline job).' })
  origin!: CommitOriginGql;

  @Field({ description: 'Description (empty when none).' })
  description!: string;

  @Field(() => ID, { nullable: true, description: 'Parent commit id; null for the first commit.' })
  parent!: string | null;

  @Field({ description: 'When it was started (ISO 8601).' })
  started!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was finished; null while open.' })
  finished!: Date | null;

  @Field(() => Float, { description: "Total bytes of the commit's files." })
  sizeBytes!: number;

  @Field({ description: "Error it was finished with (a failed job's reason); empty when none." })
  error!: string;

  @Field(() => [CommitRef], { description: 'Direct provenance: the commits it was computed from.' })
  provenance!: CommitRef[];
}
