/**
 * Trajectories of the diffusion sampler, drawn outside any gradient tape: forward (the policy,
 * optionally with exploration noise) from x_0 = 0, or backward by the fixed Brownian bridge from
 * given end points (true samples for the EUBO, replay-buffer samples for off-policy steps). Each
 * comes with its log-probabilities under both policies, computed in double precision in
 * JavaScript from the float32 states the network sees:
 *   log p_F(x_{i+1} | x_i) = log N(x_{i+1}; x_i + dt mu(x_i, t_i), t_scale dt I)
 *   log p_B(x_i | x_{i+1}) = log N(x_i; x_{i+1} i/(i+1), t_scale dt i/(i+1) I),  i = 1..T-1
 * (p_B(x_0 | x_1) is a point mass at 0), and log w = log R(x_T) + sum log p_B - sum log p_F.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { DiffusionSampler } from './sampler';
import type { SamplerTarget } from './targets';

const LOG_2PI = Math.log(2 * Math.PI);

export interface Trajectories {
  n: number;
  dimension: number;
  steps: number;
  /** States x_0..x_T of trajectory k at ((k * (T + 1)) + i) * d, float32 as the network saw them. */
  states: Float32Array;
  /** grad log R(x_i) for i = 0..T-1 at ((k * T) + i) * d: only with the Langevin parametrisation. */
  gradLogR?: Float32Array;
  /** Per trajectory: sum log p_F under the policy (no exploration), sum log p_B, log R(x_T), log w. */
  logPF: Float64Array;
  logPB: Float64Array;
  logR: Float64Array;
  logWeights: Float64Array;
  /** Evaluations of log R (and of its gradient, counted once each) this draw made. */
  energyEvaluations: number;
}

/** log R and its gradient at n points (row-major n x d). */
export function logDensityAndGradient(target: SamplerTarget, points: Float32Array, n: number): { logR: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor2d(points, [n, target.dimension]);
    const { value, grad } = tf.valueAndGrad((y: tf.Tensor) => tf.sum(target.logDensity(y as tf.Tensor2D)) as tf.Scalar)(x);
    value.dispose();
    return { logR: target.logDensity(x).dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
  });
}

export function logDensityOf(target: SamplerTarget, points: Float32Array, n: number): Float32Array {
  return tf.tidy(() => target.logDensity(tf.tensor2d(points, [n, target.dimension])).dataSync() as Float32Array);
}

/** sum_i log N(x_i; x_{i+1} i/(i+1), t_scale dt i/(i+1)) over i = 1..T-1 of one trajectory. */
export function backwardLogProbability(states: Float32Array, k: number, d: number, steps: number, tScale: number): number {
  const dt = 1 / steps;
  const base = k * (steps + 1) * d;
  let total = 0;
  for (let i = 1; i < steps; i++) {
    const ratio = i / (i + 1);
    const variance = tScale * dt * ratio;
    let squares = 0;
    for (let j = 0; j < d; j++) {
      const residual = states[base + i * d + j] - states[base + (i + 1) * d + j] * ratio;
      squares += residual * residual;
    }
    total += -0.5 * (squares / variance + d * (LOG_2PI + Math.log(variance)));
  }
  return total;
}

/** The constant part of sum log p_F over a trajectory: -T d/2 log(2 pi t_scale dt). */
export const forwardLogNormaliser = (d: number, steps: number, tScale: number) => -0.5 * steps * d * (LOG_2PI + Math.log(tScale / steps));

/** Rows (x_i, t_i[, grad log R(x_i)]) for i = 0..T-1 of every trajectory ([n, T, width] row-major): the network's batch. */
export function transitionInputs(sampler: DiffusionSampler, tr: Trajectories): Float32Array {
  const { n, steps, dimension: d } = tr;
  const width = sampler.inputWidth;
  const rows = new Float32Array(n * steps * width);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < steps; i++) {
      const row = (k * steps + i) * width;
      rows.set(tr.states.subarray((k * (steps + 1) + i) * d, (k * (steps + 1) + i + 1) * d), row);
      rows[row + d] = i / steps;
      if (tr.gradLogR) rows.set(tr.gradLogR.subarray((k * steps + i) * d, (k * steps + i + 1) * d), row + d + 1);
    }
  }
  return rows;
}

