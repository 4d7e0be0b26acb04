/**
 * The predict pipeline program: request parsing in-process, then `reelgraph worker predict` as a
 * real child process over a temporary /pfs layout with a model fitted here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BaselineOnly, SVD } from '../../src/engine/algorithms';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { readModelFile, writeModelFile } from '../../src/engine/model-file';
import { Trainset } from '../../src/engine/trainset';
import { parseRequests } from '../../src/workers/predict';
import { layInput, makeTemp, removeTemp, runReelgraph } from './helpers';

// users 1..3, movies 10..12
const RAW = new RawRatings(
  ['1', '1', '2', '2', '3', '3'],
  ['10', '11', '10', '12', '11', '12'],
  Float64Array.from([5, 3, 4, 1, 2, 5]),
);

describe('request files', () => {
  it('parses pairs, skips blank lines and numbers bad lines from 1', () => {
    expect(parseRequests('\ufeff1 10\n\n 2\t11 \r\nx\n3 4 5\n')).toEqual([
      { line: 1, user: '1', movie: '10' },
      { line: 3, user: '2', movie: '11' },
      { line: 4, problem: expect.stringContaining('found 1: "x"') },
      { line: 5, problem: expect.stringContaining('expected 2 fields "user_id movie_id"') },
    ]);
    expect(parseRequests('')).toEqual([]);
  });
});

describe('reelgraph worker predict (child process)', () => {
  let dir: string;
  let modelFile: string;
  beforeAll(() => {
    dir = makeTemp('predict');
    modelFile = path.join(dir, 'model.rgm');
    writeModelFile(
      modelFile,
      new SVD({ randomState: 0, nFactors: 4 }).fit(Trainset.build(RAW, [1, 5])),
    );
  });
  afterAll(() => removeTemp(dir));

  /** A pfs root with the model under train/ (an old pipeline's layout) and `requests` under streaming/. */
  function pfs(name: string, requests: Record<string, string>, model = modelFile): string {
    const root = path.join(dir, name);
    layInput(root, 'streaming', requests);
    layInput(root, 'train', fs.existsSync(model) ? { '/model.rgm': fs.readFileSync(model) } : {});
    fs.mkdirSync(path.join(root, 'train'), { recursive: true }); // an old pipeline's input
    return root;
  }

  it('answers each line in order, marks unknown ids, reports bad lines in place', async () => {
    const root = pfs('order', {
      '/req-1': '3 10\n1 99\n\n42 11\nnot a pair\n2 12\n77 88\n',
      '/req-2': '1 10\n',
    });
    const r = await runReelgraph(['worker', 'predict'], {
      REELGRAPH_PFS_ROOT: root,
      streaming: path.join(root, 'streaming', 'req-1'),
      train_COMMIT: 'a'.repeat(32),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('answered /req-1: 5 pairs (3 impossible), 1 bad lines');
    // only the datum's file is answered
    expect(fs.readdirSync(path.join(root, 'out'))).toEqual(['req-1']);

    const algo = readModelFile(modelFile);
    const est = (u: string, i: string) => String(algo.predict(u, i).est);
    const lines = fs.readFileSync(path.join(root, 'out', 'req-1'), 'utf8').split('\n');
    expect(lines).toEqual([
      `3 10 ${est('3', '10')}`,
      `1 99 ${est('1', '99')} impossible`,
      `42 11 ${est('42', '11')} impossible`,
      expect.stringMatching(/^# error line 5: expected 2 fields "user_id movie_id" .*found 3/),
      `2 12 ${est('2', '12')}`,
      `77 88 ${est('77', '88')} impossible`,
      '',
    ]);
    // SVD (biased) for an unknown user: global mean + the movie's bias; both unknown: global mean
    const mu = algo.trainset.globalMean;
    expect(Number(lines[5].split(' ')[2])).toBe(mu);
    expect(Number(lines[2].split(' ')[2])).not.toBe(mu);
    // estimates round-trip exactly
    expect(Number(lines[0].split(' ')[2])).toBe(algo.predict('3', '10').est);
  });

  it('without a datum path answers every request file; a directory keeps its layout', async () => {
    const root = pfs('all', { '/a': '1 12\n', '/dir/b': '2 11\n', '/empty': '' });
    const r = await runReelgraph(['worker', 'predict'], { REELGRAPH_PFS_ROOT: root });
    expect(r.code).toBe(0);
    const algo = readModelFile(modelFile);
    const out = (p: string) => fs.readFileSync(path.join(root, 'out', p), 'utf8');
    expect(out('a')).toBe(`1 12 ${algo.predict('1', '12').est}\n`);
    expect(out('dir/b')).toBe(`2 11 ${algo.predict('2', '11').est}\n`);
    expect(out('empty')).toBe('');
  });

  it('uses whatever algorithm the model file holds', async () => {
    const other = path.join(dir, 'baseline.rgm');
    const algo = new BaselineOnly().fit(Trainset.build(RAW, [1, 5]));
    writeModelFile(other, algo);
    const root = pfs('baseline', { '/q': '2 11\n' }, other);
    const r = await runReelgraph(['worker', 'predict'], { REELGRAPH_PFS_ROOT: root });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(root, 'out', 'q'), 'utf8')).toBe(
      `2 11 ${algo.predict('2', '11').est}\n`,
    );
  });

  it('fails the datum when the model is missing or corrupt', async () => {
    const missing = pfs('missing', { '/q': '1 10\n' }, path.join(dir, 'nope.rgm'));
    const r = await runReelgraph(['worker', 'predict'], { REELGRAPH_PFS_ROOT: missing });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: no model at .*train\/model\.rgm/);

    const bad = path.join(dir, 'bad.rgm');
    fs.writeFileSync(bad, 'not a model');
    const corrupt = pfs('corrupt', { '/q': '1 10\n' }, bad);
    const r2 = await runReelgraph(['worker', 'predict'], { REELGRAPH_PFS_ROOT: corrupt });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^error: .*model\.rgm: /);
    expect(fs.readdirSync(path.join(corrupt, 'out'))).toEqual([]);
  });

  it('reads the model from the `models` input and names the version of its serving.json', async () => {
    const root = path.join(dir, 'models-input');
    layInput(root, 'streaming', { '/r': '3 10\n1 99\n' });
    const version = 'c'.repeat(32);
    layInput(root, 'models', {
      '/model.rgm': fs.readFileSync(modelFile),
      '/serving.json': JSON.stringify({ version, pinned: false, reason: null }),
    });
    const r = await runReelgraph(['worker', 'predict'], {
      REELGRAPH_PFS_ROOT: root,
      streaming: path.join(root, 'streaming', 'r'),
      models_COMMIT: 'd'.repeat(32),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`model of train commit ${version}`);
    const algo = readModelFile(modelFile);
    expect(fs.readFileSync(path.join(root, 'out', 'r'), 'utf8')).toBe(
      `3 10 ${algo.predict('3', '10').est}\n1 99 ${algo.predict('1', '99').est} impossible\n`,
    );
  });

  it('with an empty `models` input (no model published yet) writes nothing and succeeds', async () => {
    const root = path.join(dir, 'models-empty');
    layInput(root, 'streaming', { '/r': '3 10\n' });
    layInput(root, 'models', {});
    const r = await runReelgraph(['worker', 'predict'], {
      REELGRAPH_PFS_ROOT: root,
      streaming: path.join(root, 'streaming', 'r'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no model in the models input yet');
    expect(fs.readdirSync(path.join(root, 'out'))).toEqual([]);
  });

  it('refuses an unknown worker name as a usage error', async () => {
    const r = await runReelgraph(['worker', 'serve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown worker 'serve'; expected one of: train, predict");
  });
});
