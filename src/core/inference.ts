/**
 * Inference sessions: a trained model loaded from a checkpoint, answering "show me example k
 * of split s" with the inputs, targets, prediction, the task's ground truth and every tensor
 * the model exposes for inspection, as plain JSON for the panels. For the retrieval models:
 * inspect.searchMaps [S][N][N], inspect.retrievalSelection [N][S][R], and truth
 * { searched: [N][v_s], retrieved: [N][v_s] } (the token each ground-truth search finds and the
 * retrieval the context asks for).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, inspectionRng, type Experiment } from './experiment';
import { restoreWeights } from './optimizers';
import type { Checkpoint } from './sink';
import type { ResolvedSpec } from './spec/types';
import { disposeExperiment } from './train';

export interface ExampleView {
  split: string;
  index: number;
  step: number;
  inputs: unknown;
  targets: unknown;
  output: unknown;
  truth: unknown;
  inspect: Record<string, unknown>;
}

export interface InferenceSession {
  readonly step: number;
  /** The task's splits (the first is the training split) and one example's input shape. */
  readonly splits: readonly string[];
  readonly inputShape: readonly number[];
  example(split: string, index: number): ExampleView;
  /**
   * The model on one example given by the caller (`inputs`: the task's input shape, without the
   * batch axis). Split 'input', index 0; no targets or truth.
   */
  exampleFromInputs(inputs: unknown[]): ExampleView;
  dispose(): void;
}

/** The split name of examples given by the caller rather than drawn from the task. */
export const GIVEN_INPUT_SPLIT = 'input';

class CheckpointSession implements InferenceSession {
  constructor(
    private readonly spec: ResolvedSpec,
    private readonly experiment: Experiment,
    readonly step: number,
  ) {}

  get splits(): readonly string[] {
    return this.experiment.task.splits;
  }

  get inputShape(): readonly number[] {
    return this.experiment.task.inputShape;
  }

  example(split: string, index: number): ExampleView {
    const { task } = this.experiment;
    if (!task.splits.includes(split)) {
      throw new Error(`unknown split '${split}': expected one of ${task.splits.join(', ')}`);
    }
    const batch = task.batch(1, split, inspectionRng(this.spec, split, index));
    return this.view(split, index, batch.inputs, batch.targets, Array.isArray(batch.truth) ? batch.truth[0] : batch.truth);
  }

  exampleFromInputs(inputs: unknown[]): ExampleView {
    const shape = [1, ...this.experiment.task.inputShape];
    const tensor = tf.tensor([inputs] as number[][], shape, 'float32');
    return this.view(GIVEN_INPUT_SPLIT, 0, tensor, undefined, undefined);
  }

  /** Runs the model on a batch of one; disposes `inputs` and `targets`. */
  private view(split: string, index: number, inputs: tf.Tensor, targets: tf.Tensor | undefined, truth: unknown): ExampleView {
    const first = (t: tf.Tensor) => (t.arraySync() as unknown[])[0];
    // tidy keeps only the returned tensors: the prediction and the inspected internals.
    const { output, inspect } = tf.tidy(() => {
      const result = this.experiment.model.forward(inputs, false);
      return { output: result.output, inspect: result.inspect ?? {} };
    }) as { output: tf.Tensor; inspect: Record<string, tf.Tensor> };
    try {
      return {
        split,
        index,
        step: this.step,
        inputs: first(inputs),
        targets: targets ? first(targets) : undefined,
        output: first(output),
        truth,
        inspect: Object.fromEntries(Object.entries(inspect).map(([name, t]) => [name, first(t)])),
      };
    } finally {
      tf.dispose([inputs, ...(targets ? [targets] : []), output, ...Object.values(inspect)]);
    }
  }

  dispose(): void {
    disposeExperiment(this.experiment);
  }
}

export async function openInference(spec: ResolvedSpec, checkpoint: Checkpoint): Promise<InferenceSession> {
  const experiment = buildExperiment(spec);
  restoreWeights(experiment.model.parameters, checkpoint.weights);
  return new CheckpointSession(spec, experiment, checkpoint.step);
}
