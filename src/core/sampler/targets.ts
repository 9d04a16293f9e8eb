/**
 * The sampler lab's targets: unnormalised densities R(x) = exp(-E(x)) to sample from, as tasks.
 * Each gives log R for a batch of points as TensorFlow.js ops (so its gradient comes from
 * autodiff), its log Z where it is known, exact samples where they exist, and for mixtures the
 * components and the rule behind "modes covered". Constants are those of the paper's official
 * code (GFNOrg/gfn-diffusion's energies, iDEM's GMM for GMM-40); docs/research/diffusion-samplers.md.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, Task } from '../registry';
import type { Rng } from '../rng';
import { expressionTarget } from './expressionTarget';
import { GMM25_MEANS, GMM25_STD, GMM40_MEANS, GMM40_STD, mixtureRange } from './mixtures';
import type { ExpressionTargetOptions, FunnelOptions, Gmm25Options, Gmm40Options, GmmOptions, ManywellOptions } from './options';
import type { ModeRule, SamplerTargetInfo, TargetEdit, TargetLogZ, TargetMixture } from './requests';

export interface SamplerTarget {
  readonly name: string;
  readonly dimension: number;
  readonly coordinates: readonly string[];
  readonly logZ: TargetLogZ;
  readonly mixture?: TargetMixture;
  readonly modeRule?: ModeRule;
  /** A box per coordinate holding nearly all of the mass: the default view. */
  readonly range: readonly [number, number][];
  /** log R(x) per row: x [n, d] -> [n]. Differentiable in x. */
  logDensity(x: tf.Tensor2D): tf.Tensor1D;
  /** n exact samples, row-major n x d; absent when the target has none. */
  sample?(n: number, rng: Rng): Float32Array;
}

const LOG_2PI = Math.log(2 * Math.PI);
const coordinateNames = (d: number) => Array.from({ length: d }, (_, i) => `x${i + 1}`);

/**
 * A mixture of isotropic Gaussians sum_k w_k N(mean_k, std^2 I). Weights default to 1/K each
 * (normalised, log Z = 0); any positive weights are allowed, unnormalised: log Z = log sum_k w_k.
 */
export function gaussianMixtureTarget(
  name: string,
  means: number[][],
  std: number,
  rule: ModeRule,
  range: readonly [number, number][],
  weights?: readonly number[],
): SamplerTarget {
  const k = means.length;
  const d = means[0].length;
  const w = weights ? [...weights] : new Array<number>(k).fill(1 / k);
  const total = w.reduce((sum, value) => sum + value, 0);
  const flatMeans = Float32Array.from(means.flat());
  const logWeights = Float32Array.from(w, Math.log);
  const constant = -0.5 * d * (LOG_2PI + 2 * Math.log(std));
  // Equal weights draw a component with one rng.int (as 25GMM always has: its seeded samples stay the same).
  const equal = w.every((value) => value === w[0]);
  const cumulative = w.map((_, i) => w.slice(0, i + 1).reduce((sum, value) => sum + value, 0) / total);
  const component = (rng: Rng) => {
    if (equal) return rng.int(k);
    const u = rng.next();
    const found = cumulative.findIndex((c) => u < c);
    return found < 0 ? k - 1 : found;
  };
  return {
    name,
    dimension: d,
    coordinates: coordinateNames(d),
    logZ: { known: true, value: equal && w[0] === 1 / k ? 0 : Math.log(total) },
    mixture: { means, weights: w, std },
    modeRule: rule,
    range: range.map(([a, b]) => [a, b] as [number, number]),
    logDensity: (x) =>
      tf.tidy(() => {
        const centred = tf.sub(tf.expandDims(x, 1), tf.tensor3d(flatMeans, [1, k, d])); // [n, K, d]
        const exponents = tf.add(tf.mul(tf.sum(tf.square(centred), 2), -0.5 / (std * std)), tf.tensor2d(logWeights, [1, k])); // [n, K]
        return tf.add(tf.logSumExp(exponents, 1), constant) as tf.Tensor1D;
      }),
    sample(n, rng) {
      const out = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const mean = means[component(rng)];
        for (let j = 0; j < d; j++) out[i * d + j] = mean[j] + std * rng.normal();
      }
      return out;
    },
  };
}

export { GMM25_MEANS, GMM25_STD, GMM40_MEANS, GMM40_STD } from './mixtures';

const square = (range: [number, number], d = 2): [number, number][] => new Array(d).fill(range);
export const gmm25Target = (o: Gmm25Options) =>
  gaussianMixtureTarget('gmm25', GMM25_MEANS, GMM25_STD, { radius: o.modeRadius, share: o.modeShare }, square([-13, 13]));
