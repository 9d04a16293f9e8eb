/**
 * The diffusion sampler on Model Lab's dense kernel (src/core/kernels/dense.ts): each Linear
 * followed by GELU, and the GELU after the state + time embedding, run as GELU kernels, so a
 * training step's forward and backward run no Erf or Exp; its drift and every parameter's gradient
 * equal those of the tfjs ops, and the same weights and inputs give the same numbers twice.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denseKernels } from '../../src/core/kernels/dense';
import { disableSharedIdentity, enableSharedIdentity } from '../../src/core/kernels/sharedIdentity';
import { createRng } from '../../src/core/rng';
import { DiffusionSampler } from '../../src/core/sampler/sampler';
import { useWasmBackend } from '../helpers/backend';
import { opsThenKernel, relativeError } from '../helpers/kernels';

const missing = denseKernels.load();
if (missing) console.log(`sampler kernel tests skipped: ${missing}`);

const DIMENSION = 2;
const STEPS = 5;

/** A sampler whose zero-initialised output layers are given random weights, so that every layer gets a gradient. */
function samplerWithWeights(langevin: boolean): DiffusionSampler {
  const sampler = new DiffusionSampler(DIMENSION, { steps: STEPS, tScale: 5, hidden: 16, harmonics: 8, langevin }, 100, createRng(4, 'init'));
  tf.tidy(() => {
    sampler.parameters
      .filter(({ name }) => name === 'joint.5.kernel' || name === 'langevin.6.kernel')
      .forEach(({ variable }, i) => variable.assign(tf.randomNormal(variable.shape, 0, 0.5, 'float32', 10 + i)));
  });
  return sampler;
}

/** Rows of 3 trajectories on the time grid 0, 1/5, ...: (x, t[, grad log R]). */
function trajectoryInputs(sampler: DiffusionSampler): tf.Tensor3D {
  const n = 3;
  const x = tf.randomNormal([n, STEPS, DIMENSION], 0, 2, 'float32', 1);
  const t = tf.tile(tf.reshape(tf.linspace(0, 1 - 1 / STEPS, STEPS), [1, STEPS, 1]), [n, 1, 1]);
  const columns = sampler.langevin ? [x, t, tf.randomNormal([n, STEPS, DIMENSION], 0, 30, 'float32', 2)] : [x, t];
  return tf.concat(columns, 2) as tf.Tensor3D;
}

for (const langevin of [false, true]) {
  test(`the diffusion sampler's drift and gradients on the GELU kernels equal the tfjs ops${langevin ? ' (Langevin parametrisation)' : ''}`, { skip: missing }, async () => {
    await useWasmBackend();
    const sampler = samplerWithWeights(langevin);
    try {
      const inputs = trajectoryInputs(sampler);
      const weights = tf.randomNormal([3 * STEPS, DIMENSION], 0, 1, 'float32', 3);
      const step = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(sampler.forward(inputs).output, weights)) as tf.Scalar);
          return { drift: sampler.forward(inputs).output, value, grads };
        });
      const kernelNames = async () => (await tf.profile(() => tf.dispose(step()))).kernelNames;
      const opsKernels = await kernelNames();
      const { ops, kernel } = opsThenKernel({ enable: () => denseKernels.enable(), disable: () => denseKernels.disable() }, () => {
        const calls = denseKernels.calls;
        const [first, second] = [step(), step()];
        return { first, second, calls: denseKernels.calls - calls };
      });
      assert.ok(opsKernels.includes('Erf'), 'the ops compute GELU with Erf');
      assert.equal(denseKernels.enable(), undefined);
      assert.equal(enableSharedIdentity(), undefined); // as in the worker (test/helpers/kernels.ts)
      try {
        const onKernels = await kernelNames();
        assert.ok(!onKernels.includes('Erf') && !onKernels.includes('Exp'), `no Erf or Exp on the kernels: ${onKernels.join(', ')}`);
      } finally {
        denseKernels.disable();
        disableSharedIdentity();
      }
      assert.ok(kernel.calls > 0 && ops.calls === 0);
      const error = relativeError(kernel.first.drift, ops.first.drift);
      assert.ok(error < 1e-6, `drift off by ${error}`);
      for (const { name, variable } of sampler.parameters) {
        if (name === 'logZ') continue; // not in the drift
        const gradientError = relativeError(kernel.first.grads[variable.name], ops.first.grads[variable.name]);
        assert.ok(gradientError < 1e-5, `${name} gradient off by ${gradientError}`);
      }
      // Same weights and inputs, same numbers, to the last bit.
      assert.deepEqual(kernel.second.drift.dataSync(), kernel.first.drift.dataSync());
      for (const key of Object.keys(kernel.first.grads)) assert.deepEqual(kernel.second.grads[key].dataSync(), kernel.first.grads[key].dataSync(), key);
      tf.dispose([inputs, weights, ops.first, ops.second, kernel.first, kernel.second] as unknown as tf.TensorContainer);
    } finally {
      tf.dispose(sampler.parameters.map((p) => p.variable));
    }
  });
}
