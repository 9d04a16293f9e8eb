import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { denseKernels, gelu, type Activation } from '../../src/core/kernels/dense';
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

const APPLY: Record<Activation, (layer: Linear, x: tf.Tensor) => tf.Tensor> = {
  identity: (layer, x) => layer.apply(x),
  relu: (layer, x) => layer.applyRelu(x),
  gelu: (layer, x) => layer.applyGelu(x),
};

for (const { shape, outputs } of CASES) {
  for (const activation of ['identity', 'relu', 'gelu'] as const) {
    const name = `${activation === 'identity' ? 'x w + b' : `${activation}(x w + b)`}, x [${shape}] -> ${outputs}`;
    test(`dense layer on the kernel equals the tfjs ops, values and gradients: ${name}`, options, async () => {
      await useWasmBackend();
      const inputs = shape[shape.length - 1];
      const layer = new Linear('layer', inputs, outputs, createRng(3));
      tf.tidy(() => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
        const weights = tf.randomNormal([...shape.slice(0, -1), outputs], 0, 1, 'float32', 2);
        const apply = (input: tf.Tensor) => APPLY[activation](layer, input);
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
        if (activation === 'relu') assert.ok(ops.y.less(0.0001).any().dataSync()[0], 'some outputs are cut by the ReLU');
        if (activation === 'gelu') assert.ok(ops.y.less(-0.1).any().dataSync()[0], "some outputs sit on GELU's negative dip");
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
for (const activation of ['identity', 'relu', 'gelu'] as const) {
  test(`dense layer gradients of a dy near underflow are those of the same dy at normal size, scaled${activation === 'identity' ? '' : ` (${activation})`}`, options, async () => {
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
          const loss = (input: tf.Tensor) => tf.sum(tf.mul(APPLY[activation](layer, input), dy)) as tf.Scalar;
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

// Phi, the standard normal CDF, in double precision, as the reference for the kernel's GELU:
// erf's Taylor series up to |x| = 2.5 (terms below 500: about 1e-13 absolute), then erfc's
// continued fraction (relative accuracy, for Phi's far tail).
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  let upper: number; // Phi(-|z|) = erfc(x) / 2
  if (x <= 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    upper = (1 - (2 / Math.sqrt(Math.PI)) * sum) / 2;
  } else {
    let fraction = x;
    for (let n = 200; n >= 1; n--) fraction = x + n / 2 / fraction;
    upper = Math.exp(-x * x) / Math.sqrt(Math.PI) / fraction / 2;
  }
  return z >= 0 ? 1 - upper : upper;
}

// The kernel's GELU has no libm under it (src/kernels/gelu.h computes Phi and exp itself): against
// double precision on 240,001 points of [-12, 12], the value (y) and the gradient are within
// float32 rounding (tfjs's ops, whose erf is Abramowitz and Stegun 7.1.26, are printed beside).
test('GELU on the kernel equals the exact erf form to float32 precision, values and gradients', options, async () => {
  await useWasmBackend();
  const points = Float32Array.from({ length: 240001 }, (_, i) => -12 + i / 10000);
  const exact = Array.from(points, (z) => {
    const cdf = normalCdf(z);
    return { y: z * cdf, slope: cdf + (z * Math.exp((-z * z) / 2)) / Math.sqrt(2 * Math.PI) };
  });
  const geluAndSlope = () =>
    tf.tidy(() => {
      const x = tf.tensor1d(points);
      const calls = denseKernels.calls;
      const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => tf.sum(gelu(input)) as tf.Scalar)(x);
      return { y: gelu(x).dataSync() as Float32Array, slope: grad.dataSync() as Float32Array, sum: value.dataSync()[0], calls: denseKernels.calls - calls };
    });
  const { ops, kernel } = opsThenKernel({ enable: () => denseKernels.enable(), disable: () => denseKernels.disable() }, geluAndSlope);
  assert.equal(ops.calls, 0);
  assert.equal(kernel.calls, 2, 'both forwards ran on the kernel (the backward is one multiply by its slope)');
  const worst = (values: Float32Array, of: (e: (typeof exact)[number]) => number) => {
    let largest = 0;
    values.forEach((value, i) => {
      largest = Math.max(largest, Math.abs(value - of(exact[i])));
    });
    return largest;
  };
  const errors = { kernelY: worst(kernel.y, (e) => e.y), kernelSlope: worst(kernel.slope, (e) => e.slope), opsY: worst(ops.y, (e) => e.y), opsSlope: worst(ops.slope, (e) => e.slope) };
  // Rounding the exact values to float32 alone errs by up to half an ulp, 4.8e-7 for y in [8, 12]
  // and 6e-8 for the slope (at most about 1.13); measured: 3.8e-7 and 1.7e-7.
  assert.ok(errors.kernelY <= 5e-7, `gelu off by ${errors.kernelY} (tfjs's ops: ${errors.opsY})`);
  assert.ok(errors.kernelSlope <= 2.5e-7, `gelu' off by ${errors.kernelSlope} (tfjs's ops: ${errors.opsSlope})`);
  console.log(`GELU against double precision, largest absolute error: kernel y ${errors.kernelY.toExponential(2)}, slope ${errors.kernelSlope.toExponential(2)}; tfjs ops y ${errors.opsY.toExponential(2)}, slope ${errors.opsSlope.toExponential(2)}`);
});
