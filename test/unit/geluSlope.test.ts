/**
 * Where the GELU kernels (src/core/kernels/dense.ts) write gelu' and where they do not: a forward
 * under no gradient tape (the sampler's draw) gives y alone, with the same bits as under a tape;
 * a gradient through them makes no zero dy for the slope (tfjs builds one for every unused kernel
 * output) and leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denseKernels, gelu } from '../../src/core/kernels/dense';
import { enableSharedIdentity, disableSharedIdentity } from '../../src/core/kernels/sharedIdentity';
import { Linear } from '../../src/core/layers/linear';
import { createRng } from '../../src/core/rng';
import { DiffusionSampler } from '../../src/core/sampler/sampler';
import { useWasmBackend } from '../helpers/backend';

const missing = denseKernels.load();
if (missing) console.log(`GELU slope tests skipped: ${missing}`);

const ROWS = 37; // leaves remainders in the kernel's blocked loops
let layer: Linear | undefined; // made once the wasm backend is up
const OPS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  'Linear + GELU': (x) => (layer ??= new Linear('layer', 13, 11, createRng(5))).applyGelu(x),
  'GELU alone': (x) => gelu(x),
};

/** f with the dense kernel (and the sharing Identity, as in the worker) on. */
function onKernels<T>(f: () => T): T {
  assert.equal(denseKernels.enable(), undefined);
  assert.equal(enableSharedIdentity(), undefined);
  try {
    return f();
  } finally {
    denseKernels.disable();
    disableSharedIdentity();
  }
}

/** y = op(x) computed under a gradient tape (as in a training step), kept. */
function yUnderTape(op: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): tf.Tensor {
  let y: tf.Tensor | undefined;
  tf.dispose(
    tf.grads((input: tf.Tensor) => {
      y = tf.keep(op(input).clone());
      return tf.sum(y);
    })([x]),
  );
  return y!;
}

for (const [name, op] of Object.entries(OPS)) {
  test(`${name} under no gradient tape runs kernels of one output (no slope), with the taped forward's bits`, { skip: missing }, async () => {
    await useWasmBackend();
    const x = tf.randomNormal([ROWS, 13], 0, 2, 'float32', 1);
    try {
      // tf.profile runs its function at once: the kernels are still on.
      const { untaped, taped, profiled } = onKernels(() => ({ untaped: op(x), taped: yUnderTape(op, x), profiled: tf.profile(() => tf.dispose(op(x))) }));
      const profile = await profiled;
      assert.ok(profile.kernels.length > 0);
      for (const kernel of profile.kernels) assert.equal(kernel.outputShapes.length, 1, `${kernel.name} has ${kernel.outputShapes.length} outputs`);
      assert.deepEqual(untaped.dataSync(), taped.dataSync());
      tf.dispose([untaped, taped]);
    } finally {
      x.dispose();
    }
  });

  test(`${name}: its gradient makes no zero dy for the slope and leaves no tensor`, { skip: missing }, async () => {
    await useWasmBackend();
    const x = tf.randomNormal([ROWS, 13], 0, 2, 'float32', 1);
    const engine = tf.engine();
    const makeTensor = engine.makeTensor.bind(engine);
    const zeroSizes: number[] = [];
    engine.makeTensor = (values, shape, dtype, backend) => {
      if (values instanceof Float32Array && values.length > 1 && values.every((v) => v === 0)) zeroSizes.push(values.length);
      return makeTensor(values, shape, dtype, backend);
    };
    try {
      const tensors = tf.memory().numTensors;
      onKernels(() => tf.dispose(tf.grads((input: tf.Tensor) => tf.sum(op(input)))([x])));
      assert.deepEqual(zeroSizes, []);
      assert.equal(tf.memory().numTensors, tensors);
    } finally {
      engine.makeTensor = makeTensor;
      x.dispose();
    }
  });
}

test("the diffusion sampler's drift under no gradient tape (its draw) runs no kernel of two outputs", { skip: missing }, async () => {
  await useWasmBackend();
  const sampler = new DiffusionSampler(2, { steps: 5, tScale: 5, hidden: 16, harmonics: 8, langevin: true }, 100, createRng(4, 'init'));
  const x = tf.randomNormal([ROWS, 2], 0, 2, 'float32', 1);
  const t = tf.tensor1d([0.4]);
  const gradLogR = tf.randomNormal([ROWS, 2], 0, 30, 'float32', 2);
  try {
    const profile = await onKernels(() => tf.profile(() => tf.dispose(sampler.drift(x, t, gradLogR))));
    const names = profile.kernelNames;
    assert.ok(names.includes('ModelLabDense') && names.includes('ModelLabGelu'), names.join(', '));
    for (const kernel of profile.kernels) assert.equal(kernel.outputShapes.length, 1, `${kernel.name} has ${kernel.outputShapes.length} outputs`);
  } finally {
    tf.dispose([x, t, gradLogR]);
    tf.dispose(sampler.parameters.map((p) => p.variable));
  }
});