/** Increments x_{i+1} - x_i of every transition, [n * T, d]. */
export function transitionIncrements(tr: Trajectories): Float32Array {
  const { n, steps, dimension: d } = tr;
  const out = new Float32Array(n * steps * d);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < steps; i++) {
      for (let j = 0; j < d; j++) {
        const at = (k * (steps + 1) + i) * d + j;
        out[(k * steps + i) * d + j] = tr.states[at + d] - tr.states[at];
      }
    }
  }
  return out;
}

/**
 * n trajectories of the policy from x_0 = 0. `exploration` adds that standard deviation per step
 * to the sampling noise (the log-probabilities stay those of the policy itself).
 */
export function forwardTrajectories(sampler: DiffusionSampler, target: SamplerTarget, n: number, rng: Rng, exploration = 0): Trajectories {
  const { steps, tScale, dimension: d } = sampler;
  const dt = 1 / steps;
  const policyVariance = tScale * dt;
  const samplingStd = Math.sqrt(policyVariance + exploration * exploration);
  const states = new Float32Array(n * (steps + 1) * d);
  const gradLogR = sampler.langevin ? new Float32Array(n * steps * d) : undefined;
  const logPF = new Float64Array(n);
  let energyEvaluations = 0;
  let x = new Float32Array(n * d);
  for (let i = 0; i < steps; i++) {
    let grad: Float32Array | undefined;
    if (gradLogR) {
      grad = logDensityAndGradient(target, x, n).grad;
      energyEvaluations += n;
      for (let k = 0; k < n; k++) gradLogR.set(grad.subarray(k * d, (k + 1) * d), (k * steps + i) * d);
    }
    const mu = tf.tidy(() => {
      const g = grad ? tf.tensor2d(grad, [n, d]) : undefined;
      return sampler.drift(tf.tensor2d(x, [n, d]), tf.tensor1d([i * dt]), g).dataSync() as Float32Array;
    });
    const next = new Float32Array(n * d);
    for (let k = 0; k < n; k++) {
      let squares = 0;
      for (let j = 0; j < d; j++) {
        const at = k * d + j;
        next[at] = x[at] + dt * mu[at] + samplingStd * rng.normal();
        const residual = next[at] - x[at] - dt * mu[at];
        squares += residual * residual;
      }
      logPF[k] += -0.5 * (squares / policyVariance + d * (LOG_2PI + Math.log(policyVariance)));
      states.set(next.subarray(k * d, (k + 1) * d), (k * (steps + 1) + i + 1) * d);
    }
    x = next;
  }
  const logR = Float64Array.from(logDensityOf(target, x, n));
  energyEvaluations += n;
  return finish({ n, dimension: d, steps, states, gradLogR, logPF, logR, energyEvaluations }, tScale);
}

/**
 * n trajectories of the backward policy from the end points `finals` (n x d), with their
 * log p_F under the current policy (one batched pass of the network over all transitions).
 */
