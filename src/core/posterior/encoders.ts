/**
 * Data-set encoders: a padded set of tokens [B, N, F] with a mask [B, N] (1 = point,
 * 0 = padding) -> one summary vector per data set [B, D].
 * - transformer: linear embedding, a learned [CLS] token, no positional encoding (so the
 *   summary does not depend on the order of the points), key padding mask; pre-norm layers
 *   (the official code uses PyTorch's post-norm default; pre-norm trains more reliably at
 *   the small sizes and larger learning rates used here) and no dropout;
 * - deepsets: per-point MLP, masked mean, MLP after pooling;
 * - gru: recurrent over the points in the given order, state at the last valid point
 *   (not permutation invariant: the contrast the notes ask for).
 */
import * as tf from '@tensorflow/tfjs';
import { maskedAttention } from '../kernels';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { LayerNorm } from '../layers/layerNorm';
import { Linear } from '../layers/linear';

export type EncoderKind = 'transformer' | 'deepsets' | 'gru';

export interface EncoderOptions {
  kind: EncoderKind;
  /** Width D (d_model, hidden units). */
  dim: number;
  layers: number;
  /** Transformer only. */
  heads: number;
  /** Transformer only: feed-forward width. */
  feedForward: number;
}

export interface SetEncoder {
  readonly outputDim: number;
  parameters(): Parameter[];
  /** tokens [B, N, F], mask [B, N] -> [B, outputDim]. */
  encode(tokens: tf.Tensor, mask: tf.Tensor): tf.Tensor2D;
}

export function createEncoder(name: string, tokenDim: number, options: EncoderOptions, rng: Rng): SetEncoder {
  switch (options.kind) {
    case 'transformer':
      return new TransformerEncoder(name, tokenDim, options, rng);
    case 'deepsets':
      return new DeepSetsEncoder(name, tokenDim, options, rng);
    case 'gru':
      return new GruEncoder(name, tokenDim, options, rng);
  }
}

/** Multi-head self-attention where padded tokens are never attended to. */
class MaskedSelfAttention {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly out: Linear;
  readonly headDim: number;

  constructor(name: string, readonly dim: number, readonly heads: number, rng: Rng) {
    if (dim % heads !== 0) throw new Error(`model.heads (${heads}) must divide model.dim (${dim})`);
    this.headDim = dim / heads;
    this.query = new Linear(`${name}.query`, dim, dim, rng);
    this.key = new Linear(`${name}.key`, dim, dim, rng);
    this.value = new Linear(`${name}.value`, dim, dim, rng);
    this.out = new Linear(`${name}.out`, dim, dim, rng);
  }

  /**
   * Queries from `queries` [B, Tq, D] (by default every token of x) attend to the tokens of
   * x [B, T, D] where keyMask [B, T] is 1 -> [B, Tq, D].
   */
  apply(x: tf.Tensor, keyMask: tf.Tensor, queries: tf.Tensor = x): tf.Tensor {
    // The 1/sqrt(headDim) scale goes on the queries, not on the [B, H, Tq, T] scores: fewer numbers to scale.
    const scaled = tf.mul(this.query.apply(queries), 1 / Math.sqrt(this.headDim));
    const attended = maskedAttention(scaled as tf.Tensor3D, this.key.apply(x) as tf.Tensor3D, this.value.apply(x) as tf.Tensor3D, keyMask as tf.Tensor2D, this.heads);
    return this.out.apply(attended);
  }

  parameters(): Parameter[] {
    return [this.query, this.key, this.value, this.out].flatMap((l) => l.parameters());
  }
}

class TransformerLayer {
  readonly attentionNorm: LayerNorm;
  readonly attention: MaskedSelfAttention;
  readonly feedForwardNorm: LayerNorm;
  readonly expand: Linear;
  readonly contract: Linear;

  constructor(name: string, options: EncoderOptions, rng: Rng) {
    this.attentionNorm = new LayerNorm(`${name}.norm1`, options.dim);
    this.attention = new MaskedSelfAttention(`${name}.attention`, options.dim, options.heads, rng);
    this.feedForwardNorm = new LayerNorm(`${name}.norm2`, options.dim);
    this.expand = new Linear(`${name}.linear1`, options.dim, options.feedForward, rng);
    this.contract = new Linear(`${name}.linear2`, options.feedForward, options.dim, rng);
  }

  /**
   * x [B, T, D] -> [B, T, D]; with `queryCount`, only the first queryCount tokens' outputs
   * [B, queryCount, D] (they still attend to every token). Every step after attention is per
   * token, so these outputs equal the first rows of the full layer's output.
   */
  apply(x: tf.Tensor, mask: tf.Tensor, queryCount?: number): tf.Tensor {
    const normed = this.attentionNorm.apply(x);
    const residual = queryCount === undefined ? x : tf.slice(x, [0, 0, 0], [-1, queryCount, -1]);
    const queries = queryCount === undefined ? normed : tf.slice(normed, [0, 0, 0], [-1, queryCount, -1]);
    const attended = tf.add(residual, this.attention.apply(normed, mask, queries));
    return tf.add(attended, this.contract.apply(this.expand.applyRelu(this.feedForwardNorm.apply(attended))));
  }

  parameters(): Parameter[] {
    return [this.attentionNorm, this.attention, this.feedForwardNorm, this.expand, this.contract].flatMap((m) => m.parameters());
  }
}

class TransformerEncoder implements SetEncoder {
  readonly outputDim: number;
  readonly embed: Linear;
  readonly cls: tf.Variable;
  readonly layers: TransformerLayer[];
  readonly finalNorm: LayerNorm;

