/** Gaussian mean (GM): x_i ~ N(mu, I), mu ~ N(0, I) in d dimensions. theta = mu. */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';
import { LOG_2PI, maskedMean, maskedSum } from './common';
import type { Points, ProbabilisticModel } from './types';

/** Squared distances ||x_n - mu_s||^2: theta [B, S, d], x [B, N, d] -> [B, S, N]. */
export function squaredDistances(mu: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), tf.expandDims(mu, 2))), -1);
}

export class GaussianMeanModel implements ProbabilisticModel {
  readonly name = 'gaussian-mean';
  readonly thetaDim: number;
  readonly xDim: number;
  readonly target = 'none' as const;
  readonly classes = 0;
  readonly tokenDim: number;
  readonly predictive = 'l2' as const;

  constructor(readonly dim: number) {
    this.thetaDim = dim;
    this.xDim = dim;
    this.tokenDim = dim;
  }

  simulate(theta: ArrayLike<number>, n: number, rng: Rng): Points {
    const x = new Float32Array(n * this.dim);
    for (let i = 0; i < n; i++) for (let f = 0; f < this.dim; f++) x[i * this.dim + f] = theta[f] + rng.normal();
    return { x, y: new Float32Array(n) };
  }

  logLikelihood(theta: tf.Tensor, x: tf.Tensor, _y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const perPoint = tf.sub(tf.mul(squaredDistances(theta, x), -0.5), (this.dim / 2) * LOG_2PI);
    return maskedSum(perPoint, mask);
  }

  predictiveScore(theta: tf.Tensor, x: tf.Tensor, _y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return maskedMean(squaredDistances(theta, x), mask);
  }
}
