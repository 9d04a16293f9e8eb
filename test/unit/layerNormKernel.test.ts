import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { layerNormKernels } from '../../src/core/kernels/layerNorm';
import { LayerNorm } from '../../src/core/layers/layerNorm';
import { useWasmBackend } from '../helpers/backend';
import { opsThenKernel, relativeError } from '../helpers/kernels';

// Without dist/ built (npm run build puts the kernels there) the tests are skipped with the reason.
const missing = layerNormKernels.load();
if (missing) console.log(`layer norm kernel tests skipped: ${missing}`);
const options = { skip: missing };

// The posterior transformer's rows ([B, T, 32]), the relational transformer's, and an odd width.
for (const shape of [[4, 9, 32], [6, 128], [5, 7]]) {
  test(`layer norm on the kernel equals the tfjs ops, values and gradients: x [${shape}]`, options, async () => {
    await useWasmBackend();
    const dim = shape[shape.length - 1];
    const norm = new LayerNorm('norm', dim);
    // A gain and bias away from 1 and 0, so that their gradients and their use are both tested.
    norm.gain.assign(tf.tidy(() => tf.randomNormal([dim], 1, 0.5, 'float32', 7)));
    norm.bias.assign(tf.tidy(() => tf.randomNormal([dim], 0, 0.5, 'float32', 8)));
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 3, 2, 'float32', 1);
      const weights = tf.randomNormal(shape, 0, 1, 'float32', 2);
      const run = () => {
        const calls = layerNormKernels.calls;
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(norm.apply(x), weights)) as tf.Scalar);
        const dx = tf.grads((input: tf.Tensor) => tf.sum(tf.mul(norm.apply(input), weights)))([x])[0];
        return { y: norm.apply(x), value, grads, dx, calls: layerNormKernels.calls - calls };
      };
      const { ops, kernel } = opsThenKernel({ enable: () => layerNormKernels.enable(), disable: () => layerNormKernels.disable() }, run);
      assert.equal(ops.calls, 0);
      assert.ok(kernel.calls >= 4, 'forward and backward ran on the kernel');
      assert.ok(relativeError(kernel.y, ops.y) < 1e-5, `y off by ${relativeError(kernel.y, ops.y)}`);
      assert.ok(relativeError(kernel.dx, ops.dx) < 1e-5, `dx off by ${relativeError(kernel.dx, ops.dx)}`);
      for (const variable of [norm.gain, norm.bias]) {
        const error = relativeError(kernel.grads[variable.name], ops.grads[variable.name]);
        assert.ok(error < 1e-5, `${variable.name} gradient off by ${error}`);
      }
    });
    tf.dispose(norm.parameters().map((p) => p.variable));
  });
}
