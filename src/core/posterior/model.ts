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
import type { Entry, ForwardResult, Model, Parameter, Task } from '../registry';
import type { Rng } from '../rng';
import { Linear } from '../layers/linear';
import { splitInputs, type SimulationSizes } from './dataSets';
import { createEncoder, type EncoderKind, type EncoderOptions, type SetEncoder } from './encoders';
import { createFamily, type FamilyKind, type PosteriorFamily } from './families';
import { isPosteriorTask } from './tasks';

export interface AmortizedPosteriorOptions {
  encoder: EncoderKind;
  family: FamilyKind;
  dim: number;
  layers: number;
  heads: number;
  feedForward: number;
  flowBlocks: number;
  flowHidden: number;
  setSize: boolean;
}

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

export const amortizedPosteriorEntry: Entry<Model> = {
  name: 'amortized-posterior',
  description:
    'Amortized posterior q(theta | D): a data-set encoder (transformer, DeepSets or GRU) and a posterior family (diagonal Gaussian or normalising flow). One forward pass per data set.',
  options: {
    type: 'object',
    properties: {
      encoder: {
        enum: ['transformer', 'deepsets', 'gru'],
        default: 'transformer',
        description: "Data-set encoder: 'transformer' (no positional encoding, CLS token: permutation invariant), 'deepsets' (masked mean pooling), 'gru' (order-dependent, a contrast).",
      },
      family: {
        enum: ['gaussian', 'flow'],
        default: 'gaussian',
        description: "Posterior family: 'gaussian' (diagonal) or 'flow' (affine coupling normalising flow on top of a conditional affine layer).",
      },
      dim: { type: 'integer', minimum: 4, maximum: 1024, default: 64, description: 'Encoder width (the paper: 256).' },
      layers: { type: 'integer', minimum: 1, maximum: 8, default: 2, description: 'Encoder layers (the paper: 4).' },
      heads: { type: 'integer', minimum: 1, maximum: 16, default: 4, description: 'Attention heads (transformer); must divide dim.' },
      feedForward: { type: 'integer', minimum: 4, maximum: 4096, default: 128, description: 'Feed-forward width of the transformer layers (the paper: 1024).' },
      flowBlocks: { type: 'integer', minimum: 1, maximum: 16, default: 6, description: 'Coupling blocks of the flow family (the paper: 6).' },
      flowHidden: { type: 'integer', minimum: 4, maximum: 1024, default: 64, description: 'Width of the coupling subnets (the paper: 128).' },
      setSize: {
        type: 'boolean',
        default: false,
        description:
          "Also give the head log(number of points), scaled to [-1, 1] over contextMin..contextMax. The encoder's summary (attention or mean pooling) hardly depends on n, but the posterior's width does (sd about 1/sqrt(n)); the paper's networks do without it.",
      },
    },
  },
  create(options, { task, rng }) {
    if (!isPosteriorTask(task)) {
      throw new Error("model 'amortized-posterior' needs a posterior task (task names starting with 'posterior-')");
    }
    const typed = options as unknown as AmortizedPosteriorOptions;
    if (typed.encoder === 'transformer' && typed.dim % typed.heads !== 0) {
      throw new Error(`model.heads (${typed.heads}) must divide model.dim (${typed.dim})`);
    }
    const model = new AmortizedPosteriorModel(task.model.tokenDim, task.model.thetaDim, typed, rng, task.sizes);
    familyByTask.set(task, model.family);
    return model;
  },
};
