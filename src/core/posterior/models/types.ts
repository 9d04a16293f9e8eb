/**
 * A probabilistic model p(theta) p(D | theta) that the amortized posterior learns to invert.
 * Every model here has the prior N(0, I) on theta (as in the notes). Data sets are sets of
 * points; each point has features `x` and, for supervised models, a target `y` (a real number
 * or a class index). The network sees one token per point: x, [x, y] or [x, onehot(y)].
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';

export type TargetKind = 'none' | 'real' | 'class';

/** Points of one data set, row-major: x is [n, xDim], y is [n] (unused when target is 'none'). */
export interface Points {
  x: Float32Array;
  y: Float32Array;
}

export interface ProbabilisticModel {
  /** Short name, e.g. 'gaussian-mean'. */
  readonly name: string;
  readonly thetaDim: number;
  /** Features per point (for density models: the observation itself). */
  readonly xDim: number;
  readonly target: TargetKind;
  /** Number of classes when target is 'class' (else 0). */
  readonly classes: number;
  /** Width of one token given to the network. */
  readonly tokenDim: number;
  /** The predictive metric on held-out points: squared error or accuracy. */
  readonly predictive: 'l2' | 'accuracy';

  /** Draws n points from p(. | theta). */
  simulate(theta: ArrayLike<number>, n: number, rng: Rng): Points;

  /**
   * log p(D | theta) summed over the valid points of each data set.
   * theta [B, S, P], x [B, N, xDim], y [B, N], mask [B, N] (1 = point, 0 = padding) -> [B, S].
   */
  logLikelihood(theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Tensor;

  /**
   * Predictive score of each parameter sample on held-out points, averaged over the valid
   * points: squared error (summed over output dimensions) or 0/1 accuracy.
   * theta [B, S, P], x [B, M, xDim], y [B, M], mask [B, M] -> [B, S].
   */
  predictiveScore(theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Tensor;
}
