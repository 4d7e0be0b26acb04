/**
 * BayesianFM: the factorization-machine equation worked by hand; the model's estimates against
 * that equation evaluated naively (pairwise sum over explicit feature vectors) on the sampler's
 * final parameters, side features, time and cold start included; the sampler on synthetic data
 * drawn from a known model (recovered noise precision, RMSE against the truth); cold start from
 * attributes; determinism; model-file round trip; parameters.
 */
import { BayesianFM, createAlgorithm } from '../../src/engine/algorithms';
import { buildFMDesign } from '../../src/engine/algorithms/bayesian-fm-design';
import { runGibbs, gammaDraw, type FMState } from '../../src/engine/algorithms/bayesian-fm-sampler';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import type { AttributeRow, SideInfo } from '../../src/engine/dataset/side-info';
import { Trainset } from '../../src/engine/trainset';
import { RandomState } from '../../src/engine/random';
import { loadModel, saveModel } from '../../src/engine/model-file';
import { ParamError } from '../../src/engine/params';

/** A sparse case: feature name → value. */
type Case = Map<string, number>;

/** The FM equation (Rendle 2010, eq. 1) by its definition: a sum over every pair j < j'. */
function fmNaive(
  w0: number,
  w: Map<string, number>,
  v: Map<string, number[]>,
  x: Case,
  k: number,
): number {
  const names = [...x.keys()];
  let y = w0;
  for (const j of names) y += (w.get(j) ?? 0) * x.get(j)!;
  for (let a = 0; a < names.length; a++) {
    for (let b = a + 1; b < names.length; b++) {
      const va = v.get(names[a])!;
      const vb = v.get(names[b])!;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += va[f] * vb[f];
      y += dot * x.get(names[a])! * x.get(names[b])!;
    }
  }
  return y;
}

describe('the factorization-machine equation', () => {
  it('answers the hand-worked value for a user with gender and an item with two genres', () => {
    // x: user u1 = 1, gender=F = 1, item m1 = 1, genres=Comedy = 0.5, genres=Drama = 0.5; k = 2.
    const x: Case = new Map([
      ['u1', 1],
      ['gender=F', 1],
      ['m1', 1],
      ['genres=Comedy', 0.5],
      ['genres=Drama', 0.5],
    ]);
    const w = new Map([
      ['u1', 0.2],
      ['gender=F', -0.1],
      ['m1', 0.3],
      ['genres=Comedy', 0.4],
      ['genres=Drama', -0.2],
    ]);
    const v = new Map([
      ['u1', [1, 0]],
      ['gender=F', [0, 1]],
      ['m1', [1, 1]],
      ['genres=Comedy', [2, 0]],
      ['genres=Drama', [0, -2]],
    ]);
    // Linear: 3 + 0.2 − 0.1 + 0.3 + 0.4·0.5 − 0.2·0.5 = 3.5.
    // Pairs ⟨v_a,v_b⟩·x_a·x_b: u1·F 0; u1·m1 1; u1·C 2·0.5 = 1; u1·D 0; F·m1 1; F·C 0;
    // F·D −2·0.5 = −1; m1·C 2·0.5 = 1; m1·D −2·0.5 = −1; C·D 0·0.25 = 0. Sum 2.
    // ŷ = 3.5 + 2 = 5.5.
    expect(fmNaive(3, w, v, x, 2)).toBeCloseTo(5.5, 12);
  });
});

/** Ratings with timestamps (seconds) and optional side information. */
function trainsetWith(
  rows: [string, string, number, number][],
  side: SideInfo | null,
  scale: [number, number] = [1, 5],
): Trainset {
  const raw = new RawRatings(
    rows.map((r) => r[0]),
    rows.map((r) => r[1]),
    Float64Array.from(rows.map((r) => r[2])),
    Float64Array.from(rows.map((r) => r[3])),
  );
  return Trainset.build(raw, scale, undefined, side);
}

