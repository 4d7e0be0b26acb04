/**
 * Compares two V8 heap snapshots (`.heapsnapshot`, as written by `node --heapsnapshot-signal=SIG`,
 * `v8.writeHeapSnapshot()` or Chrome DevTools) by constructor: for each (node type, constructor
 * or name) the count of objects and their self size in each snapshot, sorted by what grew most.
 * Made to find what a long-running process (e.g. `reelgraph pachd`) keeps per request, commit or
 * job (issue 10): take one snapshot at a small history and one at a larger one; a constructor
 * whose count grows in proportion to the history is the leak.
 *
 * Run: `npm run bench:heap-diff -- BEFORE.heapsnapshot AFTER.heapsnapshot
 * [--top 30]`. Reads each file whole (~30 MiB of JSON for the stand-in's 45 MiB heap).
 * The snapshot format is V8's (`snapshot.meta.node_fields` names the fields of each node in the
 * flat `nodes` array; `type` indexes `node_types[0]`, `name` indexes `strings`).
 */
import * as fs from 'node:fs';

const HELP = `Usage: npm run bench:heap-diff -- BEFORE AFTER [--top N]

Per constructor (node type and name) of two V8 heap snapshots: objects and self size in each,
sorted by the growth of the self size (top N, default 30).`;

/** Count and self size (bytes) of one group of a snapshot. */
export interface Group {
  count: number;
  size: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

/**
 * Groups the nodes of a snapshot by `type:name` (strings and numbers by type only, since their
 * names are their contents).
 * @throws Error when the file is not a V8 heap snapshot
 */
export function groupSnapshot(file: string): Map<string, Group> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot?.meta?.node_fields;
  if (!Array.isArray(fields) || !Array.isArray(snap.nodes))
    throw new Error(`${file}: not a V8 heap snapshot (no snapshot.meta.node_fields / nodes)`);
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byName = new Set(['object', 'closure', 'native', 'hidden', 'code', 'object shape']);
  const out = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]] ?? '?';
    const key = byName.has(type) ? `${type}:${snap.strings[snap.nodes[i + iName]]}` : type;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += snap.nodes[i + iSize];
    out.set(key, g);
  }
  return out;
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  let top = 30;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') {
      top = Number(argv[++i]);
      if (!Number.isInteger(top) || top < 1)
        throw new Error(`--top: expected a positive integer, got ${argv[i]}`);
    } else files.push(argv[i]);
  }
  if (files.length !== 2) throw new Error(`expected two snapshot files, got ${files.length}`);
  const [a, b] = files.map(groupSnapshot);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const rows = [...keys].map((k) => {
    const x = a.get(k) ?? { count: 0, size: 0 };
    const y = b.get(k) ?? { count: 0, size: 0 };
    return { k, x, y, grow: y.size - x.size };
  });
  rows.sort((p, q) => q.grow - p.grow);
  const total = (m: Map<string, Group>) =>
    [...m.values()].reduce((s, g) => ({ count: s.count + g.count, size: s.size + g.size }), {
      count: 0,
      size: 0,
    });
  const ta = total(a);
  const tb = total(b);
  const kib = (n: number) => (n / 1024).toFixed(0);
  console.log(
    `total: ${ta.count} → ${tb.count} objects, ${kib(ta.size)} → ${kib(tb.size)} KiB (self sizes)`,
  );
  console.log('Δ KiB | objects before → after | type:constructor');
  for (const r of rows.slice(0, top))
    console.log(
      `${kib(r.grow).padStart(7)} | ${String(r.x.count).padStart(8)} → ${String(r.y.count).padEnd(8)} | ${r.k.slice(0, 100)}`,
    );
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
