import * as fs from 'fs';
import * as path from 'path';
import { Trainset } from '../../src/engine/trainset';
import {
  KNNBasic,
  KNNWithMeans,
  KNNWithZScore,
  KNNBaseline,
  type SymmetricAlgo,
} from '../../src/engine/algorithms/knn';
import { registerAlgorithm, createAlgorithm } from '../../src/engine/algorithms/registry';
import type { AlgoBase, AlgorithmClass, Prediction } from '../../src/engine/algorithms/base';
import { computeBaselines } from '../../src/engine/algorithms/baselines';
import { ParamError } from '../../src/engine/params';
import { SimilarityBudgetError } from '../../src/engine/similarities';
import { saveModel, loadModel } from '../../src/engine/model-file';
import { Dataset } from '../../src/engine/dataset/dataset';
import { Reader } from '../../src/engine/dataset/reader';
import { rmse, mae } from '../../src/engine/metrics';
import { requireDataset, trainsetOf as trainset } from './helpers';

const CLASSES: AlgorithmClass[] = [KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline];
for (const c of CLASSES) registerAlgorithm(c);

/*
 * The 3 × 4 fixture of similarities.test.ts:
 *        i1   i2   i3   i4
 *   A     4    3    5    2
 *   B     2   3.5   -    1
 *   C     -    4    2    5
 * MSD similarities (user-based): A–B 1/2.75, A–C 3/22, B–C 1/9.125.
 */
const small = trainset([
  ['A', 'i1', 4],
  ['A', 'i2', 3],
  ['A', 'i3', 5],
  ['A', 'i4', 2],
  ['B', 'i1', 2],
  ['B', 'i2', 3.5],
  ['B', 'i4', 1],
  ['C', 'i2', 4],
  ['C', 'i3', 2],
  ['C', 'i4', 5],
]);
const sAB = 1 / 2.75;
const sBC = 1 / 9.125;

