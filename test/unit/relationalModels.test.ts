import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../src/core/rng';
import { proceduralGlyphs } from '../../src/core/relational/glyphs';
import { ContextNorm, StridedConv2d } from '../../src/core/relational/layers';
import {
  CoRelNet,
  maskedRowSoftmax,
  RelationalLstm,
  RelationalTransformer,
  type CoRelNetOptions,
} from '../../src/core/relational/models';
import { RelationalTask } from '../../src/core/relational/tasks';
import { RELATIONAL_TASKS } from '../../src/core/relational/trials';
import { useWasmBackend } from '../helpers/backend';

const glyphs = proceduralGlyphs(0, 20);
const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-4) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `entry ${i}: ${actual[i]} vs ${expected[i]}`);
  }
};
const corelnetOptions = (overrides: Partial<CoRelNetOptions> = {}): CoRelNetOptions => ({
  normalisation: 'masked-softmax',
  asymmetric: false,
  concatObjects: false,
  contextNorm: true,
  ...overrides,
});
const dispose = (model: { parameters: readonly { variable: tf.Variable }[] }) => tf.dispose(model.parameters.map((p) => p.variable));

test('the strided convolution equals tf.conv2d (4 x 4, stride 2, padding 1)', async () => {
  await useWasmBackend();
  const conv = new StridedConv2d('conv', 3, 5, createRng('conv'));
  tf.tidy(() => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const filter = conv.linear.kernel.reshape([4, 4, 3, 5]) as tf.Tensor4D;
    const expected = tf.conv2d(x, filter, 2, 1).add(conv.linear.bias!);
    const actual = conv.apply(x);
    assert.deepEqual(actual.shape, [2, 4, 4, 5]);
    close(actual.dataSync(), expected.dataSync());
  });
  tf.dispose(conv.parameters().map((p) => p.variable));
});

