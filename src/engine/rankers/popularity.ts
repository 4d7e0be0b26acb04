/**
 * MostPopular: every user gets the items with the most interactions in the trainset, the baseline
 * every top-N study reports (Cremonesi, Koren, Turrin, "Performance of recommender algorithms on
 * top-N recommendation tasks", RecSys 2010, "TopPop").
 */
import type { ParamSpecs } from '../params';
import { INTERACTION_SPECS, RankerBase, type RankerArray } from './base';

/** MostPopular: score of item i = its number of interactions, the same for every user. */
export class MostPopular extends RankerBase {
  static readonly rankerName = 'MostPopular';
  static readonly description = 'The items with the most interactions, the same for every user.';
  static readonly paramSpecs: ParamSpecs = { ...INTERACTION_SPECS };

  protected fitInteractions(): void {}

  /** Nothing beyond the trainset: popularity is rebuilt from it. */
  stateArrays(): Record<string, RankerArray> {
    return {};
  }

  protected restoreArrays(): void {}

  /** No "because" for a list that is the same for everyone. */
  override because(): Array<{ item: number; weight: number }> {
    return [];
  }

  /** Writes each item's interaction count into `out`. */
  scoreUser(_u: number, out: Float64Array): void {
    out.set(this.popularity);
  }
}
