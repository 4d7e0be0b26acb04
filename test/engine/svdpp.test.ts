/**
 * SVDpp: equality with a literal NumPy transcription of Surprise 1.1.4's SVDpp loop
 * (test/fixtures/surprise-ref/mf_ref.py), which also checks the O(|R|·f) reorganisation of the
 * implicit-feedback updates; hand-worked first step; unknown users and items; parameters; seeds;
 * model state.
 */
import {
  SVDpp,
  svdppSgdLiteral,
  svdppSgd,
  hasRepeatedItems,
  type SvdppSgdInput,
} from '../../src/engine/algorithms/svdpp';
import type { Trainset } from '../../src/engine/trainset';
import { svdppSgdWasm } from '../../src/engine/algorithms/svdpp-kernel';
import { createAlgorithm } from '../../src/engine/algorithms';
import { RandomState } from '../../src/engine/random';
import {
  REF,
  refTrainset,
  trainsetOf,
  expectPredictions,
  maxAbsDiff,
  allEstimates,
  expectEveryParamMatters,
  expectStateRoundTrip,
} from './mf-ref';

describe('SVDpp against the NumPy transcription of Surprise', () => {
  const ts = refTrainset();

  it('the reference trainset has the same global mean', () => {
    expect(ts.globalMean).toBe(REF.globalMean);
  });

  REF.svdpp.forEach(({ params, result }, k) => {
    it(`case ${k}: factors, biases and predictions agree to 1e-10 (${JSON.stringify(params)})`, () => {
      const algo = new SVDpp(params).fit(ts);
      expect(maxAbsDiff(algo.bu, result.bu)).toBeLessThan(1e-10);
      expect(maxAbsDiff(algo.bi, result.bi)).toBeLessThan(1e-10);
      expect(maxAbsDiff(algo.pu, result.pu)).toBeLessThan(1e-10);
      expect(maxAbsDiff(algo.qi, result.qi)).toBeLessThan(1e-10);
      expect(maxAbsDiff(algo.yj, result.yj)).toBeLessThan(1e-10);
      expectPredictions(algo, result.predictions, 1e-10);
    });
  });

  it('with no epoch the factors are the N(initMean, initStd) draws of pu, qi, yj in that order', () => {
    const algo = new SVDpp({
      nFactors: 2,
      nEpochs: 0,
      initMean: 1,
      initStd: 0.5,
      randomState: 9,
    }).fit(ts);
    const r = new RandomState(9);
    const draw = (n: number) => Array.from({ length: n }, () => r.normal(1, 0.5));
    expect(Array.from(algo.pu)).toEqual(draw(ts.nUsers * 2));
    expect(Array.from(algo.qi)).toEqual(draw(ts.nItems * 2));
    expect(Array.from(algo.yj)).toEqual(draw(ts.nItems * 2));
    expect(Array.from(algo.bu)).toEqual(new Array(ts.nUsers).fill(0));
  });
});

