/** Small dense linear algebra in double precision (matrices row-major, n x n). */

/** Lower-triangular L with A = L L^T; throws if A is not positive definite. */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('matrix is not positive definite');
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  return l;
}

/** Inverse of a symmetric positive definite matrix. */
export function inverseSpd(a: ArrayLike<number>, n: number): Float64Array {
  const l = cholesky(a, n);
  const inverse = new Float64Array(n * n);
  for (let column = 0; column < n; column++) {
    const e = new Float64Array(n);
    e[column] = 1;
    const solved = solveWithCholesky(l, n, e);
    for (let row = 0; row < n; row++) inverse[row * n + column] = solved[row];
  }
  return inverse;
}

/** Solves (L L^T) z = b. */
export function solveWithCholesky(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
    y[i] = sum / l[i * n + i];
  }
  const z = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * z[k];
    z[i] = sum / l[i * n + i];
  }
  return z;
}

export function logDeterminantSpd(a: ArrayLike<number>, n: number): number {
  const l = cholesky(a, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += 2 * Math.log(l[i * n + i]);
  return sum;
}

export function matVec(a: ArrayLike<number>, n: number, v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i] += a[i * n + j] * v[j];
  return out;
}
