import { AlgoBase } from '../../src/engine/algorithms/base';
import { registerAlgorithm } from '../../src/engine/algorithms/registry';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import type { ParamSpecs } from '../../src/engine/params';
import type { Trainset } from '../../src/engine/trainset';
import { KFold } from '../../src/engine/model-selection/split';
import {
  crossValidate,
  formatFixed,
  formatSummary,
  std,
  type CrossValidateProgress,
  type CrossValidateResult,
} from '../../src/engine/model-selection/validation';

/** Predicts the trainset's global mean plus `shift`: a trivial algorithm whose errors are easy by hand. */
class GlobalMean extends AlgoBase {
  static readonly algorithmName = 'TestGlobalMean';
  static readonly description = 'global mean (test only)';
  static readonly paramSpecs: ParamSpecs = {
    shift: { type: 'float', default: 0, doc: 'added to the mean' },
  };
  static instances = 0;
  constructor(params?: Record<string, unknown>) {
    super(params);
    GlobalMean.instances++;
  }
  override fit(trainset: Trainset): this {
    super.fit(trainset);
    return this;
  }
  estimate(): number {
    return this.trainset.globalMean + (this.params.shift as number);
  }
}
registerAlgorithm(GlobalMean);

// six ratings, one user per pair of ratings; KFold(3, no shuffle) folds: [0,1], [2,3], [4,5]
const ratings = [1, 2, 3, 4, 5, 5];
const data = {
  ratings: new RawRatings(
    ['a', 'a', 'b', 'b', 'c', 'c'],
    ['x', 'y', 'x', 'y', 'x', 'z'],
    Float64Array.from(ratings),
  ),
  ratingScale: [1, 5] as const,
};
const cv = new KFold({ nSplits: 3, shuffle: false });

// By hand: fold 1 trains on 3,4,5,5 (mean 4.25), tests 1,2 → errors 3.25, 2.25
//          fold 2 trains on 1,2,5,5 (mean 3.25), tests 3,4 → errors 0.25, −0.75
//          fold 3 trains on 1,2,3,4 (mean 2.5),  tests 5,5 → errors 2.5, 2.5
const wantRmse = [
  Math.sqrt((3.25 ** 2 + 2.25 ** 2) / 2),
  Math.sqrt((0.25 ** 2 + 0.75 ** 2) / 2),
  2.5,
];
const wantMae = [2.75, 0.5, 2.5];