describe('SVDpp literal loop (Surprise as written) and repeated items', () => {
  /** Surprise's loop as written, from the same initial draws as SVDpp.fit. */
  function literal(
    t: Trainset,
    p: Record<string, unknown>,
    run: (input: SvdppSgdInput) => void = svdppSgdLiteral,
  ): SvdppSgdInput {
    const num = (k: string, d: number) => (p[k] as number | undefined) ?? d;
    const nF = num('nFactors', 20);
    const lr = num('lrAll', 0.007);
    const reg = num('regAll', 0.02);
    const r = new RandomState(p.randomState as number);
    const m = num('initMean', 0);
    const sd = num('initStd', 0.1);
    const input: SvdppSgdInput = {
      nUsers: t.nUsers,
      nFactors: nF,
      nEpochs: num('nEpochs', 20),
      urOffsets: t.urOffsets,
      urItems: t.urItems,
      urRatings: t.urRatings,
      bu: new Float64Array(t.nUsers),
      bi: new Float64Array(t.nItems),
      pu: r.fillNormal(new Float64Array(t.nUsers * nF), m, sd),
      qi: r.fillNormal(new Float64Array(t.nItems * nF), m, sd),
      yj: r.fillNormal(new Float64Array(t.nItems * nF), m, sd),
      mu: t.globalMean,
      lrBu: num('lrBu', lr),
      lrBi: num('lrBi', lr),
      lrPu: num('lrPu', lr),
      lrQi: num('lrQi', lr),
      lrYj: num('lrYj', lr),
      regBu: num('regBu', reg),
      regBi: num('regBi', reg),
      regPu: num('regPu', reg),
      regQi: num('regQi', reg),
      regYj: num('regYj', reg),
    };
    run(input);
    return input;
  }

  // RandomState.normal agrees with NumPy's legacy normal except in the last bit of about 3% of the
  // draws (V8's Math.log is not glibc's log), so the literal loop agrees to rounding, not bits.
  REF.svdpp.forEach(({ params, result }, k) => {
    it(`case ${k}: the literal loop equals the NumPy transcription to 1e-14`, () => {
      const out = literal(refTrainset(), params);
      expect(maxAbsDiff(out.yj, result.yj)).toBeLessThan(1e-14);
      expect(maxAbsDiff(out.pu, result.pu)).toBeLessThan(1e-14);
      expect(maxAbsDiff(out.qi, result.qi)).toBeLessThan(1e-14);
      expect(maxAbsDiff(out.bu, result.bu)).toBeLessThan(1e-14);
    });
  });

  it('a user who rated an item twice: fit falls back to the literal loop, as Surprise', () => {
    const dup = REF.svdppDuplicates;
    const t = trainsetOf(dup.ratings);
    expect(hasRepeatedItems(t)).toBe(true);
    expect(hasRepeatedItems(refTrainset())).toBe(false);
    const algo = new SVDpp(dup.params).fit(t);
    expect(maxAbsDiff(algo.yj, dup.result.yj)).toBeLessThan(1e-14);
    expect(maxAbsDiff(algo.qi, dup.result.qi)).toBeLessThan(1e-14);
    expect(maxAbsDiff(algo.bi, dup.result.bi)).toBeLessThan(1e-14);
    expectPredictions(algo, dup.result.predictions, 1e-14);
    // the reorganised loop would not give Surprise's result here
    expect(maxAbsDiff(literal(t, dup.params, svdppSgd).yj, dup.result.yj)).toBeGreaterThan(1e-6);
  });
});

describe('SVDpp by hand: one user, two ratings, one factor, one epoch', () => {
  // u rates a 4 then b 2; μ = 3. Factors start at p, q_a, q_b, y_a, y_b (draws of seed 0).
  const t = trainsetOf(
    [
      ['u', 'a', 4],
      ['u', 'b', 2],
    ],
    [1, 5],
  );
  const lr = 0.007;
  const reg = 0.02;
  it('follows the update equations step by step', () => {
    const algo = new SVDpp({ nFactors: 1, nEpochs: 1, randomState: 0 }).fit(t);
    const r = new RandomState(0);
    let [p, qa, qb, ya, yb] = [0, 0, 0, 0, 0].map(() => r.normal(0, 0.1));
    let bu = 0;
    let ba = 0;
    let bb = 0;
    const s = Math.SQRT2;
    // rating (u, a, 4)
    let impl = (ya + yb) / s;
    let err = 4 - (3 + bu + ba + qa * (p + impl));
    bu += lr * (err - reg * bu);
    ba += lr * (err - reg * ba);
    let p0 = p;
    let q0 = qa;
    p += lr * (err * q0 - reg * p0);
    qa += lr * (err * (p0 + impl) - reg * q0);
    ya += lr * ((err * q0) / s - reg * ya);
    yb += lr * ((err * q0) / s - reg * yb);
    // rating (u, b, 2)
    impl = (ya + yb) / s;
    err = 2 - (3 + bu + bb + qb * (p + impl));
    bu += lr * (err - reg * bu);
    bb += lr * (err - reg * bb);
    p0 = p;
    q0 = qb;
    p += lr * (err * q0 - reg * p0);
    qb += lr * (err * (p0 + impl) - reg * q0);
    ya += lr * ((err * q0) / s - reg * ya);
    yb += lr * ((err * q0) / s - reg * yb);

    const close = (x: number, y: number) => expect(Math.abs(x - y)).toBeLessThan(1e-15);
    close(algo.bu[0], bu);
    close(algo.bi[0], ba);
    close(algo.bi[1], bb);
    close(algo.pu[0], p);
    close(algo.qi[0], qa);
    close(algo.qi[1], qb);
    close(algo.yj[0], ya);
    close(algo.yj[1], yb);
    // estimate = μ + b_u + b_i + q_i (p_u + (y_a + y_b)/√2)
    close(algo.predict('u', 'a', null, false).est, 3 + bu + ba + qa * (p + (ya + yb) / s));
  });
});

