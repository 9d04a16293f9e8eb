/**
 * Simulation-based calibration (SBC) and expected coverage. Draw K pairs (theta*, D) from the
 * prior and the simulator, L samples of the posterior sampler under test for each D, and per
 * parameter dimension the rank of theta* among the samples (the count of samples below it, in
 * 0..L). For a calibrated sampler the ranks are uniform on 0..L. Expected coverage at level a:
 * the fraction of theta* inside the central a-credible interval of the samples (equal to a for a
 * calibrated sampler; below a when the sampler is over-confident).
 * The sampler is a function argument, so the exact posterior, an MCMC run or a trained network
 * can all be checked the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../rng';
import type { CheckpointSource } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { PosteriorInputError } from './cli';
import { networkInputs, simulateBatch, type DataSets } from './dataSets';
import { cholesky } from './linalg';
import type { ProbabilisticModel } from './models/types';
import { binomialBand, calibrationVerdict, type CalibrationVerdict } from './calibrationVerdict';
import { openPosteriorPanelModel, thetaNames, type PosteriorPanelModel } from './panelData';
import type { ExactPosterior } from './tasks';

/** L samples [K][L][P] of the posterior of each of the K data sets in `context`. */
export type PosteriorSampler = (context: DataSets, samples: number, rng: Rng) => number[][][];

export const DEFAULT_COVERAGE_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface CalibrationOptions {
  /** Simulated (theta*, D) pairs. */
  k: number;
  /** Posterior samples per data set. */
  l: number;
  seed: number | string;
  /** Data-set sizes are drawn uniformly in [contextMin, contextMax]. */
  contextMin: number;
  contextMax: number;
  /** Histogram bins; must divide l + 1 so each bin covers as many rank values (default: the largest divisor of l + 1 that is <= 20). */
  bins?: number;
  /** Credible levels in (0, 1) (default 0.1 .. 0.9). */
  levels?: number[];
}

export interface UniformityTest {
  /** Pearson chi-square statistic of the bin counts against equal counts. */
  statistic: number;
  degreesOfFreedom: number;
  /** P(chi2 >= statistic) under uniform ranks. */
  pValue: number;
}

export interface CalibrationResult {
  k: number;
  l: number;
  /** Ranks [K][P] of theta* among the L samples (0..L). */
  ranks: number[][];
  histogram: {
    bins: number;
    /** Counts [P][bins]; bin j holds ranks j (L+1)/bins .. (j+1)(L+1)/bins - 1. */
    counts: number[][];
    /** Expected count per bin under uniform ranks (K / bins). */
    expected: number;
    /** Chi-square uniformity test per dimension. */
    uniformity: UniformityTest[];
  };
  coverage: {
    levels: number[];
    /** [P][levels]: fraction of theta* inside the central credible interval. */
    perDimension: number[][];
    /** [levels]: averaged over dimensions. */
    mean: number[];
  };
}

/** SBC of `sampler` on K data sets simulated from `model` (theta ~ N(0, I)). */
export function simulationBasedCalibration(model: ProbabilisticModel, sampler: PosteriorSampler, options: CalibrationOptions): CalibrationResult {
  const { k, l, contextMin, contextMax } = options;
  requireInteger(k, 1, 'k');
  requireInteger(l, 1, 'l');
  requireInteger(contextMin, 1, 'contextMin');
  if (!Number.isInteger(contextMax) || contextMax < contextMin) throw new Error(`contextMax must be an integer >= contextMin (${contextMin}), got ${contextMax}`);
  const rng = createRng(options.seed, 'sbc');
  const batch = simulateBatch(model, k, { contextMin, contextMax, heldOut: 1 }, rng);
  tf.dispose([batch.inputs, batch.targets]);
  const { context, theta } = batch.posterior;
  const samples = sampler(context, l, createRng(options.seed, 'sbc-sampler'));
  if (samples.length !== k || samples.some((set) => set.length !== l || set.some((s) => s.length !== model.thetaDim))) {
    throw new Error(`the posterior sampler must return [${k}][${l}][${model.thetaDim}] samples`);
  }
  const truth = Array.from({ length: k }, (_, i) => Array.from(theta.subarray(i * model.thetaDim, (i + 1) * model.thetaDim)));
  return calibrationFromSamples(truth, samples, options);
}

