/**
 * The relational models (Kerg et al. 2022; see docs/research/relational-corelnet.md). All share one
 * encoder: each 32 x 32 object goes through 3 conv layers (4 x 4, stride 2, 32 channels, ReLU) and
 * fully connected 512 -> 256 -> 128 with ReLU, giving Z [B, T, 128]; context normalisation over
 * the sequence (per segment, e.g. RMTS's pairs) is an option.
 *
 * CoRelNet lets its decoder see only relations:
 *   R = Z Z^T                                    (T x T dot products, no scaling)
 *   masked-softmax: softmax of each row i over j <= i, keep the lower triangle (T(T+1)/2 numbers)
 *   softmax:        softmax of each row over all j, keep all T^2
 *   sigmoid:        sigmoid(R), keep the lower triangle
 *   asymmetric:     R = (W1 Z)(W2 Z)^T instead
 *   concatObjects:  the decoder also gets Z itself ("cat", which the paper finds hurts)
 *   decoder:        Linear(features -> 256), ReLU, Linear(256 -> classes)
 * `inspect.similarity` [B, T, T] is what the decoder sees (entries it does not see are 0).
 *
 * Baselines on the same encoder: a transformer (1 post-norm layer, 8 heads, feed-forward 512,
 * sinusoidal positions, mean over the sequence) whose attention is multi-head or compositional
 * (the heads become searches, with their own bank of retrievals), and an LSTM (512 hidden
 * units, last state).
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardResult, Model, Parameter, Task } from '../registry';
import type { Rng } from '../rng';
import { Linear, TwoLayerMlp } from '../layers/linear';
import { CompositionalAttention } from '../layers/compositionalAttention';
import { MultiHeadAttention } from '../layers/multiHeadAttention';
import { LayerNorm } from '../layers/layerNorm';
import { ContextNorm, kaimingRelu, Lstm, StridedConv2d, xavier } from './layers';
import { OBJECT_SIZE } from './objectSet';
import { isRelationalTask } from './tasks';
import type { CoRelNetOptions, LstmOptions, TransformerOptions } from './options';

export type { CoRelNetOptions, LstmOptions, SimilarityNormalisation, TransformerAttention, TransformerOptions } from './options';

export const OBJECT_FEATURES = 128;

/** The conv encoder of ESBN/CoRelNet: [N, 32, 32, 1] -> [N, 128]. */
export class ObjectEncoder {
  readonly convs: StridedConv2d[];
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(name: string, rng: Rng) {
    this.convs = [1, 2, 3].map((k) => new StridedConv2d(`${name}.conv${k}`, k === 1 ? 1 : 32, 32, rng));
    this.fc1 = kaimingRelu(new Linear(`${name}.fc1`, 4 * 4 * 32, 256, rng), rng);
    this.fc2 = kaimingRelu(new Linear(`${name}.fc2`, 256, OBJECT_FEATURES, rng), rng);
  }

  apply(images: tf.Tensor4D): tf.Tensor2D {
    let x = images;
    for (const [i, conv] of this.convs.entries()) x = conv.applyRelu(x, i === 0); // the first takes data
    const flat = x.reshape([images.shape[0], 4 * 4 * 32]);
    return this.fc2.applyRelu(this.fc1.applyRelu(flat)) as tf.Tensor2D;
  }

  parameters(): Parameter[] {
    return [...this.convs.flatMap((c) => c.parameters()), ...this.fc1.parameters(), ...this.fc2.parameters()];
  }
}

/** What every relational model shares: the sequence shape, the encoder and optional context normalisation. */
abstract class SequenceModel implements Model {
  abstract readonly parameters: readonly Parameter[];
  readonly length: number;
  readonly classes: number;
  readonly encoder: ObjectEncoder;
  readonly contextNorm: ContextNorm | undefined;

