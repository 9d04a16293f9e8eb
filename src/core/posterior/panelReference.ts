/**
 * An MCMC reference posterior for the data set open in the Posterior panel, for the models
 * without an exact posterior (mixture means, classification, neural-network regression): HMC
 * chains on the same data set, started at its MAP, with a step size found by short pilot runs,
 * and the 2-Wasserstein distance between them and the network's samples. Minutes of MCMC per
 * data set against one forward pass: the comparison the amortization is judged by.
 */
import type { DataSets } from './dataSets';
import { sampleMoments, wasserstein2, type WassersteinResult } from './metrics';
import type { ProbabilisticModel } from './models/types';
import { hmcSamples } from './reference';

export interface ReferenceSettings {
  chains: number;
  warmup: number;
  /** Kept states per chain. */
  samples: number;
  leapfrogSteps: number;
  seed: number;
}

export const DEFAULT_REFERENCE: ReferenceSettings = { chains: 8, warmup: 200, samples: 125, leapfrogSteps: 10, seed: 0 };

export interface PanelReference {
  method: 'hmc';
  settings: ReferenceSettings & { stepSize: number };
  /** [chains * samples][P], chain after chain. */
  samples: number[][];
  mean: number[];
  std: number[];
  /** Accepted fraction of the proposals after warm-up. */
  acceptance: number;
  /** W2 between the network's samples and these. */
  distance: WassersteinResult;
  ms: number;
}

/** Pilot acceptance at or above which a step size is kept (HMC is most efficient near 0.65-0.8). */
const PILOT_ACCEPTANCE = 0.65;
const PILOT = { chains: 4, warmup: 15, samples: 15 };
const LARGEST_STEP = 0.5;
const PILOT_ROUNDS = 10;

/**
 * The largest step size (halving from 0.5) whose short pilot run accepts at least 65% of its
 * proposals; the smallest tried when none does (the result then reports a low acceptance).
 */
export function pilotStepSize(model: ProbabilisticModel, sets: DataSets, settings: ReferenceSettings): number {
  let stepSize = LARGEST_STEP;
  for (let round = 0; round < PILOT_ROUNDS; round++) {
    const pilot = hmcSamples(model, sets, { ...PILOT, init: 'map', leapfrogSteps: settings.leapfrogSteps, stepSize, seed: `${settings.seed}-pilot-${round}` });
    if (pilot.acceptance[0] >= PILOT_ACCEPTANCE) return stepSize;
    stepSize /= 2;
  }
  return stepSize * 2;
}

/** HMC on one data set (`sets` holds exactly one) and its distance to the network's samples. */
export function referencePosterior(model: ProbabilisticModel, sets: DataSets, networkSamples: number[][], settings: ReferenceSettings = DEFAULT_REFERENCE): PanelReference {
  if (sets.count !== 1) throw new Error(`a reference posterior is for one data set, got ${sets.count}`);
  const started = performance.now();
  const stepSize = pilotStepSize(model, sets, settings);
  const { chains, warmup, samples, leapfrogSteps, seed } = settings;
  const result = hmcSamples(model, sets, { chains, warmup, samples, leapfrogSteps, stepSize, init: 'map', seed });
  const kept = result.samples[0];
  return {
    method: 'hmc',
    settings: { ...settings, stepSize },
    samples: kept,
    ...sampleMoments(kept, model.thetaDim),
    acceptance: result.acceptance[0],
    distance: wasserstein2(networkSamples, kept),
    ms: performance.now() - started,
  };
}
