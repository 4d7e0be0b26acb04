/**
 * Pachyderm's glob patterns over the file paths of a commit: which entries of an input commit
 * become datums.
 *
 * Pachyderm 2.x computes a PFS input's datums with `GlobFile(commit, glob)` and makes every
 * *matching entry* (a file, or a directory together with every file under it) one datum
 * (src/server/worker/datum/iterator.go, src/server/pfs/server/source.go). The pattern language is
 * Pachyderm's fork of gobwas/glob (`github.com/pachyderm/ohmyglob`) compiled with `/` as the
 * separator:
 *
 * | syntax    | matches                                                     |
 * |-----------|-------------------------------------------------------------|
 * | `*`       | any run of characters except `/` (possibly empty)           |
 * | `**`      | any run of characters including `/`                         |
 * | `?`       | one character except `/`                                    |
 * | `[abc]`, `[a-z]`, `[!a-z]` | one character of (not of) the class         |
 * | `{a,b}`   | one of the comma-separated alternatives (which may hold globs) |
 * | `\x`      | the character `x` literally                                 |
 *
 * Paths are absolute (`/dir/file`). The cleaned glob `/` matches the root: the whole commit as one
 * datum (none when the commit holds no file). `/*` matches each top-level file or directory.
 */

/** Characters that have a meaning in a regular expression and must be escaped. */
const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegex(s: string): string {
  return s.replace(REGEX_SPECIAL, '\\$&');
}

/**
 * Clean a glob the way pachd does before storing a spec (`pfsfile.CleanPath`): ensure one leading
 * `/`, collapse repeated `/`, drop a trailing `/` and `.` segments. `""`, `"/"` and `"."` give `"/"`.
 *
 * @example cleanGlob("*") === "/*"; cleanGlob("/data/*\/") === "/data/*"
 */