  constructor(task: Task, useContextNorm: boolean, rng: Rng, modelName: string) {
    const [length, height, width, channels] = task.inputShape;
    if (task.inputShape.length !== 4 || height !== OBJECT_SIZE || width !== OBJECT_SIZE || channels !== 1) {
      throw new Error(
        `model '${modelName}' needs a task of object image sequences [T, 32, 32, 1] (same-diff, rmts, dist3, identity-rules), got inputs [${task.inputShape}]`,
      );
    }
    this.length = length;
    this.classes = task.outputShape[0];
    this.encoder = new ObjectEncoder('encoder', rng);
    const segments = isRelationalTask(task) ? task.segments : [Array.from({ length }, (_, i) => i)];
    this.contextNorm = useContextNorm ? new ContextNorm('contextnorm', OBJECT_FEATURES, segments) : undefined;
  }

  /** inputs [B, T, 32, 32, 1] -> Z [B, T, 128], each object encoded on its own */
  encodeObjects(inputs: tf.Tensor): tf.Tensor3D {
    const batch = inputs.shape[0];
    const images = inputs.reshape([batch * this.length, OBJECT_SIZE, OBJECT_SIZE, 1]) as tf.Tensor4D;
    return this.encoder.apply(images).reshape([batch, this.length, OBJECT_FEATURES]) as tf.Tensor3D;
  }

  /** Z, context-normalised when enabled. */
  protected encode(inputs: tf.Tensor): tf.Tensor3D {
    return this.normalise(this.encodeObjects(inputs));
  }

  normalise(z: tf.Tensor3D): tf.Tensor3D {
    return this.contextNorm ? this.contextNorm.apply(z) : z;
  }

  protected sharedParameters(): Parameter[] {
    return [...this.encoder.parameters(), ...(this.contextNorm?.parameters() ?? [])];
  }

  abstract forward(inputs: tf.Tensor, training: boolean): ForwardResult;
}

// ---------------------------------------------------------------------------------------------
// CoRelNet


/** Row-wise softmax of R [B, T, T] over the entries j <= i (the others become exactly 0). */
export function maskedRowSoftmax(r: tf.Tensor3D): tf.Tensor3D {
  const length = r.shape[1];
  const allowed = tf.linalg.bandPart(tf.ones([length, length]), -1, 0).cast('bool'); // lower triangle with diagonal
  const masked = tf.where(allowed.broadcastTo(r.shape), r, tf.fill(r.shape, -Infinity));
  return tf.softmax(masked) as tf.Tensor3D;
}

/**
 * [T*T, T(T+1)/2] 0/1 matrix picking the lower triangle (with diagonal) of a flattened T x T
 * matrix, row by row: (0,0), (1,0), (1,1), (2,0), ... A product, because the gradient of
 * tf.gather is missing on the wasm backend.
 */
export function lowerTriangleSelector(length: number): tf.Tensor2D {
  const kept = (length * (length + 1)) / 2;
  const values = new Float32Array(length * length * kept);
  let column = 0;
  for (let i = 0; i < length; i++) {
    for (let j = 0; j <= i; j++) values[(i * length + j) * kept + column++] = 1;
  }
  return tf.tensor2d(values, [length * length, kept]);
}

export class CoRelNet extends SequenceModel {
  readonly parameters: readonly Parameter[];
  private readonly left: Linear | undefined;
  private readonly right: Linear | undefined;
  private readonly decoder: TwoLayerMlp;

  constructor(task: Task, readonly options: CoRelNetOptions, rng: Rng) {
    super(task, options.contextNorm, rng, 'corelnet');
    if (options.asymmetric) {
      this.left = new Linear('w1', OBJECT_FEATURES, OBJECT_FEATURES, rng);
      this.right = new Linear('w2', OBJECT_FEATURES, OBJECT_FEATURES, rng);
    }
    const T = this.length;
    const relations = options.normalisation === 'softmax' ? T * T : (T * (T + 1)) / 2;
    const features = relations + (options.concatObjects ? T * OBJECT_FEATURES : 0);
    this.decoder = new TwoLayerMlp('decoder', features, 256, this.classes, rng);
    this.parameters = [
      ...this.sharedParameters(),
      ...[this.left, this.right].flatMap((w) => w?.parameters() ?? []),
      ...this.decoder.parameters(),
    ];
  }

