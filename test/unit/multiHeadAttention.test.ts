import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MultiHeadAttention } from '../../src/core/layers/multiHeadAttention';
import { createRng } from '../../src/core/rng';
import { useWasmBackend } from '../helpers/backend';

type Matrix = number[][];
const matmul = (a: Matrix, b: Matrix) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const addBias = (a: Matrix, bias: number[]) => a.map((row) => row.map((v, j) => v + bias[j]));
const softmaxRow = (row: number[]) => {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
};

/** Multi-head attention written out with plain arrays, straight from the equations. */
async function referenceAttention(layer: MultiHeadAttention, x: Matrix) {
  const w = async (v: tf.Variable | undefined) => (v ? ((await v.array()) as any) : undefined);
  const project = async (l: { kernel: tf.Variable; bias?: tf.Variable }, input: Matrix) =>
    addBias(matmul(input, await w(l.kernel)), await w(l.bias));
  const [q, k, v] = [await project(layer.query, x), await project(layer.key, x), await project(layer.value, x)];
  const d = layer.headDim;
  const n = x.length;
  const heads: Matrix[] = [];
  const maps: Matrix[] = [];
  for (let h = 0; h < layer.options.heads; h++) {
    const cols = (m: Matrix) => m.map((row) => row.slice(h * d, (h + 1) * d));
    const [qh, kh, vh] = [cols(q), cols(k), cols(v)];
    const scores = qh.map((qi, i) =>
      kh.map((kj, j) => (i === j ? -Infinity : qi.reduce((s, val, c) => s + val * kj[c], 0) / Math.sqrt(d))),
    );
    const a = scores.map(softmaxRow);
    maps.push(a);
    heads.push(matmul(a, vh));
  }
  let merged = Array.from({ length: n }, (_, i) => heads.flatMap((hm) => hm[i]));
  if (layer.tokenProjection) {
    const own = await project(layer.tokenProjection, x);
    merged = merged.map((row, i) => [...row, ...own[i]]);
  }
  return { output: await project(layer.out, merged), maps };
}

test('multi-head attention matches the equations written out by hand', async () => {
  await useWasmBackend();
  const layer = new MultiHeadAttention('model', { dim: 8, heads: 2, concat: true, maskDiagonal: true }, createRng('mha'));
  const rng = createRng('x');
  const x = Array.from({ length: 5 }, () => Array.from({ length: 8 }, () => rng.normal()));
  const { output, attention } = layer.apply(tf.tensor3d([x]));
  const expected = await referenceAttention(layer, x);
  const got = ((await output.array()) as number[][][])[0];
  const maps = ((await attention.array()) as number[][][][])[0];
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - expected.output[i][j]) < 1e-4)));
  maps.forEach((map, h) =>
    map.forEach((row, i) => {
      assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5, 'rows sum to one');
      assert.ok(row[i] < 1e-6, 'a token never attends to itself');
      row.forEach((v, j) => assert.ok(Math.abs(v - expected.maps[h][i][j]) < 1e-5));
    }),
  );
  assert.deepEqual(output.shape, [1, 5, 8]);
  assert.deepEqual(attention.shape, [1, 2, 5, 5]);
  tf.dispose([output, attention, ...layer.parameters().map((p) => p.variable)]);
});

test('official parameter names and shapes of the multi-head baseline (kernels [in, out])', () => {
  const layer = new MultiHeadAttention('model', { dim: 64, heads: 2, concat: true, maskDiagonal: true }, createRng(0));
  const shapes = Object.fromEntries(layer.parameters().map((p) => [p.name, p.variable.shape]));
  assert.deepEqual(shapes['model.in_.kernel'], [64, 32]);
  assert.deepEqual(shapes['model.out_proj.kernel'], [96, 64]);
  assert.deepEqual(shapes['model.query_net.kernel'], [64, 64]);
  tf.dispose(layer.parameters().map((p) => p.variable));
});

test('gradients of the layer agree with central finite differences', async () => {
  await useWasmBackend();
  const layer = new MultiHeadAttention('model', { dim: 4, heads: 2, concat: true, maskDiagonal: true }, createRng('grad'));
  const rng = createRng('grad-x');
  const x = tf.tensor3d([Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.normal()))]);
  const weights = tf.tensor3d([Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.normal()))]);
  // A scalar that depends on every output element with distinct weights.
  const objective = () => tf.sum(tf.mul(layer.apply(x).output, weights)) as tf.Scalar;
  const params = layer.parameters();
  const { grads } = tf.variableGrads(objective, params.map((p) => p.variable));
  const epsilon = 1e-2;
  let checked = 0;
  for (const { name, variable } of params) {
    const analytic = (await grads[variable.name].data()) as Float32Array;
    const values = (await variable.data()) as Float32Array;
    for (const index of [0, Math.floor(values.length / 2), values.length - 1]) {
      const at = (delta: number) => {
        const shifted = values.slice();
        shifted[index] += delta;
        variable.assign(tf.tensor(shifted, variable.shape));
        const value = objective().dataSync()[0];
        variable.assign(tf.tensor(values, variable.shape));
        return value;
      };
      const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
      const tolerance = 2e-3 + 2e-2 * Math.abs(numeric);
      assert.ok(Math.abs(numeric - analytic[index]) < tolerance, `${name}[${index}]: ${analytic[index]} vs ${numeric}`);
      checked++;
    }
  }
  assert.ok(checked >= 30);
});