export function cleanGlob(glob: string): string {
  const parts = glob.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

/**
 * Translate a glob to an anchored regular expression.
 *
 * @param glob a glob in the syntax above (cleaned or not; it is matched as given).
 * @returns a RegExp that tests a whole path.
 * @throws SyntaxError naming the glob when a `[` or `{` is not closed.
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + translate(glob, 0, glob.length, glob) + '$');
}

function translate(g: string, start: number, end: number, whole: string): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = g[i];
    if (c === '\\') {
      if (i + 1 < end) {
        out += escapeRegex(g[i + 1]);
        i += 2;
      } else {
        out += '\\\\';
        i += 1;
      }
    } else if (c === '*') {
      if (g[i + 1] === '*') {
        out += '.*';
        i += 2;
      } else {
        out += '[^/]*';
        i += 1;
      }
    } else if (c === '?') {
      out += '[^/]';
      i += 1;
    } else if (c === '[') {
      const close = findClassEnd(g, i, end);
      if (close < 0) throw new SyntaxError(`glob ${JSON.stringify(whole)}: unclosed "["`);
      let body = g.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      const cls = body.replace(/[\\\]^]/g, (m) => '\\' + m);
      out += negate ? `[^/${cls}]` : `[${cls}]`;
      i = close + 1;
    } else if (c === '{') {
      const close = findBraceEnd(g, i, end);
      if (close < 0) throw new SyntaxError(`glob ${JSON.stringify(whole)}: unclosed "{"`);
      const alternatives = splitTopLevel(g, i + 1, close);
      out += '(?:' + alternatives.map(([s, e]) => translate(g, s, e, whole)).join('|') + ')';
      i = close + 1;
    } else {
      out += escapeRegex(c);
      i += 1;
    }
  }
  return out;
}

function findClassEnd(g: string, open: number, end: number): number {
  let i = open + 1;
  if (g[i] === '!' || g[i] === '^') i++;
  if (g[i] === ']') i++; // a leading "]" is literal
  for (; i < end; i++) {
    if (g[i] === '\\') i++;
    else if (g[i] === ']') return i;
  }
  return -1;
}

function findBraceEnd(g: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    if (g[i] === '\\') i++;
    else if (g[i] === '{') depth++;
    else if (g[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitTopLevel(g: string, start: number, end: number): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  let depth = 0;
  let from = start;
  for (let i = start; i < end; i++) {
    if (g[i] === '\\') i++;
    else if (g[i] === '{' || g[i] === '[') depth++;
    else if (g[i] === '}' || g[i] === ']') depth--;
    else if (g[i] === ',' && depth === 0) {
      parts.push([from, i]);
      from = i + 1;
    }
  }
  parts.push([from, end]);
  return parts;
}

/** One entry of a commit matched by a glob: a file or a directory, with every file it covers. */
export interface GlobMatch {
  /** The matched path: `/` for the root, `/dir` for a directory (no trailing `/`), `/dir/f` for a file. */
  path: string;
  /** Whether the match is a directory (its files are every file under `path + "/"`). */
  isDir: boolean;
  /** Indexes (into the `files` argument of {@link globFiles}) of the files it covers, ascending. */
  fileIndexes: number[];
}

/**
 * The entries of a commit that a glob matches, as Pachyderm's GlobFile returns them: every file or
 * directory whose path matches, in lexicographic path order, each with the files it covers.
 *
 * @param files the commit's file paths, absolute (`/a/b.txt`); directories are implied by them
 *   (Pachyderm 2.x has no empty directories).
 * @param glob the pattern; it is cleaned first ({@link cleanGlob}), so `/` matches the root.
 * @returns the matches, sorted by path; `[]` when nothing matches or the commit is empty.
 * @throws SyntaxError for a malformed glob.
 * @example globFiles(["/a/1", "/a/2", "/b"], "/*") // → [{path:"/a", isDir:true, fileIndexes:[0,1]}, {path:"/b", isDir:false, fileIndexes:[2]}]
 */
export function globFiles(files: readonly string[], glob: string): GlobMatch[] {
  const cleaned = cleanGlob(glob);
  if (cleaned === '/') {
    return files.length === 0
      ? []
      : [{ path: '/', isDir: true, fileIndexes: files.map((_, i) => i) }];
  }
  const re = globToRegExp(cleaned);
  const matches = new Map<string, GlobMatch>();
  files.forEach((file, index) => {
    const normalized = '/' + file.split('/').filter(Boolean).join('/');
    const segments = normalized.split('/').slice(1);
    let prefix = '';
    for (let s = 0; s < segments.length; s++) {
      prefix += '/' + segments[s];
      if (!re.test(prefix)) continue;
      const isDir = s < segments.length - 1;
      let m = matches.get(prefix);
      if (!m) {
        m = { path: prefix, isDir, fileIndexes: [] };
        matches.set(prefix, m);
      }
      m.fileIndexes.push(index);
    }
  });
  return [...matches.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The values a glob's wildcards captured in one path, Pachyderm's `$1`, `$2`, … for `joinOn` and
 * `groupBy` (each `*`, `**`, `?`, character class and `{…}` group is one capture, left to right).
 *
 * @returns the captures, or `null` when the path does not match.
 * @example globCaptures("/*-*.txt", "/a-1.txt") // → ["a", "1"]
 */
export function globCaptures(glob: string, path: string): string[] | null {
  const cleaned = cleanGlob(glob);
  const re = new RegExp('^' + translateCapturing(cleaned) + '$');
  const m = re.exec(path);
  return m ? m.slice(1) : null;
}

function translateCapturing(g: string): string {
  let out = '';
  let i = 0;
  while (i < g.length) {
    const c = g[i];
    if (c === '*' || c === '?' || c === '[' || c === '{') {
      let j = i + 1;
      if (c === '*' && g[j] === '*') j++;
      else if (c === '[') j = findClassEnd(g, i, g.length) + 1;
      else if (c === '{') j = findBraceEnd(g, i, g.length) + 1;
      if (j <= i) throw new SyntaxError(`glob ${JSON.stringify(g)}: unclosed "${c}"`);
      out += '(' + translate(g, i, j, g) + ')';
      i = j;
    } else if (c === '\\' && i + 1 < g.length) {
      out += escapeRegex(g[i + 1]);
      i += 2;
    } else {
      out += escapeRegex(c);
      i++;
    }
  }
  return out;
}

/**
 * Expand `$1`, `$2`, … in a `joinOn`/`groupBy` template with a glob's captures (Pachyderm replaces
 * them with the capture groups of the input's glob).
 *
 * @example expandCaptures("$1-$2", ["a", "1"]) === "a-1"
 */
export function expandCaptures(template: string, captures: readonly string[]): string {
  return template.replace(/\$(\d+)/g, (_, n: string) => captures[Number(n) - 1] ?? '');
}
