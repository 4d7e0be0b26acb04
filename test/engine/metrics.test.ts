import {
  fcp,
  mae,
  mse,
  parseMeasures,
  rmse,
  type ScoredPrediction,
} from '../../src/engine/metrics';
import { RandomState } from '../../src/engine/random';

const p = (uid: string, rUi: number, est: number): ScoredPrediction => ({ uid, rUi, est });

/** Surprise's accuracy.fcp, literally (O(n²) double loop, defaultdict counts). */
function fcpBruteForce(preds: ScoredPrediction[]): number {
  const byUser = new Map<string, Array<[number, number]>>();
  for (const q of preds) {
    if (!byUser.has(q.uid)) byUser.set(q.uid, []);
    byUser.get(q.uid)!.push([q.rUi as number, q.est]);
  }
  const ncU = new Map<string, number>();
  const ndU = new Map<string, number>();
  for (const [u, list] of byUser) {
    for (const [ri, ei] of list) {
      for (const [rj, ej] of list) {
        if (ei > ej && ri > rj) ncU.set(u, (ncU.get(u) ?? 0) + 1);
        if (ei >= ej && ri < rj) ndU.set(u, (ndU.get(u) ?? 0) + 1);
      }
    }
  }
  const avg = (m: Map<string, number>) =>
    m.size ? [...m.values()].reduce((s, v) => s + v, 0) / m.size : 0;
  const nc = avg(ncU);
  const nd = avg(ndU);
  if (nc + nd === 0) throw new Error('zero division');
  return nc / (nc + nd);
}

describe('rmse, mse, mae', () => {
  // errors r − est: −1, 0, 1.5
  const preds = [p('a', 1, 2), p('a', 3, 3), p('b', 5, 3.5)];

  it('compute the hand-worked values', () => {
    expect(mse(preds)).toBeCloseTo((1 + 0 + 2.25) / 3, 15);
    expect(rmse(preds)).toBeCloseTo(Math.sqrt(3.25 / 3), 15);
    expect(mae(preds)).toBeCloseTo(2.5 / 3, 15);
  });

  it('are zero for perfect predictions', () => {
    const perfect = [p('a', 4, 4), p('b', 2.5, 2.5)];
    expect(rmse(perfect)).toBe(0);
    expect(mae(perfect)).toBe(0);
  });

  it.each([
    ['rmse', rmse],
    ['mse', mse],
    ['mae', mae],
    ['fcp', fcp],
  ])('%s of an empty list is an error', (_name, f) => {
    expect(() => f([])).toThrow('Prediction list is empty.');
  });

  it('refuse predictions without a true rating, naming the user', () => {
    expect(() => rmse([{ uid: '7', rUi: null, est: 3 }])).toThrow(/user 7.*no true rating/);
  });
});

describe('fcp', () => {
  it('computes the hand-worked two-user example with ties', () => {
    // user A: (r, est) = (1, 2) (3, 3) (5, 3) (3, 4)
    //   concordant: (1,2)<(3,3), (1,2)<(5,3), (1,2)<(3,4)               → nc_A = 3
    //   discordant: (3,3)/(5,3) tie in est, (5,3)/(3,4) reversed         → nd_A = 2
    //   (3,3)/(3,4): tie in r → nothing
    // user B: (2, 1.5) (4, 1.5): tie in est, ratings differ → nd_B = 1, no nc entry
    // user C: one prediction → no entry
    // nc = mean([3]) = 3, nd = mean([2, 1]) = 1.5, fcp = 3 / 4.5
    const preds = [
      p('A', 1, 2),
      p('B', 2, 1.5),
      p('A', 3, 3),
      p('C', 4, 4.2),
      p('A', 5, 3),
      p('B', 4, 1.5),
      p('A', 3, 4),
    ];
    expect(fcp(preds)).toBeCloseTo(3 / 4.5, 15);
  });

  it('is 1 for a perfect ordering and 0 for a reversed one', () => {
    expect(fcp([p('u', 1, 1), p('u', 2, 2), p('u', 3, 3)])).toBe(1);
    expect(fcp([p('u', 1, 3), p('u', 2, 2), p('u', 3, 1)])).toBe(0);
  });

  it('fails as Surprise does when no pair is concordant or discordant', () => {
    const msg =
      'cannot compute FCP on this list of prediction. Does every user have at least two predictions?';
    expect(() => fcp([p('a', 3, 3), p('b', 4, 2)])).toThrow(msg);
    expect(() => fcp([p('a', 3, 3), p('a', 3, 1)])).toThrow(msg); // tie in true ratings only
  });

  it('equals the O(n²) definition on random data with many ties', () => {
    const rng = new RandomState(42);
    for (let trial = 0; trial < 30; trial++) {
      const n = 5 + rng.randint(0, 300);
      const nUsers = 1 + rng.randint(0, 12);
      const preds: ScoredPrediction[] = [];
      for (let k = 0; k < n; k++) {
        preds.push(
          p(
            `u${rng.randint(0, nUsers)}`,
            1 + rng.randint(0, 5),
            // estimates on a coarse grid so ties are frequent
            1 + rng.randint(0, 9) / 2,
          ),
        );
      }
      let want: number | string;
      try {
        want = fcpBruteForce(preds);
      } catch {
        want = 'error';
      }
      if (want === 'error') expect(() => fcp(preds)).toThrow(/cannot compute FCP/);
      else expect(fcp(preds)).toBe(want);
    }
  });
});

describe('parseMeasures', () => {
  it('lower-cases and keeps order', () => {
    expect(parseMeasures(['RMSE', 'Fcp', 'mae'])).toEqual(['rmse', 'fcp', 'mae']);
  });
  it('names an unknown measure and the known ones', () => {
    expect(() => parseMeasures(['rmse', 'ndcg'])).toThrow(
      "unknown measure 'ndcg'; expected one of: rmse, mse, mae, fcp",
    );
  });
  it('refuses an empty list and repeats', () => {
    expect(() => parseMeasures([])).toThrow(/no measure/);
    expect(() => parseMeasures(['mae', 'MAE'])).toThrow(/twice/);
  });
});
