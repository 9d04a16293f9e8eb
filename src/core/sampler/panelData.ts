/**
 * The answers to the Sampler panel's inspection requests (src/core/sampler/requests.ts), computed
 * in the worker on the session's checkpoint: the target's description, samples of the sampler with
 * their log-weights, log Z estimates, samples per mode and the first trajectories in full, and the
 * target's log-density on a grid over two coordinates. With local search on, `buffer` holds what the
 * run's search puts in its replay buffer from these samples (MALA with the run's settings): the
 * buffers themselves are not part of checkpoints (src/core/sampler/options.ts), so the panel shows
 * the search, run anew at this checkpoint. Parameters come from a webview (untrusted):
 * each is checked here and a bad one is refused with a message that names it. Plain data out.
 */
import * as tf from '@tensorflow/tfjs';
import type { InspectionSession } from '../inspection';
import { createRng } from '../rng';
import type { SampleMatrix } from '../../shared/sampleMatrix';
import type { ResolvedSpec } from '../spec/types';
import { mala } from './localSearch';
import { logZEstimates, modeCounts } from './metrics';
import { openSampler } from './open';
import type { SamplerLandscape, SamplerRequests, SamplerSamples, SamplerTargetInfo } from './requests';
import { ExpressionError } from './expression';
import { checkTargetEdit } from './targetEdit';
import { describeTarget, editedTarget, logDensityGrid, type SamplerTarget } from './targets';
import { sampleTrajectories } from './trajectories';

export const MAX_PANEL_SAMPLES = 10_000;
export const MAX_PANEL_TRAJECTORIES = 64;
export const MAX_LANDSCAPE_GRID = 256;
/** Local search for the panel: chains started from the first samples, and at most this many accepted states shown. */
export const LOCAL_SEARCH_CHAINS = 100;
export const LOCAL_SEARCH_SHOWN = 3000;

/** A request the panel (or a caller of the session) got wrong: said in words, never a stack trace. */
export class SamplerPanelInputError extends Error {}

type Params<K extends keyof SamplerRequests> = SamplerRequests[K]['params'];
type Opened = ReturnType<typeof openSampler>;

/** The run's target and sampler at the session's step: built on first use, kept until the step changes. */
function openedAtStep(session: InspectionSession): Promise<Opened> {
  return session.atStep(
    'sampler-panel',
    async () => {
      const checkpoint = await session.source.load(session.inference.step);
      try {
        return openSampler(session.spec, checkpoint);
      } finally {
        tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
      }
    },
    (opened) => opened.dispose(),
  );
}

export async function samplerTargetAnswer(session: InspectionSession): Promise<SamplerTargetInfo> {
  return describeTarget((await openedAtStep(session)).target);
}

export async function samplerSamplesAnswer(session: InspectionSession, params: Params<'samplerSamples'>): Promise<SamplerSamples> {
  const { n, seed, trajectories } = checkSamplesParams(params);
  const { target, sampler } = await openedAtStep(session);
  // Samples per mode of the target as the panel edited it: how this sampler covers it before fine-tuning.
  const counted = landscapeTarget(target, (params as { edit?: unknown } | undefined)?.edit, 'samplerSamples');
  const drawn = sampleTrajectories(sampler, target, n, createRng(seed, 'sampler-panel'), { keep: trajectories });
  const d = target.dimension;
  const perMode = modeCounts(counted, drawn.final);
  const buffer = localSearchStates(session.spec, target, drawn.final, n, seed);
  return {
    step: session.inference.step,
    samples: { count: n, dim: d, values: drawn.final },
    logWeights: drawn.logWeights,
    logZ: logZEstimates(drawn.logWeights, sampler.learnedLogZ()),
    ...(trajectories > 0 && drawn.paths ? { trajectories: { count: drawn.paths.length / d, dim: d, values: drawn.paths } } : {}),
    steps: sampler.steps,
    ...(perMode ? { perMode } : {}),
    ...(buffer ? { buffer } : {}),
  };
}

/**
 * The states MALA accepts after burn-in from the first samples, with the run's local-search
 * settings (undefined when the run has local search off, or nothing was accepted); evenly thinned
 * to at most LOCAL_SEARCH_SHOWN.
 */
export function localSearchStates(spec: ResolvedSpec, target: SamplerTarget, samples: Float32Array, n: number, seed: number): SampleMatrix | undefined {
  const options = spec.objective as Record<string, unknown>;
  if (options.localSearch !== true) return undefined;
  const number = (key: string, fallback: number) => (typeof options[key] === 'number' && Number.isFinite(options[key]) ? (options[key] as number) : fallback);
  const d = target.dimension;
  const chains = Math.min(n, LOCAL_SEARCH_CHAINS);
  const found = mala(target, samples.slice(0, chains * d), chains, createRng(seed, 'sampler-panel-local-search'), {
    steps: number('localSearchSteps', 200),
    burnIn: number('localSearchBurnIn', 100),
    stepSize: number('localSearchStepSize', 0.001),
    targetAcceptance: number('targetAcceptance', 0.574),
  });
  const count = found.accepted.length / d;
  if (count === 0) return undefined;
  const shown = Math.min(count, LOCAL_SEARCH_SHOWN);
  const values = new Float32Array(shown * d);
  for (let i = 0; i < shown; i++) {
    const from = Math.floor((i * count) / shown);
    values.set(found.accepted.subarray(from * d, (from + 1) * d), i * d);
  }
  return { count: shown, dim: d, values };
}

