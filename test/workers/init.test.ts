/**
 * `reelgraph init` as a real child process, twice on one temporary data directory: the first run
 * creates the repos, the base commit, the pipelines and a model; the second changes nothing (same
 * commits in every repo, no new job). Bootstrap run by two processes at once. Upgrading a data
 * directory whose `predict` crossed `train` (the version before the `models` repo): bootstrap
 * updates the pipeline (UpdatePipeline), and the old request ids keep their answers.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { embeddedPps } from '../../src/pachyderm/embedded/pps';
import { FileType, JobState } from '../../src/pachyderm/types';
import { type Services, createServices } from '../../src/services';
import {
  BASE_TRAINING_FILE,
  bootstrap,
  loadPipelineSpec,
  openEmbeddedEngine,
} from '../../src/services/bootstrap';
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
      expect([...a.createdRepos, ...b.createdRepos].sort()).toEqual([
        'models',
        'serving',
        'streaming',
        'training',
      ]);
      expect([...a.createdPipelines, ...b.createdPipelines].sort()).toEqual(['predict', 'train']);
      const repos: string[] = [];
      for await (const r of pach.listRepo()) repos.push(r.repo.name);
      expect(repos.sort()).toEqual([
        'models',
        'predict',
        'serving',
        'streaming',
        'train',
        'training',
      ]);
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

describe('upgrading a data directory made by the version before the `models` repo', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTemp('init-upgrade');
  });
  afterAll(() => removeTemp(dir));

  it('bootstrap updates predict to the new input; old request ids keep their answers after retiring', async () => {
    const pach = await openEmbeddedEngine(path.join(dir, 'data'));
    let services: Services | undefined;
    try {
      // the old layout: predict crossed `train` directly; requests were random names in one-off
      // commits (tiny ratings stand in for the base file, which bootstrap only checks exists)
      await pach.createRepo('training');
      await pach.createRepo('streaming');
      await pach.createPipeline(loadPipelineSpec('train'));
      const old = loadPipelineSpec('predict') as { input: unknown };
      old.input = {
        cross: [
          { pfs: { repo: 'streaming', branch: 'master', glob: '/*' } },
          { pfs: { repo: 'train', branch: 'master', glob: '/' } },
        ],
      };
      await pach.createPipeline(old);
      const base = await pach.modifyFile('training@master', [
        { op: 'put', path: BASE_TRAINING_FILE, data: 'a\tx\t4\t1\na\ty\t2\t1\nb\tx\t5\t1\n' },
      ]);
      const model = await pach.inspectJob({ pipeline: 'train', id: base.id }, { wait: true });
      expect(model.state).toBe(JobState.JOB_SUCCESS);
      const legacy: { id: string; commit: string; text: string }[] = [];
      for (let k = 0; k < 3; k++) {
        const id = crypto.randomBytes(16).toString('hex');
        const c = await pach.modifyFile('streaming@master', [
          { op: 'put', path: `/${id}`, data: `a x\nb ${k === 0 ? 'y' : 'x'}\n` },
        ]);
        const job = await pach.inspectJob({ pipeline: 'predict', id: c.id }, { wait: true });
        expect(job.state).toBe(JobState.JOB_SUCCESS);
        const text = (
          await pach.readFile({ commit: { repo: 'predict', id: c.id }, path: `/${id}` })
        ).toString();
        legacy.push({ id, commit: c.id, text });
      }

      const opts = { datasets: { datasetsDir: DATASETS, download: false } };
      const up = await bootstrap(pach, opts);
      expect(up).toMatchObject({
        createdRepos: ['models', 'serving'],
        baseCommit: null,
        createdPipelines: [],
        updatedPipelines: ['predict'],
      });
      const spec = await pach.inspectPipeline('predict');
      expect(spec.version).toBe(2);
      expect(JSON.stringify(spec.details.input)).toContain('"repo":"models"');
      const again = await bootstrap(pach, opts);
      expect(again.updatedPipelines).toEqual([]);

      services = await createServices(pach, {
        dataset: { datasetsDir: DATASETS, download: false },
      });
      const pending = async () => {
        let n = 0;
        for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
          if (f.fileType === FileType.FILE) n++;
        }
        return n;
      };
      // the legacy requests, answered again by the new pipeline's job, are retired at start-up
      for (let t0 = Date.now(); (await pending()) > 0;) {
        if (Date.now() - t0 > 60_000) throw new Error('the legacy requests were not retired');
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const l of legacy) {
        expect(await services.predictions.getResult(l.id)).toMatchObject({
          ready: true,
          error: null,
          requestCommit: l.commit,
          answerCommit: l.commit,
          modelVersion: model.outputCommit.id,
          text: l.text,
        });
      }
      // a new request goes through `models`
      const req = await services.predictions.requestPredictions([{ userId: 'a', movieId: 'x' }]);
      const it = await services.predictions.watchResult(req.requestId);
      const r = await it.next();
      expect(r.value).toMatchObject({ ready: true, modelVersion: model.outputCommit.id });
      expect(r.value!.text).toBe(legacy[1].text.split('\n')[0] + '\n');
    } finally {
      await services?.close();
      await pach.close();
    }
  });
});
