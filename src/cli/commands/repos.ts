/**
 * `reelgraph repos`: the repos of the engine (embedded, or the pachd of --pachd-address), as `pachctl list repo` prints
 * them (PROJECT, NAME, CREATED, SIZE (MASTER), DESCRIPTION), or `--json` (an array of RepoInfo:
 * `{repo: {name, type, project: {name}}, created, sizeBytesUpperBound, description, branches}`).
 */
import { Command } from 'commander';
import type { CommandIo } from '../data-options';
import {
  addDataDirOption,
  ago,
  formatTable,
  humanSize,
  withEngine,
  type DataDirOptions,
} from '../pach-options';
import type { RepoInfo, RepoType } from '../../pachyderm';
import { UsageError } from '../errors';

/** The options of `reelgraph repos`. */
export interface ReposOptions extends DataDirOptions {
  type?: string;
  allTypes?: boolean;
  project?: string[];
  json?: boolean;
}

/** Build the `repos` command; `io` defaults to the process's stdout/stderr. */
export function reposCommand(io: CommandIo = process): Command {
  const cmd = new Command('repos').description(
    'List the repos of the engine (embedded, or the pachd of --pachd-address) (like `pachctl list repo`).',
  );
  return addDataDirOption(cmd)
    .option('--type <type>', 'repo type: user, spec or meta', 'user')
    .option('--all-types', 'list repos of every type (user, spec and meta)')
    .option(
      '--project <name>',
      'only repos of this project (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--json', 'print a JSON array of RepoInfo instead of a table')
    .action(async (opts: ReposOptions) => {
      const type = opts.allTypes ? '' : (opts.type ?? 'user');
      if (type !== '' && !['user', 'spec', 'meta'].includes(type)) {
        throw new UsageError(
          `--type ${JSON.stringify(type)} is invalid: expected user, spec or meta`,
        );
      }
      const repos = await withEngine(opts, async (pach) => {
        const out: RepoInfo[] = [];
        for await (const r of pach.listRepo({
          type: type as RepoType | '',
          projects: opts.project?.length ? opts.project : undefined,
        })) {
          out.push(r);
        }
        return out;
      });
      io.stdout.write(
        opts.json ? JSON.stringify(repos, null, 2) + '\n' : reposTable(repos, type === ''),
      );
    });
}

/** The table `reelgraph repos` prints. */
export function reposTable(repos: RepoInfo[], withType = false, now = new Date()): string {
  const headers = [
    'PROJECT',
    'NAME',
    ...(withType ? ['TYPE'] : []),
    'CREATED',
    'SIZE (MASTER)',
    'DESCRIPTION',
  ];
  return formatTable(
    headers,
    repos.map((r) => [
      r.repo.project.name,
      r.repo.name,
      ...(withType ? [r.repo.type] : []),
      ago(r.created, now),
      humanSize(r.sizeBytesUpperBound),
      r.description,
    ]),
  );
}
