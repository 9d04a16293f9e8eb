import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { emptyDataSets, type DataSets } from '../../src/core/posterior/dataSets';
import { linearRegressionExact } from '../../src/core/posterior/tasks';
import { linearRegression } from '../../src/core/posterior/models/parametricFunction';
import { pilotStepSize, referencePosterior, type ReferenceSettings } from '../../src/core/posterior/panelReference';

const lr = linearRegression(1);

/** One linear-regression data set of n points from theta ~ N(0, I). */
function oneDataSet(n: number, seed: string): DataSets {
  const rng = createRng(seed);
  const sets = emptyDataSets(1, n, lr.xDim);
  const theta = Array.from({ length: lr.thetaDim }, () => rng.normal());
  const points = lr.simulate(theta, n, rng);
  sets.sizes[0] = n;
  sets.x.set(points.x);
  sets.y.set(points.y);
  return sets;
}

/** n exact draws m + L z from the conjugate posterior (2 x 2 Cholesky by hand). */
function exactDraws(sets: DataSets, n: number, shift = 0): number[][] {
  const { mean, covariance: S } = linearRegressionExact(sets, 0);
  const l00 = Math.sqrt(S[0]);
  const l10 = S[2] / l00;
  const l11 = Math.sqrt(S[3] - l10 * l10);
  const rng = createRng('exact-draws');
  return Array.from({ length: n }, () => {
    const [z0, z1] = [rng.normal(), rng.normal()];
    return [mean[0] + l00 * z0 + shift, mean[1] + l10 * z0 + l11 * z1 + shift];
  });
}

const settings: ReferenceSettings = { chains: 8, warmup: 60, samples: 40, leapfrogSteps: 8, seed: 3 };

test('the HMC reference of one data set matches its exact posterior, and W2 tells a good sampler from a shifted one', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  const sets = oneDataSet(40, 'reference-lr');
  const exact = linearRegressionExact(sets, 0);
  const good = exactDraws(sets, 400);
  const sd = [Math.sqrt(exact.covariance[0]), Math.sqrt(exact.covariance[3])];
  const shifted = exactDraws(sets, 400, 2 * Math.max(...sd));

  const reference = referencePosterior(lr, sets, good, settings);
  assert.equal(reference.samples.length, settings.chains * settings.samples);
  assert.ok(reference.acceptance > 0.5, `acceptance ${reference.acceptance} at step ${reference.settings.stepSize}`);
  // 4 standard errors with only the 8 independent chains counted (conservative).
  for (let i = 0; i < 2; i++) {
    const tolerance = 4 * sd[i] / Math.sqrt(settings.chains);
    assert.ok(Math.abs(reference.mean[i] - exact.mean[i]) <= tolerance, `mean[${i}] ${reference.mean[i]} vs ${exact.mean[i]} (tolerance ${tolerance})`);
    assert.ok(Math.abs(reference.std[i] / sd[i] - 1) < 0.5, `sd[${i}] ${reference.std[i]} vs ${sd[i]}`);
  }
  const far = referencePosterior(lr, sets, shifted, settings);
  assert.equal(reference.distance.method, 'gaussian');
  assert.ok(far.distance.distance > 2 * reference.distance.distance, `W2 good ${reference.distance.distance}, shifted ${far.distance.distance}`);
  assert.ok(Math.abs(far.distance.distance - 2 * Math.max(...sd) * Math.SQRT2) < 0.5 * 2 * Math.max(...sd) * Math.SQRT2, 'about the shift');
  assert.deepEqual(referencePosterior(lr, sets, good, settings).samples, reference.samples, 'seeded');
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
});

test('the pilot halves the step size until HMC accepts: more data, a narrower posterior, a smaller step', async () => {
  await useWasmBackend();
  const few = pilotStepSize(lr, oneDataSet(5, 'pilot-few'), settings);
  const many = pilotStepSize(lr, oneDataSet(120, 'pilot-many'), settings);
  assert.ok(many < few, `step with 120 points ${many}, with 5 points ${few}`);
  assert.throws(() => referencePosterior(lr, emptyDataSets(2, 3, 1), [[0, 0], [1, 1]], settings), /one data set, got 2/);
});
