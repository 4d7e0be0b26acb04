/**
 * `reelgraph init` as a real child process, twice on one temporary data directory: the first run
 * creates the repos, the base commit, the pipelines and a model; the second changes nothing (same
 * commits in every repo, no new job).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { bootstrap } from '../../src/services/bootstrap';
import { DATASETS, makeTemp, removeTemp, runReelgraph } from './helpers';

jest.setTimeout(180_000);

/** Every commit of every repo (all types) and every job, as sorted id lists. */
async function snapshot(dataDir: string) {
  const pach = await EmbeddedPachyderm.open(dataDir, {
    readonly: true,
    pps: embeddedPps({ runJobs: false }),
  });
  try {
    const commits: string[] = [];
    for await (const r of pach.listRepo({ type: '' })) {
      for await (const c of pach.listCommit(r.repo)) {
        commits.push(`${r.repo.name}.${r.repo.type}@${c.commit.id}${c.finished ? '' : ' (open)'}`);
      }
    }
    const jobs: string[] = [];
    for await (const j of pach.listJob())
      jobs.push(`${j.job.pipeline.name}@${j.job.id} ${j.state}`);
    return { commits: commits.sort(), jobs: jobs.sort() };
  } finally {
    await pach.close();
  }
}

describe('reelgraph init', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTemp('init');
  });
  afterAll(() => removeTemp(dir));

  it('initialises once, then changes nothing', async () => {
    const dataDir = path.join(dir, 'data');
    const env = { REELGRAPH_DATA_DIR: dataDir, REELGRAPH_DATASETS: DATASETS };
    const first = await runReelgraph(['init', '--no-download'], env);
    expect(first.stderr).toContain('created repo training');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created repos: training, streaming');
    expect(first.stdout).toMatch(
      /committed ml-100k ratings and catalogue \(\/base\/ml-100k\.txt, \/movies\/\d{13}-[0-9a-f]{16}\.csv, \/users\/\d{13}-[0-9a-f]{16}\.csv, \/settings\.json\) as training@[0-9a-f]{32}/,
    );
    expect(first.stdout).toContain('created pipelines: train, predict');
    expect(first.stdout).toMatch(/ratings {5}100000 \(943 users, 1682 movies; 0 replaced\)/);
    expect(first.stdout).toMatch(/holdout {5}RMSE 0\.9\d{3} {2}MAE 0\.7\d{3}/);
    const before = await snapshot(dataDir);
    // training: the base commit; train/predict outputs; spec repos; all jobs finished
    expect(before.commits.filter((c) => c.startsWith('training.user@'))).toHaveLength(1);
    expect(before.commits.filter((c) => c.endsWith('(open)'))).toEqual([]);
    expect(before.jobs.length).toBeGreaterThanOrEqual(2);

    const second = await runReelgraph(['init', '--data-dir', dataDir, '--json'], {
      REELGRAPH_DATASETS: DATASETS,
    });
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout);
    expect(result).toMatchObject({ createdRepos: [], baseCommit: null, createdPipelines: [] });
    expect(result.model.metrics.ratings).toBe(100000);
    // JobState by name, as `reelgraph jobs --json` prints it
    expect(result.model.job.state).toBe('JOB_SUCCESS');
    expect(result.model.job.job.pipeline.name).toBe('train');
    expect(first.stdout).toContain(`model: train@${result.model.commit}`);
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('fails clearly when MovieLens 100K is not found and downloading is off', async () => {
    const r = await runReelgraph(
      ['init', '--data-dir', path.join(dir, 'nodata'), '--no-download'],
      {
        REELGRAPH_DATASETS: path.join(dir, 'no-datasets'),
        XDG_CACHE_HOME: path.join(dir, 'no-cache'),
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Data set ml-100k was not found/);
    // nothing was created
    expect((await snapshot(path.join(dir, 'nodata'))).commits).toEqual([]);
  });
});

