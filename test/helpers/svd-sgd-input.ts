/**
 * Inputs for the SVD SGD kernel tests (test/engine/algorithms-svd-kernel.test.ts,
 * svd-simd.test.ts, kernel-init.test.ts): a random trainset of distinct ratings and an
 * `SvdSgdInput` over it with seeded initial factors and distinct rates per term (so that a kernel
 * mixing two rates up fails).
 */
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { Trainset } from '../../src/engine/trainset';
import { RandomState } from '../../src/engine/random';
import type { SvdSgdInput } from '../../src/engine/algorithms/svd-kernel';

/**
 * A trainset of `n` distinct (user, item) pairs drawn with `seed` among `nUsers` × `nItems`
 * (users `u<k>`, items `i<k>`), ratings whole stars 1…5, scale [1, 5].
 */
export function randomTrainset(seed: number, nUsers: number, nItems: number, n: number): Trainset {
  const g = new RandomState(seed);
  const seen = new Set<number>();
  const users: string[] = [];
  const items: string[] = [];
  const ratings: number[] = [];
  while (ratings.length < n) {
    const u = g.randint(0, nUsers);
    const i = g.randint(0, nItems);
    if (seen.has(u * nItems + i)) continue;
    seen.add(u * nItems + i);
    users.push(`u${u}`);
    items.push(`i${i}`);
    ratings.push(g.randint(1, 6));
  }
  return Trainset.build(new RawRatings(users, items, Float64Array.from(ratings)), [1, 5]);
}

/**
 * Three epochs of SGD over `ts` with `nF` factors: zero biases, factors N(0, 0.1) drawn with
 * `seed` (p then q), μ the global mean when biased (else 0), and the rates lr 0.005 / 0.004 /
 * 0.006 / 0.007 and reg 0.02 / 0.03 / 0.04 / 0.05 for b_u / b_i / p_u / q_i.
 */
export function svdSgdInput(ts: Trainset, nF: number, biased: boolean, seed: number): SvdSgdInput {
  const g = new RandomState(seed);
  return {
    nUsers: ts.nUsers,
    nFactors: nF,
    nEpochs: 3,
    biased,
    urOffsets: ts.urOffsets,
    urItems: ts.urItems,
    urRatings: ts.urRatings,
    bu: new Float64Array(ts.nUsers),
    bi: new Float64Array(ts.nItems),
    pu: g.fillNormal(new Float64Array(ts.nUsers * nF), 0, 0.1),
    qi: g.fillNormal(new Float64Array(ts.nItems * nF), 0, 0.1),
    mu: biased ? ts.globalMean : 0,
    lrBu: 0.005,
    lrBi: 0.004,
    lrPu: 0.006,
    lrQi: 0.007,
    regBu: 0.02,
    regBi: 0.03,
    regPu: 0.04,
    regQi: 0.05,
  };
}
