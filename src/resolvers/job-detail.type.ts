/** Output types of a job's detail: its datums and its log lines (Pachyderm's DatumInfo, LogMessage). */
import { Field, Float, ID, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    "One datum of a job (Pachyderm's DatumInfo): a unit of work over some input files, processed once.",
})
export class Datum {
  @Field(() => ID, { description: 'The datum id (Pachyderm: a hash of its input files).' })
  id!: string;

  @Field({
    description:
      "Pachyderm's DatumState without prefix: SUCCESS, FAILED, SKIPPED (processed by an earlier job), STARTING, RECOVERED or UNKNOWN.",
  })
  state!: string;

  @Field(() => [String], { description: 'The input files of the datum: `repo@commit:/path`.' })
  files!: string[];

  @Field(() => Float, {
    nullable: true,
    description: 'Seconds the user code ran on the datum; null when not recorded.',
  })
  processSeconds!: number | null;
}

@ObjectType({ description: "One log line of a job (Pachyderm's LogMessage)." })
export class LogLine {
  @Field({ description: 'When it was written (ISO 8601).' })
  ts!: string;

  @Field({ description: 'The line.' })
  message!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The datum being processed; null for lines of the job as a whole.',
  })
  datumId!: string | null;

  @Field({ description: 'True for lines written by the user code (the train/predict program).' })
  user!: boolean;
}
