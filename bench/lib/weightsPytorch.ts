/**
 * Our side of bench/weights-pytorch.mjs: the loss of a run's latest checkpoint on one fixed batch,
 * and the same loss from the weights of the exported safetensors file read back (import), with
 * the batch written out for the PyTorch side. Prints one JSON line.
 *
 *   node --import tsx bench/lib/weightsPytorch.ts '{"run":DIR,"file":F.safetensors,"dir":OUT,"objective":{"name":...},"batchSize":32,"seed":1}'
 *
 * Writes OUT/batch.bin (inputs then targets, float32 little-endian), OUT/probe.bin (CoRelNet's raw
 * similarity Z Z^T, else the model's output, on that batch) and OUT/batch.json
 * ({workload: {task, model, objective}, inputs: shape, targets: shape, loss}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment } from '../../src/core/experiment';
import { restoreWeights } from '../../src/core/optimizers';
import { createRng } from '../../src/core/rng';
import type { NamedTensor } from '../../src/core/sink';
import type { ComponentSpec, ResolvedSpec } from '../../src/core/spec/types';
import { importCheckpoint } from '../../src/core/weights/officialLayout';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readSpec } from '../../src/runs/reader';

interface Request {
  run: string;
  file: string;
  dir: string;
  /** The loss the reference computes (e.g. forward KL for a run trained with reverse KL). */
  objective: ComponentSpec;
  batchSize: number;
  seed: number;
}

function lossWith(spec: ResolvedSpec, weights: readonly NamedTensor[], batchSize: number, seed: number) {
  const experiment = buildExperiment(spec);
  restoreWeights(experiment.model.parameters, weights);
  const { task, model, objective } = experiment;
  const batch = task.batch(batchSize, task.splits[0], createRng(seed, 'weights-pytorch'));
  let loss = NaN;
  let probe: Float32Array = new Float32Array(0);
  tf.tidy(() => {
    const { output, inspect } = model.forward(batch.inputs, false);
    loss = objective.loss(output, batch.targets, batch, 1).dataSync()[0];
    // What the loss may hide: CoRelNet's masked softmax saturates (R's diagonal is about 114 after
    // context norm), so its loss hardly depends on the encoder; R = Z Z^T itself does.
    probe = (inspect?.rawSimilarity ?? output).dataSync() as Float32Array;
  });
  return { loss, probe, batch };
}

async function main() {
  const request = JSON.parse(process.argv[2]) as Request;
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu'); // as the CLI's in-process commands (weights export, inspect)
  const spec: ResolvedSpec = { ...readSpec(request.run), objective: request.objective };
  const source = checkpointSource(request.run);
  const step = source.steps().at(-1)!;
  const checkpoint = await source.load(step);
  const fromRun = lossWith(spec, checkpoint.weights, request.batchSize, request.seed);
  const imported = importCheckpoint(spec, new Uint8Array(fs.readFileSync(request.file)), request.file, step);
  const fromFile = lossWith(spec, imported.weights, request.batchSize, request.seed);

  const { inputs, targets } = fromRun.batch;
  const blob = Buffer.concat([inputs, targets].map((t) => Buffer.from((t.dataSync() as Float32Array).buffer.slice(0))));
  fs.mkdirSync(request.dir, { recursive: true });
  fs.writeFileSync(path.join(request.dir, 'batch.bin'), blob);
  fs.writeFileSync(path.join(request.dir, 'probe.bin'), Buffer.from(fromRun.probe.buffer.slice(0)));
  const workload = { task: spec.task, model: spec.model, objective: spec.objective };
  fs.writeFileSync(path.join(request.dir, 'batch.json'), JSON.stringify({ workload, inputs: inputs.shape, targets: targets.shape, loss: fromRun.loss }));
  const probeIdentical = Buffer.from(fromRun.probe.buffer).equals(Buffer.from(fromFile.probe.buffer));
  console.log(JSON.stringify({ step, loss: fromRun.loss, lossFromFile: fromFile.loss, probeIdentical }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  process.exitCode = 1;
});
