import { AlgoBase, PredictionImpossible } from '../../src/engine/algorithms/base';
import { RawRatings, type Testset } from '../../src/engine/dataset/raw-ratings';
import { RandomState } from '../../src/engine/random';
import { Trainset } from '../../src/engine/trainset';
import { evaluateTopN, meanOf, precisionRecallAtK, recommend } from '../../src/engine/top-n';
import { trainsetOf } from './helpers';

/** Estimates from a fixed table of raw ids; unknown users are impossible; missing pairs 1.0. */
class TableAlgo extends AlgoBase {
  static readonly algorithmName = 'TableAlgo';
  static readonly description = 'test: estimates from a table';
  static readonly paramSpecs = {};
  static table: Record<string, Record<string, number>> = {};
  estimate(u: number, i: number): number {
    if (u < 0) throw new PredictionImpossible('User unknown');
    const ts = this.trainset;
    return TableAlgo.table[ts.toRawUid(u)]?.[ts.toRawIid(i)] ?? 1.0;
  }
}

// Trainset: items get inner ids i1=0, i2=1, i3=2, i4=3, i5=4.
const rows: [string, string, number][] = [
  ['u1', 'i1', 5],
  ['u1', 'i2', 3],
  ['u2', 'i1', 4],
  ['u2', 'i3', 2],
  ['u2', 'i4', 5],
  ['u3', 'i2', 1],
  ['u3', 'i5', 4],
];
TableAlgo.table = {
  u1: { i3: 4.5, i4: 2.0, i5: 4.0, i1: 4.9, i2: 4.8 },
  u2: { i2: 3.0, i5: 3.0 }, // a tie: i2 (inner 1) ranks before i5 (inner 4)
  u3: { i1: 5.0, i3: 4.5, i4: 1.0 },
};
const testset: Testset = [
  ['u1', 'i4', 5],
  ['u1', 'i5', 2],
  ['u1', 'i3', 4],
  ['u2', 'i5', 4],
  ['u2', 'i6', 5], // unknown item
  ['u3', 'i3', 3],
  ['u3', 'i1', 2],
  ['u4', 'i1', 5], // unknown user
];

describe('evaluateTopN (hand-worked: 3 users, 5 items)', () => {
  const algo = new TableAlgo().fit(trainsetOf(rows));
  // Candidates: u1 {i3, i4, i5}, u2 {i2, i5}, u3 {i1, i3, i4}.
  // k = 2 → u1 [i3, i5], u2 [i2, i5], u3 [i1, i3]. Relevant (≥ 3.5): u1 {i4, i3}, u2 {i5}, u3 {}.

  test('k = 2, binary gain', () => {
    const r = evaluateTopN(algo, testset, { k: 2, perUser: true });
    expect(r.users!.map((u) => [u.uid, u.recommended])).toEqual([
      ['u1', ['i3', 'i5']],
      ['u2', ['i2', 'i5']],
      ['u3', ['i1', 'i3']],
    ]);
    // u1: 1 hit of 2 recommended, of 2 relevant; DCG = 1/log2(2); IDCG = 1 + 1/log2(3).
    // u2: 1 hit of 2, of 1 relevant; DCG = 1/log2(3); IDCG = 1.
    const ndcgU1 = 1 / (1 + 1 / Math.log2(3));
    const ndcgU2 = 1 / Math.log2(3);
    expect(r.users![0]).toMatchObject({ nRelevant: 2, nHits: 1, precision: 0.5, recall: 0.5 });
    expect(r.users![0].ndcg).toBeCloseTo(ndcgU1, 12);
    expect(r.users![1]).toMatchObject({ nRelevant: 1, nHits: 1, precision: 0.5, recall: 1 });
    expect(r.users![2].nRelevant).toBe(0);
    expect(r.users![2].recall).toBeNaN();
    expect(r.precision).toBeCloseTo(0.5, 12);
    expect(r.recall).toBeCloseTo(0.75, 12);
    expect(r.ndcg).toBeCloseTo((ndcgU1 + ndcgU2) / 2, 12);
    expect(r.hitRate).toBe(1);
    expect(r.coverage).toBeCloseTo(4 / 5, 12); // {i3, i5, i2, i1}
    expect(r).toMatchObject({
      k: 2,
      threshold: 3.5,
      gain: 'binary',
      nUsersRecommended: 3,
      nUsersEvaluated: 2,
      nUsersUnknown: 1,
      nTestRatingsSkipped: 2,
    });
  });

  test('k = 2, graded gain uses the true ratings', () => {
    const r = evaluateTopN(algo, testset, { k: 2, gain: 'graded' });
    // u1: DCG = 4/1; IDCG = 5/1 + 4/log2(3). u2: DCG = 4/log2(3); IDCG = 4.
    const u1 = 4 / (5 + 4 / Math.log2(3));
    const u2 = 4 / Math.log2(3) / 4;
    expect(r.ndcg).toBeCloseTo((u1 + u2) / 2, 12);
  });

  test('k larger than the candidates: k′ = number of candidates', () => {
    const r = evaluateTopN(algo, testset, { k: 3, perUser: true });
    // u1: [i3, i5, i4] → 2 hits of 3, recall 1; u2: [i2, i5] → 1 of 2, recall 1.
    expect(r.users![0].recommended).toEqual(['i3', 'i5', 'i4']);
    expect(r.users![1].recommended).toEqual(['i2', 'i5']);
    expect(r.precision).toBeCloseTo((2 / 3 + 1 / 2) / 2, 12);
    expect(r.recall).toBe(1);
    expect(r.coverage).toBe(1);
  });

  test('a higher threshold changes relevance', () => {
    const r = evaluateTopN(algo, testset, { k: 2, threshold: 4.5 });
    // Relevant: u1 {i4} only (5 ≥ 4.5); u2 none → only u1 counts: 0 hits among [i3, i5].
    expect(r.nUsersEvaluated).toBe(1);
    expect(r.precision).toBe(0);
    expect(r.hitRate).toBe(0);
  });

  test('bad options are refused with a clear message', () => {
    expect(() => evaluateTopN(algo, testset, { k: 0 })).toThrow(
      /k must be a whole number ≥ 1, got 0/,
    );
    expect(() => evaluateTopN(algo, testset, { threshold: NaN })).toThrow(/threshold/);
    expect(() => evaluateTopN(algo, testset, { gain: 'x' as 'binary' })).toThrow(/gain/);
  });
});

