/**
 * The built-in algorithms: importing this module registers each one with the registry (so the
 * CLI, pipelines and model files can create them by name) and re-exports them.
 *
 * To add an algorithm: import its class, add it to the `registerAlgorithm` calls and re-export it.
 */
import { registerAlgorithm } from './registry';
import { NormalPredictor } from './normal-predictor';
import { BaselineOnly } from './baseline-only';
import { SVD } from './svd';
import { SVDpp } from './svdpp';
import { NMF } from './nmf';
import { SlopeOne } from './slope-one';
import { CoClustering } from './co-clustering';
import { KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline } from './knn';
import { BayesianFM } from './bayesian-fm';

registerAlgorithm(NormalPredictor);
registerAlgorithm(BaselineOnly);
registerAlgorithm(SVD);
registerAlgorithm(SVDpp);
registerAlgorithm(NMF);
registerAlgorithm(SlopeOne);
registerAlgorithm(CoClustering);
registerAlgorithm(KNNBasic);
registerAlgorithm(KNNWithMeans);
registerAlgorithm(KNNWithZScore);
registerAlgorithm(KNNBaseline);
registerAlgorithm(BayesianFM);

export { NormalPredictor, BaselineOnly, SVD };
export { SVDpp, NMF, SlopeOne, CoClustering };
export { KNNBasic, KNNWithMeans, KNNWithZScore, KNNBaseline };
export { BayesianFM };
export * from './base';
export * from './registry';
export * from './baselines';
