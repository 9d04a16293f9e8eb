import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  maskedAttention,
  maskedAttentionKernels,
} from '../../src/core/kernels/maskedAttention';
import { disableSharedIdentity, enableSharedIdentity } from '../../src/core/kernels/sharedIdentity';
import { MultiHeadAttention } from '../../src/core/layers/multiHeadAttention';
import { createRng } from '../../src/core/rng';
import { useWasmBackend } from '../helpers/backend';
import { relativeError } from '../helpers/kernels';

// The kernel comes with the build (npm run build puts it into dist/): without it these tests
// are skipped with the loader's reason, and the posterior transformer keeps tfjs's ops.
const missing = maskedAttentionKernels.load();
if (missing) console.log(`masked attention kernel tests skipped: ${missing}`);
const options = { skip: missing };

/** Both kernels the worker turns on together (see maskedAttention.ts on the saved inputs). */
function enableKernels(): void {
  assert.equal(maskedAttentionKernels.enable(), undefined);
  assert.equal(enableSharedIdentity(), undefined);
}

function disableKernels(): void {
  maskedAttentionKernels.disable();
  disableSharedIdentity();
}

/** The op chain the posterior transformer runs without the kernel (src/core/posterior/encoders.ts). */
function reference(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D, heads: number): tf.Tensor {
  const [batch, queries, width] = q.shape;
  const keys = k.shape[1];
  const split = (t: tf.Tensor, count: number) => tf.transpose(tf.reshape(t, [batch, count, heads, width / heads]), [0, 2, 1, 3]);
  const padding = tf.reshape(tf.mul(tf.sub(1, keyMask), -1e9), [batch, 1, 1, keys]);
  const scores = tf.add(tf.matMul(split(q, queries), split(k, keys), false, true), padding);
  return tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), split(v, keys)), [0, 2, 1, 3]), [batch, queries, width]);
}

/** A mask [B, T] with `valid[b]` leading ones per row (the data sets' padding is at the end). */
function leadingMask(valid: number[], keys: number): tf.Tensor2D {
  return tf.tensor2d(valid.flatMap((n) => Array.from({ length: keys }, (_, j) => (j < n ? 1 : 0))), [valid.length, keys]);
}

// The posterior transformer's shapes (every token and the CLS row alone), odd sizes for the
// kernel's tails (head width 3, keys not a multiple of 4), and a row with no valid key.
const CASES = [
  { name: 'posterior layer, 4 heads of 8', batch: 3, queries: 20, keys: 20, heads: 4, headDim: 8, valid: [20, 13, 1] },
  { name: 'CLS row only', batch: 2, queries: 1, keys: 17, heads: 4, headDim: 8, valid: [17, 5] },
  { name: 'odd head width and key count', batch: 2, queries: 7, keys: 11, heads: 3, headDim: 3, valid: [11, 6] },
  { name: 'a data set with no valid key', batch: 2, queries: 5, keys: 6, heads: 2, headDim: 4, valid: [6, 0] },
];

for (const { name, batch, queries, keys, heads, headDim, valid } of CASES) {
  test(`masked attention on the kernel equals the op chain, values and gradients: ${name}`, options, async () => {
    await useWasmBackend();
    enableKernels();
    try {
      tf.tidy(() => {
        const width = heads * headDim;
        const q = tf.randomNormal([batch, queries, width], 0, 1, 'float32', 1) as tf.Tensor3D;
        const k = tf.randomNormal([batch, keys, width], 0, 1, 'float32', 2) as tf.Tensor3D;
        const v = tf.randomNormal([batch, keys, width], 0, 1, 'float32', 3) as tf.Tensor3D;
        const mask = leadingMask(valid, keys);
        const weights = tf.randomNormal([batch, queries, width], 0, 1, 'float32', 4);
        const loss = (f: typeof reference) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.mul(f(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, mask, heads), weights));
        const calls = maskedAttentionKernels.calls;
        const ours = tf.grads(loss(maskedAttention))([q, k, v]);
        assert.equal(maskedAttentionKernels.calls - calls, 2, 'forward and backward ran on the kernel');
        const expected = tf.grads(loss(reference))([q, k, v]);
        const value = relativeError(maskedAttention(q, k, v, mask, heads), reference(q, k, v, mask, heads));
        assert.ok(value < 1e-5, `output off by ${value}`);
        ['dq', 'dk', 'dv'].forEach((gradient, i) => {
          const error = relativeError(ours[i], expected[i]);
          assert.ok(error < 1e-5, `${gradient} off by ${error}`);
        });
      });
    } finally {
      disableKernels();
    }
  });
}

test('masked attention on the kernel leaks no tensor, in training and in inference', options, async () => {
  await useWasmBackend();
  enableKernels();
  const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal([2, 9, 8], 0, 1, 'float32', seed) as tf.Tensor3D);
  const mask = leadingMask([9, 4], 9);
  try {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      maskedAttention(q, k, v, mask, 2);
    });
    const gradients = tf.grads((a: tf.Tensor) => tf.sum(maskedAttention(a as tf.Tensor3D, k, v, mask, 2)))([q]);
    tf.dispose(gradients);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    disableKernels();
    tf.dispose([q, k, v, mask]);
  }
});

// The multi-head attention model trains on the kernel (a training forward needs no maps): the
// Contextual Retrieval layer (diagonal masked, token projection concatenated) and the relational
// transformer's (neither), against the model's own op chain.
for (const { maskDiagonal, concat } of [{ maskDiagonal: true, concat: true }, { maskDiagonal: false, concat: false }]) {
  test(`multi-head attention without maps on the kernel equals its op chain, values and gradients (maskDiagonal ${maskDiagonal}, concat ${concat})`, options, async () => {
    await useWasmBackend();
    const layer = new MultiHeadAttention('mha', { dim: 16, heads: 2, concat, maskDiagonal }, createRng(5));
    tf.tidy(() => {
      const x = tf.randomNormal([3, 7, 16], 0, 1, 'float32', 1) as tf.Tensor3D;
      const weights = tf.randomNormal([3, 7, 16], 0, 1, 'float32', 2);
      const run = (maps: boolean) => {
        const calls = maskedAttentionKernels.calls;
        const loss = () => tf.sum(tf.mul(layer.apply(x, { maps }).output, weights)) as tf.Scalar;
        const { value, grads } = tf.variableGrads(loss);
        return { value: value.dataSync()[0], grads, calls: maskedAttentionKernels.calls - calls };
      };
      const ops = run(true);
      enableKernels();
      try {
        const kernel = run(false);
        assert.equal(kernel.calls, 2, 'forward and backward ran on the kernel');
        assert.ok(Math.abs(kernel.value - ops.value) < 1e-4 * Math.abs(ops.value), `loss ${kernel.value} against ${ops.value}`);
        for (const { name, variable } of layer.parameters()) {
          const [actual, expected] = [kernel.grads[variable.name], ops.grads[variable.name]];
          const difference = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
          const scale = tf.max(tf.abs(expected)).dataSync()[0];
          // The key bias's gradient is 0 up to rounding (softmax ignores a shift of a row's scores).
          assert.ok(difference <= 1e-5 * scale + 1e-6, `${name} gradient off by ${difference} (largest ${scale})`);
        }
        assert.ok(layer.apply(x, { maps: true }).attention, 'asked for, the maps are still there');
      } finally {
        disableKernels();
      }
    });
    tf.dispose(layer.parameters().map((p) => p.variable));
  });
}