  forward(inputs: tf.Tensor, _training?: boolean): ForwardResult {
    const batch = inputs.shape[0];
    const T = this.length;
    const { z, rawSimilarity } = this.relate(inputs);
    const similarity = this.normaliseRelations(rawSimilarity);
    const flat = similarity.reshape([batch, T * T]);
    const relations = this.options.normalisation === 'softmax' ? flat : tf.matMul(flat, lowerTriangleSelector(T));
    const decoderInput = this.options.concatObjects ? tf.concat([relations, z.reshape([batch, T * OBJECT_FEATURES])], 1) : relations;
    return { output: this.decoder.apply(decoderInput), inspect: { similarity, rawSimilarity } };
  }

  /** Z and R = Z Z^T (or (W1 Z)(W2 Z)^T, each side context-normalised after its projection). */
  private relate(inputs: tf.Tensor): { z: tf.Tensor3D; rawSimilarity: tf.Tensor3D } {
    const encoded = this.encodeObjects(inputs);
    if (this.left && this.right) {
      const left = this.normalise(this.left.apply(encoded) as tf.Tensor3D);
      const right = this.normalise(this.right.apply(encoded) as tf.Tensor3D);
      return { z: this.normalise(encoded), rawSimilarity: tf.matMul(left, right, false, true) };
    }
    const z = this.normalise(encoded);
    return { z, rawSimilarity: tf.matMul(z, z, false, true) };
  }

