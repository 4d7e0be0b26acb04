/**
 * References to Pachyderm objects as the port accepts them, and their normalisation.
 *
 * Every method of the port accepts the proto-shaped objects of `types.ts` (e.g. `{repo, id}` for a
 * commit, `{repo, branch, id: ''}` for a branch head, exactly as pachd does) and, for ergonomics,
 * pachctl's string forms, parsed here by one function per kind:
 *
 * | kind | string form | example |
 * |---|---|---|
 * | project | `name` | `default` |
 * | repo | `[project/]name` | `training`, `default/training` |
 * | branch | `repo@branch` | `training@master` |
 * | commit | `repo@branch` (head), `repo@<32-hex id>`, `repo` (= `repo@master`) | `training@3f…9a` |
 * | file | `commit:/path` | `training@master:/ratings/1.csv` |
 * | pipeline | `[project/]name` | `train` |
 * | job | `pipeline@<id>` | `train@3f…9a` |
 *
 * Missing parts take Pachyderm's defaults: project `default` (pachyderm `Repo.EnsureProject`), repo
 * type `user`, branch `master`. Malformed strings throw `INVALID_ARGUMENT` naming the input.
 */
import { invalidArgument } from './errors';
import {
  Branch,
  Commit,
  DEFAULT_PROJECT,
  Datum,
  File,
  Job,
  Pipeline,
  Project,
  Repo,
  RepoType,
} from './types';

/** A project: its name or a {@link Project}. */
export type ProjectRef = string | Project;
/** A repo: `"[project/]name"` or a {@link Repo} whose `type` (default `user`) and `project` are optional. */
export type RepoRef = string | { name: string; type?: RepoType | string; project?: ProjectRef };
/** A branch: `"repo@branch"` or `{repo, name}`. */
export type BranchRef = string | { repo: RepoRef; name: string };
/**
 * A commit: `"repo@branch"`, `"repo@id"`, `"repo"`, or `{repo, id}` / `{repo, branch, id: ''}`
 * (branch head). An `id` that is not 32 hex digits is read as a branch name, as pachd's ModifyFile does.
 */
export type CommitRef =
  string | { repo: RepoRef; id?: string; branch?: BranchRef | { name: string } | string | null };
/** A file: `"repo@branch:/path"` or `{commit, path, datum?}`. */
export type FileRef = string | { commit: CommitRef; path: string; datum?: string };
/** A pipeline: `"[project/]name"` or `{name, project?}`. */
export type PipelineRef = string | { name: string; project?: ProjectRef };
/** A job: `"pipeline@id"` or `{pipeline, id}`. */
export type JobRef = string | { pipeline: PipelineRef; id: string };
/** A datum: `{job, id}`. */
export type DatumRef = { job: JobRef; id: string };

const ID_RE = /^[0-9a-f]{32}$/;
const NAME_RE = /^[a-zA-Z0-9_-]+$/;

/** True when `s` is a commit id: 32 lowercase hex digits (UUIDv4 without dashes). */
export function isCommitId(s: string): boolean {
  return ID_RE.test(s);
}

/**
 * Check a project, repo, branch or pipeline name as pachyderm `ancestry.ValidateName` does:
 * letters, digits, `_` and `-` only, 1–63 characters.
 * @throws PachError INVALID_ARGUMENT naming the kind and the value.
 */
export function validateName(kind: string, name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 63) {
    throw invalidArgument(
      `${kind} name ${JSON.stringify(name)} is invalid: expected 1-63 characters from [a-zA-Z0-9_-]`,
    );
  }
}

/** Normalise a {@link ProjectRef}; empty → `default`. */
export function toProject(ref: ProjectRef | undefined | null): Project {
  if (ref === undefined || ref === null) return { name: DEFAULT_PROJECT };
  const name = typeof ref === 'string' ? ref : ref.name;
  return { name: name || DEFAULT_PROJECT };
}

function splitProject(s: string, what: string): [string | undefined, string] {
  const parts = s.split('/');
  if (parts.length === 1) return [undefined, parts[0]];
  if (parts.length === 2 && parts[0]) return [parts[0], parts[1]];
  throw invalidArgument(`${what} ${JSON.stringify(s)} is malformed: expected [project/]name`);
}

/** Normalise a {@link RepoRef}: project defaults to `default`, type to `user`. */
export function toRepo(ref: RepoRef): Repo {
  if (typeof ref === 'string') {
    const [project, name] = splitProject(ref, 'repo');
    return { name, type: 'user', project: toProject(project) };
  }
  if (!ref || typeof ref.name !== 'string') {
    throw invalidArgument(
      `repo ${JSON.stringify(ref)} is malformed: expected {name, type?, project?}`,
    );
  }
  const type = (ref.type || 'user') as RepoType;
  if (type !== 'user' && type !== 'spec' && type !== 'meta') {
    throw invalidArgument(
      `repo type ${JSON.stringify(ref.type)} is invalid: expected user, spec or meta`,
    );
  }
  return { name: ref.name, type, project: toProject(ref.project) };
}

/** Normalise a {@link BranchRef}. */
export function toBranch(ref: BranchRef): Branch {
  if (typeof ref === 'string') {
    const at = ref.indexOf('@');
    if (at <= 0 || at === ref.length - 1) {
      throw invalidArgument(`branch ${JSON.stringify(ref)} is malformed: expected repo@branch`);
    }
    return { repo: toRepo(ref.slice(0, at)), name: ref.slice(at + 1) };
  }
  if (!ref || typeof ref.name !== 'string' || !ref.repo) {
    throw invalidArgument(`branch ${JSON.stringify(ref)} is malformed: expected {repo, name}`);
  }
  return { repo: toRepo(ref.repo), name: ref.name };
}

