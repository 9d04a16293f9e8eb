/**
 * Multi-head attention as in the Contextual Retrieval baseline ("Standard" in the official code):
 *   Q = x Wq, K = x Wk, V = x Wv               (D -> D, split into H heads of width d = D / H)
 *   A_h = softmax(Q_h K_h^T / sqrt(d))          (diagonal masked: a token cannot find itself)
 *   O_h = A_h V_h
 *   out = concat(O_1 .. O_H [, x Win]) Wo       (with `concat`, the token's own projection x Win, D -> d)
 * Returns the output and the attention maps A (B x H x N x N) for inspection. A forward that
 * does not need the maps (training) runs on Model Lab's masked-attention kernel when it is on:
 * one kernel per pass instead of the head transposes, products, softmax and mask.
 */
import * as tf from '@tensorflow/tfjs';
import { maskedAttention, maskedAttentionKernelActive } from '../kernels/maskedAttention';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from './linear';

export interface MultiHeadAttentionOptions {
  dim: number;
  heads: number;
  concat: boolean;
  maskDiagonal: boolean;
}

const NEGATIVE_INFINITY_LOGIT = -1e9;

export class MultiHeadAttention {
  readonly headDim: number;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly tokenProjection: Linear | undefined;
  readonly out: Linear;

  constructor(name: string, readonly options: MultiHeadAttentionOptions, rng: Rng) {
    const { dim, heads, concat } = options;
    if (dim % heads !== 0) throw new Error(`model.dim (${dim}) must be divisible by model.heads (${heads})`);
    this.headDim = dim / heads;
    this.query = new Linear(`${name}.query_net`, dim, dim, rng);
    this.key = new Linear(`${name}.key_net`, dim, dim, rng);
    this.value = new Linear(`${name}.value_net`, dim, dim, rng);
    this.tokenProjection = concat ? new Linear(`${name}.in_`, dim, this.headDim, rng) : undefined;
    this.out = new Linear(`${name}.out_proj`, dim + (concat ? this.headDim : 0), dim, rng);
  }

  /** x: [B, N, D] -> output [B, N, D], attention [B, H, N, N] */
  apply(x: tf.Tensor3D): { output: tf.Tensor3D; attention: tf.Tensor4D };
  /** Without `maps` the maps may be left out (they are when the kernel can do without them). */
  apply(x: tf.Tensor3D, options: { maps: boolean }): { output: tf.Tensor3D; attention?: tf.Tensor4D };
  apply(x: tf.Tensor3D, options: { maps: boolean } = { maps: true }): { output: tf.Tensor3D; attention?: tf.Tensor4D } {
    if (!options.maps && maskedAttentionKernelActive()) return { output: this.applyOnKernel(x) };
    const [batch, tokens] = x.shape;
    const { heads } = this.options;
    const splitHeads = (t: tf.Tensor) =>
      t.reshape([batch, tokens, heads, this.headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D;

    const q = splitHeads(this.query.apply(x));
    const k = splitHeads(this.key.apply(x));
    const v = splitHeads(this.value.apply(x));

    let scores = tf.matMul(q, k, false, true).div(Math.sqrt(this.headDim)) as tf.Tensor4D;
    if (this.options.maskDiagonal) {
      const diagonal = tf.eye(tokens).mul(NEGATIVE_INFINITY_LOGIT);
      scores = scores.add(diagonal);
    }
    const attention = tf.softmax(scores) as tf.Tensor4D;
    const perHead = tf.matMul(attention, v); // [B, H, N, d]
    const merged = perHead.transpose([0, 2, 1, 3]).reshape([batch, tokens, heads * this.headDim]);
    return { output: this.project(x, merged as tf.Tensor3D), attention };
  }

  private applyOnKernel(x: tf.Tensor3D): tf.Tensor3D {
    const [batch, tokens] = x.shape;
    const scaled = tf.mul(this.query.apply(x), 1 / Math.sqrt(this.headDim)) as tf.Tensor3D;
    const everyKey = tf.ones([batch, tokens]) as tf.Tensor2D;
    const merged = maskedAttention(scaled, this.key.apply(x) as tf.Tensor3D, this.value.apply(x) as tf.Tensor3D, everyKey, this.options.heads, this.options.maskDiagonal);
    return this.project(x, merged);
  }

  /** The output projection of the merged heads [B, N, D] (with the token's own projection when `concat`). */
  private project(x: tf.Tensor3D, merged: tf.Tensor3D): tf.Tensor3D {
    const input = this.tokenProjection ? tf.concat([merged, this.tokenProjection.apply(x)], -1) : merged;
    return this.out.apply(input) as tf.Tensor3D;
  }

  parameters(): Parameter[] {
    return [this.query, this.key, this.value, this.tokenProjection, this.out].flatMap((layer) =>
      layer ? layer.parameters() : [],
    );
  }
}
