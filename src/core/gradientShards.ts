/**
 * Data-parallel steps (training.gradientWorkers = 2): the step's batch is two shards of
 * batchSize / 2 examples, each drawn from its own stream keyed by (seed, step, shard). The leader
 * (the training loop) computes shard 0, a peer computes shard 1 on the same weights, and the
 * update uses the mean of the two gradients: since every objective's loss is a mean over
 * examples, that is the gradient of the whole batch. The peer is an interface, so the loop runs
 * the same with a worker thread (src/engine/gradientPeer.ts) or in-process (tests).
 *
 * An objective with state (local search's replay buffers) has one per worker: each worker's
 * objective fills its buffers from its own shard. A checkpoint keeps both: the leader's tensors
 * under their own names, the peer's under `shard1/<name>`, so a resumed run continues as the
 * uninterrupted one (a one-worker checkpoint reads as before).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, drawBatch, trainingStreamKey, type Experiment } from './experiment';
import type { PlainTensorMessage } from '../protocol';
import type { Parameter } from './registry';
import type { NamedTensor } from './sink';
import { createRng } from './rng';
import type { ResolvedSpec } from './spec/types';

/** One shard's loss and gradients as plain arrays (in parameter order): they cross threads. */
export interface ShardResult {
  loss: number;
  gradients: Float32Array[];
}

/** A tensor as plain values, to cross threads (objective state; float32 or int32 from a checkpoint file). */
export type PlainTensor = PlainTensorMessage;

export interface GradientPeer {
  /** Shard `shard` of step `step` at `weights` (parameter order); resolves when computed. */
  compute(step: number, shard: number, weights: Float32Array[]): Promise<ShardResult>;
  /** The peer objective's state (`Objective.saveState`; empty when it keeps none), between steps. */
  saveState(): Promise<PlainTensor[]>;
  /** Gives the peer objective the state a checkpoint kept (its checks' errors reject). */
  restoreState(state: PlainTensor[]): Promise<void>;
  dispose(): Promise<void> | void;
}

export const gradientWorkersOf = (spec: ResolvedSpec): number => spec.training.gradientWorkers ?? 1;

/** Where the second worker's objective state sits in a checkpoint's 'objective' tensor group. */
const PEER_STATE_PREFIX = 'shard1/';

export const toPlainTensor = ({ name, tensor }: NamedTensor): PlainTensor => {
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new Error(`objective state tensor '${name.slice(0, 80)}': expected float32 or int32, got ${tensor.dtype}`);
  return { name, shape: tensor.shape.slice(), dtype: tensor.dtype, values: tensor.dataSync() as Float32Array | Int32Array };
};
export const fromPlainTensor = ({ name, shape, dtype, values }: PlainTensor): NamedTensor => ({ name, tensor: tf.tensor(values, shape, dtype) });

/** The checkpoint's objective state: the leader's tensors followed by the peer's, renamed `shard1/...`. */
export const withPeerState = (leader: NamedTensor[] | undefined, peer: PlainTensor[]): NamedTensor[] | undefined => {
  const renamed = peer.map((p) => fromPlainTensor({ ...p, name: PEER_STATE_PREFIX + p.name }));
  return leader || renamed.length > 0 ? [...(leader ?? []), ...renamed] : undefined;
};

/** Splits a checkpoint's objective state into the leader's and the peer's (names without `shard1/`). */
export function splitPeerState(state: readonly NamedTensor[], workers: number): { leader: NamedTensor[]; peer: PlainTensor[] } {
  const leader = state.filter((s) => !s.name.startsWith(PEER_STATE_PREFIX));
  const peer = state.filter((s) => s.name.startsWith(PEER_STATE_PREFIX));
  if (peer.length > 0 && workers < 2) {
    throw new Error(`checkpoint objective state: tensors of gradient worker 2 (${peer[0].name.slice(0, 80)}, ...), but the run has training.gradientWorkers ${workers}`);
  }
  return { leader, peer: peer.map((s) => toPlainTensor({ name: s.name.slice(PEER_STATE_PREFIX.length), tensor: s.tensor })) };
}

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

  saveState(): Promise<PlainTensor[]> {
    return Promise.resolve(this.saveStateNow());
  }

  saveStateNow(): PlainTensor[] {
    const state = this.experiment.objective.saveState?.() ?? [];
    try {
      return state.map(toPlainTensor);
    } finally {
      tf.dispose(state.map((s) => s.tensor));
    }
  }

  restoreState(state: PlainTensor[]): Promise<void> {
    try {
      this.restoreStateNow(state);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Errors name the worker: the leader's and the peer's buffers have the same names. */
  restoreStateNow(state: PlainTensor[]): void {
    const tensors = state.map(fromPlainTensor);
    try {
      this.experiment.objective.restoreState?.(tensors);
    } catch (error) {
      throw new Error(`gradient worker 2: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      tf.dispose(tensors.map((s) => s.tensor));
    }
  }

  dispose(): void {
    this.experiment.model.parameters.forEach((p) => p.variable.dispose());
  }
}
