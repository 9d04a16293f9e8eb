import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { disableFusedAdam, enableFusedAdam, fusedAdamActive } from '../../src/core/kernels/fusedAdam';
import { createOptimizer } from '../../src/core/optimizers';
import type { Parameter } from '../../src/core/registry';
import type { TrainingSpec } from '../../src/core/spec/types';
import { useWasmBackend } from '../helpers/backend';

const SHAPES = [[7, 5], [5], [3, 4, 2], [1]];
const training = { optimizer: 'adam', learningRate: 0.01, learningRateSchedule: 'cosine', steps: 6 } as unknown as TrainingSpec;

// Seeds start at 1: tfjs treats a seed of 0 as none.
/** Parameters after 6 Adam steps on fixed random gradients, and the optimizer's state tensors. */
function trainSixSteps(): { values: Float32Array[]; moments: Float32Array[] } {
  const parameters: Parameter[] = SHAPES.map((shape, i) => ({
    name: `p${i}`,
    variable: tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', i + 1))),
  }));
  const optimizer = createOptimizer(training, parameters);
  for (let step = 0; step < 6; step++) {
    tf.tidy(() => optimizer.step(SHAPES.map((shape, i) => tf.randomNormal(shape, 0, step + 1, 'float32', 100 * step + i + 1))));
  }
  const values = parameters.map((p) => p.variable.dataSync() as Float32Array);
  const moments = optimizer.state().tensors.map((t) => t.tensor.dataSync() as Float32Array);
  tf.dispose([...parameters.map((p) => p.variable), ...optimizer.state().tensors.map((t) => t.tensor)]);
  return { values, moments };
}

test('the fused Adam kernel gives the op chain\'s parameters and moments bit for bit, and leaks nothing', async () => {
  await useWasmBackend();
  const chain = trainSixSteps();
  const tensors = tf.memory().numTensors;
  enableFusedAdam();
  try {
    assert.ok(fusedAdamActive());
    const fused = trainSixSteps();
    assert.equal(tf.memory().numTensors, tensors);
    [...chain.values, ...chain.moments].forEach((expected, i) => {
      const actual = [...fused.values, ...fused.moments][i];
      for (let e = 0; e < expected.length; e++) assert.equal(actual[e], expected[e], `tensor ${i} entry ${e}`);
    });
  } finally {
    disableFusedAdam();
  }
  assert.ok(!fusedAdamActive());
});
