import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { emptyDataSets, type DataSets } from '../../src/core/posterior/dataSets';
import { gaussianMeanExact, linearRegressionExact, type ExactPosterior } from '../../src/core/posterior/tasks';
import { GaussianMeanModel } from '../../src/core/posterior/models/gaussianMean';
import { linearRegression } from '../../src/core/posterior/models/parametricFunction';
import type { ProbabilisticModel } from '../../src/core/posterior/models/types';
import { hmcSamples, langevinSamples, mapEstimate, type McmcResult } from '../../src/core/posterior/reference';

/** Data sets of the given sizes simulated from theta ~ N(0, I), padded to the largest size (padding must be ignored). */
function simulateSets(model: ProbabilisticModel, sizes: number[], seed: string): DataSets {
  const rng = createRng(seed);
  const capacity = Math.max(...sizes);
  const sets = emptyDataSets(sizes.length, capacity, model.xDim);
  sizes.forEach((n, b) => {
    const theta = Array.from({ length: model.thetaDim }, () => rng.normal());
    const points = model.simulate(theta, n, rng);
    sets.sizes[b] = n;
    sets.x.set(points.x, b * capacity * model.xDim);
    sets.y.set(points.y, b * capacity);
    // Garbage in the padding: a model that read it would get a different posterior.
    for (let i = n; i < capacity; i++) {
      sets.y[b * capacity + i] = 50;
      for (let f = 0; f < model.xDim; f++) sets.x[(b * capacity + i) * model.xDim + f] = 50;
    }
  });
  return sets;
}

function moments(samples: number[][], dim: number) {
  const n = samples.length;
  const mean = new Array<number>(dim).fill(0);
  for (const s of samples) for (let i = 0; i < dim; i++) mean[i] += s[i] / n;
  const covariance = new Array<number>(dim * dim).fill(0);
  for (const s of samples) {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) covariance[i * dim + j] += ((s[i] - mean[i]) * (s[j] - mean[j])) / (n - 1);
  }
  return { mean, covariance };
}

/**
 * Tolerances from Monte Carlo error, 4 standard errors. Only `chains` is used as the sample size:
 * chains are independent, and the average of a chain's k kept states has variance at most that
 * of one state, so this is conservative. Mean: 4 sqrt(S_ii / chains); covariance entry:
 * 4 sqrt((S_ii S_jj + S_ij^2) / chains) (the standard error of a Gaussian sample covariance).
 */
function assertMatchesExact(result: McmcResult, sets: DataSets, exactOf: ExactPosterior, chains: number, what: string) {
  result.samples.forEach((samples, b) => {
    const exact = exactOf(sets, b);
    const P = exact.dim;
    const S = exact.covariance;
    const { mean, covariance } = moments(samples, P);
    for (let i = 0; i < P; i++) {
      const tolerance = 4 * Math.sqrt(S[i * P + i] / chains);
      assert.ok(Math.abs(mean[i] - exact.mean[i]) <= tolerance, `${what}, set ${b}, mean[${i}]: ${mean[i]} vs exact ${exact.mean[i]} (tolerance ${tolerance})`);
      for (let j = 0; j < P; j++) {
        const tol = 4 * Math.sqrt((S[i * P + i] * S[j * P + j] + S[i * P + j] ** 2) / chains);
        const got = covariance[i * P + j];
        assert.ok(Math.abs(got - S[i * P + j]) <= tol, `${what}, set ${b}, cov[${i},${j}]: ${got} vs exact ${S[i * P + j]} (tolerance ${tol})`);
      }
    }
  });
}

const gm = new GaussianMeanModel(2);
const lr = linearRegression(1);

