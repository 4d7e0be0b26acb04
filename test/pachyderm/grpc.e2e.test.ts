/**
 * End to end through gRPC, with real child processes: `reelgraph pachd --auth` serves a fresh data
 * directory as a 2.12 pachd does by default — Pachyderm auth on, and a finishing window after
 * each FinishCommit; the operator makes robot tokens and binds the roles reelgraph documents
 * (`reelgraph auth robot-token`, `reelgraph auth setup`); `reelgraph init --pachd-address …`, with
 * the init robot's token, creates the repos and pipelines and commits
 * MovieLens 100K (from REELGRAPH_DATASETS) through the gRPC client; then the application services
 * run in this process on a gRPC client (REELGRAPH_PACHD_ADDRESS, as the API does): a rating batch
 * gives a new model, published to `models`; a prediction request gets its answer, computed with
 * that model, and is then retired from the head of `streaming`; `reelgraph
 * serve` with REELGRAPH_PACHD_ADDRESS answers GraphQL from the cluster. Finally `reelgraph repos`
 * reads the cluster and SIGTERM stops pachd cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel } from '../../src/engine/model-file';
import type { Pachyderm } from '../../src/pachyderm/port';
import { JobState } from '../../src/pachyderm/types';
import { openEngine, pachdFromEnv } from '../../src/services/bootstrap';
import { createServices, type PredictionResult, type Services } from '../../src/services';
import { ModelPublisher } from '../../src/services/model-publisher';
import { DATASETS, ROOT, runCli } from '../cli/run-cli';

jest.setTimeout(120_000);

const ROOT_TOKEN = 'e2e-root-token-0123456789';

describe('reelgraph through gRPC: pachd stand-in, init, ratings → model, request → answer', () => {
  let dir: string;
  let pachd: ChildProcess;
  let stderr = '';
  let address: string;
  let pach: Pachyderm;
  let services: Services;
  /** The training commits made through gRPC: MovieLens 100K by init, then the batch. */
  const trainingCommits: string[] = [];
  /** Robot tokens made by the operator (root token), by robot. */
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-grpc-e2e-'));
    pachd = spawn(
      process.execPath,
      [
        '-r',
        path.join(ROOT, 'scripts/ts-register.js'),
        path.join(ROOT, 'src/cli/main.ts'),
        'pachd',
        '--port',
        '0',
        '--data-dir',
        path.join(dir, 'pachd'),
        '--auth',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, REELGRAPH_PACHD_TOKEN: '', REELGRAPH_PACHD_ROOT_TOKEN: ROOT_TOKEN },
      },
    );
    pachd.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    for (let i = 0; i < 600 && !/on (\S+) \(/.test(stderr); i++) {
      if (pachd.exitCode !== null) throw new Error(`reelgraph pachd exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    address = `grpc://${/on (\S+) \(/.exec(stderr)![1]}`;
  });

  afterAll(async () => {
    await services?.close();
    await pach?.close();
    if (pachd && pachd.exitCode === null) pachd.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints its address and binds 127.0.0.1', () => {
    expect(address).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    expect(stderr).toMatch(/auth on/);
  });

  it('the operator makes robot tokens and binds the roles reelgraph needs', async () => {
    const asRoot = { REELGRAPH_PACHD_ADDRESS: address, REELGRAPH_PACHD_TOKEN: ROOT_TOKEN };
    for (const robot of ['reelgraph-init', 'reelgraph-api']) {
      const r = await runCli(['auth', 'robot-token', robot], asRoot);
      expect(r.stderr).toBe('');
      tokens[robot] = r.stdout.trim();
      expect(tokens[robot]).toMatch(/^[0-9a-f]{32}$/);
    }
    const who = await runCli(['auth', 'whoami'], {
      ...asRoot,
      REELGRAPH_PACHD_TOKEN: tokens['reelgraph-api'],
    });
    expect(who.stdout).toBe('robot:reelgraph-api\n');
    // without a token, init is refused by name
    const refused = await runCli(
      ['init', '--pachd-address', address, '--datasets', DATASETS, '--no-download'],
      { REELGRAPH_DATA_DIR: path.join(dir, 'unused'), REELGRAPH_PACHD_TOKEN: '' },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED|no authentication token/);
    const setup = await runCli(['auth', 'setup'], asRoot);
    expect(setup.code).toBe(0);
    expect(setup.stdout).toMatch(/robot:reelgraph-api: repoWriter on REPO default\/training/);
  });

  it('reelgraph init bootstraps the cluster over gRPC', async () => {
    const r = await runCli(
      ['init', '--pachd-address', address, '--datasets', DATASETS, '--no-download', '--json'],
      {
        REELGRAPH_DATA_DIR: path.join(dir, 'unused'),
        REELGRAPH_PACHD_TOKEN: tokens['reelgraph-init'],
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      createdRepos: string[];
      createdPipelines: string[];
      baseCommit: string;
      model: { job: { state: string }; commit: string; manifest: { trainingCommit: string } };
    };
    expect(out.createdRepos).toEqual(['training', 'streaming', 'models', 'serving']);
    expect(out.createdPipelines).toEqual(['train', 'predict']);
    expect(out.model.job.state).toBe('JOB_SUCCESS');
    // the first model was trained on the MovieLens commit made through gRPC
    expect(out.baseCommit).toMatch(/^[0-9a-f]{32}$/);
    expect(out.model.manifest.trainingCommit).toBe(out.baseCommit);
    trainingCommits.push(out.baseCommit);
    // nothing was written next to the client
    expect(fs.existsSync(path.join(dir, 'unused'))).toBe(false);
  });

  it('a rating batch makes a model; a prediction request is answered with it', async () => {
    pach = await openEngine({
      dataDir: path.join(dir, 'unused'),
      ...pachdFromEnv({
        REELGRAPH_PACHD_ADDRESS: address,
        REELGRAPH_PACHD_TOKEN: tokens['reelgraph-api'],
      }),
    });
    // the API's robot writes data and reads results, nothing more
    await expect(pach.deleteRepo('training')).rejects.toThrow(
      /robot:reelgraph-api is not authorized .* needs role repoOwner on REPO default\/training/,
    );
    const logs: string[] = [];
    services = await createServices(
      pach,
      { dataset: { datasetsDir: DATASETS, download: false } },
      { log: (m) => logs.push(m) },
    );
    const batch = await services.ratings.addRatings([
      { userId: '1', movieId: '1', rating: 1 },
      { userId: '944', movieId: '50', rating: 5 },
    ]);
    trainingCommits.push(batch.commit);
    const train = await pach.inspectJob({ pipeline: 'train', id: batch.commit }, { wait: true });
    expect(train.state).toBe(JobState.JOB_SUCCESS);
    expect(train.inputCommits.map((c) => `${c.repo.name}@${c.id}`)).toEqual([
      `training@${batch.commit}`,
    ]);

    // predict reads `models`: the service publishes the new model there (through gRPC)
    for (const t0 = Date.now(); services.models.currentVersion() !== batch.commit;) {
      if (Date.now() - t0 > 60_000)
        throw new Error(`train@${batch.commit} not served; services said: ${logs.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    // before the retrain, the batch was published with the model it was folded into (a copy
    // from `training` through gRPC); publishing the new model removed it again
    const publisher = new ModelPublisher(pach);
    const head = await pach.inspectCommit('models@master');
    expect(await publisher.record(head.commit.id)).toMatchObject({ version: batch.commit });
    expect(await publisher.record(head.parentCommit!.id)).toMatchObject({
      foldIn: { through: batch.commit, batches: 1 },
    });
    const folded: string[] = [];
    for await (const f of pach.listFile({ commit: head.parentCommit!, path: '/fold-in/' })) {
      folded.push(f.file.path);
    }
    expect(folded).toEqual([expect.stringContaining(`-${batch.commit}-`)]);
    const top: string[] = [];
    for await (const f of pach.listFile({ commit: 'models@master', path: '/' })) {
      top.push(f.file.path);
    }
    expect(top).not.toContain('/fold-in/');
    const receipt = await services.predictions.requestPredictions([
      { userId: '944', movieId: '50' },
      { userId: '1', movieId: '2' },
      { userId: 'nobody', movieId: '1' },
    ]);
    const it = (await services.predictions.watchResult(receipt.requestId))[Symbol.asyncIterator]();
    const result = (await it.next()).value as PredictionResult;
    expect(result.ready).toBe(true);
    expect(result.error).toBeNull();
    expect(result.modelVersion).toBe(batch.commit);
    expect(result.predictions.map((p) => [p.userId, p.movieId, p.wasImpossible])).toEqual([
      ['944', '50', false],
      ['1', '2', false],
      ['nobody', '1', true],
    ]);
    // the answers are the model's own estimates (read back from the train commit)
    const model = loadModel(
      await pach.readFile({ commit: { repo: 'train', id: batch.commit }, path: '/model.rgm' }),
    );
    for (const p of result.predictions) {
      expect(p.estimate).toBeCloseTo(model.predict(p.userId, p.movieId).est, 10);
    }
    // the answered request is retired from the head of `streaming` through gRPC, and its
    // answer stays where it was
    for (const t0 = Date.now(); ;) {
      const files: string[] = [];
      for await (const f of pach.listFile({ commit: 'streaming@master', path: '/' })) {
        files.push(f.file.path);
      }
      if (files.length === 0) break;
      if (Date.now() - t0 > 60_000) throw new Error(`still pending: ${files.join(' ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const again = await services.predictions.getResult(receipt.requestId);
    expect(again).toMatchObject({
      ready: true,
      text: result.text,
      modelVersion: batch.commit,
      answerCommit: receipt.requestId,
    });
    expect(logs).toEqual([]);
  });

  it('reelgraph serve runs the API on the cluster (REELGRAPH_PACHD_ADDRESS)', async () => {
    const api = spawn(
      process.execPath,
      [
        '-r',
        path.join(ROOT, 'scripts/ts-register.js'),
        path.join(ROOT, 'src/cli/main.ts'),
        'serve',
        '--port',
        '0',
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          REELGRAPH_PACHD_ADDRESS: address,
          REELGRAPH_PACHD_TOKEN: tokens['reelgraph-api'],
          REELGRAPH_DATA_DIR: path.join(dir, 'api-unused'),
          REELGRAPH_DATASETS: DATASETS,
          REELGRAPH_API_TOKENS: '',
          LOG_LEVEL: 'silent',
        },
      },
    );
    let err = '';
    api.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      for (let i = 0; i < 1200 && !/listening on (http:\S+)/.test(err); i++) {
        if (api.exitCode !== null) throw new Error(`reelgraph serve exited: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (http:\S+)/.exec(err)![1];
      const gql = async (query: string) => {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { data: Record<string, { name?: string; id?: string }[]> };
      };
      const repos = await gql('{ repos { name } }');
      expect(repos.data.repos.map((r) => r.name).sort()).toEqual(
        ['models', 'predict', 'serving', 'streaming', 'train', 'training'].sort(),
      );
      // the commits made above through gRPC, newest first
      const commits = await gql('{ commits(repo: "training", first: 5) { id } }');
      expect(commits.data.commits.map((c) => c.id)).toEqual([...trainingCommits].reverse());
    } finally {
      const exited = new Promise<number | null>((resolve) => api.on('exit', (c) => resolve(c)));
      api.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('reelgraph repos reads the cluster; SIGTERM stops pachd gracefully', async () => {
    const r = await runCli(['repos', '--pachd-address', address, '--json'], {
      REELGRAPH_PACHD_TOKEN: tokens['reelgraph-api'],
    });
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { name?: string; repo?: { name: string } }[]).map(
      (x) => x.name ?? x.repo?.name,
    );
    expect(names).toEqual(expect.arrayContaining(['training', 'streaming', 'train', 'predict']));
    await services.close();
    await pach.close();
    const exited = new Promise<number | null>((resolve) =>
      pachd.on('exit', (code) => resolve(code)),
    );
    pachd.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/reelgraph pachd: stopped/);
  });
});
