import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  stridedConvFilterGradient,
  stridedConvInputGradient,
  stridedConvKernels,
} from '../../src/core/kernels/stridedConv';
import { StridedConv2d } from '../../src/core/relational/layers';
import { createRng } from '../../src/core/rng';
import { denseKernels } from '../../src/core/kernels/dense';
import { useWasmBackend } from '../helpers/backend';
import { opsThenKernel, relativeError } from '../helpers/kernels';

// The kernels come with the build (npm run build puts them into dist/): without them these
// tests are skipped with the loader's reason, and the gradients keep the stride-1 convolutions.
const missing = stridedConvKernels.load();
if (missing) console.log(`strided conv kernel tests skipped: ${missing}`);
const options = { skip: missing };

/** Gradients of sum(conv(x) * weights) with respect to x and the filter, with the kernels off, then on. */
function gradientsBothWays(shape: [number, number, number, number], out: number, seed: number) {
  const x = tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor4D;
  const filter = tf.randomNormal([4, 4, shape[3], out], 0, 1, 'float32', seed + 1) as tf.Tensor4D;
  const weights = tf.randomNormal([shape[0], shape[1] / 2, shape[2] / 2, out], 0, 1, 'float32', seed + 2);
  const grads = () => tf.grads((input: tf.Tensor, w: tf.Tensor) => tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]).mul(weights).sum())([x, filter]);
  stridedConvKernels.disable();
  const fallback = grads();
  assert.equal(stridedConvKernels.enable(), undefined);
  try {
    const callsBefore = stridedConvKernels.calls;
    const kernels = grads();
    assert.equal(stridedConvKernels.calls - callsBefore, 2, 'both gradients ran on the kernels');
    return { fallback, kernels };
  } finally {
    stridedConvKernels.disable();
  }
}

// Shapes of the encoder's three layers, plus odd channel counts (the product's row and column
// tails) and more positions than one filter-gradient block (256), and for Winograd more tiles than
// one filter-gradient block (64) on a non-square map.
const CASES: { shape: [number, number, number, number]; out: number }[] = [
  { shape: [3, 32, 32, 1], out: 32 },
  { shape: [2, 16, 16, 32], out: 32 },
  { shape: [5, 8, 8, 32], out: 32 },
  { shape: [33, 8, 16, 8], out: 12 },
  { shape: [2, 6, 10, 3], out: 5 },
  { shape: [1, 2, 2, 7], out: 13 },
];

for (const { shape, out } of CASES) {
  test(`the kernels give the convolution's gradients: x [${shape}], ${out} filters`, options, async () => {
    await useWasmBackend();
    tf.tidy(() => {
      const { fallback, kernels } = gradientsBothWays(shape, out, shape.reduce((a, b) => a + b, out));
      assert.ok(relativeError(kernels[0], fallback[0]) < 1e-5, `input gradient off by ${relativeError(kernels[0], fallback[0])}`);
      assert.ok(relativeError(kernels[1], fallback[1]) < 1e-5, `filter gradient off by ${relativeError(kernels[1], fallback[1])}`);
    });
  });
}

