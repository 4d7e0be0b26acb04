/**
 * Datums: how a pipeline's input tree splits its input commits into units of work.
 *
 * Follows Pachyderm 2.x's datum iterators (src/server/worker/datum/iterator.go): a PFS input yields
 * one datum per entry its glob matches ({@link globFiles}); `cross` yields the cartesian product
 * of its inputs' datums, `union` their concatenation; `join` crosses, key by key, the datums whose
 * `joinOn` template (glob captures `$1`, `$2`, …) gives the same key (inputs with `outerJoin` also
 * keep their unmatched datums); `group` merges into one datum every datum, of every input, whose
 * `groupBy` key is the same. A datum's id hashes its inputs' names, matched paths and file content
 * hashes, so an unchanged datum keeps its id from one job to the next (Pachyderm's
 * `common.DatumID`/`HashDatum`), which is what skipping relies on.
 */
import { createHash } from 'node:crypto';
import { expandCaptures, globCaptures, globFiles } from './glob';
import type { Input, PfsInput } from './types';

/** A file of an input commit: absolute path and content hash (hex). */
export interface DatumFile {
  path: string;
  hash: string;
  /** Size in bytes, when known (used for stats only). */
  sizeBytes?: number;
}

/** The files an input commit holds, as given to {@link computeDatums}. */
export interface InputCommitFiles {
  /** The input commit's id (the value of the `<name>_COMMIT` variable). */
  commit: string;
  /** Every file of the commit, any order. */
  files: DatumFile[];
}

/** One input's share of a datum: the entry its glob matched and the files under it. */
export interface DatumInput {
  /** The input's name (directory under `/pfs`, env var name). */
  name: string;
  /** The input's project, repo and branch (pachyderm `PFSInput`). */
  project: string;
  repo: string;
  branch: string;
  /** The input commit the files come from (`<name>_COMMIT`). */
  commit: string;
  /** The input's cleaned glob. */
  glob: string;
  /** The matched path: `/` for the root, `/dir`, or `/dir/file`. */
  matchedPath: string;
  /** Whether `matchedPath` is a directory. */
  isDir: boolean;
  /** The files under `matchedPath`, sorted by path. */
  files: DatumFile[];
  /** The join key (`joinOn` expanded with the glob's captures), for inputs of a join. */
  joinOn?: string;
  /** The group key (`groupBy` expanded), for inputs of a group. */
  groupBy?: string;
}

/** A datum of a job: its id and its inputs. */
export interface DatumSpec {
  /** 64 hex digits: see {@link datumId}. */
  id: string;
  /** One entry per input taking part in the datum, in input-tree order. */
  inputs: DatumInput[];
}

/**
 * A datum's id: SHA-256 (hex) over, for each input in order, its name, matched path, and every
 * file's path and content hash. Same inputs ⇒ same id; any changed byte, renamed file or renamed
 * input ⇒ another id.
 */
export function datumId(inputs: readonly DatumInput[]): string {
  const h = createHash('sha256');
  for (const input of inputs) {
    h.update(`input\0${input.name}\0${input.matchedPath}\0`);
    for (const f of input.files) h.update(`file\0${f.path}\0${f.hash}\0`);
  }
  return h.digest('hex');
}

function makeDatum(inputs: DatumInput[]): DatumSpec {
  return { id: datumId(inputs), inputs };
}

function pfsDatumInputs(pfs: PfsInput, filesOf: (pfs: PfsInput) => InputCommitFiles) {
  const { commit, files } = filesOf(pfs);
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return globFiles(
    sorted.map((f) => f.path),
    pfs.glob,
  ).map((m): DatumInput => ({
    name: pfs.name,
    project: pfs.project,
    repo: pfs.repo,
    branch: pfs.branch,
    commit,
    glob: pfs.glob,
    matchedPath: m.path,
    isDir: m.isDir,
    files: m.fileIndexes.map((i) => sorted[i]),
  }));
}

function keyOf(pfs: PfsInput, template: string, path: string): string {
  return expandCaptures(template, globCaptures(pfs.glob, path) ?? []);
}

