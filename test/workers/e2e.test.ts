/**
 * Acceptance of the pipeline programs (issue 4) through the Pachyderm port, on the embedded engine
 * with MovieLens 100K: bootstrap, a first model, a request answered in order with the unknown user
 * marked, the same pairs again (same estimates), new ratings for user 1 (a new model, changed
 * estimates, the earlier answer still in the predict repo's history).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AlgoBase } from '../../src/engine/algorithms/base';
import { loadModel } from '../../src/engine/model-file';
import type { EmbeddedPachyderm } from '../../src/pachyderm/embedded';
import { PachCode } from '../../src/pachyderm/errors';
import { JobState, type JobInfo } from '../../src/pachyderm/types';
import { ModelPublisher } from '../../src/services/model-publisher';
import {
  BASE_TRAINING_FILE,
  bootstrap,
  openEmbeddedEngine,
  type BootstrapResult,
} from '../../src/services/bootstrap';
import { DATASETS, makeTemp, removeTemp } from './helpers';

jest.setTimeout(180_000);

describe('train and predict pipelines on the embedded engine (ml-100k)', () => {
  let dir: string;
  let pach: EmbeddedPachyderm;
  let boot: BootstrapResult;

  const text = async (repo: string, id: string, file: string) =>
    (await pach.readFile({ commit: { repo, id }, path: file })).toString('utf8');
  const modelAt = async (id: string): Promise<AlgoBase> =>
    loadModel(await pach.readFile({ commit: { repo: 'train', id }, path: '/model.rgm' }));
  const job = (pipeline: string, id: string): Promise<JobInfo> =>
    pach.inspectJob({ pipeline, id }, { wait: true });
  /** Commits a request file to `streaming` and waits for its predict job. */
  async function request(name: string, body: string): Promise<{ id: string; job: JobInfo }> {
    const c = await pach.modifyFile('streaming@master', [
      { op: 'put', path: `/${name}`, data: body },
    ]);
    return { id: c.id, job: await job('predict', c.id) };
  }

  beforeAll(async () => {
    dir = makeTemp('e2e');
    pach = await openEmbeddedEngine(dir);
    boot = await bootstrap(pach, { datasets: { datasetsDir: DATASETS, download: false } });
  });
  afterAll(async () => {
    await pach?.close();
    removeTemp(dir);
  });

  it('bootstrap commits u.data and the first train job gives a model of all of it', async () => {
    expect(boot.createdRepos).toEqual(['training', 'streaming', 'models', 'serving']);
    expect(boot.createdPipelines).toEqual(['train', 'predict']);
    const base = await pach.readFile({ commit: 'training@master', path: BASE_TRAINING_FILE });
    expect(base.equals(fs.readFileSync(path.join(DATASETS, 'ml-100k/u.data')))).toBe(true);
    const m = boot.model!;
    expect(m.job.state).toBe(JobState.JOB_SUCCESS);
    expect(m.manifest.trainingCommit).toBe(boot.baseCommit);
    expect(m.metrics).toMatchObject({
      algorithm: 'SVD',
      ratings: 100000,
      users: 943,
      items: 1682,
      duplicatesReplaced: 0,
    });
    // ml-100k's 90/10 holdout RMSE of SVD is ~0.93–0.95 (Surprise's documented 5-fold mean 0.934)
    expect(m.metrics.holdout!.rmse).toBeGreaterThan(0.9);
    expect(m.metrics.holdout!.rmse).toBeLessThan(0.97);
    // the stable split holds out the ratings whose key "0\t<user>\t<movie>" hashes below
    // 0.1 · 2³²: 10 149 of u.data's 100 000 (counted independently in Python)
    expect(m.metrics.holdout!.testSize).toBe(10149);
    const model = await pach.readFile({
      commit: { repo: 'train', id: m.commit },
      path: '/model.rgm',
    });
    expect(crypto.createHash('sha256').update(model).digest('hex')).toBe(m.manifest.modelSha256);
  });

  let first: { id: string; answer: string };
  const PAIRS = '1 1\n99999 50\n196 242\n';

  it('answers a request of 3 pairs in order, the unknown user marked', async () => {
    const r = await request('req-1', PAIRS);
    expect(r.job.state).toBe(JobState.JOB_SUCCESS);
    const answer = await text('predict', r.id, '/req-1');
    const algo = await modelAt(boot.model!.commit);
    const est = (u: string, i: string) => String(algo.predict(u, i).est);
    expect(answer).toBe(
      `1 1 ${est('1', '1')}\n99999 50 ${est('99999', '50')} impossible\n196 242 ${est('196', '242')}\n`,
    );
    first = { id: r.id, answer };
  });

  it('the same pairs again, without new training, get identical estimates', async () => {
    const r = await request('req-2', PAIRS);
    expect(r.job.state).toBe(JobState.JOB_SUCCESS);
    expect(r.job.dataProcessed).toBe(1); // req-1 is skipped: same model, same file
    expect(r.job.dataSkipped).toBe(1);
    expect(await text('predict', r.id, '/req-2')).toBe(first.answer);
    expect(await text('predict', r.id, '/req-1')).toBe(first.answer);
  });

  it('new ratings for user 1 give a new model; answers change; the old one stays readable', async () => {
    // user 1 rates movies 1–40 with 1 star: later lines than the u.data ratings they replace
    const lines = Array.from({ length: 40 }, (_, k) => `1\t${k + 1}\t1\n`).join('');
    const name = `/batches/${String(Date.now()).padStart(13, '0')}-${crypto.randomBytes(4).toString('hex')}.txt`;
    const c = await pach.modifyFile('training@master', [{ op: 'put', path: name, data: lines }]);
    const train = await job('train', c.id);
    expect(train.state).toBe(JobState.JOB_SUCCESS);
    const manifest = JSON.parse(await text('train', train.outputCommit.id, '/manifest.json'));
    expect(manifest.trainingCommit).toBe(c.id);
    expect(manifest.modelSha256).not.toBe(boot.model!.manifest.modelSha256);
    const metrics = JSON.parse(await text('train', train.outputCommit.id, '/metrics.json'));
    expect(metrics.ratings).toBe(100000 + 40 - overlap());
    expect(metrics.duplicatesReplaced).toBe(overlap());

    // the train commit set has no predict job: predict reads `models`, which the service
    // advances with successful models only
    await expect(pach.inspectJob({ pipeline: 'predict', id: c.id })).rejects.toMatchObject({
      code: PachCode.NOT_FOUND,
    });
    // published, the predict job of the `models` commit re-answers both requests with it
    expect(await new ModelPublisher(pach).publish(train.outputCommit.id)).toBe(true);
    const m = (await pach.inspectCommit('models@master')).commit.id;
    const predict = await job('predict', m);
    expect(predict.state).toBe(JobState.JOB_SUCCESS);
    expect(predict.dataProcessed).toBe(2);
    const answer = await text('predict', m, '/req-1');
    const algo = await modelAt(train.outputCommit.id);
    expect(answer).toBe(
      `1 1 ${algo.predict('1', '1').est}\n99999 50 ${algo.predict('99999', '50').est} impossible\n196 242 ${algo.predict('196', '242').est}\n`,
    );
    const user1 = (a: string) => Number(a.split('\n')[0].split(' ')[2]);
    expect(user1(answer)).toBeLessThan(user1(first.answer));
    // history: the answer of the first request's commit is unchanged
    expect(await text('predict', first.id, '/req-1')).toBe(first.answer);
    // datum batching: one process, the model loaded once for both datums
    const logs: string[] = [];
    for await (const l of pach.getLogs({ job: { pipeline: 'predict', id: m } })) {
      logs.push(l.message);
    }
    const answered = logs.filter((l) => l.startsWith('answered /req-'));
    expect(answered).toHaveLength(2);
    expect(answered.filter((l) => l.endsWith('(already loaded)'))).toHaveLength(1);
  });

  /** How many of user 1's movies 1–40 are already rated in u.data (they are replaced, not added). */
  function overlap(): number {
    const rated = new Set<number>();
    for (const line of fs.readFileSync(path.join(DATASETS, 'ml-100k/u.data'), 'utf8').split('\n')) {
      const [u, i] = line.split('\t');
      if (u === '1') rated.add(Number(i));
    }
    let n = 0;
    for (let i = 1; i <= 40; i++) if (rated.has(i)) n++;
    return n;
  }
});