/** Ranks, histogram and coverage from true parameters [K][P] and posterior samples [K][L][P]. */
export function calibrationFromSamples(truth: number[][], samples: number[][][], options: { bins?: number; levels?: number[] } = {}): CalibrationResult {
  const k = truth.length;
  const l = samples[0].length;
  const dim = truth[0].length;
  const bins = options.bins ?? defaultBins(l);
  if (!Number.isInteger(bins) || bins < 1 || (l + 1) % bins !== 0) throw new Error(`bins must be a positive divisor of l + 1 = ${l + 1}, got ${bins}`);
  const levels = options.levels ?? DEFAULT_COVERAGE_LEVELS;
  levels.forEach((a) => {
    if (!(a > 0 && a < 1)) throw new Error(`coverage levels must lie in (0, 1), got ${a}`);
  });

  const ranks = truth.map((t, i) => t.map((value, p) => samples[i].reduce((count, s) => count + (s[p] < value ? 1 : 0), 0)));
  const width = (l + 1) / bins;
  const counts = Array.from({ length: dim }, () => new Array<number>(bins).fill(0));
  for (const r of ranks) r.forEach((rank, p) => counts[p][Math.floor(rank / width)]++);

  const inside = Array.from({ length: dim }, () => new Array<number>(levels.length).fill(0));
  samples.forEach((set, i) => {
    for (let p = 0; p < dim; p++) {
      const sorted = Float64Array.from(set, (s) => s[p]).sort();
      levels.forEach((a, j) => {
        const lower = quantile(sorted, (1 - a) / 2);
        const upper = quantile(sorted, (1 + a) / 2);
        if (truth[i][p] >= lower && truth[i][p] <= upper) inside[p][j]++;
      });
    }
  });
  const perDimension = inside.map((row) => row.map((c) => c / k));
  const mean = levels.map((_, j) => perDimension.reduce((sum, row) => sum + row[j], 0) / dim);

  return {
    k,
    l,
    ranks,
    histogram: { bins, counts, expected: k / bins, uniformity: counts.map(chiSquareUniformity) },
    coverage: { levels: [...levels], perDimension, mean },
  };
}

function defaultBins(l: number): number {
  for (let bins = Math.min(20, l + 1); bins > 1; bins--) if ((l + 1) % bins === 0) return bins;
  return 1;
}

/** Linear-interpolation quantile of sorted values (type 7). */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

function requireInteger(value: number, minimum: number, what: string) {
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${what} must be an integer >= ${minimum}, got ${value}`);
}

// ------------------------------------------------------------------ chi-square test

/** Pearson chi-square test of counts against equal expected counts. */
export function chiSquareUniformity(counts: number[]): UniformityTest {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  const statistic = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  const degreesOfFreedom = counts.length - 1;
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}

/** P(X >= x) for X ~ chi-square(dof) = Q(dof / 2, x / 2), the regularized upper incomplete gamma. */
export function chiSquareSurvival(x: number, dof: number): number {
  if (dof <= 0) return 1;
  if (x <= 0) return 1;
  return upperRegularizedGamma(dof / 2, x / 2);
}

function logGamma(z: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for z > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const zz = z - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (zz + i);
  const t = zz + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Q(a, x) by the series (x < a + 1) or the continued fraction (Numerical Recipes' gser / gcf). */
function upperRegularizedGamma(a: number, x: number): number {
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logPrefix) * h;
}

// ------------------------------------------------------------------ samplers

/**
 * Samples of the exact Gaussian posterior of each data set; `scale` multiplies the standard
 * deviation (scale < 1: an over-confident sampler, a test that calibration can fail).
 */
export function exactPosteriorSampler(exact: ExactPosterior, scale = 1): PosteriorSampler {
  return (context, samples, rng) =>
    Array.from({ length: context.count }, (_, b) => {
      const { dim, mean, covariance } = exact(context, b);
      const lower = cholesky(covariance, dim);
      return Array.from({ length: samples }, () => {
        const z = Array.from({ length: dim }, () => rng.normal());
        return Array.from({ length: dim }, (_, i) => {
          let value = 0;
          for (let j = 0; j <= i; j++) value += lower[i * dim + j] * z[j];
          return mean[i] + scale * value;
        });
      });
    });
}

/** Samples of a trained amortized-posterior network: one forward pass for all K data sets. */
export function networkSampler(panel: PosteriorPanelModel): PosteriorSampler {
  const { network, task } = panel;
  return (context, samples, rng) =>
    tf.tidy(() => {
      const condition = network.forward(networkInputs(task.model, context)).output;
      const noise = tf.randomNormal([context.count, samples, task.model.thetaDim], 0, 1, 'float32', rng.int32());
      return network.family.sample(condition, noise).theta.arraySync() as number[][][];
    });
}

// ------------------------------------------------------------------ a trained run

export interface CalibrateOptions {
  k: number;
  l: number;
  seed?: number;
  bins?: number;
  levels?: number[];
}

/**
 * SBC and coverage of a trained posterior run at its latest checkpoint, on data sets simulated
 * with the run's own task (sizes in the training range). Seeded by `seed` (default: the run's).
 */
export async function calibrate(
  spec: ResolvedSpec,
  checkpoints: CheckpointSource,
  options: CalibrateOptions,
): Promise<CalibrationResult & { step: number; thetaNames: string[]; verdict: CalibrationVerdict }> {
  const steps = checkpoints.steps();
  if (steps.length === 0) throw new PosteriorInputError(`run '${spec.name}' has no checkpoint yet`);
  const checkpoint = await checkpoints.load(steps[steps.length - 1]);
  let panel: PosteriorPanelModel;
  try {
    panel = openPosteriorPanelModel(spec, checkpoint);
  } finally {
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
  }
  try {
    const { sizes, model } = panel.task;
    const result = simulationBasedCalibration(model, networkSampler(panel), {
      k: options.k,
      l: options.l,
      seed: options.seed ?? spec.seed,
      contextMin: sizes.contextMin,
      contextMax: sizes.contextMax,
      bins: options.bins,
      levels: options.levels,
    });
    const names = thetaNames(model);
    const verdict = calibrationVerdict(result, names, binomialBand(result.k, 1 / result.histogram.bins, 0.99));
    return { ...result, step: checkpoint.step, thetaNames: names, verdict };
  } finally {
    panel.dispose();
  }
}
