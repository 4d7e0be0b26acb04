/**
 * The embedded PFS's files: a commit's file set as delta layers over its nearest snapshot
 * (resolution, caching during a modification, compaction every MAX_DEPTH layers), blob
 * locations, and the read side of the port (InspectFile, ListFile, WalkFile, GlobFile, GetFile).
 * Between {@link PfsMetadata} (pfs-metadata.ts) and {@link Pfs} (pfs.ts), which adds commits and
 * modifications.
 */
import { createHash } from 'node:crypto';
import { PachError, fileNotFound, invalidArgument } from '../errors';
import { globFiles } from '../glob';
import { type CommitRef, type FileRef, normalizePath, repoString, toCommit, toFile } from '../refs';
import { type Commit, type FileInfo, FileType } from '../types';
import { type BlobLocation, BlobStore, EMPTY_HASH } from './blobstore';
import { type CommitRow, type FileRow, PfsMetadata } from './pfs-metadata';
import type { FileEntry } from './pfs';

/** A time column (ms since the epoch, or null) as a Date. */
export const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** File entries grouped by path, in order. */
export function groupByPath(es: FileEntry[]): Map<string, FileEntry[]> {
  const m = new Map<string, FileEntry[]>();
  for (const e of es) m.set(e.path, [...(m.get(e.path) ?? []), e]);
  return m;
}

/** `p` without a trailing `/` (except the root). */
export function stripSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** File layers and reads of the embedded PFS; see the module documentation. */
export abstract class PfsFiles extends PfsMetadata {
  /** The blob store of file contents. */
  abstract readonly blobs: BlobStore;
  /** Live entries by path during one modification (see preloadEntries). */
  protected atCache: { chain: number[]; map: Map<string, FileEntry[]> } | null = null;

  // ===========================================================================================
  // file layers
  // ===========================================================================================

  /** Seqs of the layers making up a commit's file set, newest first. */
  protected chain(row: CommitRow): number[] {
    const out = [row.seq];
    let cur = row;
    while (cur.depth > 0 && cur.parent_seq) {
      cur = this.st.commitBySeq.get(cur.parent_seq) as CommitRow;
      out.push(cur.seq);
    }
    return out;
  }

  /** Newest row per (path, datum) among rows sorted by path, datum, commit_seq DESC; no tombstones. */
  protected static merge(rows: FileRow[]): FileEntry[] {
    const out: FileEntry[] = [];
    let prevKey = '';
    for (const r of rows) {
      const key = r.path + '\0' + r.datum;
      if (key === prevKey) continue;
      prevKey = key;
      if (r.parts === null) continue;
      out.push({
        path: r.path,
        datum: r.datum,
        parts: r.parts === '' ? [] : r.parts.split(','),
        size: r.size,
        hash: r.hash ?? EMPTY_HASH,
      });
    }
    return out;
  }

  /** Live entries at exactly `path` (one per datum). */
  protected entriesAt(chain: number[], path: string): FileEntry[] {
    const cache = this.atCache;
    if (cache && cache.chain === chain) {
      let es = cache.map.get(path);
      if (!es) {
        es = PfsFiles.merge(this.st.fileAt.all(path, JSON.stringify(chain)) as FileRow[]);
        cache.map.set(path, es);
      }
      return es.slice();
    }
    return PfsFiles.merge(this.st.fileAt.all(path, JSON.stringify(chain)) as FileRow[]);
  }

  /**
   * Cache the live entries of `paths` for a modification of the commit whose layers are `chain`
   * (one query instead of one per path); the cache follows the modification's own writes.
   */
  protected preloadEntries(chain: number[], paths: string[]): void {
    const map = new Map<string, FileEntry[]>();
    for (const p of paths) map.set(p, []);
    for (let i = 0; i < paths.length; i += 5000) {
      const rows = this.st.filesAtMany.all(
        JSON.stringify(chain),
        JSON.stringify(paths.slice(i, i + 5000)),
      ) as FileRow[];
      for (const e of PfsFiles.merge(rows)) map.get(e.path)!.push(e);
    }
    this.atCache = { chain, map };
  }

  protected cacheSet(
    chain: number[],
    e: FileEntry | { path: string; datum: string },
    live: boolean,
  ) {
    const cache = this.atCache;
    if (!cache || cache.chain !== chain) return;
    const list = cache.map.get(e.path);
    if (!list) return;
    const i = list.findIndex((x) => x.datum === e.datum);
    if (i >= 0) list.splice(i, 1);
    if (live) {
      list.push(e as FileEntry);
      list.sort((a, b) => (a.datum < b.datum ? -1 : a.datum > b.datum ? 1 : 0));
    }
  }

