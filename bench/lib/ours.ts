/**
 * Our side of bench/compare.mjs, bundled by it and run in a child process per backend (the tfjs
 * backend is process-wide). Prints one JSON line on stdout.
 *
 *   node ours.js '{"mode":"time","backend":"wasm","wasmDir":...,"workload":{...},"warmup":10,"steps":100,"logEvery":10[,"gradientWorkers":2]}'
 *   node ours.js '{"mode":"export","backend":"wasm","wasmDir":...,"workload":{...},"batches":10,"dir":...}'
 *   node --import tsx bench/lib/ours.ts '{"mode":"profile","backend":"wasm","wasmDir":...,"workload":{...},"steps":10}'
 *
 * `time` runs the product's training loop (`train`) with a sink that stores nothing, and times
 * the steps between two loss reads (every `logEvery` steps, as a run does), so warm-up and the
 * final evaluation and checkpoint are outside the measured window. `export` writes the initial
 * weights, the first batches and our losses on them (and, for a relational task, the images of its
 * training objects, which the reference samples its own trials from; for a sampler target, each
 * step's noise instead of batches: ./samplerExchange.ts). `profile` runs `steps` steps
 * under `tf.profile` and prints ms per step by kernel and by kernel and input shapes (the loop's
 * first steps and final evaluation included: read it for proportions, `time` for speed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend';
import { buildExperiment, trainingBatchRng } from '../../src/core/experiment';
// experiment.ts imports the labs, which register every task and model.
import { findModel, type Task } from '../../src/core/registry';
import { isRelationalTask } from '../../src/core/relational/tasks';
import { OBJECT_PIXELS, OBJECT_SIZE, objectPixels } from '../../src/core/relational/objectSet';
import { train } from '../../src/core/train';
import { exportSamplerExchange } from './samplerExchange';
import { WorkerGradientPeer } from '../../src/engine/gradientPeer';
import type { RunSink } from '../../src/core/sink';
import type { ResolvedSpec } from '../../src/core/spec/types';
import type { Backend, BackendSetting } from '../../src/protocol';

interface Workload {
  /** Task options; without a name, the Contextual Retrieval Task (OOD split, random coefficients). */
  task: Record<string, unknown> & { name?: string };
  model: Record<string, unknown> & { name: string };
  /** Default: the retrieval workloads' L1 loss. */
  objective?: Record<string, unknown> & { name: string };
  batchSize: number;
  learningRate: number;
}

interface Request {
  mode: 'time' | 'export' | 'profile' | 'has-model';
  backend: BackendSetting;
  wasmDir: string;
  workload: Workload;
  seed?: number;
  warmup?: number;
  steps?: number;
  logEvery?: number;
  batches?: number;
  dir?: string;
  /** `time` with training.gradientWorkers = 2: the batch's second half in a gradient worker thread. */
  gradientWorkers?: 1 | 2;
}

const NEVER = 1e9;

function specFor(workload: Workload, seed: number, training: Partial<ResolvedSpec['training']>): ResolvedSpec {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'bench-compare',
    seed,
    task: taskOf(workload),
    model: { ...workload.model },
    objective: { ...(workload.objective ?? { name: 'l1' }) },
    training: {
      steps: 10,
      batchSize: workload.batchSize,
      learningRate: workload.learningRate,
      optimizer: 'adam',
      logEvery: 10,
      evalEvery: NEVER,
      evalBatches: 1,
      checkpointEvery: NEVER,
      keepCheckpoints: 1,
      ...training,
    },
  } as ResolvedSpec;
}

function taskOf(workload: Workload): ResolvedSpec['task'] {
  const { name, ...options } = workload.task;
  return name ? { name, ...options } : { name: 'contextual-retrieval', split: 'ood', coefficients: 'random', ...options };
}

const nullSink: RunSink = {
  appendMetrics() {},
  heartbeat() {},
  rewindTo() {},
  async saveCheckpoint() {},
} as unknown as RunSink;

async function timeTraining(request: Request) {
  const { warmup = 10, steps = 100, logEvery = 10, seed = 0 } = request;
  if (warmup % logEvery !== 0 || steps % logEvery !== 0) throw new Error('warmup and steps must be multiples of logEvery');
  // One more loss window after the measured one, so the final evaluation/checkpoint is outside it.
  const gradientWorkers = request.gradientWorkers ?? 1;
  const spec = specFor(request.workload, seed, { steps: warmup + steps + logEvery, logEvery, ...(gradientWorkers > 1 ? { gradientWorkers } : {}) });
  const gradientPeer = gradientWorkers > 1 ? new WorkerGradientPeer(spec, { backend: request.backend as Backend, wasmDir: request.wasmDir }) : undefined;
  const marks = new Map<number, number>();
  // CPU time of this process (every thread: tfjs's wasm runs on this one; a gradient worker's is counted too).
  const cpuMarks = new Map<number, number>();
  let lastLoss = NaN;
  await train({
    spec,
    gradientPeer,
    sink: nullSink,
    shouldStop: () => false,
    onProgress: (step, records) => {
      marks.set(step, performance.now());
      const { user, system } = process.cpuUsage();
      cpuMarks.set(step, (user + system) / 1e6);
      const loss = records.find((r) => 'train/loss' in r.values);
      if (loss) lastLoss = loss.values['train/loss'];
    },
  }).finally(() => gradientPeer?.dispose());
  const seconds = (marks.get(warmup + steps)! - marks.get(warmup)!) / 1000;
  const cpuSeconds = cpuMarks.get(warmup + steps)! - cpuMarks.get(warmup)!;
  return { stepsPerSecond: steps / seconds, cpuSecondsPerStep: cpuSeconds / steps, lastLoss };
}

