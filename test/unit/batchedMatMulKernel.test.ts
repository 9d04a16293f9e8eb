import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchedMatMulKernels } from '../../src/core/kernels/batchedMatMul';
import { useWasmBackend } from '../helpers/backend';
import { relativeError } from '../helpers/kernels';

// The kernel comes with the build (npm run build puts it into dist/): without it these tests
// are skipped with the loader's reason, and tf.matMul keeps tfjs's kernel.
const missing = batchedMatMulKernels.load();
if (missing) console.log(`batchedMatMul kernel tests skipped: ${missing}`);
const options = { skip: missing };

/** max |actual - expected| / max |expected|: relative to the tensor's scale, as dot products cancel. */
/** f once on tfjs's BatchMatMul and once on ours, same inputs. */
function bothKernels<T>(f: () => T): { tfjs: T; ours: T } {
  batchedMatMulKernels.disable();
  const tfjs = f();
  assert.equal(batchedMatMulKernels.enable(), undefined);
  try {
    return { tfjs, ours: f() };
  } finally {
    batchedMatMulKernels.disable();
  }
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
  { batch: [5], m: 1, n: 1, k: 1 },
  { batch: [], m: 37, n: 19, k: 70 },
  { batch: [1], m: 9, n: 3, k: 17 },
];

test('tf.matMul on the kernel equals tfjs within 1e-5 for several shapes and every transpose combination', options, async () => {
  await useWasmBackend();
  let seed = 10;
  for (const { batch, m, n, k } of SHAPES) {
    for (const flags of FLAGS) {
      tf.tidy(() => {
        const { a, b } = operands(batch, m, n, k, flags, (seed += 2));
        const { tfjs, ours } = bothKernels(() => tf.matMul(a, b, ...flags));
        const error = relativeError(ours, tfjs);
        assert.ok(error < 1e-5, `[${a.shape}] x [${b.shape}] flags ${flags}: relative error ${error}`);
      });
    }
  }
});

test('gradients on the kernel (tfjs differentiates matMul into transposed matMuls) equal tfjs gradients', options, async () => {
  await useWasmBackend();
  let seed = 100;
  for (const { batch, m, n, k } of [SHAPES[0], SHAPES[3], SHAPES[4]]) {
    for (const flags of FLAGS) {
      tf.tidy(() => {
        const { a, b } = operands(batch, m, n, k, flags, (seed += 3));
        // A weighted sum makes dC a random tensor, so every entry of dA and dB matters.
        const weights = tf.randomNormal([...batch, m, n], 0, 1, 'float32', seed + 2);
        const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ...flags), weights));
        const { tfjs, ours } = bothKernels(() => tf.grads(loss)([a, b]));
        ['dA', 'dB'].forEach((name, i) => {
          const error = relativeError(ours[i], tfjs[i]);
          assert.ok(error < 1e-5, `${name} of [${a.shape}] x [${b.shape}] flags ${flags}: relative error ${error}`);
        });
      });
    }
  }
});

test('broadcast products stay with tfjs and give its results', options, async () => {
  await useWasmBackend();
  tf.tidy(() => {
    const [a, b] = [tf.randomNormal([4, 9, 17], 0, 1, 'float32', 5), tf.randomNormal([1, 17, 3], 0, 1, 'float32', 6)];
    const { tfjs, ours } = bothKernels(() => tf.matMul(a, b));
    assert.ok(relativeError(ours, tfjs) < 1e-6, `[${a.shape}] x [${b.shape}]`);
  });
});

test('a shape mismatch is still tfjs\'s located error; enable and disable are idempotent; no tensor leaks', options, async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  assert.equal(batchedMatMulKernels.enable(), undefined);
  assert.equal(batchedMatMulKernels.enable(), undefined);
  assert.ok(batchedMatMulKernels.enabled());
  try {
    tf.tidy(() => {
      assert.throws(() => tf.matMul(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6])), /inner shapes \(4\) and \(5\)/);
      tf.matMul(tf.ones([4, 3, 5]), tf.ones([4, 5, 2])).dataSync();
    });
  } finally {
    batchedMatMulKernels.disable();
    batchedMatMulKernels.disable();
  }
  assert.ok(!batchedMatMulKernels.enabled());
  assert.equal(tf.memory().numTensors, before);
});
