/**
 * EASE: Embarrassingly Shallow Autoencoder (H. Steck, "Embarrassingly Shallow Autoencoders for
 * Sparse Data", WWW 2019).
 *
 * An item-item weight matrix B learned in closed form: minimise ‖X − XB‖²_F + λ‖B‖²_F subject to
 * diag(B) = 0. With G = XᵀX + λI and P = G⁻¹, the solution (Steck's equation 8) is
 *
 * ```
 * B_ij = −P_ij / P_jj   (i ≠ j),   B_jj = 0
 * ```
 *
 * and a user's score for item j is s_uj = Σ_{i ∈ I_u} B_ij (x_u B). Each term B_ij is exactly what
 * rated item i contributes to j's score, which is what `contributions` reports ("because you
 * rated i").
 *
 * Cost: the Gram matrix takes Σ_u |I_u|² additions, the inverse n³/2 multiply-adds and n² memory
 * for n modelled items (ML-100K: 1682 items, 23 MB). Catalogues larger than `maxItems` keep only
 * the `maxItems` items with the most interactions in B (the rest score −∞ for every user and
 * appear only after every modelled item), so memory and time stay bounded.
 */
import type { ParamSpecs } from '../params';
import { INTERACTION_SPECS, RankerBase, stateArray, type RankerArray } from './base';
import { LINALG_VALUES, spdInverse, type Linalg } from './dense';
import type { Interactions } from './interactions';

/** EASE (see the module comment). Parameters: `EASE.paramSpecs`. */
export class EASE extends RankerBase {
  static readonly rankerName = 'EASE';
  static readonly description =
    "Steck's shallow autoencoder: closed-form item-item weights from the regularised Gram matrix.";
  static readonly paramSpecs: ParamSpecs = {
    ...INTERACTION_SPECS,
    lambda: {
      type: 'float',
      default: 550,
      min: 0,
      doc: 'L2 regularisation λ added to the Gram matrix diagonal (chosen on a validation split of ML-100K, bench/rankers.bench.ts --tune).',
    },
    maxItems: {
      type: 'int',
      default: 2500,
      min: 1,
      doc: 'Most items kept in the weight matrix (the most interacted ones); bounds n² memory and n³ time.',
    },
    linalg: {
      type: 'enum',
      values: LINALG_VALUES,
      default: 'typed',
      doc: "Inverse of the Gram matrix: 'typed' (Cholesky on typed arrays) or 'ml-matrix'.",
    },
  };

  /** Number of modelled items (≤ maxItems). */
  nModelled = 0;
  /** Modelled index of each inner item id, −1 when not modelled. */
  itemSlot: Int32Array = new Int32Array(0);
  /** Inner item id of each modelled index. */
  slotItem: Int32Array = new Int32Array(0);
  /** B, row-major nModelled × nModelled, B[a·n + b] = weight of modelled item a for item b. */
  weights: Float32Array = new Float32Array(0);

