/**
 * 2-Wasserstein distance between two sets of posterior samples (e.g. the network's and a
 * reference MCMC run's). Two estimators:
 * - 'exact-1d': one dimension and equal sizes: the optimal coupling of two empirical measures on
 *   the line pairs the sorted samples, W2^2 = mean_i (a_(i) - b_(i))^2. Exact for the empirical sets.
 * - 'gaussian': otherwise, W2 between Gaussians with the sets' means and covariances,
 *   W2^2 = ||m1 - m2||^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2). Exact for Gaussians; for other
 *   distributions it is a lower bound (Gelbrich): it only sees the first two moments, so it cannot
 *   tell a bimodal posterior from a Gaussian with the same mean and covariance.
 */

export type WassersteinMethod = 'exact-1d' | 'gaussian';

export interface WassersteinResult {
  /** W2 (not squared). */
  distance: number;
  method: WassersteinMethod;
}

/** W2 between two sample sets [n][P], [m][P]; the method used is reported. */
export function wasserstein2(a: number[][], b: number[][]): WassersteinResult {
  if (a.length < 2 || b.length < 2) throw new Error(`wasserstein2 needs at least 2 samples per set, got ${a.length} and ${b.length}`);
  const dim = a[0].length;
  for (const [name, set] of [['first', a], ['second', b]] as const) {
    set.forEach((s, i) => {
      if (s.length !== dim) throw new Error(`wasserstein2: sample ${i} of the ${name} set has ${s.length} numbers, expected ${dim}`);
    });
  }
  if (dim === 1 && a.length === b.length) {
    return { distance: wasserstein2Empirical1d(a.map((s) => s[0]), b.map((s) => s[0])), method: 'exact-1d' };
  }
  const ma = sampleMeanCovariance(a);
  const mb = sampleMeanCovariance(b);
  return { distance: wasserstein2Gaussian(ma.mean, ma.covariance, mb.mean, mb.covariance), method: 'gaussian' };
}

/** Exact W2 between two equal-size empirical measures on the line. */
export function wasserstein2Empirical1d(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`exact 1-D W2 needs two non-empty sets of equal size, got ${a.length} and ${b.length}`);
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  let sum = 0;
  for (let i = 0; i < sa.length; i++) sum += (sa[i] - sb[i]) ** 2;
  return Math.sqrt(sum / sa.length);
}

/** W2 between N(m1, S1) and N(m2, S2); covariances row-major P x P, symmetric positive semi-definite. */
export function wasserstein2Gaussian(m1: ArrayLike<number>, s1: ArrayLike<number>, m2: ArrayLike<number>, s2: ArrayLike<number>): number {
  const p = m1.length;
  let squared = 0;
  for (let i = 0; i < p; i++) squared += (m1[i] - m2[i]) ** 2;
  const root2 = symmetricSqrt(s2, p);
  const inner = multiply(multiply(root2, s1, p), root2, p);
  const { values } = symmetricEigen(inner, p);
  let trace = 0;
  for (let i = 0; i < p; i++) trace += s1[i * p + i] + s2[i * p + i];
  for (const v of values) trace -= 2 * Math.sqrt(Math.max(v, 0));
  // Rounding can leave a tiny negative trace for (nearly) equal covariances.
  return Math.sqrt(Math.max(squared + trace, 0));
}

/** Per-dimension mean and standard deviation (1/n) of samples [n][dim]: what the panel's summary shows. */
export function sampleMoments(samples: number[][], dim: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(dim).fill(0);
  const std = new Array<number>(dim).fill(0);
  for (const s of samples) for (let i = 0; i < dim; i++) mean[i] += s[i] / samples.length;
  for (const s of samples) for (let i = 0; i < dim; i++) std[i] += (s[i] - mean[i]) ** 2 / samples.length;
  return { mean, std: std.map(Math.sqrt) };
}

/** Mean [P] and unbiased covariance [P * P] of samples [n][P]. */
export function sampleMeanCovariance(samples: number[][]): { mean: Float64Array; covariance: Float64Array } {
  const n = samples.length;
  const p = samples[0].length;
  const mean = new Float64Array(p);
  for (const s of samples) for (let i = 0; i < p; i++) mean[i] += s[i] / n;
  const covariance = new Float64Array(p * p);
  for (const s of samples) {
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) covariance[i * p + j] += ((s[i] - mean[i]) * (s[j] - mean[j])) / (n - 1);
  }
  return { mean, covariance };
}

function multiply(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * n + k] * b[k * n + j];
  return out;
}

/** Principal square root of a symmetric PSD matrix (negative rounding noise in eigenvalues clipped to 0). */
export function symmetricSqrt(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const root = Math.sqrt(Math.max(values[k], 0));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += vectors[i * n + k] * root * vectors[j * n + k];
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (small P: parameter
 * dimensions here are at most a few hundred). Columns of `vectors` are the eigenvectors.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  // Symmetrise: inputs such as S2^1/2 S1 S2^1/2 are symmetric only up to rounding.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i * n + j] = m[j * n + i] = 0.5 * (m[i * n + j] + m[j * n + i]);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      scale += m[i * n + i] ** 2;
      for (let j = i + 1; j < n; j++) off += m[i * n + j] ** 2;
    }
    if (off <= 1e-30 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => m[i * n + i]), vectors: v };
}
