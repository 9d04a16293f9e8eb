import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { buildExperiment } from '../../src/core/experiment';
import { disposeExperiment } from '../../src/core/train';
import type { Checkpoint } from '../../src/core/sink';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { gaussianMeanExact, linearRegressionExact } from '../../src/core/posterior/tasks';
import { GaussianMeanModel } from '../../src/core/posterior/models/gaussianMean';
import { linearRegression } from '../../src/core/posterior/models/parametricFunction';
import { wasserstein2, wasserstein2Empirical1d, wasserstein2Gaussian } from '../../src/core/posterior/metrics';
import {
  calibrate,
  chiSquareSurvival,
  chiSquareUniformity,
  exactPosteriorSampler,
  simulationBasedCalibration,
} from '../../src/core/posterior/calibration';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);

test('W2: exact 1-D on sorted samples and the Gaussian formula against hand-computed values', () => {
  // Sorted pairs (1,2), (2,4), (3,6): squared gaps 1, 4, 9 -> W2 = sqrt(14 / 3).
  close(wasserstein2Empirical1d([3, 1, 2], [6, 2, 4]), Math.sqrt(14 / 3), 1e-12, 'empirical 1-D');
  const oneD = wasserstein2([[3], [1], [2]], [[6], [2], [4]]);
  assert.equal(oneD.method, 'exact-1d');
  close(oneD.distance, Math.sqrt(14 / 3), 1e-12, 'dispatch 1-D');

  // Commuting diagonal covariances: W2^2 = |dm|^2 + sum (sqrt(a) - sqrt(b))^2 = 1 + 4 + (2-1)^2 + (3-1)^2 = 10.
  close(wasserstein2Gaussian([0, 0], [4, 0, 0, 9], [1, 2], [1, 0, 0, 1]), Math.sqrt(10), 1e-10, 'diagonal Gaussians');
  // Same covariance, rotated: S1 = R diag(4, 1) R^T with a 45 degree rotation, S2 = I:
  // tr(S1 + S2 - 2 S1^1/2) = 5 + 2 - 2 (2 + 1) = 1.
  const s1 = [2.5, 1.5, 1.5, 2.5]; // eigenvalues 4 and 1
  close(wasserstein2Gaussian([0, 0], s1, [0, 0], [1, 0, 0, 1]), 1, 1e-10, 'rotated covariance');
  // Non-commuting pair, checked against the 2x2 closed form tr((S2^1/2 S1 S2^1/2)^1/2) = sqrt(tr M + 2 sqrt(det M)).
  const s2 = [2, 0, 0, 0.5];
  const m = [2 * 2.5, 1.5, 1.5, 0.5 * 2.5]; // S2^1/2 S1 S2^1/2 with S2^1/2 = diag(sqrt 2, sqrt .5)
  const rootTrace = Math.sqrt(m[0] + m[3] + 2 * Math.sqrt(m[0] * m[3] - m[1] * m[2]));
  close(wasserstein2Gaussian([1, 0], s1, [0, 0], s2), Math.sqrt(1 + 5 + 2.5 - 2 * rootTrace), 1e-10, 'non-commuting');
  close(wasserstein2Gaussian([0.3, 1], s1, [0.3, 1], s1), 0, 1e-6, 'identical Gaussians');

  // In 2-D the sets' moments are used: two sets whose means differ by (3, 4) and equal covariances -> 5.
  const a = [[0, 0], [2, 0], [0, 2], [2, 2]];
  const b = a.map(([u, v]) => [u + 3, v + 4]);
  const twoD = wasserstein2(a, b);
  assert.equal(twoD.method, 'gaussian');
  close(twoD.distance, 5, 1e-9, 'translated 2-D sets');
  assert.throws(() => wasserstein2([[1, 2], [3]], a), /sample 1 of the first set/);
});

test('chi-square survival function matches known quantiles', () => {
  close(chiSquareSurvival(3.841458820694124, 1), 0.05, 1e-9, 'chi2(1) 95%');
  close(chiSquareSurvival(30.14352720564616, 19), 0.05, 1e-9, 'chi2(19) 95%');
  close(chiSquareSurvival(2, 2), Math.exp(-1), 1e-12, 'chi2(2) is exponential');
  assert.equal(chiSquareUniformity([5, 5, 5, 5]).statistic, 0);
});

const gm = new GaussianMeanModel(2);
const lr = linearRegression(1);
const SIGNIFICANCE = 0.01;

