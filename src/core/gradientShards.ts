/**
 * Data-parallel steps (training.gradientWorkers = 2): the step's batch is two shards of
 * batchSize / 2 examples, each drawn from its own stream keyed by (seed, step, shard). The leader
 * (the training loop) computes shard 0, a peer computes shard 1 on the same weights, and the
 * update uses the mean of the two gradients: since every objective's loss is a mean over
 * examples, that is the gradient of the whole batch. The peer is an interface, so the loop runs
 * the same with a worker thread (src/engine/gradientPeer.ts) or in-process (tests).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, drawBatch, trainingStreamKey, type Experiment } from './experiment';
import type { Parameter } from './registry';
import { createRng } from './rng';
import type { ResolvedSpec } from './spec/types';

/** One shard's loss and gradients as plain arrays (in parameter order): they cross threads. */
export interface ShardResult {
  loss: number;
  gradients: Float32Array[];
}

export interface GradientPeer {
  /** Shard `shard` of step `step` at `weights` (parameter order); resolves when computed. */
  compute(step: number, shard: number, weights: Float32Array[]): Promise<ShardResult>;
  dispose(): Promise<void> | void;
}

export const gradientWorkersOf = (spec: ResolvedSpec): number => spec.training.gradientWorkers ?? 1;

export const shardBatchRng = (spec: ResolvedSpec, step: number, shard: number) => createRng(...trainingStreamKey(spec), step, 'shard', shard);

/** Loss tensor and gradient tensors of shard `shard` of `step` (call inside tf.tidy). */
export function shardGradients(spec: ResolvedSpec, experiment: Experiment, step: number, shard: number) {
  const { task, model, objective } = experiment;
  const size = spec.training.batchSize / gradientWorkersOf(spec);
  const batch = drawBatch(experiment, { size, split: task.splits[0], rng: shardBatchRng(spec, step, shard), step, purpose: 'train' });
  const variables = model.parameters.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => objective.loss(model.forward(batch.inputs, true).output, batch.targets, batch, step), variables);
  tf.dispose([batch.inputs, batch.targets]);
  return { loss: value, gradients: variables.map((v) => grads[v.name]) };
}

/** Copies `weights` into the parameters (the peer's replica follows the leader every step). */
export function assignWeights(parameters: readonly Parameter[], weights: Float32Array[]): void {
  parameters.forEach(({ name, variable }, i) => {
    if (weights[i].length !== variable.size) throw new Error(`weights for ${name}: ${weights[i].length} values, expected ${variable.size}`);
    tf.tidy(() => variable.assign(tf.tensor(weights[i], variable.shape, 'float32')));
  });
}

/** A peer that owns a replica of the experiment: the body of the gradient worker, and the in-process peer of tests. */
export class ReplicaPeer implements GradientPeer {
  private readonly experiment: Experiment;

  constructor(private readonly spec: ResolvedSpec) {
    this.experiment = buildExperiment(spec);
  }

  compute(step: number, shard: number, weights: Float32Array[]): Promise<ShardResult> {
    return Promise.resolve(this.computeNow(step, shard, weights));
  }

  computeNow(step: number, shard: number, weights: Float32Array[]): ShardResult {
    assignWeights(this.experiment.model.parameters, weights);
    // Read outside tf.tidy: tidy walks what its function returns, element by element, looking for
    // tensors, and over the gradients' arrays that took 30-40 ms per step (CoRelNet, 200k weights).
    const { loss, gradients } = tf.tidy(() => shardGradients(this.spec, this.experiment, step, shard));
    try {
      return { loss: loss.dataSync()[0], gradients: gradients.map((g) => g.dataSync() as Float32Array) };
    } finally {
      tf.dispose([loss, ...gradients]);
    }
  }

  dispose(): void {
    this.experiment.model.parameters.forEach((p) => p.variable.dispose());
  }
}