describe('crossValidate', () => {
  it('measures each fold of a trivial algorithm as computed by hand', () => {
    const r = crossValidate(() => new GlobalMean(), data, { cv });
    expect(r.measures).toEqual(['rmse', 'mae']);
    expect(r.nSplits).toBe(3);
    r.testRmse!.forEach((v, k) => expect(v).toBeCloseTo(wantRmse[k], 12));
    r.testMae!.forEach((v, k) => expect(v).toBeCloseTo(wantMae[k], 12));
    expect(r.mean.testMae).toBeCloseTo((2.75 + 0.5 + 2.5) / 3, 12);
    const m = (2.75 + 0.5 + 2.5) / 3;
    expect(r.std.testMae).toBeCloseTo(
      Math.sqrt(((2.75 - m) ** 2 + (0.5 - m) ** 2 + (2.5 - m) ** 2) / 3),
      12,
    );
    expect(r.fitTime).toHaveLength(3);
    expect(r.testTime.every((t) => t >= 0)).toBe(true);
    expect(r.nTrain).toEqual([4, 4, 4]);
    expect(r.nTest).toEqual([2, 2, 2]);
    expect(r.testFcp).toBeUndefined();
    expect(r.algorithmName).toBe('TestGlobalMean');
  });

  it('uses a fresh instance per fold, from an instance, a factory or a registered name', () => {
    GlobalMean.instances = 0;
    const inst = new GlobalMean({ shift: 0.5 });
    const fromInst = crossValidate(inst, data, { cv, measures: ['MAE'] });
    expect(GlobalMean.instances).toBe(1 + 3);
    expect(inst.isFitted).toBe(false);
    // fold 3 (mean 2.5 + 0.5 = 3 vs 5, 5): MAE 2
    expect(fromInst.testMae![2]).toBeCloseTo(2, 12);
    expect(fromInst.params).toEqual({ shift: 0.5 });
    const byName = crossValidate({ name: 'TestGlobalMean', params: { shift: 0.5 } }, data, {
      cv,
      measures: ['mae'],
    });
    expect(byName.testMae).toEqual(fromInst.testMae);
  });

  it('reports progress before and after each fold', () => {
    const events: CrossValidateProgress[] = [];
    crossValidate(() => new GlobalMean(), data, { cv, onProgress: (p) => events.push(p) });
    expect(events.map((e) => `${e.phase}${e.fold}/${e.nSplits}`)).toEqual([
      'fit1/3',
      'done1/3',
      'fit2/3',
      'done2/3',
      'fit3/3',
      'done3/3',
    ]);
    const done = events[1] as Extract<CrossValidateProgress, { phase: 'done' }>;
    expect(done.measures.mae).toBeCloseTo(2.75, 12);
  });

  it('measures trainsets too when asked', () => {
    const r = crossValidate(() => new GlobalMean(), data, { cv, returnTrainMeasures: true });
    // fold 1 trainset 3,4,5,5 predicted 4.25: errors −1.25, −0.25, 0.75, 0.75
    expect(r.trainRmse![0]).toBeCloseTo(Math.sqrt((1.5625 + 0.0625 + 0.5625 * 2) / 4), 12);
    expect(r.mean.trainRmse).toBeDefined();
  });

  it('measures FCP, and passes on its error when a fold has no usable pair', () => {
    const one = {
      ratings: new RawRatings(
        ['a', 'a', 'a', 'a'],
        ['w', 'x', 'y', 'z'],
        Float64Array.of(1, 2, 3, 4),
      ),
      ratingScale: [1, 5] as const,
    };
    // constant estimates: the pair of different ratings in each testset is discordant → FCP 0
    const r = crossValidate(() => new GlobalMean(), one, {
      cv: new KFold({ nSplits: 2, shuffle: false }),
      measures: ['fcp'],
    });
    expect(r.testFcp).toEqual([0, 0]);
    // fold 3 of `data` tests user c's two equal ratings only
    expect(() => crossValidate(() => new GlobalMean(), data, { cv, measures: ['fcp'] })).toThrow(
      /cannot compute FCP/,
    );
  });

  it('prints the verbose summary to the given log', () => {
    const out: string[] = [];
    crossValidate(() => new GlobalMean(), data, { cv, verbose: true, log: (s) => out.push(s) });
    expect(out).toHaveLength(1);
    expect(out[0].split('\n')[0]).toBe(
      'Evaluating RMSE, MAE of algorithm TestGlobalMean on 3 split(s).',
    );
  });

  it('refuses unknown measures, algorithms and parameters before running', () => {
    expect(() => crossValidate(() => new GlobalMean(), data, { measures: ['auc'] })).toThrow(
      /unknown measure 'auc'/,
    );
    expect(() => crossValidate({ name: 'NoSuchAlgo' }, data)).toThrow(
      /unknown algorithm 'NoSuchAlgo'/,
    );
    expect(() => crossValidate({ name: 'TestGlobalMean', params: { nFactors: 3 } }, data)).toThrow(
      /unknown parameter 'nFactors'/,
    );
  });
});

describe('formatSummary', () => {
  it("lays the table out as Surprise's print_summary", () => {
    const r: CrossValidateResult = {
      algorithmName: 'SVD',
      params: {},
      measures: ['rmse', 'mae'],
      nSplits: 2,
      testRmse: [0.93801, 0.9],
      testMae: [0.7, 0.8],
      fitTime: [1.234, 1.0],
      testTime: [0.1, 0.125],
      nTrain: [1, 1],
      nTest: [1, 1],
      mean: {},
      std: {},
    };
    // "{:<18}" + "{:<8}" * 4, then the rows; 4 decimals for measures, 2 for times
    expect(formatSummary(r)).toBe(
      [
        'Evaluating RMSE, MAE of algorithm SVD on 2 split(s).',
        '',
        '                  Fold 1  Fold 2  Mean    Std     ',
        'RMSE (testset)    0.9380  0.9000  0.9190  0.0190  ',
        'MAE (testset)     0.7000  0.8000  0.7500  0.0500  ',
        'Fit time          1.23    1.00    1.12    0.12    ',
        'Test time         0.10    0.12    0.11    0.01    ',
      ].join('\n'),
    );
  });
});

describe('formatFixed and std', () => {
  it("formats as Python's '.Nf' (half-to-even on exact ties)", () => {
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(-0.125, 2)).toBe('-0.12');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(0.1 + 0.2, 4)).toBe('0.3000');
    expect(formatFixed(1.0005, 3)).toBe((1.0005).toFixed(3)); // not an exact tie in binary
    expect(formatFixed(NaN, 4)).toBe('nan');
  });
  it('std is the population standard deviation', () => {
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(std([5])).toBe(0);
  });
});
