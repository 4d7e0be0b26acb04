/**
 * The rankers: models that order the catalogue for a user from implicit feedback (EASE, iALS,
 * BPR, ItemKNN, MostPopular), and their registry, so that the CLI, the train pipeline and model
 * files create them by name as they create rating algorithms.
 */
import { ParamError } from '../params';
import type { RankerBase, RankerClass } from './base';
import { BPR } from './bpr';
import { EASE } from './ease';
import { IALS } from './ials';
import { ItemKNN } from './item-knn';
import { MostPopular } from './popularity';

const RANKERS: readonly RankerClass[] = [EASE, IALS, BPR, ItemKNN, MostPopular];

/** Names of the rankers, in the order above. */
export function listRankers(): string[] {
  return RANKERS.map((c) => c.rankerName);
}

/** True when `name` is a ranker (not a rating algorithm). */
export function isRanker(name: string): boolean {
  return RANKERS.some((c) => c.rankerName === name);
}

/** The ranker class named `name`. @throws ParamError naming the rankers when unknown. */
export function getRanker(name: string): RankerClass {
  const cls = RANKERS.find((c) => c.rankerName === name);
  if (!cls) {
    throw new ParamError(
      'ranker',
      `unknown ranker '${name}'; expected one of: ${listRankers().join(', ')}`,
    );
  }
  return cls;
}

/** A new, unfitted ranker `name` with `params`. @throws ParamError */
export function createRanker(name: string, params?: Record<string, unknown>): RankerBase {
  const Cls = getRanker(name);
  return new Cls(params);
}

export { BPR, EASE, IALS, ItemKNN, MostPopular };
export * from './base';
export * from './interactions';
export { ialsHalfStep, type IalsStep } from './ials';
export * from './dense';
export {
  saveRanker,
  loadRanker,
  RankerFileError,
  RANKER_MAGIC,
  RANKER_FORMAT_VERSION,
} from './ranker-file';
