import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { denseKernels } from '../../src/core/kernels/dense';
import { Linear } from '../../src/core/layers/linear';
import { createRng } from '../../src/core/rng';
import { disableSharedIdentity, enableSharedIdentity } from '../../src/core/kernels/sharedIdentity';
import { useWasmBackend } from '../helpers/backend';
import { opsThenKernel, relativeError } from '../helpers/kernels';

// Without dist/ built (npm run build puts the kernels there) the tests are skipped with the reason.
const missing = denseKernels.load();
if (missing) console.log(`dense kernel tests skipped: ${missing}`);
const options = { skip: missing };

// The multi-head attention model's layers ([B, T, 64] -> 64), CoRelNet's fc1 (512 -> 256), and
// sizes that leave remainders in every blocked loop (rows of 4, columns of 8, vectors of 4).
const CASES: { shape: number[]; outputs: number }[] = [
  { shape: [8, 10, 64], outputs: 64 },
  { shape: [6, 512], outputs: 256 },
  { shape: [7, 13], outputs: 11 },
];

for (const { shape, outputs } of CASES) {
  for (const relu of [false, true]) {
    const name = `${relu ? 'relu(x w + b)' : 'x w + b'}, x [${shape}] -> ${outputs}`;
    test(`dense layer on the kernel equals the tfjs ops, values and gradients: ${name}`, options, async () => {
      await useWasmBackend();
      const inputs = shape[shape.length - 1];
      const layer = new Linear('layer', inputs, outputs, createRng(3));
      tf.tidy(() => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
        const weights = tf.randomNormal([...shape.slice(0, -1), outputs], 0, 1, 'float32', 2);
        const apply = (input: tf.Tensor) => (relu ? layer.applyRelu(input) : layer.apply(input));
        const loss = (input: tf.Tensor) => tf.sum(tf.mul(apply(input), weights)) as tf.Scalar;
        const run = () => {
          const calls = denseKernels.calls;
          const { grads } = tf.variableGrads(() => loss(x));
          const dx = tf.grads(loss)([x])[0];
          return { y: apply(x), grads, dx, calls: denseKernels.calls - calls };
        };
        const { ops, kernel } = opsThenKernel({ enable: () => denseKernels.enable(), disable: () => denseKernels.disable() }, run);
        assert.equal(ops.calls, 0);
        assert.equal(kernel.calls, 5, 'forward (3) and backward (2) ran on the kernel');
        if (relu) assert.ok(ops.y.less(0.0001).any().dataSync()[0], 'some outputs are cut by the ReLU');
        assert.ok(relativeError(kernel.y, ops.y) < 1e-6, `y off by ${relativeError(kernel.y, ops.y)}`);
        assert.ok(relativeError(kernel.dx, ops.dx) < 1e-6, `dx off by ${relativeError(kernel.dx, ops.dx)}`);
        for (const variable of [layer.kernel, layer.bias!]) {
          const error = relativeError(kernel.grads[variable.name], ops.grads[variable.name]);
          assert.ok(error < 1e-5, `${variable.name} gradient off by ${error}`);
        }
      });
      tf.dispose(layer.parameters().map((p) => p.variable));
    });
  }
}

// Gradients near float32's underflow (CoRelNet's encoder on same-diff) would make the backward's
// products subnormal: the kernel scales such a dy by a power of two and its results back
// (src/kernels/underflow.h). Then its gradients are exactly those of a normal dy, scaled.
for (const relu of [false, true]) {
  test(`dense layer gradients of a dy near underflow are those of the same dy at normal size, scaled${relu ? ' (ReLU)' : ''}`, options, async () => {
    await useWasmBackend();
    const layer = new Linear('layer', 24, 16, createRng(5));
    assert.equal(denseKernels.enable(), undefined);
    assert.equal(enableSharedIdentity(), undefined); // as in the worker (test/helpers/kernels.ts)
    try {
      tf.tidy(() => {
        const tiny = tf.scalar(2 ** -120);
        const x = tf.randomNormal([9, 24], 0, 1, 'float32', 1);
        const upstreamTiny = tf.randomNormal([9, 16], 0, 1, 'float32', 2).mul(tiny);
        const upstream = upstreamTiny.div(tiny); // exact: the same values at normal size
        const gradients = (dy: tf.Tensor) => {
          const loss = (input: tf.Tensor) => tf.sum(tf.mul(relu ? layer.applyRelu(input) : layer.apply(input), dy)) as tf.Scalar;
          const { grads } = tf.variableGrads(() => loss(x));
          return [tf.grads(loss)([x])[0], grads[layer.kernel.name], grads[layer.bias!.name]];
        };
        const actual = gradients(upstreamTiny);
        const expected = gradients(upstream).map((g) => g.mul(tiny));
        for (const [i, name] of ['dx', 'dw', 'dbias'].entries()) {
          assert.ok(tf.max(tf.abs(expected[i])).dataSync()[0] > 2 ** -126, `${name}: some results are normal`);
          assert.deepEqual(actual[i].dataSync(), expected[i].dataSync(), name);
        }
      });
    } finally {
      denseKernels.disable();
      disableSharedIdentity();
      tf.dispose(layer.parameters().map((p) => p.variable));
    }
  });
}