  /** Live entries strictly under directory `dir` (`/` = everything), sorted by path then datum. */
  protected entriesUnder(chain: number[], dir: string): FileEntry[] {
    const c = JSON.stringify(chain);
    if (dir === '/') return PfsFiles.merge(this.st.filesAll.all(c) as FileRow[]);
    // '/' is 0x2f and '0' is 0x30: paths under "/a/" sort in ("/a/", "/a0").
    return PfsFiles.merge(this.st.filesRange.all(c, dir + '/', dir + '0') as FileRow[]);
  }

  /** Every live file entry of a commit, sorted by path then datum. */
  entries(commit: Commit | CommitRow): FileEntry[] {
    const row = 'seq' in commit ? commit : this.resolveCommit(commit);
    return this.entriesUnder(this.chain(row), '/');
  }

  protected duplicatePath(seq: number): string | undefined {
    const all = this.entries(this.st.commitBySeq.get(seq) as CommitRow);
    for (let i = 1; i < all.length; i++) if (all[i].path === all[i - 1].path) return all[i].path;
    return undefined;
  }

  /** Replace a commit's delta rows by its full file set (depth 0). */
  protected compact(row: CommitRow): void {
    const all = this.entries(row);
    this.db.prepare('DELETE FROM pfs_files WHERE commit_seq = ?').run(row.seq);
    for (const e of all)
      this.st.putFile.run(row.seq, e.path, e.datum, e.parts.join(','), e.size, e.hash);
    this.db.prepare('UPDATE pfs_commits SET depth = 0 WHERE seq = ?').run(row.seq);
    row.depth = 0;
  }