function cross(lists: DatumInput[][][]): DatumInput[][] {
  let out: DatumInput[][] = [[]];
  for (const list of lists) {
    const next: DatumInput[][] = [];
    for (const prefix of out) for (const d of list) next.push([...prefix, ...d]);
    out = next;
  }
  return out;
}

function enumerate(
  input: Input,
  filesOf: (pfs: PfsInput) => InputCommitFiles,
  path: string,
): DatumInput[][] {
  if (input.pfs) return pfsDatumInputs(input.pfs, filesOf).map((d) => [d]);
  if (input.cross)
    return cross(input.cross.map((c, i) => enumerate(c, filesOf, `${path}.cross[${i}]`)));
  if (input.union) {
    return input.union.flatMap((c, i) => enumerate(c, filesOf, `${path}.union[${i}]`));
  }
  if (input.join) {
    const children = input.join.map((c, i) => {
      if (!c.pfs) throw new Error(`${path}.join[${i}]: join inputs must be pfs inputs`);
      const pfs = c.pfs;
      const byKey = new Map<string, DatumInput[][]>();
      for (const d of pfsDatumInputs(pfs, filesOf)) {
        const key = keyOf(pfs, pfs.joinOn, d.matchedPath);
        const withKey = { ...d, joinOn: key };
        byKey.set(key, [...(byKey.get(key) ?? []), [withKey]]);
      }
      return { pfs, byKey };
    });
    const keys = [...new Set(children.flatMap((c) => [...c.byKey.keys()]))].sort();
    const out: DatumInput[][] = [];
    for (const key of keys) {
      const present = children.filter((c) => c.byKey.has(key));
      const complete = present.length === children.length;
      if (!complete && !present.some((c) => c.pfs.outerJoin)) continue;
      out.push(...cross(present.map((c) => c.byKey.get(key)!)));
    }
    return out;
  }
  if (input.group) {
    const byKey = new Map<string, DatumInput[]>();
    input.group.forEach((c, i) => {
      if (!c.pfs) throw new Error(`${path}.group[${i}]: group inputs must be pfs inputs`);
      const pfs = c.pfs;
      for (const d of pfsDatumInputs(pfs, filesOf)) {
        const key = keyOf(pfs, pfs.groupBy, d.matchedPath);
        byKey.set(key, [...(byKey.get(key) ?? []), { ...d, groupBy: key }]);
      }
    });
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  }
  // cron inputs behave as a PFS input on their repo with glob "/" (the embedded engine never ticks)
  if (input.cron) {
    const c = input.cron;
    const pfs: PfsInput = {
      project: c.project,
      name: c.name,
      repo: c.repo,
      repoType: 'user',
      branch: 'master',
      commit: c.commit,
      glob: '/',
      joinOn: '',
      outerJoin: false,
      groupBy: '',
      lazy: false,
      emptyFiles: false,
      s3: false,
      reference: false,
    };
    return pfsDatumInputs(pfs, filesOf).map((d) => [d]);
  }
  throw new Error(`${path}: no input set`);
}

/**
 * Split an input tree into datums.
 *
 * @param input a normalised input tree (see `parsePipelineSpec`).
 * @param filesOf gives, for each PFS input, the commit id it reads and the commit's files.
 * @returns the datums, in iteration order (PFS matches by path; cross: the first input varies
 *   slowest; union: left to right; join/group: by key). An input with no match makes a cross or
 *   join empty (0 datums).
 * @throws Error when a join/group member is not a PFS input (parsePipelineSpec refuses such specs).
 * @example computeDatums({pfs: {name:"in", glob:"/*", …}}, () => ({commit:"c", files:[{path:"/a",hash:"1"},{path:"/b",hash:"2"}]})).length === 2
 */
export function computeDatums(
  input: Input,
  filesOf: (pfs: PfsInput) => InputCommitFiles,
): DatumSpec[] {
  return enumerate(input, filesOf, 'input').map(makeDatum);
}
