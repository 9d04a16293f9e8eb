/** Pieces shared by the probabilistic models: the N(0, I) prior, masked sums, tokens. */
import * as tf from '@tensorflow/tfjs';
import type { Points, ProbabilisticModel } from './types';

export const LOG_2PI = Math.log(2 * Math.PI);

/** log N(theta; 0, I) over the last axis: [..., P] -> [...]. */
export function logStandardNormal(theta: tf.Tensor): tf.Tensor {
  const dim = theta.shape[theta.shape.length - 1];
  return tf.sub(tf.mul(tf.sum(tf.square(theta), -1), -0.5), (dim / 2) * LOG_2PI);
}

/** Sum over points of valid entries: values [B, S, N], mask [B, N] -> [B, S]. */
export function maskedSum(values: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(values, tf.expandDims(mask, 1)), -1);
}

/** Mean over points of valid entries: values [B, S, N], mask [B, N] -> [B, S]. */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const count = tf.maximum(tf.sum(mask, -1, true), 1); // [B, 1]
  return tf.div(maskedSum(values, mask), count);
}

/** One token per point: x, [x, y] or [x, onehot(y)] -> Float32Array [n, tokenDim]. */
export function tokensOf(model: ProbabilisticModel, points: Points, n: number): Float32Array {
  const { xDim, tokenDim } = model;
  const tokens = new Float32Array(n * tokenDim);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < xDim; f++) tokens[i * tokenDim + f] = points.x[i * xDim + f];
    if (model.target === 'real') tokens[i * tokenDim + xDim] = points.y[i];
    else if (model.target === 'class') tokens[i * tokenDim + xDim + points.y[i]] = 1;
  }
  return tokens;
}

/** theta [B, S, P] -> [B*S, P] plus a function to fold [B*S, ...] back to [B, S, ...]. */
export function flattenSamples(theta: tf.Tensor) {
  const [batch, samples, dim] = theta.shape;
  return {
    flat: tf.reshape(theta, [batch * samples, dim]),
    unflatten: (t: tf.Tensor) => tf.reshape(t, [batch, samples, ...t.shape.slice(1)]),
  };
}
