/**
 * `reelgraph jobs`: the jobs of the engine (embedded, or the pachd of --pachd-address), as `pachctl list job -p` prints
 * them (ID, PIPELINE, STARTED, DURATION, RESTART, PROGRESS, STATE), newest first; `jobs inspect`
 * one job (and its datums), `jobs logs` the lines its user code wrote. `--json` prints the port's
 * objects (JobInfo, DatumInfo, LogMessage) with enum names (`"JOB_SUCCESS"`) as protojson does.
 *
 * The data directory is opened read-only: safe next to a running server.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { CommandIo } from '../data-options';
import {
  addDataDirOption,
  ago,
  formatTable,
  withEngine,
  type DataDirOptions,
} from '../pach-options';
import {
  DatumState,
  JobState,
  type DatumInfo,
  type JobInfo,
  type LogMessage,
} from '../../pachyderm';
import { UsageError } from '../errors';

/** The options of `reelgraph jobs`. */
export interface JobsOptions extends DataDirOptions {
  pipeline?: string;
  state?: string[];
  number?: number;
  reverse?: boolean;
  json?: boolean;
}

const STATE_NAMES = Object.keys(JobState).filter((k) => Number.isNaN(Number(k)));

/**
 * Parse a job state as given on the command line: `success`, `SUCCESS` or `JOB_SUCCESS`.
 * @throws UsageError naming the value and the accepted states
 */
