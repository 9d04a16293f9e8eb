import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { buildExperiment } from '../../src/core/experiment';
import { ReplicaPeer, shardBatchRng } from '../../src/core/gradientShards';
import { createOptimizer } from '../../src/core/optimizers';
import { parseSpec } from '../../src/core/spec/validate';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { disposeExperiment, train } from '../../src/core/train';

const templateFile = path.join(__dirname, '../../templates/retrieval-mha-quick.lab.json');

function specWith(training: Record<string, unknown>): { spec?: ResolvedSpec; problems: { path: string; message: string }[] } {
  const raw = JSON.parse(fs.readFileSync(templateFile, 'utf8'));
  raw.training = { ...raw.training, ...training };
  return parseSpec(JSON.stringify(raw, null, 2), templateFile);
}

const STEPS = 3;
const twoWorkers = () => specWith({ steps: STEPS, batchSize: 16, gradientWorkers: 2, logEvery: 1, evalEvery: 100, checkpointEvery: STEPS }).spec!;

test('two gradient workers make the update one worker makes on both shards together (the mean gradient of the whole batch)', async () => {
  await useWasmBackend();
  const spec = twoWorkers();
  const sink = new MemorySink();
  const peer = new ReplicaPeer(spec);
  try {
    await train({ spec, sink, shouldStop: () => false, gradientPeer: peer });
  } finally {
    peer.dispose();
  }
  const parallel = sink.checkpoints.get(STEPS)!.weights;

  // By hand: the two shards of each step concatenated into one batch, one gradient, one update.
  const experiment = buildExperiment(spec);
  const { task, model, objective } = experiment;
  const optimizer = createOptimizer(spec.training, model.parameters);
  const variables = model.parameters.map((p) => p.variable);
  const losses: number[] = [];
  for (let step = 1; step <= STEPS; step++) {
    const shards = [0, 1].map((shard) => task.batch(8, task.splits[0], shardBatchRng(spec, step, shard)));
    tf.tidy(() => {
      const inputs = tf.concat(shards.map((b) => b.inputs));
      const targets = tf.concat(shards.map((b) => b.targets));
      const { value, grads } = tf.variableGrads(() => objective.loss(model.forward(inputs, true).output, targets, undefined, step), variables);
      losses.push(value.dataSync()[0]);
      optimizer.step(variables.map((v) => grads[v.name]));
    });
    tf.dispose(shards.flatMap((b) => [b.inputs, b.targets]));
  }
  for (const { name, variable } of model.parameters) {
    const theirs = parallel.find((w) => w.name === name)!.tensor;
    const error = tf.tidy(() => tf.max(tf.abs(tf.sub(theirs, variable))).dataSync()[0]);
    assert.ok(error < 1e-5, `${name}: max |parallel - whole batch| = ${error}`);
  }
  const logged = sink.records.filter((r) => 'train/loss' in r.values).map((r) => r.values['train/loss']);
  logged.forEach((loss, i) => assert.ok(Math.abs(loss - losses[i]) < 1e-5, `step ${i + 1} loss ${loss} vs ${losses[i]}`));
  disposeExperiment(experiment, optimizer);
});

test("a replica's shard returns plain arrays and keeps no tensors", async () => {
  await useWasmBackend();
  const spec = twoWorkers();
  const peer = new ReplicaPeer(spec);
  try {
    const leader = buildExperiment(spec);
    const values = leader.model.parameters.map((p) => p.variable.dataSync() as Float32Array);
    const before = tf.memory().numTensors;
    const { loss, gradients } = peer.computeNow(1, 1, values);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(Number.isFinite(loss));
    assert.deepEqual(gradients.map((g) => g.length), values.map((v) => v.length));
    leader.model.parameters.forEach((p) => p.variable.dispose());
  } finally {
    peer.dispose();
  }
});

test('gradientWorkers: an odd batch is a located error, a missing peer is an error, the default is one worker', async () => {
  const odd = specWith({ batchSize: 15, gradientWorkers: 2 });
  assert.equal(odd.spec, undefined);
  assert.ok(odd.problems.some((p) => p.path === '/training/batchSize' && /cannot be split between 2 gradient workers: expected a multiple of 2/.test(p.message)), JSON.stringify(odd.problems));
  const three = specWith({ gradientWorkers: 3 });
  assert.ok(three.problems.some((p) => p.path === '/training/gradientWorkers'), JSON.stringify(three.problems));
  assert.equal(specWith({}).spec!.training.gradientWorkers, 1, 'the documented default, recorded in the resolved spec');
  await useWasmBackend();
  await assert.rejects(train({ spec: twoWorkers(), sink: new MemorySink(), shouldStop: () => false }), /training.gradientWorkers 2 needs a gradient worker/);
});
