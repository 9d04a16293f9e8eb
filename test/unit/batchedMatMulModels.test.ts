import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, trainingBatchRng } from '../../src/core/experiment';
import { adamKernels } from '../../src/core/kernels/adam';
import { copyKernels } from '../../src/core/kernels/copy';
import { denseKernels } from '../../src/core/kernels/dense';
import { layerNormKernels } from '../../src/core/kernels/layerNorm';
import { maskedAttentionKernels } from '../../src/core/kernels/maskedAttention';
import { disableSharedIdentity, sharedIdentityEnabled } from '../../src/core/kernels/sharedIdentity';
import { stridedConvKernels } from '../../src/core/kernels/stridedConv';
import { batchedMatMulKernelCalls, batchedMatMulKernels } from '../../src/core/kernels/batchedMatMul';
import { parseSpec } from '../../src/core/spec/validate';
import { selectKernels } from '../../src/engine/kernels';
import type { BackendInfo } from '../../src/protocol';
import { useWasmBackend } from '../helpers/backend';

const missing = batchedMatMulKernels.load();
const options = { skip: missing };

/** The loss and every parameter's gradient of one training batch of `template`, kernel on or off. */
function lossAndGradients(template: string, kernel: boolean, modelOverrides: Record<string, unknown> = {}) {
  const file = path.join(__dirname, '../../templates', template);
  const { spec, problems } = parseSpec(fs.readFileSync(file, 'utf8'), file);
  assert.ok(spec, JSON.stringify(problems));
  Object.assign(spec.model, modelOverrides);
  if (kernel) assert.equal(batchedMatMulKernels.enable(), undefined);
  else batchedMatMulKernels.disable();
  try {
    const { task, model, objective } = buildExperiment(spec);
    const batch = task.batch(8, task.splits[0], trainingBatchRng(spec, 1));
    const variables = model.parameters.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => objective.loss(model.forward(batch.inputs, true).output, batch.targets, batch, 1), variables);
    const result = {
      loss: value.dataSync()[0],
      gradients: model.parameters.map((p) => ({ name: p.name, values: grads[p.variable.name].dataSync() as Float32Array })),
    };
    tf.dispose([value, batch.inputs, batch.targets, ...Object.values(grads)]);
    model.parameters.forEach((p) => p.variable.dispose());
    return result;
  } finally {
    batchedMatMulKernels.disable();
  }
}

/** One model of each lab whose batched products (attention, similarity) now take the kernel. */
const CASES: { template: string; model?: Record<string, unknown> }[] = [
  { template: 'retrieval-mha.lab.json' },
  { template: 'retrieval-compositional.lab.json' },
  { template: 'posterior-linear-regression.lab.json' },
  { template: 'relational-same-diff-corelnet.lab.json' },
  { template: 'relational-same-diff-transformer.lab.json' },
];

for (const { template, model } of CASES) {
  test(`${template}: the loss and all gradients are the same with the wasm kernel as with tf.matMul`, options, async () => {
    await useWasmBackend();
    const reference = lossAndGradients(template, false, model);
    const callsBefore = batchedMatMulKernelCalls();
    const ours = lossAndGradients(template, true, model);
    assert.ok(batchedMatMulKernelCalls() > callsBefore, 'the kernel was not used');
    assert.ok(Math.abs(ours.loss - reference.loss) <= 1e-4 * Math.max(1, Math.abs(reference.loss)), `loss ${ours.loss} vs ${reference.loss}`);
    const largest = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // Some gradients are zero in exact arithmetic (a key bias shifts a softmax row): float noise
    // there is judged against the largest gradient of the model.
    const modelScale = Math.max(...reference.gradients.map(({ values }) => largest(values)));
    for (const [i, { name, values }] of reference.gradients.entries()) {
      const error = largest(values.map((v, j) => v - ours.gradients[i].values[j]));
      const tolerance = 1e-4 * largest(values) + 1e-5 * modelScale;
      assert.ok(error <= tolerance, `${name}: gradient error ${error}, tolerance ${tolerance}`);
    }
  });
}

const wasm: BackendInfo = { name: 'wasm', requested: 'auto', version: tf.version.tfjs };
/** Whether the backend info lists kernel `id` as on. */
const kernelOn = (info: BackendInfo, id: string) => info.kernels?.find(({ name }) => name === id)?.active;

test('selectKernels: on by default on wasm where built, off on request, absent on other backends', () => {
  const off = selectKernels(wasm, 'off');
  assert.equal(kernelOn(off, 'batched-matmul'), false);
  assert.equal(kernelOn(off, 'strided-conv'), false);
  assert.ok(!sharedIdentityEnabled());
  assert.equal(kernelOn(off, 'masked-attention'), false);
  assert.ok(!maskedAttentionKernels.active());
  assert.equal(kernelOn(off, 'layer-norm'), false);
  assert.ok(!layerNormKernels.active());
  assert.equal(kernelOn(off, 'dense'), false);
  assert.ok(!denseKernels.active());
  assert.equal(kernelOn(off, 'copy'), false);
  assert.ok(!copyKernels.active());
  assert.equal(kernelOn(off, 'adam'), false);
  assert.ok(!adamKernels.active());
  assert.ok(!stridedConvKernels.active());
  assert.match(off.kernelReason ?? '', /MODEL_LAB_KERNELS=off/);
  for (const name of ['node', 'cpu'] as const) assert.deepEqual(selectKernels({ ...wasm, name }, undefined), { ...wasm, name });
  const auto = selectKernels(wasm, undefined);
  assert.equal(kernelOn(auto, 'batched-matmul'), missing === undefined);
  assert.equal(kernelOn(auto, 'strided-conv'), stridedConvKernels.load() === undefined);
  assert.ok(sharedIdentityEnabled());
  assert.equal(kernelOn(auto, 'masked-attention'), maskedAttentionKernels.load() === undefined);
  assert.equal(kernelOn(auto, 'layer-norm'), layerNormKernels.load() === undefined);
  assert.equal(kernelOn(auto, 'dense'), denseKernels.load() === undefined);
  assert.equal(kernelOn(auto, 'copy'), copyKernels.load() === undefined);
  assert.equal(kernelOn(auto, 'adam'), adamKernels.load() === undefined);
  if (missing) assert.match(auto.kernelReason ?? '', /was not built/);
  batchedMatMulKernels.disable();
  stridedConvKernels.disable();
  disableSharedIdentity();
  maskedAttentionKernels.disable();
  layerNormKernels.disable();
  adamKernels.disable();
  denseKernels.disable();
  copyKernels.disable();
});

test('selectKernels rejects a value other than on or off, naming the variable', () => {
  assert.throws(() => selectKernels(wasm, 'yes'), /MODEL_LAB_KERNELS must be 'on' or 'off', got 'yes'/);
});
