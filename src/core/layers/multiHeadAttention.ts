/**
 * Multi-head attention as in the Contextual Retrieval baseline ("Standard" in the official code):
 *   Q = x Wq, K = x Wk, V = x Wv               (D -> D, split into H heads of width d = D / H)
 *   A_h = softmax(Q_h K_h^T / sqrt(d))          (diagonal masked: a token cannot find itself)
 *   O_h = A_h V_h
 *   out = concat(O_1 .. O_H [, x Win]) Wo       (with `concat`, the token's own projection x Win, D -> d)
 * Returns the output and the attention maps A (B x H x N x N) for inspection. A forward that
 * does not need the maps (training) calls the selfAttention op, which runs on Model Lab's
 * masked-attention kernel when it is on: one kernel per pass instead of the head transposes,
 * products, softmax and mask.
 */
import * as tf from '@tensorflow/tfjs';
import { selfAttention, selfAttentionWithMaps } from '../kernels';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from './linear';

export interface MultiHeadAttentionOptions {
  dim: number;
  heads: number;
  concat: boolean;
  maskDiagonal: boolean;
}

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
    const { heads, maskDiagonal } = this.options;
    const [q, k, v] = [this.query, this.key, this.value].map((layer) => layer.apply(x) as tf.Tensor3D);
    if (!options.maps) return { output: this.project(x, selfAttention(q, k, v, heads, maskDiagonal)) };
    const { merged, maps } = selfAttentionWithMaps(q, k, v, heads, maskDiagonal);
    return { output: this.project(x, merged), attention: maps };
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
