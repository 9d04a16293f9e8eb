import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createOptimizer, learningRateSchedule } from '../../src/core/optimizers';
import { trainingDefaults } from '../../src/core/spec/schema';
import type { TrainingSpec } from '../../src/core/spec/types';
import { useWasmBackend } from '../helpers/backend';

const training = (overrides: Partial<TrainingSpec>): TrainingSpec => ({ ...(trainingDefaults() as unknown as TrainingSpec), ...overrides });

test('the cosine schedule starts at the learning rate, halves it mid-run and ends near 0; constant stays put', () => {
  const cosine = learningRateSchedule({ learningRate: 0.1, steps: 100, learningRateSchedule: 'cosine' });
  assert.equal(cosine(1), 0.1);
  assert.ok(Math.abs(cosine(51) - 0.05) < 1e-15);
  assert.ok(Math.abs(cosine(100) - (0.1 * (1 + Math.cos((Math.PI * 99) / 100))) / 2) < 1e-15);
  assert.ok(cosine(100) < 1e-4 && cosine(100) > 0);
  for (let step = 2; step <= 100; step++) assert.ok(cosine(step) < cosine(step - 1), `decreasing at ${step}`);
  const constant = learningRateSchedule({ learningRate: 0.1, steps: 100, learningRateSchedule: 'constant' });
  assert.deepEqual([constant(1), constant(100)], [0.1, 0.1]);
  assert.equal(trainingDefaults().learningRateSchedule, 'constant', 'the documented default');
  // Runs recorded before the field existed have none: constant.
  assert.equal(learningRateSchedule({ learningRate: 0.1, steps: 100 })(50), 0.1);
});

test('SGD follows the schedule step by step (x <- x - rate(t) * 2x on x^2)', async () => {
  await useWasmBackend();
  const x = tf.variable(tf.scalar(1));
  const spec = training({ optimizer: 'sgd', learningRate: 0.25, steps: 4, learningRateSchedule: 'cosine' });
  const optimizer = createOptimizer(spec, [{ name: 'x', variable: x }]);
  const rate = learningRateSchedule(spec);
  let expected = 1;
  for (let step = 1; step <= 4; step++) {
    tf.tidy(() => optimizer.step([x.mul(2)]));
    expected -= rate(step) * 2 * expected;
    assert.ok(Math.abs(x.dataSync()[0] - expected) < 1e-6, `step ${step}: ${x.dataSync()[0]} vs ${expected}`);
  }
  x.dispose();
});
