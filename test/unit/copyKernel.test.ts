import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { copyKernels } from '../../src/core/kernels/copy';
import { useWasmBackend } from '../helpers/backend';

// Without dist/ built (npm run build puts the kernels there) the tests are skipped with the reason.
const missing = copyKernels.load();
if (missing) console.log(`copy kernel tests skipped: ${missing}`);
const options = { skip: missing };

/** Values (and shapes) of f's tensors with tfjs's kernels, then with ours; asserts ours ran. */
function bothWays(f: () => tf.Tensor[]): { ops: tf.Tensor[]; kernel: tf.Tensor[] } {
  const ops = f();
  assert.equal(copyKernels.enable(), undefined);
  try {
    const calls = copyKernels.calls;
    const kernel = f();
    assert.ok(copyKernels.calls > calls, 'the kernel ran');
    return { ops, kernel };
  } finally {
    copyKernels.disable();
  }
}

function assertSame(actual: tf.Tensor[], expected: tf.Tensor[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((t, i) => {
    assert.deepEqual(t.shape, expected[i].shape, `shape of output ${i}`);
    assert.equal(t.dtype, expected[i].dtype);
    assert.deepEqual(Array.from(t.dataSync()), Array.from(expected[i].dataSync()), `values of output ${i}`);
  });
}

const counting = (shape: number[], dtype: 'float32' | 'int32' = 'float32') => tf.range(0, shape.reduce((p, d) => p * d, 1), 1, dtype).reshape(shape);

// Every kind of box: the attention models' split ([256, 10, 96] into 64 and 32) in small, boxes
// partial on an outer axis (a JavaScript loop over blocks), on the first axis only (one
// contiguous run), everything, nothing, and int32 values.
const SLICES: { shape: number[]; begin: number[]; size: number[]; dtype?: 'int32' }[] = [
  { shape: [4, 3, 9], begin: [0, 0, 6], size: [4, 3, 3] },
  { shape: [4, 3, 9], begin: [1, 1, 2], size: [2, 2, 5] },
  { shape: [5, 4, 3, 2], begin: [1, 0, 1, 0], size: [3, 4, 2, 2] },
  { shape: [5, 4, 3, 2], begin: [0, 2, 0, 1], size: [-1, 1, -1, 1] },
  { shape: [6, 7], begin: [2, 0], size: [3, 7] },
  { shape: [6, 7], begin: [0, 0], size: [6, 7] },
  { shape: [6, 7], begin: [1, 3], size: [0, 2] },
  { shape: [11], begin: [3], size: [5], dtype: 'int32' },
];

for (const { shape, begin, size, dtype } of SLICES) {
  test(`Slice on the kernel equals tfjs's: [${shape}] from [${begin}] size [${size}]${dtype ? ` ${dtype}` : ''}`, options, async () => {
    await useWasmBackend();
    const x = counting(shape, dtype);
    const { ops, kernel } = bothWays(() => [tf.slice(x, begin, size)]);
    assertSame(kernel, ops);
    tf.dispose([x, ...ops, ...kernel]);
  });
}

test("SplitV and Concat on the kernel equal tfjs's, on every axis, and as each other's gradient", options, async () => {
  await useWasmBackend();
  for (const axis of [0, 1, 2, -1]) {
    tf.tidy(() => {
      const a = counting([4, 3, 6]);
      const b = tf.mul(counting([4, 3, 6]), -1);
      const run = () => {
        const joined = tf.concat([a, b], axis);
        const pieces = tf.split(joined, [1, 2, joined.shape[(axis + 3) % 3] - 3], axis);
        // d/da sum(concat(a, b) * w) = w's part for a: the gradient of concat is a split.
        const w = counting(joined.shape);
        const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], axis), w)))([a, b]);
        return [joined, ...pieces, da, db];
      };
      const { ops, kernel } = bothWays(run);
      assertSame(kernel, ops);
    });
  }
});

test('Concat on the kernel leaves empty inputs out and other dtypes and bad shapes to tfjs', options, async () => {
  await useWasmBackend();
  tf.tidy(() => {
    const { ops, kernel } = bothWays(() => [
      tf.concat([counting([2, 3]), tf.zeros([2, 0]), counting([2, 2])], 1),
      tf.concat([counting([2, 3], 'int32'), counting([1, 3], 'int32')], 0),
      tf.concat([tf.tensor1d([1, 0], 'bool'), tf.tensor1d([1], 'bool')]),
    ]);
    assertSame(kernel, ops);
    assert.equal(copyKernels.enable(), undefined);
    try {
      assert.throws(() => tf.concat([tf.zeros([2, 3]), tf.zeros([3, 3])], 1), /shape/i);
    } finally {
      copyKernels.disable();
    }
  });
});
