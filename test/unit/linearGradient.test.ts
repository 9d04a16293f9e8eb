import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Linear } from '../../src/core/layers/linear';
import { createRng } from '../../src/core/rng';
import { useWasmBackend } from '../helpers/backend';

type Matrix = number[][];
const matmul = (a: Matrix, b: Matrix) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const transpose = (m: Matrix) => m[0].map((_, j) => m.map((row) => row[j]));
const random = (rng: ReturnType<typeof createRng>, rows: number, cols: number) =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));

function assertClose(actual: Matrix, expected: Matrix, what: string) {
  actual.forEach((row, i) =>
    row.forEach((v, j) => assert.ok(Math.abs(v - expected[i][j]) < 1e-4, `${what}[${i}][${j}]: ${v} vs ${expected[i][j]}`)),
  );
}

test('the gradient of a 2-D matMul (replaced by linear.ts) is dA = W B^T, dB = A^T W', async () => {
  await useWasmBackend();
  const rng = createRng('matmul-grad');
  const [a, b, w] = [random(rng, 7, 5), random(rng, 5, 3), random(rng, 7, 3)];
  const weights = tf.tensor2d(w);
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), weights));
  const [da, db] = tf.grads(f)([tf.tensor2d(a), tf.tensor2d(b)]);
  assertClose((await da.array()) as Matrix, matmul(w, transpose(b)), 'dA');
  assertClose((await db.array()) as Matrix, matmul(transpose(a), w), 'dB');
});

test('products with transpose flags keep tfjs gradients', async () => {
  await useWasmBackend();
  const rng = createRng('matmul-grad-flags');
  const [a, b, w] = [random(rng, 5, 7), random(rng, 3, 5), random(rng, 7, 3)];
  const weights = tf.tensor2d(w);
  // y = A^T B^T: dA = B^T W^T, dB = W^T A^T.
  const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, true, true), weights));
  const [da, db] = tf.grads(f)([tf.tensor2d(a), tf.tensor2d(b)]);
  assertClose((await da.array()) as Matrix, matmul(transpose(b), transpose(w)), 'dA');
  assertClose((await db.array()) as Matrix, matmul(transpose(w), transpose(a)), 'dB');
});

test('a Linear layer on 3-D input gets the gradients written out by hand', async () => {
  await useWasmBackend();
  const layer = new Linear('layer', 4, 3, createRng('linear-grad'));
  const rng = createRng('linear-grad-x');
  const x = random(rng, 6, 4);
  const w = random(rng, 6, 3);
  const objective = () => tf.sum(tf.mul(layer.apply(tf.tensor3d([x.slice(0, 3), x.slice(3)])).reshape([6, 3]), tf.tensor2d(w))) as tf.Scalar;
  const { grads } = tf.variableGrads(objective, [layer.kernel, layer.bias!]);
  assertClose((await grads[layer.kernel.name].array()) as Matrix, matmul(transpose(x), w), 'kernel');
  const biasGrad = (await grads[layer.bias!.name].array()) as number[];
  assertClose([biasGrad], [w[0].map((_, j) => w.reduce((s, row) => s + row[j], 0))], 'bias');
  tf.dispose(layer.parameters().map((p) => p.variable));
});
