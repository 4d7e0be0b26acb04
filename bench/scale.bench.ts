/**
 * Data and training at MovieLens 25M's size (issue 17): on a synthetic ml-25m-shaped set
 * (src/engine/dataset/synthetic.ts), prints
 * - the parse rate of `ratings.csv` (Reader.parseFile, streamed), median of runs, wall and CPU;
 * - the import rate (`reelgraph import ratings` as a child process into a fresh embedded data
 *   directory, chunks of 1M ratings), median of `--import-runs`, its ratio to the parse rate, the
 *   child's peak RSS (`/usr/bin/time -f %M`) and CPU, and the commits the import made on
 *   `training@master` (1: the chunks are staged on a side branch and published in one commit);
 * - the fit in the train worker's data path (bench/scale-fit-child.ts: readTrainingRatings →
 *   Trainset.build → fit, SVD 100 factors 20 epochs by default) in a child: read, build and fit
 *   seconds, epochs/s, and the child's peak RSS (process.resourceUsage().maxRSS).
 * `uptime` is printed first: on a shared machine the wall times depend on the load.
 *
 * Run: npm run bench:scale -- [--ratings N] [--movies M] [--seed S] [--algo svd|svdpp|nmf]
 *   [--factors F] [--epochs E] [--runs R] [--import-runs R] [--skip-import] [--skip-fit]
 *   [--params JSON]
 * (`--params` adds hyper-parameters, e.g. `'{"kernel": "simd", "threads": 2}'` for SVD)
 * The generated file is kept in $TMPDIR as reelgraph-scale-N-M-S.csv and reused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSynthetic, ML25M_SHAPE } from '../src/engine/dataset/synthetic';
import { Reader } from '../src/engine/dataset/reader';
import { EmbeddedPachyderm } from '../src/pachyderm/embedded';

const { values } = parseArgs({
  options: {
    ratings: { type: 'string', default: String(ML25M_SHAPE.ratings) },
    movies: { type: 'string', default: String(ML25M_SHAPE.ratedMovies) },
    seed: { type: 'string', default: '1' },
    algo: { type: 'string', default: 'svd' },
    factors: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '20' },
    runs: { type: 'string' },
    params: { type: 'string', default: '{}' },
    'skip-import': { type: 'boolean', default: false },
    'skip-fit': { type: 'boolean', default: false },
    'import-runs': { type: 'string' },
  },
});
const ROOT = path.resolve(__dirname, '..');
const N = Number(values.ratings);
const M = Number(values.movies);
const seed = Number(values.seed);
const runs = Number(values.runs ?? (N > 5_000_000 ? 1 : 3));
const importRuns = Number(values['import-runs'] ?? runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const log = (s: string) => process.stdout.write(s + '\n');

async function main(): Promise<void> {
  log(`uptime: ${execFileSync('uptime').toString().trim()}`);
  log(`cores: ${os.cpus().length}, node ${process.version}`);
  const file = path.join(os.tmpdir(), `reelgraph-scale-${N}-${M}-${seed}.csv`);
  if (!fs.existsSync(file)) {
    const t = Date.now();
    generateSynthetic(file, { ratings: N, movies: M, seed });
    log(`generated ${file} in ${((Date.now() - t) / 1000).toFixed(1)} s (seed ${seed})`);
  } else log(`reusing ${file} (seed ${seed})`);
  log(`file: ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB, ${N} ratings, ${M} movies`);

  // Parse rate, in this process.
  const reader = new Reader({
    lineFormat: 'user item rating timestamp',
    sep: ',',
    skipLines: 1,
    ratingScale: [0.5, 5],
  });
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const raw = reader.parseFile(file);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    if (raw.length !== N) throw new Error(`parsed ${raw.length} ratings, expected ${N}`);
  }
  log(
    `parse: ${(N / median(wall) / 1e6).toFixed(2)} M ratings/s wall (median ${median(wall).toFixed(2)} s of ${runs}), ` +
      `${(N / median(cpu) / 1e6).toFixed(2)} M ratings/s CPU; this process's peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-scale-'));
  const trainDir = path.join(work, 'training');
  fs.mkdirSync(path.join(trainDir, 'batches'), { recursive: true });
  try {
    if (!values['skip-import']) {
      const dataDir = path.join(work, 'data');
      const seconds: number[] = [];
      const rss: number[] = [];
      const cpuS: number[] = [];
      let masterCommits = 0;
      let staged = 0;
      for (let k = 0; k < importRuns; k++) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        const p = await EmbeddedPachyderm.open(dataDir);
        await p.createRepo('training');
        await p.modifyFile('training@master', [
          {
            op: 'put',
            path: '/settings.json',
            data: JSON.stringify({ dataset: 'synthetic', ratingScale: [0.5, 5] }),
          },
        ]);
        await p.close();
        const t0 = Date.now();
        const r = spawnSync(
          '/usr/bin/time',
          [
            '-f',
            '%M %U %S',
            process.execPath,
            '-r',
            path.join(ROOT, 'scripts/ts-register.js'),
            path.join(ROOT, 'src/cli/main.ts'),
            'import',
            'ratings',
            file,
            '--data-dir',
            dataDir,
            '--json',
          ],
          { encoding: 'utf8', maxBuffer: 1 << 26 },
        );
        seconds.push((Date.now() - t0) / 1000);
        if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
        const [kib, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
        rss.push(kib / 1024);
        cpuS.push(user + sys);
        const out = JSON.parse(r.stdout) as { committed: number; ratings: number };
        if (out.ratings !== N) throw new Error(`imported ${out.ratings} ratings, expected ${N}`);
        staged = out.committed;
        const q = await EmbeddedPachyderm.open(dataDir, { readonly: true });
        masterCommits = -1; // the settings commit made above
        for await (const c of q.listCommit('training', { to: 'training@master' })) {
          void c;
          masterCommits++;
        }
        await q.close();
      }
      const importRate = N / median(seconds) / 1e6;
      const parseRate = N / median(wall) / 1e6;
      log(
        `import: ${importRate.toFixed(2)} M ratings/s wall (median ${median(seconds).toFixed(1)} s of ${importRuns}), ` +
          `${(N / median(cpuS) / 1e6).toFixed(2)} M ratings/s CPU; ${((100 * importRate) / parseRate).toFixed(0)} % of the parse rate ` +
          `(${parseRate.toFixed(2)} M/s); ${staged} chunks staged, ${masterCommits} commit${masterCommits === 1 ? '' : 's'} on training@master; ` +
          `peak RSS ${Math.max(...rss).toFixed(0)} MiB (median ${median(rss).toFixed(0)})`,
      );
      if (values['skip-fit']) {
        log(`uptime: ${execFileSync('uptime').toString().trim()}`);
        return;
      }
      // the training directory as the pipeline would mount it
      const q = await EmbeddedPachyderm.open(dataDir, { readonly: true });
      for await (const f of q.listFile({ commit: 'training@master', path: '/batches/' })) {
        const dest = path.join(trainDir, 'batches', path.basename(f.file.path));
        const ws = fs.openSync(dest, 'w');
        for await (const chunk of q.getFile({ commit: 'training@master', path: f.file.path })) {
          fs.writeSync(ws, chunk);
        }
        fs.closeSync(ws);
      }
      await q.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    } else {
      generateSynthetic(path.join(trainDir, 'batches', 'all.txt'), {
        ratings: N,
        movies: M,
        seed,
        format: 'udata',
      });
    }
    const t0 = Date.now();
    const r = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=4096',
        '-r',
        path.join(ROOT, 'scripts/ts-register.js'),
        path.join(ROOT, 'bench/scale-fit-child.ts'),
        trainDir,
        values.algo!,
        values.factors!,
        values.epochs!,
        values.params!,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`fit failed: ${r.stderr}`);
    const f = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    log(
      `fit ${values.algo} (${values.factors} factors, ${values.epochs} epochs, params ${values.params}) in the train worker's path on ` +
        `${f.ratings} ratings (${f.users} users, ${f.items} movies): read ${f.readSeconds.toFixed(1)} s, ` +
        `trainset ${f.buildSeconds.toFixed(1)} s, fit ${f.fitSeconds.toFixed(1)} s wall, ` +
        `${f.fitCpuSeconds.toFixed(1)} s CPU (${f.epochsPerSecond.toFixed(3)} epochs/s wall, ` +
        `${f.epochsPerCpuSecond.toFixed(3)} per CPU second); child total ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
        `peak RSS ${f.maxRssMiB.toFixed(0)} MiB`,
    );
    log(`uptime: ${execFileSync('uptime').toString().trim()}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
