/**
 * SVDpp, NMF, SlopeOne and CoClustering through real model files: saveModel → loadModel gives
 * the same estimates, unknown users and items included.
 */
import { SVDpp, NMF, SlopeOne, CoClustering, type AlgoBase } from '../../src/engine/algorithms';
import { loadModel, saveModel } from '../../src/engine/model-file';
import { allEstimates, refTrainset } from './mf-ref';

const ts = refTrainset();
const cases: [string, () => AlgoBase][] = [
  ['SVDpp', () => new SVDpp({ nFactors: 4, nEpochs: 5, randomState: 1 })],
  ['NMF', () => new NMF({ nFactors: 4, nEpochs: 5, randomState: 1 })],
  ['NMF biased', () => new NMF({ nFactors: 4, nEpochs: 5, biased: true, randomState: 1 })],
  ['SlopeOne', () => new SlopeOne()],
  ['CoClustering', () => new CoClustering({ nCltrU: 2, nEpochs: 5, randomState: 1 })],
];

describe.each(cases)('%s model file', (_name, make) => {
  it('loads back with the same parameters and estimates', () => {
    const algo = make().fit(ts);
    const loaded = loadModel(saveModel(algo));
    expect(loaded.name).toBe(algo.name);
    expect(loaded.params).toEqual(algo.params);
    expect(allEstimates(loaded)).toEqual(allEstimates(algo));
    for (const [u, i] of [
      ['nobody', 'i2'],
      ['u3', 'nothing'],
      ['nobody', 'nothing'],
    ]) {
      expect(loaded.predict(u, i)).toEqual(algo.predict(u, i));
    }
  });
});