test('MAP with Adam lands on the exact posterior mode (Gaussian mean, linear regression), MLE on the least-squares fit', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  const gmSets = simulateSets(gm, [12, 30], 'map-gm');
  const gmMap = mapEstimate(gm, gmSets, { steps: 600, learningRate: 0.1 });
  gmMap.theta.forEach((theta, b) => {
    const mode = gaussianMeanExact(gmSets, b).mean; // Gaussian: mode = mean
    theta.forEach((t, i) => assert.ok(Math.abs(t - mode[i]) < 1e-3, `GM set ${b}[${i}]: ${t} vs mode ${mode[i]}`));
  });

  const lrSets = simulateSets(lr, [8, 25], 'map-lr');
  const lrMap = mapEstimate(lr, lrSets, { steps: 600, learningRate: 0.1 });
  lrMap.theta.forEach((theta, b) => {
    const mode = linearRegressionExact(lrSets, b).mean;
    theta.forEach((t, i) => assert.ok(Math.abs(t - mode[i]) < 1e-3, `LR set ${b}[${i}]: ${t} vs mode ${mode[i]}`));
  });

  // MLE of the Gaussian mean is the sample mean (differs from the MAP by the prior's shrinkage).
  const gmMle = mapEstimate(gm, gmSets, { steps: 600, learningRate: 0.1, prior: false });
  gmMle.theta.forEach((theta, b) => {
    const n = gmSets.sizes[b];
    for (let f = 0; f < 2; f++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += gmSets.x[(b * gmSets.capacity + i) * 2 + f];
      assert.ok(Math.abs(theta[f] - sum / n) < 1e-3, `GM MLE set ${b}[${f}]: ${theta[f]} vs sample mean ${sum / n}`);
    }
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('HMC samples match the exact posterior mean and covariance within Monte Carlo error', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  const chains = 400;
  const gmSets = simulateSets(gm, [10, 30], 'hmc-gm');
  const gmResult = hmcSamples(gm, gmSets, { chains, warmup: 30, samples: 5, thin: 2, stepSize: 0.06, leapfrogSteps: 8, seed: 1 });
  assert.equal(gmResult.samples.length, 2);
  assert.equal(gmResult.samples[0].length, chains * 5);
  gmResult.acceptance.forEach((a) => assert.ok(a > 0.6, `GM acceptance ${a}`));
  assertMatchesExact(gmResult, gmSets, gaussianMeanExact, chains, 'HMC GM');

  const lrSets = simulateSets(lr, [10, 30], 'hmc-lr');
  // Started at the MAP: from a prior draw ~10 posterior sds out, HMC needs a long warm-up.
  const lrResult = hmcSamples(lr, lrSets, { chains, init: 'map', warmup: 20, samples: 5, thin: 2, stepSize: 0.03, leapfrogSteps: 8, seed: 2 });
  lrResult.acceptance.forEach((a) => assert.ok(a > 0.6, `LR acceptance ${a}`));
  assertMatchesExact(lrResult, lrSets, linearRegressionExact, chains, 'HMC LR');

  const again = hmcSamples(gm, gmSets, { chains: 3, warmup: 2, samples: 2, stepSize: 0.06, leapfrogSteps: 3, seed: 1 });
  assert.deepEqual(again, hmcSamples(gm, gmSets, { chains: 3, warmup: 2, samples: 2, stepSize: 0.06, leapfrogSteps: 3, seed: 1 }), 'seeded');
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('MALA samples match the exact posterior; unadjusted Langevin with a large step is visibly biased', async () => {
  await useWasmBackend();
  const chains = 400;
  const lrSets = simulateSets(lr, [10, 30], 'mala-lr');
  const mala = langevinSamples(lr, lrSets, { chains, warmup: 150, samples: 5, thin: 4, stepSize: 0.004, seed: 3 });
  mala.acceptance.forEach((a) => assert.ok(a > 0.5, `MALA acceptance ${a}`));
  assertMatchesExact(mala, lrSets, linearRegressionExact, chains, 'MALA LR');

  // ULA on the Gaussian mean with precision N + 1 and step h has stationary variance
  // 1 / ((N + 1)(1 - h (N + 1) / 4)): with h (N + 1) = 1.5, 1.6 times the exact variance.
  const gmSets = simulateSets(gm, [30], 'ula-gm');
  const h = 1.5 / 31;
  const ula = langevinSamples(gm, gmSets, { chains, warmup: 60, samples: 5, thin: 2, stepSize: h, seed: 4, metropolis: false });
  assert.deepEqual(ula.acceptance, [1]);
  const { covariance } = moments(ula.samples[0], 2);
  const expected = 1 / (31 * (1 - (h * 31) / 4));
  for (const i of [0, 3]) {
    assert.ok(Math.abs(covariance[i] - expected) < 0.2 * expected, `ULA variance ${covariance[i]} vs predicted ${expected}`);
    assert.ok(covariance[i] > 1.3 / 31, `ULA variance ${covariance[i]} should exceed the exact ${1 / 31}`);
  }
});
