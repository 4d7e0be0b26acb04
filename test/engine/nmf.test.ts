/**
 * NMF: equality (to the last bit) with a NumPy transcription of Surprise 1.1.4's NMF loop
 * (test/fixtures/surprise-ref/mf_ref.py), a hand-worked epoch, unknown users and items (unbiased:
 * impossible; biased: partial baseline), parameters, seeds, model state.
 */
import { NMF } from '../../src/engine/algorithms/nmf';
import { nmfSgdJs, nmfSgdWasm, type NmfSgdInput } from '../../src/engine/algorithms/nmf-kernel';
import { createAlgorithm } from '../../src/engine/algorithms';
import { RandomState } from '../../src/engine/random';
import {
  REF,
  refTrainset,
  trainsetOf,
  expectPredictions,
  expectEveryParamMatters,
  expectStateRoundTrip,
  allEstimates,
} from './mf-ref';

describe('NMF against the NumPy transcription of Surprise', () => {
  const ts = refTrainset();
  REF.nmf.forEach(({ params, result }, k) => {
    it(`case ${k}: factors and biases equal to the last bit (${JSON.stringify(params)})`, () => {
      const algo = new NMF(params).fit(ts);
      expect(Array.from(algo.pu)).toEqual(result.pu);
      expect(Array.from(algo.qi)).toEqual(result.qi);
      expect(Array.from(algo.bu)).toEqual(result.bu);
      expect(Array.from(algo.bi)).toEqual(result.bi);
      // NumPy's dot may sum in another order: predictions agree to rounding.
      expectPredictions(algo, result.predictions, 1e-13);
    });
  });

  it('with no epoch the factors are the uniform(initLow, initHigh) draws of pu then qi', () => {
    const algo = new NMF({
      nFactors: 2,
      nEpochs: 0,
      initLow: 0.2,
      initHigh: 0.7,
      randomState: 4,
    }).fit(ts);
    const r = new RandomState(4);
    const draw = (n: number) => Array.from({ length: n }, () => 0.2 + (0.7 - 0.2) * r.random());
    expect(Array.from(algo.pu)).toEqual(draw(ts.nUsers * 2));
    expect(Array.from(algo.qi)).toEqual(draw(ts.nItems * 2));
  });

  it('factors stay non-negative', () => {
    const algo = new NMF({ randomState: 0 }).fit(ts);
    expect(Math.min(...algo.pu, ...algo.qi)).toBeGreaterThanOrEqual(0);
  });
});

describe('NMF by hand: one epoch, one factor', () => {
  // u rates a 4 and b 2; v rates a 5. Unbiased, regPu = regQi = 0.06.
  const t = trainsetOf(
    [
      ['u', 'a', 4],
      ['u', 'b', 2],
      ['v', 'a', 5],
    ],
    [1, 5],
  );
  it('multiplicative updates with |I_u| λ_u p_u and |U_i| λ_i q_i in the denominators', () => {
    const algo = new NMF({ nFactors: 1, nEpochs: 1, randomState: 3 }).fit(t);
    const r = new RandomState(3);
    const [pu, pv, qa, qb] = [0, 0, 0, 0].map(() => r.random());
    const l = 0.06;
    // estimates with the initial factors
    const eua = qa * pu;
    const eub = qb * pu;
    const eva = qa * pv;
    const pu1 = pu * ((qa * 4 + qb * 2) / (qa * eua + qb * eub + 2 * l * pu));
    const pv1 = pv * ((qa * 5) / (qa * eva + 1 * l * pv));
    const qa1 = qa * ((pu * 4 + pv * 5) / (pu * eua + pv * eva + 2 * l * qa));
    const qb1 = qb * ((pu * 2) / (pu * eub + 1 * l * qb));
    const close = (x: number, y: number) => expect(Math.abs(x - y)).toBeLessThan(1e-15);
    close(algo.pu[0], pu1);
    close(algo.pu[1], pv1);
    close(algo.qi[0], qa1);
    close(algo.qi[1], qb1);
    close(algo.predict('v', 'b', null, false).est, qb1 * pv1);
  });
});

describe('NMF unknown users and items', () => {
  const ts = refTrainset();
  it('unbiased: answers the global mean, flagged, with a reason naming the unknown side', () => {
    const algo = new NMF({ nFactors: 3, nEpochs: 5, randomState: 0 }).fit(ts);
    for (const [u, i, reason] of [
      ['nobody', 'i2', 'User unknown'],
      ['u3', 'nothing', 'Item unknown'],
      ['nobody', 'nothing', 'User and item are unknown.'],
    ]) {
      const p = algo.predict(u, i, null, false);
      expect(p.est).toBe(ts.globalMean);
      expect(p.details).toEqual({ wasImpossible: true, reason });
    }
  });
  it('biased: μ + the known biases', () => {
    const algo = new NMF({ nFactors: 3, nEpochs: 5, biased: true, randomState: 0 }).fit(ts);
    const u = ts.toInnerUid('u3');
    const i = ts.toInnerIid('i2');
    expect(algo.predict('nobody', 'i2', null, false).est).toBe(ts.globalMean + algo.bi[i]);
    expect(algo.predict('u3', 'nothing', null, false).est).toBe(ts.globalMean + algo.bu[u]);
    const both = algo.predict('nobody', 'nothing', null, false);
    expect(both.est).toBe(ts.globalMean);
    expect(both.details.wasImpossible).toBe(true);
  });
});

