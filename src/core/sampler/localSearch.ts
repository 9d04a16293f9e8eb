/**
 * Local search with a replay buffer (Sendera et al. 2024, as the official gfn-diffusion code does
 * it): the sampler's own samples go into a buffer; every so often a batch drawn from it, ranked by
 * log R, is improved by MALA (Metropolis-adjusted Langevin, its step adapted towards a target
 * acceptance rate) and the accepted states after burn-in join a second buffer, from which the
 * off-policy training steps draw their end points (trajectories then come from the backward policy).
 * The buffers travel in checkpoints (`contents` / `restore`), so a resumed run draws what an
 * uninterrupted one would.
 */
import type { Rng } from '../rng';
import type { SamplerTarget } from './targets';
import { logDensityAndGradient } from './trajectories';

/**
 * Samples with their log R, at most `capacity` (the oldest leave first), drawn with replacement
 * with probability proportional to 1 / (rankWeight * size + rank), rank 0 the highest log R.
 */
export class ReplayBuffer {
  private samples: Float32Array[] = [];
  private logR: number[] = [];
  private cumulative?: Float64Array;

  constructor(readonly dimension: number, readonly capacity: number, readonly rankWeight: number) {}

  get size(): number {
    return this.logR.length;
  }

  add(points: Float32Array, logR: ArrayLike<number>): void {
    const d = this.dimension;
    for (let i = 0; i < logR.length; i++) {
      this.samples.push(points.slice(i * d, (i + 1) * d));
      // float32, as a checkpoint stores it: a resumed run ranks exactly the same values.
      this.logR.push(Math.fround(logR[i]));
    }
    const excess = this.logR.length - this.capacity;
    if (excess > 0) {
      this.samples.splice(0, excess);
      this.logR.splice(0, excess);
    }
    this.cumulative = undefined;
  }

  /** Every sample, oldest first (row-major size x d), and their log R: what a checkpoint stores. */
  contents(): { points: Float32Array; logR: Float32Array } {
    const points = new Float32Array(this.size * this.dimension);
    this.samples.forEach((sample, i) => points.set(sample, i * this.dimension));
    return { points, logR: Float32Array.from(this.logR) };
  }

  /**
   * Replaces the contents with a checkpoint's (untrusted: sizes and values are checked, and an
   * error says which of `what` is wrong and what was expected).
   */
  restore(points: Float32Array, logR: Float32Array, what: string): void {
    const d = this.dimension;
    const n = logR.length;
    if (n > this.capacity) throw new Error(`${what}: holds ${n} samples, more than the buffer's capacity ${this.capacity} (objective.bufferSize)`);
    if (points.length !== n * d) throw new Error(`${what}: expected ${n} points of dimension ${d} (${n * d} values) beside its ${n} log R values, got ${points.length} values`);
    const badPoint = points.findIndex((v) => !Number.isFinite(v));
    if (badPoint >= 0) throw new Error(`${what}: point ${Math.floor(badPoint / d)} has a coordinate ${points[badPoint]}, expected a finite number`);
    const badLogR = logR.findIndex((v) => Number.isNaN(v) || v === Infinity);
    if (badLogR >= 0) throw new Error(`${what}: log R of sample ${badLogR} is ${logR[badLogR]}, expected a number below +Infinity`);
    this.samples = Array.from({ length: n }, (_, i) => points.slice(i * d, (i + 1) * d));
    this.logR = Array.from(logR);
    this.cumulative = undefined;
  }

  /** Rank-prioritised draw of n samples (row-major n x d). */
  sample(n: number, rng: Rng): Float32Array {
    if (this.size === 0) throw new Error('the replay buffer is empty');
    const cumulative = (this.cumulative ??= this.rankCumulative());
    const out = new Float32Array(n * this.dimension);
    const total = cumulative[cumulative.length - 1];
    for (let k = 0; k < n; k++) {
      const u = rng.next() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out.set(this.samples[lo], k * this.dimension);
    }
    return out;
  }

  private rankCumulative(): Float64Array {
    const n = this.size;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.logR[b] - this.logR[a]);
    const weights = new Float64Array(n);
    order.forEach((index, rank) => (weights[index] = 1 / (this.rankWeight * n + rank)));
    for (let i = 1; i < n; i++) weights[i] += weights[i - 1];
    return weights;
  }
}

export interface MalaOptions {
  steps: number;
  burnIn: number;
  stepSize: number;
  targetAcceptance: number;
}

export interface MalaResult {
  /** Accepted proposals after burn-in, row-major, and their log R. */
  accepted: Float32Array;
  acceptedLogR: Float64Array;
  /** Chains' states after the last step. */
  final: Float32Array;
  /** Share of proposals accepted over all steps, and the step size at the end. */
  acceptance: number;
  stepSize: number;
  energyEvaluations: number;
}

/**
 * MALA from each of the n starting points: proposal x' = x + h grad log R(x) + sqrt(2h) eps,
 * accepted with probability min(1, R(x') q(x | x') / (R(x) q(x' | x))). The step h grows by 1%
 * each step while the acceptance rate (measured over blocks of 5 steps) is above the target and
 * shrinks by 1% otherwise (the official `ld_schedule`).
 */
export function mala(target: SamplerTarget, start: Float32Array, n: number, rng: Rng, options: MalaOptions): MalaResult {
  const d = target.dimension;
  const x = start.slice();
  const { logR, grad } = logDensityAndGradient(target, x, n);
  let h = options.stepSize;
  let rate = 0;
  let blockAccepted = 0;
  let blockProposals = 0;
  let accepted = 0;
  const keptPoints: number[] = [];
  const keptLogR: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    if (step > 0) h = rate > options.targetAcceptance ? h * 1.01 : h * 0.99;
    const proposal = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) proposal[i] = x[i] + h * grad[i] + Math.sqrt(2 * h) * rng.normal();
    const next = logDensityAndGradient(target, proposal, n);
    for (let k = 0; k < n; k++) {
      let forward = 0;
      let backward = 0;
      for (let j = 0; j < d; j++) {
        const i = k * d + j;
        forward += (proposal[i] - x[i] - h * grad[i]) ** 2;
        backward += (x[i] - proposal[i] - h * next.grad[i]) ** 2;
      }
      const logAccept = next.logR[k] - logR[k] + (forward - backward) / (4 * h);
      if (rng.next() < Math.exp(Math.min(0, logAccept))) {
        blockAccepted += 1;
        accepted += 1;
        for (let j = 0; j < d; j++) {
          x[k * d + j] = proposal[k * d + j];
          grad[k * d + j] = next.grad[k * d + j];
        }
        logR[k] = next.logR[k];
        if (step > options.burnIn) {
          for (let j = 0; j < d; j++) keptPoints.push(proposal[k * d + j]);
          keptLogR.push(next.logR[k]);
        }
      }
    }
    blockProposals += n;
    if (step % 5 === 0) {
      rate = blockAccepted / blockProposals;
      blockAccepted = 0;
      blockProposals = 0;
    }
  }
  return {
    accepted: Float32Array.from(keptPoints),
    acceptedLogR: Float64Array.from(keptLogR),
    final: x,
    acceptance: accepted / (n * options.steps),
    stepSize: h,
    energyEvaluations: n * (options.steps + 1),
  };
}