describe('k-NN estimates worked by hand (msd, user-based)', () => {
  test('KNNBasic: similarity-weighted mean of the neighbours’ ratings', () => {
    // B on i3: raters A (5) and C (2)
    const p = new KNNBasic().fit(small).predict('B', 'i3');
    expect(p.est).toBeCloseTo((sAB * 5 + sBC * 2) / (sAB + sBC), 14);
    expect(p.details).toEqual({ actualK: 2, wasImpossible: false });
  });

  test('KNNWithMeans: the user mean plus the weighted mean of centred ratings', () => {
    const muA = 14 / 4;
    const muB = 6.5 / 3;
    const muC = 11 / 3;
    const p = new KNNWithMeans().fit(small).predict('B', 'i3');
    expect(p.est).toBeCloseTo(muB + (sAB * (5 - muA) + sBC * (2 - muC)) / (sAB + sBC), 14);
  });

  test('KNNWithZScore: centred and scaled by each user’s standard deviation', () => {
    const muA = 3.5;
    const sdA = Math.sqrt((0.25 + 0.25 + 2.25 + 2.25) / 4); // 4, 3, 5, 2 around 3.5
    const muB = 6.5 / 3;
    const sdB = Math.sqrt(((2 - muB) ** 2 + (3.5 - muB) ** 2 + (1 - muB) ** 2) / 3);
    const muC = 11 / 3;
    const sdC = Math.sqrt(((4 - muC) ** 2 + (2 - muC) ** 2 + (5 - muC) ** 2) / 3);
    const p = new KNNWithZScore().fit(small).predict('B', 'i3');
    const agg = ((sAB * (5 - muA)) / sdA + (sBC * (2 - muC)) / sdC) / (sAB + sBC);
    expect(p.est).toBeCloseTo(muB + agg * sdB, 14);
  });

  test('KNNBaseline: the baseline plus the weighted mean of neighbours’ residuals', () => {
    const { bu, bi } = computeBaselines(small, {});
    const mu = small.globalMean;
    expect(mu).toBeCloseTo(3.15, 15);
    const [a, b, c, i3] = [0, 1, 2, 2];
    const resA = 5 - (mu + bu[a] + bi[i3]);
    const resC = 2 - (mu + bu[c] + bi[i3]);
    const p = new KNNBaseline().fit(small).predict('B', 'i3');
    expect(p.est).toBeCloseTo(mu + bu[b] + bi[i3] + (sAB * resA + sBC * resC) / (sAB + sBC), 14);
  });

  test('item-based: the neighbours are the items the user rated', () => {
    // C on i1: C rated i2 (4), i3 (2), i4 (5). Item MSDs with i1 (common users):
    //   i1–i2 {A: 4/3, B: 2/3.5}: ((1)² + (1.5)²)/2 = 1.625 → 1/2.625
    //   i1–i3 {A: 4/5}: 1 → 1/2
    //   i1–i4 {A: 4/2, B: 2/1}: (4 + 1)/2 = 2.5 → 1/3.5
    const [s2, s3, s4] = [1 / 2.625, 1 / 2, 1 / 3.5];
    const p = new KNNBasic({ simOptions: { userBased: false } }).fit(small).predict('C', 'i1');
    expect(p.est).toBeCloseTo((s2 * 4 + s3 * 2 + s4 * 5) / (s2 + s3 + s4), 14);
    expect(p.details.actualK).toBe(3);
  });

  test('only positive similarities contribute (pearson)', () => {
    // Pearson B–C = −1 and A–B = 3/√57 > 0: B on i3 from A alone → 5
    const p = new KNNBasic({ simOptions: { name: 'pearson' } }).fit(small).predict('B', 'i3');
    expect(p.est).toBe(5);
    expect(p.details.actualK).toBe(1);
  });

  test('getNeighbors: the k most similar others, by similarity descending', () => {
    const algo = new KNNBasic().fit(small);
    // B: A (1/2.75) before C (1/9.125)
    expect(algo.getNeighbors(1, 2)).toEqual([0, 2]);
    // C: A (3/22 ≈ 0.136) before B (≈ 0.110)
    expect(algo.getNeighbors(2, 1)).toEqual([0]);
    expect(() => algo.getNeighbors(3, 1)).toThrow(/not a valid inner user id/);
  });
});

describe('neighbour selection: heapq.nlargest order (ties keep the order of the item’s raters)', () => {
  // T rated i1 = 3. P and Q rated i1 = 3 too: MSD(T, P) = MSD(T, Q) = 1, a tie.
  // P rated i2 = 5, Q rated i2 = 1. With k = 1 the first of them in ir[i2] wins.
  const rows = (first: 'P' | 'Q'): [string, string, number][] => {
    const p: [string, string, number][] = [
      ['P', 'i1', 3],
      ['P', 'i2', 5],
    ];
    const q: [string, string, number][] = [
      ['Q', 'i1', 3],
      ['Q', 'i2', 1],
    ];
    return [['T', 'i1', 3], ...(first === 'P' ? [...p, ...q] : [...q, ...p])];
  };
  test.each([
    ['P', 5],
    ['Q', 1],
  ] as const)('%s first → %d', (first, expected) => {
    const p = new KNNBasic({ k: 1 }).fit(trainset(rows(first))).predict('T', 'i2');
    expect(p.est).toBe(expected);
    expect(p.details.actualK).toBe(1);
  });
  test('k = 2 takes both: the mean', () => {
    expect(new KNNBasic({ k: 2 }).fit(trainset(rows('P'))).predict('T', 'i2').est).toBe(3);
  });
});

