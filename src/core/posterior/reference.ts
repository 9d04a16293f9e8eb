/**
 * Reference posteriors for data sets of a probabilistic model, the baselines the amortized
 * network is compared with: per-data-set MAP (or MLE) with Adam, Langevin dynamics (MALA, or
 * unadjusted) and Hamiltonian Monte Carlo (leapfrog, fixed step size and steps, Metropolis
 * correction). The target is log p(theta) + log p(D | theta), with the model's N(0, I) prior and
 * its tensor log-likelihood; gradients come from tfjs autodiff. All B data sets of a DataSets
 * batch and all chains run at once as one [B, S, P] tensor (chains are independent: the gradient
 * of the summed log density w.r.t. one chain is that chain's own gradient). The chain state lives
 * in plain double arrays; only the density and its gradient go through tfjs. Seeded: the same call
 * gives the same samples.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../rng';
import { dataSetTensors, type DataSets } from './dataSets';
import { logStandardNormal } from './models/common';
import type { ProbabilisticModel } from './models/types';

/** Log density and its gradient at every chain: theta [B * S * P] -> logDensity [B * S], gradient [B * S * P]. */
export type LogDensityEvaluator = (theta: Float64Array) => { logDensity: Float64Array; gradient: Float64Array };

/**
 * The (unnormalised) log posterior of every data set in `sets`, for S chains per data set.
 * Owns the data tensors: call dispose() when done.
 */
export function logPosteriorEvaluator(
  model: ProbabilisticModel,
  sets: DataSets,
  chains: number,
  options: { prior?: boolean } = {},
): { evaluate: LogDensityEvaluator; dispose(): void } {
  const withPrior = options.prior ?? true;
  const { x, y, mask } = dataSetTensors(sets);
  const shape: [number, number, number] = [sets.count, chains, model.thetaDim];
  const logDensity = (theta: tf.Tensor) => {
    const likelihood = model.logLikelihood(theta, x, y, mask);
    return withPrior ? tf.add(likelihood, logStandardNormal(theta)) : likelihood;
  };
  const evaluate: LogDensityEvaluator = (theta) => {
    let perChain: tf.Tensor | undefined;
    const summed = (t: tf.Tensor) => {
      // Kept so it survives the gradient's own tidy; disposed below.
      perChain = tf.keep(logDensity(t));
      return tf.sum(perChain) as tf.Scalar;
    };
    const gradient = tf.tidy(() => tf.grad(summed)(tf.tensor3d(Float32Array.from(theta), shape)));
    const result = { logDensity: Float64Array.from(perChain!.dataSync()), gradient: Float64Array.from(gradient.dataSync()) };
    tf.dispose([perChain!, gradient]);
    return result;
  };
  return { evaluate, dispose: () => tf.dispose([x, y, mask]) };
}

/** [B * S * P] -> [B][S * ...][P]: the samples of each data set, chains one after another. */
function perDataSet(count: number, perSet: number, dim: number, flat: Float64Array): number[][][] {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: perSet }, (_, s) => Array.from(flat.subarray((b * perSet + s) * dim, (b * perSet + s + 1) * dim))),
  );
}

function normals(rng: Rng, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return out;
}

/** Starting points of S chains per data set: given ([B][S][P] or one [P] for all), else draws from the prior. */
function initialState(count: number, chains: number, dim: number, rng: Rng, init?: number[][][]): Float64Array {
  if (!init) return normals(rng, count * chains * dim);
  if (init.length !== count || init.some((set) => set.length !== chains || set.some((t) => t.length !== dim))) {
    throw new Error(`init must be [${count}][${chains}][${dim}] (data sets x chains x parameters)`);
  }
  return Float64Array.from(init.flat(2));
}

function requirePositiveInteger(value: number, what: string) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer, got ${value}`);
}
function requirePositive(value: number, what: string) {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${what} must be a positive number, got ${value}`);
}

// ------------------------------------------------------------------ MAP / MLE with Adam

export interface MapOptions {
  steps: number;
  learningRate: number;
  /** false: maximum likelihood (the paper's "MLE" baseline). Default true (MAP). */
  prior?: boolean;
  /** Start [B][P]; default theta = 0 (the prior mode). */
  init?: number[][];
}

/**
 * Per-data-set MAP (or MLE) by Adam ascent on the log posterior. Adam is elementwise, so the data
 * sets do not interact. The learning rate decays exponentially to 1% of its start over the run,
 * so the iterate settles at the mode instead of hovering around it.
 * Returns theta [B][P] and the final log density [B].
 */
