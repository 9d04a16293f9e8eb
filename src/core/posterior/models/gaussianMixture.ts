/**
 * Means of a Gaussian mixture (GMM): K equal-weight components N(mu_k, 0.1 I) in d dimensions,
 * mu_k ~ N(0, I). theta = [mu_1, ..., mu_K] (K d numbers). The posterior is multimodal (the
 * components can be relabelled), which a Gaussian q cannot represent.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';
import { LOG_2PI, maskedMean, maskedSum } from './common';
import type { Points, ProbabilisticModel } from './types';

export const GMM_VARIANCE = 0.1;

export class GaussianMixtureModel implements ProbabilisticModel {
  readonly name = 'gaussian-mixture';
  readonly thetaDim: number;
  readonly xDim: number;
  readonly target = 'none' as const;
  readonly classes = 0;
  readonly tokenDim: number;
  readonly predictive = 'l2' as const;

  constructor(readonly dim: number, readonly clusters: number) {
    this.thetaDim = dim * clusters;
    this.xDim = dim;
    this.tokenDim = dim;
  }

  simulate(theta: ArrayLike<number>, n: number, rng: Rng): Points {
    const x = new Float32Array(n * this.dim);
    const scale = Math.sqrt(GMM_VARIANCE);
    for (let i = 0; i < n; i++) {
      const k = rng.int(this.clusters);
      for (let f = 0; f < this.dim; f++) x[i * this.dim + f] = theta[k * this.dim + f] + scale * rng.normal();
    }
    return { x, y: new Float32Array(n) };
  }

  /** ||x_n - mu_{s,k}||^2: theta [B, S, K d], x [B, N, d] -> [B, S, N, K]. */
  private squaredDistances(theta: tf.Tensor, x: tf.Tensor): tf.Tensor {
    const [batch, samples] = theta.shape as number[];
    const means = tf.reshape(theta, [batch, samples, 1, this.clusters, this.dim]);
    const points = tf.reshape(x, [batch, 1, x.shape[1]!, 1, this.dim]);
    return tf.sum(tf.square(tf.sub(points, means)), -1);
  }

  logLikelihood(theta: tf.Tensor, x: tf.Tensor, _y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const logComponent = tf.sub(
      tf.mul(this.squaredDistances(theta, x), -0.5 / GMM_VARIANCE),
      (this.dim / 2) * (LOG_2PI + Math.log(GMM_VARIANCE)) + Math.log(this.clusters),
    );
    return maskedSum(tf.logSumExp(logComponent, -1), mask);
  }

  /** Squared distance to the nearest component mean, as in the paper. */
  predictiveScore(theta: tf.Tensor, x: tf.Tensor, _y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return maskedMean(tf.min(this.squaredDistances(theta, x), -1), mask);
  }
}
