/**
 * An independent implementation of the top-N figures of Surprise's FAQ protocol, for tests
 * (written out here, not imported from src/engine/top-n.ts): each user's test predictions sorted
 * by estimate (stably: equal estimates keep the testset order); relevant = true rating ≥
 * threshold; recommended = in the top k with estimate ≥ threshold; precision and recall as the
 * FAQ (0 when undefined); binary NDCG@k (0 without a relevant item); hit = a relevant recommended
 * item. Each figure is the mean over the users.
 */

export type Figures = { precision: number; recall: number; ndcg: number; hitRate: number };
export const KEYS = ['precision', 'recall', 'ndcg', 'hitRate'] as const;

/** The FAQ protocol, written out independently of src/engine/top-n.ts. */
export function faqFigures(
  preds: { uid: string; est: number; rUi: number | null }[],
  k: number,
  threshold: number,
): Figures {
  const users = new Map<string, { est: number; r: number; at: number }[]>();
  preds.forEach((p, at) => {
    if (!users.has(p.uid)) users.set(p.uid, []);
    users.get(p.uid)!.push({ est: p.est, r: p.rUi!, at });
  });
  const sum: Figures = { precision: 0, recall: 0, ndcg: 0, hitRate: 0 };
  for (const list of users.values()) {
    list.sort((a, b) => b.est - a.est || a.at - b.at);
    const top = list.slice(0, k);
    const rel = list.filter((x) => x.r >= threshold).length;
    const rec = top.filter((x) => x.est >= threshold);
    const relRec = rec.filter((x) => x.r >= threshold).length;
    let dcg = 0;
    top.forEach((x, pos) => (dcg += x.r >= threshold ? 1 / Math.log2(pos + 2) : 0));
    let idcg = 0;
    for (let pos = 0; pos < Math.min(k, rel); pos++) idcg += 1 / Math.log2(pos + 2);
    sum.precision += rec.length ? relRec / rec.length : 0;
    sum.recall += rel ? relRec / rel : 0;
    sum.ndcg += rel ? dcg / idcg : 0;
    sum.hitRate += relRec > 0 ? 1 : 0;
  }
  const n = users.size;
  return {
    precision: sum.precision / n,
    recall: sum.recall / n,
    ndcg: sum.ndcg / n,
    hitRate: sum.hitRate / n,
  };
}

/** Arithmetic mean. */
export const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Population standard deviation. */
export const sd = (xs: number[]) => Math.sqrt(avg(xs.map((x) => (x - avg(xs)) ** 2)));