const DAY = 86400;
const tinySide: SideInfo = {
  users: new Map<string, AttributeRow>([
    ['a', { age: '23', gender: 'F', occupation: 'writer', zip: '94110' }],
    ['b', { age: '41', gender: 'M', occupation: 'writer', zip: '10001' }],
    ['c', { age: '67', gender: 'F', occupation: 'retired', zip: '94301' }],
    ['newcomer', { age: '30', gender: 'F', occupation: 'writer', zip: '9' }],
  ]),
  items: new Map<string, AttributeRow>([
    ['1', { title: 'One (1995)', genres: 'Comedy|Drama', year: '1995' }],
    ['2', { title: 'Two (1977)', genres: 'Sci-Fi', year: '1977' }],
    ['3', { title: 'Three (1995)', genres: 'Comedy', year: '1995' }],
    ['new', { title: 'New (1999)', genres: 'Drama', year: '1999' }],
  ]),
};
const tinyRows: [string, string, number, number][] = [
  ['a', '1', 4, 0],
  ['a', '2', 2, 10 * DAY],
  ['b', '1', 5, 40 * DAY],
  ['b', '3', 3, 65 * DAY],
  ['c', '2', 1, 70 * DAY],
  ['c', '3', 4, 95 * DAY],
  ['a', '3', 5, 100 * DAY],
];

