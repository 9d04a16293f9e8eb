/**
 * Adam and SGD written out so that their whole state is explicit: moments as tensors and the
 * step count as a plain number. Bias corrections are computed in double precision from the
 * step count (as PyTorch does), so a run resumed from a checkpoint continues bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { adamUpdate } from './kernels/adam';
import type { Parameter } from './registry';
import type { NamedTensor } from './sink';
import type { TrainingSpec } from './spec/types';

export interface Optimizer {
  /** Apply one update; `gradients[i]` belongs to `parameters[i]`. Call inside `tf.tidy`. */
  step(gradients: tf.Tensor[]): void;
  /** State to checkpoint: tensors are the optimizer's own (do not dispose), plus the step count. */
  state(): { tensors: NamedTensor[]; steps: number };
  restore(tensors: NamedTensor[], steps: number): void;
}

/** Step size of update number `step` (1-based); a pure function of the step, so a resumed run continues on the same schedule. */
export type LearningRate = (step: number) => number;

export function learningRateSchedule(training: Pick<TrainingSpec, 'learningRate' | 'learningRateSchedule' | 'steps'>): LearningRate {
  const { learningRate, steps } = training;
  switch (training.learningRateSchedule) {
    case undefined:
    case 'constant':
      return () => learningRate;
    case 'cosine':
      return (step) => (learningRate * (1 + Math.cos((Math.PI * Math.min(step - 1, steps)) / steps))) / 2;
  }
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

class Adam implements Optimizer {
  private steps = 0;
  private readonly firstMoments: tf.Variable[];
  private readonly secondMoments: tf.Variable[];

  constructor(private readonly parameters: readonly Parameter[], private readonly learningRate: LearningRate) {
    const zeros = () => parameters.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false)));
    this.firstMoments = zeros();
    this.secondMoments = zeros();
  }

  step(gradients: tf.Tensor[]): void {
    this.steps += 1;
    const { beta1, beta2, epsilon } = ADAM;
    const stepSize = this.learningRate(this.steps) / (1 - beta1 ** this.steps);
    const correction = Math.sqrt(1 - beta2 ** this.steps);
    this.parameters.forEach(({ variable }, i) => {
      const m = this.firstMoments[i];
      const v = this.secondMoments[i];
      const [updated, firstMoment, secondMoment] = adamUpdate(variable, gradients[i], m, v, { beta1, beta2, epsilon, correction, stepSize });
      m.assign(firstMoment);
      v.assign(secondMoment);
      variable.assign(updated);
    });
  }

  state() {
    const tensors = this.parameters.flatMap(({ name }, i) => [
      { name: `${name}.adam_m`, tensor: this.firstMoments[i] as tf.Tensor },
      { name: `${name}.adam_v`, tensor: this.secondMoments[i] as tf.Tensor },
    ]);
    return { tensors, steps: this.steps };
  }

  restore(tensors: NamedTensor[], steps: number): void {
    const byName = new Map(tensors.map((t) => [t.name, t.tensor]));
    this.parameters.forEach(({ name }, i) => {
      this.firstMoments[i].assign(requireTensor(byName, `${name}.adam_m`));
      this.secondMoments[i].assign(requireTensor(byName, `${name}.adam_v`));
    });
    this.steps = steps;
  }
}

class Sgd implements Optimizer {
  private steps = 0;
  constructor(private readonly parameters: readonly Parameter[], private readonly learningRate: LearningRate) {}

  step(gradients: tf.Tensor[]): void {
    this.steps += 1;
    const rate = this.learningRate(this.steps);
    this.parameters.forEach(({ variable }, i) => variable.assign(tf.sub(variable, tf.mul(gradients[i], rate))));
  }

  state() {
    return { tensors: [], steps: this.steps };
  }

  restore(_tensors: NamedTensor[], steps: number): void {
    this.steps = steps;
  }
}

export function requireTensor(byName: Map<string, tf.Tensor>, name: string): tf.Tensor {
  const tensor = byName.get(name);
  if (!tensor) throw new Error(`checkpoint has no tensor '${name}'`);
  return tensor;
}

/** Copies a checkpoint's weights into the parameters of the same name (every parameter must have one). */
export function restoreWeights(parameters: readonly Parameter[], weights: readonly NamedTensor[]): void {
  const byName = new Map(weights.map((w) => [w.name, w.tensor]));
  for (const { name, variable } of parameters) variable.assign(requireTensor(byName, name));
}

export function createOptimizer(training: TrainingSpec, parameters: readonly Parameter[]): Optimizer {
  const rate = learningRateSchedule(training);
  return training.optimizer === 'sgd' ? new Sgd(parameters, rate) : new Adam(parameters, rate);
}