export async function samplerLandscapeAnswer(session: InspectionSession, params: Params<'samplerLandscape'>): Promise<SamplerLandscape> {
  const { target } = await openedAtStep(session);
  const { dims, grid, range, slice } = checkLandscapeParams(params, target.dimension, target.range);
  const shown = landscapeTarget(target, (params as { edit?: unknown } | undefined)?.edit, 'samplerLandscape');
  return { dims, grid, range, slice, logDensity: logDensityGrid(shown, dims, grid, range, slice) };
}

/** The run's target, or the target as the panel's edit (untrusted) makes it; `where` names the request in messages. */
export function landscapeTarget(target: SamplerTarget, edit: unknown, where: string): SamplerTarget {
  if (edit === undefined) return target;
  const checked = checkTargetEdit(edit, target, where);
  if ('problem' in checked) throw new SamplerPanelInputError(checked.problem);
  try {
    return editedTarget(target, checked.edit);
  } catch (error) {
    if (error instanceof ExpressionError) throw new SamplerPanelInputError(`${where}: edit.logDensity: ${error.message}`);
    throw error;
  }
}

// ------------------------------------------------------------------ parameter checks

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const shown = (value: unknown) => JSON.stringify(value) ?? String(value);

export function checkSamplesParams(params: unknown): { n: number; seed: number; trajectories: number } {
  const { n, seed = 0, trajectories = 0 } = (params ?? {}) as Record<string, unknown>;
  if (!isInteger(n) || n < 1 || n > MAX_PANEL_SAMPLES) {
    throw new SamplerPanelInputError(`samplerSamples: n must be an integer in 1..${MAX_PANEL_SAMPLES}, got ${shown(n)}`);
  }
  if (!isInteger(seed) || seed < 0) throw new SamplerPanelInputError(`samplerSamples: seed must be a non-negative integer, got ${shown(seed)}`);
  if (!isInteger(trajectories) || trajectories < 0 || trajectories > Math.min(MAX_PANEL_TRAJECTORIES, n)) {
    throw new SamplerPanelInputError(`samplerSamples: trajectories must be an integer in 0..${Math.min(MAX_PANEL_TRAJECTORIES, n)} (at most n), got ${shown(trajectories)}`);
  }
  return { n, seed, trajectories };
}

export function checkLandscapeParams(
  params: unknown,
  dimension: number,
  targetRange: readonly (readonly [number, number])[],
): Omit<SamplerLandscape, 'logDensity'> {
  const { dims, grid, range, slice } = (params ?? {}) as Record<string, unknown>;
  const where = 'samplerLandscape';
  if (!Array.isArray(dims) || dims.length !== 2 || !dims.every((d) => isInteger(d) && d >= 0 && d < dimension) || dims[0] === dims[1]) {
    throw new SamplerPanelInputError(`${where}: dims must be two different coordinate indices in 0..${dimension - 1}, got ${shown(dims)}`);
  }
  if (!isInteger(grid) || grid < 2 || grid > MAX_LANDSCAPE_GRID) {
    throw new SamplerPanelInputError(`${where}: grid must be an integer in 2..${MAX_LANDSCAPE_GRID}, got ${shown(grid)}`);
  }
  const pair = dims as [number, number];
  const box: [[number, number], [number, number]] = range === undefined
    ? [[targetRange[pair[0]][0], targetRange[pair[0]][1]], [targetRange[pair[1]][0], targetRange[pair[1]][1]]]
    : checkRange(range);
  let values: number[];
  if (slice === undefined) values = new Array<number>(dimension).fill(0);
  else if (!Array.isArray(slice) || slice.length !== dimension || !slice.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new SamplerPanelInputError(`${where}: slice must be ${dimension} finite numbers (one per coordinate), got ${shown(slice)}`);
  } else values = slice as number[];
  return { dims: pair, grid, range: box, slice: values };
}

function checkRange(range: unknown): [[number, number], [number, number]] {
  const interval = (value: unknown) =>
    Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && value[0] < value[1];
  if (!Array.isArray(range) || range.length !== 2 || !range.every(interval)) {
    throw new SamplerPanelInputError(`samplerLandscape: range must be [[low, high], [low, high]] with finite low < high, got ${shown(range)}`);
  }
  return range as [[number, number], [number, number]];
}
