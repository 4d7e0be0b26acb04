/**
 * Staging a large import on a side branch, then making it visible on `master` in one commit —
 * the way Pachyderm users load data that a pipeline must see whole (Pachyderm docs, "Branches":
 * a pipeline subscribes to one branch of its input repo; commits to any other branch of the repo
 * start no job).
 *
 * - **Stage.** Every chunk of the import is one commit on the side branch `import-<hash12>` of the
 *   repo (`hash12` = the first 12 hex digits of the imported file's SHA-256). The branch starts
 *   with no head: it holds only the import's own files. A pipeline whose input is `repo@master`
 *   does not see these commits (2.12 `pps` propagation follows the input branch).
 * - **Publish.** When every chunk is staged, ONE commit on `master` copies the staged files
 *   (ModifyFile `copy_file`, which in pachd and in the embedded engine references the stored
 *   content instead of moving bytes) under their final names; then the side branch is deleted
 *   (its commits stay). One commit on master = one commit set = exactly one job per pipeline
 *   reading master. Copying into a new master commit (rather than moving master with CreateBranch
 *   to the side branch's head) keeps whatever was committed to master meanwhile, and a real 2.12
 *   moving a branch head would need the side branch to descend from master's head.
 * - **Resumable.** A run killed while staging leaves whole staged commits (a ModifyFile becomes
 *   visible only when it completes; a commit left open by the kill is finished by the next run,
 *   {@link ImportStaging.staged}). A run killed after the publish commit but before deleting the
 *   side branch finds every chunk on master and only deletes the branch.
 *
 * Works with any {@link Pachyderm} adapter (embedded engine, gRPC client of a pachd).
 */
import { PachCode, isPachError } from '../pachyderm/errors';
import { commitFiles } from '../pachyderm/own-commit';
import type { Pachyderm } from '../pachyderm/port';

/** The side branch of an import of a file whose SHA-256 starts with `hash12`. */
export function stagingBranchName(hash12: string): string {
  return `import-${hash12}`;
}

/** One file to copy from the staged commit to master. */
export interface PublishCopy {
  /** Path on the side branch. */
  src: string;
  /** Path on master. */
  dst: string;
}

/**
 * The side branch of one import in one repo: list, stage, publish (see the module documentation).
 * All methods throw the adapter's errors (NOT_FOUND for a missing repo, UNAVAILABLE, …).
 */
export class ImportStaging {
  /** The side branch's name (`import-<hash12>`). */
  readonly branch: string;

  /**
   * @param pach the engine.
   * @param repo the repo receiving the import (`training`).
   * @param hash12 first 12 hex digits of the imported file's SHA-256.
   */
  constructor(
    private readonly pach: Pachyderm,
    readonly repo: string,
    hash12: string,
  ) {
    if (!/^[0-9a-f]{12}$/.test(hash12)) {
      throw new RangeError(`hash12 ${JSON.stringify(hash12)}: expected 12 lowercase hex digits`);
    }
    this.branch = stagingBranchName(hash12);
  }

  /** Paths of the files under `dir` (e.g. `/batches/`) at `repo@branch`; [] when absent. */
  private async list(branch: string, dir: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const f of this.pach.listFile({ commit: `${this.repo}@${branch}`, path: dir })) {
        out.push(f.file.path);
      }
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return out;
  }

  /** Paths under `dir` visible on master. */
  visible(dir: string): Promise<string[]> {
    return this.list('master', dir);
  }

  /**
   * Paths under `dir` already staged on the side branch. A head commit left open by a killed
   * run is finished first (its files are whole: a ModifyFile is applied entirely or not at all).
   */
  async staged(dir: string): Promise<string[]> {
    let head;
    try {
      head = (await this.pach.inspectBranch(`${this.repo}@${this.branch}`)).head;
    } catch (e) {
      if (isPachError(e, PachCode.NOT_FOUND)) return [];
      throw e;
    }
    if (!head) return [];
    const info = await this.pach.inspectCommit({ repo: head.repo, id: head.id });
    if (!info.finishing && !info.finished)
      await this.pach.finishCommit({ repo: head.repo, id: head.id });
    return this.list(this.branch, dir);
  }

  /** The text of `path` on master, else on the side branch, else null. */
  async read(path: string): Promise<string | null> {
    for (const branch of ['master', this.branch]) {
      try {
        return (await this.pach.readFile({ commit: `${this.repo}@${branch}`, path })).toString(
          'utf8',
        );
      } catch (e) {
        if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
      }
    }
    return null;
  }

  /** Commits `files` (whole, overwriting) as one commit on the side branch (created if missing). */
  async stage(files: { path: string; data: Buffer | string }[]): Promise<void> {
    await commitFiles(
      this.pach,
      `${this.repo}@${this.branch}`,
      files.map((f) => ({ op: 'put' as const, path: f.path, data: f.data })),
    );
  }

  /**
   * ONE commit on master copying each `src` of the side branch's head to `dst` (nothing when
   * `copies` is empty), then deletes the side branch (when there is one).
   * @returns the id of master's new commit, or null when nothing was copied.
   */
  async publish(copies: PublishCopy[]): Promise<string | null> {
    let id: string | null = null;
    if (copies.length > 0) {
      const head = (await this.pach.inspectBranch(`${this.repo}@${this.branch}`)).head;
      if (!head) throw new Error(`branch ${this.repo}@${this.branch} has no commit to publish`);
      const src = { repo: head.repo, id: head.id };
      const commit = await commitFiles(
        this.pach,
        `${this.repo}@master`,
        copies.map((c) => ({
          op: 'copy' as const,
          src: { commit: src, path: c.src },
          dst: c.dst,
        })),
        { description: `import ${this.branch.slice('import-'.length)}: ${copies.length} files` },
      );
      id = commit.id;
    }
    try {
      await this.pach.deleteBranch(`${this.repo}@${this.branch}`);
    } catch (e) {
      if (!isPachError(e, PachCode.NOT_FOUND)) throw e;
    }
    return id;
  }
}
