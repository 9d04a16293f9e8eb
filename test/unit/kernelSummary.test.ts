// The one line that says which of Model Lab's wasm kernels are active (CLI train and show, demo,
// status bar), and the kernel list the backend info carries into environment.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disableKernels } from '../../src/core/kernels';
import { kernelsInUse, kernelSummary } from '../../src/engine/kernelSummary';
import { selectKernels } from '../../src/engine/kernels';
import type { BackendInfo, KernelStatus } from '../../src/protocol';
import { useWasmBackend } from '../helpers/backend';

const NAMES = ['batched-matmul', 'strided-conv', 'masked-attention', 'layer-norm', 'dense', 'copy', 'adam'];
// What the log line "Model Lab wasm kernels for ..." says for each (describeBackend).
const LABELS = ['matrix products', 'convolution gradients', 'masked attention', 'layer normalisation', 'dense layers', 'concatenation and slicing', 'Adam'];
const wasm: BackendInfo = { name: 'wasm', requested: 'auto', version: tf.version.tfjs };
const withKernels = (kernels: KernelStatus[]): BackendInfo => ({ ...wasm, kernels });
const active = (name: string): KernelStatus => ({ name, active: true });

test('kernelSummary: all seven active is "kernels: 7 of 7"', () => {
  assert.equal(kernelSummary(withKernels(NAMES.map(active))), 'kernels: 7 of 7');
});

test('kernelSummary: each missing kernel is named with its reason; kernels missing for one reason share it', () => {
  const kernels = NAMES.map((name): KernelStatus => {
    if (name === 'dense') return { name, active: false, reason: 'dense.wasm was not built' };
    if (name === 'adam' || name === 'copy') return { name, active: false, reason: 'it cannot run on this wasm backend' };
    return active(name);
  });
  assert.equal(kernelSummary(withKernels(kernels)), 'kernels: 4 of 7 (missing: dense (dense.wasm was not built), copy, adam (it cannot run on this wasm backend))');
  // The status bar's text has room for the count only.
  assert.equal(kernelSummary(withKernels(kernels), { reasons: false }), 'kernels: 4 of 7');
  assert.equal(kernelSummary(withKernels([{ name: 'dense', active: false }])), 'kernels: 0 of 1 (missing: dense (no reason recorded))');
});

test('kernelSummary: other backends have none; a run recorded before the list says so', () => {
  assert.equal(kernelSummary({ ...wasm, name: 'cpu' }), "kernels: none (Model Lab's kernels run on the wasm backend only)");
  assert.equal(kernelSummary({ ...wasm, name: 'node' }), "kernels: none (Model Lab's kernels run on the wasm backend only)");
  assert.equal(kernelSummary(wasm), 'kernels: not recorded');
  // environment.json is a file on disk: a damaged list is not read as a count.
  assert.equal(kernelSummary({ ...wasm, kernels: 'all' as unknown as KernelStatus[] }), 'kernels: not recorded');
});

test('selectKernels records the seven wasm kernels the build puts into dist/, by name, with why each is off', async () => {
  await useWasmBackend();
  // The build's list (scripts/kernels.mjs): what dist/ and the VSIX hold.
  const built = (await import(path.join(__dirname, '../../scripts/kernels.mjs'))) as { KERNELS: { output: string }[] };
  assert.deepEqual(built.KERNELS.map(({ output }) => output.replace(/\.wasm$/, '')), NAMES);
  try {
    const off = selectKernels(wasm, 'off');
    assert.deepEqual(off.kernels, NAMES.map((name, i) => ({ name, label: LABELS[i], active: false, reason: 'MODEL_LAB_KERNELS=off' })));
    assert.equal(kernelSummary(off), `kernels: 0 of 7 (missing: ${NAMES.join(', ')} (MODEL_LAB_KERNELS=off))`);

    const on = selectKernels(wasm, 'on');
    assert.deepEqual(on.kernels?.map(({ name }) => name), NAMES);
    for (const kernel of on.kernels ?? []) {
      // An inactive kernel always says why.
      assert.equal(kernel.reason === undefined, kernel.active, kernel.name);
    }
    // The host's log line names what the active ones compute, in the table's order.
    assert.deepEqual(kernelsInUse(on), LABELS.filter((_, i) => on.kernels?.[i].active));
    if (on.kernels?.every(({ active }) => active)) assert.deepEqual(kernelsInUse(on), LABELS);
    assert.deepEqual(kernelsInUse(off), []);
  } finally {
    disableKernels();
  }
});
