/**
 * The sampler lab's inspection requests (types only: the protocol composes every lab's map; the
 * handlers are in runtime.ts, the answers in panelData.ts). The Sampler panel and the Live
 * miniature ask them of an inference session open on a checkpoint of a sampler run.
 */
import type { Request } from '../../protocol/channel';
import type { SampleMatrix } from '../../shared/sampleMatrix';

/** The target's normaliser: known (log Z), or why it is not. */
export type TargetLogZ = { known: true; value: number } | { known: false; why: string };

/** A Gaussian mixture target's components (for the contours, dragging a mode, samples per mode). */
export interface TargetMixture {
  /** Component means, one row of `dimension` numbers each. */
  means: number[][];
  /** Component weights, positive (1/K each for the built-in mixtures; a user's need not sum to 1: log Z = log of their sum). */
  weights: number[];
  /** Per-axis standard deviation of every component. */
  std: number;
}

/** How modes covered is counted: a mode counts when `share` of the samples lie within `radius` of its mean. */
export interface ModeRule {
  radius: number;
  share: number;
}

/**
 * The Sampler panel's edit of a run's target: a mixture's means (dragged) and weights (one per
 * component, as many as the target has), or an expression target's log-density. The contours of
 * the edited target are computed in the worker; "Fine-tune from this checkpoint" trains under it.
 */
export type TargetEdit =
  | { kind: 'mixture'; means: number[][]; weights: number[] }
  | { kind: 'expression'; logDensity: string };

export interface SamplerTargetInfo {
  /** The task's target name, e.g. `gmm25`, `funnel`, `expression`. */
  name: string;
  dimension: number;
  /** One name per coordinate (`x1`, `x2`, ... or the expression's own names). */
  coordinates: string[];
  mixture?: TargetMixture;
  logZ: TargetLogZ;
  /** A box per coordinate holding nearly all of the target's mass: the panel's default view. */
  range: [number, number][];
  /** Present for mixtures: the rule behind modes covered. */
  modeRule?: ModeRule;
  /** Whether the target can draw exact samples (EUBO, W2, MMD need them). */
  hasTrueSamples: boolean;
}

/** Estimates of log Z from one batch of trajectories (see docs/research/diffusion-samplers.md). */
export interface LogZEstimates {
  /** Mean of the log-weights: a lower bound in expectation. */
  elbo: number;
  /** log mean exp of the log-weights. */
  importanceWeighted: number;
  /** The sampler's scalar log Z parameter. */
  learned: number;
  /** Effective sample size of the importance weights, as a share of n (0..1]. */
  ess: number;
}

export interface SamplerSamples {
  /** The checkpoint step the samples come from. */
  step: number;
  /** Final states x_T, n x dimension. */
  samples: SampleMatrix;
  /** log w(tau) = log R(x_T) + sum log p_B - sum log p_F per sample. */
  logWeights: Float32Array;
  logZ: LogZEstimates;
  /**
   * The first `trajectories` paths in full: trajectory k's point i (i = 0..T) is row
   * k * (T + 1) + i (x_0 = 0 first, the sample last). Absent when none were asked for.
   */
  trajectories?: SampleMatrix;
  /** Steps T of the sampler (points per trajectory minus one). */
  steps: number;
  /** Mixtures: how many samples fall within the rule's radius of each mode, and how many modes count. */
  perMode?: { counts: number[]; covered: number; rule: ModeRule };
  /** Local search on: samples from the run's replay buffer at this checkpoint (absent when off or empty). */
  buffer?: SampleMatrix;
}

export interface SamplerLandscape {
  dims: [number, number];
  grid: number;
  /** The box drawn: [low, high] along dims[0], then along dims[1]. */
  range: [[number, number], [number, number]];
  /** Values of the other coordinates (dimension numbers; dims[0] and dims[1] are ignored). */
  slice: number[];
  /** log R at grid point (a, b) at index b * grid + a (a along dims[0]); -Infinity allowed. */
  logDensity: Float32Array;
}

export interface SamplerRequests {
  /** What the run's target is: dimension, coordinate names, mixture components, log Z. */
  samplerTarget: Request<Record<string, never>, SamplerTargetInfo>;
  /**
   * n samples of the sampler at the session's checkpoint (n at most 10,000; seed default 0), with
   * their log-weights and the first `trajectories` paths in full (default 0, at most 64); with a
   * mixture `edit`, samples per mode are counted at the edited modes.
   */
  samplerSamples: Request<{ n: number; seed?: number; trajectories?: number; edit?: TargetEdit }, SamplerSamples>;
  /**
   * The unnormalised log-density on a grid x grid lattice over coordinates dims (grid at most 256),
   * over `range` (default the target's) with the other coordinates at `slice` (default 0), of the
   * run's target or, with `edit`, of the target so edited.
   */
  samplerLandscape: Request<
    { dims: [number, number]; grid: number; range?: [[number, number], [number, number]]; slice?: number[]; edit?: TargetEdit },
    SamplerLandscape
  >;
}