describe('SVDpp unknown users and items (Surprise: partial baseline, never impossible)', () => {
  const ts = refTrainset();
  const algo = new SVDpp({ nFactors: 3, nEpochs: 4, randomState: 0 }).fit(ts);
  const u = ts.toInnerUid('u3');
  const i = ts.toInnerIid('i2');

  it('unknown user: μ + b_i, flagged', () => {
    const p = algo.predict('nobody', 'i2', null, false);
    expect(p.est).toBe(ts.globalMean + algo.bi[i]);
    expect(p.details).toEqual({ wasImpossible: true, reason: 'User unknown' });
  });
  it('unknown item: μ + b_u, flagged', () => {
    const p = algo.predict('u3', 'nothing', null, false);
    expect(p.est).toBe(ts.globalMean + algo.bu[u]);
    expect(p.details.reason).toBe('Item unknown');
  });
  it('both unknown: μ', () => {
    const p = algo.predict('nobody', 'nothing');
    expect(p.est).toBe(ts.globalMean);
    expect(p.details.wasImpossible).toBe(true);
  });
  it('estimates are clipped to the rating scale unless asked not to', () => {
    const big = new SVDpp({ nFactors: 2, nEpochs: 30, lrAll: 0.05, randomState: 0 }).fit(
      trainsetOf(
        [
          ['a', 'x', 5],
          ['a', 'y', 5],
          ['b', 'x', 5],
        ],
        [1, 5],
      ),
    );
    const raw = big.predict('a', 'x', null, false).est;
    expect(raw).toBeGreaterThan(5);
    expect(big.predict('a', 'x').est).toBe(Math.min(5, raw));
  });
});

describe('SVDpp parameters, seeds, half stars, state', () => {
  const ts = refTrainset();
  const base = { nFactors: 3, nEpochs: 3, randomState: 0 };

  it('every hyper-parameter changes the estimates', () => {
    expectEveryParamMatters(SVDpp, ts, base, {
      nFactors: { nFactors: 4 },
      nEpochs: { nEpochs: 4 },
      initMean: { initMean: 0.1 },
      initStd: { initStd: 0.3 },
      lrAll: { lrAll: 0.02 },
      regAll: { regAll: 0.2 },
      lrBu: { lrBu: 0.02 },
      lrBi: { lrBi: 0.02 },
      lrPu: { lrPu: 0.02 },
      lrQi: { lrQi: 0.02 },
      lrYj: { lrYj: 0.02 },
      regBu: { regBu: 0.5 },
      regBi: { regBi: 0.5 },
      regPu: { regPu: 0.5 },
      regQi: { regQi: 0.5 },
      regYj: { regYj: 0.5 },
      randomState: { randomState: 1 },
    });
  });

  it('a per-parameter rate set to lrAll equals leaving it null', () => {
    const a = allEstimates(new SVDpp({ ...base, lrAll: 0.01, regAll: 0.03 }).fit(ts));
    const b = allEstimates(
      new SVDpp({ ...base, lrAll: 0.01, regAll: 0.03, lrYj: 0.01, regYj: 0.03, lrBu: 0.01 }).fit(
        ts,
      ),
    );
    expect(b).toEqual(a);
  });

  it('the same seed gives the same model bit for bit', () => {
    const a = new SVDpp(base).fit(ts);
    const b = new SVDpp(base).fit(ts);
    expect(b.yj).toEqual(a.yj);
    expect(b.pu).toEqual(a.pu);
    expect(allEstimates(b)).toEqual(allEstimates(a));
  });

  it('half stars are used as they are (4.5 differs from 4 and from 5)', () => {
    const rows = (r: number): [string, string, number][] => [
      ['a', 'x', r],
      ['a', 'y', 2],
      ['b', 'x', 3],
    ];
    const est = (r: number) =>
      new SVDpp({ ...base, nEpochs: 1 }).fit(trainsetOf(rows(r))).predict('b', 'y', null, false)
        .est;
    expect(est(4.5)).not.toBe(est(4));
    expect(est(4.5)).not.toBe(est(5));
  });

  it('exportState / importState restore the same estimates', () => {
    expectStateRoundTrip(SVDpp, base, ts);
  });

  it('importState refuses arrays of the wrong size, naming them', () => {
    const a = new SVDpp(base).fit(ts);
    const state = a.exportState();
    state.arrays.yj = new Float64Array(3);
    expect(() => new SVDpp(base).restore(ts, state)).toThrow(/array 'yj'/);
  });

  it('is registered as SVDpp with Surprise defaults', () => {
    const algo = createAlgorithm('SVDpp');
    expect(algo).toBeInstanceOf(SVDpp);
    expect(algo.params).toMatchObject({
      nFactors: 20,
      nEpochs: 20,
      initMean: 0,
      initStd: 0.1,
      lrAll: 0.007,
      regAll: 0.02,
      lrYj: null,
      regYj: null,
      randomState: null,
    });
    expect(() => createAlgorithm('SVDpp', { nFactor: 3 })).toThrow(/unknown parameter 'nFactor'/);
  });
});