export const gmm40Target = (o: Gmm40Options) =>
  gaussianMixtureTarget('gmm40', GMM40_MEANS, GMM40_STD, { radius: o.modeRadius, share: o.modeShare }, square([-50, 50]));
/** A mixture the user writes (or edits in the Sampler panel): `sampler-gmm`; its defaults are 25GMM's. */
export const gmmTarget = (o: GmmOptions) =>
  gaussianMixtureTarget('gmm', o.means, o.std, { radius: o.modeRadius, share: o.modeShare }, mixtureRange(o.means, o.std), o.weights);

/**
 * The target as the Sampler panel edited it (the edit already checked against it, targetEdit.ts):
 * a mixture with the edit's means and weights (the run's std, mode rule and view), or an
 * expression over the same coordinates. A bad expression throws ExpressionError.
 */
export function editedTarget(target: SamplerTarget, edit: TargetEdit): SamplerTarget {
  if (edit.kind === 'mixture') {
    if (!target.mixture || !target.modeRule) throw new Error(`target '${target.name}' is not a mixture`);
    return gaussianMixtureTarget(target.name, edit.means, target.mixture.std, target.modeRule, target.range, edit.weights);
  }
  const [low, high] = target.range[0];
  return expressionTarget({ coordinates: [...target.coordinates], logDensity: edit.logDensity, range: [low, high] });
}

/** Neal's funnel: x1 ~ N(0, 3^2), x_i | x1 ~ N(0, exp(x1)) for i = 2..d. Normalised. */
export const FUNNEL_STD = 3;
export function funnelTarget({ dim }: FunnelOptions): SamplerTarget {
  return {
    name: 'funnel',
    dimension: dim,
    coordinates: coordinateNames(dim),
    logZ: { known: true, value: 0 },
    range: [[-10, 10], ...new Array<[number, number]>(dim - 1).fill([-10, 10])],
    logDensity: (x) =>
      tf.tidy(() => {
        const [first, rest] = tf.split(x, [1, dim - 1], 1);
        const v = tf.squeeze(first, [1]);
        const head = tf.sub(tf.mul(tf.square(v), -0.5 / (FUNNEL_STD * FUNNEL_STD)), 0.5 * LOG_2PI + Math.log(FUNNEL_STD));
        // sum_i log N(x_i; 0, e^v) = -(d-1)/2 (log 2pi + v) - 1/2 e^-v sum_i x_i^2
        const tail = tf.sub(tf.mul(tf.mul(tf.exp(tf.neg(v)), tf.sum(tf.square(rest), 1)), -0.5), tf.mul(tf.add(v, LOG_2PI), 0.5 * (dim - 1)));
        return tf.add(head, tail) as tf.Tensor1D;
      }),
    sample(n, rng) {
      const out = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) {
        const v = FUNNEL_STD * rng.normal();
        out[i * dim] = v;
        for (let j = 1; j < dim; j++) out[i * dim + j] = Math.exp(v / 2) * rng.normal();
      }
      return out;
    },
  };
}

/**
 * Manywell: d/2 independent double wells, log R(x1, x2) = -x1^4 + 6 x1^2 + x1/2 - x2^2/2. log Z is
 * (d/2)(log Z_x1 + log(2 pi)/2) with Z_x1 = 11784.50927 (the official code's constant; our test
 * checks it by quadrature): 164.696 for d = 32.
 */
export const MANYWELL_Z_X1 = 11784.50927;
const doubleWellX1 = (x: number) => -(x ** 4) + 6 * x * x + 0.5 * x;

/** The x1 marginal's CDF on a fine grid over [-3.5, 3.5] (beyond it the density is below e^-75 of its peak). */
const X1_GRID = { low: -3.5, high: 3.5, points: 14001 };
let x1Cdf: Float64Array | undefined;
function x1CdfTable(): Float64Array {
  if (x1Cdf) return x1Cdf;
  const { low, high, points } = X1_GRID;
  const h = (high - low) / (points - 1);
  const peak = Math.max(...Array.from({ length: points }, (_, i) => doubleWellX1(low + i * h)));
  const cdf = new Float64Array(points);
  for (let i = 1; i < points; i++) {
    const a = Math.exp(doubleWellX1(low + (i - 1) * h) - peak);
    const b = Math.exp(doubleWellX1(low + i * h) - peak);
    cdf[i] = cdf[i - 1] + ((a + b) * h) / 2;
  }
  for (let i = 0; i < points; i++) cdf[i] /= cdf[points - 1];
  x1Cdf = cdf;
  return cdf;
}

