/**
 * PIS (path integral sampler) as the paper trains it: the reverse KL between the sampler's path
 * measure and the target's, estimated on reparameterised trajectories,
 *   loss = mean over trajectories of (sum log p_F - sum log p_B - log R(x_T)),
 * with x_{i+1} = x_i + dt mu(x_i, t_i) + sqrt(t_scale dt) eps_i and the noise eps drawn once per
 * step (outside the tape). The gradient flows through every state, so this loss, unlike TB,
 * backpropagates through the T steps one after the other. log p_F of a reparameterised step is
 * -|eps|^2/2 + const, independent of the weights. With the Langevin parametrisation the gradient
 * does not flow through grad log R (as in the official code, which detaches it).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { DiffusionSampler } from './sampler';
import type { SamplerTarget } from './targets';

const LOG_2PI = Math.log(2 * Math.PI);

/** grad log R at x as a constant (no path back to x). */
function detachedGradient(target: SamplerTarget, x: tf.Tensor2D): tf.Tensor2D {
  const values = x.dataSync() as Float32Array;
  const grad = tf.tidy(() => tf.grad((y: tf.Tensor) => tf.sum(target.logDensity(y as tf.Tensor2D)))(tf.tensor2d(values, x.shape)).dataSync() as Float32Array);
  return tf.tensor2d(grad, x.shape);
}

/** Standard normal noise for n trajectories of `steps` steps, step-major ([T, n, d]). */
export function pisNoise(sampler: DiffusionSampler, n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: sampler.steps * n * sampler.dimension }, () => rng.normal());
}

/** The PIS loss on the trajectories that `noise` drives (differentiable in the sampler's weights). */
export function pisLoss(sampler: DiffusionSampler, target: SamplerTarget, noise: Float32Array, n: number): tf.Scalar {
  const { steps, tScale, dimension: d } = sampler;
  const dt = 1 / steps;
  const variance = tScale * dt;
  // sum log p_F per trajectory: it depends on the noise only.
  const logPF = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    let total = 0;
    for (let i = 0; i < steps; i++) {
      let squares = 0;
      for (let j = 0; j < d; j++) squares += noise[(i * n + k) * d + j] ** 2;
      total += -0.5 * (squares + d * (LOG_2PI + Math.log(variance)));
    }
    logPF[k] = total;
  }
  let x = tf.zeros([n, d]) as tf.Tensor2D;
  let logPB: tf.Tensor = tf.zeros([n]);
  for (let i = 0; i < steps; i++) {
    const eps = tf.tensor2d(noise.subarray(i * n * d, (i + 1) * n * d), [n, d]);
    const gradLogR = sampler.langevin ? detachedGradient(target, x) : undefined;
    const mu = sampler.drift(x, tf.tensor1d([i * dt]), gradLogR);
    const next = tf.add(tf.add(x, tf.mul(mu, dt)), tf.mul(eps, Math.sqrt(variance))) as tf.Tensor2D;
    if (i > 0) {
      const ratio = i / (i + 1);
      const backwardVariance = variance * ratio;
      const squares = tf.sum(tf.square(tf.sub(x, tf.mul(next, ratio))), 1);
      logPB = tf.add(logPB, tf.mul(tf.add(tf.div(squares, backwardVariance), d * (LOG_2PI + Math.log(backwardVariance))), -0.5));
    }
    x = next;
  }
  return tf.mean(tf.sub(tf.sub(tf.tensor1d(logPF), logPB), target.logDensity(x))) as tf.Scalar;
}
