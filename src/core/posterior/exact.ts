/**
 * Exact posteriors of the conjugate models (prior N(0, I)), in double precision:
 * - Gaussian mean: Sigma = I / (N + 1), m = Sigma sum_i x_i;
 * - linear regression, theta = [w, b]: Sigma = (X^T X / s2 + I)^-1, m = Sigma X^T y / s2,
 *   with X the inputs plus a ones column and s2 the noise variance.
 * The log evidence follows from Bayes' rule at any theta (here the posterior mean):
 *   log p(D) = log p(D | m) + log p(m) - log p(m | D).
 */
import { cholesky, inverseSpd, logDeterminantSpd, matVec, solveWithCholesky } from './linalg';

const LOG_2PI = Math.log(2 * Math.PI);

export interface GaussianPosterior {
  dim: number;
  mean: Float64Array;
  /** Row-major dim x dim. */
  covariance: Float64Array;
  /** Inverse of the covariance. */
  precision: Float64Array;
}

/** x: [n, d] row-major (only the first n points are read). */
export function gaussianMeanPosterior(x: ArrayLike<number>, n: number, d: number): GaussianPosterior {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += x[i * d + f];
  const covariance = new Float64Array(d * d);
  const precision = new Float64Array(d * d);
  for (let f = 0; f < d; f++) {
    mean[f] /= n + 1;
    covariance[f * d + f] = 1 / (n + 1);
    precision[f * d + f] = n + 1;
  }
  return { dim: d, mean, covariance, precision };
}

/** x: [n, d], y: [n]; theta = [w_1 .. w_d, b]. */
export function linearRegressionPosterior(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  noiseVariance: number,
): GaussianPosterior {
  const p = d + 1;
  const precision = new Float64Array(p * p);
  const xty = new Float64Array(p);
  const row = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) row[f] = x[i * d + f];
    row[d] = 1;
    for (let a = 0; a < p; a++) {
      xty[a] += (row[a] * y[i]) / noiseVariance;
      for (let b = 0; b < p; b++) precision[a * p + b] += (row[a] * row[b]) / noiseVariance;
    }
  }
  for (let a = 0; a < p; a++) precision[a * p + a] += 1;
  const covariance = inverseSpd(precision, p);
  return { dim: p, mean: matVec(covariance, p, xty), covariance, precision };
}

/** log N(theta; mean, covariance). */
export function gaussianLogDensity(posterior: GaussianPosterior, theta: ArrayLike<number>): number {
  const { dim, mean, covariance } = posterior;
  const l = cholesky(covariance, dim);
  const diff = Array.from({ length: dim }, (_, i) => theta[i] - mean[i]);
  const solved = solveWithCholesky(l, dim, diff);
  const quadratic = diff.reduce((sum, v, i) => sum + v * solved[i], 0);
  return -0.5 * (quadratic + logDeterminantSpd(covariance, dim) + dim * LOG_2PI);
}

const logStandardNormal = (theta: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < theta.length; i++) sum += theta[i] * theta[i];
  return -0.5 * (sum + theta.length * LOG_2PI);
};

export function gaussianMeanLogEvidence(x: ArrayLike<number>, n: number, d: number): number {
  const posterior = gaussianMeanPosterior(x, n, d);
  let logLikelihood = 0;
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) logLikelihood += -0.5 * ((x[i * d + f] - posterior.mean[f]) ** 2 + LOG_2PI);
  }
  return logLikelihood + logStandardNormal(posterior.mean) - gaussianLogDensity(posterior, posterior.mean);
}

export function linearRegressionLogEvidence(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  noiseVariance: number,
): number {
  const posterior = linearRegressionPosterior(x, y, n, d, noiseVariance);
  const m = posterior.mean;
  let logLikelihood = 0;
  for (let i = 0; i < n; i++) {
    let prediction = m[d];
    for (let f = 0; f < d; f++) prediction += m[f] * x[i * d + f];
    logLikelihood += -0.5 * ((y[i] - prediction) ** 2 / noiseVariance + Math.log(2 * Math.PI * noiseVariance));
  }
  return logLikelihood + logStandardNormal(m) - gaussianLogDensity(posterior, m);
}

/**
 * Symmetric KL(q || p) + KL(p || q) between a diagonal Gaussian q (mean, variance) and a
 * Gaussian p, in double precision (the tensor version used as a metric is checked against it).
 */
export function symmetricKlDiagonal(qMean: ArrayLike<number>, qVariance: ArrayLike<number>, p: GaussianPosterior): number {
  const { dim, mean, covariance, precision } = p;
  let qp = 0; // KL(q || p) * 2
  let pq = 0; // KL(p || q) * 2
  for (let i = 0; i < dim; i++) {
    const delta = qMean[i] - mean[i];
    qp += precision[i * dim + i] * qVariance[i];
    for (let j = 0; j < dim; j++) qp += delta * precision[i * dim + j] * (qMean[j] - mean[j]);
    pq += covariance[i * dim + i] / qVariance[i] + (delta * delta) / qVariance[i] + Math.log(qVariance[i]);
  }
  const logDetP = logDeterminantSpd(covariance, dim);
  const logDetQ = Array.from({ length: dim }, (_, i) => Math.log(qVariance[i])).reduce((a, b) => a + b, 0);
  qp += logDetP - logDetQ - dim;
  pq += -logDetP - dim;
  return 0.5 * (qp + pq);
}