describe('BayesianFM estimates equal the FM equation on its parameters', () => {
  const params = {
    nFactors: 3,
    nSamples: 1,
    burnIn: 4,
    nStoredSamples: 1,
    useTime: true,
    timeBinDays: 30,
    randomState: 7,
  };
  const ts = trainsetWith(tinyRows, tinySide, [-100, 100]);
  const algo = new BayesianFM(params).fit(ts);
  // The same sweeps, run directly: the final state is the one sample the model keeps.
  const design = buildFMDesign(ts, algo.params);
  let last: FMState | null = null;
  runGibbs(
    {
      y: ts.urRatings,
      modes: design.modes,
      nGroups: 7,
      nFactors: 3,
      initStd: 0.1,
    },
    new RandomState(7),
    5,
    (_s, st) => (last = st),
  );
  const st = last as unknown as FMState;
  // Name every feature: mode 0 users (ids, rated items, attributes), mode 1 items, mode 2 bins.
  const uNames = [
    ...['a', 'b', 'c'].map((u) => `user:${u}`),
    ...['1', '2', '3'].map((i) => `rated:${i}`),
    ...design.userAttributes.featureNames.map((n) => `ua:${n}`),
  ];
  const iNames = [
    ...['1', '2', '3'].map((i) => `item:${i}`),
    ...['a', 'b', 'c'].map((u) => `rater:${u}`),
    ...design.itemAttributes.featureNames.map((n) => `ia:${n}`),
  ];
  const tNames = design.modes[2]
    ? [...Array(design.modes[2].nFeatures).keys()].map((b) => `bin:${b}`)
    : [];
  const w = new Map<string, number>();
  const v = new Map<string, number[]>();
  [uNames, iNames, tNames].forEach((names, m) =>
    names.forEach((name, j) => {
      w.set(name, st.w[m][j]);
      v.set(
        name,
        [0, 1, 2].map((f) => st.v[m][f * names.length + j]),
      );
    }),
  );
  /**
   * The explicit feature vector of (user, item) at the newest bin; `attrsOnly` leaves out the
   * user's (or item's) id and rated-items (raters) blocks, keeping its attributes.
   */
  const caseOf = (user: string, item: string, attrsOnly: '' | 'user' | 'item' = ''): Case => {
    const x: Case = new Map();
    const uRated =
      attrsOnly === 'user' ? [] : tinyRows.filter((r) => r[0] === user).map((r) => r[1]);
    const iRaters =
      attrsOnly === 'item' ? [] : tinyRows.filter((r) => r[1] === item).map((r) => r[0]);
    if (uRated.length > 0) x.set(`user:${user}`, 1);
    for (const i of uRated) x.set(`rated:${i}`, 1 / Math.sqrt(uRated.length));
    if (iRaters.length > 0) x.set(`item:${item}`, 1);
    for (const u of iRaters) x.set(`rater:${u}`, 1 / Math.sqrt(iRaters.length));
    const enc = (row: AttributeRow | undefined, prefix: string) => {
      if (!row) return;
      // The encoding rules of fm-features.ts, written out for these rows.
      if (row.age) {
        const a = Number(row.age);
        x.set(
          `${prefix}:age=${a < 18 ? '<18' : a < 25 ? '18-24' : a < 35 ? '25-34' : a < 45 ? '35-44' : a < 50 ? '45-49' : a < 56 ? '50-55' : '56+'}`,
          1,
        );
      }
      if (row.gender) x.set(`${prefix}:gender=${row.gender}`, 1);
      if (row.occupation) x.set(`${prefix}:occupation=${row.occupation}`, 1);
      if (row.zip) x.set(`${prefix}:zip=${row.zip[0]}`, 1);
      if (row.genres) {
        const g = row.genres.split('|');
        for (const name of g) x.set(`${prefix}:genres=${name}`, 1 / g.length);
      }
      if (row.year) x.set(`${prefix}:year=${Math.floor(Number(row.year) / 10) * 10}s`, 1);
    };
    enc(tinySide.users.get(user), 'ua');
    enc(tinySide.items.get(item), 'ia');
    x.set(`bin:${design.newestBin}`, 1);
    return x;
  };

  it('has the blocks asked for: 4 time bins of 30 days, attribute features by the encoding rules', () => {
    expect(design.newestBin).toBe(3); // day 100 is in bin floor(100/30) = 3
    expect(design.userAttributes.featureNames).toEqual([
      'age=18-24',
      'age=25-34',
      'age=35-44',
      'age=56+',
      'gender=F',
      'gender=M',
      'occupation=retired',
      'occupation=writer',
      'zip=1',
      'zip=9',
    ]);
    expect(design.itemAttributes.featureNames).toEqual([
      'genres=Comedy',
      'genres=Drama',
      'genres=Sci-Fi',
      'year=1970s',
      'year=1990s',
    ]);
  });

  it.each([
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
    ['a', '3'],
  ])('answers user %s, item %s as the FM equation does (known ids)', (u, i) => {
    const p = algo.predict(u, i, null, false);
    expect(p.details.wasImpossible).toBe(false);
    expect(p.est).toBeCloseTo(fmNaive(st.w0, w, v, caseOf(u, i), 3), 5);
  });

  it("keeps the sampler's residuals equal to rating − FM equation of each training case", () => {
    // The relation-block updates change the residuals incrementally; they must stay exact.
    const newest = design.newestBin;
    tinyRows.forEach(([u, i, r, t]) => {
      const x = caseOf(u, i);
      x.delete(`bin:${newest}`);
      x.set(`bin:${Math.floor(t / (30 * DAY))}`, 1);
      const n =
        ts.urOffsets[ts.findUser(u)] + [...ts.ur(ts.findUser(u)).items].indexOf(ts.findItem(i));
      expect(st.e[n]).toBeCloseTo(r - fmNaive(st.w0, w, v, x, 3), 9);
    });
  });

  const fm = (x: Case) => fmNaive(st.w0, w, v, x, 3);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('answers a user without ratings as an average user with its attributes (flagged User unknown)', () => {
    const p = algo.predict('newcomer', '2', null, false);
    expect(p.details).toMatchObject({ wasImpossible: true, reason: 'User unknown' });
    // its attributes' FM terms, plus the mean over the known users of what their full feature
    // vector adds to their attributes alone
    const rest = mean(['a', 'b', 'c'].map((u) => fm(caseOf(u, '2')) - fm(caseOf(u, '2', 'user'))));
    expect(p.est).toBeCloseTo(fm(caseOf('newcomer', '2', 'user')) + rest, 5);
    // A user with neither ratings nor attributes gets the mean of the known users' estimates.
    const q = algo.predict('stranger', '2', null, false);
    expect(q.est).toBeCloseTo(mean(['a', 'b', 'c'].map((u) => fm(caseOf(u, '2')))), 5);
  });

  it('answers a movie without ratings from its genres and year (flagged Item unknown)', () => {
    const p = algo.predict('b', 'new', null, false);
    expect(p.details).toMatchObject({ wasImpossible: true, reason: 'Item unknown' });
    const rest = mean(['1', '2', '3'].map((i) => fm(caseOf('b', i)) - fm(caseOf('b', i, 'item'))));
    expect(p.est).toBeCloseTo(fm(caseOf('b', 'new', 'item')) + rest, 5);
  });

  it('loads back from a model file predicting the same values bit for bit', () => {
    const back = loadModel(saveModel(algo));
    for (const [u, i] of [
      ['a', '1'],
      ['newcomer', 'new'],
      ['c', '2'],
      ['stranger', '1'],
    ]) {
      expect(back.predict(u, i).est).toBe(algo.predict(u, i).est);
    }
  });
});