  protected fitInteractions(x: Interactions): void {
    const lambda = this.params.lambda as number;
    const maxItems = this.params.maxItems as number;
    // The modelled items: all, or the maxItems most interacted (ties: lower inner id).
    const order = Array.from({ length: x.nItems }, (_, i) => i);
    if (x.nItems > maxItems) {
      order.sort((a, b) => x.itemCount(b) - x.itemCount(a) || a - b);
      order.length = maxItems;
      order.sort((a, b) => a - b);
    }
    const n = order.length;
    const slot = new Int32Array(x.nItems).fill(-1);
    order.forEach((i, s) => (slot[i] = s));
    // G = XᵀX + λI (lower triangle is enough for the Cholesky; the ml-matrix path reads all).
    const g = new Float64Array(n * n);
    const cols: number[] = [];
    for (let u = 0; u < x.nUsers; u++) {
      cols.length = 0;
      for (const i of x.items(u)) if (slot[i] >= 0) cols.push(slot[i]);
      for (let p = 0; p < cols.length; p++) {
        const r = cols[p] * n;
        for (let q = 0; q < cols.length; q++) g[r + cols[q]] += 1;
      }
    }
    for (let a = 0; a < n; a++) g[a * n + a] += lambda;
    const p = spdInverse(g, n, this.params.linalg as Linalg);
    const b = new Float32Array(n * n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) if (r !== c) b[r * n + c] = -p[r * n + c] / p[c * n + c];
    }
    this.nModelled = n;
    this.itemSlot = slot;
    this.slotItem = Int32Array.from(order);
    this.weights = b;
  }

  /** s_uj = Σ_{i ∈ I_u} B_ij; items outside the model score −∞. */
  scoreUser(u: number, out: Float64Array): void {
    this.scoreItems(this.interactions.items(u), out);
  }

  /** True: the scores are a function of the user's interactions alone. */
  override canScoreItems(): boolean {
    return true;
  }

  /** s_j = Σ_{i ∈ items} B_ij (the row x·B of a user whose interactions are `items`). @returns true */
  override scoreItems(items: ArrayLike<number>, out: Float64Array): boolean {
    const n = this.nModelled;
    const acc = new Float64Array(n);
    const w = this.weights;
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      const s = this.itemSlot[i];
      if (s < 0) continue;
      const row = s * n;
      for (let c = 0; c < n; c++) acc[c] += w[row + c];
    }
    out.fill(-Infinity);
    for (let c = 0; c < n; c++) out[this.slotItem[c]] = acc[c];
    return true;
  }

  /** EASE's exact contributions for a user known by `items` (`contributionsOf`). */
  override becauseOfItems(
    items: ArrayLike<number>,
    j: number,
    n: number,
  ): Array<{ item: number; weight: number }> {
    return this.contributionsOf(items, j, n);
  }

  stateArrays(): Record<string, RankerArray> {
    return { slotItem: this.slotItem, weights: this.weights };
  }

  protected restoreArrays(arrays: Record<string, RankerArray>): void {
    const nItems = this.interactions.nItems;
    const slotItem = arrays.slotItem;
    if (!(slotItem instanceof Int32Array) || slotItem.length > nItems) {
      throw new RangeError(`ranker state: 'slotItem' must be an Int32Array of at most ${nItems}`);
    }
    const n = slotItem.length;
    this.weights = stateArray(arrays, 'weights', Float32Array, n * n);
    this.slotItem = slotItem;
    this.nModelled = n;
    this.itemSlot = new Int32Array(nItems).fill(-1);
    slotItem.forEach((i, s) => {
      if (i < 0 || i >= nItems) throw new RangeError(`ranker state: item ${i} out of range`);
      this.itemSlot[i] = s;
    });
  }

  /** EASE's exact contributions (`contributions`). */
  override because(u: number, j: number, n: number): Array<{ item: number; weight: number }> {
    return this.contributions(u, j, n);
  }

  /**
   * The items whose scores item i raises most: B_ij, j ≠ i, largest first (at most n, positive
   * weights only).
   */
  override similarItems(i: number, n: number): Array<{ item: number; similarity: number }> {
    const s = this.itemSlot[i];
    if (s < 0) return [];
    const m = this.nModelled;
    const order = Array.from({ length: m }, (_, c) => c).filter(
      (c) => c !== s && this.weights[s * m + c] > 0,
    );
    order.sort((a, b) => this.weights[s * m + b] - this.weights[s * m + a] || a - b);
    return order
      .slice(0, n)
      .map((c) => ({ item: this.slotItem[c], similarity: this.weights[s * m + c] }));
  }

  /**
   * What each of user `u`'s interactions contributes to item `j`'s score, B_ij for i ∈ I_u
   * (exact: the score is their sum), largest first, at most `n` of them, positive ones only.
   * @returns inner item ids and their contributions.
   */
  contributions(u: number, j: number, n: number): Array<{ item: number; weight: number }> {
    return this.contributionsOf(this.interactions.items(u), j, n);
  }

  /** `contributions` for a user whose interactions are `items` (inner ids). */
  contributionsOf(
    items: ArrayLike<number>,
    j: number,
    n: number,
  ): Array<{ item: number; weight: number }> {
    const sj = this.itemSlot[j];
    if (sj < 0) return [];
    const out: Array<{ item: number; weight: number }> = [];
    for (let t = 0; t < items.length; t++) {
      const i = items[t];
      const si = this.itemSlot[i];
      if (si < 0) continue;
      const w = this.weights[si * this.nModelled + sj];
      if (w > 0) out.push({ item: i, weight: w });
    }
    out.sort((a, b) => b.weight - a.weight || a.item - b.item);
    return out.slice(0, n);
  }
}
