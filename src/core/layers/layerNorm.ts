/**
 * Layer normalisation over the last axis with a learned gain and bias, as PyTorch's
 * `nn.LayerNorm` (biased variance, eps 1e-5 inside the square root; parameters `<name>.weight`
 * and `<name>.bias`): the layerNorm op (kernels/layerNorm.ts, one wasm kernel each way where
 * Model Lab's kernels are on).
 */
import * as tf from '@tensorflow/tfjs';
import { layerNorm } from '../kernels/layerNorm';
import type { Parameter } from '../registry';

const EPSILON = 1e-5;

export class LayerNorm {
  readonly gain: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly name: string, dim: number) {
    this.gain = tf.tidy(() => tf.variable(tf.ones([dim])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([dim])));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.gain, this.bias, EPSILON);
  }

  parameters(): Parameter[] {
    return [
      { name: `${this.name}.weight`, variable: this.gain },
      { name: `${this.name}.bias`, variable: this.bias },
    ];
  }
}
