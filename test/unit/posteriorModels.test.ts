import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import {
  gaussianMeanLogEvidence,
  gaussianMeanPosterior,
  linearRegressionLogEvidence,
  linearRegressionPosterior,
  symmetricKlDiagonal,
} from '../../src/core/posterior/exact';
import { GaussianMeanModel } from '../../src/core/posterior/models/gaussianMean';
import { GaussianMixtureModel, GMM_VARIANCE } from '../../src/core/posterior/models/gaussianMixture';
import {
  linearClassification,
  linearRegression,
  nonlinearClassification,
  nonlinearRegression,
} from '../../src/core/posterior/models/parametricFunction';
import { tokensOf } from '../../src/core/posterior/models/common';

const LOG_2PI = Math.log(2 * Math.PI);
const logNormal = (v: number, mean: number, variance: number) => -0.5 * ((v - mean) ** 2 / variance + Math.log(variance) + LOG_2PI);
const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);

test('Gaussian mean: the conjugate posterior and evidence match numerical integration on a grid (1-D)', () => {
  const rng = createRng(1, 'gm-grid');
  const model = new GaussianMeanModel(1);
  const mu = 0.7;
  const n = 9;
  const { x } = model.simulate([mu], n, rng);
  // Unnormalised log posterior on a fine grid; moments and evidence by the trapezoid rule.
  const step = 1e-3;
  const grid: number[] = [];
  for (let t = -6; t <= 6; t += step) grid.push(t);
  const logJoint = grid.map((t) => logNormal(t, 0, 1) + Array.from(x).reduce((s, xi) => s + logNormal(xi, t, 1), 0));
  const top = Math.max(...logJoint);
  const weights = logJoint.map((v) => Math.exp(v - top));
  const mass = weights.reduce((a, b) => a + b, 0) * step;
  const mean = weights.reduce((s, w, i) => s + w * grid[i], 0) * step / mass;
  const variance = weights.reduce((s, w, i) => s + w * (grid[i] - mean) ** 2, 0) * step / mass;

  const exact = gaussianMeanPosterior(x, n, 1);
  close(exact.mean[0], mean, 1e-6, 'posterior mean');
  close(exact.covariance[0], variance, 1e-6, 'posterior variance');
  close(gaussianMeanLogEvidence(x, n, 1), top + Math.log(mass), 1e-6, 'log evidence');
});

test('linear regression: normal equations agree with sequential Bayesian updates, evidence with the chain rule', () => {
  const rng = createRng(2, 'lr-sequential');
  const d = 2;
  const model = linearRegression(d);
  assert.equal(model.thetaDim, 3);
  const theta = [0.5, -1.2, 0.3];
  const n = 40;
  const { x, y } = model.simulate(theta, n, rng);

  // Kalman-style: start at the prior and absorb one point at a time (rank-one updates).
  const p = d + 1;
  let m: number[] = new Array<number>(p).fill(0);
  let sigma: number[][] = Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j ? 1 : 0)));
  let logEvidence = 0;
  for (let i = 0; i < n; i++) {
    const h = [...Array.from(x.subarray(i * d, (i + 1) * d)), 1];
    const sh = sigma.map((row) => row.reduce((s, v, j) => s + v * h[j], 0));
    const predictedVariance = h.reduce((s, v, j) => s + v * sh[j], 0) + 0.25;
    const predictedMean = h.reduce((s, v, j) => s + v * m[j], 0);
    logEvidence += logNormal(y[i], predictedMean, predictedVariance);
    const gain = sh.map((v) => v / predictedVariance);
    m = m.map((v, j) => v + gain[j] * (y[i] - predictedMean));
    sigma = sigma.map((row, a) => row.map((v, b) => v - gain[a] * sh[b]));
  }
  const exact = linearRegressionPosterior(x, y, n, d, 0.25);
  for (let a = 0; a < p; a++) {
    close(exact.mean[a], m[a], 1e-9, `mean[${a}]`);
    for (let b = 0; b < p; b++) close(exact.covariance[a * p + b], sigma[a][b], 1e-9, `cov[${a},${b}]`);
  }
  close(linearRegressionLogEvidence(x, y, n, d, 0.25), logEvidence, 1e-8, 'log evidence');
  // With 40 points the posterior concentrates near the true parameters.
  for (let a = 0; a < p; a++) close(exact.mean[a], theta[a], 0.3, `theta[${a}] recovered`);
});

test('symmetric KL: zero for equal Gaussians, the 1-D closed form, positive for a diagonal q of a correlated p', () => {
  const exact = linearRegressionPosterior([0.1, -0.4, 1.3], [0.2, 0.5, -0.1], 3, 1, 0.25);
  const variance = [exact.covariance[0], exact.covariance[3]];
  // A diagonal q cannot match a correlated p exactly: KL > 0 even at the exact mean and marginals.
  const atMarginals = symmetricKlDiagonal(exact.mean, variance, exact);
  assert.ok(atMarginals > 0);
  const gm = gaussianMeanPosterior([1, 2, 3, 4], 2, 2);
  close(symmetricKlDiagonal(gm.mean, [gm.covariance[0], gm.covariance[3]], gm), 0, 1e-12, 'equal');
  // Closed form for 1-D: KL+KL = ((v1 - v2)^2 + (v1 + v2) d^2) / (2 v1 v2).
  const p1 = gaussianMeanPosterior([3], 1, 1); // mean 1.5, variance 0.5
  const expected = ((0.3 - 0.5) ** 2 + (0.3 + 0.5) * 0.25) / (2 * 0.3 * 0.5);
  close(symmetricKlDiagonal([2], [0.3], p1), expected, 1e-12, '1-D closed form');
});