describe('bootstrap run by two processes at once (API replicas, the set-up Job)', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTemp('init-race');
  });
  afterAll(() => removeTemp(dir));

  it('each repo and pipeline is created once; the loser of a race takes it as done', async () => {
    const pach = await EmbeddedPachyderm.open(path.join(dir, 'data'), { pps: embeddedPps() });
    try {
      const opts = { datasets: { datasetsDir: DATASETS, download: false }, waitForModel: false };
      // both pass the existence checks before either creates anything
      const [a, b] = await Promise.all([bootstrap(pach, opts), bootstrap(pach, opts)]);
      expect([...a.createdRepos, ...b.createdRepos].sort()).toEqual(['streaming', 'training']);
      expect([...a.createdPipelines, ...b.createdPipelines].sort()).toEqual(['predict', 'train']);
      const repos: string[] = [];
      for await (const r of pach.listRepo()) repos.push(r.repo.name);
      expect(repos.sort()).toEqual(['predict', 'streaming', 'train', 'training']);
      // one of them committed the ratings, the other saw its open commit and committed nothing
      expect([a.baseCommit, b.baseCommit].filter(Boolean)).toHaveLength(1);
    } finally {
      await pach.close();
    }
  });
});

describe('reelgraph init --dataset', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTemp('init-dataset');
  });
  afterAll(() => removeTemp(dir));

  it('none: commits only the settings (the scale given) and waits for no model', async () => {
    const dataDir = path.join(dir, 'none');
    const r = await runReelgraph([
      'init',
      '--data-dir',
      dataDir,
      '--dataset',
      'none',
      '--rating-scale',
      '0.5,5',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      baseDescription: 'no data set: settings only',
      baseFiles: ['/settings.json'],
      model: null,
    });
    const pach = await EmbeddedPachyderm.open(dataDir, {
      readonly: true,
      pps: embeddedPps({ runJobs: false }),
    });
    try {
      const settings = await pach.readFile({ commit: 'training@master', path: '/settings.json' });
      expect(JSON.parse(settings.toString())).toEqual({ dataset: 'none', ratingScale: [0.5, 5] });
    } finally {
      await pach.close();
    }
  });

  it('a ratings file: its ratings on the scale given, a first model fit on them', async () => {
    const file = path.join(dir, 'mine.csv');
    const rows = ['user,item,rating,ts'];
    for (let u = 1; u <= 6; u++) {
      for (let i = 1; i <= 5; i++)
        if ((u * i) % 4 !== 0) rows.push(`${u},${i},${((u + i) % 10) / 2 + 0.5},${u * 10 + i}`);
    }
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const r = await runReelgraph([
      'init',
      '--data-dir',
      path.join(dir, 'file'),
      '--dataset',
      file,
      '--rating-scale',
      '0.5,5',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /committed ratings of mine\.csv \(\/base\/mine\.csv\.txt, \/settings\.json\) as training@[0-9a-f]{32}/,
    );
    // u·i divisible by 4 is left out: user 4 and movie 4 have no rating, 18 ratings remain
    expect(rows.length - 1).toBe(18);
    expect(r.stdout).toContain('ratings     18 (5 users, 4 movies; 0 replaced)');
  });

  it('refuses a scale that contradicts a built-in data set, and a dataset that is no name or file', async () => {
    const bad = await runReelgraph(
      [
        'init',
        '--data-dir',
        path.join(dir, 'bad'),
        '--dataset',
        'ml-100k',
        '--rating-scale',
        '0.5,5',
      ],
      { REELGRAPH_DATASETS: DATASETS },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'error: --rating-scale 0.5,5 does not fit ml-100k, whose ratings are on 1,5',
    );
    const none = await runReelgraph([
      'init',
      '--data-dir',
      path.join(dir, 'bad'),
      '--dataset',
      'nope',
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("error: --dataset 'nope' is neither a data set name");
  });
});