export function mapEstimate(model: ProbabilisticModel, sets: DataSets, options: MapOptions): { theta: number[][]; logDensity: number[] } {
  requirePositiveInteger(options.steps, 'steps');
  requirePositive(options.learningRate, 'learningRate');
  const P = model.thetaDim;
  const theta = options.init ? Float64Array.from(options.init.flat()) : new Float64Array(sets.count * P);
  if (theta.length !== sets.count * P) throw new Error(`init must be [${sets.count}][${P}]`);
  const { evaluate, dispose } = logPosteriorEvaluator(model, sets, 1, { prior: options.prior });
  const beta1 = 0.9;
  const beta2 = 0.999;
  const epsilon = 1e-8;
  const m = new Float64Array(theta.length);
  const v = new Float64Array(theta.length);
  try {
    for (let t = 1; t <= options.steps; t++) {
      const { gradient } = evaluate(theta);
      const rate = options.learningRate * Math.pow(0.01, (t - 1) / options.steps);
      for (let i = 0; i < theta.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * gradient[i];
        v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i];
        const mHat = m[i] / (1 - beta1 ** t);
        const vHat = v[i] / (1 - beta2 ** t);
        theta[i] += (rate * mHat) / (Math.sqrt(vHat) + epsilon); // ascent
      }
    }
    const { logDensity } = evaluate(theta);
    return { theta: perDataSet(sets.count, 1, P, theta).map((set) => set[0]), logDensity: Array.from(logDensity) };
  } finally {
    dispose();
  }
}

// ------------------------------------------------------------------ MCMC

export interface McmcOptions {
  /** Independent chains per data set. */
  chains: number;
  /** Iterations discarded at the start of each chain. */
  warmup: number;
  /** Iterations kept per chain after warm-up (every `thin`-th). */
  samples: number;
  stepSize: number;
  seed: number | string;
  /** Keep every thin-th state (default 1). */
  thin?: number;
  /**
   * Where the chains start: 'prior' (default, draws from N(0, I)), 'map' (every chain at the
   * data set's MAP, from a short Adam run; warm-up spreads them) or explicit states [B][chains][P].
   * HMC with a fixed step size sheds the energy of a start far out in the prior only slowly, so
   * 'map' shortens the warm-up it needs for concentrated posteriors.
   */
  init?: 'prior' | 'map' | number[][][];
}

/** Adam settings of the 'map' start (enough to land near the mode; warm-up does the rest). */
const MAP_START = { steps: 200, learningRate: 0.1 };

export interface McmcResult {
  /** [B][chains * samples][P]: the kept states of each data set, chain after chain. */
  samples: number[][][];
  /** Fraction of accepted proposals per data set, after warm-up (1 for unadjusted Langevin). */
  acceptance: number[];
}

export interface LangevinOptions extends McmcOptions {
  /** true (default): MALA, Metropolis-adjusted; false: unadjusted Langevin (biased by O(stepSize)). */
  metropolis?: boolean;
}

export interface HmcOptions extends McmcOptions {
  /** Leapfrog steps per proposal. */
  leapfrogSteps: number;
}

/**
 * A proposal kernel: from the current states (with their log densities and gradients) and the
 * step's randomness, the proposed states and the log Metropolis ratio of each chain
 * (undefined: always accept).
 */
interface Kernel {
  step(current: State, rng: Rng): { proposal: State; logRatio?: Float64Array };
}

interface State {
  theta: Float64Array;
  logDensity: Float64Array;
  gradient: Float64Array;
}

function runChains(model: ProbabilisticModel, sets: DataSets, options: McmcOptions, makeKernel: (evaluate: LogDensityEvaluator) => Kernel): McmcResult {
  requirePositiveInteger(options.chains, 'chains');
  requirePositiveInteger(options.samples, 'samples');
  requirePositive(options.stepSize, 'stepSize');
  const thin = options.thin ?? 1;
  requirePositiveInteger(thin, 'thin');
  if (!Number.isInteger(options.warmup) || options.warmup < 0) throw new Error(`warmup must be a non-negative integer, got ${options.warmup}`);

  const { chains, samples, warmup } = options;
  const P = model.thetaDim;
  const B = sets.count;
  const rng = createRng(options.seed, 'reference-mcmc');
  const { evaluate, dispose } = logPosteriorEvaluator(model, sets, chains);
  const kernel = makeKernel(evaluate);
  const kept = new Float64Array(B * chains * samples * P);
  const accepted = new Float64Array(B);
  try {
    const theta = options.init === 'map'
      ? Float64Array.from(mapEstimate(model, sets, MAP_START).theta.flatMap((mode) => new Array<number[]>(chains).fill(mode)).flat())
      : initialState(B, chains, P, rng, options.init === 'prior' ? undefined : options.init);
    let state: State = { theta, ...evaluate(theta) };
    const iterations = warmup + samples * thin;
    for (let it = 0; it < iterations; it++) {
      const { proposal, logRatio } = kernel.step(state, rng);
      const counting = it >= warmup;
      if (!logRatio) {
        state = proposal;
        if (counting) for (let b = 0; b < B; b++) accepted[b] += chains;
      } else {
        for (let c = 0; c < B * chains; c++) {
          // NaN (a diverging trajectory) compares false: rejected.
          if (Math.log(rng.next()) < logRatio[c]) {
            state.theta.set(proposal.theta.subarray(c * P, (c + 1) * P), c * P);
            state.gradient.set(proposal.gradient.subarray(c * P, (c + 1) * P), c * P);
            state.logDensity[c] = proposal.logDensity[c];
            if (counting) accepted[Math.floor(c / chains)] += 1;
          }
        }
      }
      const k = it - warmup;
      if (counting && (k + 1) % thin === 0) {
        const index = (k + 1) / thin - 1;
        for (let c = 0; c < B * chains; c++) {
          const b = Math.floor(c / chains);
          const chain = c % chains;
          kept.set(state.theta.subarray(c * P, (c + 1) * P), ((b * chains + chain) * samples + index) * P);
        }
      }
    }
  } finally {
    dispose();
  }
  const proposals = chains * samples * thin;
  return { samples: perDataSet(B, chains * samples, P, kept), acceptance: Array.from(accepted, (a) => a / proposals) };
}

