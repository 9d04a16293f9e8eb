/**
 * The Contextual Retrieval model: MLP encoder (in -> D -> D), one attention layer,
 * MLP decoder (D -> D -> 1), one output per token. Parameter names follow the official
 * state_dict (`encoder.0`, `model.query_net`, ...), with kernels stored [in, out].
 */
import * as tf from '@tensorflow/tfjs';
import type { Entry, ForwardResult, Model, Parameter } from '../registry';
import type { Rng } from '../rng';
import { TwoLayerMlp } from './linear';
import { MultiHeadAttention } from './multiHeadAttention';

export interface RetrievalModelOptions {
  dim: number;
  heads: number;
  concat: boolean;
}

export class MultiHeadRetrievalModel implements Model {
  readonly parameters: readonly Parameter[];
  private readonly encoder: TwoLayerMlp;
  private readonly attention: MultiHeadAttention;
  private readonly decoder: TwoLayerMlp;

  constructor(features: number, options: RetrievalModelOptions, rng: Rng) {
    const { dim } = options;
    this.encoder = new TwoLayerMlp('encoder', features, dim, dim, rng);
    this.attention = new MultiHeadAttention('model', { ...options, maskDiagonal: true }, rng);
    this.decoder = new TwoLayerMlp('decoder', dim, dim, 1, rng);
    this.parameters = [...this.encoder.parameters(), ...this.decoder.parameters(), ...this.attention.parameters()];
  }

  forward(inputs: tf.Tensor): ForwardResult {
    const hidden = this.encoder.apply(inputs) as tf.Tensor3D;
    const { output, attention } = this.attention.apply(hidden);
    const prediction = this.decoder.apply(output).squeeze([-1]);
    return { output: prediction, inspect: { attention } };
  }
}

export const multiHeadRetrievalEntry: Entry<Model> = {
  name: 'multi-head-attention',
  description: 'MLP encoder, one multi-head attention layer (searches rigidly paired with retrievals), MLP decoder.',
  options: {
    type: 'object',
    properties: {
      dim: { type: 'integer', minimum: 2, default: 64, description: 'Model width D (the paper tries 32 to 512).' },
      heads: { type: 'integer', minimum: 1, default: 2, description: 'Attention heads; must divide dim.' },
      concat: {
        type: 'boolean',
        default: true,
        description: "Concatenate a projection of the token itself before the output projection (the paper's --concat).",
      },
    },
  },
  create(options, { task, rng }) {
    const typed = options as unknown as RetrievalModelOptions;
    if (typed.dim % typed.heads !== 0) {
      throw new Error(`model.heads (${typed.heads}) must divide model.dim (${typed.dim})`);
    }
    return new MultiHeadRetrievalModel(task.inputShape[task.inputShape.length - 1], typed, rng);
  },
};
