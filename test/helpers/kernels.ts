import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { disableSharedIdentity, enableSharedIdentity } from '../../src/core/kernels/sharedIdentity';

/** max |actual - expected| over max |expected|, after checking the shapes agree. */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  assert.deepEqual(actual.shape, expected.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] / tf.max(tf.abs(expected)).dataSync()[0]);
}

/**
 * f with a kernel off (tfjs ops), then on. The sharing Identity is on with it, as in the worker:
 * it makes a custom gradient's saved inputs free (tfjs's test mode counts copied ones as a leak).
 */
export function opsThenKernel<T>(kernel: { enable(): string | undefined; disable(): void }, f: () => T): { ops: T; kernel: T } {
  const ops = f();
  assert.equal(kernel.enable(), undefined);
  assert.equal(enableSharedIdentity(), undefined);
  try {
    return { ops, kernel: f() };
  } finally {
    kernel.disable();
    disableSharedIdentity();
  }
}
