/**
 * `model-lab sample <run> [--n N] [--step S] [--seed K] [--json]`: n samples of a trained sampler
 * at a checkpoint (the newest, or step S), with their log-weights and the log Z estimates they
 * give. Seeded: the same run, step, n and seed print the same samples. Core stays free of the run
 * store: the caller passes the run's resolved spec and its checkpoints.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../rng';
import type { CheckpointSource } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { logZEstimates } from './metrics';
import { openSampler } from './open';
import type { LogZEstimates } from './requests';
import { sampleTrajectories } from './trajectories';

/** A request the run cannot answer (no such step, not a sampler run): the message says what was expected. */
export class SamplerInputError extends Error {
  override readonly name = 'SamplerInputError';
}

/** Most samples one call draws (README, "Limits"). */
export const MAX_SAMPLER_SAMPLES = 100_000;

export interface RunSamples {
  step: number;
  seed: number;
  coordinates: string[];
  samples: number[][];
  logWeights: number[];
  logZ: LogZEstimates;
}

export async function samplesOfRun(spec: ResolvedSpec, checkpoints: CheckpointSource, options: { n: number; step?: number; seed?: number }): Promise<RunSamples> {
  const { n, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLER_SAMPLES) throw new SamplerInputError(`--n must be a whole number from 1 to ${MAX_SAMPLER_SAMPLES}, got ${n}`);
  const steps = checkpoints.steps();
  if (steps.length === 0) throw new SamplerInputError(`run '${spec.name}' has no checkpoint yet`);
  const step = options.step ?? steps[steps.length - 1];
  if (!steps.includes(step)) throw new SamplerInputError(`run '${spec.name}' has no checkpoint at step ${step} (checkpoints: ${steps.join(', ')})`);
  const checkpoint = await checkpoints.load(step);
  try {
    let opened;
    try {
      opened = openSampler(spec, checkpoint);
    } catch (error) {
      throw new SamplerInputError((error as Error).message);
    }
    try {
      const { target, sampler } = opened;
      const drawn = sampleTrajectories(sampler, target, n, createRng(seed, 'sampler-cli', step));
      const d = target.dimension;
      const samples = Array.from({ length: n }, (_, k) => Array.from(drawn.final.subarray(k * d, (k + 1) * d)));
      const logWeights = Array.from(drawn.logWeights);
      return { step, seed, coordinates: [...target.coordinates], samples, logWeights, logZ: logZEstimates(drawn.trajectories.logWeights, sampler.learnedLogZ()) };
    } finally {
      opened.dispose();
    }
  } finally {
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  }
}

/** The text form: a header with the log Z estimates, then one line per sample (coordinates, then log w). */
export function describeRunSamples(result: RunSamples): string {
  const { logZ } = result;
  const number = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
  return [
    `samples of step ${result.step} (seed ${result.seed}): ${result.samples.length}; log Z: ELBO ${number(logZ.elbo)}, importance-weighted ${number(logZ.importanceWeighted)}, learned ${number(logZ.learned)}; ESS ${(100 * logZ.ess).toFixed(1)}%`,
    [...result.coordinates, 'log_w'].join('\t'),
    ...result.samples.map((row, k) => [...row.map(number), number(result.logWeights[k])].join('\t')),
  ].join('\n');
}
