import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchedMatMul, batchedMatMulForward, loadBatchedMatMulKernel } from '../../src/core/kernels/batchedMatMul';
import { useWasmBackend } from '../helpers/backend';

// The kernel is optional (built only where clang and lld are installed): without it these tests
// are skipped with the loader's reason, and the product keeps tf.matMul.
const missing = loadBatchedMatMulKernel();
if (missing) console.log(`batchedMatMul kernel tests skipped: ${missing}`);
const options = { skip: missing };

/** max |actual - expected| / max |expected|: relative to the tensor's scale, as dot products cancel. */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  assert.deepEqual(actual.shape, expected.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0]);
}

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

/** [batch..., m, k] and [batch..., k, n] laid out as the flags say. */
function operands(batch: number[], m: number, n: number, k: number, [ta, tb]: [boolean, boolean], seed: number) {
  const a = tf.randomNormal([...batch, ...(ta ? [k, m] : [m, k])], 0, 1, 'float32', seed);
  const b = tf.randomNormal([...batch, ...(tb ? [n, k] : [k, n])], 0, 1, 'float32', seed + 1);
  return { a, b };
}

// Odd sizes exercise the kernel's row (4) and column (8, 4, 1) tails.
const SHAPES: { batch: number[]; m: number; n: number; k: number }[] = [
  { batch: [2, 4], m: 128, n: 128, k: 8 },
  { batch: [2, 4], m: 128, n: 8, k: 128 },
  { batch: [16, 2], m: 10, n: 10, k: 32 },
  { batch: [16, 2], m: 10, n: 32, k: 10 },
  { batch: [3], m: 7, n: 13, k: 5 },
  { batch: [], m: 9, n: 3, k: 17 },
  { batch: [5], m: 1, n: 1, k: 1 },
];

test('the kernel equals tf.matMul within 1e-5 for several shapes and every transpose combination', options, async () => {
  await useWasmBackend();
  let seed = 10;
  for (const { batch, m, n, k } of SHAPES) {
    for (const flags of FLAGS) {
      tf.tidy(() => {
        const { a, b } = operands(batch, m, n, k, flags, (seed += 2));
        const error = relativeError(batchedMatMulForward(a, b, ...flags), tf.matMul(a, b, ...flags));
        assert.ok(error < 1e-5, `[${a.shape}] x [${b.shape}] flags ${flags}: relative error ${error}`);
      });
    }
  }
});

test('the kernel reads its inputs through dataSync on backends other than wasm', options, async () => {
  await tf.setBackend('cpu');
  try {
    tf.tidy(() => {
      const { a, b } = operands([3, 2], 10, 32, 10, [false, true], 3);
      assert.ok(relativeError(batchedMatMulForward(a, b, false, true), tf.matMul(a, b, false, true)) < 1e-5);
    });
  } finally {
    await useWasmBackend();
  }
});

test('gradients through the kernel equal tf.matMul gradients for every transpose combination', options, async () => {
  await useWasmBackend();
  let seed = 100;
  for (const { batch, m, n, k } of [SHAPES[0], SHAPES[3], SHAPES[4]]) {
    for (const flags of FLAGS) {
      tf.tidy(() => {
        const { a, b } = operands(batch, m, n, k, flags, (seed += 3));
        // A weighted sum makes dC a random tensor, so every entry of dA and dB matters.
        const weights = tf.randomNormal([...batch, m, n], 0, 1, 'float32', seed + 2);
        const loss = (product: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(product(x, y), weights));
        const ours = tf.grads(loss((x, y) => batchedMatMul(x, y, ...flags)))([a, b]);
        const reference = tf.grads(loss((x, y) => tf.matMul(x, y, ...flags)))([a, b]);
        ['dA', 'dB'].forEach((name, i) => {
          const error = relativeError(ours[i], reference[i]);
          assert.ok(error < 1e-5, `${name} of [${a.shape}] x [${b.shape}] flags ${flags}: relative error ${error}`);
        });
      });
    }
  }
});

test('mismatched shapes are clear errors', options, async () => {
  await useWasmBackend();
  tf.tidy(() => {
    assert.throws(() => batchedMatMulForward(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6])), /inner dimensions differ: \[2,3,4\] x \[2,5,6\]/);
    assert.throws(() => batchedMatMulForward(tf.zeros([2, 3, 4]), tf.zeros([3, 4, 6])), /batch dimensions differ/);
    assert.throws(() => batchedMatMulForward(tf.zeros([3, 4]), tf.zeros([1, 4, 6])), /same rank/);
  });
});