/** Draws ratings from a known biased MF model with a user-group effect; prints its seed. */
function synthetic(seed: number) {
  const rng = new RandomState(seed);
  const nU = 240;
  const nI = 160;
  const k = 3;
  const sigma = 0.5; // noise precision α = 1/σ² = 4
  const group = Array.from({ length: nU }, () => (rng.random() < 0.5 ? 'A' : 'B'));
  const bu = Array.from(
    { length: nU },
    (_, u) => (group[u] === 'A' ? 0.8 : -0.8) + rng.normal(0, 0.2),
  );
  const bi = Array.from({ length: nI }, () => rng.normal(0, 0.5));
  const pu = Array.from({ length: nU }, () => Array.from({ length: k }, () => rng.normal(0, 0.7)));
  const qi = Array.from({ length: nI }, () => Array.from({ length: k }, () => rng.normal(0, 0.7)));
  const truth = (u: number, i: number) =>
    3 + bu[u] + bi[i] + pu[u].reduce((s, x, f) => s + x * qi[i][f], 0);
  const train: [string, string, number][] = [];
  // user, item, noisy rating, truth, and the best a model knowing only the user's group can do
  // (the truth's expectation over the user's own bias and factors: 3 + group effect + b_i).
  const test: [string, string, number, number, number][] = [];
  const coldUsers = new Set<number>();
  for (let u = 0; u < nU; u++) if (u % 12 === 0) coldUsers.add(u);
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      const d = rng.random();
      const t = truth(u, i);
      const r = t + rng.normal(0, sigma);
      const oracle = 3 + (group[u] === 'A' ? 0.8 : -0.8) + bi[i];
      if (coldUsers.has(u)) {
        if (d < 0.2) test.push([`u${u}`, `i${i}`, r, t, oracle]);
      } else if (d < 0.25) train.push([`u${u}`, `i${i}`, r]);
      else if (d < 0.3) test.push([`u${u}`, `i${i}`, r, t, oracle]);
    }
  }
  const side: SideInfo = {
    users: new Map(group.map((g, u) => [`u${u}`, { group: g } as AttributeRow])),
    items: new Map(),
  };
  const raw = new RawRatings(
    train.map((r) => r[0]),
    train.map((r) => r[1]),
    Float64Array.from(train.map((r) => r[2])),
  );
  return { ts: Trainset.build(raw, [-100, 100], undefined, side), test, coldUsers, sigma };
}

