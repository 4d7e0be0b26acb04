/** Repos and commits, as the port lists them (user repos; commits newest first). */
import type { Pachyderm } from '../pachyderm/port';
import type { CommitInfo, RepoInfo } from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import type { ReposService } from './index';
import { validateFirst, validateName } from './validation';

/** {@link ReposService} on a Pachyderm port. */
export class Repos implements ReposService {
  constructor(
    private readonly pach: Pachyderm,
    private readonly config: ResolvedServiceConfig,
  ) {}

  async repos(): Promise<RepoInfo[]> {
    const out: RepoInfo[] = [];
    for await (const r of this.pach.listRepo({ type: 'user' })) out.push(r);
    return out.sort((a, b) => (a.repo.name < b.repo.name ? -1 : a.repo.name > b.repo.name ? 1 : 0));
  }

  async commits(repo: string, opts: { first?: number | null } = {}): Promise<CommitInfo[]> {
    const name = validateName(repo, 'repo');
    const first = validateFirst(opts.first, this.config.maxPageSize, 20);
    const out: CommitInfo[] = [];
    for await (const c of this.pach.listCommit(name, { number: first })) out.push(c);
    return out;
  }
}
