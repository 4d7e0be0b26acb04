/**
 * Dense symmetric positive-definite linear algebra for the rankers: Cholesky factorisation,
 * the inverse of an SPD matrix (EASE's `P = (XᵀX + λI)⁻¹`) and SPD solves (iALS's k × k systems).
 *
 * Two paths compute the same thing:
 *
 * - `ml-matrix` (the library the design names): `CholeskyDecomposition(A).solve(B)`. Clear, and
 *   the reference in tests; but it stores a matrix as an array of row arrays and allocates a new
 *   matrix per call, which costs on ML-100K's 1682 × 1682 Gram matrix and on the thousands of
 *   small solves an iALS epoch makes.
 * - `typed`: the same Cholesky (L Lᵀ = A, Golub & Van Loan, "Matrix Computations", 4th ed.,
 *   algorithm 4.2.1, row-oriented) on one row-major Float64Array, then the inverse as
 *   `A⁻¹ = L⁻ᵀ L⁻¹` with every inner loop running over contiguous memory. `bench/rankers.bench.ts`
 *   prints both timings; the rankers use `typed` by default (`linalg` parameter).
 *
 * Matrices here are row-major `Float64Array`s of n × n entries.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';

/** Which implementation of the dense steps a ranker uses. */
export type Linalg = 'typed' | 'ml-matrix';

/** The values a ranker's `linalg` parameter accepts. */
export const LINALG_VALUES: readonly Linalg[] = ['typed', 'ml-matrix'];

/**
 * Cholesky factorisation in place: on return the lower triangle of `a` (diagonal included) holds
 * L with L Lᵀ = A; the strict upper triangle is left as it was.
 *
 * @param a row-major n × n symmetric positive-definite matrix (only the lower triangle is read).
 * @throws RangeError when `a` is not positive definite (a pivot ≤ 0 or not finite), naming the row.
 */
export function choleskyInPlace(a: Float64Array, n: number): void {
  if (a.length !== n * n) throw new RangeError(`expected ${n * n} entries, got ${a.length}`);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) {
          throw new RangeError(`matrix is not positive definite (pivot ${s} at row ${i})`);
        }
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
}

/**
 * Solves A x = b for an SPD A already factorised by `choleskyInPlace` (forward then back
 * substitution). @param l the factor (lower triangle read); @param b overwritten with x.
 */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * b[k];
    b[i] = s / l[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

/**
 * The inverse of a symmetric positive-definite matrix, typed-array path: Cholesky (n³/6
 * multiply-adds), L⁻¹ row by row (n³/6), then A⁻¹ = L⁻ᵀ L⁻¹ accumulated one row of L⁻¹ at a time
 * (n³/6). Every inner loop reads contiguous memory.
 *
 * @param a row-major n × n SPD matrix; destroyed (used as work space).
 * @returns a new row-major n × n Float64Array holding A⁻¹ (full, symmetric).
 * @throws RangeError when `a` is not positive definite.
 */
export function spdInverseTyped(a: Float64Array, n: number): Float64Array {
  choleskyInPlace(a, n);
  // L⁻¹ in place of L (lower triangle): row i of L⁻¹ = (e_i − Σ_{m<i} L[i][m] · row m of L⁻¹) / L[i][i].
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    row.fill(0, 0, i + 1);
    for (let m = 0; m < i; m++) {
      const c = a[ri + m];
      if (c === 0) continue;
      const rm = m * n;
      for (let j = 0; j <= m; j++) row[j] -= c * a[rm + j];
    }
    const d = a[ri + i];
    row[i] = 1;
    for (let j = 0; j <= i; j++) a[ri + j] = row[j] / d;
  }
  // A⁻¹[i][j] = Σ_{k ≥ max(i,j)} L⁻¹[k][i] · L⁻¹[k][j]: add each row's outer product (lower half).
  const inv = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const c = a[rk + i];
      if (c === 0) continue;
      const ri = i * n;
      for (let j = 0; j <= i; j++) inv[ri + j] += c * a[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inv[j * n + i] = inv[i * n + j];
  return inv;
}

/**
 * The inverse of a symmetric positive-definite matrix with ml-matrix's `CholeskyDecomposition`
 * (solving A X = I). Same contract as `spdInverseTyped`; `a` is left unchanged.
 * @throws RangeError when `a` is not positive definite.
 */
export function spdInverseMlMatrix(a: Float64Array, n: number): Float64Array {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const chol = new CholeskyDecomposition(m);
  if (!chol.isPositiveDefinite()) throw new RangeError('matrix is not positive definite');
  const x = chol.solve(Matrix.eye(n, n));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = x.get(i, j);
  return out;
}

/** `spdInverseTyped` or `spdInverseMlMatrix` as `linalg` says. */
export function spdInverse(a: Float64Array, n: number, linalg: Linalg): Float64Array {
  return linalg === 'typed' ? spdInverseTyped(a, n) : spdInverseMlMatrix(a, n);
}

/**
 * Solves A x = b for a small SPD A (iALS's k × k system).
 * @param a row-major k × k; destroyed on the typed path. @param b overwritten with x.
 * @throws RangeError when `a` is not positive definite.
 */
export function spdSolve(a: Float64Array, n: number, b: Float64Array, linalg: Linalg): void {
  if (linalg === 'typed') {
    choleskyInPlace(a, n);
    choleskySolveInPlace(a, n, b);
    return;
  }
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const chol = new CholeskyDecomposition(m);
  if (!chol.isPositiveDefinite()) throw new RangeError('matrix is not positive definite');
  const x = chol.solve(Matrix.columnVector(Array.from(b)));
  for (let i = 0; i < n; i++) b[i] = x.get(i, 0);
}
