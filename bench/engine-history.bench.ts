/**
 * The embedded engine's own costs as its history grows (issue 10): each primitive measured on a
 * history of R commits and R jobs, for R in a list (default 0, 1000, 5000, 20000), on one fresh
 * data directory in the system's temporary folder (real disk, real fsyncs).
 *
 * Set-up, through the port only: a repo `hist_in` and a model-like repo `hist_model` (one commit),
 * and a pipeline `hist` whose input is the cross of `hist_in` (glob `/f`: one datum) and
 * `hist_model` (glob `/`), like `predict`'s cross of requests and model. The first commit of
 * `hist_in` writes `/f` (the one datum; its job runs `true` once); every later commit overwrites
 * `/x` only, so each job skips its one datum (no process) and the history grows by one input
 * commit, one output commit and one job per step, while the file set of a head stays the same.
 * The history is grown from one R to the next between measurements.
 *
 * At each R, per primitive, the median (and p90) of `--samples` calls in µs:
 * commit → job SUCCESS (job creation, scheduling, datum skipping, output commit), InspectCommit
 * of a head, of the model commit (read by every job: its `directSubvenance` lists every output
 * commit, as pachd's does), InspectFile, ListCommit{number: 10}, SubscribeCommit → first new
 * commit (includes pachd's replay of the history), SubscribeCommit `from` the head → first new
 * commit (what the service's watch asks for: the replay starts after `from`), InspectBranch of
 * the model branch (what the service reads instead of InspectCommit), ListJob{pipeline, number: 10}, InspectJob,
 * InspectPipeline, ListDatum; then the process's RSS and V8 heap in use after a full GC (run with
 * --expose-gc): the heap shows what JavaScript keeps, the RSS also SQLite's cache and freed memory
 * the allocator kept.
 * A figure that grows with R is a cost that does not stay flat.
 *
 * Run: `npm run bench:engine-history -- [--r 0,1000,5000,20000] [--samples 30]`
 * (= `node --expose-gc -r ./scripts/ts-register.js bench/engine-history.bench.ts`).
 * Env: REELGRAPH_BENCH_DIR (parent of the data directory).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitState, JobState } from '../src/pachyderm';
import { EmbeddedPachyderm } from '../src/pachyderm/embedded';
import { embeddedPps } from '../src/pachyderm/embedded/pps';

const HELP = `Usage: npm run bench:engine-history -- [options]

The embedded engine's primitives (commit → job, InspectCommit, InspectFile, ListCommit,
SubscribeCommit, ListJob, InspectJob, InspectPipeline, ListDatum) and the RSS, on a history of
R commits and jobs, for each R.

Options:
  --r LIST         history sizes, ascending, comma-separated (default 0,1000,5000,20000)
  --samples N      calls per primitive and R (default 30)
  --memory-only    grow the history and print only the RSS and heap at each R (no primitive
                   is measured, so no transient answer raises the RSS)
  -h, --help       this text`;

interface Args {
  sizes: number[];
  samples: number;
  memoryOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { sizes: [0, 1000, 5000, 20000], samples: 30, memoryOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      console.log(HELP);
      process.exit(0);
    } else if (a === '--r') {
      out.sizes = value()
        .split(',')
        .map((s) => Number(s));
      if (out.sizes.some((n, k) => !Number.isInteger(n) || n < 0 || (k && n < out.sizes[k - 1])))
        throw new Error(`--r: expected ascending non-negative integers, got ${argv[i]}`);
    } else if (a === '--samples') {
      out.samples = Number(value());
      if (!Number.isInteger(out.samples) || out.samples < 1)
        throw new Error(`--samples: expected a positive integer, got ${argv[i]}`);
    } else if (a === '--memory-only') {
      out.memoryOnly = true;
    } else {
      throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  return out;
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs

async function timeIt(samples: number, fn: (k: number) => Promise<unknown>): Promise<number[]> {
  await fn(-1); // warm-up
  const out: number[] = [];
  for (let k = 0; k < samples; k++) {
    const t0 = now();
    await fn(k);
    out.push(now() - t0);
  }
  return out;
}

async function drain<T>(it: AsyncIterable<T>): Promise<number> {
  let n = 0;
  for await (const x of it) n += x ? 1 : 0;
  return n;
}

/** RSS and V8 heap in use after a full GC, MiB. */
function memory(): string {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return `${(m.rss / 1048576).toFixed(0)} / ${(m.heapUsed / 1048576).toFixed(1)}`;
}

/**
 * Where the RSS is (Linux `/proc/self/status`: RssAnon = malloc'd and V8 memory, RssFile =
 * mapped files, RssShmem = shared mappings such as SQLite's WAL index `-shm`), MiB, and the size
 * of the SQLite write-ahead log (`<dir>/*-wal`), MiB: what grows when the JS heap does not.
 */
