/**
 * A Gaussian-process data source for misspecification experiments: regression data sets that no
 * parametric model of the lab generated. Inputs are drawn as the assumed models draw them,
 * x ~ N(0, I); then f ~ GP(0, k) with the RBF kernel k(x, x') = s2 exp(-|x - x'|^2 / (2 l^2))
 * (lengthscale l = 1, variance s2 = 1, as in docs/research/amortized-posterior.md) and y = f(x) + eps, eps ~ N(0, 0.25), the
 * noise the assumed regression models use. A data set's context and held-out points come from
 * one draw of f: they are sampled jointly, so held-out points test the same function.
 * There is no true theta: objectives and metrics that need one must not run on these sets.
 */
import type { Rng } from '../rng';
import { drawContextSize, packBatch, type DrawnDataSet, type PosteriorBatch, type SimulationSizes } from './dataSets';
import { cholesky } from './linalg';
import { NOISE_VARIANCE } from './models/parametricFunction';
import type { Points, ProbabilisticModel } from './models/types';

export const GP_LENGTHSCALE = 1;
export const GP_VARIANCE = 1;
/**
 * Added to the kernel's diagonal before the Cholesky: points in a few dimensions drawn from
 * N(0, I) are close together, which makes the RBF kernel matrix numerically singular. 1e-6 is
 * far below the observation noise (0.25), so it does not change the data's distribution measurably.
 */
export const GP_JITTER = 1e-6;

/** RBF kernel matrix [n, n] (row-major, double precision) of points x [n, dim]. */
export function rbfKernel(x: ArrayLike<number>, n: number, dim: number, lengthscale = GP_LENGTHSCALE, variance = GP_VARIANCE): Float64Array {
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = variance;
    for (let j = 0; j < i; j++) {
      let squared = 0;
      for (let f = 0; f < dim; f++) squared += (x[i * dim + f] - x[j * dim + f]) ** 2;
      k[i * n + j] = k[j * n + i] = variance * Math.exp(-squared / (2 * lengthscale * lengthscale));
    }
  }
  return k;
}

/** Values f [n] of one draw of GP(0, RBF) at the points x [n, dim]: f = L z with L L^T = K + jitter I. */
export function sampleGaussianProcess(x: ArrayLike<number>, n: number, dim: number, rng: Rng): Float64Array {
  const k = rbfKernel(x, n, dim);
  for (let i = 0; i < n; i++) k[i * n + i] += GP_JITTER;
  const l = cholesky(k, n);
  const z = Float64Array.from({ length: n }, () => rng.normal());
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let value = 0;
    for (let j = 0; j <= i; j++) value += l[i * n + j] * z[j];
    f[i] = value;
  }
  return f;
}

/** Targets y = f(x) + eps [n] at the points x [n, dim], for one draw of f. */
export function gaussianProcessTargets(x: ArrayLike<number>, n: number, dim: number, rng: Rng): Float32Array {
  const f = sampleGaussianProcess(x, n, dim, rng);
  const noise = Math.sqrt(NOISE_VARIANCE);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = f[i] + noise * rng.normal();
  return y;
}

/** n points of one GP regression data set: x ~ N(0, I) [n, dim], y = f(x) + eps [n]. Deterministic in `rng`. */
export function gaussianProcessPoints(n: number, dim: number, rng: Rng): Points {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  // The kernel is evaluated at the float32 inputs the network will see, not at their doubles.
  return { x, y: gaussianProcessTargets(x, n, dim, rng) };
}

/**
 * B GP regression data sets laid out for `model` (a real-target model with model.xDim inputs):
 * N ~ U{contextMin..contextMax} context points plus the held-out points, from one draw of f.
 * The batch has no theta (targets are NaN).
 */
export function gaussianProcessBatch(model: ProbabilisticModel, count: number, sizes: SimulationSizes, rng: Rng): PosteriorBatch {
  if (model.target !== 'real') throw new Error(`Gaussian-process data sets are regression data: model '${model.name}' does not have real targets`);
  const drawn: DrawnDataSet[] = [];
  for (let b = 0; b < count; b++) {
    const n = drawContextSize(sizes, rng);
    drawn.push({ contextSize: n, points: gaussianProcessPoints(n + sizes.heldOut, model.xDim, rng) });
  }
  return packBatch(model, sizes, drawn, undefined, rng.int32());
}