describe('NMF parameters, seeds, half stars, state', () => {
  const ts = refTrainset();
  // biased, so that the bias parameters take part
  const base = { nFactors: 3, nEpochs: 4, biased: true, randomState: 0 };

  it('every hyper-parameter changes the estimates', () => {
    expectEveryParamMatters(NMF, ts, base, {
      nFactors: { nFactors: 4 },
      nEpochs: { nEpochs: 5 },
      biased: { biased: false },
      regPu: { regPu: 0.2 },
      regQi: { regQi: 0.2 },
      regBu: { regBu: 0.5 },
      regBi: { regBi: 0.5 },
      lrBu: { lrBu: 0.05 },
      lrBi: { lrBi: 0.05 },
      initLow: { initLow: 0.3 },
      initHigh: { initHigh: 2 },
      randomState: { randomState: 1 },
    });
  });

  it('unbiased, the bias parameters change nothing (as in Surprise)', () => {
    const a = allEstimates(new NMF({ ...base, biased: false }).fit(ts));
    const b = allEstimates(new NMF({ ...base, biased: false, lrBu: 0.5, regBi: 0.9 }).fit(ts));
    expect(b).toEqual(a);
  });

  it('the same seed gives the same model bit for bit', () => {
    const a = new NMF(base).fit(ts);
    const b = new NMF(base).fit(ts);
    expect(b.pu).toEqual(a.pu);
    expect(b.qi).toEqual(a.qi);
  });

  it('half stars are used as they are', () => {
    const rows = (r: number): [string, string, number][] => [
      ['a', 'x', r],
      ['a', 'y', 2],
      ['b', 'x', 3],
    ];
    const est = (r: number) =>
      new NMF({ nFactors: 2, nEpochs: 2, randomState: 0 })
        .fit(trainsetOf(rows(r)))
        .predict('b', 'y', null, false).est;
    expect(est(4.5)).not.toBe(est(4));
    expect(est(4.5)).not.toBe(est(5));
  });

  it('initLow below zero is refused, naming the parameter', () => {
    expect(() => new NMF({ initLow: -0.1 })).toThrow(/initLow/);
  });

  it('exportState / importState restore the same estimates', () => {
    expectStateRoundTrip(NMF, base, ts);
    expectStateRoundTrip(NMF, { ...base, biased: false }, ts);
  });

  it('is registered as NMF with Surprise defaults', () => {
    expect(createAlgorithm('NMF').params).toMatchObject({
      nFactors: 15,
      nEpochs: 50,
      biased: false,
      regPu: 0.06,
      regQi: 0.06,
      regBu: 0.02,
      regBi: 0.02,
      lrBu: 0.005,
      lrBi: 0.005,
      initLow: 0,
      initHigh: 1,
      randomState: null,
    });
  });
});

describe('NMF kernel: WebAssembly and TypeScript loops give the same bits', () => {
  function input(biased: boolean, seed: number): NmfSgdInput {
    const r = new RandomState(seed);
    const rows: [string, string, number][] = [];
    for (let u = 0; u < 40; u++) {
      const seen = new Set<number>();
      const n = 1 + r.randint(0, 12);
      while (seen.size < n) seen.add(r.randint(0, 30));
      for (const i of seen) rows.push([`u${u}`, `i${i}`, r.randint(1, 11) / 2]);
    }
    const ts = trainsetOf(rows);
    const nF = 5;
    const itemDegrees = new Int32Array(ts.nItems);
    for (let i = 0; i < ts.nItems; i++) itemDegrees[i] = ts.itemDegree(i);
    return {
      nUsers: ts.nUsers,
      nItems: ts.nItems,
      nFactors: nF,
      nEpochs: 7,
      biased,
      urOffsets: ts.urOffsets,
      urItems: ts.urItems,
      urRatings: ts.urRatings,
      itemDegrees,
      bu: new Float64Array(ts.nUsers),
      bi: new Float64Array(ts.nItems),
      pu: r.fillUniform(new Float64Array(ts.nUsers * nF), 0, 1),
      qi: r.fillUniform(new Float64Array(ts.nItems * nF), 0, 1),
      mu: biased ? ts.globalMean : 0,
      regPu: 0.06,
      regQi: 0.07,
      regBu: 0.02,
      regBi: 0.03,
      lrBu: 0.005,
      lrBi: 0.006,
    };
  }
  const copy = (a: NmfSgdInput): NmfSgdInput => ({
    ...a,
    bu: a.bu.slice(),
    bi: a.bi.slice(),
    pu: a.pu.slice(),
    qi: a.qi.slice(),
  });

  const hex = (x: Float64Array) =>
    Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');

  // nFactors 5: two f64x2 steps, then one scalar step.
  it.each([
    [false, 1],
    [true, 2],
    [true, 3],
  ] as const)('biased %s (seed %d): the WebAssembly pass gives identical bits', (biased, seed) => {
    const a = input(biased, seed);
    const b = copy(a);
    nmfSgdJs(a);
    expect(nmfSgdWasm(b)).toBe(true);
    expect(hex(b.pu)).toBe(hex(a.pu));
    expect(hex(b.qi)).toBe(hex(a.qi));
    expect(hex(b.bu)).toBe(hex(a.bu));
    expect(hex(b.bi)).toBe(hex(a.bi));
    expect(Math.max(...a.pu)).toBeGreaterThan(0);
    expect(hex(a.pu)).not.toBe(hex(input(biased, seed).pu));
  });
});