  constructor(readonly name: string, tokenDim: number, options: EncoderOptions, rng: Rng) {
    this.outputDim = options.dim;
    this.embed = new Linear(`${name}.embed`, tokenDim, options.dim, rng);
    // Xavier-uniform like the official CLS parameter of shape (1, 1, dim).
    const bound = Math.sqrt(6 / (1 + options.dim));
    this.cls = tf.tidy(() => tf.variable(tf.tensor1d(Array.from({ length: options.dim }, () => (2 * rng.next() - 1) * bound))));
    this.layers = Array.from({ length: options.layers }, (_, l) => new TransformerLayer(`${name}.layers.${l}`, options, rng));
    this.finalNorm = new LayerNorm(`${name}.norm`, options.dim);
  }

  encode(tokens: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
    const [batch] = tokens.shape;
    const cls = tf.tile(tf.reshape(this.cls, [1, 1, this.outputDim]), [batch, 1, 1]);
    let x = tf.concat([cls, this.embed.apply(tokens)], 1);
    const keyMask = tf.concat([tf.ones([batch, 1]), mask], 1);
    // Only the CLS token's output is read, so the last layer computes its row alone: the
    // other tokens' last-layer outputs would be discarded (this halves the attention cost of
    // the default 2-layer model, with the same result).
    this.layers.forEach((layer, l) => (x = layer.apply(x, keyMask, l + 1 === this.layers.length ? 1 : undefined)));
    const summary = tf.squeeze(x, [1]);
    return this.finalNorm.apply(summary) as tf.Tensor2D;
  }

  parameters(): Parameter[] {
    return [
      ...this.embed.parameters(),
      { name: `${this.name}.cls`, variable: this.cls },
      ...this.layers.flatMap((l) => l.parameters()),
      ...this.finalNorm.parameters(),
    ];
  }
}

class DeepSetsEncoder implements SetEncoder {
  readonly outputDim: number;
  readonly perPoint: Linear[];
  readonly afterPooling: Linear[];

  constructor(name: string, tokenDim: number, options: EncoderOptions, rng: Rng) {
    const { dim, layers } = options;
    this.outputDim = dim;
    this.perPoint = [new Linear(`${name}.embedding.0`, tokenDim, dim, rng)];
    for (let l = 0; l < layers; l++) this.perPoint.push(new Linear(`${name}.embedding.${l + 1}`, dim, dim, rng));
    this.afterPooling = Array.from({ length: layers }, (_, l) => new Linear(`${name}.regression.${l}`, dim, dim, rng));
  }

  encode(tokens: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
    let h = tokens;
    for (const layer of this.perPoint) h = layer.applyRelu(h);
    const weights = tf.expandDims(mask, -1);
    let pooled = tf.div(tf.sum(tf.mul(h, weights), 1), tf.maximum(tf.sum(weights, 1), 1));
    for (const layer of this.afterPooling) pooled = layer.applyRelu(pooled);
    return pooled as tf.Tensor2D;
  }

  parameters(): Parameter[] {
    return [...this.perPoint, ...this.afterPooling].flatMap((l) => l.parameters());
  }
}

/** PyTorch's GRU cell: input and hidden projections for the reset, update and new gates. */
class GruLayer {
  readonly input: Linear;
  readonly hidden: Linear;

  constructor(name: string, readonly dim: number, rng: Rng) {
    this.input = new Linear(`${name}.ih`, dim, 3 * dim, rng);
    this.hidden = new Linear(`${name}.hh`, dim, 3 * dim, rng);
  }

  /** x [B, N, D], mask [B, N] -> states [B, N, D]; padded steps keep the previous state. */
  apply(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const [batch, steps] = x.shape;
    const projected = tf.unstack(this.input.apply(x), 1); // N x [B, 3D]
    const present = tf.unstack(tf.expandDims(mask, -1), 1); // N x [B, 1]
    let h: tf.Tensor = tf.zeros([batch, this.dim]);
    const states: tf.Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const [xr, xz, xn] = tf.split(projected[t], 3, -1);
      const [hr, hz, hn] = tf.split(this.hidden.apply(h), 3, -1);
      const reset = tf.sigmoid(tf.add(xr, hr));
      const update = tf.sigmoid(tf.add(xz, hz));
      const candidate = tf.tanh(tf.add(xn, tf.mul(reset, hn)));
      const next = tf.add(tf.mul(tf.sub(1, update), candidate), tf.mul(update, h));
      h = tf.add(tf.mul(present[t], next), tf.mul(tf.sub(1, present[t]), h));
      states.push(h);
    }
    return tf.stack(states, 1);
  }

  parameters(): Parameter[] {
    return [...this.input.parameters(), ...this.hidden.parameters()];
  }
}

class GruEncoder implements SetEncoder {
  readonly outputDim: number;
  readonly embed: Linear;
  readonly layers: GruLayer[];

  constructor(name: string, tokenDim: number, options: EncoderOptions, rng: Rng) {
    this.outputDim = options.dim;
    this.embed = new Linear(`${name}.embed`, tokenDim, options.dim, rng);
    this.layers = Array.from({ length: options.layers }, (_, l) => new GruLayer(`${name}.rnn.${l}`, options.dim, rng));
  }

  encode(tokens: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
    let h = this.embed.apply(tokens);
    for (const layer of this.layers) h = layer.apply(h, mask);
    // Padded steps carry the state forward, so the last step holds the last valid point's state.
    const steps = h.shape[1]!;
    return tf.squeeze(tf.slice(h, [0, steps - 1, 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
  }

  parameters(): Parameter[] {
    return [...this.embed.parameters(), ...this.layers.flatMap((l) => l.parameters())];
  }
}