test('parameter counts follow the notes (LC 2-D: 6, NLR 1-D one layer: 96, NLC 2-D: 160)', () => {
  assert.equal(linearClassification(2, 2).thetaDim, 6);
  assert.equal(nonlinearRegression(1, [32], 'relu').thetaDim, 96);
  assert.equal(nonlinearClassification(2, 2, [32], 'relu').thetaDim, 160);
  assert.equal(nonlinearRegression(1, [32, 32], 'tanh').thetaDim, 96 + 32 * 32 + 32);
  assert.equal(new GaussianMixtureModel(2, 2).thetaDim, 4);
});

/** log p(D | theta) in plain numbers, for each model kind. */
function referenceLogLikelihood(
  model: ReturnType<typeof nonlinearRegression> | GaussianMeanModel | GaussianMixtureModel,
  theta: number[],
  x: Float32Array,
  y: Float32Array,
  n: number,
): number {
  let sum = 0;
  const d = model.xDim;
  for (let i = 0; i < n; i++) {
    const xi = Array.from(x.subarray(i * d, (i + 1) * d));
    if (model instanceof GaussianMeanModel) {
      sum += xi.reduce((s, v, f) => s + logNormal(v, theta[f], 1), 0);
    } else if (model instanceof GaussianMixtureModel) {
      const k = model.clusters;
      const comps = Array.from({ length: k }, (_, c) => xi.reduce((s, v, f) => s + logNormal(v, theta[c * d + f], GMM_VARIANCE), 0) - Math.log(k));
      const top = Math.max(...comps);
      sum += top + Math.log(comps.reduce((s, v) => s + Math.exp(v - top), 0));
    } else if (model.target === 'real') {
      sum += logNormal(y[i], model.evaluate(theta, xi)[0], 0.25);
    } else {
      const logits = model.evaluate(theta, xi).map((v) => v / 0.1);
      const top = Math.max(...logits);
      sum += logits[y[i]] - top - Math.log(logits.reduce((s, v) => s + Math.exp(v - top), 0));
    }
  }
  return sum;
}

test('tensor log-likelihoods match plain computations, padding is ignored', async () => {
  await useWasmBackend();
  const rng = createRng(3, 'likelihoods');
  const models = [
    new GaussianMeanModel(2),
    new GaussianMixtureModel(2, 3),
    linearRegression(1),
    linearClassification(2, 3),
    nonlinearRegression(1, [8], 'relu'),
    nonlinearClassification(2, 2, [8, 8], 'tanh'),
  ];
  for (const model of models) {
    const capacity = 7;
    const sizes = [7, 4];
    const samples = 3;
    const thetas = Array.from({ length: sizes.length * samples }, () => Array.from({ length: model.thetaDim }, () => rng.normal()));
    const x = new Float32Array(sizes.length * capacity * model.xDim);
    const y = new Float32Array(sizes.length * capacity);
    const mask = new Float32Array(sizes.length * capacity);
    const expected: number[] = [];
    sizes.forEach((n, b) => {
      const points = model.simulate(thetas[b * samples], n, rng);
      x.set(points.x, b * capacity * model.xDim);
      y.set(points.y, b * capacity);
      for (let i = 0; i < capacity; i++) mask[b * capacity + i] = i < n ? 1 : 0;
      // Garbage in the padding must not matter.
      for (let i = n * model.xDim; i < capacity * model.xDim; i++) x[b * capacity * model.xDim + i] = 100;
      for (let s = 0; s < samples; s++) expected.push(referenceLogLikelihood(model, thetas[b * samples + s], points.x, points.y, n));
    });
    const actual = tf.tidy(() =>
      model.logLikelihood(
        tf.tensor3d(thetas.flat(), [sizes.length, samples, model.thetaDim]),
        tf.tensor3d(x, [sizes.length, capacity, model.xDim]),
        tf.tensor2d(y, [sizes.length, capacity]),
        tf.tensor2d(mask, [sizes.length, capacity]),
      ).arraySync() as number[][],
    ).flat();
    actual.forEach((value, i) => close(value, expected[i], 1e-3 * Math.max(1, Math.abs(expected[i])), `${model.name} #${i}`));
  }
});

test('simulators draw from the stated likelihoods', () => {
  const rng = createRng(4, 'simulators');
  const n = 4000;
  const gm = new GaussianMeanModel(2).simulate([1, -2], n, rng);
  close(Array.from(gm.x).filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0) / n, 1, 0.06, 'GM mean');

  const lr = linearRegression(1);
  const { x, y } = lr.simulate([2, -1], n, rng);
  const residuals = Array.from(y, (v, i) => v - (2 * x[i] - 1));
  close(residuals.reduce((s, r) => s + r * r, 0) / n, 0.25, 0.02, 'LR noise variance');

  // LC: at temperature 0.1 the label follows the larger logit for most points.
  const lc = linearClassification(2, 2);
  const theta = [2, -2, -1, 1, 0, 0];
  const sample = lc.simulate(theta, n, rng);
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const logits = lc.evaluate(theta, sample.x.subarray(2 * i, 2 * i + 2));
    if ((logits[1] > logits[0] ? 1 : 0) === sample.y[i]) agree++;
  }
  assert.ok(agree / n > 0.95, `labels agree with the argmax: ${agree / n}`);

  const tokens = tokensOf(lc, sample, 3);
  assert.equal(tokens.length, 3 * 4);
  assert.deepEqual(Array.from(tokens.subarray(2, 4)), sample.y[0] === 1 ? [0, 1] : [1, 0]);
});
