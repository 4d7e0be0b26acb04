/**
 * A custom algorithm (the plugin test/fixtures/plugins/item-mean.js, the example of docs/engine.md, "Custom algorithms") works
 * everywhere a built-in one does: the registry, crossValidate, GridSearchCV, compareAlgorithms,
 * model files, top-N recommendations. Expected figures are computed here by hand from the
 * formula, over the same KFold indices.
 */
import * as path from 'node:path';
import '../../src/engine/algorithms';
import {
  createAlgorithm,
  getAlgorithm,
  listAlgorithms,
} from '../../src/engine/algorithms/registry';
import {
  loadAlgorithmPlugins,
  PluginError,
  pluginsFromEnv,
} from '../../src/engine/algorithms/plugins';
import { loadModel, saveModel } from '../../src/engine/model-file';
import {
  compareAlgorithms,
  crossValidate,
  GridSearchCV,
  KFold,
} from '../../src/engine/model-selection';
import { ParamError } from '../../src/engine/params';
import { recommend } from '../../src/engine/top-n';
import { datasetOf, syntheticRows, type Row } from '../helpers/synthetic-ratings';
import { itemMeanRmse } from '../helpers/item-mean-reference';

const PLUGINS = path.resolve(__dirname, '../fixtures/plugins');
const rows = syntheticRows(3, 30, 20, 0.5);
const data = datasetOf(rows);

const handRmse = (shrinkage: number, nSplits: number, seed: number) =>
  itemMeanRmse(rows, shrinkage, nSplits, seed);

describe('a custom algorithm from a plugin', () => {
  beforeAll(() => {
    expect(loadAlgorithmPlugins([path.join(PLUGINS, 'item-mean.js')])).toEqual(['ItemMean']);
  });

  test('is registered by name, with its parameters validated like a built-in', () => {
    expect(listAlgorithms()).toContain('ItemMean');
    expect(getAlgorithm('ItemMean').description).toMatch(/shrunk towards the global mean/);
    expect(createAlgorithm('ItemMean', { shrinkage: 2 }).params).toEqual({ shrinkage: 2 });
    expect(() => createAlgorithm('ItemMean', { shrinkage: -1 })).toThrow(
      /parameter 'shrinkage' of ItemMean must be ≥ 0/,
    );
    expect(() => createAlgorithm('ItemMean', { shrink: 1 })).toThrow(ParamError);
    // Loading the same plugin again is a no-op.
    expect(loadAlgorithmPlugins([path.join(PLUGINS, 'item-mean.js')])).toEqual([]);
  });

  test('crossValidate by name gives the formula’s RMSE on every fold', () => {
    const r = crossValidate({ name: 'ItemMean', params: { shrinkage: 2 } }, data, {
      measures: ['rmse'],
      cv: new KFold({ nSplits: 3, randomState: 4 }),
    });
    const expected = handRmse(2, 3, 4);
    r.testRmse!.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 12));
  });

  test('GridSearchCV over its parameter picks the best shrinkage', () => {
    const grid = [0, 1, 5, 50];
    const gs = new GridSearchCV(
      'ItemMean',
      { shrinkage: grid },
      { measures: ['rmse'], cv: new KFold({ nSplits: 3, randomState: 9 }), refit: true },
    ).fit(data);
    const means = grid.map((s) => handRmse(s, 3, 9).reduce((a, b) => a + b) / 3);
    const best = means.indexOf(Math.min(...means));
    expect(gs.bestParams.rmse).toEqual({ shrinkage: grid[best] });
    expect(gs.bestScore.rmse!).toBeCloseTo(means[best], 12);
    expect(gs.predict('u0', 'i0').est).toBeGreaterThanOrEqual(1);
  });

  test('compareAlgorithms runs it beside built-ins on the same folds', () => {
    const [mine, bsl] = compareAlgorithms(
      [{ name: 'ItemMean', params: { shrinkage: 2 } }, { name: 'BaselineOnly' }],
      data,
      { cv: new KFold({ nSplits: 3, randomState: 4 }), measures: ['rmse'] },
    );
    expect(mine.algorithmName).toBe('ItemMean');
    expect(bsl.algorithmName).toBe('BaselineOnly');
    const expected = handRmse(2, 3, 4);
    mine.testRmse!.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 12));
  });

  test('a model file round trip predicts exactly the same', () => {
    const algo = createAlgorithm('ItemMean', { shrinkage: 3 }).fit(data.buildFullTrainset());
    const loaded = loadModel(saveModel(algo));
    expect(loaded.name).toBe('ItemMean');
    expect(loaded.params).toEqual({ shrinkage: 3 });
    const pairs: Row[] = [...rows.slice(0, 40), ['u1', 'nope', 0], ['nobody', 'i3', 0]];
    for (const [u, i] of pairs) expect(loaded.predict(u, i)).toEqual(algo.predict(u, i));
  });

  test('top-N recommendations use its estimates', () => {
    const algo = createAlgorithm('ItemMean').fit(data.buildFullTrainset());
    const ts = algo.trainset;
    const u = ts.toInnerUid('u0');
    // By hand: the unrated items' plain means, best first (ties: trainset order).
    const expected = [...ts.unratedItems(u)]
      .map((i) => {
        const { ratings } = ts.ir(i);
        return { i, m: ratings.reduce((a, b) => a + b, 0) / ratings.length };
      })
      .sort((a, b) => b.m - a.m || a.i - b.i)
      .slice(0, 3)
      .map((x) => ts.toRawIid(x.i));
    expect(recommend(algo, 'u0', { k: 3 }).map((r) => r.iid)).toEqual(expected);
  });
});

describe('plugin loading', () => {
  test('a module exporting algorithm classes registers them', () => {
    expect(loadAlgorithmPlugins(['./exported-class.ts'], PLUGINS)).toEqual(['ConstantTest']);
    const algo = createAlgorithm('ConstantTest', { value: 4 }).fit(data.buildFullTrainset());
    expect(algo.predict('u1', 'i1').est).toBe(4);
  });

  test('errors name the plugin and what went wrong', () => {
    expect(() => loadAlgorithmPlugins(['./nope.js'], PLUGINS)).toThrow(
      /plugin '\.\/nope\.js' not found \(looked for .*nope\.js\)/,
    );
    expect(() => loadAlgorithmPlugins(['./registers-nothing.js'], PLUGINS)).toThrow(
      /plugin '\.\/registers-nothing\.js' registered no algorithm/,
    );
    expect(() => loadAlgorithmPlugins(['./throws.js'], PLUGINS)).toThrow(PluginError);
    expect(() => loadAlgorithmPlugins(['./throws.js'], PLUGINS)).toThrow(
      /failed to load: boom at load/,
    );
  });

  test('REELGRAPH_PLUGINS lists modules separated by the path delimiter', () => {
    expect(
      pluginsFromEnv({ REELGRAPH_PLUGINS: ` a.js${path.delimiter}${path.delimiter}b.js ` }),
    ).toEqual(['a.js', 'b.js']);
    expect(pluginsFromEnv({})).toEqual([]);
  });
});