export function parseJobState(v: string): JobState {
  const name = v.toUpperCase().startsWith('JOB_') ? v.toUpperCase() : `JOB_${v.toUpperCase()}`;
  const state = (JobState as unknown as Record<string, number>)[name];
  if (state === undefined || name === 'JOB_STATE_UNKNOWN') {
    throw new UsageError(
      `--state ${JSON.stringify(v)} is invalid: expected one of ${STATE_NAMES.filter(
        (s) => s !== 'JOB_STATE_UNKNOWN',
      )
        .map((s) => s.slice(4).toLowerCase())
        .join(', ')}`,
    );
  }
  return state as JobState;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A job state for people: `success`, `running`, `failure` … */
export function stateWord(state: JobState): string {
  return (JobState[state] ?? String(state)).replace(/^JOB_/, '').toLowerCase();
}

/** A duration in milliseconds, short: `850ms`, `4.2s`, `3m05s`, `2h01m`. */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** pachctl's PROGRESS cell: `processed + skipped / total` (and failed, when any). */
export function progress(j: JobInfo): string {
  const base = `${j.dataProcessed} + ${j.dataSkipped} / ${j.dataTotal}`;
  return j.dataFailed ? `${base} (${j.dataFailed} failed)` : base;
}

/** A JobInfo as JSON: enum values by name (protojson style). */
export function jobJson(j: JobInfo): object {
  return { ...j, state: JobState[j.state] };
}

/** A DatumInfo as JSON: enum values by name. */
export function datumJson(d: DatumInfo): object {
  return {
    ...d,
    state: DatumState[d.state],
    data: d.data.map((f) => ({ ...f, fileType: 'FILE' })),
  };
}

/** The table `reelgraph jobs` prints. */
export function jobsTable(jobs: JobInfo[], now = new Date()): string {
  return formatTable(
    ['ID', 'PIPELINE', 'STARTED', 'DURATION', 'RESTART', 'PROGRESS', 'STATE'],
    jobs.map((j) => {
      const end = j.finished ?? (j.started ? now : null);
      const reason = j.reason
        ? `: ${j.reason.length > 60 ? j.reason.slice(0, 57) + '...' : j.reason}`
        : '';
      return [
        j.job.id,
        j.job.pipeline.project.name === 'default'
          ? j.job.pipeline.name
          : `${j.job.pipeline.project.name}/${j.job.pipeline.name}`,
        ago(j.started, now),
        j.started && end ? shortDuration(end.getTime() - j.started.getTime()) : '-',
        String(j.restart),
        progress(j),
        stateWord(j.state) + reason,
      ];
    }),
  );
}

/** What `reelgraph jobs inspect` prints without `--json`. */
export function jobText(j: JobInfo, datums: DatumInfo[] | undefined): string {
  const lines = [
    `ID: ${j.job.id}`,
    `Pipeline: ${j.job.pipeline.project.name}/${j.job.pipeline.name} (version ${j.pipelineVersion})`,
    `State: ${stateWord(j.state)}${j.reason ? ` (${j.reason})` : ''}`,
    `Created: ${j.created.toISOString()}`,
    `Started: ${j.started ? j.started.toISOString() : '-'}`,
    `Finished: ${j.finished ? j.finished.toISOString() : '-'}`,
    `Restarts: ${j.restart}`,
    `Datums: ${j.dataTotal} total, ${j.dataProcessed} processed, ${j.dataSkipped} skipped, ${j.dataFailed} failed, ${j.dataRecovered} recovered`,
    `Output commit: ${j.outputCommit.repo.name}@${j.outputCommit.id}`,
    `Input commits: ${j.inputCommits.map((c) => `${c.repo.name}@${c.id}`).join(', ') || '-'}`,
  ];
  let out = lines.join('\n') + '\n';
  if (datums) {
    out +=
      '\n' +
      formatTable(
        ['DATUM', 'STATE', 'FILES'],
        datums.map((d) => [
          d.datum.id,
          (DatumState[d.state] ?? String(d.state)).toLowerCase(),
          d.data.map((f) => `${f.file.commit.repo.name}:${f.file.path}`).join(', '),
        ]),
      );
  }
  return out;
}

function jobRef(v: string): { pipeline: string; id: string } {
  const at = v.lastIndexOf('@');
  if (at <= 0 || !/^[0-9a-f]{32}$/.test(v.slice(at + 1))) {
    throw new UsageError(`job ${JSON.stringify(v)} is malformed: expected <pipeline>@<32-hex id>`);
  }
  return { pipeline: v.slice(0, at), id: v.slice(at + 1) };
}

/** Build the `jobs` command (with `inspect` and `logs`); `io` defaults to stdout/stderr. */
export function jobsCommand(io: CommandIo = process): Command {
  const cmd = new Command('jobs').description(
    'List the jobs of the engine (embedded, or the pachd of --pachd-address), newest first (like `pachctl list job`).',
  );
  addDataDirOption(cmd)
    .option('-p, --pipeline <name>', 'only the jobs of this pipeline')
    .option(
      '--state <state>',
      'only jobs in this state: created, starting, running, finishing, success, failure, killed, unrunnable (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('-n, --number <n>', 'at most this many jobs', positiveInt)
    .option('--reverse', 'oldest first')
    .option('--json', 'print a JSON array of JobInfo instead of a table')
    .action(async (opts: JobsOptions) => {
      const states = (opts.state ?? []).map(parseJobState);
      const jobs = await withEngine(opts, async (pach) => {
        const out: JobInfo[] = [];
        for await (const j of pach.listJob({
          pipeline: opts.pipeline,
          state: states.length ? states : undefined,
          number: opts.number,
          reverse: opts.reverse,
        })) {
          out.push(j);
        }
        return out;
      });
      io.stdout.write(
        opts.json ? JSON.stringify(jobs.map(jobJson), null, 2) + '\n' : jobsTable(jobs),
      );
    });

  const inspect = new Command('inspect')
    .description('Show one job (<pipeline>@<id>); --datums adds its datums and their state.')
    .argument('<job>', 'the job, as <pipeline>@<id>');
  addDataDirOption(inspect)
    .option('--datums', 'list the datums of the job')
    .option('--json', 'print JSON ({job, datums?}) instead of text')
    .action(async (job: string, _o: unknown, self: Command) => {
      // options given before or after the sub-command name (the parent has --data-dir too)
      const opts = self.optsWithGlobals<DataDirOptions & { datums?: boolean; json?: boolean }>();
      const ref = jobRef(job);
      const { info, datums } = await withEngine(opts, async (pach) => {
        const info = await pach.inspectJob(ref);
        let datums: DatumInfo[] | undefined;
        if (opts.datums) {
          datums = [];
          for await (const d of pach.listDatum(ref)) datums.push(d);
        }
        return { info, datums };
      });
      io.stdout.write(
        opts.json
          ? JSON.stringify(
              { job: jobJson(info), ...(datums ? { datums: datums.map(datumJson) } : {}) },
              null,
              2,
            ) + '\n'
          : jobText(info, datums),
      );
    });
  cmd.addCommand(inspect);

  const logs = new Command('logs')
    .description("Print the log lines of a job's user code (<pipeline>@<id>), oldest first.")
    .argument('<job>', 'the job, as <pipeline>@<id>');
  addDataDirOption(logs)
    .option('--datum <id>', 'only the lines of this datum')
    .option('--master', "the engine's own lines for the job instead of user code's")
    .option('--tail <n>', 'only the last n lines', positiveInt)
    .option('--json', 'print a JSON array of LogMessage')
    .action(async (job: string, _o: unknown, self: Command) => {
      const opts = self.optsWithGlobals<
        DataDirOptions & { datum?: string; master?: boolean; tail?: number; json?: boolean }
      >();
      const ref = jobRef(job);
      const lines = await withEngine(opts, async (pach) => {
        const out: LogMessage[] = [];
        for await (const l of pach.getLogs({
          job: ref,
          datum: opts.datum ? { job: ref, id: opts.datum } : undefined,
          master: opts.master,
          tail: opts.tail,
          sinceMs: Number.MAX_SAFE_INTEGER,
        })) {
          out.push(l);
        }
        return out;
      });
      io.stdout.write(
        opts.json
          ? JSON.stringify(lines, null, 2) + '\n'
          : lines
              .map((l) => `${l.ts.toISOString()} ${l.datumId.slice(0, 12) || '-'} ${l.message}\n`)
              .join(''),
      );
    });
  cmd.addCommand(logs);
  return cmd;
}
