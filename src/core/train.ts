/**
 * The one training loop: step, log, evaluate, checkpoint, cancel.
 * Data for step t comes from a generator keyed by (seed, t), and the loop's own state is
 * saved in every checkpoint, so resuming from a checkpoint reproduces an uninterrupted run.
 */
import * as tf from '@tensorflow/tfjs';
import type { MetricRecord } from '../protocol';
import { buildExperiment, drawBatch, evaluationBatchRng, trainingBatchRng, type Experiment } from './experiment';
import { gradientWorkersOf, shardGradients, splitPeerState, withPeerState, type GradientPeer } from './gradientShards';
import { createOptimizer, restoreWeights, type Optimizer } from './optimizers';
import type { Checkpoint, NamedTensor, RunSink } from './sink';
import { weightLayoutDifference } from './weightLayout';
import type { ResolvedSpec } from './spec/types';

export interface TrainOptions {
  spec: ResolvedSpec;
  sink: RunSink;
  /** Continue after `resumeFrom.step`. */
  resumeFrom?: Checkpoint;
  /** Start from these model weights (spec `init`) with a fresh optimizer at step 0; ignored when resuming. */
  initWeights?: readonly NamedTensor[];
  /** Polled every step; true ends the loop with state 'cancelled' after a final checkpoint. */
  shouldStop: () => boolean;
  /** Called with the records just appended to the sink. */
  onProgress?: (step: number, records: MetricRecord[]) => void;
  /** Computes the second shard of every step when training.gradientWorkers is 2 (required then). */
  gradientPeer?: GradientPeer;
}

export interface TrainResult {
  state: 'completed' | 'cancelled';
  step: number;
}

/** Lets the worker's message loop run (cancel, inference requests) between steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { spec, sink, resumeFrom, initWeights, shouldStop, onProgress, gradientPeer } = options;
  const training = spec.training;
  if (gradientWorkersOf(spec) > 1 && !gradientPeer) throw new Error(`training.gradientWorkers ${gradientWorkersOf(spec)} needs a gradient worker, and none was started`);
  const experiment = buildExperiment(spec);
  const { task, model, objective } = experiment;
  const variables = model.parameters.map((p) => p.variable);
  const optimizer = createOptimizer(training, model.parameters);
  const trainSplit = task.splits[0];

  let step = 0;
  // Training loss is summed on the backend and read once per `logEvery` steps.
  let lossSum = tf.scalar(0);
  let lossCount = 0;
  let elapsedBefore = 0;
  if (initWeights && !resumeFrom) startFrom(initWeights, experiment, spec);
  if (resumeFrom) {
    ({ step, lossCount, elapsedBefore } = restore(resumeFrom, experiment, optimizer));
    // Each gradient worker's objective has its own state (e.g. replay buffers of its shard's samples).
    const { leader, peer } = splitPeerState(resumeFrom.objectiveState ?? [], gradientWorkersOf(spec));
    objective.restoreState?.(leader);
    await gradientPeer?.restoreState(peer);
    lossSum.dispose();
    lossSum = tf.scalar(resumeFrom.loop?.lossSum ?? 0);
  }
  // What an earlier attempt wrote after this step is abandoned: with no checkpoint (a run killed
  // before its first one, or a fresh run) that is every record, since the loop logs from step 1 again.
  sink.rewindTo(step);
  const startedAt = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - startedAt);

  const emit = (records: MetricRecord[]) => {
    sink.appendMetrics(records);
    onProgress?.(step, records);
  };

  const saveCheckpoint = async () => {
    const loop = {
      optimizerSteps: optimizer.state().steps,
      lossSum: (await lossSum.data())[0],
      lossCount,
      elapsed: elapsed(),
    };
    const objectiveState = withPeerState(objective.saveState?.(), gradientPeer ? await gradientPeer.saveState() : []);
    try {
      await sink.saveCheckpoint({
        step,
        weights: model.parameters.map((p) => ({ name: p.name, tensor: p.variable })),
        optimizer: optimizer.state().tensors,
        loop,
        ...(objectiveState ? { objectiveState } : {}),
      });
    } finally {
      if (objectiveState) tf.dispose(objectiveState.map((s) => s.tensor));
    }
  };

  try {
    while (step < training.steps) {
      if (shouldStop()) {
        await saveCheckpoint();
        return { state: 'cancelled', step };
      }
      step += 1;
      let nextSum: tf.Scalar;
      if (gradientPeer) {
        nextSum = await dataParallelStep(spec, experiment, optimizer, gradientPeer, step, lossSum);
      } else {
        const batch = drawBatch(experiment, { size: training.batchSize, split: trainSplit, rng: trainingBatchRng(spec, step), step, purpose: 'train' });
        nextSum = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => objective.loss(model.forward(batch.inputs, true).output, batch.targets, batch, step),
            variables,
          );
          optimizer.step(variables.map((v) => grads[v.name]));
          return tf.add(lossSum, value) as tf.Scalar;
        });
        tf.dispose([batch.inputs, batch.targets]);
      }
      lossSum.dispose();
      lossSum = nextSum;
      lossCount += 1;

      const records: MetricRecord[] = [];
      if (step % training.logEvery === 0 || step === training.steps) {
        const loss = (await lossSum.data())[0] / lossCount;
        records.push({ step, time: elapsed(), values: { 'train/loss': loss } });
        lossSum.dispose();
        lossSum = tf.scalar(0);
        lossCount = 0;
      }
      if (step % training.evalEvery === 0 || step === training.steps) {
        records.push({ step, time: elapsed(), values: await evaluate(spec, experiment, step) });
      }
      if (records.length > 0) emit(records);
      sink.heartbeat(step, elapsed());
      if (step % training.checkpointEvery === 0 || step === training.steps) await saveCheckpoint();
      await yieldToEventLoop();
    }
    return { state: 'completed', step };
  } finally {
    lossSum.dispose();
    disposeExperiment(experiment, optimizer);
  }
}

/**
 * One data-parallel step: the peer computes shard 1 on the current weights while this thread
 * computes shard 0; the update uses the mean gradient. Returns lossSum plus the step's mean loss.
 */