describe('unknown users and items, for every algorithm', () => {
  test.each(CLASSES.map((c) => [c.algorithmName, c] as const))('%s', (name, Cls) => {
    const algo = new Cls().fit(small);
    const mu = small.globalMean;
    const cases: [string, string, string][] = [
      ['nobody', 'i1', 'User unknown'],
      ['A', 'nothing', 'Item unknown'],
      ['nobody', 'nothing', 'User and item are unknown.'],
    ];
    for (const [u, i, reason] of cases) {
      const p = algo.predict(u, i);
      expect(p.details.wasImpossible).toBe(true);
      if (name === 'KNNBaseline') {
        // Surprise's KNNBaseline returns the known part of the baseline
        const b = algo as KNNBaseline;
        const est = mu + (u === 'A' ? b.bu[0] : 0) + (i === 'i1' ? b.bi[0] : 0);
        expect(p.est).toBeCloseTo(est, 15);
        expect(p.details.reason).toBe(reason);
      } else {
        expect(p.est).toBe(mu);
        expect(p.details.reason).toBe('User and/or item is unknown.');
      }
    }
  });
});

describe('minK', () => {
  // B on i3 has 2 neighbours (A, C)
  test('KNNBasic: fewer than minK neighbours → PredictionImpossible, global mean', () => {
    const p = new KNNBasic({ minK: 3 }).fit(small).predict('B', 'i3');
    expect(p.est).toBe(small.globalMean);
    expect(p.details).toEqual({ wasImpossible: true, reason: 'Not enough neighbors.' });
  });
  test('KNNWithMeans / KNNWithZScore: the mean; KNNBaseline: the baseline', () => {
    const muB = 6.5 / 3;
    for (const Cls of [KNNWithMeans, KNNWithZScore]) {
      const p = new Cls({ minK: 3 }).fit(small).predict('B', 'i3');
      expect(p.est).toBeCloseTo(muB, 15);
      expect(p.details).toEqual({ actualK: 2, wasImpossible: false });
    }
    const algo = new KNNBaseline({ minK: 3 }).fit(small);
    const p = algo.predict('B', 'i3');
    expect(p.est).toBeCloseTo(small.globalMean + algo.bu[1] + algo.bi[2], 15);
  });
});

// Predictions of Surprise's four algorithms re-implemented with NumPy and heapq
// (test/fixtures/surprise-ref/knn_ref.py) on a synthetic half-star data set.
interface RefConfig {
  algo: string;
  params: {
    k?: number;
    min_k?: number;
    sim_options?: { name?: string; user_based?: boolean; min_support?: number; shrinkage?: number };
    bsl_options?: { method?: string; n_epochs?: number };
  };
  est: number[];
  wasImpossible: boolean[];
  actualK: (number | null)[];
}
const ref = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../fixtures/surprise-ref/knn_ref.json'), 'utf8'),
) as {
  synthetic: {
    ratings: [string, string, number][];
    pairs: [string, string][];
    predictions: RefConfig[];
  };
  ml100kU1?: {
    algo: string;
    simOptions: { name?: string; user_based?: boolean };
    rmse: number;
    mae: number;
  }[];
};

function camelParams(p: RefConfig['params']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.k !== undefined) out.k = p.k;
  if (p.min_k !== undefined) out.minK = p.min_k;
  if (p.sim_options) {
    const s = p.sim_options;
    out.simOptions = {
      ...(s.name !== undefined && { name: s.name }),
      ...(s.user_based !== undefined && { userBased: s.user_based }),
      ...(s.min_support !== undefined && { minSupport: s.min_support }),
      ...(s.shrinkage !== undefined && { shrinkage: s.shrinkage }),
    };
  }
  if (p.bsl_options) {
    const b = p.bsl_options;
    out.bslOptions = {
      ...(b.method !== undefined && { method: b.method }),
      ...(b.n_epochs !== undefined && { nEpochs: b.n_epochs }),
    };
  }
  return out;
}

const synth = trainset(ref.synthetic.ratings);

