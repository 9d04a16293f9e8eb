/**
 * One side of bench/posterior-speed.mjs, bundled by it against a source tree and run in a child
 * process: times training steps of a posterior template on a backend and, on request, profiles
 * one step with `tf.profile` (kernel time grouped by kernel name and by kernel + input shapes).
 * Prints one JSON line on stdout.
 *
 *   node posteriorStep.js '{"file": "templates/posterior-linear-regression.lab.json", "wasmDir": "...", "warmup": 3, "steps": 10, "profile": true}'
 *
 * The step is the product's: task batch, forward, objective loss, tf.variableGrads, Adam.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend';
import { buildExperiment, trainingBatchRng } from '../../src/core/experiment';
import { createOptimizer } from '../../src/core/optimizers';
import { parseSpec } from '../../src/core/spec/validate';

interface Request {
  /** A .lab.json file (a template). */
  file: string;
  wasmDir: string;
  backend?: 'wasm' | 'cpu';
  warmup: number;
  steps: number;
  profile: boolean;
  top?: number;
}

type Totals = Map<string, { ms: number; count: number }>;

async function main() {
  const request = JSON.parse(process.argv[2]) as Request;
  const backend = await selectBackend(request.backend ?? 'wasm', { wasmDir: request.wasmDir });
  const parsed = parseSpec(fs.readFileSync(request.file, 'utf8'), request.file);
  if (!parsed.spec) throw new Error(`${request.file}: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const { spec } = parsed;
  const { task, model, objective } = buildExperiment(spec);
  const optimizer = createOptimizer(spec.training, model.parameters);
  const variables = model.parameters.map((p) => p.variable);
  const split = task.splits[0];

  const trainStep = (step: number) => {
    const batch = task.batch(spec.training.batchSize, split, trainingBatchRng(spec, step));
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => objective.loss(model.forward(batch.inputs, true).output, batch.targets, batch, step),
        variables,
      );
      optimizer.step(variables.map((v) => grads[v.name]));
      return value;
    });
    tf.dispose([batch.inputs, batch.targets]);
    return loss;
  };

  for (let s = 1; s <= request.warmup; s++) trainStep(s).dispose();
  const started = performance.now();
  const losses: tf.Scalar[] = [];
  for (let s = request.warmup + 1; s <= request.warmup + request.steps; s++) losses.push(trainStep(s));
  // wasm kernels run synchronously: reading the losses at the end waits for nothing else.
  const lossValues = await Promise.all(losses.map((l) => l.data()));
  const secondsPerStep = (performance.now() - started) / 1000 / request.steps;
  tf.dispose(losses);

  let profile: { kernels: number; kernelMs: number; byName: [string, number, number][]; byShape: [string, number, number][] } | undefined;
  if (request.profile) {
    let loss: tf.Scalar | undefined;
    const info = await tf.profile(() => (loss = trainStep(request.warmup + request.steps + 1)));
    loss?.dispose();
    const byName: Totals = new Map();
    const byShape: Totals = new Map();
    let total = 0;
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      total += ms;
      for (const [map, key] of [[byName, k.name], [byShape, `${k.name} ${JSON.stringify(k.inputShapes)}`]] as const) {
        const entry = map.get(key) ?? { ms: 0, count: 0 };
        entry.ms += ms;
        entry.count += 1;
        map.set(key, entry);
      }
    }
    const top = (map: Totals): [string, number, number][] =>
      [...map].sort((a, b) => b[1].ms - a[1].ms).slice(0, request.top ?? 15).map(([key, { ms, count }]) => [key, ms, count]);
    profile = { kernels: info.kernels.length, kernelMs: total, byName: top(byName), byShape: top(byShape) };
  }
  tf.dispose(variables);
  console.log(JSON.stringify({ backend: backend.name, secondsPerStep, losses: lossValues.map((v) => v[0]), profile }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  process.exitCode = 1;
});