export function backwardTrajectories(sampler: DiffusionSampler, target: SamplerTarget, finals: Float32Array, n: number, rng: Rng): Trajectories {
  const { steps, tScale, dimension: d } = sampler;
  const dt = 1 / steps;
  const states = new Float32Array(n * (steps + 1) * d);
  for (let k = 0; k < n; k++) {
    const base = k * (steps + 1) * d;
    states.set(finals.subarray(k * d, (k + 1) * d), base + steps * d);
    for (let i = steps - 1; i >= 1; i--) {
      const ratio = i / (i + 1);
      const std = Math.sqrt(tScale * dt * ratio);
      for (let j = 0; j < d; j++) states[base + i * d + j] = states[base + (i + 1) * d + j] * ratio + std * rng.normal();
    }
  }
  let energyEvaluations = n;
  let gradLogR: Float32Array | undefined;
  if (sampler.langevin) {
    const points = new Float32Array(n * steps * d);
    for (let k = 0; k < n; k++) points.set(states.subarray(k * (steps + 1) * d, (k * (steps + 1) + steps) * d), k * steps * d);
    gradLogR = logDensityAndGradient(target, points, n * steps).grad;
    energyEvaluations += n * steps;
  }
  const partial: Omit<Trajectories, 'logPB' | 'logWeights'> = { n, dimension: d, steps, states, gradLogR, logPF: new Float64Array(n), logR: Float64Array.from(logDensityOf(target, finals, n)), energyEvaluations };
  partial.logPF = policyLogProbability(sampler, partial);
  return finish(partial, tScale);
}

/** sum log p_F of each trajectory under the current policy, from one batched pass over its transitions. */
export function policyLogProbability(sampler: DiffusionSampler, tr: Omit<Trajectories, 'logPB' | 'logWeights'>): Float64Array {
  const { n, steps, dimension: d } = tr;
  const dt = 1 / steps;
  const variance = sampler.tScale * dt;
  const full = tr as Trajectories;
  const mu = tf.tidy(() => sampler.forward(tf.tensor3d(transitionInputs(sampler, full), [n, steps, sampler.inputWidth])).output.dataSync() as Float32Array);
  const increments = transitionIncrements(full);
  const logPF = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let squares = 0;
    for (let r = k * steps * d; r < (k + 1) * steps * d; r++) {
      const residual = increments[r] - dt * mu[r];
      squares += residual * residual;
    }
    logPF[k] = -0.5 * squares / variance + forwardLogNormaliser(d, steps, sampler.tScale);
  }
  return logPF;
}

function finish(tr: Omit<Trajectories, 'logPB' | 'logWeights'>, tScale: number): Trajectories {
  const logPB = new Float64Array(tr.n);
  const logWeights = new Float64Array(tr.n);
  for (let k = 0; k < tr.n; k++) {
    logPB[k] = backwardLogProbability(tr.states, k, tr.dimension, tr.steps, tScale);
    logWeights[k] = tr.logR[k] + logPB[k] - tr.logPF[k];
  }
  return { ...tr, logPB, logWeights } as Trajectories;
}

/** The end points x_T, n x d. */
export function finalStates(tr: Trajectories): Float32Array {
  const { n, steps, dimension: d } = tr;
  const out = new Float32Array(n * d);
  for (let k = 0; k < n; k++) out.set(tr.states.subarray((k * (steps + 1) + steps) * d, (k * (steps + 1) + steps + 1) * d), k * d);
  return out;
}

/** The first `count` trajectories' states, (T + 1) points each. */
export function firstPaths(tr: Trajectories, count: number): Float32Array {
  return tr.states.slice(0, Math.min(count, tr.n) * (tr.steps + 1) * tr.dimension);
}

/** What the Sampler panel and `model-lab sample` read: samples, log-weights and the first `keep` paths. */
export interface SampledTrajectories {
  /** x_T, n x d. */
  final: Float32Array;
  logWeights: Float32Array;
  /** Trajectory k's point i (i = 0..T) at (k * (T + 1) + i) * d; present when keep > 0. */
  paths?: Float32Array;
  trajectories: Trajectories;
}

/** n on-policy samples (no exploration) with their log-weights, and the first `keep` paths in full. */
export function sampleTrajectories(sampler: DiffusionSampler, target: SamplerTarget, n: number, rng: Rng, { keep = 0 }: { keep?: number } = {}): SampledTrajectories {
  const trajectories = forwardTrajectories(sampler, target, n, rng);
  return {
    final: finalStates(trajectories),
    logWeights: Float32Array.from(trajectories.logWeights),
    paths: keep > 0 ? firstPaths(trajectories, keep) : undefined,
    trajectories,
  };
}
