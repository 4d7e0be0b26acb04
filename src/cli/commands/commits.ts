/**
 * `reelgraph commits <repo>[@branch]`: the commits of a repo of the engine (embedded or pachd),
 * newest first, as `pachctl list commit` prints them (REPO, BRANCH, COMMIT, FINISHED, SIZE,
 * ORIGIN, DESCRIPTION), or `--json` (an array of CommitInfo with `origin.kind` as a name). With
 * `@branch`, only the commits of that branch's history (the head and its ancestors).
 */
import { Command } from 'commander';
import type { CommandIo } from '../data-options';
import { intArg } from '../data-options';
import {
  addDataDirOption,
  ago,
  formatTable,
  humanSize,
  withEngine,
  type DataDirOptions,
} from '../pach-options';
import { OriginKind, type CommitInfo, type ListCommitOptions, toCommit } from '../../pachyderm';
import { UsageError } from '../errors';

/** The options of `reelgraph commits`. */
export interface CommitsOptions extends DataDirOptions {
  number?: number;
  reverse?: boolean;
  origin?: string;
  json?: boolean;
}

/** Build the `commits` command; `io` defaults to the process's stdout/stderr. */
export function commitsCommand(io: CommandIo = process): Command {
  const cmd = new Command('commits')
    .description(
      'List the commits of a repo, newest first (like `pachctl list commit`); repo@branch lists that branch’s history.',
    )
    .argument('<repo>', 'repo name, [project/]repo, optionally @branch');
  return addDataDirOption(cmd)
    .option('-n, --number <n>', 'at most this many commits (0 = all)', intArg('--number', 0), 0)
    .option('--reverse', 'oldest first')
    .option('--origin <kind>', 'only commits of this origin: USER or AUTO')
    .option('--json', 'print a JSON array of CommitInfo instead of a table')
    .action(async (repoArg: string, opts: CommitsOptions) => {
      const list: ListCommitOptions = { number: opts.number, reverse: !!opts.reverse };
      if (opts.origin !== undefined) {
        const kind = opts.origin.toUpperCase();
        if (kind !== 'USER' && kind !== 'AUTO') {
          throw new UsageError(
            `--origin ${JSON.stringify(opts.origin)} is invalid: expected USER or AUTO`,
          );
        }
        list.originKind = kind === 'USER' ? OriginKind.USER : OriginKind.AUTO;
      }
      const at = repoArg.indexOf('@');
      const repo = at < 0 ? repoArg : repoArg.slice(0, at);
      if (at >= 0) list.to = toCommit(repoArg);
      const commits = await withEngine(opts, async (pach) => {
        const out: CommitInfo[] = [];
        for await (const c of pach.listCommit(repo, list)) out.push(c);
        return out;
      });
      io.stdout.write(
        opts.json ? JSON.stringify(commits.map(commitJson), null, 2) + '\n' : commitsTable(commits),
      );
    });
}

/** A CommitInfo for `--json`: enums as names. */
export function commitJson(c: CommitInfo): Record<string, unknown> {
  return { ...c, origin: { kind: OriginKind[c.origin.kind] } };
}

/** The table `reelgraph commits` prints. An open commit shows FINISHED "-" (still open). */
export function commitsTable(commits: CommitInfo[], now = new Date()): string {
  return formatTable(
    ['REPO', 'BRANCH', 'COMMIT', 'FINISHED', 'SIZE', 'ORIGIN', 'DESCRIPTION'],
    commits.map((c) => [
      c.commit.repo.name,
      c.commit.branch?.name ?? '-',
      c.commit.id,
      c.finished ? ago(c.finished, now) : '-',
      humanSize(c.sizeBytes),
      OriginKind[c.origin.kind] ?? String(c.origin.kind),
      c.error ? `${c.description ? c.description + ' ' : ''}[error: ${c.error}]` : c.description,
    ]),
  );
}
