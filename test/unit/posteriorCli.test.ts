import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { train } from '../../src/core/train';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { posteriorSamples } from '../../src/core/posterior/cli';
import { gaussianMeanPosterior } from '../../src/core/posterior/exact';

/** A CheckpointSource over a MemorySink: like the run store, every load hands out fresh tensors the caller owns. */
const checkpointsOf = (sink: MemorySink) => ({
  steps: () => [...sink.checkpoints.keys()],
  load: async (step: number) => {
    const c = sink.checkpoints.get(step)!;
    const copy = (list: typeof c.weights) => list.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
    return { ...c, weights: copy(c.weights), optimizer: copy(c.optimizer) };
  },
});

const spec: ResolvedSpec = {
  formatVersion: 1,
  kind: 'train',
  name: 'cli-posterior',
  seed: 0,
  task: { name: 'posterior-gaussian-mean', dim: 2, contextMin: 8, contextMax: 16, heldOut: 10 },
  model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 32, layers: 1, heads: 2, feedForward: 32, flowBlocks: 2, flowHidden: 16 },
  objective: { name: 'forward-kl' },
  training: { steps: 300, batchSize: 32, learningRate: 3e-3, optimizer: 'adam', logEvery: 100, evalEvery: 300, evalBatches: 1, checkpointEvery: 1000, keepCheckpoints: 1 },
};

test('posterior samples for a user data set come from the trained network and sit near the exact posterior (within one posterior sd after 300 small steps)', async () => {
  await useWasmBackend();
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  const source = checkpointsOf(sink);
  const before = tf.memory().numTensors;
  const x = [[1.2, -0.4], [0.8, 0.1], [1.5, -0.9], [0.9, -0.2], [1.1, 0.3], [1.4, -0.6], [0.7, -0.1], [1.0, -0.5], [1.3, 0.0], [0.6, -0.3]];
  const { samples } = await posteriorSamples(spec, source, { x }, 400);
  assert.equal(samples.length, 400);
  assert.equal(samples[0].length, 2);
  const exact = gaussianMeanPosterior(x.flat(), x.length, 2);
  const mean = [0, 1].map((f) => samples.reduce((s, v) => s + v[f], 0) / samples.length);
  const sd = [0, 1].map((f) => Math.sqrt(samples.reduce((s, v) => s + (v[f] - mean[f]) ** 2, 0) / samples.length));
  const exactSd = Math.sqrt(exact.covariance[0]);
  mean.forEach((m, f) => assert.ok(Math.abs(m - exact.mean[f]) < exactSd, `mean[${f}] ${m} vs exact ${exact.mean[f]}`));
  sd.forEach((s, f) => assert.ok(Math.abs(s / exactSd - 1) < 0.5, `sd[${f}] ${s} vs exact ${exactSd}`));
  assert.deepEqual((await posteriorSamples(spec, source, { x }, 400)).samples, samples, 'seeded: same call, same samples');

  await assert.rejects(posteriorSamples(spec, source, { x: [[1, 2, 3]] }, 5), /x\[0\] must be an array of 2 finite numbers/);
  await assert.rejects(posteriorSamples(spec, source, { y: [1] }, 5), /"x" must be a non-empty array/);
  await assert.rejects(posteriorSamples(spec, source, { x }, 0), /--samples must be a positive integer/);
  await assert.rejects(posteriorSamples(spec, { steps: () => [], load: source.load }, { x }, 5), /has no checkpoint yet/);
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
});

test('supervised runs require y with one valid value per point', async () => {
  await useWasmBackend();
  const lr: ResolvedSpec = { ...spec, task: { name: 'posterior-linear-classification', dim: 2, classes: 2, contextMin: 4, contextMax: 8, heldOut: 4 }, training: { ...spec.training, steps: 2 } };
  const sink = new MemorySink();
  await train({ spec: lr, sink, shouldStop: () => false });
  const source = checkpointsOf(sink);
  await assert.rejects(posteriorSamples(lr, source, { x: [[0, 1], [1, 0]] }, 3), /"y" must be an array with one class index per point/);
  await assert.rejects(posteriorSamples(lr, source, { x: [[0, 1], [1, 0]], y: [0, 2] }, 3), /y\[1\] must be an integer class index in 0..1, got 2/);
  const { samples } = await posteriorSamples(lr, source, { x: [[0, 1], [1, 0]], y: [0, 1] }, 3);
  assert.equal(samples[0].length, 6);
  for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
});