describe('SVDpp kernel: WebAssembly and TypeScript loops give the same bits', () => {
  // nFactors 4: f64x2 steps only; 9 and 3: then one scalar step; 1: the scalar step alone.
  it.each([
    [{ nFactors: 4, nEpochs: 6, randomState: 1 }],
    [{ nFactors: 9, nEpochs: 4, randomState: 3 }],
    [{ nFactors: 3, nEpochs: 3, lrYj: 0.05, regYj: 0.3, lrBu: 0.02, randomState: 2 }],
    [{ nFactors: 1, nEpochs: 3, randomState: 4 }],
  ] as const)('%j: identical factors and biases', (params) => {
    const t = refTrainset();
    const run = (fn: (i: SvdppSgdInput) => unknown) => {
      const r = new RandomState(params.randomState);
      const nF = params.nFactors;
      const lr = 0.007;
      const reg = 0.02;
      const p = params as Record<string, number>;
      const input: SvdppSgdInput = {
        nUsers: t.nUsers,
        nFactors: nF,
        nEpochs: params.nEpochs,
        urOffsets: t.urOffsets,
        urItems: t.urItems,
        urRatings: t.urRatings,
        bu: new Float64Array(t.nUsers),
        bi: new Float64Array(t.nItems),
        pu: r.fillNormal(new Float64Array(t.nUsers * nF), 0, 0.1),
        qi: r.fillNormal(new Float64Array(t.nItems * nF), 0, 0.1),
        yj: r.fillNormal(new Float64Array(t.nItems * nF), 0, 0.1),
        mu: t.globalMean,
        lrBu: p.lrBu ?? lr,
        lrBi: lr,
        lrPu: lr,
        lrQi: lr,
        lrYj: p.lrYj ?? lr,
        regBu: reg,
        regBi: reg,
        regPu: reg,
        regQi: reg,
        regYj: p.regYj ?? reg,
      };
      fn(input);
      return input;
    };
    const js1 = run(svdppSgd);
    const wa = run((i) => expect(svdppSgdWasm(i)).toBe(true));
    const hex = (x: Float64Array) =>
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
    expect(hex(wa.yj)).toBe(hex(js1.yj));
    expect(hex(wa.pu)).toBe(hex(js1.pu));
    expect(hex(wa.qi)).toBe(hex(js1.qi));
    expect(hex(wa.bu)).toBe(hex(js1.bu));
    expect(hex(wa.bi)).toBe(hex(js1.bi));
    expect(js1.bu.some((x) => x !== 0)).toBe(true);
  });
});