function memoryParts(dir: string): string {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? NaN) / 1024;
  const wal = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('-wal'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  const m = process.memoryUsage();
  return (
    `V8 heap committed ${(m.heapTotal / 1048576).toFixed(0)}, external ${(m.external / 1048576).toFixed(0)}; ` +
    `anon ${kb('RssAnon').toFixed(0)}, file ${kb('RssFile').toFixed(0)}, shmem ${kb('RssShmem').toFixed(0)}; ` +
    `WAL ${(wal / 1048576).toFixed(1)} MiB`
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const parent = process.env.REELGRAPH_BENCH_DIR ?? os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'reelgraph-engine-history-'));
  const pach = await EmbeddedPachyderm.open(dir, { pps: embeddedPps() });
  console.log(
    `data directory ${dir}; node ${process.version}, ${os.cpus().length} CPUs; ` +
      `uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`,
  );
  console.log(`samples per figure: ${args.samples}; figures in µs, median (p90)`);
  let step = 0;
  let lastCommit = '';
  /** One more history step: a commit of hist_in and its job. */
  const commitAndJob = async () => {
    const c = await pach.modifyFile('hist_in@master', [{ op: 'put', path: '/x', data: `${step}` }]);
    step++;
    lastCommit = c.id;
    return c.id;
  };
  const waitJob = async (id: string) => {
    const j = await pach.inspectJob({ pipeline: 'hist', id }, { wait: true });
    if (j.state !== JobState.JOB_SUCCESS) throw new Error(`job ${id}: ${j.reason}`);
  };
  try {
    await pach.createRepo('hist_in');
    await pach.createRepo('hist_model');
    await pach.modifyFile('hist_model@master', [{ op: 'put', path: '/model', data: 'm' }]);
    await pach.modifyFile('hist_in@master', [{ op: 'put', path: '/f', data: 'f' }]);
    await pach.createPipeline({
      pipeline: { name: 'hist' },
      transform: { cmd: ['true'] },
      input: {
        cross: [
          { pfs: { repo: 'hist_in', glob: '/f' } },
          { pfs: { repo: 'hist_model', glob: '/' } },
        ],
      },
    });
    const rows: string[] = [];
    const head = [
      'R',
      'commit→job',
      'InspectCommit head',
      'InspectCommit model',
      'InspectFile',
      'ListCommit(10)',
      'SubscribeCommit→new',
      'SubscribeCommit from head→new',
      'InspectBranch model',
      'ListJob(10)',
      'InspectJob',
      'InspectPipeline',
      'ListDatum',
      'RSS / heap MiB',
    ];
    console.log(head.join(' | '));
    for (const R of args.sizes) {
      const t0 = Date.now();
      let pending: string[] = [];
      while (step < R) {
        pending.push(await commitAndJob());
        if (pending.length >= 200) {
          await waitJob(pending[pending.length - 1]);
          pending = [];
        }
      }
      if (pending.length) await waitJob(pending[pending.length - 1]);
      if (R > 0)
        console.error(`history grown to ${R} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (args.memoryOnly) {
        console.log(`R = ${R}: RSS / heap ${memory()} MiB (${memoryParts(dir)})`);
        continue;
      }
      const S = args.samples;
      const fig = (v: number[]) =>
        `${quantile(v, 0.5).toFixed(0)} (${quantile(v, 0.9).toFixed(0)})`;
      const commitJob = await timeIt(S, async () => waitJob(await commitAndJob()));
      const inspHead = await timeIt(S, () => pach.inspectCommit('hist@master'));
      const inspModel = await timeIt(S, () => pach.inspectCommit('hist_model@master'));
      const inspFile = await timeIt(S, () => pach.inspectFile('hist_in@master:/x'));
      const list = await timeIt(S, async () => {
        const n = await drain(pach.listCommit('hist_in', { number: 10 }));
        if (n !== Math.min(10, step + 1)) throw new Error(`listCommit gave ${n}`);
      });
      const subscribe = await timeIt(Math.min(S, 10), async () => {
        const ac = new AbortController();
        const sub = pach.subscribeCommit('hist_in', {
          state: CommitState.FINISHED,
          signal: ac.signal,
        });
        const it = sub[Symbol.asyncIterator]();
        const want = commitAndJob();
        const id = await want;
        for (;;) {
          const r = await it.next();
          if (r.done) throw new Error('subscription ended');
          if (r.value.commit.id === id) break;
        }
        ac.abort();
        await waitJob(id);
      });
      // what the service's watch asks for since issue 10: a subscription `from` the last commit
      // it saw (the embedded engine replays only what came after it)
      const subscribeFrom = await timeIt(Math.min(S, 10), async () => {
        const ac = new AbortController();
        const head = (await pach.inspectBranch('hist_in@master')).head!;
        const sub = pach.subscribeCommit('hist_in', {
          state: CommitState.FINISHED,
          from: head,
          signal: ac.signal,
        });
        const it = sub[Symbol.asyncIterator]();
        const id = await commitAndJob();
        const r = await it.next();
        if (r.done || r.value.commit.id !== id)
          throw new Error('subscription from head: wrong commit');
        ac.abort();
        await waitJob(id);
      });
      const inspModelBranch = await timeIt(S, () => pach.inspectBranch('hist_model@master'));
      const listJob = await timeIt(S, async () => {
        const n = await drain(pach.listJob({ pipeline: 'hist', number: 10 }));
        if (n !== Math.min(10, step + 1)) throw new Error(`listJob gave ${n}`);
      });
      const inspJob = await timeIt(S, () => pach.inspectJob({ pipeline: 'hist', id: lastCommit }));
      const inspPipe = await timeIt(S, () => pach.inspectPipeline('hist'));
      const listDatum = await timeIt(S, () =>
        drain(pach.listDatum({ pipeline: 'hist', id: lastCommit })),
      );
      const line = [
        String(R),
        fig(commitJob),
        fig(inspHead),
        fig(inspModel),
        fig(inspFile),
        fig(list),
        fig(subscribe),
        fig(subscribeFrom),
        fig(inspModelBranch),
        fig(listJob),
        fig(inspJob),
        fig(inspPipe),
        fig(listDatum),
        `${memory()} (${memoryParts(dir)})`,
      ].join(' | ');
      rows.push(line);
      console.log(line);
    }
    console.log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  } finally {
    await pach.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
