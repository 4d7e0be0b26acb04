/**
 * Small numeric helpers shared by the engine.
 */

/**
 * Sum of `a[from..to)` by NumPy's pairwise summation (`pairwise_sum` in
 * numpy/core/src/umath/loops_utils.h: blocks of 128, eight partial sums unrolled), so that means
 * computed here equal `numpy.mean` to the last bit, as Surprise's `global_mean` does.
 */
export function pairwiseSum(a: ArrayLike<number>, from = 0, to = a.length): number {
  const n = to - from;
  if (n < 8) {
    let res = 0;
    for (let i = from; i < to; i++) res += a[i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[from],
      r1 = a[from + 1],
      r2 = a[from + 2],
      r3 = a[from + 3],
      r4 = a[from + 4],
      r5 = a[from + 5],
      r6 = a[from + 6],
      r7 = a[from + 7];
    let i = from + 8;
    const end = from + (n - (n % 8));
    for (; i < end; i += 8) {
      r0 += a[i];
      r1 += a[i + 1];
      r2 += a[i + 2];
      r3 += a[i + 3];
      r4 += a[i + 4];
      r5 += a[i + 5];
      r6 += a[i + 6];
      r7 += a[i + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < to; i++) res += a[i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, from, from + n2) + pairwiseSum(a, from + n2, to);
}

/** Arithmetic mean as `numpy.mean` computes it. @throws RangeError on an empty array. */
export function mean(a: ArrayLike<number>): number {
  if (a.length === 0) throw new RangeError('mean of an empty array');
  return pairwiseSum(a) / a.length;
}