/**
 * Langevin dynamics: theta' = theta + (h / 2) grad log p(theta) + sqrt(h) z. With the Metropolis
 * correction (MALA, the default) the chain targets the posterior exactly; without it the
 * stationary distribution is biased by O(h).
 */
export function langevinSamples(model: ProbabilisticModel, sets: DataSets, options: LangevinOptions): McmcResult {
  const h = options.stepSize;
  const metropolis = options.metropolis ?? true;
  return runChains(model, sets, options, (evaluate) => ({
    step(current, rng) {
      const { theta, gradient } = current;
      const n = theta.length;
      const P = model.thetaDim;
      const z = normals(rng, n);
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) next[i] = theta[i] + 0.5 * h * gradient[i] + Math.sqrt(h) * z[i];
      const proposal = { theta: next, ...evaluate(next) };
      if (!metropolis) return { proposal };
      // log q(theta | theta') - log q(theta' | theta), q(b | a) = N(b; a + h/2 grad(a), h I).
      const logRatio = new Float64Array(proposal.logDensity.length);
      for (let c = 0; c < logRatio.length; c++) {
        let forward = 0;
        let backward = 0;
        for (let i = c * P; i < (c + 1) * P; i++) {
          forward += (next[i] - theta[i] - 0.5 * h * gradient[i]) ** 2;
          backward += (theta[i] - next[i] - 0.5 * h * proposal.gradient[i]) ** 2;
        }
        logRatio[c] = proposal.logDensity[c] - current.logDensity[c] + (forward - backward) / (2 * h);
      }
      return { proposal, logRatio };
    },
  }));
}

/**
 * Hamiltonian Monte Carlo with an identity mass matrix: momentum p ~ N(0, I), `leapfrogSteps`
 * leapfrog steps of size `stepSize`, accepted with probability min(1, exp(-dH)).
 */
export function hmcSamples(model: ProbabilisticModel, sets: DataSets, options: HmcOptions): McmcResult {
  requirePositiveInteger(options.leapfrogSteps, 'leapfrogSteps');
  const eps = options.stepSize;
  return runChains(model, sets, options, (evaluate) => ({
    step(current, rng) {
      const P = model.thetaDim;
      const n = current.theta.length;
      const momentum = normals(rng, n);
      const kinetic0 = kineticEnergy(momentum, P);
      const theta = Float64Array.from(current.theta);
      const p = Float64Array.from(momentum);
      let gradient = current.gradient;
      let logDensity = current.logDensity;
      for (let i = 0; i < n; i++) p[i] += 0.5 * eps * gradient[i];
      for (let l = 0; l < options.leapfrogSteps; l++) {
        for (let i = 0; i < n; i++) theta[i] += eps * p[i];
        ({ gradient, logDensity } = evaluate(theta));
        const last = l === options.leapfrogSteps - 1;
        for (let i = 0; i < n; i++) p[i] += (last ? 0.5 : 1) * eps * gradient[i];
      }
      const kinetic1 = kineticEnergy(p, P);
      const logRatio = new Float64Array(logDensity.length);
      for (let c = 0; c < logRatio.length; c++) {
        logRatio[c] = logDensity[c] - kinetic1[c] - (current.logDensity[c] - kinetic0[c]);
      }
      return { proposal: { theta, logDensity, gradient }, logRatio };
    },
  }));
}

function kineticEnergy(p: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(p.length / dim);
  for (let c = 0; c < out.length; c++) {
    let sum = 0;
    for (let i = c * dim; i < (c + 1) * dim; i++) sum += p[i] * p[i];
    out[c] = 0.5 * sum;
  }
  return out;
}
