/**
 * The k-NN neighbour selection of Surprise's `heapq.nlargest(k, candidates, key=sim)`: the k
 * candidates of largest similarity, in descending similarity, ties in candidate order — the first
 * k of a stable descending sort — computed in O(n + k²) instead of inserting every candidate
 * into a sorted list of k (O(n·k) moves in the worst case):
 *
 * 1. the candidates' similarities are gathered into a scratch array;
 * 2. when there are more than k, the k-th largest value t is found by selection (Hoare's
 *    FIND / quickselect, median-of-three pivots, on a copy), then the candidates above t are
 *    kept in candidate order, followed by the first candidates equal to t until k are kept —
 *    exactly the set a stable sort would put first;
 * 3. the kept ones (at most k) are sorted by descending similarity with a stable insertion sort.
 *
 * The result is the same list, in the same order, as the insertion method, so the sums a k-NN
 * estimate makes over it are the same bits. A NaN similarity (which no built-in measure gives)
 * takes the insertion method, whose order it defines.
 */

/** Reusable scratch for selections among at most `maxCandidates` candidates. */
export class StableTopK {
  private readonly cand: Float64Array;
  private readonly work: Float64Array;

  /** @param maxCandidates the largest number of candidates a call will get (≥ 0). */
  constructor(maxCandidates: number) {
    this.cand = new Float64Array(maxCandidates);
    this.work = new Float64Array(maxCandidates);
  }

  /**
   * Selects among the candidates `xs[start…end−1]`, whose similarity is `sim[row + xs[p]]`, the
   * `k` largest (stable, see the module comment).
   * @param outPos receives the chosen candidates' positions p (in `start…end−1`), best first.
   * @param outSim receives their similarities, same order. Both of length ≥ min(k, end − start).
   * @returns the number chosen, min(k, end − start).
   */
  select(
    sim: Float64Array,
    row: number,
    xs: Int32Array,
    start: number,
    end: number,
    k: number,
    outPos: Int32Array,
    outSim: Float64Array,
  ): number {
    const n = end - start;
    const cand = this.cand;
    let nan = false;
    for (let p = start; p < end; p++) {
      const s = sim[row + xs[p]];
      if (s !== s) nan = true;
      cand[p - start] = s;
    }
    if (nan) return insertionSelect(cand, n, k, start, outPos, outSim);
    let cnt = 0;
    if (n <= k) {
      for (let q = 0; q < n; q++) {
        outPos[q] = start + q;
        outSim[q] = cand[q];
      }
      cnt = n;
    } else {
      const work = this.work;
      work.set(cand.subarray(0, n));
      const t = kthLargest(work, n, k);
      let above = 0;
      for (let q = 0; q < n; q++) if (cand[q] > t) above++;
      let ties = k - above; // how many candidates equal to t are kept, in candidate order
      for (let q = 0; q < n && cnt < k; q++) {
        const s = cand[q];
        if (s > t || (s === t && ties-- > 0)) {
          outPos[cnt] = start + q;
          outSim[cnt] = s;
          cnt++;
        }
      }
    }
    // stable insertion sort, descending
    for (let a = 1; a < cnt; a++) {
      const s = outSim[a];
      const pos = outPos[a];
      let j = a;
      while (j > 0 && outSim[j - 1] < s) {
        outSim[j] = outSim[j - 1];
        outPos[j] = outPos[j - 1];
        j--;
      }
      outSim[j] = s;
      outPos[j] = pos;
    }
    return cnt;
  }
}

/**
 * The insertion method (each candidate inserted after every kept one with a similarity ≥ its
 * own, the last dropped when k are kept), used when a similarity is NaN.
 */
function insertionSelect(
  cand: Float64Array,
  n: number,
  k: number,
  start: number,
  outPos: Int32Array,
  outSim: Float64Array,
): number {
  let cnt = 0;
  for (let q = 0; q < n; q++) {
    const s = cand[q];
    let j: number;
    if (cnt < k) j = cnt++;
    else if (s > outSim[k - 1]) j = k - 1;
    else continue;
    while (j > 0 && outSim[j - 1] < s) {
      outSim[j] = outSim[j - 1];
      outPos[j] = outPos[j - 1];
      j--;
    }
    outSim[j] = s;
    outPos[j] = start + q;
  }
  return cnt;
}

/**
 * The k-th largest of `a[0…n−1]` (1 ≤ k ≤ n, no NaN), by quickselect; reorders `a`.
 */
export function kthLargest(a: Float64Array, n: number, k: number): number {
  // the (n − k)-th smallest, 0-based
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // median of three as the pivot
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    // a[lo…j] ≤ pivot, a[i…hi] ≥ pivot, a[j+1…i−1] = pivot
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return pivot;
  }
  return a[target];
}