async function dataParallelStep(spec: ResolvedSpec, experiment: Experiment, optimizer: Optimizer, peer: GradientPeer, step: number, lossSum: tf.Scalar): Promise<tf.Scalar> {
  const variables = experiment.model.parameters.map((p) => p.variable);
  // Copies: the arrays are transferred to the peer's thread.
  const remote = peer.compute(step, 1, variables.map((v) => (v.dataSync() as Float32Array).slice()));
  const local = tf.tidy(() => shardGradients(spec, experiment, step, 0));
  try {
    const theirs = await remote;
    return tf.tidy(() => {
      const mean = local.gradients.map((g, i) => tf.mul(tf.add(g, tf.tensor(theirs.gradients[i], g.shape, 'float32')), 0.5));
      optimizer.step(mean);
      return tf.add(lossSum, tf.mul(tf.add(local.loss, theirs.loss), 0.5)) as tf.Scalar;
    });
  } finally {
    tf.dispose([local.loss, ...local.gradients]);
  }
}

/** `init`: the model takes another run's weights, refused in words when a name or shape differs. */
function startFrom(weights: readonly NamedTensor[], { model }: Experiment, spec: ResolvedSpec): void {
  const difference = weightLayoutDifference(
    model.parameters.map(({ name, variable }) => ({ name, shape: variable.shape })),
    weights.map(({ name, tensor }) => ({ name, shape: tensor.shape })),
  );
  if (difference) throw new Error(`init: the model's weights do not match run ${spec.init?.run} at step ${spec.init?.step}: ${difference}`);
  restoreWeights(model.parameters, weights);
}

function restore(checkpoint: Checkpoint, { model }: Experiment, optimizer: Optimizer) {
  restoreWeights(model.parameters, checkpoint.weights);
  const loop = checkpoint.loop ?? {};
  optimizer.restore(checkpoint.optimizer, loop.optimizerSteps ?? checkpoint.step);
  return { step: checkpoint.step, lossCount: loop.lossCount ?? 0, elapsedBefore: loop.elapsed ?? 0 };
}

/** Mean of each objective metric over `evalBatches` fresh batches per split: `eval/<split>/<metric>`. */
export async function evaluate(spec: ResolvedSpec, experiment: Experiment, step: number) {
  const { task, model, objective } = experiment;
  const values: Record<string, number> = {};
  for (const split of task.splits) {
    const sums = new Map<string, tf.Scalar>();
    for (let b = 0; b < spec.training.evalBatches; b++) {
      const batch = drawBatch(experiment, { size: spec.training.batchSize, split, rng: evaluationBatchRng(spec, split, step, b), step, purpose: 'eval' });
      tf.tidy(() => {
        const metrics = objective.metrics(model.forward(batch.inputs, false).output, batch.targets, batch);
        for (const [name, value] of Object.entries(metrics)) {
          const previous = sums.get(name);
          sums.set(name, tf.keep(previous ? tf.add(previous, value) : value) as tf.Scalar);
          previous?.dispose();
        }
      });
      tf.dispose([batch.inputs, batch.targets]);
    }
    for (const [name, sum] of sums) {
      values[`eval/${split}/${name}`] = (await sum.data())[0] / spec.training.evalBatches;
      sum.dispose();
    }
  }
  return values;
}

export function disposeExperiment({ model }: Experiment, optimizer?: Optimizer): void {
  tf.dispose(model.parameters.map((p) => p.variable));
  if (optimizer) tf.dispose(optimizer.state().tensors.map((t) => t.tensor));
}