test('SBC with the exact posterior: uniform ranks (chi-square, 1% level) and coverage at nominal', async () => {
  await useWasmBackend(); // the simulated batch also builds (disposed) network inputs
  const k = 400;
  const l = 99; // 100 rank values, 20 bins of 5
  for (const [model, exact, name] of [[gm, gaussianMeanExact, 'GM'], [lr, linearRegressionExact, 'LR']] as const) {
    const result = simulationBasedCalibration(model, exactPosteriorSampler(exact), { k, l, seed: 7, contextMin: 5, contextMax: 20 });
    assert.equal(result.ranks.length, k);
    assert.equal(result.histogram.bins, 20);
    result.histogram.counts.forEach((row) => assert.equal(row.reduce((a, b) => a + b, 0), k));
    result.histogram.uniformity.forEach((u, p) => assert.ok(u.pValue > SIGNIFICANCE, `${name} dim ${p}: chi2 ${u.statistic}, p ${u.pValue}`));
    // Binomial standard error of a coverage fraction over K data sets; 4 of them.
    result.coverage.perDimension.forEach((row, p) =>
      row.forEach((c, j) => {
        const a = result.coverage.levels[j];
        close(c, a, 4 * Math.sqrt((a * (1 - a)) / k), `${name} dim ${p} coverage at ${a}`);
      }),
    );
  }
});

test('SBC catches an over-confident sampler (sd shrunk by half): coverage below nominal, ranks rejected', async () => {
  await useWasmBackend();
  const k = 400;
  const result = simulationBasedCalibration(gm, exactPosteriorSampler(gaussianMeanExact, 0.5), { k, l: 99, seed: 7, contextMin: 5, contextMax: 20 });
  result.coverage.mean.forEach((c, j) => {
    const a = result.coverage.levels[j];
    assert.ok(c < a, `coverage ${c} at level ${a} should be below nominal`);
    // From level 0.3 on, the gap (a minus the coverage of a half-width interval) exceeds 4 standard errors.
    if (a >= 0.3) assert.ok(c < a - 4 * Math.sqrt((a * (1 - a)) / k), `coverage ${c} at level ${a} should be clearly below nominal`);
  });
  // At 90%: P(|z| < 1.645 / 2) = 0.59.
  close(result.coverage.mean[8], 0.589, 0.06, 'coverage at 0.9');
  result.histogram.uniformity.forEach((u) => assert.ok(u.pValue < SIGNIFICANCE, `ranks of a shrunk sampler should fail uniformity, p ${u.pValue}`));
  assert.throws(() => simulationBasedCalibration(gm, exactPosteriorSampler(gaussianMeanExact), { k: 5, l: 10, seed: 1, contextMin: 5, contextMax: 6, bins: 4 }), /divisor of l \+ 1/);
});

test('calibrate() on a run checkpoint: shapes, seeding, no leaked tensors', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = {
    formatVersion: 1,
    kind: 'train',
    name: 'calibrate-posterior',
    seed: 0,
    task: { name: 'posterior-gaussian-mean', dim: 2, contextMin: 8, contextMax: 16, heldOut: 10 },
    model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 16, layers: 1, heads: 2, feedForward: 16, flowBlocks: 2, flowHidden: 16 },
    objective: { name: 'forward-kl' },
    training: { steps: 10, batchSize: 8, learningRate: 3e-3, optimizer: 'adam', logEvery: 10, evalEvery: 10, evalBatches: 1, checkpointEvery: 10, keepCheckpoints: 1 },
  };
  const experiment = buildExperiment(spec);
  const weights = experiment.model.parameters.map(({ name, variable }) => ({ name, tensor: tf.clone(variable) }));
  disposeExperiment(experiment);
  const source = {
    steps: () => [0],
    load: async (): Promise<Checkpoint> => ({ step: 0, weights: weights.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })), optimizer: [] }),
  };
  const before = tf.memory().numTensors;
  const result = await calibrate(spec, source, { k: 30, l: 19 });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  assert.equal(result.step, 0);
  assert.equal(result.ranks.length, 30);
  assert.equal(result.histogram.counts.length, 2);
  assert.equal(result.coverage.mean.length, 9);
  result.ranks.flat().forEach((r) => assert.ok(Number.isInteger(r) && r >= 0 && r <= 19));
  assert.deepEqual((await calibrate(spec, source, { k: 30, l: 19 })).ranks, result.ranks, 'seeded');
  await assert.rejects(calibrate(spec, { steps: () => [], load: source.load }, { k: 1, l: 1 }), /no checkpoint/);
  tf.dispose(weights.map((w) => w.tensor));
});
