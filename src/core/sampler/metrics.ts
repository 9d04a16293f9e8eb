/**
 * How good a sampler is, from its samples and log-weights (docs/research/diffusion-samplers.md):
 * log Z estimates (ELBO = mean log w, importance-weighted = log mean exp log w, the learned
 * parameter), the effective sample size of the weights, modes covered for mixtures, and distances
 * to exact samples: sliced and exact 2-Wasserstein, MMD. Plain JavaScript in double precision.
 */
import type { Rng } from '../rng';
import type { LogZEstimates, ModeRule } from './requests';
import type { SamplerTarget } from './targets';

export function logMeanExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum / values.length);
}

/** ESS of self-normalised importance weights exp(log w), as a share of n: (sum w)^2 / (n sum w^2). */
export function effectiveSampleShare(logWeights: ArrayLike<number>): number {
  const n = logWeights.length;
  const lse1 = logMeanExp(logWeights) + Math.log(n);
  const doubled = Array.from(logWeights, (v) => 2 * v);
  const lse2 = logMeanExp(doubled) + Math.log(n);
  return Math.exp(2 * lse1 - lse2) / n;
}

export function logZEstimates(logWeights: ArrayLike<number>, learned: number): LogZEstimates {
  let sum = 0;
  for (let i = 0; i < logWeights.length; i++) sum += logWeights[i];
  return { elbo: sum / logWeights.length, importanceWeighted: logMeanExp(logWeights), learned, ess: effectiveSampleShare(logWeights) };
}

/** Samples within the rule's radius of each mixture mean, and how many means have at least `share` of all samples. */
export function modeCounts(target: SamplerTarget, samples: Float32Array): { counts: number[]; covered: number; rule: ModeRule } | undefined {
  const { mixture, modeRule } = target;
  if (!mixture || !modeRule) return undefined;
  const d = target.dimension;
  const n = samples.length / d;
  const r2 = modeRule.radius * modeRule.radius;
  const counts = mixture.means.map((mean) => {
    let count = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (samples[i * d + j] - mean[j]) ** 2;
      if (s <= r2) count += 1;
    }
    return count;
  });
  return { counts, covered: counts.filter((c) => c >= modeRule.share * n).length, rule: modeRule };
}

/**
 * Sliced 2-Wasserstein distance between two equal-size samples (row-major, d columns): the root
 * mean over `projections` random unit directions of the 1-D W2^2 of the projections (sorted pairs).
 */
export function slicedW2(a: Float32Array, b: Float32Array, d: number, rng: Rng, projections = 64): number {
  const n = Math.min(a.length, b.length) / d;
  let total = 0;
  const pa = new Float64Array(n);
  const pb = new Float64Array(n);
  for (let p = 0; p < projections; p++) {
    const direction = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...direction);
    for (let i = 0; i < n; i++) {
      let sa = 0;
      let sb = 0;
      for (let j = 0; j < d; j++) {
        sa += a[i * d + j] * direction[j];
        sb += b[i * d + j] * direction[j];
      }
      pa[i] = sa / norm;
      pb[i] = sb / norm;
    }
    pa.sort();
    pb.sort();
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (pa[i] - pb[i]) ** 2;
    total += squares / n;
  }
  return Math.sqrt(total / projections);
}

/**
 * MMD between two samples with a Gaussian kernel of bandwidth h (biased estimate, its square
 * root): sqrt(mean k(a, a') + mean k(b, b') - 2 mean k(a, b)).
 */
export function mmd(a: Float32Array, b: Float32Array, d: number, bandwidth: number): number {
  const n = a.length / d;
  const m = b.length / d;
  const scale = -0.5 / (bandwidth * bandwidth);
  const meanKernel = (x: Float32Array, nx: number, y: Float32Array, ny: number) => {
    let sum = 0;
    for (let i = 0; i < nx; i++) {
      for (let k = 0; k < ny; k++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (x[i * d + j] - y[k * d + j]) ** 2;
        sum += Math.exp(scale * s);
      }
    }
    return sum / (nx * ny);
  };
  return Math.sqrt(Math.max(0, meanKernel(a, n, a, n) + meanKernel(b, m, b, m) - 2 * meanKernel(a, n, b, m)));
}
