/**
 * Posterior families q(theta | c), where c [B, 2P] is the network's head output, read as a
 * mean and a log-variance (as in the official code):
 * - gaussian: N(mean, diag(exp(logVariance)));
 * - flow: a conditional normalising flow. Sampling maps base noise z ~ N(0, I) through K blocks
 *   (actnorm, affine coupling conditioned on c, fixed permutation) and then the conditional
 *   affine layer theta = mean + exp(logVariance / 2) u. The affine layer comes last when
 *   sampling (first when evaluating a density), so the coupling blocks work in a standardised
 *   space; their output layers start at zero, so an untrained flow is the Gaussian family.
 * Both directions are exact and differentiable: forward KL evaluates densities, reverse KL
 * draws reparameterised samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from '../layers/linear';
import { logStandardNormal } from './models/common';

export type FamilyKind = 'gaussian' | 'flow';

export interface FlowOptions {
  blocks: number;
  hidden: number;
}

export interface PosteriorFamily {
  readonly kind: FamilyKind;
  /** dim theta (P). */
  readonly dim: number;
  /** Width of the condition the network must output (2P). */
  readonly conditionSize: number;
  parameters(): Parameter[];
  /** log q(theta | c): condition [B, 2P], theta [B, S, P] -> [B, S]. */
  logProb(condition: tf.Tensor, theta: tf.Tensor): tf.Tensor;
  /** Reparameterised samples from base noise: noise [B, S, P] -> theta [B, S, P], log q [B, S]. */
  sample(condition: tf.Tensor, noise: tf.Tensor): { theta: tf.Tensor; logProb: tf.Tensor };
}

/** Log-variances are clamped like the official code does, so exp() never overflows. */
const LOG_VARIANCE_RANGE = [-30, 20] as const;

/** mean, logVariance [B, 1, P] from a condition [B, 2P] (broadcast over samples). */
export function splitCondition(condition: tf.Tensor, dim: number) {
  const [mean, logVariance] = tf.split(condition, [dim, dim], -1);
  return {
    mean: tf.expandDims(mean, 1),
    logVariance: tf.expandDims(tf.clipByValue(logVariance, ...LOG_VARIANCE_RANGE), 1),
  };
}

export class GaussianFamily implements PosteriorFamily {
  readonly kind = 'gaussian' as const;
  readonly conditionSize: number;

  constructor(readonly dim: number) {
    this.conditionSize = 2 * dim;
  }

  parameters(): Parameter[] {
    return [];
  }

  logProb(condition: tf.Tensor, theta: tf.Tensor): tf.Tensor {
    const { mean, logVariance } = splitCondition(condition, this.dim);
    const standardised = tf.mul(tf.sub(theta, mean), tf.exp(tf.mul(logVariance, -0.5)));
    return tf.sub(logStandardNormal(standardised), tf.mul(tf.sum(logVariance, -1), 0.5));
  }

  sample(condition: tf.Tensor, noise: tf.Tensor) {
    const { mean, logVariance } = splitCondition(condition, this.dim);
    const theta = tf.add(mean, tf.mul(tf.exp(tf.mul(logVariance, 0.5)), noise));
    return { theta, logProb: tf.sub(logStandardNormal(noise), tf.mul(tf.sum(logVariance, -1), 0.5)) };
  }
}

/** Soft clamp of the coupling log-scales to (-2, 2), for stable training. */
const softClamp = (s: tf.Tensor) => tf.mul(tf.tanh(tf.div(s, 2)), 2);

/** Per-dimension learned scale and shift (data-independent initialisation at the identity). */
class ActNorm {
  readonly logScale: tf.Variable;
  readonly shift: tf.Variable;

  constructor(readonly name: string, dim: number) {
    this.logScale = tf.tidy(() => tf.variable(tf.zeros([dim])));
    this.shift = tf.tidy(() => tf.variable(tf.zeros([dim])));
  }

  parameters(): Parameter[] {
    return [
      { name: `${this.name}.log_scale`, variable: this.logScale },
      { name: `${this.name}.shift`, variable: this.shift },
    ];
  }
}

/**
 * theta-side half b is scaled and shifted by functions of the other half a and the condition:
 * b' = b exp(s(a, c)) + t(a, c). With P = 1 the half a is empty and s, t depend on c only.
 */
class AffineCoupling {
  readonly kept: number;
  readonly changed: number;
  readonly subnet: Linear[];

  constructor(name: string, dim: number, conditionSize: number, hidden: number, rng: Rng) {
    this.kept = Math.floor(dim / 2);
    this.changed = dim - this.kept;
    this.subnet = [
      new Linear(`${name}.subnet.0`, this.kept + conditionSize, hidden, rng),
      new Linear(`${name}.subnet.2`, hidden, hidden, rng),
      new Linear(`${name}.subnet.4`, hidden, 2 * this.changed, rng),
    ];
    // Zero output layer: the block starts as the identity (as the official subnets do).
    const last = this.subnet[2];
    tf.tidy(() => {
      last.kernel.assign(tf.zerosLike(last.kernel));
      last.bias?.assign(tf.zerosLike(last.bias));
    });
  }

  /** (s, t), each [B, S, changed], from the kept half a [B, S, kept] and the condition [B, S, C]. */
  scaleAndShift(kept: tf.Tensor, condition: tf.Tensor) {
    let h = this.kept > 0 ? tf.concat([kept, condition], -1) : condition;
    h = this.subnet[0].applyRelu(h);
    h = this.subnet[1].applyRelu(h);
    const [s, t] = tf.split(this.subnet[2].apply(h), 2, -1);
    return { s: softClamp(s), t };
  }

