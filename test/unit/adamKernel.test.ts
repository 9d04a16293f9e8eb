import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { adamKernels } from '../../src/core/kernels/adam';
import { createOptimizer } from '../../src/core/optimizers';
import type { Parameter } from '../../src/core/registry';
import type { TrainingSpec } from '../../src/core/spec/types';
import { useWasmBackend } from '../helpers/backend';

// Without dist/ built (npm run build puts the kernels there) the tests are skipped with the reason.
const missing = adamKernels.load();
if (missing) console.log(`Adam kernel tests skipped: ${missing}`);
const options = { skip: missing };

const training = (schedule: 'constant' | 'cosine'): TrainingSpec =>
  ({ steps: 4, batchSize: 1, learningRate: 3e-3, optimizer: 'adam', learningRateSchedule: schedule, logEvery: 1, evalEvery: 1, evalBatches: 1, checkpointEvery: 1, keepCheckpoints: 1 }) as TrainingSpec;

// A matrix, a vector shorter than one SIMD vector, and a size with a scalar tail.
const SHAPES = [[16, 12], [3], [5, 7]];

/** Parameters and moments after `steps` Adam steps on fixed random gradients. */
function train(schedule: 'constant' | 'cosine', steps: number): Float32Array[] {
  const parameters: Parameter[] = SHAPES.map((shape, i) => ({ name: `p${i}`, variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 11 + i)) }));
  const optimizer = createOptimizer(training(schedule), parameters);
  for (let step = 0; step < steps; step++) {
    // Gradients of mixed scale, some exactly zero, as real ones are.
    tf.tidy(() => optimizer.step(SHAPES.map((shape, i) => tf.relu(tf.randomNormal(shape, 0, 10 ** (i - 1), 'float32', 100 * step + i + 1)))));
  }
  const values = [...parameters.map((p) => p.variable), ...optimizer.state().tensors.map((t) => t.tensor)].map((t) => t.dataSync() as Float32Array);
  parameters.forEach((p) => p.variable.dispose());
  return values;
}

for (const schedule of ['constant', 'cosine'] as const) {
  test(`Adam on the kernel gives the tfjs ops' bits, parameters and moments (${schedule} schedule)`, options, async () => {
    await useWasmBackend();
    const ops = train(schedule, 4);
    assert.equal(adamKernels.enable(), undefined);
    try {
      const before = adamKernels.calls;
      const kernel = train(schedule, 4);
      assert.equal(adamKernels.calls - before, 4 * SHAPES.length);
      kernel.forEach((values, i) => assert.deepEqual(values, ops[i], `tensor ${i}`));
    } finally {
      adamKernels.disable();
    }
  });
}

test('Adam on the kernel frees what it replaces: no tensor leak over steps', options, async () => {
  await useWasmBackend();
  assert.equal(adamKernels.enable(), undefined);
  try {
    const parameters: Parameter[] = [{ name: 'w', variable: tf.variable(tf.ones([8, 8])) }];
    const optimizer = createOptimizer(training('constant'), parameters);
    const step = () => tf.tidy(() => optimizer.step([tf.fill([8, 8], 0.5)]));
    step();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    assert.equal(tf.memory().numTensors, tensors);
    parameters[0].variable.dispose();
  } finally {
    adamKernels.disable();
  }
});
