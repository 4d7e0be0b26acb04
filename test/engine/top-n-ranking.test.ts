/**
 * rankingAtK: NDCG@k and hits on the FAQ protocol's ranking (each user's test items by estimate),
 * on hand-worked examples; precision and recall must stay those of precisionRecallAtK.
 */
import { meanOf, precisionRecallAtK, rankingAtK } from '../../src/engine/top-n';

const p = (uid: string, est: number, rUi: number) => ({ uid, est, rUi });

describe('rankingAtK (FAQ protocol: test items ranked by estimate)', () => {
  // A: sorted by estimate 4.5(5) 4.0(2) 3.8(4) 3.0(4) 2.0(1); relevant (≥ 3.5): 5, 4, 4 → nRel 3.
  //    top 3 relevance 1 0 1: DCG = 1/log2(2) + 1/log2(4) = 1.5;
  //    IDCG = 1/log2(2) + 1/log2(3) + 1/log2(4) = 1.5 + 1/log2(3).
  //    recommended (top 3, est ≥ 3.5): all three, two relevant → precision 2/3, recall 2/3, hit 1.
  // B: nothing relevant → NDCG 0, recall 0, hit 0; est 4.0 recommended, not relevant → precision 0.
  // D: the relevant item ranked 2nd with estimate 3.0 (not recommended): DCG = 1/log2(3),
  //    IDCG = 1 → NDCG 1/log2(3) ≈ 0.6309; but no relevant *recommended* item → hit 0, precision 0.
  const preds = [
    p('A', 4.0, 2),
    p('B', 4.0, 3),
    p('A', 2.0, 1),
    p('A', 4.5, 5),
    p('D', 3.2, 2),
    p('A', 3.0, 4),
    p('D', 3.0, 5),
    p('A', 3.8, 4),
    p('B', 1.0, 1),
  ];

  test('hand-worked NDCG@3, hits, precision and recall', () => {
    const r = rankingAtK(preds, 3, 3.5);
    expect([...r.ndcgs.keys()]).toEqual(['A', 'B', 'D']); // order of first appearance
    expect(r.ndcgs.get('A')).toBeCloseTo(1.5 / (1.5 + 1 / Math.log2(3)), 14);
    expect(r.ndcgs.get('A')).toBeCloseTo(0.70392, 5);
    expect(r.ndcgs.get('B')).toBe(0);
    expect(r.ndcgs.get('D')).toBeCloseTo(0.63093, 5);
    expect([...r.hits]).toEqual([
      ['A', 1],
      ['B', 0],
      ['D', 0],
    ]);
    expect(r.precisions.get('A')).toBeCloseTo(2 / 3, 15);
    expect(r.recalls.get('A')).toBeCloseTo(2 / 3, 15);
    expect(r.precisions.get('B')).toBe(0);
    expect(r.precisions.get('D')).toBe(0);
    expect(r.recalls.get('D')).toBe(0);
    expect(meanOf(r.hits)).toBeCloseTo(1 / 3, 15);
    // Precision and recall are exactly the FAQ function's.
    const faq = precisionRecallAtK(preds, 3, 3.5);
    expect([...r.precisions]).toEqual([...faq.precisions]);
    expect([...r.recalls]).toEqual([...faq.recalls]);
  });

  test('k beyond the user’s items, and a perfect order, give NDCG 1', () => {
    const r = rankingAtK(preds, 10, 3.5);
    // A: all 5 ranked: relevance 1 0 1 1 0; DCG = 1 + 1/log2(4) + 1/log2(5); IDCG over 3 relevant.
    const dcg = 1 + 1 / Math.log2(4) + 1 / Math.log2(5);
    const idcg = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(r.ndcgs.get('A')).toBeCloseTo(dcg / idcg, 14);
    expect(r.recalls.get('A')).toBeCloseTo(2 / 3, 15); // 3.0(4) is ranked but not recommended
    const perfect = rankingAtK([p('x', 5, 5), p('x', 4, 4), p('x', 1, 1)], 2, 3.5);
    expect(perfect.ndcgs.get('x')).toBe(1);
  });

  test('ties keep the testset order (as the FAQ’s stable sort)', () => {
    const r1 = rankingAtK([p('C', 4, 3), p('C', 4, 4)], 1, 3.5);
    expect(r1.ndcgs.get('C')).toBe(0); // (4, 3) ranks first: not relevant
    const r2 = rankingAtK([p('C', 4, 4), p('C', 4, 3)], 1, 3.5);
    expect(r2.ndcgs.get('C')).toBe(1);
    expect(r2.hits.get('C')).toBe(1);
  });

  test('refuses a bad k, a bad threshold, or a prediction without a true rating', () => {
    expect(() => rankingAtK(preds, 0)).toThrow(/k must be a whole number ≥ 1, got 0/);
    expect(() => rankingAtK(preds, 10, NaN)).toThrow(/threshold must be a finite number/);
    expect(() => rankingAtK([{ uid: 'x', est: 3, rUi: null }])).toThrow(/rUi is null/);
  });
});
