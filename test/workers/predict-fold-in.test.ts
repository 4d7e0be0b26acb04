/**
 * The predict program's fold-in (src/workers/predict-fold-in.ts, `answerRequests` with it) and the
 * service's reading of its answer lines (src/services/answers.ts): a `models` directory with
 * `fold-in/` batch files makes the answers of their users the engine's fold-in of the user's
 * ratings (BaselineOnly ALS, worked out by hand: b_u = Σ (r − μ − b_i) / (regU + n)), marked
 * `folded-in`; other users keep the trained model's estimate.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineOnly } from '../../src/engine/algorithms/baseline-only';
import { KNNBasic } from '../../src/engine/algorithms/knn';
import { parseAnswers } from '../../src/services/answers';
import { answerRequests } from '../../src/workers/predict';
import { foldInOf, parseBatchText } from '../../src/workers/predict-fold-in';
import { trainsetOf } from '../engine/helpers';

// μ = 3; BaselineOnly ALS with regU 1; b_i set by hand: i0 +1, i1 −1
function model(): BaselineOnly {
  const algo = new BaselineOnly({ bslOptions: { method: 'als', regU: 1 } }).fit(
    trainsetOf([
      ['a', 'i0', 4],
      ['a', 'i1', 2],
      ['b', 'i0', 3],
    ]),
  );
  algo.bi = Float64Array.from([1, -1]);
  return algo;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-predict-fold-in-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('reads batch lines with or without a timestamp and skips lines that do not parse', () => {
  expect(parseBatchText('u1 m1 4 1700000000\nu2\tm2\t2.5\n\nbad line\nu3 m3 x 1\n')).toEqual([
    { userId: 'u1', movieId: 'm1', rating: 4 },
    { userId: 'u2', movieId: 'm2', rating: 2.5 },
  ]);
});

test('answers the users of the published batches from their folded-in bias, in commit order, and marks them folded-in', () => {
  const algo = model();
  fs.mkdirSync(path.join(dir, 'fold-in'));
  // name order = commit order: the second file's rating of i0 wins for "new"
  fs.writeFileSync(path.join(dir, 'fold-in', '0000000000200-c1-x.txt'), 'new i0 5 1\na i1 5 1\n');
  fs.writeFileSync(path.join(dir, 'fold-in', '0000000000300-c2-y.txt'), 'new i0 1 1\n');
  const f = foldInOf(dir, algo);
  expect(f).toMatchObject({ batches: 2, ratings: 3 });
  const text = answerRequests('new i1\na i0\nb i1\nnew zz\n', algo, undefined, f.overlay);
  // new: i0 → 1: b_u = (1 − 3 − 1) / 2 = −1.5; est(i1) = 3 − 1.5 − 1 = 0.5 → clipped to 1
  // a: i0 4 (trainset), i1 5 (batch): ((4−3−1) + (5−3+1)) / (1 + 2) = 1; est(i0) = 3 + 1 + 1 = 5
  // b: no batch: the trained model; new zz: unknown movie → μ + b_u = 1.5, impossible
  const b = algo.predict('b', 'i1').est;
  expect(text).toBe(
    `new i1 1 folded-in\na i0 5 folded-in\nb i1 ${b}\nnew zz 1.5 impossible folded-in\n`,
  );
  expect(parseAnswers(text).predictions).toEqual([
    { userId: 'new', movieId: 'i1', estimate: 1, wasImpossible: false, modelSource: 'FOLDED_IN' },
    { userId: 'a', movieId: 'i0', estimate: 5, wasImpossible: false, modelSource: 'FOLDED_IN' },
    { userId: 'b', movieId: 'i1', estimate: b, wasImpossible: false, modelSource: 'TRAINED' },
    { userId: 'new', movieId: 'zz', estimate: 1.5, wasImpossible: true, modelSource: 'FOLDED_IN' },
  ]);
});

test('answers a k-NN model’s folded user as the engine folds them (KNNBasic, user-based msd)', () => {
  const algo = new KNNBasic({ k: 2, simOptions: { name: 'msd', userBased: true } }).fit(
    trainsetOf([
      ['a', 'i0', 4],
      ['a', 'i1', 2],
      ['b', 'i0', 3],
      ['b', 'i1', 5],
    ]),
  );
  fs.mkdirSync(path.join(dir, 'fold-in'));
  fs.writeFileSync(path.join(dir, 'fold-in', '0000000000200-c1-x.txt'), 'new i0 4 1\n');
  const f = foldInOf(dir, algo);
  // new rated i0 = 4: msd with a (common i0, 4 vs 4) = 1 / (0 + 1) = 1; with b (4 vs 3) = 1/2;
  // i1 from both: (1·2 + 0.5·5) / (1 + 0.5) = 3
  expect(answerRequests('new i1\n', algo, undefined, f.overlay)).toBe('new i1 3 folded-in\n');
});

test('has no fold-in when the models commit holds no fold-in directory', () => {
  expect(foldInOf(dir, model())).toEqual({ overlay: null, batches: 0, ratings: 0 });
});
