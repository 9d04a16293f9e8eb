/**
 * The Contextual Retrieval models: MLP encoder (in -> D -> D), one attention layer, MLP decoder
 * (D -> D -> 1), one output per token. Two attention layers share this frame: multi-head attention
 * (the paper's "Standard" baseline) and compositional attention. Parameter names follow the
 * official state_dict (`encoder.0`, `model.query_net`, ...), with kernels stored [in, out].
 *
 * Both models expose the same inspection tensors, so a panel shows them side by side:
 *   searchMaps          [B, S, N, N]  the attention maps (heads for multi-head attention)
 *   retrievalSelection  [B, N, S, R]  which retrieval each token uses per search
 *                                     (multi-head attention: the fixed identity pairing, R = H)
 */
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, ForwardResult, Model, Parameter } from '../registry';
import { createRng, type Rng } from '../rng';
import { CompositionalAttention, requireDivisible, type ApplyMode } from '../layers/compositionalAttention';
import { TwoLayerMlp } from '../layers/linear';
import { MultiHeadAttention } from '../layers/multiHeadAttention';
import type { CompositionalRetrievalOptions, RetrievalModelOptions } from './options';

export type { CompositionalRetrievalOptions, RetrievalModelOptions } from './options';

/** The attention layer between encoder and decoder, as the retrieval frame sees it. */
interface RetrievalAttention {
  /** The maps are for inspection: a training forward may leave them out. */
  apply(x: tf.Tensor3D, mode: ApplyMode): { output: tf.Tensor3D; searchMaps?: tf.Tensor4D; retrievalSelection?: tf.Tensor4D };
  parameters(): Parameter[];
  /** True when a training forward needs a noise source (Gumbel-softmax). */
  readonly noisy: boolean;
}

export class RetrievalModel implements Model {
  /** In the official state_dict order: encoder, decoder, then the attention layer (`model.*`). */
  readonly parameters: readonly Parameter[];
  readonly attentionLayer: RetrievalAttention;
  private readonly encoder: TwoLayerMlp;
  private readonly decoder: TwoLayerMlp;

  /**
   * The attention layer is created between encoder and decoder (the order the multi-head model
   * always used), so a seed keeps giving the same initial weights.
   */
  constructor(
    features: number,
    dim: number,
    createAttention: (rng: Rng) => RetrievalAttention,
    rng: Rng,
    private readonly noiseSeed = 0,
  ) {
    this.encoder = new TwoLayerMlp('encoder', features, dim, dim, rng);
    this.attentionLayer = createAttention(rng);
    this.decoder = new TwoLayerMlp('decoder', dim, dim, 1, rng);
    this.parameters = [...this.encoder.parameters(), ...this.decoder.parameters(), ...this.attentionLayer.parameters()];
  }

  forward(inputs: tf.Tensor, training = false): ForwardResult {
    const hidden = this.encoder.apply(inputs) as tf.Tensor3D;
    const noise = training && this.attentionLayer.noisy ? noiseFor(this.noiseSeed, inputs) : undefined;
    const { output, searchMaps, retrievalSelection } = this.attentionLayer.apply(hidden, { training, noise });
    const prediction = this.decoder.apply(output).squeeze([-1]);
    if (!searchMaps || !retrievalSelection) return { output: prediction };
    return { output: prediction, inspect: { searchMaps, retrievalSelection } };
  }
}

/**
 * The Gumbel noise of a training step, keyed by (seed, the batch's contents). Batches are a
 * function of (seed, step), so a resumed run draws exactly the noise an uninterrupted one drew,
 * without the model knowing the step.
 */
function noiseFor(seed: number, inputs: tf.Tensor): Rng {
  const bits = new Uint32Array((inputs.dataSync() as Float32Array).slice().buffer);
  let hash = 0x811c9dc5; // FNV-1a
  for (const word of bits) hash = Math.imul(hash ^ word, 0x01000193) >>> 0;
  return createRng(seed, 'gumbel', hash);
}

/** Multi-head attention seen through the retrieval frame: head h always uses retrieval h. */
function multiHeadAsRetrieval(layer: MultiHeadAttention): RetrievalAttention {
  return {
    noisy: false,
    parameters: () => layer.parameters(),
    apply(x, mode) {
      const { output, attention } = layer.apply(x, { maps: !mode.training });
      if (!attention) return { output };
      const [batch, heads, tokens] = attention.shape;
      const retrievalSelection = tf.broadcastTo(tf.eye(heads), [batch, tokens, heads, heads]) as tf.Tensor4D;
      return { output, searchMaps: attention, retrievalSelection };
    },
  };
}

function compositionalAsRetrieval(layer: CompositionalAttention): RetrievalAttention {
  return {
    noisy: layer.options.gumbel,
    parameters: () => layer.parameters(),
    apply: (x, mode) => layer.apply(x, mode),
  };
}

const featuresOf = (inputShape: readonly number[]) => inputShape[inputShape.length - 1];

/** Multi-head attention between the MLPs: each head one search rigidly paired with one retrieval. */
export function createMultiHeadRetrievalModel(options: RetrievalModelOptions, { task, rng }: BuildContext): Model {
  if (options.dim % options.heads !== 0) {
    throw new Error(`model.heads (${options.heads}) must divide model.dim (${options.dim})`);
  }
  return new RetrievalModel(featuresOf(task.inputShape), options.dim, (layerRng) =>
    multiHeadAsRetrieval(new MultiHeadAttention('model', { ...options, maskDiagonal: true }, layerRng)),
    rng,
  );
}

/** Resolves the width defaults and checks divisibility, naming the fields. */
export function resolveCompositionalOptions(options: CompositionalRetrievalOptions) {
  const searchDim = options.searchDim ?? options.dim;
  const valueDim = options.valueDim ?? options.dim;
  requireDivisible('searchDim', searchDim, 'searches', options.searches);
  requireDivisible('valueDim', valueDim, 'retrievals', options.retrievals);
  return { ...options, searchDim, valueDim };
}

/** Compositional attention between the MLPs: S searches, R retrievals, each token picks a retrieval per search. */
export function createCompositionalRetrievalModel(options: CompositionalRetrievalOptions, { spec, task, rng }: BuildContext): Model {
  const resolved = resolveCompositionalOptions(options);
  return new RetrievalModel(
    featuresOf(task.inputShape),
    resolved.dim,
    (layerRng) => compositionalAsRetrieval(new CompositionalAttention('model', { ...resolved, maskDiagonal: true }, layerRng)),
    rng,
    spec.seed,
  );
}