/** ms per step in each kernel, and in each kernel and input shapes, and calls per step of each kernel (the 25 largest of each). */
async function profileTraining(request: Request) {
  const { steps = 10, seed = 0 } = request;
  const spec = specFor(request.workload, seed, { steps, logEvery: steps });
  const info = await tf.profile(async () => {
    await train({ spec, sink: nullSink, shouldStop: () => false, onProgress: () => {} });
  });
  const byName = new Map<string, number>();
  const byShape = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const kernel of info.kernels) {
    const ms = Number(kernel.kernelTimeMs) || 0;
    const shapes = `${kernel.name} ${kernel.inputShapes.map((s) => `[${s}]`).join(' ')}`;
    byName.set(kernel.name, (byName.get(kernel.name) ?? 0) + ms);
    byShape.set(shapes, (byShape.get(shapes) ?? 0) + ms);
    counts.set(kernel.name, (counts.get(kernel.name) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) =>
    Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, ms]) => [k, Math.round((ms / steps) * 100) / 100]));
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  return { kernelsPerStep: info.kernels.length / steps, msPerStepInKernels: total / steps, byKernel: top(byName), byShapes: top(byShape), callsPerStep: top(counts) };
}

/** Initial weights, the first batches and our losses on them, for the reference to replay. */
async function exportExchange(request: Request) {
  const { batches = 10, seed = 0, dir } = request;
  if (!dir) throw new Error('export needs dir');
  const spec = specFor(request.workload, seed, { steps: batches, logEvery: 1 });
  // A sampler's batches are trajectories of its own policy: the exchange carries their noise instead.
  if (request.workload.task.name?.startsWith('sampler-')) return exportSamplerExchange(spec, dir, request.workload, nullSink);
  const experiment = buildExperiment(spec);
  const chunks: Float32Array[] = [];
  let offset = 0;
  const put = (values: Float32Array, shape: number[]) => {
    chunks.push(values);
    offset += values.length;
    return { offset: offset - values.length, shape };
  };
  const parameters = experiment.model.parameters.map(({ name, variable }) => ({
    name,
    ...put(variable.dataSync() as Float32Array, variable.shape),
  }));
  const exported = [];
  for (let step = 1; step <= batches; step++) {
    const batch = experiment.task.batch(spec.training.batchSize, experiment.task.splits[0], trainingBatchRng(spec, step));
    exported.push({
      inputs: put(batch.inputs.dataSync() as Float32Array, batch.inputs.shape),
      targets: put(batch.targets.dataSync() as Float32Array, batch.targets.shape),
    });
    tf.dispose([batch.inputs, batch.targets]);
  }
  tf.dispose(experiment.model.parameters.map((p) => p.variable));
  // Relational tasks: the images the training split draws its objects from (see trainingObjects).
  const pool = trainingObjects(experiment.task);
  const objects = pool ? put(pool.pixels, pool.shape) : undefined;

  // Our losses come from the product's loop itself, reading the loss at every step.
  const losses: number[] = [];
  await train({
    spec,
    sink: nullSink,
    shouldStop: () => false,
    onProgress: (_step, records) => {
      for (const r of records) if ('train/loss' in r.values) losses.push(r.values['train/loss']);
    },
  });

  const blob = new Float32Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    blob.set(chunk, at);
    at += chunk.length;
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'exchange.bin'), new Uint8Array(blob.buffer));
  const features = experiment.task.inputShape[experiment.task.inputShape.length - 1];
  const manifest = { workload: request.workload, features, parameters, batches: exported, losses, ...(objects ? { objects } : {}) };
  fs.writeFileSync(path.join(dir, 'exchange.json'), JSON.stringify(manifest));
  return { losses };
}

/**
 * The pixels [P, 32, 32] of the objects a relational task's training split draws from (its
 * procedural glyphs are drawn once, when the task is built, not per batch): the reference samples
 * its trials from these same images. Undefined for other tasks.
 */
function trainingObjects(task: Task): { pixels: Float32Array; shape: number[] } | undefined {
  if (!isRelationalTask(task)) return undefined;
  const pool = task.pool('train');
  const pixels = new Float32Array(pool.length * OBJECT_PIXELS);
  pool.forEach((object, i) => pixels.set(objectPixels(task.objects, object), i * OBJECT_PIXELS));
  return { pixels, shape: [pool.length, OBJECT_SIZE, OBJECT_SIZE] };
}

async function main() {
  const request = JSON.parse(process.argv[2]) as Request;
  if (request.mode === 'has-model') {
    console.log(JSON.stringify({ present: Boolean(findModel(request.workload.model.name)) }));
    return;
  }
  const backend = await selectBackend(request.backend, { wasmDir: request.wasmDir });
  if (backend.name !== request.backend) {
    console.log(JSON.stringify({ absent: true, reason: backend.fallbackReason ?? `got ${backend.name}` }));
    return;
  }
  const run = { time: timeTraining, export: exportExchange, profile: profileTraining }[request.mode];
  const result = await run(request);
  // Model Lab's wasm kernels this process ran with: the active ones, and why any other is off.
  const kernels = backend.kernels ?? [];
  const off = Object.fromEntries(kernels.filter((k) => !k.active).map((k) => [k.name, k.reason ?? 'off']));
  console.log(JSON.stringify({ backend: backend.name, kernels: { active: kernels.filter((k) => k.active).map((k) => k.name), ...(Object.keys(off).length > 0 ? { off } : {}) }, ...result }));
}

main().catch((error) => {
  console.log(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  process.exitCode = 1;
});