describe('recommend', () => {
  const algo = new TableAlgo().fit(trainsetOf(rows));

  test('best unrated items first, rated ones on request', () => {
    expect(recommend(algo, 'u1', { k: 2 })).toEqual([
      { iid: 'i3', est: 4.5 },
      { iid: 'i5', est: 4.0 },
    ]);
    expect(recommend(algo, 'u1', { k: 3, excludeRated: false })).toEqual([
      { iid: 'i1', est: 4.9 },
      { iid: 'i2', est: 4.8 },
      { iid: 'i3', est: 4.5 },
    ]);
  });

  test('an unknown user gets the default prediction, items in trainset order', () => {
    const mu = (5 + 3 + 4 + 2 + 5 + 1 + 4) / 7;
    const recs = recommend(algo, 'nobody', { k: 2 });
    expect(recs.map((r) => r.iid)).toEqual(['i1', 'i2']);
    expect(recs[0].est).toBeCloseTo(mu, 12);
  });

  test('the bounded heap returns what a full sort returns', () => {
    const rng = new RandomState(7);
    const users: string[] = [];
    const items: string[] = [];
    for (let i = 0; i < 300; i++) {
      users.push('a');
      items.push(`m${i}`);
    }
    users.push('b');
    items.push('m0');
    const ts = Trainset.build(new RawRatings(users, items, new Float64Array(301).fill(3)), [1, 5]);
    // Estimates with many ties (rounded to halves).
    const est = Array.from({ length: 300 }, () => Math.round(rng.random() * 8) / 2 + 1);
    class Fixed extends AlgoBase {
      static readonly algorithmName = 'Fixed';
      static readonly description = 'test';
      static readonly paramSpecs = {};
      estimate(_u: number, i: number): number {
        return est[i];
      }
    }
    const algo2 = new Fixed().fit(ts);
    const order = Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => i !== 0) // b rated m0
      .sort((x, y) => est[y] - est[x] || x - y);
    for (const k of [1, 2, 5, 17, 64, 299, 400]) {
      expect(recommend(algo2, 'b', { k }).map((r) => r.iid)).toEqual(
        order.slice(0, k).map((i) => `m${i}`),
      );
    }
  });
});

describe("precisionRecallAtK (Surprise's FAQ function)", () => {
  const p = (uid: string, est: number, rUi: number) => ({ uid, est, rUi });
  test('hand-worked values, zero for the undefined cases, stable ties', () => {
    const preds = [
      p('A', 4, 5),
      p('A', 3, 4),
      p('A', 4.5, 2),
      p('A', 2, 4),
      p('B', 3, 5), // nothing recommended (est < 3.5): precision 0; 1 relevant: recall 0
      p('C', 4, 3), // tie with the next: the first stays first
      p('C', 4, 4),
    ];
    const { precisions, recalls } = precisionRecallAtK(preds, 2, 3.5);
    // A sorted: 4.5(2), 4(5), 3(4), 2(4); top 2 both ≥ 3.5, one relevant; relevant in all: 3.
    expect([...precisions]).toEqual([
      ['A', 0.5],
      ['B', 0],
      ['C', 0.5], // both in the top 2, one relevant
    ]);
    expect(recalls.get('A')).toBeCloseTo(1 / 3, 15);
    expect(recalls.get('B')).toBe(0);
    expect(recalls.get('C')).toBe(1);
    const k1 = precisionRecallAtK(preds, 1, 3.5);
    expect(k1.precisions.get('C')).toBe(0); // (4, 3) stays ahead of (4, 4)
    expect(meanOf(precisions)).toBeCloseTo(1 / 3, 15);
    expect(k1.recalls.get('C')).toBe(0);
  });

  test('refuses a prediction without a true rating', () => {
    expect(() => precisionRecallAtK([{ uid: 'x', est: 3, rUi: null }])).toThrow(/rUi is null/);
  });
});