/** The previous formulation (space-to-depth, 4 shifted windows, plain matMuls): differentiable by tfjs itself. */
function shiftedWindowConv(x: tf.Tensor4D, kernel: tf.Tensor, bias: tf.Tensor, out: number): tf.Tensor4D {
  const [n, height, width, c] = x.shape;
  const [outH, outW, blockRows, blockCols] = [height / 2, width / 2, height / 2 + 2, width / 2 + 2];
  const blocks = tf
    .pad(x, [[0, 0], [1, 3], [1, 3], [0, 0]])
    .reshape([n, blockRows, 2, blockCols, 2, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([n, blockRows * blockCols * 4 * c]);
  const kernels = kernel.reshape([2, 2, 2, 2, c, out]).transpose([0, 2, 1, 3, 4, 5]).reshape([16 * c, out]);
  let sum: tf.Tensor = tf.zeros([n * outH * outW, out]);
  for (let qi = 0; qi < 2; qi++) {
    const rows = tf.slice(blocks, [0, qi * blockCols * 4 * c], [n, outH * blockCols * 4 * c]).reshape([n * outH, blockCols * 4 * c]);
    for (let qj = 0; qj < 2; qj++) {
      const window = tf.slice(rows, [0, qj * 4 * c], [n * outH, outW * 4 * c]).reshape([n * outH * outW, 4 * c]);
      sum = sum.add(tf.matMul(window, tf.slice(kernels, [(qi * 2 + qj) * 4 * c, 0], [4 * c, out])));
    }
  }
  return sum.add(bias).reshape([n, outH, outW, out]);
}

test('the strided convolution has the gradients of the convolution (input, kernel, bias)', async () => {
  await useWasmBackend();
  const conv = new StridedConv2d('conv', 3, 5, createRng('conv-grad'));
  tf.tidy(() => {
    const x = tf.randomNormal([2, 8, 6, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const weights = tf.randomNormal([2, 4, 3, 5], 0, 1, 'float32', 3);
    // Both sides read the layer's kernel and bias variables; tf.grads differentiates with respect to them.
    const loss = (f: (x: tf.Tensor4D) => tf.Tensor) => (...[input]: tf.Tensor[]) => f(input as tf.Tensor4D).mul(weights).sum();
    const [kernel, bias] = [conv.linear.kernel, conv.linear.bias!];
    const ours = tf.grads(loss((input) => conv.apply(input)))([x, kernel, bias]);
    const expected = tf.grads(loss((input) => shiftedWindowConv(input, kernel, bias, 5)))([x, kernel, bias]);
    const variableGrads = tf.variableGrads(() => conv.apply(x).mul(weights).sum() as tf.Scalar, [kernel, bias]).grads;
    close(ours[0].dataSync(), expected[0].dataSync());
    close(variableGrads[kernel.name].dataSync(), expected[1].dataSync());
    close(variableGrads[bias.name].dataSync(), expected[2].dataSync());
  });
  tf.dispose(conv.parameters().map((p) => p.variable));
});

test('context normalisation by hand: per feature across the segment, unbiased variance, per segment', async () => {
  await useWasmBackend();
  const norm = new ContextNorm('cn', 2, [[0, 1], [2, 3]]);
  const z = tf.tensor3d([[[1, 2], [3, 6], [5, 5], [5, 5]]]);
  // Pair 1: mean (2, 4), unbiased variance (2, 8) -> -+1/sqrt(2) both features. Pair 2: identical -> 0.
  const s = Math.SQRT1_2;
  close(norm.apply(z).dataSync(), [-s, -s, s, s, 0, 0, 0, 0]);
  tf.dispose([z, norm.gain, norm.bias]);
});

test('masked row softmax by hand: rows sum to one over j <= i, entries above the diagonal are exactly 0', async () => {
  await useWasmBackend();
  const r = tf.tensor3d([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]);
  const softmax = (xs: number[]) => xs.map((x) => Math.exp(x) / xs.reduce((sum, y) => sum + Math.exp(y), 0));
  const [row1, row2] = [softmax([4, 5]), softmax([7, 8, 9])];
  const result = maskedRowSoftmax(r);
  close(result.dataSync(), [1, 0, 0, row1[0], row1[1], 0, ...row2]);
  tf.dispose([r, result]);

  const random = tf.randomNormal([4, 9, 9], 0, 10, 'float32', 2) as tf.Tensor3D;
  const values = maskedRowSoftmax(random).arraySync();
  for (const matrix of values) {
    matrix.forEach((row, i) => {
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} sums to one`);
      row.forEach((v, j) => (j > i ? assert.equal(v, 0) : assert.ok(v >= 0)));
    });
  }
  random.dispose();
});

test('CoRelNet: the similarity it shows is the masked row softmax of Z Z^T, computed by hand from its encoder', async () => {
  await useWasmBackend();
  const task = new RelationalTask('RMTS', glyphs, 0, 0);
  const model = new CoRelNet(task, corelnetOptions(), createRng('init'));
  const batch = task.batch(3, 'train', createRng('batch'));
  const { similarity, rawSimilarity } = tf.tidy(() => {
    const { inspect } = model.forward(batch.inputs, false);
    return { similarity: inspect!.similarity.arraySync() as number[][][], rawSimilarity: inspect!.rawSimilarity.arraySync() as number[][][] };
  });
  // Z after per-pair context normalisation, from the model's own layers; the rest by hand.
  const z = tf.tidy(() => model.normalise(model.encodeObjects(batch.inputs)).arraySync());
  z.forEach((objects, b) => {
    const dot = objects.map((zi) => objects.map((zj) => zi.reduce((sum, v, k) => sum + v * zj[k], 0)));
    dot.forEach((row, i) => close(rawSimilarity[b][i], row, 1e-2 * Math.max(1, ...row.map(Math.abs))));
    dot.forEach((row, i) => {
      const allowed = row.slice(0, i + 1);
      const top = Math.max(...allowed);
      const total = allowed.reduce((sum, v) => sum + Math.exp(v - top), 0);
      const expected = row.map((v, j) => (j <= i ? Math.exp(v - top) / total : 0));
      close(similarity[b][i], expected, 1e-3);
    });
  });
  tf.dispose([batch.inputs, batch.targets]);
  dispose(model);
});

test('every model and variant gives [B, classes] logits on every task, with unique parameter names', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  for (const name of RELATIONAL_TASKS) {
    const task = new RelationalTask(name, glyphs, 0, 0);
    const T = task.layout.length;
    const models = [
      new CoRelNet(task, corelnetOptions(), createRng(1)),
      new CoRelNet(task, corelnetOptions({ normalisation: 'softmax', contextNorm: false }), createRng(1)),
      new CoRelNet(task, corelnetOptions({ normalisation: 'sigmoid', asymmetric: true }), createRng(1)),
      new CoRelNet(task, corelnetOptions({ concatObjects: true }), createRng(1)),
      new RelationalTransformer(task, { heads: 8, feedForward: 64, contextNorm: true }, createRng(1)),
      new RelationalTransformer(task, { heads: 4, feedForward: 64, contextNorm: true, attention: 'compositional', retrievals: 2 }, createRng(1)),
      new RelationalLstm(task, { hidden: 16, contextNorm: false }, createRng(1)),
    ];
    const batch = task.batch(2, 'train', createRng(2));
    for (const model of models) {
      const names = model.parameters.map((p) => p.name);
      assert.equal(new Set(names).size, names.length, `unique names: ${names}`);
      tf.tidy(() => {
        const { output, inspect } = model.forward(batch.inputs, true);
        assert.deepEqual(output.shape, [2, task.layout.classes]);
        if (model instanceof CoRelNet) {
          assert.deepEqual(inspect!.similarity.shape, [2, T, T]);
          if (model.options.normalisation === 'sigmoid') {
            const s = inspect!.similarity.arraySync() as number[][][];
            assert.ok(s.every((m) => m.every((row, i) => row.every((v, j) => (j > i ? v === 0 : v >= 0 && v <= 1)))), 'sigmoid: in [0, 1] on and below the diagonal, 0 above');
          }
        }
        // Every parameter takes part in the output.
        const { grads } = tf.variableGrads(() => model.forward(batch.inputs, true).output.square().sum() as tf.Scalar, model.parameters.map((p) => p.variable));
        for (const p of model.parameters) assert.ok(grads[p.variable.name], `gradient for ${p.name}`);
      });
      dispose(model);
    }
    tf.dispose([batch.inputs, batch.targets]);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});

test('the compositional transformer with retrieval r fixed to search s is the multi-head transformer', async () => {
  await useWasmBackend();
  const task = new RelationalTask('identity_rules', glyphs, 0, 0);
  const options = { heads: 4, feedForward: 32, contextNorm: true };
  const multiHead = new RelationalTransformer(task, options, createRng(1));
  const compositional = new RelationalTransformer(task, { ...options, attention: 'compositional', retrievals: 4, fixedSelection: 'identity' }, createRng(2));
  // Same weights wherever the names agree; the compositional layer's retrieval query/key go unused.
  const byName = new Map(multiHead.parameters.map((p) => [p.name, p.variable]));
  const unmatched = compositional.parameters.filter((p) => !byName.has(p.name)).map((p) => p.name);
  assert.deepEqual(unmatched.sort(), ['transformer.self_attn.value_key.bias', 'transformer.self_attn.value_key.kernel', 'transformer.self_attn.value_query.bias', 'transformer.self_attn.value_query.kernel']);
  for (const p of compositional.parameters) if (byName.has(p.name)) p.variable.assign(byName.get(p.name)!);
  const batch = task.batch(3, 'train', createRng(3));
  tf.tidy(() => {
    const expected = multiHead.forward(batch.inputs, false);
    const actual = compositional.forward(batch.inputs, false);
    close(actual.output.dataSync(), expected.output.dataSync(), 1e-4);
    close(actual.inspect!.attention.dataSync(), expected.inspect!.attention.dataSync(), 1e-6);
    assert.deepEqual(actual.inspect!.retrievalSelection.shape, [3, task.layout.length, 4, 4]);
  });
  tf.dispose([batch.inputs, batch.targets]);
  dispose(multiHead);
  dispose(compositional);
});

test('the compositional transformer: each token and search spreads one unit of weight over the retrievals', async () => {
  await useWasmBackend();
  const task = new RelationalTask('same_diff', glyphs, 0, 0);
  const model = new RelationalTransformer(task, { heads: 2, feedForward: 32, contextNorm: false, attention: 'compositional', retrievals: 4 }, createRng(4));
  const batch = task.batch(2, 'train', createRng(5));
  tf.tidy(() => {
    const selection = model.forward(batch.inputs, false).inspect!.retrievalSelection;
    assert.deepEqual(selection.shape, [2, 2, 2, 4]);
    close(selection.sum(-1).dataSync(), new Array(8).fill(1), 1e-5);
  });
  assert.throws(() => new RelationalTransformer(task, { heads: 2, feedForward: 32, contextNorm: false, attention: 'compositional', retrievals: 3 }, createRng(4)), /model.retrievals \(3\) must divide 128/);
  tf.dispose([batch.inputs, batch.targets]);
  dispose(model);
});

test('a model refuses a task whose inputs are not object images', async () => {
  await useWasmBackend();
  const task = { splits: ['train'], inputShape: [10, 14], outputShape: [10], batch: () => { throw new Error('unused'); } };
  assert.throws(() => new CoRelNet(task, corelnetOptions(), createRng(0)), /model 'corelnet' needs a task of object image sequences \[T, 32, 32, 1\].*got inputs \[10,14\]/);
});
