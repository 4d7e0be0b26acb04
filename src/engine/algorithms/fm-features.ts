/**
 * From attribute rows (see dataset/side-info.ts) to the sparse real-valued features a
 * factorization machine reads: one feature per categorical level, in the manner of libFM's
 * input files (Rendle, "Factorization machines with libFM", ACM TIST 3(3), 2012, section 2:
 * categorical variables one-hot, sets of categories normalised to sum to 1).
 *
 * Encoding, column by column (the column's name is the feature's prefix, `gender=F`):
 * - `title`, `releaseDate`, `imdbUrl`, `url`: left out (free text or links);
 * - `year`: the decade, `year=1990s` (a number; anything else is one level as it is);
 * - `age`: MovieLens 1M's age groups `age=<18`, `18-24`, `25-34`, `35-44`, `45-49`, `50-55`,
 *   `56+`;
 * - `zip`: its first character, `zip=9` (US zip codes' national area);
 * - a value holding `|` (e.g. `genres`): a set, each member a feature of weight 1/size;
 *   `(no genres listed)` is the empty set;
 * - any other column: one level per distinct value, weight 1; empty is no feature. A column with
 *   more than 100 distinct values and more distinct values than half its rows looks like free
 *   text or an id and is left out.
 * Feature names are sorted, so the same rows always give the same features in the same order.
 */
import type { AttributeRows } from '../dataset/side-info';

/** The encoded attributes of one kind of entity (users or items). */
export interface AttributeFeatures {
  /** Feature names, sorted (e.g. `gender=F`, `genres=Comedy`). */
  featureNames: string[];
  /** Raw ids that have at least one feature, in the order of the rows given. */
  ids: string[];
  /** Start of each id's features in `features`/`values`; length ids.length + 1. */
  offsets: Int32Array;
  /** Feature index (into `featureNames`) of each entry. */
  features: Int32Array;
  /** Value of each entry (1, or 1/size for a member of a set). */
  values: Float64Array;
}

const SKIPPED = new Set(['title', 'releaseDate', 'imdbUrl', 'url']);
const AGE_GROUPS: [number, string][] = [
  [18, '<18'],
  [25, '18-24'],
  [35, '25-34'],
  [45, '35-44'],
  [50, '45-49'],
  [56, '50-55'],
];

/** The levels of one column's value with their weights; [] when it gives no feature. */
function levels(column: string, value: string): [string, number][] {
  const v = value.trim();
  if (v === '' || v === '(no genres listed)') return [];
  if (column === 'year' && /^\d+$/.test(v)) {
    return [[`year=${Math.floor(Number(v) / 10) * 10}s`, 1]];
  }
  if (column === 'age' && /^\d+$/.test(v)) {
    const a = Number(v);
    const g = AGE_GROUPS.find(([hi]) => a < hi);
    return [[`age=${g ? g[1] : '56+'}`, 1]];
  }
  if (column === 'zip') return [[`zip=${v[0].toUpperCase()}`, 1]];
  if (v.includes('|')) {
    const members = [...new Set(v.split('|').map((s) => s.trim()))].filter((s) => s !== '');
    return members.map((m) => [`${column}=${m}`, 1 / members.length]);
  }
  return [[`${column}=${v}`, 1]];
}

/**
 * Encodes attribute rows as features (see the module comment for the rules).
 * @returns the features of every id with at least one; ids without any are left out.
 */
export function encodeAttributes(rows: AttributeRows): AttributeFeatures {
  const columns = new Set<string>();
  for (const row of rows.values()) for (const c of Object.keys(row)) columns.add(c);
  const kept: string[] = [];
  for (const c of [...columns].sort()) {
    if (SKIPPED.has(c)) continue;
    if (!['year', 'age', 'zip', 'genres'].includes(c)) {
      const distinct = new Set<string>();
      let present = 0;
      for (const row of rows.values()) {
        const v = row[c];
        if (v !== undefined && v.trim() !== '' && !v.includes('|')) {
          present++;
          distinct.add(v.trim());
        }
      }
      if (distinct.size > 100 && distinct.size > present / 2) continue;
    }
    kept.push(c);
  }
  const perId: [string, [string, number][]][] = [];
  const names = new Set<string>();
  for (const [id, row] of rows) {
    const feats: [string, number][] = [];
    for (const c of kept) {
      if (row[c] === undefined) continue;
      for (const lv of levels(c, row[c])) {
        feats.push(lv);
        names.add(lv[0]);
      }
    }
    if (feats.length > 0) perId.push([id, feats]);
  }
  const featureNames = [...names].sort();
  const index = new Map(featureNames.map((n, k) => [n, k]));
  const offsets = new Int32Array(perId.length + 1);
  let nnz = 0;
  perId.forEach(([, f], k) => (offsets[k + 1] = nnz += f.length));
  const features = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (const [, feats] of perId) {
    feats.sort((a, b) => index.get(a[0])! - index.get(b[0])!);
    for (const [n, w] of feats) {
      features[p] = index.get(n)!;
      values[p++] = w;
    }
  }
  return { featureNames, ids: perId.map(([id]) => id), offsets, features, values };
}

/** No attribute features at all. */
export function emptyEncoding(): AttributeFeatures {
  return {
    featureNames: [],
    ids: [],
    offsets: new Int32Array(1),
    features: new Int32Array(0),
    values: new Float64Array(0),
  };
}