  /** The matrix the decoder reads, [B, T, T], with 0 where it reads nothing. */
  private normaliseRelations(r: tf.Tensor3D): tf.Tensor3D {
    switch (this.options.normalisation) {
      case 'masked-softmax':
        return maskedRowSoftmax(r);
      case 'softmax':
        return tf.softmax(r) as tf.Tensor3D;
      case 'sigmoid': {
        const lower = tf.linalg.bandPart(tf.ones([this.length, this.length]), -1, 0);
        return tf.sigmoid(r).mul(lower) as tf.Tensor3D;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Baselines

/** Sinusoidal positions (Vaswani et al.), [T, D]. */
export function positionalEncoding(length: number, dim: number): tf.Tensor2D {
  const values = new Float32Array(length * dim);
  for (let t = 0; t < length; t++) {
    for (let k = 0; k < dim; k += 2) {
      const angle = t * Math.exp((-k * Math.log(10000)) / dim);
      values[t * dim + k] = Math.sin(angle);
      if (k + 1 < dim) values[t * dim + k + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [length, dim]);
}

/** The self-attention of the transformer baseline, whichever kind: output [B, T, D] and maps to inspect. */
interface SelfAttention {
  /** A training forward may leave the maps out of `inspect`. */
  apply(x: tf.Tensor3D, training: boolean): { output: tf.Tensor3D; inspect: Record<string, tf.Tensor> };
  parameters(): Parameter[];
}

function selfAttention(name: string, options: TransformerOptions, rng: Rng): SelfAttention {
  const D = OBJECT_FEATURES;
  if (options.attention === 'compositional') {
    const retrievals = options.retrievals ?? options.heads;
    if (D % retrievals !== 0) throw new Error(`model.retrievals (${retrievals}) must divide ${D}`);
    // Plain softmax competitions: the relational tasks train deterministic baselines (no Gumbel noise).
    const layer = new CompositionalAttention(
      name,
      { dim: D, searches: options.heads, retrievals, searchDim: D, valueDim: D, concat: false, gumbel: false, separateValueKeys: false, maskDiagonal: false, fixedSelection: options.fixedSelection },
      rng,
    );
    return {
      apply: (x) => {
        const { output, searchMaps, retrievalSelection } = layer.apply(x);
        return { output, inspect: { attention: searchMaps, retrievalSelection } };
      },
      parameters: () => layer.parameters(),
    };
  }
  const layer = new MultiHeadAttention(name, { dim: D, heads: options.heads, concat: false, maskDiagonal: false }, rng);
  return {
    apply: (x, training) => {
      const { output, attention } = layer.apply(x, { maps: !training });
      const inspect: Record<string, tf.Tensor> = attention ? { attention } : {};
      return { output, inspect };
    },
    parameters: () => layer.parameters(),
  };
}

/** ESBN's transformer baseline: one post-norm encoder layer, final norm, mean over the sequence, MLP head. */
export class RelationalTransformer extends SequenceModel {
  readonly parameters: readonly Parameter[];
  private readonly attention: SelfAttention;
  private readonly norm1: LayerNorm;
  private readonly feedForward: TwoLayerMlp;
  private readonly norm2: LayerNorm;
  private readonly finalNorm: LayerNorm;
  private readonly hidden: Linear;
  private readonly out: Linear;

  constructor(task: Task, readonly options: TransformerOptions, rng: Rng) {
    super(task, options.contextNorm, rng, 'relational-transformer');
    const D = OBJECT_FEATURES;
    if (D % options.heads !== 0) throw new Error(`model.heads (${options.heads}) must divide ${D}`);
    this.attention = selfAttention('transformer.self_attn', options, rng);
    this.norm1 = new LayerNorm('transformer.norm1', D);
    this.feedForward = new TwoLayerMlp('transformer.linear', D, options.feedForward, D, rng);
    kaimingRelu(this.feedForward.first, rng);
    this.norm2 = new LayerNorm('transformer.norm2', D);
    this.finalNorm = new LayerNorm('transformer.norm', D);
    this.hidden = kaimingRelu(new Linear('out_hidden', D, 256, rng), rng);
    this.out = xavier(new Linear('y_out', 256, this.classes, rng), rng);
    this.parameters = [
      ...this.sharedParameters(),
      ...this.attention.parameters(),
      ...this.norm1.parameters(),
      ...this.feedForward.parameters(),
      ...this.norm2.parameters(),
      ...this.finalNorm.parameters(),
      ...this.hidden.parameters(),
      ...this.out.parameters(),
    ];
  }

  forward(inputs: tf.Tensor, training = false): ForwardResult {
    const z = this.encode(inputs);
    const x = z.add(positionalEncoding(this.length, OBJECT_FEATURES)) as tf.Tensor3D;
    const { output, inspect } = this.attention.apply(x, training);
    const afterAttention = this.norm1.apply(x.add(output));
    const afterFeedForward = this.norm2.apply(afterAttention.add(this.feedForward.apply(afterAttention)));
    const pooled = this.finalNorm.apply(afterFeedForward).mean(1);
    return { output: this.out.apply(this.hidden.applyRelu(pooled)), inspect };
  }
}

/** ESBN's LSTM baseline: the encoded sequence through an LSTM, the last hidden state to the classes. */
export class RelationalLstm extends SequenceModel {
  readonly parameters: readonly Parameter[];
  private readonly lstm: Lstm;
  private readonly out: Linear;

  constructor(task: Task, readonly options: LstmOptions, rng: Rng) {
    super(task, options.contextNorm, rng, 'relational-lstm');
    this.lstm = new Lstm('lstm', OBJECT_FEATURES, options.hidden, rng);
    this.out = xavier(new Linear('y_out', options.hidden, this.classes, rng), rng);
    this.parameters = [...this.sharedParameters(), ...this.lstm.parameters(), ...this.out.parameters()];
  }

  forward(inputs: tf.Tensor, _training?: boolean): ForwardResult {
    const states = this.lstm.apply(this.encode(inputs));
    const last = tf.slice(states, [0, this.length - 1, 0], [states.shape[0], 1, this.options.hidden]).reshape([states.shape[0], this.options.hidden]);
    return { output: this.out.apply(last), inspect: { hidden: states } };
  }
}