/** An exact draw of x1 by inverting the tabulated CDF (linear between grid points). */
export function sampleDoubleWellX1(rng: Rng): number {
  const cdf = x1CdfTable();
  const u = rng.next();
  let lo = 0;
  let hi = cdf.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid;
    else hi = mid;
  }
  const h = (X1_GRID.high - X1_GRID.low) / (X1_GRID.points - 1);
  const within = cdf[hi] > cdf[lo] ? (u - cdf[lo]) / (cdf[hi] - cdf[lo]) : 0;
  return X1_GRID.low + (lo + within) * h;
}

export function manywellTarget({ dim }: ManywellOptions): SamplerTarget {
  const wells = dim / 2;
  return {
    name: 'manywell',
    dimension: dim,
    coordinates: coordinateNames(dim),
    logZ: { known: true, value: wells * (Math.log(MANYWELL_Z_X1) + 0.5 * LOG_2PI) },
    range: Array.from({ length: dim }, (_, i) => (i % 2 === 0 ? [-3, 3] : [-4, 4]) as [number, number]),
    logDensity: (x) =>
      tf.tidy(() => {
        const pairs = tf.reshape(x, [-1, wells, 2]);
        const [a, b] = tf.split(pairs, 2, 2);
        const a2 = tf.square(a);
        const terms = tf.addN([tf.neg(tf.square(a2)), tf.mul(a2, 6), tf.mul(a, 0.5), tf.mul(tf.square(b), -0.5)]);
        return tf.sum(tf.reshape(terms, [-1, wells]), 1) as tf.Tensor1D;
      }),
    sample(n, rng) {
      const out = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) {
        for (let w = 0; w < wells; w++) {
          out[i * dim + 2 * w] = sampleDoubleWellX1(rng);
          out[i * dim + 2 * w + 1] = rng.normal();
        }
      }
      return out;
    },
  };
}

/** A target as a task: its batches are drawn by the sampler objectives (`Objective.drawBatch`), not here. */
export class SamplerTask implements Task {
  readonly splits = ['train'] as const;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];

  constructor(readonly target: SamplerTarget) {
    this.inputShape = [target.dimension + 1];
    this.outputShape = [target.dimension];
  }

  batch(): Batch {
    throw new Error(`task '${this.target.name}' is a sampler target: its batches are trajectories drawn by a sampler objective ('trajectory-balance', 'vargrad'), not data`);
  }
}

export const isSamplerTask = (task: Task): task is SamplerTask => task instanceof SamplerTask;

export const samplerTaskFactories = {
  'sampler-gmm25': (o: Gmm25Options) => new SamplerTask(gmm25Target(o)),
  'sampler-gmm40': (o: Gmm40Options) => new SamplerTask(gmm40Target(o)),
  'sampler-gmm': (o: GmmOptions) => new SamplerTask(gmmTarget(o)),
  'sampler-funnel': (o: FunnelOptions) => new SamplerTask(funnelTarget(o)),
  'sampler-manywell': (o: ManywellOptions) => new SamplerTask(manywellTarget(o)),
  'sampler-expression': (o: ExpressionTargetOptions) => new SamplerTask(expressionTarget(o)),
};

/** The Sampler panel's description of a target. */
export function describeTarget(target: SamplerTarget): SamplerTargetInfo {
  return {
    name: target.name,
    dimension: target.dimension,
    coordinates: [...target.coordinates],
    mixture: target.mixture,
    logZ: target.logZ,
    range: target.range.map(([a, b]) => [a, b]),
    modeRule: target.modeRule,
    hasTrueSamples: target.sample !== undefined,
  };
}

/**
 * log R on a grid x grid lattice over coordinates dims[0] (a) and dims[1] (b), the others at
 * `slice`: value (a, b) at index b * grid + a.
 */
export function logDensityGrid(
  target: SamplerTarget,
  dims: [number, number],
  grid: number,
  range: [[number, number], [number, number]],
  slice: readonly number[],
): Float32Array {
  const d = target.dimension;
  const points = new Float32Array(grid * grid * d);
  const at = (r: [number, number], i: number) => (grid === 1 ? (r[0] + r[1]) / 2 : r[0] + ((r[1] - r[0]) * i) / (grid - 1));
  for (let b = 0; b < grid; b++) {
    for (let a = 0; a < grid; a++) {
      const row = (b * grid + a) * d;
      for (let j = 0; j < d; j++) points[row + j] = slice[j] ?? 0;
      points[row + dims[0]] = at(range[0], a);
      points[row + dims[1]] = at(range[1], b);
    }
  }
  return tf.tidy(() => target.logDensity(tf.tensor2d(points, [grid * grid, d])).dataSync() as Float32Array);
}
