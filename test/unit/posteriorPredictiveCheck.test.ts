import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { emptyDataSets, type DataSets } from '../../src/core/posterior/dataSets';
import { linearRegressionPosterior } from '../../src/core/posterior/exact';
import { GaussianMeanModel } from '../../src/core/posterior/models/gaussianMean';
import { linearRegression, NOISE_VARIANCE } from '../../src/core/posterior/models/parametricFunction';
import type { Points, ProbabilisticModel } from '../../src/core/posterior/models/types';
import { posteriorPredictiveCheck, PREDICTIVE_WARNING_P } from '../../src/core/posterior/predictiveCheck';
import { cholesky } from '../../src/core/posterior/linalg';

function oneSet(model: ProbabilisticModel, points: Points, n: number): DataSets {
  const sets = emptyDataSets(1, n, model.xDim);
  sets.sizes[0] = n;
  sets.x.set(points.x.subarray(0, n * model.xDim));
  sets.y.set(points.y.subarray(0, n));
  return sets;
}

/** Exact posterior draws of linear regression (the check's input, independent of any network). */
function exactDraws(sets: DataSets, count: number, seed: number): number[][] {
  const { dim, mean, covariance } = linearRegressionPosterior(sets.x, sets.y, sets.sizes[0], sets.xDim, NOISE_VARIANCE);
  const l = cholesky(covariance, dim);
  const rng = createRng(seed, 'draws');
  return Array.from({ length: count }, () => {
    const z = Array.from({ length: dim }, () => rng.normal());
    return Array.from({ length: dim }, (_, i) => mean[i] + z.slice(0, i + 1).reduce((s, v, k) => s + l[i * dim + k] * v, 0));
  });
}

test('predictive check: data from the simulator pass at about the nominal rate, data from elsewhere fail', async () => {
  await useWasmBackend();
  const model = linearRegression(1);
  const rng = createRng(3, 'ppc');
  // Simulator data: p-values roughly uniform, so few of 40 fall below 0.05.
  let flagged = 0;
  for (let k = 0; k < 40; k++) {
    const theta = [rng.normal(), rng.normal()];
    const sets = oneSet(model, model.simulate(theta, 40, rng), 40);
    if (posteriorPredictiveCheck(model, sets, exactDraws(sets, 200, k), k, 200).pValue < 0.05) flagged++;
  }
  assert.ok(flagged <= 8, `${flagged} of 40 simulator data sets below p = 0.05`);

  // A sine is not a line: the best line leaves residuals far above the noise sd 0.5.
  const x = Float32Array.from({ length: 40 }, () => rng.normal());
  const sine = oneSet(model, { x, y: x.map((v) => 2 * Math.sin(3 * v)) }, 40);
  const check = posteriorPredictiveCheck(model, sine, exactDraws(sine, 200, 1), 1);
  assert.ok(check.pValue < PREDICTIVE_WARNING_P, `sine data p = ${check.pValue}`);
  assert.equal(check.replicates, 100);

  // Inputs the simulator never draws (x ~ N(0, I) there) fail too, even on a perfect line.
  const wide = Float32Array.from({ length: 40 }, () => 6 * rng.normal());
  const far = oneSet(model, { x: wide, y: wide.map((v) => 0.5 * v) }, 40);
  assert.ok(posteriorPredictiveCheck(model, far, exactDraws(far, 200, 2), 2).pValue < PREDICTIVE_WARNING_P, 'inputs far outside N(0, 1)');
});

test('predictive check of a density model: a spread-out cloud fails, seeding holds, no tensors leak', async () => {
  await useWasmBackend();
  const model = new GaussianMeanModel(2);
  const rng = createRng(5, 'gm');
  const before = tf.memory().numTensors;
  const spread = Float32Array.from({ length: 32 }, () => 4 * rng.normal());
  const sets = oneSet(model, { x: spread, y: new Float32Array(16) }, 16);
  const draws = Array.from({ length: 100 }, () => [rng.normal() * 0.25, rng.normal() * 0.25]);
  const check = posteriorPredictiveCheck(model, sets, draws, 7);
  assert.ok(check.pValue < PREDICTIVE_WARNING_P, `x ~ N(0, 16 I) against a unit-variance model: p = ${check.pValue}`);
  assert.deepEqual(posteriorPredictiveCheck(model, sets, draws, 7), check);
  assert.equal(tf.memory().numTensors, before);
});