  /** True when some blob lives in pack `pack`. */
  isPackReferenced(pack: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM pfs_blobs WHERE pack = ? LIMIT 1').get(pack) !== undefined
    );
  }

  /** Locations of the stored blobs among `hashes`. */
  blobLocations(hashes: string[]): Map<string, BlobLocation> {
    const out = new Map<string, BlobLocation>();
    for (let i = 0; i < hashes.length; i += 5000) {
      const rows = this.st.blobsMany.all(
        JSON.stringify(hashes.slice(i, i + 5000)),
      ) as BlobLocation[];
      for (const r of rows) out.set(r.hash, r);
    }
    return out;
  }

  /** Location of a stored blob. */
  blobLocation(hash: string): BlobLocation | undefined {
    if (hash === EMPTY_HASH) return { hash, pack: '', offset: 0, size: 0 };
    return this.st.blob.get(hash) as BlobLocation | undefined;
  }

  protected contentHash(parts: string[]): string {
    if (parts.length === 0) return EMPTY_HASH;
    if (parts.length === 1) return parts[0];
    const h = createHash('sha256');
    for (const p of parts) h.update(this.blobs.readSync(this.blobLocation(p)!));
    return h.digest('hex');
  }

  // ===========================================================================================
  // reads
  // ===========================================================================================

  /** Resolve a file reference to its commit row and normalised path. */
  protected fileTarget(ref: FileRef): { row: CommitRow; file: ReturnType<typeof toFile> } {
    const file = toFile(ref);
    return { row: this.resolveCommit(file.commit), file };
  }

  protected notFoundFor(row: CommitRow, path: string): PachError {
    return fileNotFound(path, repoString(this.repoOf(row.repo_id)), row.id);
  }

  protected fileInfoOf(
    row: CommitRow,
    path: string,
    isDir: boolean,
    es: FileEntry[],
    datum?: string,
  ): FileInfo {
    const commit = this.commitOf(row);
    let hash: string;
    if (!isDir && es.length === 1) hash = es[0].hash;
    else {
      const h = createHash('sha256');
      for (const e of es) h.update(`${e.path}\0${e.datum}\0${e.hash}\n`);
      hash = h.digest('hex');
    }
    const file: FileInfo['file'] = { commit, path: isDir && path !== '/' ? path + '/' : path };
    if (datum) file.datum = datum;
    return {
      file,
      fileType: isDir ? FileType.DIR : FileType.FILE,
      committed: date(row.finished),
      sizeBytes: es.reduce((s, e) => s + e.size, 0),
      hash,
    };
  }

  /** inspectFile: the synchronous core of `Pachyderm.inspectFile` (see port.ts for the contract). */
  inspectFile(ref: FileRef): FileInfo {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    let at = this.entriesAt(chain, file.path);
    if (file.datum) at = at.filter((e) => e.datum === file.datum);
    if (file.path !== '/' && at.length > 0)
      return this.fileInfoOf(row, file.path, false, at, file.datum);
    let under = this.entriesUnder(chain, file.path);
    if (file.datum) under = under.filter((e) => e.datum === file.datum);
    if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
    return this.fileInfoOf(row, file.path, true, under, file.datum);
  }

  /** listFile: the synchronous core of `Pachyderm.listFile` (see port.ts for the contract). */
  listFile(
    ref: FileRef,
    opts: { paginationMarker?: string; number?: number; reverse?: boolean } = {},
  ): FileInfo[] {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    const at = file.path === '/' ? [] : this.entriesAt(chain, file.path);
    let out: FileInfo[];
    if (at.length > 0) {
      out = [this.fileInfoOf(row, file.path, false, at)];
    } else {
      const under = this.entriesUnder(chain, file.path);
      if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
      const base = file.path === '/' ? '' : file.path;
      const groups = new Map<string, { isDir: boolean; es: FileEntry[] }>();
      for (const e of under) {
        const rest = e.path.slice(base.length + 1);
        const slash = rest.indexOf('/');
        const child = base + '/' + (slash < 0 ? rest : rest.slice(0, slash));
        const g = groups.get(child) ?? { isDir: slash >= 0, es: [] };
        g.es.push(e);
        groups.set(child, g);
      }
      out = [...groups].map(([p, g]) => this.fileInfoOf(row, p, g.isDir, g.es));
    }
    if (opts.paginationMarker) {
      const m = normalizePath(opts.paginationMarker);
      out = out.filter((f) =>
        opts.reverse ? stripSlash(f.file.path) < m : stripSlash(f.file.path) > m,
      );
    }
    if (opts.reverse) out.reverse();
    if (opts.number && opts.number > 0) out = out.slice(0, opts.number);
    return out;
  }

  /** walkFile: the synchronous core of `Pachyderm.walkFile` (see port.ts for the contract). */
  walkFile(ref: FileRef): FileInfo[] {
    const { row, file } = this.fileTarget(ref);
    const chain = this.chain(row);
    const at = file.path === '/' ? [] : this.entriesAt(chain, file.path);
    if (at.length > 0) return [this.fileInfoOf(row, file.path, false, at)];
    const under = this.entriesUnder(chain, file.path);
    if (under.length === 0 && file.path !== '/') throw this.notFoundFor(row, file.path);
    const paths = [...new Set(under.map((e) => e.path))];
    const matches = globFiles(paths, file.path === '/' ? '/**' : file.path + '/**');
    const byPath = groupByPath(under);
    const out = [this.fileInfoOf(row, file.path, true, under)];
    for (const m of matches) {
      const es = m.fileIndexes.flatMap((i) => byPath.get(paths[i])!);
      out.push(this.fileInfoOf(row, m.path, m.isDir, es));
    }
    return out;
  }

  /** globFile: the synchronous core of `Pachyderm.globFile` (see port.ts for the contract). */
  globFile(ref: CommitRef, pattern: string): FileInfo[] {
    const row = this.resolveCommit(toCommit(ref));
    const all = this.entriesUnder(this.chain(row), '/');
    const paths = [...new Set(all.map((e) => e.path))];
    const byPath = groupByPath(all);
    let matches;
    try {
      matches = globFiles(paths, pattern);
    } catch (e) {
      throw invalidArgument(`glob ${JSON.stringify(pattern)} is invalid: ${(e as Error).message}`);
    }
    return matches.map((m) =>
      this.fileInfoOf(
        row,
        m.path,
        m.isDir,
        m.fileIndexes.flatMap((i) => byPath.get(paths[i])!),
      ),
    );
  }

  /** The blob locations making up one file's content (several datums: in datum order). */
  fileParts(ref: FileRef): BlobLocation[] {
    const { row, file } = this.fileTarget(ref);
    let at = file.path === '/' ? [] : this.entriesAt(this.chain(row), file.path);
    if (file.datum) at = at.filter((e) => e.datum === file.datum);
    if (at.length === 0) {
      if (file.path === '/' || this.entriesUnder(this.chain(row), file.path).length > 0) {
        throw invalidArgument(`${file.path} is a directory: GetFile reads one file`);
      }
      throw this.notFoundFor(row, file.path);
    }
    return at.flatMap((e) => e.parts.map((h) => this.blobLocation(h)!));
  }

  /** GetFile: stream a file's bytes from `offset`. */
  async *getFile(ref: FileRef, opts: { offset?: number } = {}): AsyncGenerator<Buffer> {
    const locs = this.fileParts(ref);
    let skip = Math.max(0, opts.offset ?? 0);
    for (const loc of locs) {
      if (skip >= loc.size) {
        skip -= loc.size;
        continue;
      }
      yield* this.blobs.read(loc, skip);
      skip = 0;
    }
  }
}