describe('agreement with the NumPy re-implementation of Surprise (synthetic, half stars)', () => {
  test.each(
    ref.synthetic.predictions.map((c) => [`${c.algo} ${JSON.stringify(c.params)}`, c] as const),
  )('%s', (_n, c) => {
    const algo = createAlgorithm(c.algo, camelParams(c.params)).fit(synth);
    ref.synthetic.pairs.forEach(([u, i], k) => {
      const p = algo.predict(u, i);
      expect(Math.abs(p.est - c.est[k])).toBeLessThan(1e-12);
      const unknown = synth.findUser(u) < 0 || synth.findItem(i) < 0;
      expect(p.details.wasImpossible).toBe(c.wasImpossible[k] || unknown);
      expect(p.details.actualK ?? null).toBe(c.actualK[k]);
    });
  });
});

describe('every hyper-parameter changes the result', () => {
  const pairs = ref.synthetic.pairs;
  const estimates = (algo: AlgoBase) => pairs.map(([u, i]) => algo.predict(u, i).est);
  const changes = (name: string, a: Record<string, unknown>, b: Record<string, unknown>) =>
    expect(estimates(createAlgorithm(name, a).fit(synth))).not.toEqual(
      estimates(createAlgorithm(name, b).fit(synth)),
    );
  const pb = { name: 'pearson_baseline' };
  test.each(CLASSES.map((c) => [c.algorithmName]))('%s', (name) => {
    changes(name, {}, { k: 2 });
    changes(name, {}, { minK: 12 });
    changes(name, {}, { simOptions: { name: 'cosine' } });
    changes(name, {}, { simOptions: { name: 'pearson' } });
    changes(name, {}, { simOptions: pb });
    changes(name, {}, { simOptions: { userBased: false } });
    changes(name, {}, { simOptions: { minSupport: 3 } });
    changes(name, { simOptions: pb }, { simOptions: { ...pb, shrinkage: 1 } });
    changes(name, { simOptions: pb }, { simOptions: pb, bslOptions: { method: 'sgd' } });
    changes(name, { simOptions: pb }, { simOptions: pb, bslOptions: { nEpochs: 1 } });
    changes(name, { simOptions: pb }, { simOptions: pb, bslOptions: { regU: 1 } });
    changes(name, { simOptions: pb }, { simOptions: pb, bslOptions: { regI: 1 } });
    changes(
      name,
      { simOptions: pb, bslOptions: { method: 'sgd' } },
      { simOptions: pb, bslOptions: { method: 'sgd', reg: 1 } },
    );
    changes(
      name,
      { simOptions: pb, bslOptions: { method: 'sgd' } },
      { simOptions: pb, bslOptions: { method: 'sgd', learningRate: 0.05 } },
    );
    // the memory budget: 30 users → 7200 bytes
    expect(() => createAlgorithm(name, { memoryBudgetBytes: 7199 }).fit(synth)).toThrow(
      SimilarityBudgetError,
    );
    expect(createAlgorithm(name, { memoryBudgetBytes: 7200 }).fit(synth).isFitted).toBe(true);
  });
  test('KNNBaseline: bslOptions change the baselines even with msd', () => {
    changes('KNNBaseline', {}, { bslOptions: { regI: 0 } });
  });
});

describe('parameters', () => {
  test('defaults are Surprise’s', () => {
    const a = new KNNBaseline();
    expect(a.params).toMatchObject({
      k: 40,
      minK: 1,
      simOptions: { name: 'msd', userBased: true, minSupport: 1, shrinkage: 100 },
      bslOptions: { method: 'als', nEpochs: null, regU: 15, regI: 10 },
      memoryBudgetBytes: null,
    });
  });
  test('bad values are refused, naming the parameter', () => {
    expect(() => new KNNBasic({ k: 0 })).toThrow(ParamError);
    expect(() => new KNNBasic({ k: 2.5 })).toThrow(/'k' of KNNBasic must be a whole number/);
    expect(() => new KNNBasic({ minK: 0 })).toThrow(/minK/);
    expect(() => new KNNBasic({ simOptions: { name: 'jaccard' } })).toThrow(
      /simOptions.name.*cosine, msd, pearson, pearson_baseline/,
    );
    expect(() => new KNNBasic({ simOptions: { minSupport: -1 } })).toThrow(/minSupport/);
    expect(() => new KNNBasic({ simOptions: { user_based: false } })).toThrow(
      /unknown parameter 'simOptions.user_based'/,
    );
  });
});

