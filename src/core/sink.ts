/**
 * Where a training run writes. The on-disk implementation lives in `src/runs`; tests use an
 * in-memory one. Core never touches the file system layout itself.
 */
import type * as tf from '@tensorflow/tfjs';
import type { MetricRecord } from '../protocol';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface Checkpoint {
  step: number;
  /** Model parameters, in `Model.parameters` order, under their parameter names. */
  weights: NamedTensor[];
  /** `optimizer.getWeights()` (includes the iteration counter). */
  optimizer: NamedTensor[];
  /** Small JSON state of the training loop (e.g. a partially filled loss window), so resume is exact. */
  loop?: Record<string, number>;
  /** The objective's own state (`Objective.saveState`, e.g. a sampler's replay buffers), when it has one. */
  objectiveState?: NamedTensor[];
}

export interface RunSink {
  /** Append metric records (durably: a killed process keeps every record already appended). */
  appendMetrics(records: MetricRecord[]): void;
  /**
   * Record liveness and progress; called at least every few seconds while training. `elapsedMs`:
   * training time so far (resumed runs continue counting; time stopped does not count).
   */
  heartbeat(step: number, elapsedMs?: number): void;
  /**
   * Forget metric records and checkpoints after `step` (called once before the loop starts, at
   * the resumed checkpoint's step or 0, so what an interrupted attempt wrote after it is not duplicated).
   */
  rewindTo(step: number): void;
  /** Persist a checkpoint atomically and apply the retention limit. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

export interface CheckpointSource {
  /** Steps of the checkpoints available, ascending. */
  steps(): number[];
  /** Load one checkpoint; tensors are owned by the caller. */
  load(step: number): Promise<Checkpoint>;
}