test('the encoder layer trains on the kernels: same gradients, no leaked tensors', options, async () => {
  await useWasmBackend();
  const conv = new StridedConv2d('conv', 4, 8, createRng('strided-kernel'));
  const x = tf.randomNormal([4, 16, 16, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
  const step = () => tf.variableGrads(() => tf.relu(conv.apply(x)).square().mean() as tf.Scalar);
  const before = step();
  assert.equal(stridedConvKernels.enable(), undefined);
  try {
    assert.ok(stridedConvKernels.active());
    const tensors = tf.memory().numTensors;
    const after = step();
    for (const name of Object.keys(before.grads)) assert.ok(relativeError(after.grads[name], before.grads[name]) < 1e-5, name);
    tf.dispose([after.value, ...Object.values(after.grads)]);
    assert.equal(tf.memory().numTensors, tensors);
  } finally {
    stridedConvKernels.disable();
    tf.dispose([before.value, ...Object.values(before.grads), x, ...conv.parameters().map((p) => p.variable)]);
  }
  assert.ok(!stridedConvKernels.active());
});

// The encoder's three layers as conv + bias + ReLU: fused forward and kernel backward (dense.wasm's
// ReLU mask and bias gradient, then this module's) against tfjs's ops with the stride-1 gradients.
// The forward runs as Winograd for [10, 16, 16, 32] (40 tiles of 4 x 4: a full block of 32 and
// part of one) and for a non-square map of 4 channels; the other two take the direct product.
for (const { shape, out, xIsData } of [
  { shape: [6, 32, 32, 1] as [number, number, number, number], out: 32, xIsData: true },
  { shape: [10, 16, 16, 32] as [number, number, number, number], out: 32, xIsData: false },
  { shape: [2, 8, 16, 4] as [number, number, number, number], out: 8, xIsData: false },
  { shape: [3, 8, 8, 5] as [number, number, number, number], out: 7, xIsData: false },
]) {
  test(`relu(conv(x) + bias) on the kernels: values and gradients, x [${shape}], ${out} filters${xIsData ? ', x is data' : ''}`, options, async () => {
    await useWasmBackend();
    const layer = new StridedConv2d('conv', shape[3], out, createRng(9));
    layer.linear.bias!.assign(tf.tidy(() => tf.randomNormal([out], 0, 0.5, 'float32', 4))); // some outputs cut by the ReLU
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
      const weights = tf.randomNormal([shape[0], shape[1] / 2, shape[2] / 2, out], 0, 1, 'float32', 2);
      const run = () => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.applyRelu(x, xIsData), weights)) as tf.Scalar);
        const dx = xIsData ? undefined : tf.grads((input: tf.Tensor) => tf.sum(tf.mul(layer.applyRelu(input as tf.Tensor4D), weights)))([x])[0];
        return { y: layer.applyRelu(x, xIsData), grads, dx };
      };
      const { ops, kernel } = opsThenKernel({ enable: () => denseKernels.enable() ?? stridedConvKernels.enable(), disable: () => (denseKernels.disable(), stridedConvKernels.disable()) }, () => {
        const calls = stridedConvKernels.calls;
        return { ...run(), calls: stridedConvKernels.calls - calls };
      });
      assert.equal(ops.calls, 0);
      assert.ok(kernel.calls >= (xIsData ? 1 : 3), 'the gradients ran on the kernels');
      assert.ok(ops.y.equal(0).any().dataSync()[0], 'the ReLU cuts some outputs');
      assert.ok(relativeError(kernel.y, ops.y) < 1e-5, `y off by ${relativeError(kernel.y, ops.y)}`);
      if (kernel.dx && ops.dx) assert.ok(relativeError(kernel.dx, ops.dx) < 1e-5, `dx off by ${relativeError(kernel.dx, ops.dx)}`);
      for (const variable of [layer.linear.kernel, layer.linear.bias!]) {
        const error = relativeError(kernel.grads[variable.name], ops.grads[variable.name]);
        assert.ok(error < 1e-5, `${variable.name} gradient off by ${error}`);
      }
    });
    tf.dispose(layer.parameters().map((p) => p.variable));
  });
}

// CoRelNet's encoder can receive gradients near float32's underflow (|dy| < 1e-30 on same-diff),
// whose products would be subnormal: the kernels scale such a dy by a power of two and the results
// back (src/kernels/underflow.h). Then its gradients are exactly those of a normal dy, scaled.
test('gradients of a dy near underflow are exact: those of the same dy at normal size, scaled', options, async () => {
  await useWasmBackend();
  assert.equal(stridedConvKernels.enable(), undefined);
  try {
    tf.tidy(() => {
      const tiny = tf.scalar(2 ** -120);
      const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
      const filter = tf.randomNormal([4, 4, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
      const dyTiny = tf.randomNormal([2, 8, 8, 16], 0, 1, 'float32', 3).mul(tiny) as tf.Tensor4D;
      const dy = dyTiny.div(tiny) as tf.Tensor4D; // exact: dyTiny's values, subnormal ones included, at normal size
      const checks: [string, tf.Tensor, tf.Tensor][] = [
        ['input', stridedConvInputGradient(dyTiny, filter), stridedConvInputGradient(dy, filter).mul(tiny)],
        ['filter', stridedConvFilterGradient(x, dyTiny), stridedConvFilterGradient(x, dy).mul(tiny)],
      ];
      for (const [name, actual, expected] of checks) {
        assert.ok(tf.max(tf.abs(expected)).dataSync()[0] > 2 ** -126, `${name} gradient: some results are normal`);
        assert.deepEqual(actual.dataSync(), expected.dataSync(), `${name} gradient`);
      }
    });
  } finally {
    stridedConvKernels.disable();
  }
});
