/**
 * A preload (`node -r ./bench/sqlite-counts.js …`) that counts the SQLite statements a process runs
 * through better-sqlite3, and the rows they return or change, per SQL text. Used with
 * bench:history, it prints to stderr, at each row the bench prints, the counts since the end of
 * the set-up (the retrains and the steady load of that R), largest row counts first: the same
 * work at every R says the engine's look-ups do not grow with the history, whatever the machine's
 * load does to the times. For example:
 *
 *   node --expose-gc -r ./scripts/ts-register.js -r ./bench/sqlite-counts.js \
 *     bench/history.bench.ts --engine embedded --r 0,300,3000 --retrains 1 --duration 5
 *
 * Only the in-process engine is counted (the embedded engine; with --engine grpc the stand-in's
 * statements run in its own process).
 */
const Database = require('better-sqlite3');
const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('select 1'));
probe.close();
const stats = new Map();
function bump(sql, rows) {
  let s = stats.get(sql);
  if (!s) stats.set(sql, (s = { calls: 0, rows: 0 }));
  s.calls++;
  s.rows += rows;
}
for (const m of ['run', 'get', 'all', 'iterate']) {
  const orig = Statement[m];
  Statement[m] = function (...a) {
    const r = orig.apply(this, a);
    const rows = m === 'all' ? r.length : m === 'get' ? (r ? 1 : 0) : m === 'run' ? r.changes : 0;
    bump(this.source.replace(/\s+/g, ' ').slice(0, 140), rows);
    return r;
  };
}
const log = console.log;

console.log = (...a) => {
  const line = a.join(' ');
  if (/set-up R=/.test(line)) stats.clear();
  if (/R=\s*\d+ \|/.test(line)) {
    const tot = [...stats].reduce(
      (t, [, s]) => ({ calls: t.calls + s.calls, rows: t.rows + s.rows }),
      { calls: 0, rows: 0 },
    );
    process.stderr.write(`== SQL over retrains + load: ${tot.calls} calls, ${tot.rows} rows\n`);
    for (const [sql, s] of [...stats].sort((x, y) => y[1].rows - x[1].rows).slice(0, 14))
      process.stderr.write(
        `${String(s.calls).padStart(8)} calls ${String(s.rows).padStart(9)} rows  ${sql}\n`,
      );
    stats.clear();
  }
  log(...a);
};