/**
 * Normalise a {@link CommitRef} to a {@link Commit}: either `{repo, id: <32 hex>}` (a specific
 * commit; `branch` kept if given) or `{repo, branch, id: ''}` (the head of `branch`).
 */
export function toCommit(ref: CommitRef): Commit {
  if (typeof ref === 'string') {
    const at = ref.indexOf('@');
    if (at === 0 || at === ref.length - 1) {
      throw invalidArgument(
        `commit ${JSON.stringify(ref)} is malformed: expected repo@branch or repo@id`,
      );
    }
    const repo = toRepo(at < 0 ? ref : ref.slice(0, at));
    const rest = at < 0 ? 'master' : ref.slice(at + 1);
    return isCommitId(rest)
      ? { repo, id: rest, branch: null }
      : { repo, id: '', branch: { repo, name: rest } };
  }
  if (!ref || !ref.repo) {
    throw invalidArgument(
      `commit ${JSON.stringify(ref)} is malformed: expected {repo, id} or {repo, branch}`,
    );
  }
  const repo = toRepo(ref.repo);
  const id = ref.id ?? '';
  let branchName: string | undefined;
  if (typeof ref.branch === 'string') branchName = ref.branch;
  else if (ref.branch && typeof ref.branch.name === 'string') branchName = ref.branch.name;
  if (id && !isCommitId(id)) {
    // pachd's ModifyFile reinterprets a non-UUID id as a branch name.
    if (branchName) {
      throw invalidArgument(`commit id ${JSON.stringify(id)} is invalid: expected 32 hex digits`);
    }
    return { repo, id: '', branch: { repo, name: id } };
  }
  if (!id && !branchName) {
    throw invalidArgument(`commit ${JSON.stringify(ref)} names neither an id nor a branch`);
  }
  return { repo, id, branch: branchName ? { repo, name: branchName } : null };
}

/** Normalise a {@link FileRef}; the path gets a leading `/`. */
export function toFile(ref: FileRef): File {
  if (typeof ref === 'string') {
    const colon = ref.indexOf(':');
    if (colon <= 0) {
      throw invalidArgument(`file ${JSON.stringify(ref)} is malformed: expected repo@branch:/path`);
    }
    return { commit: toCommit(ref.slice(0, colon)), path: normalizePath(ref.slice(colon + 1)) };
  }
  if (!ref || ref.commit === undefined || typeof ref.path !== 'string') {
    throw invalidArgument(`file ${JSON.stringify(ref)} is malformed: expected {commit, path}`);
  }
  const f: File = { commit: toCommit(ref.commit), path: normalizePath(ref.path) };
  if (ref.datum) f.datum = ref.datum;
  return f;
}

/**
 * Clean a PFS path: leading `/`, no `.`/`..` or empty segments, no trailing `/` (except root `/`).
 * @throws PachError INVALID_ARGUMENT for `..` segments or NUL characters.
 */
export function normalizePath(p: string): string {
  if (typeof p !== 'string' || p.includes('\0')) {
    throw invalidArgument(`path ${JSON.stringify(p)} is invalid`);
  }
  const segs: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..')
      throw invalidArgument(`path ${JSON.stringify(p)} is invalid: ".." is not allowed`);
    segs.push(s);
  }
  return '/' + segs.join('/');
}

/** Normalise a {@link PipelineRef}. */
export function toPipeline(ref: PipelineRef): Pipeline {
  if (typeof ref === 'string') {
    const [project, name] = splitProject(ref, 'pipeline');
    return { name, project: toProject(project) };
  }
  if (!ref || typeof ref.name !== 'string') {
    throw invalidArgument(
      `pipeline ${JSON.stringify(ref)} is malformed: expected {name, project?}`,
    );
  }
  return { name: ref.name, project: toProject(ref.project) };
}

/** Normalise a {@link JobRef}. */
export function toJob(ref: JobRef): Job {
  if (typeof ref === 'string') {
    const at = ref.indexOf('@');
    if (at <= 0)
      throw invalidArgument(`job ${JSON.stringify(ref)} is malformed: expected pipeline@id`);
    return { pipeline: toPipeline(ref.slice(0, at)), id: ref.slice(at + 1) };
  }
  if (!ref || !ref.pipeline || typeof ref.id !== 'string') {
    throw invalidArgument(`job ${JSON.stringify(ref)} is malformed: expected {pipeline, id}`);
  }
  return { pipeline: toPipeline(ref.pipeline), id: ref.id };
}

/** Normalise a {@link DatumRef}. */
export function toDatum(ref: DatumRef): Datum {
  if (!ref || !ref.job || typeof ref.id !== 'string') {
    throw invalidArgument(`datum ${JSON.stringify(ref)} is malformed: expected {job, id}`);
  }
  return { job: toJob(ref.job), id: ref.id };
}

/** pachd's display form of a repo: `project/name`, plus `.type` when not `user`. */
export function repoString(repo: Repo): string {
  return `${repo.project.name}/${repo.name}${repo.type === 'user' ? '' : '.' + repo.type}`;
}

/** pachd's display form of a branch: `project/repo@branch`. */
export function branchString(branch: Branch): string {
  return `${repoString(branch.repo)}@${branch.name}`;
}

/** pachd's display form of a commit: `project/repo@id` (or `@branch` for a head reference). */
export function commitString(commit: Commit): string {
  return `${repoString(commit.repo)}@${commit.id || commit.branch?.name || ''}`;
}

/** Display form of a pipeline: `project/name`. */
export function pipelineString(p: Pipeline): string {
  return `${p.project.name}/${p.name}`;
}
