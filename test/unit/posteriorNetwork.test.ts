import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { AmortizedPosteriorModel, type AmortizedPosteriorOptions } from '../../src/core/posterior/model';

const TOKEN_DIM = 2;
const THETA_DIM = 2;
const options = (setSize: boolean): AmortizedPosteriorOptions => ({
  encoder: 'transformer', family: 'gaussian', dim: 8, layers: 1, heads: 2, feedForward: 8, flowBlocks: 1, flowHidden: 4, setSize,
});

/** Network inputs of data sets with `sizes` points each, padded to `capacity` (tokens + presence flag). */
function inputs(sizes: number[], capacity: number): tf.Tensor3D {
  const rng = createRng(3, 'set-size-points');
  return tf.tensor3d(sizes.map((n) => Array.from({ length: capacity }, (_, i) =>
    i < n ? [...Array.from({ length: TOKEN_DIM }, () => rng.normal()), 1] : [7, 7, 0])));
}

test('setSize: the head reads log(number of points) scaled to [-1, 1] over the trained sizes, padding not counted; without it the head reads the summary only', async () => {
  await useWasmBackend();
  const trained = { contextMin: 4, contextMax: 16 };
  const plain = new AmortizedPosteriorModel(TOKEN_DIM, THETA_DIM, options(false), createRng(0, 'net'), trained);
  const sized = new AmortizedPosteriorModel(TOKEN_DIM, THETA_DIM, options(true), createRng(0, 'net'), trained);
  assert.equal(plain.head.inputs, plain.encoder.outputDim);
  assert.equal(sized.head.inputs, sized.encoder.outputDim + 1);

  // A head that copies its last input (log n, scaled) into the first output and ignores the rest.
  const kernel = tf.buffer([sized.head.inputs, 2 * THETA_DIM]);
  kernel.set(1, sized.head.inputs - 1, 0);
  sized.head.kernel.assign(kernel.toTensor());
  sized.head.bias!.assign(tf.zeros([2 * THETA_DIM]));
  // log 4 -> -1, log 16 -> 1, log 8 -> 0: linear in log n.
  const sizes = [4, 8, 16, 1];
  const expected = sizes.map((n) => (Math.log(n) - Math.log(8)) / Math.log(2));
  const batch = inputs(sizes, 16);
  const output = tf.tidy(() => sized.forward(batch).output.arraySync() as number[][]);
  output.forEach((row, b) => assert.ok(Math.abs(row[0] - expected[b]) < 1e-5, `n = ${sizes[b]}: expected ${expected[b]}, got ${row[0]}`));

  // An emptied data set (the panel lets the user delete every point) stays finite.
  const empty = tf.tidy(() => sized.forward(inputs([0], 4)).output.arraySync() as number[][]);
  assert.ok(empty[0].every(Number.isFinite), `finite output for no points: ${empty[0]}`);
  tf.dispose([batch, ...plain.parameters.map((p) => p.variable), ...sized.parameters.map((p) => p.variable)]);
});