  parameters(): Parameter[] {
    return this.subnet.flatMap((l) => l.parameters());
  }
}

interface FlowBlock {
  actNorm: ActNorm;
  coupling: AffineCoupling;
  /** u -> u[permutation] as a 0/1 matrix [P, P], and its inverse (the transpose). */
  permutation: Float32Array;
  inversePermutation: Float32Array;
}

/**
 * Permutes the last axis by a matrix product: tf.gather's gradient needs a kernel
 * (UnsortedSegmentSum) that the wasm backend does not have. The matrix is rebuilt per call
 * (inside the caller's tidy) so that a family owns no tensors besides its variables.
 */
function permute(u: tf.Tensor, matrix: Float32Array, dim: number): tf.Tensor {
  const flat = tf.reshape(u, [-1, dim]);
  return tf.reshape(tf.matMul(flat, tf.tensor2d(matrix, [dim, dim])), u.shape);
}

/** M with (u M)[to] = u[order[to]]. */
function permutationMatrix(order: number[]): Float32Array {
  const n = order.length;
  const matrix = new Float32Array(n * n);
  order.forEach((from, to) => (matrix[from * n + to] = 1));
  return matrix;
}

export class FlowFamily implements PosteriorFamily {
  readonly kind = 'flow' as const;
  readonly conditionSize: number;
  private readonly blocks: FlowBlock[];

  constructor(readonly name: string, readonly dim: number, options: FlowOptions, rng: Rng) {
    this.conditionSize = 2 * dim;
    this.blocks = Array.from({ length: options.blocks }, (_, k) => {
      const order = shuffled(dim, rng);
      const inverseOrder = new Array<number>(dim);
      order.forEach((from, to) => (inverseOrder[from] = to));
      return {
        actNorm: new ActNorm(`${name}.blocks.${k}.actnorm`, dim),
        coupling: new AffineCoupling(`${name}.blocks.${k}.coupling`, dim, this.conditionSize, options.hidden, rng),
        permutation: permutationMatrix(order),
        inversePermutation: permutationMatrix(inverseOrder),
      };
    });
  }

  parameters(): Parameter[] {
    return this.blocks.flatMap((b) => [...b.actNorm.parameters(), ...b.coupling.parameters()]);
  }

  /** Sampling direction: z [B, S, P] -> theta [B, S, P] and log |det d theta / d z| [B, S]. */
  transform(condition: tf.Tensor, z: tf.Tensor): { theta: tf.Tensor; logDet: tf.Tensor } {
    const [batch, samples] = z.shape as number[];
    const perSample = tf.tile(tf.expandDims(condition, 1), [1, samples, 1]);
    let u = z;
    let logDet: tf.Tensor = tf.zeros([batch, samples]);
    for (const { actNorm, coupling, permutation } of this.blocks) {
      u = tf.add(tf.mul(u, tf.exp(actNorm.logScale)), actNorm.shift);
      logDet = tf.add(logDet, tf.sum(actNorm.logScale));
      const [kept, changed] = tf.split(u, [coupling.kept, coupling.changed], -1);
      const { s, t } = coupling.scaleAndShift(kept, perSample);
      u = tf.concat([kept, tf.add(tf.mul(changed, tf.exp(s)), t)], -1);
      logDet = tf.add(logDet, tf.sum(s, -1));
      u = permute(u, permutation, this.dim);
    }
    const { mean, logVariance } = splitCondition(condition, this.dim);
    const theta = tf.add(mean, tf.mul(tf.exp(tf.mul(logVariance, 0.5)), u));
    return { theta, logDet: tf.add(logDet, tf.mul(tf.sum(logVariance, -1), 0.5)) };
  }

  /** Density direction: theta -> z and log |det d z / d theta|. */
  inverse(condition: tf.Tensor, theta: tf.Tensor): { z: tf.Tensor; logDet: tf.Tensor } {
    const samples = theta.shape[1]!;
    const perSample = tf.tile(tf.expandDims(condition, 1), [1, samples, 1]);
    const { mean, logVariance } = splitCondition(condition, this.dim);
    let u = tf.mul(tf.sub(theta, mean), tf.exp(tf.mul(logVariance, -0.5)));
    let logDet = tf.mul(tf.sum(logVariance, -1), -0.5);
    for (let k = this.blocks.length - 1; k >= 0; k--) {
      const { actNorm, coupling, inversePermutation } = this.blocks[k];
      u = permute(u, inversePermutation, this.dim);
      const [kept, changed] = tf.split(u, [coupling.kept, coupling.changed], -1);
      const { s, t } = coupling.scaleAndShift(kept, perSample);
      u = tf.concat([kept, tf.mul(tf.sub(changed, t), tf.exp(tf.neg(s)))], -1);
      logDet = tf.sub(logDet, tf.sum(s, -1));
      u = tf.mul(tf.sub(u, actNorm.shift), tf.exp(tf.neg(actNorm.logScale)));
      logDet = tf.sub(logDet, tf.sum(actNorm.logScale));
    }
    return { z: u, logDet };
  }

  logProb(condition: tf.Tensor, theta: tf.Tensor): tf.Tensor {
    const { z, logDet } = this.inverse(condition, theta);
    return tf.add(logStandardNormal(z), logDet);
  }

  sample(condition: tf.Tensor, noise: tf.Tensor) {
    const { theta, logDet } = this.transform(condition, noise);
    return { theta, logProb: tf.sub(logStandardNormal(noise), logDet) };
  }
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export function createFamily(kind: FamilyKind, name: string, dim: number, flow: FlowOptions, rng: Rng): PosteriorFamily {
  return kind === 'gaussian' ? new GaussianFamily(dim) : new FlowFamily(name, dim, flow, rng);
}

