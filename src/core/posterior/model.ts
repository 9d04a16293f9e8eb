/**
 * The amortized posterior network: data set -> encoder -> linear head -> condition c [B, 2P]
 * (a mean and a log-variance) -> q(theta | D) in the chosen family. The model's output is c;
 * the family (a normalising flow has trainable weights of its own) interprets it.
 *
 * With `setSize`, the head also reads log(number of points), scaled to [-1, 1] over the trained
 * sizes. A CLS token's softmax attention or a masked mean gives a summary that hardly depends on
 * how many points there are, but the posterior's width does (its sd falls as 1/sqrt(n) in these
 * models), so without it the network must guess n from the share of attention the CLS token
 * keeps for itself (measured: bench/posterior-kl-parts.ts). Centred and scaled, because a raw
 * log n of about 4.5 would take the head's bias thousands of Adam steps to offset.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ForwardResult, Model, Parameter, Task } from '../registry';
import type { Rng } from '../rng';
import { Linear } from '../layers/linear';
import { splitInputs, type SimulationSizes } from './dataSets';
import { createEncoder, type EncoderOptions, type SetEncoder } from './encoders';
import { createFamily, type PosteriorFamily } from './families';
import { isPosteriorTask } from './tasks';
import type { AmortizedPosteriorOptions } from './options';

export type { AmortizedPosteriorOptions } from './options';

export class AmortizedPosteriorModel implements Model {
  readonly parameters: readonly Parameter[];
  readonly encoder: SetEncoder;
  readonly head: Linear;
  readonly family: PosteriorFamily;
  /** log n -> [-1, 1] over the trained sizes, when the head reads the set size. */
  private readonly setSizeScale?: { centre: number; halfRange: number };

  constructor(tokenDim: number, thetaDim: number, options: AmortizedPosteriorOptions, rng: Rng, sizes: Pick<SimulationSizes, 'contextMin' | 'contextMax'>) {
    const encoderOptions: EncoderOptions = {
      kind: options.encoder,
      dim: options.dim,
      layers: options.layers,
      heads: options.heads,
      feedForward: options.feedForward,
    };
    this.encoder = createEncoder('encoder', tokenDim, encoderOptions, rng);
    this.family = createFamily(options.family, 'flow', thetaDim, { blocks: options.flowBlocks, hidden: options.flowHidden }, rng);
    if (options.setSize) {
      const [lo, hi] = [Math.log(sizes.contextMin), Math.log(sizes.contextMax)];
      this.setSizeScale = { centre: (lo + hi) / 2, halfRange: Math.max((hi - lo) / 2, 0.5) };
    }
    this.head = new Linear('head', this.encoder.outputDim + (this.setSizeScale ? 1 : 0), this.family.conditionSize, rng);
    this.parameters = [...this.encoder.parameters(), ...this.head.parameters(), ...this.family.parameters()];
  }

  /** inputs [B, N, tokenDim + 1] (tokens + presence flag) -> condition [B, 2P]. */
  forward(inputs: tf.Tensor): ForwardResult {
    const { tokens, mask } = splitInputs(inputs);
    const summary = this.encoder.encode(tokens, mask);
    if (!this.setSizeScale) return { output: this.head.apply(summary) };
    const { centre, halfRange } = this.setSizeScale;
    const count = tf.maximum(tf.sum(mask, 1, true), 1); // an emptied data set in the panel counts as 1
    return { output: this.head.apply(tf.concat([summary, tf.div(tf.sub(tf.log(count), centre), halfRange)], 1)) };
  }
}

/**
 * The objectives evaluate q through the model's family. An experiment builds the model, then
 * the objective, on the same task object: the model leaves its family here for the objective.
 */
const familyByTask = new WeakMap<Task, PosteriorFamily>();

export function familyFor(task: Task, objective: string): PosteriorFamily {
  const family = familyByTask.get(task);
  if (!family) throw new Error(`objective '${objective}' needs model 'amortized-posterior'`);
  return family;
}

/** The model of a posterior task: the encoder and family its options name, sized by the task. */
export function createAmortizedPosterior(options: AmortizedPosteriorOptions, { task, rng }: BuildContext): Model {
  if (!isPosteriorTask(task)) {
    throw new Error("model 'amortized-posterior' needs a posterior task (task names starting with 'posterior-')");
  }
  if (options.encoder === 'transformer' && options.dim % options.heads !== 0) {
    throw new Error(`model.heads (${options.heads}) must divide model.dim (${options.dim})`);
  }
  const model = new AmortizedPosteriorModel(task.model.tokenDim, task.model.thetaDim, options, rng, task.sizes);
  familyByTask.set(task, model.family);
  return model;
}
