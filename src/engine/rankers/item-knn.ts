/**
 * ItemKNN on co-occurrence: item-item similarities from how many users interacted with both
 * items, each item keeping its k most similar neighbours; a user's score for item j is the sum of
 * the similarities between j and the items the user interacted with (M. Deshpande, G. Karypis,
 * "Item-based top-N recommendation algorithms", ACM TOIS 22(1), 2004, section 4; the
 * co-occurrence, Jaccard and lift similarities of Microsoft's SAR).
 *
 * With c_ij = |U_i ∩ U_j| (co-occurrence) and n_i = |U_i|:
 * - cosine:  c_ij / √(n_i n_j)
 * - jaccard: c_ij / (n_i + n_j − c_ij)
 * - cooccurrence: c_ij
 *
 * Co-occurrences are counted one item at a time (for each user of i, each item of that user) into
 * one dense row, then only the k best are kept: memory is nItems × k, never nItems².
 */
import type { ParamSpecs } from '../params';
import { TopKHeap } from '../top-n';
import { INTERACTION_SPECS, RankerBase, stateArray, type RankerArray } from './base';
import type { Interactions } from './interactions';

const SIMILARITIES = ['cosine', 'jaccard', 'cooccurrence'] as const;

/** ItemKNN (see the module comment). Parameters: `ItemKNN.paramSpecs`. */
export class ItemKNN extends RankerBase {
  static readonly rankerName = 'ItemKNN';
  static readonly description =
    'Item-based top-N: sum of co-occurrence similarities to the items the user interacted with.';
  static readonly paramSpecs: ParamSpecs = {
    ...INTERACTION_SPECS,
    k: { type: 'int', default: 100, min: 1, doc: 'Neighbours kept per item.' },
    similarity: {
      type: 'enum',
      values: SIMILARITIES,
      default: 'cosine',
      doc: 'cosine, jaccard or cooccurrence (see the module documentation).',
    },
  };

  /** Start of each item's neighbours in `neighbours`/`sims`; length nItems + 1. */
  offsets: Int32Array = new Int32Array(1);
  /** Neighbour inner ids, most similar first within an item. */
  neighbours: Int32Array = new Int32Array(0);
  /** Their similarities. */
  sims: Float32Array = new Float32Array(0);

  protected fitInteractions(x: Interactions): void {
    const k = Math.min(this.params.k as number, Math.max(1, x.nItems - 1));
    const sim = this.params.similarity as (typeof SIMILARITIES)[number];
    const co = new Float64Array(x.nItems);
    const touched: number[] = [];
    const heap = new TopKHeap(k);
    const offsets = new Int32Array(x.nItems + 1);
    const nb: number[] = [];
    const sv: number[] = [];
    for (let i = 0; i < x.nItems; i++) {
      touched.length = 0;
      for (const u of x.users(i)) {
        for (const j of x.items(u)) {
          if (j === i) continue;
          if (co[j] === 0) touched.push(j);
          co[j]++;
        }
      }
      const ni = x.itemCount(i);
      heap.reset();
      for (const j of touched) {
        const c = co[j];
        const nj = x.itemCount(j);
        const s =
          sim === 'cosine' ? c / Math.sqrt(ni * nj) : sim === 'jaccard' ? c / (ni + nj - c) : c;
        heap.offer(s, j);
        co[j] = 0;
      }
      const m = heap.drainSorted();
      for (let p = 0; p < m; p++) {
        nb.push(heap.ids[p]);
        sv.push(heap.scores[p]);
      }
      offsets[i + 1] = nb.length;
    }
    this.offsets = offsets;
    this.neighbours = Int32Array.from(nb);
    this.sims = Float32Array.from(sv);
  }

  /** s_uj = Σ_{i ∈ I_u} sim(i, j) over the kept neighbours j of each i. */
  scoreUser(u: number, out: Float64Array): void {
    this.scoreItems(this.interactions.items(u), out);
  }

  /** True: the scores are a function of the user's interactions alone. */
  override canScoreItems(): boolean {
    return true;
  }

  /** s_j = Σ_{i ∈ items} sim(i, j) over i's kept neighbours (x·S for interactions `items`). */
  override scoreItems(items: ArrayLike<number>, out: Float64Array): boolean {
    out.fill(0);
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      for (let p = this.offsets[i]; p < this.offsets[i + 1]; p++)
        out[this.neighbours[p]] += this.sims[p];
    }
    return true;
  }

  stateArrays(): Record<string, RankerArray> {
    return { offsets: this.offsets, neighbours: this.neighbours, sims: this.sims };
  }

  protected restoreArrays(arrays: Record<string, RankerArray>): void {
    const n = this.interactions.nItems;
    this.offsets = stateArray(arrays, 'offsets', Int32Array, n + 1);
    const m = this.offsets[n];
    this.neighbours = stateArray(arrays, 'neighbours', Int32Array, m);
    this.sims = stateArray(arrays, 'sims', Float32Array, m);
  }

  /** sim(i, j) for each rated item i that keeps j among its neighbours (exact contributions). */
  override because(u: number, j: number, n: number): Array<{ item: number; weight: number }> {
    const out: Array<{ item: number; weight: number }> = [];
    for (const i of this.interactions.items(u)) {
      for (let p = this.offsets[i]; p < this.offsets[i + 1]; p++) {
        if (this.neighbours[p] === j) out.push({ item: i, weight: this.sims[p] });
      }
    }
    out.sort((a, b) => b.weight - a.weight || a.item - b.item);
    return out.slice(0, n);
  }

  /** Item i's kept neighbours, most similar first (at most n). */
  override similarItems(i: number, n: number): Array<{ item: number; similarity: number }> {
    const out: Array<{ item: number; similarity: number }> = [];
    for (let p = this.offsets[i]; p < this.offsets[i + 1] && out.length < n; p++) {
      out.push({ item: this.neighbours[p], similarity: this.sims[p] });
    }
    return out;
  }
}
