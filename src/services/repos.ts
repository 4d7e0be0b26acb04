/** Repos and commits, as the port lists them (user repos; commits newest first). */
import { PachCode, isPachError } from '../pachyderm/errors';
import type { Pachyderm } from '../pachyderm/port';
import type { CommitInfo, RepoInfo } from '../pachyderm/types';
import type { ResolvedServiceConfig } from './config';
import type { ReposService } from './index';
import { NotFoundError, ValidationError } from './errors';
import { validateFirst, validateHexId, validateName } from './validation';

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

  async checkRepo(repo: string): Promise<string> {
    const name = validateName(repo, 'repo');
    try {
      await this.pach.inspectRepo(name);
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) throw new NotFoundError('repo', name);
      throw e;
    }
    return name;
  }

  async commitsSince(repo: string, after: string): Promise<CommitInfo[]> {
    const name = await this.checkRepo(repo);
    validateHexId(after, 'after');
    const limit = this.config.maxPageSize;
    const out: CommitInfo[] = [];
    for await (const c of this.pach.listCommit(name)) {
      if (c.commit.id === after) return out.reverse();
      out.push(c);
      if (out.length > limit) {
        throw new ValidationError('arguments', [
          {
            index: null,
            field: 'after',
            message: `more than ${limit} commits were created in ${name} since commit ${after}: read them with commits, then subscribe with a newer after`,
          },
        ]);
      }
    }
    throw new NotFoundError('commit', `${name}@${after}`);
  }
}
