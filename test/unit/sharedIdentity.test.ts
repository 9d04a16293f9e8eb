import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { disableSharedIdentity, enableSharedIdentity, sharedIdentityEnabled } from '../../src/core/kernels/sharedIdentity';
import { useWasmBackend } from '../helpers/backend';

test('a shared clone outlives its source, keeps its value when a variable is reassigned, and frees its buffer last', async () => {
  await useWasmBackend();
  const before = tf.memory();
  assert.equal(enableSharedIdentity(), undefined);
  try {
    const source = tf.tensor([1, 2, 3]);
    const copy = tf.clone(source);
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers + 1, 'the clone shares the buffer');
    source.dispose();
    assert.deepEqual([...copy.dataSync()], [1, 2, 3]);
    copy.dispose();
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);

    const variable = tf.tidy(() => tf.variable(tf.zeros([2])));
    const saved = tf.clone(variable);
    tf.tidy(() => variable.assign(tf.ones([2])));
    assert.deepEqual([...saved.dataSync()], [0, 0]);
    assert.deepEqual([...variable.dataSync()], [1, 1]);
    tf.dispose([variable, saved]);
  } finally {
    disableSharedIdentity();
  }
  assert.ok(!sharedIdentityEnabled());
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
});

test('gradients through saved tensors are the same with shared clones', async () => {
  await useWasmBackend();
  const x = tf.randomNormal([6, 5], 0, 1, 'float32', 1);
  const w = tf.variable(tf.randomNormal([5, 4], 0, 1, 'float32', 2));
  const loss = () => tf.tidy(() => tf.sum(tf.square(tf.relu(tf.matMul(x, w)))) as tf.Scalar);
  const copying = tf.variableGrads(loss);
  assert.equal(enableSharedIdentity(), undefined);
  try {
    const sharing = tf.variableGrads(loss);
    assert.deepEqual([...sharing.grads[w.name].dataSync()], [...copying.grads[w.name].dataSync()]);
    tf.dispose([sharing.value, ...Object.values(sharing.grads)]);
  } finally {
    disableSharedIdentity();
    tf.dispose([x, w, copying.value, ...Object.values(copying.grads)]);
  }
});