describe('similarity matrix memory and model files', () => {
  test('similarityBytes: nX² × 8', () => {
    const a = new KNNBasic().fit(synth);
    expect(a.similarityBytes).toBe(synth.nUsers * synth.nUsers * 8);
    const b = new KNNBasic({ simOptions: { userBased: false } }).fit(synth);
    expect(b.similarityBytes).toBe(synth.nItems * synth.nItems * 8);
  });

  test.each([
    ['KNNBasic', {}],
    ['KNNWithMeans', { simOptions: { userBased: false } }],
    ['KNNWithZScore', { simOptions: { name: 'pearson' } }],
    ['KNNBaseline', { simOptions: { name: 'pearson_baseline', userBased: false } }],
  ] as const)('%s round-trips through a model file with identical predictions', (name, params) => {
    const algo = createAlgorithm(name, params).fit(synth);
    const loaded = loadModel(saveModel(algo)) as SymmetricAlgo;
    expect(loaded.name).toBe(name);
    expect(loaded.similarityBytes).toBe((algo as SymmetricAlgo).similarityBytes);
    for (const [u, i] of [...ref.synthetic.pairs, ['u1', 'm10']]) {
      const a: Prediction = algo.predict(u, i);
      const b: Prediction = loaded.predict(u, i);
      expect(b).toEqual(a);
    }
  });

  test('a state without its arrays is refused, naming the array', () => {
    const algo = new KNNWithMeans().fit(synth);
    const state = algo.exportState();
    delete state.arrays.means;
    expect(() => new KNNWithMeans().restore(synth, state)).toThrow(/array 'means' missing/);
    const st2 = algo.exportState();
    st2.arrays.sim = new Float64Array(3);
    expect(() => new KNNWithMeans().restore(synth, st2)).toThrow(/array 'sim'/);
  });
});

// ml-100k's predefined fold u1, against the same NumPy re-implementation run on the real files.
// The files are read in beforeAll (never while jest collects the tests); missing, they fail the
// suite naming $REELGRAPH_DATASETS (test/helpers/datasets.ts).
describe('ml-100k u1: RMSE / MAE equal the NumPy reference', () => {
  let ts: Trainset;
  let testset: ReturnType<NonNullable<Dataset['folds']>[number]['test']['toTestset']>;
  beforeAll(() => {
    const data = Dataset.loadFromFolds(
      [[requireDataset('ml-100k', 'u1.base'), requireDataset('ml-100k', 'u1.test')]],
      Reader.builtin('ml-100k'),
    );
    const fold = data.folds![0];
    ts = Trainset.build(fold.train, data.ratingScale);
    testset = fold.test.toTestset();
  });
  test('the reference holds ml-100k u1 cases', () => {
    expect((ref.ml100kU1 ?? []).length).toBeGreaterThan(0);
  });
  test.each(
    (ref.ml100kU1 ?? []).map((c) => [`${c.algo} ${JSON.stringify(c.simOptions)}`, c] as const),
  )('%s', (_n, c) => {
    const simOptions = {
      ...(c.simOptions.name !== undefined && { name: c.simOptions.name }),
      ...(c.simOptions.user_based !== undefined && { userBased: c.simOptions.user_based }),
    };
    const preds = createAlgorithm(c.algo, { simOptions }).fit(ts).test(testset);
    expect(Math.abs(rmse(preds) - c.rmse)).toBeLessThan(1e-8);
    expect(Math.abs(mae(preds) - c.mae)).toBeLessThan(1e-8);
  });
});