describe('BayesianFM on synthetic data from a known model', () => {
  const seed = 20261206;
  console.log(`synthetic data seed ${seed}, sampler seed 3`);
  const { ts, test, sigma } = synthetic(seed);
  const algo = new BayesianFM({
    nFactors: 4,
    burnIn: 30,
    nSamples: 60,
    nStoredSamples: 20,
    useImplicit: false,
    useFlipped: false,
    randomState: 3,
  }).fit(ts);
  const warm = test.filter((r) => ts.findUser(r[0]) >= 0);
  const cold = test.filter((r) => ts.findUser(r[0]) < 0);
  const rmseTo = (rows: typeof test, col: 2 | 3) =>
    Math.sqrt(
      rows.reduce((s, r) => s + (algo.predict(r[0], r[1], null, false).est - r[col]) ** 2, 0) /
        rows.length,
    );

  it('recovers the noise precision α = 1/σ² = 4 within 15 %', () => {
    const a = algo.alphaTrace;
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    expect(a).toHaveLength(60);
    expect(mean).toBeGreaterThan(4 * 0.85);
    expect(mean).toBeLessThan(4 * 1.15);
  });

  it('predicts held-out ratings within 0.3 RMSE of the noiseless truth, and the noisy ones near σ', () => {
    const toTruth = rmseTo(warm, 3);
    expect(toTruth).toBeLessThan(0.3);
    // RMSE to the noisy ratings is √(σ² + error²) when the error is independent of the noise.
    const toNoisy = rmseTo(warm, 2);
    expect(toNoisy).toBeGreaterThan(sigma * 0.9);
    expect(toNoisy).toBeLessThan(Math.sqrt(sigma ** 2 + 0.3 ** 2) * 1.05);
  });

  it('answers users held out entirely from their group better than from the item alone', () => {
    expect(cold.length).toBeGreaterThan(500);
    const noAttr = new BayesianFM({ ...algo.params, useUserAttributes: false }).fit(ts);
    const withAttr = rmseTo(cold, 3);
    const without = Math.sqrt(
      cold.reduce((s, r) => s + (noAttr.predict(r[0], r[1], null, false).est - r[3]) ** 2, 0) /
        cold.length,
    );
    // Against the truth, no model can beat the oracle that knows the group and the items exactly;
    // with the group the model comes within 0.1 of it, without it the ±0.8 effect stays.
    const oracle = Math.sqrt(cold.reduce((s, r) => s + (r[4] - r[3]) ** 2, 0) / cold.length);
    console.log(
      `cold start RMSE to the truth: with the group ${withAttr.toFixed(3)}, without ${without.toFixed(3)}, oracle ${oracle.toFixed(3)}`,
    );
    expect(withAttr).toBeLessThan(oracle + 0.1);
    expect(without).toBeGreaterThan(oracle + 0.2);
  });
});

describe('BayesianFM as an engine algorithm', () => {
  it('gives the same estimates for the same seed, other ones for another seed', () => {
    const ts = trainsetWith(tinyRows, tinySide);
    const p = { nFactors: 2, nSamples: 5, burnIn: 2, nStoredSamples: 3 };
    const a = new BayesianFM({ ...p, randomState: 1 }).fit(ts).predict('a', '2').est;
    const b = new BayesianFM({ ...p, randomState: 1 }).fit(ts).predict('a', '2').est;
    const c = new BayesianFM({ ...p, randomState: 2 }).fit(ts).predict('a', '2').est;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('is registered by its name and clips estimates to the rating scale', () => {
    const ts = trainsetWith([...tinyRows, ['b', '2', 5, 0]], null);
    const algo = createAlgorithm('BayesianFM', {
      nFactors: 2,
      nSamples: 3,
      burnIn: 1,
      randomState: 0,
    }).fit(ts);
    for (const u of ['a', 'b', 'c']) {
      for (const i of ['1', '2', '3']) {
        const est = algo.predict(u, i).est;
        expect(est).toBeGreaterThanOrEqual(1);
        expect(est).toBeLessThanOrEqual(5);
      }
    }
  });

  it('refuses a bad parameter naming it and what was expected', () => {
    expect(() => new BayesianFM({ nSamples: 0 })).toThrow(ParamError);
    expect(() => new BayesianFM({ nSamples: 0 })).toThrow(/nSamples.*≥ 1/);
    expect(() => new BayesianFM({ nFactor: 3 })).toThrow(/unknown parameter 'nFactor'/);
  });
});

describe('gammaDraw', () => {
  it('has the mean shape/rate and variance shape/rate² of Gamma(shape, rate)', () => {
    const rng = new RandomState(11);
    for (const [shape, rate] of [
      [0.5, 2],
      [3, 0.5],
      [50.5, 20],
    ]) {
      const n = 20000;
      let s = 0;
      let ss = 0;
      for (let q = 0; q < n; q++) {
        const x = gammaDraw(rng, shape, rate);
        s += x;
        ss += x * x;
      }
      const mean = s / n;
      const variance = ss / n - mean * mean;
      expect(mean).toBeCloseTo(shape / rate, 1);
      expect(Math.abs(variance / (shape / rate ** 2) - 1)).toBeLessThan(0.06);
    }
  });
});
