/**
 * Inference sessions: a trained model loaded from a checkpoint, answering "show me example k
 * of split s" with the inputs, targets, prediction, the task's ground truth and every tensor
 * the model exposes for inspection (attention maps, ...), as plain JSON for the panels.
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment, inspectionRng, type Experiment } from './experiment';
import { requireTensor } from './optimizers';
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
  example(split: string, index: number): ExampleView;
  dispose(): void;
}

class CheckpointSession implements InferenceSession {
  constructor(
    private readonly spec: ResolvedSpec,
    private readonly experiment: Experiment,
    readonly step: number,
  ) {}

  example(split: string, index: number): ExampleView {
    const { task, model } = this.experiment;
    if (!task.splits.includes(split)) {
      throw new Error(`unknown split '${split}': expected one of ${task.splits.join(', ')}`);
    }
    const batch = task.batch(1, split, inspectionRng(this.spec, split, index));
    const first = (t: tf.Tensor) => (t.arraySync() as unknown[])[0];
    // tidy keeps only the returned tensors: the prediction and the inspected internals.
    const { output, inspect } = tf.tidy(() => {
      const result = model.forward(batch.inputs, false);
      return { output: result.output, inspect: result.inspect ?? {} };
    }) as { output: tf.Tensor; inspect: Record<string, tf.Tensor> };
    try {
      return {
        split,
        index,
        step: this.step,
        inputs: first(batch.inputs),
        targets: first(batch.targets),
        output: first(output),
        truth: Array.isArray(batch.truth) ? batch.truth[0] : batch.truth,
        inspect: Object.fromEntries(Object.entries(inspect).map(([name, t]) => [name, first(t)])),
      };
    } finally {
      tf.dispose([batch.inputs, batch.targets, output, ...Object.values(inspect)]);
    }
  }

  dispose(): void {
    disposeExperiment(this.experiment);
  }
}

export async function openInference(spec: ResolvedSpec, checkpoint: Checkpoint): Promise<InferenceSession> {
  const experiment = buildExperiment(spec);
  const byName = new Map(checkpoint.weights.map((w) => [w.name, w.tensor]));
  for (const { name, variable } of experiment.model.parameters) variable.assign(requireTensor(byName, name));
  return new CheckpointSession(spec, experiment, checkpoint.step);
}
